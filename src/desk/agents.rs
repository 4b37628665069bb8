use super::{Actor, Change, Desk, DeskError, Result};
use crate::model::{is_valid_agent_name, Agent, AgentId, AgentRole, Timestamp};
use russh::keys::PublicKey;

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
        let _op = self.store.op();
        if !is_valid_agent_name(name) {
            return Err(DeskError::Invalid(format!(
                "invalid agent name {:?}: use 1-32 lower-case letters, digits, '-', '_' or '.', starting with a letter (it is also the SSH user name)",
                crate::sanitize::line(name)
            )));
        }
        if keys.is_empty() {
            return Err(DeskError::Invalid("no public key given: add --key 'ssh-ed25519 AAAA… comment' or --key-file ~/.ssh/id_ed25519.pub".into()));
        }
        let parsed = keys
            .iter()
            .map(|k| parse_public_key(k))
            .collect::<Result<Vec<_>>>()?;
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
            keys: parsed.into_iter().map(|(line, _)| line).collect(),
            theme: None,
            totp_secret: None,
            created: Timestamp::now(),
        };
        self.store.put_agent(&agent)?;
        self.audit(
            actor,
            "agent.add",
            vec![agent.id.to_string(), format!("role={}", role.as_str())],
            None,
        )?;
        self.store.flush()?;
        Ok(agent)
    }

    pub fn agents(&self) -> Result<Vec<Agent>> {
        Ok(self.store.agents()?)
    }

    pub fn remove_agent(&self, actor: &Actor, name: &str) -> Result<Agent> {
        let _op = self.store.op();
        let agent = self.store.agent_by_name(name)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "no agent named {}: see `sealdesk agent list`",
                crate::sanitize::line(name)
            ))
        })?;
        self.store.remove_agent(&agent.id)?;
        self.audit(actor, "agent.remove", vec![agent.id.to_string()], None)?;
        self.store.flush()?;
        self.announce(Change::Agents);
        Ok(agent)
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
