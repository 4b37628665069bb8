use super::{TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

/// A message that could not (or must not) become a ticket message, kept sealed with the
/// reason until an admin releases or deletes it. Nothing that arrives is dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineItem {
    pub id: super::QuarantineId,
    pub received: Timestamp,
    pub reason: String,
    /// `smtp 203.0.113.5:4711` or `ingest`.
    pub source: String,
    /// The envelope sender, as given (untrusted).
    pub envelope_from: String,
    pub raw: Vec<u8>,
}

/// A reply waiting to go out (or to be retried) through the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub ticket: TicketNo,
    pub seq: u32,
    pub attempts: u32,
    pub next_attempt: Timestamp,
    pub last_error: Option<String>,
    /// Headers marking an automatic message (acknowledgements): never answered by
    /// well-behaved autoresponders.
    pub automatic: bool,
    /// A mail composed in advance, not tied to a readable ticket message: the erasure
    /// confirmation, which must still go out after the customer's key is destroyed.
    /// Sealed with the master key and deleted once sent or given up.
    pub composed: Option<ComposedMail>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposedMail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub body: String,
    /// A file to send along, stored apart (sealed with its owner's key).
    pub attachment: Option<ComposedAttachment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposedAttachment {
    pub id: super::AttachmentId,
    pub owner: super::CustomerId,
    pub name: String,
    pub content_type: String,
}
