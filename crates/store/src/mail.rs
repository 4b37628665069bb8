//! Mail bookkeeping: the Message-ID index that threads replies, the duplicate guard,
//! the original MIME of each message, the quarantine and the outbox.

use super::envelope::KeySlot;
use super::records::message_key;
use super::{hmac32, Result, Store, Tx};
use sealdesk_model::{CustomerId, OutboxEntry, QuarantineId, QuarantineItem, TicketNo};

impl Store {
    /// Keyed hash of a Message-ID: ids can name people, so they are never sled keys.
    pub(super) fn message_id_key(&self, message_id: &str) -> [u8; 32] {
        hmac32(
            &self.index_key,
            format!("message-id\0{}", message_id.trim().to_lowercase()).as_bytes(),
        )
    }

    pub fn ticket_for_message_id(&self, message_id: &str) -> Result<Option<TicketNo>> {
        self.get(&self.t.message_ids, &self.message_id_key(message_id))
    }

    pub(super) fn seen_key(&self, sender: &str, message_id: &str) -> [u8; 32] {
        let text = format!(
            "seen\0{}\0{}",
            sealdesk_model::normalize_email(sender),
            message_id.trim().to_lowercase()
        );
        hmac32(&self.index_key, text.as_bytes())
    }

    /// Where the same message from the same sender was filed before, if it was.
    pub fn seen_mail(&self, sender: &str, message_id: &str) -> Result<Option<(TicketNo, u32)>> {
        self.get(&self.t.seen_mail, &self.seen_key(sender, message_id))
    }

    /// The original MIME of a message. One whose key is gone (its customer erased, the
    /// message redacted, or the original dropped because it named an erased participant;
    /// met in a restored earlier backup) reads as none: the message stands without it.
    pub fn raw_mail(&self, ticket: TicketNo, seq: u32) -> Result<Option<Vec<u8>>> {
        match self.get(&self.t.raw_mail, &message_key(ticket, seq)) {
            Err(super::StoreError::Erased) => Ok(None),
            other => other,
        }
    }

    // ---- quarantine ----

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

    /// The quarantined mail sealed for one customer (its sender), oldest first.
    pub fn quarantine_of(&self, customer: &CustomerId) -> Result<Vec<QuarantineItem>> {
        let mut items = Vec::new();
        for (key, sealed) in self.sealed_for(&self.t.quarantine, customer)? {
            items.push(self.decode::<QuarantineItem>(&self.t.quarantine, &key, &sealed)?);
        }
        items.sort_by_key(|i| i.received);
        Ok(items)
    }

    /// Quarantined mail without a known sender (master-sealed): what retention deletes.
    pub fn unowned_quarantine(&self) -> Result<Vec<QuarantineItem>> {
        let mut items = Vec::new();
        for item in self.t.quarantine.tree.iter() {
            let (key, sealed) = item?;
            if matches!(
                super::envelope::slot_of(self.t.quarantine.name, &sealed),
                Ok(KeySlot::Master)
            ) {
                items.push(self.decode::<QuarantineItem>(&self.t.quarantine, &key, &sealed)?);
            }
        }
        Ok(items)
    }

    // ---- outbox ----

    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.scan::<OutboxEntry>(&self.t.outbox, &[])?
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    /// The outbox entries of one ticket (its key prefix), without reading the rest.
    pub fn outbox_of(&self, ticket: TicketNo) -> Result<Vec<OutboxEntry>> {
        self.scan::<OutboxEntry>(&self.t.outbox, &ticket.0.to_be_bytes())?
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    /// The outbox entry of message `seq` of `ticket`, if it waits there.
    pub fn outbox_entry(&self, ticket: TicketNo, seq: u32) -> Result<Option<OutboxEntry>> {
        self.get(&self.t.outbox, &message_key(ticket, seq))
    }

    /// One message of a thread.
    pub fn message(&self, ticket: TicketNo, seq: u32) -> Result<Option<sealdesk_model::Message>> {
        let key = message_key(ticket, seq);
        match self.get(&self.t.messages, &key)? {
            Some(m) => Ok(Some(self.with_parties(&key, m)?)),
            None => Ok(None),
        }
    }
}

impl Tx<'_> {
    /// Remembers that `message_id` (received or sent) belongs to `ticket`.
    pub fn index_message_id(&mut self, message_id: &str, ticket: TicketNo) -> Result<()> {
        let store = self.store;
        let key = store.message_id_key(message_id);
        self.put(&store.t.message_ids, &key, KeySlot::Master, &ticket)
    }

    /// Forgets a Message-ID (a reply taken back before it was sent).
    pub fn unindex_message_id(&mut self, message_id: &str) {
        let store = self.store;
        let key = store.message_id_key(message_id);
        self.remove(&store.t.message_ids, &key);
    }

    /// Removes a message from its thread: only for a reply taken back before it was
    /// ever sent (`Desk::unsend`), so no original mail or notice refers to it. Its
    /// To/Cc/Bcc, stored apart (see `put_message`), go with it.
    pub fn remove_message(&mut self, ticket: TicketNo, seq: u32) -> Result<()> {
        let store = self.store;
        let key = message_key(ticket, seq);
        self.remove(&store.t.messages, &key);
        if self.current_slot(&store.t.message_parties, &key)?.is_some() {
            self.remove_shredding(&store.t.message_parties, &key)?;
        }
        Ok(())
    }

    pub fn mark_mail_seen(
        &mut self,
        sender: &str,
        message_id: &str,
        at: (TicketNo, u32),
    ) -> Result<()> {
        let store = self.store;
        let key = store.seen_key(sender, message_id);
        self.put(&store.t.seen_mail, &key, KeySlot::Master, &at)
    }

    /// The original MIME of a message, sealed with its author's key (kept for export).
    pub fn put_raw_mail(
        &mut self,
        owner: &CustomerId,
        ticket: TicketNo,
        seq: u32,
        raw: &[u8],
    ) -> Result<()> {
        let store = self.store;
        self.put_blob(
            &store.t.raw_mail,
            &message_key(ticket, seq),
            KeySlot::Customer(*owner),
            raw,
        )
    }

    // ---- quarantine ----

    /// Sealed with its sender's key when the sender is known (`owner`), so erasing
    /// them reaches it; otherwise with the master key until retention deletes it.
    pub fn put_quarantine(
        &mut self,
        item: &QuarantineItem,
        owner: Option<&CustomerId>,
    ) -> Result<()> {
        let store = self.store;
        let slot = owner.map_or(KeySlot::Master, |c| KeySlot::Customer(*c));
        self.put(&store.t.quarantine, item.id.as_bytes(), slot, item)
    }

    /// Removes a quarantined item; false if there was none.
    pub fn remove_quarantine(&mut self, id: &QuarantineId) -> Result<bool> {
        let store = self.store;
        let existed = self.contains(&store.t.quarantine, id.as_bytes())?;
        self.remove(&store.t.quarantine, id.as_bytes());
        Ok(existed)
    }

    // ---- outbox ----

    pub fn put_outbox(&mut self, entry: &OutboxEntry) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.outbox,
            &message_key(entry.ticket, entry.seq),
            KeySlot::Master,
            entry,
        )
    }

    pub fn remove_outbox(&mut self, ticket: TicketNo, seq: u32) {
        let store = self.store;
        self.remove(&store.t.outbox, &message_key(ticket, seq));
    }
}
