//! What the queue's markers are made of (Part 10): a ticket's activity, as a counter
//! and who moved it last, and when each agent last opened it.
//!
//! The rule: *activity* is a message (inbound mail, reply, note) or a change (status,
//! priority, assignee, tags, merge) on the ticket. Each one bumps the ticket's
//! activity counter; a ticket is *unread* for an agent when someone other than that
//! agent (a customer, the desk, the CLI, another agent) bumped the counter past the
//! value the agent saw when last opening the ticket. Counting instead of comparing
//! clock times means an activity in the same second as opening is never lost.

use super::Timestamp;
use serde::{Deserialize, Serialize};

/// What kind of activity happened on a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    /// Mail from the customer (or a ticket opened on their behalf).
    Inbound,
    /// An agent's reply to the customer.
    Reply,
    /// An internal note.
    Note,
    /// A status, priority, assignee or tag change, a merge.
    Change,
}

/// A ticket's activity, kept per ticket (stored in the `ticket_seen` tree, and in the
/// queue row). It remembers only the latest actor and the latest count by anyone else,
/// which is all "unread by X" needs, for any X.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketActivity {
    /// Goes up by one with every activity.
    pub count: u64,
    /// Who caused the latest activity (an agent's name, `system`, `cli:USER`).
    pub last_by: String,
    /// The latest count caused by someone other than `last_by` (0: nobody).
    pub before_by_other: u64,
    /// The count at the latest inbound mail (0: none).
    pub inbound: u64,
    /// The count at the latest reply by an agent (0: none).
    pub reply: u64,
    /// When the latest activity happened.
    pub at: Timestamp,
}

impl Default for TicketActivity {
    fn default() -> Self {
        TicketActivity {
            count: 0,
            last_by: String::new(),
            before_by_other: 0,
            inbound: 0,
            reply: 0,
            at: Timestamp(0),
        }
    }
}

impl TicketActivity {
    /// Records one activity by `actor`, of the kinds given.
    pub fn bump(&mut self, actor: &str, kinds: &[ActivityKind], at: Timestamp) {
        let count = self.count + 1;
        if self.last_by != actor {
            self.before_by_other = self.count;
            self.last_by = actor.to_string();
        }
        self.count = count;
        self.at = at;
        for kind in kinds {
            match kind {
                ActivityKind::Inbound => self.inbound = count,
                ActivityKind::Reply => self.reply = count,
                ActivityKind::Note | ActivityKind::Change => {}
            }
        }
    }

    /// The latest count caused by someone other than `agent`.
    pub fn latest_not_by(&self, agent: &str) -> u64 {
        if self.last_by == agent {
            self.before_by_other
        } else {
            self.count
        }
    }

    /// Whether `agent`, who last saw count `seen`, has something new to read.
    pub fn unread_for(&self, agent: &str, seen: u64) -> bool {
        self.latest_not_by(agent) > seen
    }

    /// The customer wrote after our latest reply (and we had replied).
    pub fn customer_replied(&self) -> bool {
        self.reply > 0 && self.inbound > self.reply
    }
}

/// When an agent last opened a ticket, and the activity count they saw then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenMark {
    pub count: u64,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_is_activity_by_someone_else_since_opening() {
        let mut a = TicketActivity::default();
        let t = Timestamp(1);
        a.bump("system", &[ActivityKind::Inbound], t);
        assert!(a.unread_for("alice", 0));
        assert!(!a.unread_for("alice", a.count), "seen after the mail");
        let seen = a.count;
        a.bump("alice", &[ActivityKind::Reply], t);
        assert!(!a.unread_for("alice", seen), "her own reply is not news");
        assert!(a.unread_for("bob", seen), "for bob it is");
        a.bump("alice", &[ActivityKind::Change], t);
        assert!(!a.unread_for("alice", seen));
        assert!(!a.customer_replied());
        a.bump("system", &[ActivityKind::Inbound], t);
        assert!(a.unread_for("alice", seen));
        assert!(a.customer_replied());
        a.bump("bob", &[ActivityKind::Note], t);
        assert!(a.customer_replied(), "a note is not a reply");
        a.bump("bob", &[ActivityKind::Reply], t);
        assert!(!a.customer_replied());
    }
}
