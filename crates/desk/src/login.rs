//! Logins over SSH, as the audit log records them, and the second factor's codes.

use super::{Actor, Desk, Result};
use sealdesk_model::AgentId;
use std::collections::HashMap;

/// Longest client-supplied user name kept in a refusal event.
const USER_KEPT_MAX: usize = 64;

/// Why a login over SSH was refused, as the audit log gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginRefusal {
    /// The key is unknown, or belongs to another agent.
    Key,
    /// The key was good; the verification code was not.
    WrongCode,
    /// The key was good; the code was right but had logged this agent in already.
    ReusedCode,
    /// The key was good; the connection ended without a code.
    NoCode,
    /// The agent was removed, or their second factor changed, between key and code.
    AgentChanged,
    /// Too many wrong codes for this agent lately: no code is checked until the lock
    /// ends (see [`Desk::check_login_code`]).
    Locked,
    /// A password was offered; the desk takes none.
    Password,
    /// Keyboard-interactive without an accepted key first.
    CodeWithoutKey,
    /// The connection offered nothing but the `none` method.
    NothingOffered,
}

impl LoginRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginRefusal::Key => "key refused",
            LoginRefusal::WrongCode => "wrong code",
            LoginRefusal::ReusedCode => "code already used",
            LoginRefusal::NoCode => "no code given",
            LoginRefusal::AgentChanged => "agent changed during login",
            LoginRefusal::Locked => "second factor locked",
            LoginRefusal::Password => "password refused",
            LoginRefusal::CodeWithoutKey => "code without a key",
            LoginRefusal::NothingOffered => "no credentials offered",
        }
    }
}

/// The answer to a verification code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Wrong,
    /// Right, but its time step logged this agent in before: codes are good once
    /// (RFC 6238 §5.2), so one seen over a shoulder cannot be used again.
    Reused,
    /// The agent is gone or has no second factor any more.
    NotEnrolled,
    /// Too many wrong codes: none is checked before this Unix time.
    Locked {
        until: u64,
    },
}

/// Wrong codes in a row, per agent, before their second factor locks.
pub(crate) const WRONG_CODES_BEFORE_LOCK: u32 = 5;
/// The first lock; each further one (without a right code in between) doubles it.
const FIRST_LOCK_SECS: u64 = 60;
const LONGEST_LOCK_SECS: u64 = 3600;

/// Second-factor bookkeeping per agent: the last time step each agent logged in with,
/// and their recent wrong codes. In memory: a restart forgets it, which reopens at
/// most the one or two steps still within the skew, and ends a lock early.
#[derive(Debug, Default)]
pub(super) struct UsedCodeSteps {
    used: HashMap<AgentId, u64>,
    wrong: HashMap<AgentId, WrongCodes>,
}

#[derive(Debug, Default, Clone, Copy)]
struct WrongCodes {
    /// Wrong codes since the last lock or right code.
    in_a_row: u32,
    /// Locks since the last right code: each doubles the next.
    locks: u32,
    locked_until: u64,
}

/// What [`UsedCodeSteps::attempt`] allows.
enum Attempt {
    Locked {
        until: u64,
    },
    /// Check the code; `Some(secs)` if this attempt, should it be wrong, began a lock
    /// of that many seconds.
    Check {
        locks_for: Option<u64>,
    },
}

impl UsedCodeSteps {
    /// Counts an attempt as wrong *before* the code is checked, so codes sent at once
    /// from many connections cannot all slip in before the first is counted; a right
    /// code then clears the count.
    fn attempt(&mut self, agent: AgentId, now: u64) -> Attempt {
        let w = self.wrong.entry(agent).or_default();
        if w.locked_until > now {
            return Attempt::Locked {
                until: w.locked_until,
            };
        }
        w.in_a_row += 1;
        if w.in_a_row < WRONG_CODES_BEFORE_LOCK {
            return Attempt::Check { locks_for: None };
        }
        let secs = FIRST_LOCK_SECS
            .saturating_mul(1 << w.locks.min(16))
            .min(LONGEST_LOCK_SECS);
        w.in_a_row = 0;
        w.locks += 1;
        w.locked_until = now + secs;
        Attempt::Check {
            locks_for: Some(secs),
        }
    }
}

impl Desk {
    /// An agent logged in over SSH (`actor` carries the key fingerprint and the peer);
    /// `with_code` if they also gave a verification code.
    pub fn record_login(&self, actor: &Actor, with_code: bool) -> Result<()> {
        let targets = if with_code {
            vec!["second-factor=totp".to_string()]
        } else {
            Vec::new()
        };
        self.audit_only(actor, "agent.login", targets, None)?;
        Ok(())
    }

