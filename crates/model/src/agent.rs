use super::{AgentId, Timestamp};
use serde::{Deserialize, Serialize};

/// A member of the support team, who logs in over SSH with one of their public keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    /// Also the SSH user name.
    pub name: String,
    pub role: AgentRole,
    /// OpenSSH public key lines (`ssh-ed25519 AAAA… comment`).
    pub keys: Vec<String>,
    pub theme: Option<String>,
    /// TOTP secret for the optional second factor.
    pub totp_secret: Option<Vec<u8>>,
    pub created: Timestamp,
    /// Put under this agent's replies (placeholders filled); None: none. (Part 9; an
    /// agent stored before reads with None, see the store's `upgrade`.)
    pub signature: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRole {
    Agent,
    Admin,
}

impl AgentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Agent => "agent",
            AgentRole::Admin => "admin",
        }
    }
}

/// Agent names double as SSH user names and appear in the audit log: keep them to a
/// conservative, terminal-safe alphabet.
pub fn is_valid_agent_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.'
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names() {
        assert!(is_valid_agent_name("alice"));
        assert!(is_valid_agent_name("bob-2"));
        assert!(!is_valid_agent_name("Alice"));
        assert!(!is_valid_agent_name("al ice"));
        assert!(!is_valid_agent_name("-x"));
        assert!(!is_valid_agent_name(""));
    }
}
