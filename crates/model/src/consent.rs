use super::{CustomerId, Timestamp};
use serde::{Deserialize, Serialize};

/// One entry of a customer's append-only consent ledger. The current state for a purpose
/// is the latest entry for it; earlier entries are never changed, so the ledger shows
/// what was permitted at any moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub customer: CustomerId,
    /// Position in this customer's ledger, from 1.
    pub seq: u64,
    /// Purpose code from the catalogue, e.g. `040` (marketing).
    pub purpose: String,
    /// Category codes from the catalogue, e.g. `C001`.
    pub categories: Vec<String>,
    pub state: ConsentState,
    pub at: Timestamp,
    pub actor: ConsentActor,
    /// The channel, e.g. `email`, `phone`, `web form`.
    pub method: String,
    /// What proves it, e.g. `Message-ID <…>`.
    pub evidence: String,
    pub policy_version: String,
}

word_enum!(ConsentState { Given => "given", Refused => "refused", Withdrawn => "withdrawn", Expired => "expired" });

/// Who recorded or gave the consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentActor {
    Customer,
    Agent { name: String },
    Guardian { name: String, recorded_by: String },
}
