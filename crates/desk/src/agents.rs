use super::write::Hold;
use super::{Actor, Change, Desk, DeskError, Result};
use sealdesk_model::{is_valid_agent_name, Agent, AgentId, AgentRole, Timestamp};
use ssh_key::PublicKey;
use zeroize::Zeroizing;

/// What `agent set` changes; `None` leaves a setting as it is.
#[derive(Debug, Default)]
pub struct AgentChanges {
    pub second_factor: Option<SecondFactor>,
    /// A theme name; whether such a theme exists is for the caller, who knows the
    /// themes directory, to check.
    pub theme: Option<String>,
    pub role: Option<AgentRole>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// A new secret, replacing any earlier one.
    Enrol,
    Remove,
}

/// What [`Desk::set_agent`] did.
pub struct AgentUpdate {
    /// The agent as stored now.
    pub agent: Agent,
    /// For a new secret, the `otpauth://` URI holding it: the one time it can be shown.
    pub enrolment: Option<Zeroizing<String>>,
    /// Whether a second factor was replaced (`Enrol`) or there was none to remove.
    pub had_second_factor: bool,
}

impl Desk {
    /// Registers an agent with one or more OpenSSH public keys. A key may belong to one
    /// agent only, so it logs in as that agent and no other.
    pub fn add_agent(
        &self,
        actor: &Actor,
        name: &str,
        role: AgentRole,
        keys: &[String],
    ) -> Result<Agent> {
        self.require_admin(actor, "add agents")?;
        if !is_valid_agent_name(name) {
            return Err(DeskError::Invalid(format!(
                "invalid agent name {:?}: use 1-32 lower-case letters, digits, '-', '_' or '.', starting with a letter (it is also the SSH user name)",
                sealdesk_model::sanitize::line(name)
            )));
        }
        if keys.is_empty() {
            return Err(DeskError::Invalid("no public key given: add --key 'ssh-ed25519 AAAA… comment' or --key-file ~/.ssh/id_ed25519.pub".into()));
        }
        let parsed = keys
            .iter()
            .map(|k| parse_public_key(k))
            .collect::<Result<Vec<_>>>()?;
        self.write(actor, &[Hold::Settings], |u| {
        let existing = self.store.agents()?;
        if existing.iter().any(|a| a.name == name) {
            return Err(DeskError::Conflict(format!(
                "an agent named {name} exists already: pick another name, or `sealdesk agent remove {name}` first"
            )));
        }
        for (_, key) in &parsed {
            if let Some(owner) = existing
                .iter()
                .find(|a| a.keys.iter().any(|k| same_key(k, key)))
            {
                return Err(DeskError::Conflict(format!(
                    "key {} is already registered to agent {}: each key logs in as one agent only; use another key",
                    key.fingerprint(Default::default()),
                    owner.name
                )));
            }
        }
        let agent = Agent {
            id: AgentId::random(),
            name: name.into(),
            role,
            keys: parsed.iter().map(|(line, _)| line.clone()).collect(),
            theme: None,
            totp_secret: None,
            created: Timestamp::now(),
            signature: None,
        };
        u.tx.put_agent(&agent)?;
        u.audit(
            "agent.add",
            vec![agent.id.to_string(), format!("role={}", role.as_str())],
            None,
        );
        u.announce(Change::Agents);
        Ok(agent)
        })
    }

    pub fn agents(&self) -> Result<Vec<Agent>> {
        Ok(self.store.agents()?)
    }

    pub fn remove_agent(&self, actor: &Actor, name: &str) -> Result<Agent> {
        self.require_admin(actor, "remove agents")?;
        self.write(actor, &[Hold::Settings], |u| {
            let agent = self.agent_named(name)?;
            u.tx.remove_agent(&agent.id)?;
            // A later agent of the same name starts with nothing of theirs.
            u.tx.forget_agent_notifications(&agent.name)?;
            u.audit("agent.remove", vec![agent.id.to_string()], None);
            u.announce(Change::Agents);
            Ok(agent)
        })
    }

