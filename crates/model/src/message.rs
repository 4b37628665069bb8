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
    /// Who the mail went to, as its headers said (inbound), or as the agent addressed
    /// the reply (outbound). Empty for notes, and for messages stored before Part 9.
    pub parties: Parties,
}

/// The recipients of one mail: mailboxes as written (`Ann <ann@example.com>` or a bare
/// address). Bcc is known only for mail the desk sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
}

impl Parties {
    /// Every recipient, To then Cc then Bcc.
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }

    pub fn is_empty(&self) -> bool {
        self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty()
    }
}

impl Message {
    /// A message as it is appended to a thread: sequence number 0 (the store gives it
    /// the next one), no Message-ID, no threading, no attachments, no delivery.
    pub fn new(
        ticket: TicketNo,
        kind: MessageKind,
        author: Author,
        text: String,
        at: Timestamp,
    ) -> Message {
        Message {
            ticket,
            seq: 0,
            kind,
            author,
            at,
            text,
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            attachments: Vec::new(),
            delivery: None,
            parties: Parties::default(),
        }
    }

    /// Mail that came in (or a ticket opened on a customer's behalf).
    pub fn inbound(
        ticket: TicketNo,
        author: Author,
        text: String,
        at: Timestamp,
        message_id: Option<String>,
    ) -> Message {
        Message {
            message_id,
            ..Message::new(ticket, MessageKind::Inbound, author, text, at)
        }
    }

    /// A reply that goes out by mail: queued since `at`.
    pub fn outbound(
        ticket: TicketNo,
        author: Author,
        text: String,
        at: Timestamp,
        message_id: String,
    ) -> Message {
        Message {
            message_id: Some(message_id),
            delivery: Some(Delivery::Queued { since: at }),
            ..Message::new(ticket, MessageKind::Outbound, author, text, at)
        }
    }

    /// An internal note, never sent.
    pub fn note(ticket: TicketNo, author: Author, text: String, at: Timestamp) -> Message {
        Message::new(ticket, MessageKind::Note, author, text, at)
    }

    /// Placed in a thread: the parent's Message-ID and the chain of ids, oldest first.
    pub fn threaded(mut self, in_reply_to: Option<String>, references: Vec<String>) -> Message {
        self.in_reply_to = in_reply_to;
        self.references = references;
        self
    }

    /// Addressed to these recipients.
    pub fn addressed(mut self, parties: Parties) -> Message {
        self.parties = parties;
        self
    }

    pub fn with_attachments(mut self, attachments: Vec<Attachment>) -> Message {
        self.attachments = attachments;
        self
    }

    /// The place of a message whose author's key is gone and whose kind and time can no
    /// longer be read (only a restored old backup has such messages: an erasure turns
    /// every message it can read into a placeholder that keeps both).
    pub fn erased_placeholder(ticket: TicketNo, seq: u32) -> Message {
        Message {
            seq,
            ..Message::inbound(
                ticket,
                Author::Erased,
                crate::ERASED.into(),
                Timestamp::now(),
                None,
            )
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
