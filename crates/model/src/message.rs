use super::{AttachmentId, CustomerId, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

/// One entry in a ticket's thread. Sealed with the key of the ticket's customer: it is
/// their conversation, so erasing them erases it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub ticket: TicketNo,
    /// Position in the thread, from 1.
    pub seq: u32,
    pub kind: MessageKind,
    pub author: Author,
    pub at: Timestamp,
    pub text: String,
    /// RFC 5322 Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// For outbound replies: where the mail is on its way out.
    pub delivery: Option<Delivery>,
}

impl Message {
    /// The place of a message whose author's key is gone and whose kind and time can no
    /// longer be read (only a restored old backup has such messages: an erasure turns
    /// every message it can read into a placeholder that keeps both).
    pub fn erased_placeholder(ticket: TicketNo, seq: u32) -> Message {
        Message {
            ticket,
            seq,
            kind: MessageKind::Inbound,
            author: Author::Erased,
            at: Timestamp::now(),
            text: crate::ERASED.into(),
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            attachments: Vec::new(),
            delivery: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Mail that came in.
    Inbound,
    /// A reply that goes (or went) out by mail.
    Outbound,
    /// An internal note, never sent.
    Note,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Inbound => "inbound",
            MessageKind::Outbound => "outbound",
            MessageKind::Note => "note",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    Customer {
        id: CustomerId,
        address: String,
        name: String,
    },
    Agent {
        name: String,
    },
    System,
    /// Written by a customer who has since been erased.
    Erased,
}

impl Author {
    pub fn display(&self) -> String {
        match self {
            Author::Customer { address, name, .. } if !name.is_empty() => {
                format!("{name} <{address}>")
            }
            Author::Customer { address, .. } => address.clone(),
            Author::Agent { name } => name.clone(),
            Author::System => "system".into(),
            Author::Erased => crate::ERASED.into(),
        }
    }
}

/// Metadata of a file that came with a message; the bytes are a separate sealed blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Queued { since: Timestamp },
    Sent { at: Timestamp },
    Failed { at: Timestamp, reason: String },
}
