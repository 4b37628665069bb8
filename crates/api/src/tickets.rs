//! What the ticket and queue screens name besides the queue rows: a thread's entries,
//! who else is on a ticket, and where arriving mail was filed.

use sealdesk_model::{Message, QuarantineId, TicketNo};

/// One entry of a thread as shown: a message, or the placeholder for an erased one.
#[derive(Debug, Clone)]
pub enum ThreadEntry {
    Message(Box<Message>),
    Erased,
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
