//! Changes to several tickets at once (the queue's `B`), and their outcome.

use crate::Result;
use sealdesk_model::{Priority, Status, TagChange, TicketNo};

/// One change applied to every ticket of a bulk action, each in its own unit of work
/// and audited per ticket as the single change would be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkChange {
    Status(Status),
    Priority(Priority),
    /// An agent's name, or `None` to unassign.
    Assign(Option<String>),
    /// Tags added (`+a`) and taken off (`-b`), the other tags left as they are.
    Tags(Vec<TagChange>),
    /// The macro of this name (Part 9), applied to each ticket.
    Macro(String),
    /// Every other ticket merged into this one.
    MergeInto(TicketNo),
}

impl BulkChange {
    /// The one question asked before a bulk action on `count` tickets: "close 3
    /// tickets?".
    pub fn question(&self, count: usize) -> String {
        let tickets = match count {
            1 => "1 ticket".to_string(),
            n => format!("{n} tickets"),
        };
        let line = sealdesk_model::sanitize::line;
        match self {
            BulkChange::Status(Status::Closed) => format!("close {tickets}?"),
            BulkChange::Status(Status::Solved) => format!("solve {tickets}?"),
            BulkChange::Status(s) => format!("set {tickets} to {s}?"),
            BulkChange::Priority(p) => format!("set {tickets} to priority {p}?"),
            BulkChange::Assign(Some(name)) => format!("assign {tickets} to {}?", line(name)),
            BulkChange::Assign(None) => format!("unassign {tickets}?"),
            BulkChange::Tags(changes) => format!("tag {tickets} {}?", tag_words(changes)),
            BulkChange::Macro(name) => format!("apply macro {} to {tickets}?", line(name)),
            BulkChange::MergeInto(into) => format!("merge {tickets} into {into}?"),
        }
    }

    /// What happened to a ticket it succeeded on, for "3 closed".
    pub fn done(&self) -> String {
        match self {
            BulkChange::Status(Status::Closed) => "closed".into(),
            BulkChange::Status(Status::Solved) => "solved".into(),
            BulkChange::Status(s) => format!("set {s}"),
            BulkChange::Priority(p) => format!("set {p}"),
            BulkChange::Assign(Some(_)) => "assigned".into(),
            BulkChange::Assign(None) => "unassigned".into(),
            BulkChange::Tags(_) => "retagged".into(),
            BulkChange::Macro(_) => "done".into(),
            BulkChange::MergeInto(into) => format!("merged into {into}"),
        }
    }
}

/// `+a -b`, as typed.
pub fn tag_words(changes: &[TagChange]) -> String {
    changes
        .iter()
        .map(|c| match c {
            TagChange::Add(t) => format!("+{t}"),
            TagChange::Remove(t) => format!("-{t}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each ticket of a bulk action and how its change went, in the order given.
pub type BulkOutcome = Vec<(TicketNo, Result<String>)>;

/// "3 closed; #7 failed: …": one line for the status line or the CLI.
pub fn bulk_summary(change: &BulkChange, outcome: &BulkOutcome) -> String {
    let done = outcome.iter().filter(|(_, r)| r.is_ok()).count();
    let mut parts = vec![format!("{done} {}", change.done())];
    for (n, r) in outcome {
        if let Err(e) = r {
            parts.push(format!(
                "{n} failed: {}",
                sealdesk_model::sanitize::line(&e.to_string())
            ));
        }
    }
    parts.join("; ")
}
