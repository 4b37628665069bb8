use super::{CustomerId, RequestId, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

/// A data subject's request under privacy law, with its deadline. Sealed with the master
/// key and holding no personal text, so the desk can prove it answered a request even
/// after the customer's data has been erased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyRequest {
    pub id: RequestId,
    pub customer: CustomerId,
    pub ticket: Option<TicketNo>,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub received: Timestamp,
    pub due: Timestamp,
    pub extension: Option<Extension>,
    pub verification: Option<Verification>,
    /// SHA-256 of the one-time code mailed to the customer's known address, while one
    /// is outstanding, and when it was sent.
    pub pending_code: Option<([u8; 32], Timestamp)>,
    pub decision: Option<Decision>,
}

word_enum!(
    /// What the data subject asked for.
    RequestKind {
        Access => "access",
        Export => "export",
        Correction => "correction",
        Erasure => "erasure",
        ConsentWithdrawal => "consent-withdrawal",
        MarketingObjection => "marketing-objection",
        Restriction => "restriction",
    }
);

word_enum!(
    /// Identity unverified → verified → in progress → completed, or denied with a reason.
    RequestStatus {
        Unverified => "unverified",
        Verified => "verified",
        InProgress => "in-progress",
        Completed => "completed",
        Denied => "denied",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub new_due: Timestamp,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// `emailed-code` or what the agent recorded, e.g. `called back on known number`.
    pub method: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: DecisionOutcome,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionOutcome {
    Completed,
    Denied,
}