    /// A login over SSH was refused. `user` is whatever name the client asked for, so
    /// it is cleaned and cut before it is kept; `source` is `ssh ADDR:PORT`.
    pub fn record_login_refused(
        &self,
        user: &str,
        key_fingerprint: Option<&str>,
        source: &str,
        reason: LoginRefusal,
    ) -> Result<()> {
        let user: String = sealdesk_model::sanitize::line(user)
            .chars()
            .take(USER_KEPT_MAX)
            .collect();
        let actor = Actor {
            name: "ssh:unauthenticated".into(),
            key_fingerprint: key_fingerprint.map(String::from),
            source: source.into(),
            kind: super::ActorKind::Agent,
        };
        self.audit_only(
            &actor,
            "agent.login-refused",
            vec![
                format!("user={user}"),
                format!("reason={}", reason.as_str()),
            ],
            None,
        )?;
        Ok(())
    }

    /// Refused logins the SSH server left out of the audit log during a flood (it
    /// writes a few per minute and counts the rest): one event says how many.
    pub fn record_login_refusals_left_out(&self, count: usize, window_secs: u64) -> Result<()> {
        let actor = Actor::system("ssh");
        self.audit_only(
            &actor,
            "agent.login-refused-summary",
            vec![
                format!("refusals={count}"),
                format!("within={window_secs}s"),
            ],
            None,
        )?;
        Ok(())
    }

    /// Checks a verification code against the agent's TOTP secret as stored now (see
    /// [`crate::totp`]). An accepted code's time step is used up for this agent.
    ///
    /// [`WRONG_CODES_BEFORE_LOCK`] wrong codes in a row lock the agent's second factor,
    /// whatever connections and addresses they came from: for a minute, doubling with
    /// each further lock up to an hour, until a right code. The lock is audited when it
    /// begins; while it lasts no code is checked at all.
    pub fn check_login_code(
        &self,
        agent: AgentId,
        code: &str,
        unix_time: u64,
    ) -> Result<CodeCheck> {
        let locks_for = match self.used_code_steps.lock().attempt(agent, unix_time) {
            Attempt::Locked { until } => return Ok(CodeCheck::Locked { until }),
            Attempt::Check { locks_for } => locks_for,
        };
        let Some((name, secret)) = self
            .store
            .agents()?
            .into_iter()
            .find(|a| a.id == agent)
            .and_then(|a| Some((a.name, a.totp_secret?)))
        else {
            self.used_code_steps.lock().wrong.remove(&agent);
            return Ok(CodeCheck::NotEnrolled);
        };
        let secret = zeroize::Zeroizing::new(secret);
        let Some(step) = crate::totp::verify(&secret, code, unix_time) else {
            if let Some(secs) = locks_for {
                // Audited outside the bookkeeping lock: no I/O while holding it.
                self.audit_only(
                    &Actor::system("ssh"),
                    "agent.second-factor-locked",
                    vec![
                        format!("agent={name}"),
                        format!("wrong-codes={WRONG_CODES_BEFORE_LOCK}"),
                        format!("seconds={secs}"),
                    ],
                    None,
                )?;
            }
            return Ok(CodeCheck::Wrong);
        };
        let mut book = self.used_code_steps.lock();
        match book.used.get(&agent) {
            Some(&last) if step <= last => Ok(CodeCheck::Reused),
            _ => {
                book.used.insert(agent, step);
                book.wrong.remove(&agent);
                Ok(CodeCheck::Accepted)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::desk;
    use crate::{AgentChanges, SecondFactor};
    use sealdesk_model::AgentRole;
    use ssh_key::{private::Ed25519Keypair, PrivateKey};

    /// Adds agent alice (key from `seed`) to `desk`.
    fn add_alice(desk: &Desk, seed: u8) -> sealdesk_model::Agent {
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]));
        let line = key.public_key().to_openssh().unwrap();
        desk.add_agent(&Actor::local_admin(), "alice", AgentRole::Agent, &[line])
            .unwrap()
    }

    /// Enrols alice's second factor; returns her TOTP secret.
    fn enrol_alice(desk: &Desk) -> Vec<u8> {
        let enrol = AgentChanges {
            second_factor: Some(SecondFactor::Enrol),
            ..AgentChanges::default()
        };
        desk.set_agent(&Actor::local_admin(), "alice", &enrol)
            .unwrap();
        desk.agent_named("alice").unwrap().totp_secret.unwrap()
    }

    /// The code for `secret` at Unix time `t`.
    fn code(secret: &[u8], t: u64) -> String {
        totp_rs::Builder::new()
            .with_secret(secret.to_vec())
            .build()
            .unwrap()
            .generate(t)
            .to_string()
    }

