//! Who may log in: public keys only, each key as the one agent it belongs to.
//!
//! Agents are read from the desk on every attempt, so `agent add` / `agent remove`
//! take effect at the next login without a restart.

use crate::model::Agent;
use russh::keys::{HashAlg, PublicKey};

/// Longest client-supplied user name kept for logs and the audit log.
const USER_SHOWN_MAX: usize = 64;
/// Refused keys remembered per connection: enough to audit a real client's attempts,
/// bounded for a hostile one that offers keys until `max_auth_attempts` stops it.
const REFUSED_KEPT: usize = 5;

/// The outcome of checking an offered key against the agents.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyCheck<'a> {
    /// The key is one of this agent's, and the agent's name is the SSH user name.
    Accept(&'a Agent),
    /// The key belongs to another agent; a key logs in only as its own agent.
    WrongUser {
        owner: &'a str,
    },
    /// The agent matches but has a second factor configured, which this server cannot
    /// check yet; refusing is the only safe answer.
    NeedsSecondFactor(&'a Agent),
    Unknown,
}

/// Checks whether `key` may log in as `user`.
pub fn check_key<'a>(agents: &'a [Agent], user: &str, key: &PublicKey) -> KeyCheck<'a> {
    let Some(owner) = agents
        .iter()
        .find(|a| a.keys.iter().any(|l| same_key(l, key)))
    else {
        return KeyCheck::Unknown;
    };
    if owner.name != user {
        return KeyCheck::WrongUser { owner: &owner.name };
    }
    if owner.totp_secret.is_some() {
        return KeyCheck::NeedsSecondFactor(owner);
    }
    KeyCheck::Accept(owner)
}

/// Whether a stored key line holds `key`. Compares key material only: the comment and,
/// for RSA, the signature algorithm a client chose do not matter.
fn same_key(line: &str, key: &PublicKey) -> bool {
    PublicKey::from_openssh(line).is_ok_and(|k| k.key_data() == key.key_data())
}

/// The SHA-256 fingerprint OpenSSH shows (`SHA256:…`), safe to log.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// A client-chosen user name made safe and short for a log line.
pub fn shown_user(user: &str) -> String {
    crate::sanitize::line(user)
        .chars()
        .take(USER_SHOWN_MAX)
        .collect()
}

/// What one connection tried, kept until it ends so that a connection which never
/// logged in leaves one audit trail of the keys it offered.
#[derive(Debug, Default)]
pub struct AuthTrail {
    /// The last user name asked for, as [`shown_user`] made it.
    pub user: String,
    /// Fingerprints of refused keys, without repeats, at most [`REFUSED_KEPT`].
    pub refused: Vec<String>,
    pub logged_in: bool,
}

impl AuthTrail {
    pub fn refuse(&mut self, user: &str, fingerprint: String) {
        self.user = shown_user(user);
        if self.refused.len() < REFUSED_KEPT && !self.refused.contains(&fingerprint) {
            self.refused.push(fingerprint);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentId, AgentRole, Timestamp};
    use russh::keys::ssh_key::private::Ed25519Keypair;
    use russh::keys::PrivateKey;

    fn key(seed: u8) -> PublicKey {
        PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
            .public_key()
            .clone()
    }

    fn line(key: &PublicKey, comment: &str) -> String {
        format!("{} {comment}", key.to_openssh().unwrap())
    }

    fn agent(name: &str, keys: &[&PublicKey]) -> Agent {
        Agent {
            id: AgentId::random(),
            name: name.into(),
            role: AgentRole::Agent,
            keys: keys.iter().map(|k| line(k, "someone@laptop")).collect(),
            theme: None,
            totp_secret: None,
            created: Timestamp::now(),
        }
    }

    #[test]
    fn key_logs_in_only_as_its_own_agent() {
        let (a1, a2, b1, stranger) = (key(1), key(2), key(3), key(4));
        let agents = vec![agent("alice", &[&a1, &a2]), agent("bob", &[&b1])];

        assert!(
            matches!(check_key(&agents, "alice", &a1), KeyCheck::Accept(a) if a.name == "alice")
        );
        assert!(
            matches!(check_key(&agents, "alice", &a2), KeyCheck::Accept(a) if a.name == "alice")
        );
        assert!(matches!(check_key(&agents, "bob", &b1), KeyCheck::Accept(a) if a.name == "bob"));
        assert_eq!(
            check_key(&agents, "bob", &a1),
            KeyCheck::WrongUser { owner: "alice" }
        );
        assert_eq!(
            check_key(&agents, "alice", &b1),
            KeyCheck::WrongUser { owner: "bob" }
        );
        assert_eq!(check_key(&agents, "alice", &stranger), KeyCheck::Unknown);
        assert_eq!(check_key(&agents, "carol", &stranger), KeyCheck::Unknown);
        assert_eq!(check_key(&[], "alice", &a1), KeyCheck::Unknown);
    }

    #[test]
    fn comments_and_broken_lines_do_not_matter() {
        let k = key(7);
        let mut alice = agent("alice", &[]);
        alice.keys = vec![
            "not a key at all".into(),
            String::new(),
            line(&k, "a different comment"),
        ];
        let agents = vec![alice];
        assert!(matches!(
            check_key(&agents, "alice", &k),
            KeyCheck::Accept(_)
        ));
    }

    #[test]
    fn second_factor_agents_are_refused_for_now() {
        let k = key(9);
        let mut alice = agent("alice", &[&k]);
        alice.totp_secret = Some(vec![1, 2, 3]);
        let agents = vec![alice];
        assert!(matches!(
            check_key(&agents, "alice", &k),
            KeyCheck::NeedsSecondFactor(_)
        ));
    }

    #[test]
    fn user_names_are_cleaned_and_cut() {
        assert_eq!(shown_user("alice"), "alice");
        assert_eq!(shown_user("a\x1b[31mb\nc"), "ab c");
        assert_eq!(shown_user(&"x".repeat(500)).len(), USER_SHOWN_MAX);
    }

    #[test]
    fn trail_keeps_few_distinct_keys() {
        let mut trail = AuthTrail::default();
        for i in 0..20 {
            trail.refuse("root", format!("SHA256:{}", i % 7));
        }
        trail.refuse("root", "SHA256:0".into());
        assert_eq!(trail.refused.len(), REFUSED_KEPT);
        assert_eq!(trail.refused[0], "SHA256:0");
        assert_eq!(trail.user, "root");
    }
}
