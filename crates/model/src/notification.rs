//! Notifications to agents (Part 10): why an agent is told about a ticket, what they
//! chose to be told about, and one entry of their list. None of it holds customer text:
//! ticket numbers, reasons, agent names and times only.

use super::{AgentRole, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

/// Why an agent is told about a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotifyWhy {
    /// The ticket was assigned to them.
    Assigned,
    /// The customer wrote again on a ticket assigned to them.
    CustomerReplied,
    /// A new ticket came in (off by default).
    NewTicket,
    /// `@name` in a note.
    Mentioned,
    /// The ticket's due time is near.
    DueSoon,
    /// The ticket's due time has passed.
    Breached,
    /// A snoozed ticket woke up (its assignee is told).
    Woke,
    /// A privacy request on the ticket's customer is due (Part 7's alarms).
    PrivacyDue,
    /// Part 11: a webhook was disabled after failing again and again (admins are told;
    /// the notification's ticket is #0, it concerns no ticket).
    WebhookDisabled,
}

impl NotifyWhy {
    /// The preference that decides whether an agent hears of it.
    pub fn topic(self) -> NotifyTopic {
        match self {
            NotifyWhy::Assigned | NotifyWhy::Woke => NotifyTopic::Assigned,
            NotifyWhy::CustomerReplied => NotifyTopic::Replied,
            NotifyWhy::NewTicket => NotifyTopic::New,
            NotifyWhy::Mentioned => NotifyTopic::Mentioned,
            NotifyWhy::DueSoon | NotifyWhy::Breached => NotifyTopic::Sla,
            NotifyWhy::PrivacyDue | NotifyWhy::WebhookDisabled => NotifyTopic::Privacy,
        }
    }

    /// How the list and the mail say it.
    pub fn describe(self) -> &'static str {
        match self {
            NotifyWhy::Assigned => "assigned to you",
            NotifyWhy::CustomerReplied => "the customer replied",
            NotifyWhy::NewTicket => "new ticket",
            NotifyWhy::Mentioned => "you were mentioned in a note",
            NotifyWhy::DueSoon => "due soon",
            NotifyWhy::Breached => "due time passed",
            NotifyWhy::Woke => "woke up from snooze",
            NotifyWhy::PrivacyDue => "privacy request due",
            NotifyWhy::WebhookDisabled => "a webhook was disabled: see `sealdesk webhook list`",
        }
    }
}

word_enum!(
    /// What an agent can choose to be told about (`agent set NAME --notify …`).
    NotifyTopic {
        Assigned => "assigned",
        Replied => "replied",
        New => "new",
        Mentioned => "mentioned",
        Sla => "sla",
        Privacy => "privacy"
    }
);

impl NotifyTopic {
    /// On for an agent who never chose: everything but new tickets; privacy requests
    /// for admins only.
    pub fn default_for(self, role: AgentRole) -> bool {
        match self {
            NotifyTopic::New => false,
            NotifyTopic::Privacy => role == AgentRole::Admin,
            _ => true,
        }
    }

    /// What the settings screen calls it.
    pub fn label(self) -> &'static str {
        match self {
            NotifyTopic::Assigned => "assigned to me (and my snoozed tickets waking)",
            NotifyTopic::Replied => "customer replied on my ticket",
            NotifyTopic::New => "new ticket",
            NotifyTopic::Mentioned => "mentioned in a note (@name)",
            NotifyTopic::Sla => "SLA due soon / breached",
            NotifyTopic::Privacy => "privacy request due",
        }
    }
}

/// The topics an agent chose (stored once they choose; until then the defaults of
/// their role apply, see [`NotifyPrefs::effective`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPrefs {
    pub on: Vec<NotifyTopic>,
}

impl NotifyPrefs {
    /// The defaults for `role`.
    pub fn defaults(role: AgentRole) -> NotifyPrefs {
        NotifyPrefs {
            on: NotifyTopic::ALL
                .iter()
                .copied()
                .filter(|t| t.default_for(role))
                .collect(),
        }
    }

    /// What applies: the stored choice, else the role's defaults.
    pub fn effective(stored: Option<NotifyPrefs>, role: AgentRole) -> NotifyPrefs {
        stored.unwrap_or_else(|| NotifyPrefs::defaults(role))
    }

    pub fn wants(&self, topic: NotifyTopic) -> bool {
        self.on.contains(&topic)
    }

    /// Turns `topic` on or off, keeping the order of [`NotifyTopic::ALL`].
    pub fn set(&mut self, topic: NotifyTopic, on: bool) {
        self.on.retain(|t| *t != topic);
        if on {
            self.on.push(topic);
        }
        self.on.sort();
    }

    /// `assigned,replied,…` or `none`.
    pub fn list(&self) -> String {
        if self.on.is_empty() {
            return "none".into();
        }
        self.on
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Applies `--notify SPEC`: `none`, a full list (`assigned,replied`), or changes
    /// (`+new,-sla`); a list may not mix plain words with `+`/`-`.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        let words: Vec<&str> = spec
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Err("--notify needs topics: e.g. assigned,replied, +new, -sla or none".into());
        }
        if words == ["none"] {
            self.on.clear();
            return Ok(());
        }
        let changes = words.iter().filter(|w| w.starts_with(['+', '-'])).count();
        if changes != 0 && changes != words.len() {
            return Err(
                "--notify takes either a full list (assigned,replied) or changes (+new,-sla), not both"
                    .into(),
            );
        }
        let parse = |w: &str| -> Result<NotifyTopic, String> {
            w.parse::<NotifyTopic>().map_err(|_| {
                let known: Vec<&str> = NotifyTopic::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown notification topic {:?}: use {} (or none)",
                    crate::sanitize::line(w),
                    known.join(", ")
                )
            })
        };
        if changes == 0 {
            let mut next = NotifyPrefs::default();
            for w in words {
                next.set(parse(w)?, true);
            }
            *self = next;
            return Ok(());
        }
        for w in words {
            let (on, name) = w.split_at(1);
            self.set(parse(name)?, on == "+");
        }
        Ok(())
    }
}

/// One entry of an agent's notification list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Position in that agent's list (1, 2, …; newest highest).
    pub seq: u64,
    pub ticket: TicketNo,
    pub why: NotifyWhy,
    /// The agent whose action caused it; None: the desk (mail, timers).
    pub cause: Option<String>,
    pub at: Timestamp,
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_specs() {
        let mut p = NotifyPrefs::defaults(AgentRole::Agent);
        assert_eq!(p.list(), "assigned,replied,mentioned,sla");
        p.apply("+new,-sla").unwrap();
        assert_eq!(p.list(), "assigned,replied,new,mentioned");
        p.apply("none").unwrap();
        assert_eq!(p.list(), "none");
        p.apply("replied, assigned").unwrap();
        assert_eq!(p.list(), "assigned,replied");
        assert!(p.apply("+new,sla").is_err());
        assert!(p.apply("bogus").unwrap_err().contains("assigned, replied"));
        assert_eq!(p.list(), "assigned,replied");
        assert!(NotifyPrefs::defaults(AgentRole::Admin).wants(NotifyTopic::Privacy));
    }
}
