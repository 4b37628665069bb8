use super::{Attachment, MessageKind, Parties, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

/// A reply or note an agent is writing on a ticket, kept until it is sent or discarded:
/// one per agent and ticket, sealed with the key of the ticket's customer (it is about
/// their conversation, and usually quotes it), so erasing them erases it. Files attached
/// to it (uploaded over SFTP, or `ticket reply --attach`) are sealed blobs apart, like
/// a message's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub ticket: TicketNo,
    /// Agent name.
    pub agent: String,
    /// `Outbound` (a reply) or `Note`.
    pub kind: MessageKind,
    pub body: String,
    /// Who the reply goes to, as the agent left the To/Cc/Bcc lines. Empty: the
    /// ticket's defaults (see `Desk::reply_parties`).
    pub parties: Parties,
    pub attachments: Vec<Attachment>,
    pub updated: Timestamp,
}

impl Draft {
    /// An empty reply draft.
    pub fn new(ticket: TicketNo, agent: &str, now: Timestamp) -> Draft {
        Draft {
            ticket,
            agent: agent.to_string(),
            kind: MessageKind::Outbound,
            body: String::new(),
            parties: Parties::default(),
            attachments: Vec::new(),
            updated: now,
        }
    }

    /// Nothing written and nothing attached: not worth keeping.
    pub fn is_blank(&self) -> bool {
        self.body.trim().is_empty() && self.attachments.is_empty()
    }
}
