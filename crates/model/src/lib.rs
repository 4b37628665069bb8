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
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    let words: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {:?}: use one of {}", stringify!($name).to_lowercase(), s, words.join(", "))
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
mod export;
mod ids;
mod mail;
mod message;
mod notice;
mod request;
pub mod sanitize;
mod ticket;
mod time;

pub use agent::{is_valid_agent_name, Agent, AgentRole};
pub use audit::{AuditEvent, ChainBreak, ChainVerifier, EventHash, Pseudonym};
pub use catalogue::{Catalogue, CatalogueEntry};
pub use consent::{ConsentActor, ConsentRecord, ConsentState};
pub use customer::{is_plausible_email, normalize_email, Customer, CustomerFlags};
pub use export::{ExportDelivery, ExportRecord, ExportWay};
pub use ids::{
    AgentId, AttachmentId, CustomerId, ExportId, NoticeId, QuarantineId, RequestId, TicketNo,
};
pub use mail::{
    ComposedAttachment, ComposedMail, MailAttachment, OutboxEntry, OutgoingMail, QuarantineItem,
};
pub use message::{Attachment, Author, Delivery, Message, MessageKind};
pub use notice::{Notice, NoticeCopy, NoticeKind, NoticeLeftOut};
pub use request::{
    Decision, DecisionOutcome, Extension, PrivacyRequest, RequestKind, RequestStatus, Verification,
};
pub use ticket::{Priority, Status, Ticket};
pub use time::Timestamp;

/// Shown in place of personal data that was erased or anonymised.
pub const ERASED: &str = "[erased]";
