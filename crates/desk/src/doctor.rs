//! Part 12: what `sealdesk doctor` needs from the store, read without auditing (a health
//! check reads no customer data) and without decrypting more of the log than it must.

use super::{Desk, Result};
use sealdesk_model::Timestamp;
use serde::{Deserialize, Serialize};

/// Facts about the desk for its health check: no names of customers, no secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorFacts {
    /// The newest data backup (`backup.create` in the audit log).
    pub last_backup: Option<Timestamp>,
    /// The newest keys backup (`keys.backup`).
    pub last_keys_backup: Option<Timestamp>,
    /// The newest time the desk stored (its last audit event): the clock must not be
    /// before it.
    pub newest_event: Option<Timestamp>,
    pub agents: usize,
    /// Agents who log in with a key alone.
    pub without_second_factor: Vec<String>,
}

impl Desk {
    /// The facts `doctor` checks; the audit log is read newest first and only until
    /// both kinds of backup are found.
    pub fn doctor_facts(&self) -> Result<DoctorFacts> {
        let mut facts = DoctorFacts::default();
        self.store.audit_newest_first(|event| {
            facts.newest_event.get_or_insert(event.at);
            match event.action.as_str() {
                "backup.create" => {
                    facts.last_backup.get_or_insert(event.at);
                }
                "keys.backup" => {
                    facts.last_keys_backup.get_or_insert(event.at);
                }
                _ => {}
            }
            Ok(facts.last_backup.is_none() || facts.last_keys_backup.is_none())
        })?;
        let agents = self.agents()?;
        facts.agents = agents.len();
        facts.without_second_factor = agents
            .into_iter()
            .filter(|a| a.totp_secret.is_none())
            .map(|a| a.name)
            .collect();
        Ok(facts)
    }

    /// Part 12 (doctor): connects to `mail.relay` as the outbox would (TLS, EHLO, AUTH)
    /// and quits without sending; None when no relay is configured.
    pub async fn probe_relay(config: &crate::config::MailConfig) -> Option<anyhow::Result<()>> {
        let url = config.relay.as_deref()?;
        Some(crate::outbox_worker::probe_relay(config, url).await)
    }
}