    /// Changes an agent's second factor, theme and role at once. Enrolling draws a new
    /// TOTP secret (see [`crate::totp`]) and returns it as a URI, once; the audit log
    /// records that it changed, never the secret. Settings already as asked are left
    /// alone and not audited.
    pub fn set_agent(
        &self,
        actor: &Actor,
        name: &str,
        changes: &AgentChanges,
    ) -> Result<AgentUpdate> {
        self.require_admin(actor, "change agents")?;
        if let Some(theme) = &changes.theme {
            check_theme_name(theme)?;
        }
        self.write(actor, &[Hold::Settings], |u| {
            let mut agent = self.agent_named(name)?;
            let had_second_factor = agent.totp_secret.is_some();
            let mut enrolment = None;
            let mut events: Vec<(&str, Vec<String>)> = Vec::new();
            match changes.second_factor {
                Some(SecondFactor::Enrol) => {
                    let secret = crate::totp::generate_secret();
                    let uri = crate::totp::otpauth_uri(&agent.name, &secret).map_err(|e| {
                        DeskError::Invalid(format!("cannot make the TOTP URI: {e}"))
                    })?;
                    agent.totp_secret = Some(secret.to_vec());
                    enrolment = Some(uri);
                    events.push(("agent.totp-enrol", vec![agent.id.to_string()]));
                }
                Some(SecondFactor::Remove) if had_second_factor => {
                    agent.totp_secret = None;
                    events.push(("agent.totp-remove", vec![agent.id.to_string()]));
                }
                Some(SecondFactor::Remove) | None => {}
            }
            let mut settings = Vec::new();
            if let Some(theme) = changes.theme.as_deref() {
                if agent.theme.as_deref() != Some(theme) {
                    agent.theme = Some(theme.to_string());
                    settings.push(format!("theme={theme}"));
                }
            }
            if let Some(role) = changes.role {
                if agent.role != role {
                    agent.role = role;
                    settings.push(format!("role={}", role.as_str()));
                }
            }
            if !settings.is_empty() {
                let mut targets = vec![agent.id.to_string()];
                targets.extend(settings);
                events.push(("agent.set", targets));
            }
            if events.is_empty() {
                return Ok(AgentUpdate {
                    agent,
                    enrolment,
                    had_second_factor,
                });
            }
            u.tx.put_agent(&agent)?;
            for (action, targets) in events {
                u.audit(action, targets, None);
            }
            u.announce(Change::Agents);
            Ok(AgentUpdate {
                agent,
                enrolment,
                had_second_factor,
            })
        })
    }

    /// The agent called `name`, or an error that says where to look.
    pub(super) fn agent_named(&self, name: &str) -> Result<Agent> {
        self.find_agent(name)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "no agent named {}: see `sealdesk agent list`",
                sealdesk_model::sanitize::line(name)
            ))
        })
    }
}

/// Theme names become file names: only the shape is checked here, as the desk does not
/// know the themes directory.
pub(super) fn check_theme_name(theme: &str) -> Result<()> {
    let plausible = !theme.is_empty()
        && theme.len() <= 64
        && theme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if plausible {
        Ok(())
    } else {
        Err(DeskError::Invalid(format!(
            "theme name {:?} is not allowed: use lowercase letters, digits and '-'",
            sealdesk_model::sanitize::line(theme)
        )))
    }
}

/// Parses one OpenSSH public key line; returns the normalised line and the key.
fn parse_public_key(line: &str) -> Result<(String, PublicKey)> {
    let key = PublicKey::from_openssh(line.trim()).map_err(|_| {
        DeskError::Invalid(
            "not an OpenSSH public key: give one line like 'ssh-ed25519 AAAAC3… user@host' (the contents of a .pub file)".into(),
        )
    })?;
    let normalised = key
        .to_openssh()
        .map_err(|e| DeskError::Invalid(format!("cannot encode the key: {e}")))?;
    Ok((normalised, key))
}

fn same_key(line: &str, key: &PublicKey) -> bool {
    PublicKey::from_openssh(line)
        .map(|k| k.key_data() == key.key_data())
        .unwrap_or(false)
}

