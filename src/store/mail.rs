//! Mail bookkeeping: the Message-ID index that threads replies, the duplicate guard,
//! the original MIME of each message, the quarantine and the outbox.

use super::envelope::KeySlot;
use super::{hmac32, Result, Store};
use crate::model::{CustomerId, OutboxEntry, QuarantineId, QuarantineItem, TicketNo};

fn message_key(ticket: TicketNo, seq: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&ticket.0.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

impl Store {
    /// Keyed hash of a Message-ID: ids can name people, so they are never sled keys.
    fn message_id_key(&self, message_id: &str) -> [u8; 32] {
        hmac32(
            &self.index_key,
            format!("message-id\0{}", message_id.trim().to_lowercase()).as_bytes(),
        )
    }

    /// Remembers that `message_id` (received or sent) belongs to `ticket`.
    pub fn index_message_id(&self, message_id: &str, ticket: TicketNo) -> Result<()> {
        self.put(
            &self.t.message_ids,
            &self.message_id_key(message_id),
            KeySlot::Master,
            &ticket,
        )
    }

    pub fn ticket_for_message_id(&self, message_id: &str) -> Result<Option<TicketNo>> {
        self.get(&self.t.message_ids, &self.message_id_key(message_id))
    }

    fn seen_key(&self, sender: &str, message_id: &str) -> [u8; 32] {
        let text = format!(
            "seen\0{}\0{}",
            crate::model::normalize_email(sender),
            message_id.trim().to_lowercase()
        );
        hmac32(&self.index_key, text.as_bytes())
    }

    /// Where the same message from the same sender was filed before, if it was.
    pub fn seen_mail(&self, sender: &str, message_id: &str) -> Result<Option<(TicketNo, u32)>> {
        self.get(&self.t.seen_mail, &self.seen_key(sender, message_id))
    }

    pub fn mark_mail_seen(
        &self,
        sender: &str,
        message_id: &str,
        at: (TicketNo, u32),
    ) -> Result<()> {
        self.put(
            &self.t.seen_mail,
            &self.seen_key(sender, message_id),
            KeySlot::Master,
            &at,
        )
    }

    /// The original MIME of a message, sealed with its author's key (kept for export).
    pub fn put_raw_mail(
        &self,
        owner: &CustomerId,
        ticket: TicketNo,
        seq: u32,
        raw: &[u8],
    ) -> Result<()> {
        self.put(
            &self.t.raw_mail,
            &message_key(ticket, seq),
            KeySlot::Customer(*owner),
            raw,
        )
    }

    pub fn raw_mail(&self, ticket: TicketNo, seq: u32) -> Result<Option<Vec<u8>>> {
        self.get(&self.t.raw_mail, &message_key(ticket, seq))
    }

    // ---- quarantine ----

    pub fn put_quarantine(&self, item: &QuarantineItem) -> Result<()> {
        self.put(
            &self.t.quarantine,
            item.id.as_bytes(),
            KeySlot::Master,
            item,
        )
    }

    pub fn quarantine_item(&self, id: &QuarantineId) -> Result<Option<QuarantineItem>> {
        self.get(&self.t.quarantine, id.as_bytes())
    }

    /// Every quarantined item, oldest first.
    pub fn quarantine(&self) -> Result<Vec<QuarantineItem>> {
        let mut items: Vec<QuarantineItem> = self
            .scan::<QuarantineItem>(&self.t.quarantine, &[])?
            .into_iter()
            .map(|(_, i)| i)
            .collect::<Result<_>>()?;
        items.sort_by_key(|i| i.received);
        Ok(items)
    }

    pub fn remove_quarantine(&self, id: &QuarantineId) -> Result<bool> {
        Ok(self.t.quarantine.tree.remove(id.as_bytes())?.is_some())
    }

    // ---- outbox ----

    pub fn put_outbox(&self, entry: &OutboxEntry) -> Result<()> {
        self.put(
            &self.t.outbox,
            &message_key(entry.ticket, entry.seq),
            KeySlot::Master,
            entry,
        )
    }

    pub fn remove_outbox(&self, ticket: TicketNo, seq: u32) -> Result<()> {
        self.t.outbox.tree.remove(message_key(ticket, seq))?;
        Ok(())
    }

    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.scan::<OutboxEntry>(&self.t.outbox, &[])?
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    /// One message of a thread.
    pub fn message(&self, ticket: TicketNo, seq: u32) -> Result<Option<crate::model::Message>> {
        self.get(&self.t.messages, &message_key(ticket, seq))
    }
}
