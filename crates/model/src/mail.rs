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

impl OutboxEntry {
    /// A mail queued for its first attempt at `next_attempt`: a reply in a thread when
    /// `composed` is None, else a mail composed in advance.
    pub fn new(
        ticket: TicketNo,
        seq: u32,
        next_attempt: Timestamp,
        automatic: bool,
        composed: Option<ComposedMail>,
    ) -> OutboxEntry {
        OutboxEntry {
            ticket,
            seq,
            attempts: 0,
            next_attempt,
            last_error: None,
            automatic,
            composed,
        }
    }
}

/// The stored form of a mail composed in advance (see `OutboxEntry::composed`): only
/// what cannot be read again when it is due. Its attachment is a reference to a blob
/// sealed apart, read back into a [`MailAttachment`] when the mail is sent. The desk
/// turns it (or a reply in a thread) into an [`OutgoingMail`] when it is due. Its shape
/// is the outbox's stored format: change it only with a versioned decoder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposedMail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub body: String,
    /// A file to send along, stored apart (sealed with its owner's key).
    pub attachment: Option<ComposedAttachment>,
}

/// Where the file of a [`ComposedMail`] is kept until it is sent, and what it is called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposedAttachment {
    pub id: super::AttachmentId,
    pub owner: super::CustomerId,
    pub name: String,
    pub content_type: String,
}

/// A mail we will send, whole: what the desk composes (a reply, an acknowledgement, a
/// code, a notice, a mailed export) and the relay sender turns into RFC 5322 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// A mailbox, e.g. `Support <support@example.com>`; also the envelope sender.
    pub from: String,
    /// One mailbox; also an envelope recipient.
    pub to: String,
    /// More recipients, shown in a `Cc` header; also envelope recipients.
    pub cc: Vec<String>,
    /// Recipients left out of the headers: envelope recipients only.
    pub bcc: Vec<String>,
    pub subject: String,
    /// Without angle brackets (they are added; a bracketed id is accepted too).
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Oldest first, as RFC 5322 §3.6.4 orders them; without angle brackets.
    pub references: Vec<String>,
    /// Plain text; sent as text/plain; charset=utf-8.
    pub body: String,
    pub date: Timestamp,
    /// More headers, e.g. `X-Loop` or `Auto-Submitted: auto-replied` on
    /// acknowledgements. May not replace a header the sender sets from the fields above.
    pub extra_headers: Vec<(String, String)>,
    /// Files sent along (a data export); the message becomes multipart/mixed.
    pub attachments: Vec<MailAttachment>,
}

/// A file sent along with an [`OutgoingMail`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AttachmentId, CustomerId};

    /// The outbox's stored shape: entries written by earlier versions must still decode,
    /// so these bytes (bincode, as the store writes values) may not change.
    #[test]
    fn outbox_entries_keep_their_stored_shape() {
        let entry = OutboxEntry {
            ticket: TicketNo(0),
            seq: 7,
            attempts: 2,
            next_attempt: Timestamp(1_700_000_000),
            last_error: Some("deferred".into()),
            automatic: true,
            composed: Some(ComposedMail {
                to: "ann@example.com".into(),
                subject: "Your data export".into(),
                message_id: "x@desk".into(),
                body: "Attached.".into(),
                attachment: Some(ComposedAttachment {
                    id: AttachmentId([3; 16]),
                    owner: CustomerId([4; 16]),
                    name: "e.tar.gz".into(),
                    content_type: "application/gzip".into(),
                }),
            }),
        };
        let config = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&entry, config).unwrap();
        let stored = concat!(
            "000702fc00e2a7ca0108646566657272656401010f616e6e406578616d706c65",
            "2e636f6d10596f75722064617461206578706f72740678406465736b09417474",
            "61636865642e0103030303030303030303030303030303040404040404040404",
            "0404040404040408652e7461722e677a106170706c69636174696f6e2f677a69",
            "70",
        );
        assert_eq!(hex::encode(&bytes), stored);
        let (decoded, _): (OutboxEntry, _) =
            bincode::serde::decode_from_slice(&hex::decode(stored).unwrap(), config).unwrap();
        assert_eq!(decoded, entry);
    }
}