/// The SHA-256 fingerprint OpenSSH prints, for a stored key line.
pub fn fingerprint(line: &str) -> String {
    PublicKey::from_openssh(line)
        .map(|k| k.fingerprint(Default::default()).to_string())
        .unwrap_or_else(|_| "unparseable key".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{audit_events, desk};
    use ssh_key::{private::Ed25519Keypair, PrivateKey};

    fn add_alice(desk: &Desk) -> Agent {
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[3; 32]));
        let line = key.public_key().to_openssh().unwrap();
        desk.add_agent(&Actor::local_admin(), "alice", AgentRole::Agent, &[line])
            .unwrap()
    }

    fn set(desk: &Desk, changes: AgentChanges) -> Result<AgentUpdate> {
        desk.set_agent(&Actor::local_admin(), "alice", &changes)
    }

    #[test]
    fn enrolling_stores_a_secret_shown_once_and_audits_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = add_alice(&desk);

        let update = set(
            &desk,
            AgentChanges {
                second_factor: Some(SecondFactor::Enrol),
                ..AgentChanges::default()
            },
        )
        .unwrap();
        assert!(!update.had_second_factor);
        let stored = desk.agent_named("alice").unwrap().totp_secret.unwrap();
        assert_eq!(stored.len(), crate::totp::SECRET_BYTES);
        let uri = update.enrolment.unwrap();
        assert!(
            uri.starts_with("otpauth://totp/sealdesk:alice?secret="),
            "{}",
            *uri
        );
        let secret_b32 = uri
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();

        // Enrolling again replaces the secret.
        let again = set(
            &desk,
            AgentChanges {
                second_factor: Some(SecondFactor::Enrol),
                ..AgentChanges::default()
            },
        )
        .unwrap();
        assert!(again.had_second_factor);
        assert_ne!(
            desk.agent_named("alice").unwrap().totp_secret.unwrap(),
            stored
        );

        let events = audit_events(&desk);
        let enrolments: Vec<_> = events
            .iter()
            .filter(|e| e.action == "agent.totp-enrol")
            .collect();
        assert_eq!(enrolments.len(), 2);
        assert_eq!(enrolments[0].targets, [alice.id.to_string()]);
        let everything = format!("{events:?}");
        assert!(
            !everything.contains(secret_b32),
            "the secret reached the audit log"
        );
    }

    #[test]
    fn removing_theme_and_role_change_only_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = add_alice(&desk);
        let before = audit_events(&desk).len();

        // Nothing to remove, theme and role as they are: no change, no event.
        let update = set(
            &desk,
            AgentChanges {
                second_factor: Some(SecondFactor::Remove),
                role: Some(AgentRole::Agent),
                ..AgentChanges::default()
            },
        )
        .unwrap();
        assert!(update.enrolment.is_none());
        assert_eq!(audit_events(&desk).len(), before);

        set(
            &desk,
            AgentChanges {
                second_factor: Some(SecondFactor::Enrol),
                theme: Some("light".into()),
                role: Some(AgentRole::Admin),
            },
        )
        .unwrap();
        let stored = desk.agent_named("alice").unwrap();
        assert_eq!(stored.theme.as_deref(), Some("light"));
        assert_eq!(stored.role, AgentRole::Admin);
        let events = audit_events(&desk);
        let set_event = events.iter().find(|e| e.action == "agent.set").unwrap();
        assert_eq!(
            set_event.targets,
            [
                alice.id.to_string(),
                "theme=light".into(),
                "role=admin".into()
            ]
        );

        set(
            &desk,
            AgentChanges {
                second_factor: Some(SecondFactor::Remove),
                ..AgentChanges::default()
            },
        )
        .unwrap();
        assert_eq!(desk.agent_named("alice").unwrap().totp_secret, None);
        assert_eq!(
            audit_events(&desk).last().unwrap().action,
            "agent.totp-remove"
        );
    }

    #[test]
    fn bad_theme_names_and_unknown_agents_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        add_alice(&desk);
        let theme = |name: &str| AgentChanges {
            theme: Some(name.into()),
            ..AgentChanges::default()
        };
        assert!(matches!(
            set(&desk, theme("../etc")),
            Err(DeskError::Invalid(_))
        ));
        assert!(matches!(
            desk.set_agent(&Actor::local_admin(), "nobody", &theme("light")),
            Err(DeskError::NotFound(_))
        ));
        assert_eq!(desk.agent_named("alice").unwrap().theme, None);
    }
}
