//! Drafts: one per (ticket, agent), sealed with the ticket's customer's key under a
//! record key of its own. Saving again reuses that key; sending or discarding removes
//! the draft and shreds the key, so no backup can read any version of it afterwards.
//! The sled key (ticket number, agent name) is workflow, not personal: which tickets
//! have drafts is known without opening one (the queue's draft marker).

use super::{Result, Store, Tx};
use crate::envelope::KeySlot;
use sealdesk_model::{CustomerId, Draft, TicketNo};

fn draft_key(ticket: TicketNo, agent: &str) -> Vec<u8> {
    let mut k = ticket.0.to_be_bytes().to_vec();
    k.extend_from_slice(agent.as_bytes());
    k
}

impl Store {
    /// The draft `agent` keeps on `ticket`.
    pub fn draft(&self, ticket: TicketNo, agent: &str) -> Result<Option<Draft>> {
        self.get(&self.t.drafts, &draft_key(ticket, agent))
    }

    /// Every draft on `ticket` (an erased customer's read as `Err(Erased)`).
    pub fn drafts_on(&self, ticket: TicketNo) -> Result<Vec<Result<Draft>>> {
        Ok(self
            .scan::<Draft>(&self.t.drafts, &ticket.0.to_be_bytes())?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    /// Which agents keep drafts on which tickets, without opening any.
    pub fn draft_owners(&self) -> Result<Vec<(TicketNo, String)>> {
        let mut out = Vec::new();
        for item in self.t.drafts.tree.iter() {
            let (k, _) = item?;
            if k.len() > 8 {
                let number = TicketNo(u64::from_be_bytes(k[..8].try_into().expect("8 bytes")));
                out.push((number, String::from_utf8_lossy(&k[8..]).into_owned()));
            }
        }
        Ok(out)
    }
}

impl Tx<'_> {
    /// Stores `draft`, sealed for `customer` (the ticket's).
    pub fn put_draft(&mut self, customer: &CustomerId, draft: &Draft) -> Result<()> {
        let store = self.store;
        let key = draft_key(draft.ticket, &draft.agent);
        self.put(&store.t.drafts, &key, KeySlot::Customer(*customer), draft)
    }

    /// Removes the draft `agent` keeps on `ticket` (sent or discarded) and shreds its
    /// record key. Its attachments' blobs are the caller's to keep (sent with the
    /// reply) or remove.
    pub fn remove_draft(&mut self, ticket: TicketNo, agent: &str) -> Result<()> {
        let store = self.store;
        let key = draft_key(ticket, agent);
        if self.current_slot(&store.t.drafts, &key)?.is_some() {
            self.remove_shredding(&store.t.drafts, &key)?;
        }
        Ok(())
    }
}
