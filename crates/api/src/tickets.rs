//! What the ticket and queue screens name besides the queue rows: a thread's entries,
//! who else is on a ticket, and where arriving mail was filed.

use sealdesk_model::{Message, QuarantineId, TicketNo, Timestamp};

/// One entry of a thread as shown: a message, or the placeholder for an erased one.
#[derive(Debug, Clone)]
pub enum ThreadEntry {
    Message(Box<ThreadMessage>),
    Erased,
}

/// A message of a thread, and, for a reply still in the outbox, how its sending goes.
/// It reads as the [`Message`] itself (`Deref`), so screens name its fields directly.
#[derive(Debug, Clone)]
pub struct ThreadMessage {
    pub message: Message,
    /// Set while the reply waits in the outbox: for its first attempt, or for a retry
    /// after a failure the relay may get over.
    pub outbox: Option<OutboxState>,
}

impl std::ops::Deref for ThreadMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}

/// Where a queued reply is: how often it was tried, when it is tried next, and why the
/// last try failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxState {
    pub attempts: u32,
    pub next_attempt: Timestamp,
    /// One line, sanitised (the relay's answer, or why the mail could not be built).
    pub last_error: Option<String>,
}

/// What another session is doing on a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Viewing,
    Replying,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub agent: String,
    pub activity: Activity,
}

/// Where a message ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    NewTicket(TicketNo),
    Appended(TicketNo),
    /// The same Message-ID from the same sender was filed before; stored once.
    Duplicate(TicketNo),
    /// A delivery failure report, attached to the ticket whose reply bounced.
    BounceNoted(TicketNo),
    Quarantined(QuarantineId, String),
}

impl std::fmt::Display for Filed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filed::NewTicket(n) => write!(f, "filed as new ticket {n}"),
            Filed::Appended(n) => write!(f, "filed into ticket {n}"),
            Filed::Duplicate(n) => write!(
                f,
                "already filed in ticket {n} (same Message-ID from the same sender)"
            ),
            Filed::BounceNoted(n) => write!(f, "delivery failure noted on ticket {n}"),
            Filed::Quarantined(id, reason) => {
                write!(
                    f,
                    "quarantined as {id}: {}",
                    sealdesk_model::sanitize::line(reason)
                )
            }
        }
    }
}
