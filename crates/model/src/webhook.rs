//! Webhooks (Part 11): where the desk POSTs what happened, what it queued and how each
//! try went. Stored master-sealed: none of these holds customer text (a delivery names
//! its ticket and customer by number and id; the text of an `--include-text` hook is
//! read when it is sent, so an erasure in between leaves none).

use crate::{CustomerId, Priority, RequestId, Status, Timestamp};
use serde::{Deserialize, Serialize};

word_enum!(
    /// What a hook can be told of.
    WebhookEvent {
        TicketCreated => "ticket.created",
        CustomerReplied => "ticket.customer_replied",
        TicketStatus => "ticket.status",
        TicketAssigned => "ticket.assigned",
        RequestDue => "request.due",
        Ping => "ping",
    }
);

/// One hook, as `sealdesk webhook add` made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: u64,
    /// http:// or https:// (checked at `add`).
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// Payloads carry the subject and the customer's name and address.
    pub include_text: bool,
    /// The HMAC key of `Sealdesk-Signature` (hex); shown once, at `add` and rotation.
    pub secret: String,
    pub enabled: bool,
    /// Failed tries in a row (a 2xx resets it).
    pub failures: u32,
    /// Since when it fails (the first failure of the current run).
    pub failing_since: Option<Timestamp>,
    /// Why it was disabled, when it was.
    pub disabled: Option<(Timestamp, String)>,
    pub created: Timestamp,
    pub created_by: String,
}

/// The ticket as it was when the event happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSnapshot {
    pub number: u64,
    pub status: Status,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub due: Option<Timestamp>,
}

/// A privacy request as it was when it became due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSnapshot {
    pub id: RequestId,
    pub kind: String,
    pub status: String,
    pub due: Timestamp,
    /// `due_soon` or `overdue`.
    pub urgency: String,
}

/// One event queued for one hook, until a 2xx takes it off the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Rising per desk: a hook's deliveries go out in this order.
    pub id: u64,
    pub hook: u64,
    pub event: WebhookEvent,
    pub at: Timestamp,
    pub ticket: Option<TicketSnapshot>,
    pub request: Option<RequestSnapshot>,
    /// The agent whose action caused it; None for mail and timers.
    pub agent: Option<String>,
    /// Whose text an `--include-text` hook gets (read at sending).
    pub customer: Option<CustomerId>,
    /// Tries so far, and when the next is due.
    pub attempts: u32,
    pub next_at: Timestamp,
}

/// One try of one delivery, in the hook's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub at: Timestamp,
    pub delivery: u64,
    pub event: WebhookEvent,
    pub attempt: u32,
    /// The HTTP status, if the receiver answered.
    pub status: Option<u16>,
    /// What went wrong (no answer, not 2xx), sanitised.
    pub error: Option<String>,
    pub latency_ms: u64,
}

impl WebhookAttempt {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}
