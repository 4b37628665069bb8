//! Logins over SSH, as the audit log records them.

use super::{Actor, Desk, Result};

/// Longest client-supplied user name kept in a refusal event.
const USER_KEPT_MAX: usize = 64;

impl Desk {
    /// An agent logged in over SSH (`actor` carries the key fingerprint and the peer).
    pub fn record_login(&self, actor: &Actor) -> Result<()> {
        self.audit(actor, "agent.login", Vec::new(), None)?;
        self.store.flush()?;
        Ok(())
    }

    /// A key offered over SSH was refused. `user` is whatever name the client asked
    /// for, so it is cleaned and cut before it is kept; `source` is `ssh ADDR:PORT`.
    pub fn record_login_refused(
        &self,
        user: &str,
        key_fingerprint: &str,
        source: &str,
    ) -> Result<()> {
        let user: String = crate::sanitize::line(user)
            .chars()
            .take(USER_KEPT_MAX)
            .collect();
        let actor = Actor {
            name: "ssh:unauthenticated".into(),
            key_fingerprint: Some(key_fingerprint.into()),
            source: source.into(),
        };
        self.audit(
            &actor,
            "agent.login-refused",
            vec![format!("user={user}")],
            None,
        )?;
        self.store.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::{Paths, Store};

    #[test]
    fn logins_and_refusals_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        Store::init(&paths, None).unwrap();
        let desk = Desk::new(Store::open(&paths, None).unwrap(), Config::default());
        let alice = Actor {
            name: "alice".into(),
            key_fingerprint: Some("SHA256:abc".into()),
            source: "ssh 192.0.2.1:5000".into(),
        };
        desk.record_login(&alice).unwrap();
        let hostile = format!("ev\x1b[31mil\n{}", "x".repeat(200));
        desk.record_login_refused(&hostile, "SHA256:def", "ssh 192.0.2.9:6000")
            .unwrap();

        let mut events = Vec::new();
        desk.store
            .for_each_audit(|e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].action, "agent.login");
        assert_eq!(events[0].actor, "alice");
        assert_eq!(events[0].key_fingerprint.as_deref(), Some("SHA256:abc"));
        assert_eq!(events[1].action, "agent.login-refused");
        assert_eq!(events[1].key_fingerprint.as_deref(), Some("SHA256:def"));
        assert_eq!(events[1].source, "ssh 192.0.2.9:6000");
        let user = &events[1].targets[0];
        assert!(user.starts_with("user=evil x"), "{user}");
        assert_eq!(user.chars().count(), "user=".len() + USER_KEPT_MAX);
        assert!(matches!(
            desk.verify_audit().unwrap(),
            super::super::AuditReport::Intact { events: 2, .. }
        ));
    }
}
