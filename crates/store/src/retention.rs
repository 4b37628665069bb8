//! Removals that retention needs beyond anonymising tickets and erasing customers.

use super::Tx;
use sealdesk_model::{CustomerId, RequestId};

impl Tx<'_> {
    /// Deletes one entry of a customer's consent ledger (past its evidence period),
    /// shredding its record key so that earlier backups lose it too.
    pub fn remove_consent(&mut self, customer: &CustomerId, seq: u64) -> super::Result<()> {
        let store = self.store;
        let mut key = [0u8; 24];
        key[..16].copy_from_slice(customer.as_bytes());
        key[16..].copy_from_slice(&seq.to_be_bytes());
        self.remove_shredding(&store.t.consents, &key)
    }

    /// Deletes a finished privacy request (past its evidence period).
    pub fn remove_request(&mut self, id: &RequestId) {
        let store = self.store;
        self.remove(&store.t.requests, id.as_bytes());
    }
}
