use super::{CustomerId, ExportId, RequestId, Timestamp};
use serde::{Deserialize, Serialize};

/// The index entry of one export archive. The archive itself is kept apart, sealed
/// with the customer's key; this entry is sealed with the master key and holds nothing
/// personal (no address: a mail delivery names the keyed hash of the address), so it
/// can outlive an erasure as the record that an export was made and handed out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRecord {
    pub id: ExportId,
    pub customer: CustomerId,
    pub created: Timestamp,
    /// Who made it: agent name, `cli:<user>` or `system`.
    pub by: String,
    /// Bytes of the .tar.gz.
    pub size: u64,
    pub files: u32,
    pub request: Option<RequestId>,
    /// Every time the archive left the desk.
    pub deliveries: Vec<ExportDelivery>,
    /// The archive's content is gone (erased or expired); this entry stays.
    pub content_deleted: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportDelivery {
    pub at: Timestamp,
    pub by: String,
    pub way: ExportWay,
}

/// How an archive left the desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportWay {
    /// Queued by mail to the requester's verified address (its keyed hash here).
    Mail {
        request: RequestId,
        to_key: [u8; 32],
    },
    /// Written to a file the admin chose (`--out`): a copy outside the desk, which
    /// the erasure preview lists so it can be deleted. `None` once erased.
    File { path: Option<String> },
}

impl ExportRecord {
    /// When it was mailed, if it was.
    pub fn mailed(&self) -> Option<&ExportDelivery> {
        self.deliveries
            .iter()
            .find(|d| matches!(d.way, ExportWay::Mail { .. }))
    }

    /// Copies written outside the desk, with their paths where still known.
    pub fn files_outside(&self) -> impl Iterator<Item = &ExportDelivery> {
        self.deliveries
            .iter()
            .filter(|d| matches!(d.way, ExportWay::File { .. }))
    }
}
