//! Who may log in: public keys, each key as the one agent it belongs to, and for agents
//! with a second factor a verification code after the key (see [`sealdesk_desk::totp`]).
//!
//! Agents are read from the desk on every attempt, so `agent add` / `agent remove` /
//! `agent set` take effect at the next login without a restart.

use russh::keys::{HashAlg, PublicKey};
use sealdesk_desk::LoginRefusal;
use sealdesk_model::{Agent, AgentId};

/// Longest client-supplied user name kept for logs and the audit log.
const USER_SHOWN_MAX: usize = 64;
/// Refused keys remembered per connection: enough to audit a real client's attempts,
/// bounded for a hostile one that offers keys until `max_auth_attempts` stops it.
const REFUSED_KEPT: usize = 5;

/// The outcome of checking an offered key against the agents.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum KeyCheck<'a> {
    /// The key is one of this agent's, and the agent's name is the SSH user name.
    Accept(&'a Agent),
    /// The key belongs to another agent; a key logs in only as its own agent.
    WrongUser {
        owner: &'a str,
    },
    Unknown,
}

/// Checks whether `key` may log in as `user`.
pub(super) fn check_key<'a>(agents: &'a [Agent], user: &str, key: &PublicKey) -> KeyCheck<'a> {
    let Some(owner) = agents
        .iter()
        .find(|a| a.keys.iter().any(|l| same_key(l, key)))
    else {
        return KeyCheck::Unknown;
    };
    if owner.name != user {
        return KeyCheck::WrongUser { owner: &owner.name };
    }
    KeyCheck::Accept(owner)
}

/// Whether a stored key line holds `key`. Compares key material only: the comment and,
/// for RSA, the signature algorithm a client chose do not matter.
fn same_key(line: &str, key: &PublicKey) -> bool {
    PublicKey::from_openssh(line).is_ok_and(|k| k.key_data() == key.key_data())
}

/// The SHA-256 fingerprint OpenSSH shows (`SHA256:…`), safe to log.
pub(super) fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// A client-chosen user name made safe and short for a log line.
pub(super) fn shown_user(user: &str) -> String {
    sealdesk_model::sanitize::line(user)
        .chars()
        .take(USER_SHOWN_MAX)
        .collect()
}

/// What one connection tried, kept until it ends so that a connection which never
/// logged in leaves one audit trail of the keys it offered.
#[derive(Debug, Default)]
pub(super) struct AuthTrail {
    /// The last user name asked for, as [`shown_user`] made it.
    pub user: String,
    /// Fingerprints of refused keys, without repeats, at most [`REFUSED_KEPT`].
    pub refused: Vec<String>,
    /// A key accepted for an agent with a second factor, who still owes a code.
    pub awaiting_code: Option<AwaitingCode>,
    /// Other methods refused (password, a code without a key), each kept once.
    pub methods_refused: Vec<LoginRefusal>,
    /// The client asked with `none` (OpenSSH does first, to learn the methods).
    pub asked_none: bool,
    /// The client named a registered agent's key: it gets the longer deadline, time
    /// for a person to type the key's passphrase or a code.
    pub known_key_offered: bool,
    /// The key is proved: the connection counts among the agents', no longer among
    /// the strangers, and cannot be pushed out by newcomers.
    pub joined_agents: bool,
    pub logged_in: bool,
}

/// The first factor done: the agent's key was accepted on this connection. Only this
/// opens keyboard-interactive, and only for the same user name.
#[derive(Clone, Debug)]
pub(super) struct AwaitingCode {
    pub agent_id: AgentId,
    /// Also the SSH user name.
    pub agent_name: String,
    pub key_fingerprint: String,
    /// Codes refused so far; each was audited as it happened.
    pub codes_refused: usize,
}

impl AwaitingCode {
    pub(super) fn new(agent: &Agent, key_fingerprint: String) -> AwaitingCode {
        AwaitingCode {
            agent_id: agent.id,
            agent_name: agent.name.clone(),
            key_fingerprint,
            codes_refused: 0,
        }
    }

    /// Whether a keyboard-interactive request for `user` continues this login.
    pub(super) fn is_for(&self, user: &str) -> bool {
        self.agent_name == user
    }
}

impl AuthTrail {
    pub(super) fn refuse(&mut self, user: &str, fingerprint: String) {
        self.user = shown_user(user);
        if self.refused.len() < REFUSED_KEPT && !self.refused.contains(&fingerprint) {
            self.refused.push(fingerprint);
        }
    }

    /// A refusal of another method than publickey (`Password`, `CodeWithoutKey`).
    pub(super) fn refuse_method(&mut self, user: &str, why: LoginRefusal) {
        self.user = shown_user(user);
        if !self.methods_refused.contains(&why) {
            self.methods_refused.push(why);
        }
    }

    pub(super) fn asked_none(&mut self, user: &str) {
        if self.user.is_empty() {
            self.user = shown_user(user);
        }
        self.asked_none = true;
    }

    /// What to audit for a connection that ended without logging in: (user, key
    /// fingerprint, reason), at most [`REFUSED_KEPT`] keys and one event per other
    /// reason. Refused codes are not in it: they were audited as they came.
    pub(super) fn refusals(&self) -> Vec<(String, Option<String>, LoginRefusal)> {
        if self.logged_in {
            return Vec::new();
        }
        let mut out: Vec<_> = self
            .refused
            .iter()
            .map(|key| (self.user.clone(), Some(key.clone()), LoginRefusal::Key))
            .collect();
        out.extend(
            self.methods_refused
                .iter()
                .map(|&why| (self.user.clone(), None, why)),
        );
        if let Some(a) = self.awaiting_code.as_ref().filter(|a| a.codes_refused == 0) {
            out.push((
                a.agent_name.clone(),
                Some(a.key_fingerprint.clone()),
                LoginRefusal::NoCode,
            ));
        }
        if out.is_empty() && self.asked_none && self.awaiting_code.is_none() {
            out.push((self.user.clone(), None, LoginRefusal::NothingOffered));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::ssh_key::private::Ed25519Keypair;
    use russh::keys::PrivateKey;
    use sealdesk_model::{AgentRole, Timestamp};

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
            signature: None,
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
    fn second_factor_agents_pass_the_key_check_and_owe_a_code() {
        let k = key(9);
        let mut alice = agent("alice", &[&k]);
        alice.totp_secret = Some(vec![1, 2, 3]);
        let agents = vec![alice];
        let KeyCheck::Accept(alice) = check_key(&agents, "alice", &k) else {
            panic!("the key is alice's");
        };
        let awaiting = AwaitingCode::new(alice, fingerprint(&k));
        assert!(awaiting.is_for("alice"));
        assert!(!awaiting.is_for("bob"));
        assert!(!awaiting.is_for("Alice"));
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
        for _ in 0..100 {
            trail.refuse_method("root", LoginRefusal::Password);
        }
        let refusals = trail.refusals();
        assert_eq!(refusals.len(), REFUSED_KEPT + 1);
        assert_eq!(
            refusals[REFUSED_KEPT],
            ("root".into(), None, LoginRefusal::Password)
        );
        trail.logged_in = true;
        assert!(trail.refusals().is_empty());
    }

    #[test]
    fn a_connection_that_offered_nothing_is_one_refusal() {
        let mut trail = AuthTrail::default();
        assert!(
            trail.refusals().is_empty(),
            "a silent connection tried nothing"
        );
        trail.asked_none("admin");
        trail.asked_none("admin");
        assert_eq!(
            trail.refusals(),
            [("admin".into(), None, LoginRefusal::NothingOffered)]
        );
    }
}
