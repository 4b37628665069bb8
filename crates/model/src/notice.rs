use super::{CustomerId, Delivery, NoticeId, Timestamp};
use serde::{Deserialize, Serialize};

word_enum!(
    /// Why the desk writes to customers who did not write first.
    NoticeKind {
        Incident => "incident",
        PolicyChange => "policy-change",
        Transfer => "transfer",
        EndOfService => "end-of-service",
        Other => "other",
    }
);

impl NoticeKind {
    /// Mail the desk owes the customer (a breach, a transfer of their data, the end of
    /// the service): it reaches restricted customers too.
    pub fn is_mandatory(self) -> bool {
        matches!(
            self,
            NoticeKind::Incident | NoticeKind::Transfer | NoticeKind::EndOfService
        )
    }

    /// Mail that may promote something: it needs the marketing purpose (040) not to be
    /// withdrawn, refused or expired.
    pub fn is_marketing(self) -> bool {
        self == NoticeKind::Other
    }
}

/// A notice written by the desk to chosen customers. Desk text (sealed with the master
/// key); the recipients are fixed when it is created, as customer ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: NoticeId,
    pub kind: NoticeKind,
    pub subject: String,
    /// May hold `{customer.name}` and `{customer.email}`.
    pub body: String,
    /// How the audience was chosen, in words without personal data (`tag vip`).
    pub audience: String,
    pub recipients: Vec<CustomerId>,
    /// Left out when it was created: restricted (non-mandatory kind), marketing consent
    /// withdrawn, and addresses of no customer.
    pub left_out: NoticeLeftOut,
    pub created: Timestamp,
    pub created_by: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeLeftOut {
    pub restricted: usize,
    pub no_consent: usize,
    pub unknown_addresses: usize,
}

/// What one customer was sent: their copy of a notice, sealed with their key (so it
/// is in their export and history, and goes with them when they are erased).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeCopy {
    pub notice: NoticeId,
    pub customer: CustomerId,
    pub kind: NoticeKind,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub queued: Timestamp,
    pub delivery: Delivery,
}
