//! Notifications to agents (Part 10): what happened on a ticket, for whom, and the
//! batched mail and TUI list they reach. The operations that cause one call
//! [`Desk::notify`] after their unit has committed (or stage it with
//! `Unit::notify`, which calls it then).
//!
//! Who hears of what:
//! - assigned, woke (from snooze), customer replied, SLA due soon / breached: the
//!   ticket's assignee. An unassigned ticket's SLA events go to the agents who opted in
//!   to new tickets (they watch the unassigned queue) and keep `sla` on.
//! - new ticket: every agent who opted in to `new`.
//! - mentioned: each agent named `@name` in a note.
//!
//! Each only if the agent's preference for that topic is on, and never to the agent
//! whose action caused it. Every notification is stored in the agent's list (TUI `N`)
//! and, when they have an address, queued for their next mail (see `batch`).

mod batch;
mod due;
mod prefs;

pub use batch::run_notifier;
pub use prefs::NotifySettings;
pub use sealdesk_model::NotifyWhy as Why;

use super::write::Hold;
use super::{Actor, Change, Desk, Result};
use sealdesk_model::{Agent, Notification, NotifyPrefs, NotifyTopic, TicketNo, Timestamp};

/// One thing that happened, as the notifier is told of it.
#[derive(Clone, Debug)]
pub struct Event {
    pub ticket: TicketNo,
    pub why: Why,
    /// The agent whose action caused it (never notified of their own action); None for
    /// the desk itself (mail, timers).
    pub cause: Option<String>,
    /// For [`Why::Mentioned`]: the agents named.
    pub mentioned: Vec<String>,
}

impl Event {
    pub fn new(ticket: TicketNo, why: Why, cause: Option<&str>) -> Event {
        Event {
            ticket,
            why,
            cause: cause.map(String::from),
            mentioned: Vec::new(),
        }
    }
}

/// The notifier's state in the desk: where agents reach the SSH server.
#[derive(Default)]
pub(crate) struct NotifyState {
    /// The port `serve` listens on (0: not serving), the deep link's default.
    ssh_port: std::sync::atomic::AtomicU16,
}

/// The agent names `@name` mentions in `text` that are among `agents`, once each.
pub(crate) fn mentions(text: &str, agents: &[Agent]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in text.match_indices('@') {
        // `bob@example.com` is an address, not a mention.
        if text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_' || c == '-')
        {
            continue;
        }
        let word: String = text[i + 1..]
            .chars()
            .take_while(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            })
            .collect();
        let word = word.trim_end_matches('.');
        if agents.iter().any(|a| a.name == word) && !out.iter().any(|n| n == word) {
            out.push(word.to_string());
        }
    }
    out
}

impl Desk {
    /// Records `event` for every agent it concerns. Never fails the operation that
    /// caused it: a notification that cannot be recorded is logged.
    pub(crate) fn notify(&self, event: Event) {
        if let Err(e) = self.record_notification(&event) {
            tracing::warn!(
                "notification ({:?} on {}) not recorded: {e}",
                event.why,
                event.ticket
            );
        }
    }

    /// Who is told of `event` (see the module doc).
    fn recipients(&self, event: &Event) -> Result<Vec<String>> {
        let agents = self.store.agents()?;
        let prefs = |a: &Agent| -> Result<NotifyPrefs> {
            Ok(NotifyPrefs::effective(
                self.store.notify_prefs(&a.name)?,
                a.role,
            ))
        };
        let topic = event.why.topic();
        let assignee = match event.why {
            Why::NewTicket | Why::Mentioned | Why::WebhookDisabled => None,
            _ => match self.store.ticket(event.ticket)? {
                Some(t) => t.assignee,
                None => return Ok(Vec::new()),
            },
        };
        let mut out = Vec::new();
        for a in &agents {
            if event.cause.as_deref() == Some(a.name.as_str()) {
                continue;
            }
            let p = prefs(a)?;
            if !p.wants(topic) {
                continue;
            }
            let concerned = match event.why {
                Why::NewTicket => true,
                Why::Mentioned => event.mentioned.contains(&a.name),
                Why::WebhookDisabled => a.role == sealdesk_model::AgentRole::Admin,
                Why::DueSoon | Why::Breached if assignee.is_none() => p.wants(NotifyTopic::New),
                _ => assignee.as_deref() == Some(a.name.as_str()),
            };
            if concerned {
                out.push(a.name.clone());
            }
        }
        Ok(out)
    }

    fn record_notification(&self, event: &Event) -> Result<()> {
        let to = self.recipients(event)?;
        if to.is_empty() {
            return Ok(());
        }
        let emails = self.config().agent_email;
        let actor = Actor::system("notifications");
        let now = Timestamp::now();
        self.write(&actor, &[Hold::Settings], |u| {
            for name in &to {
                let mut n = Notification {
                    seq: 0,
                    ticket: event.ticket,
                    why: event.why,
                    cause: event.cause.clone(),
                    at: now,
                    read: false,
                };
                u.tx.add_notification(name, &mut n, emails.contains_key(name))?;
                u.announce(Change::Notified(name.clone()));
            }
            Ok(())
        })
    }

    /// The port `serve` listens on for SSH, for the deep links in notification mail
    /// (unless `ssh.public_port` says otherwise).
    pub fn set_ssh_port(&self, port: u16) {
        self.notifier
            .ssh_port
            .store(port, std::sync::atomic::Ordering::Relaxed);
    }

    /// `ssh -t -p PORT NAME@HOST open N`: how `name` opens `ticket` from a mail.
    pub(crate) fn deep_link(&self, name: &str, ticket: TicketNo) -> String {
        let config = self.config();
        let host = config
            .ssh
            .public_host
            .clone()
            .unwrap_or_else(|| config.mail.hello_name());
        let listening = self
            .notifier
            .ssh_port
            .load(std::sync::atomic::Ordering::Relaxed);
        let port = config.ssh.public_port.unwrap_or(match listening {
            0 => config
                .server
                .ssh
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(2222),
            p => p,
        });
        format!("ssh -t -p {port} {name}@{host} open {}", ticket.0)
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;
    use sealdesk_model::{Agent, AgentId, AgentRole, Timestamp};

    fn agent(name: &str) -> Agent {
        Agent {
            id: AgentId([0; 16]),
            name: name.into(),
            role: AgentRole::Agent,
            keys: vec![],
            theme: None,
            totp_secret: None,
            created: Timestamp(0),
            signature: None,
        }
    }

    #[test]
    fn mentions_are_existing_agents_once_and_not_addresses() {
        let agents = [agent("alice"), agent("bob.k")];
        assert_eq!(
            mentions(
                "@alice see this, and @bob.k. Not carol@alice or @nobody; @alice again",
                &agents
            ),
            vec!["alice".to_string(), "bob.k".to_string()]
        );
        assert!(mentions("mail me at x@alice", &agents).is_empty());
    }
}