    #[test]
    fn logins_and_refusals_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = Actor {
            name: "alice".into(),
            key_fingerprint: Some("SHA256:abc".into()),
            source: "ssh 192.0.2.1:5000".into(),
            kind: crate::ActorKind::Agent,
        };
        desk.record_login(&alice, false).unwrap();
        let hostile = format!("ev\x1b[31mil\n{}", "x".repeat(200));
        desk.record_login_refused(
            &hostile,
            Some("SHA256:def"),
            "ssh 192.0.2.9:6000",
            LoginRefusal::Key,
        )
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
        assert_eq!(events[1].targets[1], "reason=key refused");
        assert!(matches!(
            desk.verify_audit().unwrap(),
            super::super::AuditReport::Intact { events: 2, .. }
        ));
    }

    #[test]
    fn a_code_is_good_once_and_only_for_its_agent() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = add_alice(&desk, 5);
        let now = 1_700_000_000;
        assert_eq!(
            desk.check_login_code(alice.id, "123456", now).unwrap(),
            CodeCheck::NotEnrolled
        );

        let secret = enrol_alice(&desk);
        let code_at = |t: u64| code(&secret, t);

        // The previous step's code (a slow typist) is fine; it is then used up, and
        // so is every step before it.
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now - 30), now)
                .unwrap(),
            CodeCheck::Accepted
        );
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now - 30), now)
                .unwrap(),
            CodeCheck::Reused
        );
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now), now).unwrap(),
            CodeCheck::Accepted
        );
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now - 30), now)
                .unwrap(),
            CodeCheck::Reused
        );
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now - 90), now)
                .unwrap(),
            CodeCheck::Wrong
        );
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now + 30), now)
                .unwrap(),
            CodeCheck::Accepted
        );

        // A new secret makes the old codes wrong.
        enrol_alice(&desk);
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now + 60), now + 60)
                .unwrap(),
            CodeCheck::Wrong
        );
    }

    #[test]
    fn wrong_codes_lock_the_agent_for_growing_periods_and_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = add_alice(&desk, 6);
        let secret = enrol_alice(&desk);
        let code_at = |t: u64| code(&secret, t);
        let wrong = |t: u64| {
            format!(
                "{:06}",
                (code_at(t).parse::<u32>().unwrap() + 1) % 1_000_000
            )
        };
        let now = 1_700_000_000;
        for _ in 0..WRONG_CODES_BEFORE_LOCK {
            assert_eq!(
                desk.check_login_code(alice.id, &wrong(now), now).unwrap(),
                CodeCheck::Wrong
            );
        }
        // Locked: even the right code is not looked at.
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(now), now + 1)
                .unwrap(),
            CodeCheck::Locked {
                until: now + FIRST_LOCK_SECS
            }
        );
        // After the lock, five more wrong ones lock for twice as long.
        let later = now + FIRST_LOCK_SECS;
        for _ in 0..WRONG_CODES_BEFORE_LOCK {
            desk.check_login_code(alice.id, &wrong(later), later)
                .unwrap();
        }
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(later), later)
                .unwrap(),
            CodeCheck::Locked {
                until: later + 2 * FIRST_LOCK_SECS
            }
        );
        // A right code after the lock logs in and forgets the wrong ones.
        let after = later + 2 * FIRST_LOCK_SECS;
        assert_eq!(
            desk.check_login_code(alice.id, &code_at(after), after)
                .unwrap(),
            CodeCheck::Accepted
        );
        assert!(desk.used_code_steps.lock().wrong.is_empty());

        let mut locks = Vec::new();
        desk.store
            .for_each_audit(|e| {
                if e.action == "agent.second-factor-locked" {
                    locks.push(e.targets);
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(
            locks,
            [
                vec!["agent=alice", "wrong-codes=5", "seconds=60"],
                vec!["agent=alice", "wrong-codes=5", "seconds=120"],
            ]
        );
    }

    #[test]
    fn codes_sent_at_once_from_many_connections_get_five_checks_in_all() {
        let dir = tempfile::tempdir().unwrap();
        let desk = std::sync::Arc::new(desk(dir.path()));
        let alice = add_alice(&desk, 8);
        enrol_alice(&desk);
        let now = 1_700_000_000;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(32));
        let answers: Vec<CodeCheck> = (0..32)
            .map(|i| {
                let (desk, barrier) = (std::sync::Arc::clone(&desk), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Guesses, almost surely all wrong; a right one would also do.
                    desk.check_login_code(alice.id, &format!("{:06}", 100_000 + i), now)
                        .unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let checked = answers
            .iter()
            .filter(|a| !matches!(a, CodeCheck::Locked { .. }))
            .count();
        assert_eq!(checked, WRONG_CODES_BEFORE_LOCK as usize, "{answers:?}");
    }
}
