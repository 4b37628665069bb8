//! Plain domain types. No I/O here: the store persists them, `desk` operates on them.

/// An enum of plain words with `as_str`, `Display`, `FromStr` (naming the allowed
/// words on error) and `ALL`, for values that the CLI parses and the UI shows.
macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ParseError;
            fn from_str(s: &str) -> Result<Self, $crate::ParseError> {
                let wanted = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    let words: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::ParseError::UnknownWord {
                        kind: stringify!($name).to_lowercase(),
                        given: s.to_string(),
                        words: words.join(", "),
                    }
                })
            }
        }
    };
}

mod agent;
mod audit;
mod catalogue;
mod consent;
mod customer;
mod draft;
mod export;
mod ids;
mod mail;
mod marks;
mod message;
mod notice;
mod notification;
mod report;
mod request;
pub mod sanitize;
pub mod sla;
mod template;
mod ticket;
mod time;
mod view;
// Part 11
mod webhook;

pub use agent::{is_valid_agent_name, Agent, AgentRole};
pub use audit::{AuditEvent, AuditEventJson, ChainBreak, ChainVerifier, EventHash, Pseudonym};
pub use catalogue::{Catalogue, CatalogueEntry, CatalogueError};
pub use consent::{ConsentActor, ConsentRecord, ConsentState};
pub use customer::{is_plausible_email, mailbox_address, normalize_email, Customer, CustomerFlags};
pub use draft::Draft;
pub use export::{ExportDelivery, ExportRecord, ExportWay};
pub use ids::{
    AgentId, AttachmentId, CustomerId, ExportId, NoticeId, QuarantineId, RequestId, TicketNo,
};
pub use mail::{
    ComposedAttachment, ComposedMail, MailAttachment, OutboxEntry, OutgoingMail, QuarantineItem,
};
pub use marks::{ActivityKind, SeenMark, TicketActivity};
pub use message::{Attachment, Author, Delivery, Message, MessageKind, Parties};
pub use notice::{Notice, NoticeCopy, NoticeKind, NoticeLeftOut};
pub use notification::{Notification, NotifyPrefs, NotifyTopic, NotifyWhy};
pub use report::{
    duration_words, Column, GroupBy, Period, Report, ReportKind, ReportQuery, Row, Unit,
};
pub use request::{
    Decision, DecisionOutcome, Extension, PrivacyRequest, RequestKind, RequestStatus, Verification,
};
pub use sla::{Calendar, Pause, SlaClock, Targets};
pub use template::{
    fill, is_valid_template_name, AssigneeChange, Macro, Placeholders, ReplyTemplate, TagChange,
    Visibility, PLACEHOLDER_NAMES,
};
pub use ticket::{LinkKind, Priority, Status, Ticket, TicketLink};
pub use time::Timestamp;
pub use view::{is_valid_view_name, SavedView, ViewAssignee, ViewMarker, ViewQuery, ViewSort};
pub use webhook::{
    RequestSnapshot, TicketSnapshot, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent,
};

/// Why a word, an id or a ticket number (from the command line, a form or a file) did
/// not parse; the message names what would.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown {kind} {given:?}: use one of {words}")]
    UnknownWord {
        kind: String,
        given: String,
        words: String,
    },
    #[error("not a {prefix} id: expected {prefix}_ and 32 hex digits")]
    NotAnId { prefix: &'static str },
    #[error("not a ticket number: {given:?} (use a number such as 12 or #12)")]
    NotATicketNumber { given: String },
}

/// Shown in place of personal data that was erased or anonymised.
pub const ERASED: &str = "[erased]";

/// Personal text (a ticket's subject, a customer's queue label), or the fact that it was
/// erased with its customer.
///
/// Stored (and serialised) as text, the erased one as [`ERASED`] so that stores written
/// before this type still read: reading that text gives `Erased` (`from_stored`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Personal {
    Text(String),
    Erased,
}

impl Personal {
    /// The text to show: the subject, or the placeholder once erased.
    pub fn as_str(&self) -> &str {
        match self {
            Personal::Text(s) => s,
            Personal::Erased => ERASED,
        }
    }

    pub fn is_erased(&self) -> bool {
        matches!(self, Personal::Erased)
    }

    /// The read boundary: text as stored, with the erased placeholder recognised.
    pub(crate) fn from_stored(text: String) -> Personal {
        if text == ERASED {
            Personal::Erased
        } else {
            Personal::Text(text)
        }
    }
}

impl std::fmt::Display for Personal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads as the text to show, so renderers take it where they take a `&str`; whether it
/// was erased is asked with `is_erased`, never by comparing that text.
impl From<String> for Personal {
    fn from(text: String) -> Personal {
        Personal::Text(text)
    }
}

impl From<&str> for Personal {
    fn from(text: &str) -> Personal {
        Personal::Text(text.to_string())
    }
}

impl PartialEq<&str> for Personal {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Personal::Text(s) if s == other)
    }
}

impl serde::Serialize for Personal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Personal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Personal, D::Error> {
        <String as serde::Deserialize>::deserialize(d).map(Personal::from_stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_subject_is_stored_as_the_placeholder_and_read_back_as_erased() {
        let stored = serde_json::to_value(Personal::Erased).unwrap();
        assert_eq!(stored, serde_json::json!(ERASED));
        let read: Personal = serde_json::from_value(stored).unwrap();
        assert!(read.is_erased());
        let text: Personal = serde_json::from_value(serde_json::json!("Printer on fire")).unwrap();
        assert_eq!(text, Personal::Text("Printer on fire".into()));
        assert_eq!(Personal::Erased.to_string(), ERASED);
    }
}
