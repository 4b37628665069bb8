//! Record keys: deletion at the grain of one record, reaching every copy.
//!
//! A value of a deletable table (see [`Store::is_deletable`]) is sealed with its own
//! record key, bound to its customer's key ([`KeySlot::Record`]). Rewriting it keeps
//! that key ([`Tx::put`]), unless the rewrite is meant to make the old text unreadable
//! ([`Tx::put_rotating`], [`Tx::remove_shredding`]): then the old key id goes into the
//! `shredded` tree in the same unit of work, and once the unit is durable the keyring
//! is rewritten without it. Old copies of the value (in sled's files, in any backup)
//! are sealed with that key, so they are unreadable from then on.
//!
//! Across a crash between the commit and the keyring rewrite, and wherever an older
//! keyring meets this data dir (a restored keys backup), [`Store::meet_journals`]
//! destroys every key the shred list or an erasure journal names.

use super::envelope::{self, KeySlot, RecordKeyId};
use super::{ErasureRecord, Result, Store, Table, Tx};
use sealdesk_model::{CustomerId, Timestamp};
use std::collections::HashSet;

/// A refill starts when fewer record keys than this are left.
const REFILL_BELOW: usize = 64;

/// Appends a batch if the reservoir holds fewer than `below` keys. The caller holds
/// the key appends lock; the keyring is held only to read the job and accept it, so
/// reads and takers go on during the fsync.
fn refill(keyring: &parking_lot::RwLock<super::keyring::Keyring>, below: usize) -> Result<()> {
    let job = {
        let ring = keyring.read();
        if ring.reserved() >= below {
            return Ok(());
        }
        ring.batch_job()
    };
    let appended = job.run()?;
    keyring.write().accept_batch(appended);
    Ok(())
}

impl Store {
    /// Tables holding a customer's personal data that can be rewritten or deleted one
    /// record at a time: their values get record keys.
    pub(super) fn is_deletable(&self, table: &Table) -> bool {
        self.deletable_tables().iter().any(|t| t.idx == table.idx)
    }

    /// The trees whose customer values each have their own record key.
    pub(super) fn deletable_tables(&self) -> [&Table; 9] {
        let t = &self.t;
        [
            &t.customers,
            &t.subjects,
            &t.messages,
            &t.attachments,
            &t.consents,
            &t.raw_mail,
            &t.exports,
            &t.drafts,
            &t.message_parties,
        ]
    }

    /// An unused record key from the reservoir. When it runs low, a thread appends
    /// the next batch ahead of need (its fsync on no mail's path); only an empty
    /// reservoir makes the taker append one itself. Appends and rewrites of the
    /// keyring file are serialised by the key appends lock, taken before the keyring.
    pub(super) fn take_record_key(&self) -> Result<RecordKeyId> {
        loop {
            let (id, left, ramped) = {
                let mut ring = self.keyring.write();
                // A one-shot command takes a handful of keys: only a process that has
                // needed a few batches already refills ahead.
                let ramped = ring.next_batch() >= REFILL_BELOW;
                (ring.pop_reserved(), ring.reserved(), ramped)
            };
            if let Some(id) = id {
                if ramped && left < REFILL_BELOW {
                    self.refill_ahead();
                }
                return Ok(id);
            }
            let _appends = self.key_appends.lock();
            refill(&self.keyring, 1)?;
        }
    }

    /// Starts a refill on its own thread unless one is running.
    fn refill_ahead(&self) {
        let mut running = self.refiller.lock();
        if running.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        if let Some(done) = running.take() {
            let _ = done.join();
        }
        let keyring = self.keyring.clone();
        let appends = self.key_appends.clone();
        *running = Some(std::thread::spawn(move || {
            let _appends = appends.lock();
            if let Err(e) = refill(&keyring, REFILL_BELOW) {
                // The next taker that finds the reservoir empty tries again.
                tracing::warn!("cannot add record keys to the keyring ahead of need: {e}");
            }
        }));
    }

    /// Waits for a refill in progress (the store is closing).
    pub(super) fn join_refill(&self) {
        if let Some(running) = self.refiller.lock().take() {
            let _ = running.join();
        }
    }

    /// Destroys keys in one keyring rewrite, serialised with the appends.
    pub(super) fn destroy_keys(
        &self,
        customers: &[CustomerId],
        records: &[RecordKeyId],
    ) -> Result<usize> {
        let _appends = self.key_appends.lock();
        self.keyring.write().destroy_many(customers, records)
    }

    /// Destroys the record keys of every durable commit that shredded some.
    pub(super) fn shred_durable(&self) -> Result<()> {
        let durable = self.durable.load(std::sync::atomic::Ordering::Acquire);
        let due: Vec<RecordKeyId> = {
            let mut pending = self.pending_shreds.lock();
            if pending.is_empty() {
                return Ok(());
            }
            let mut due = Vec::new();
            pending.retain(|(commit, ids)| {
                let ready = *commit <= durable;
                if ready {
                    due.extend_from_slice(ids);
                }
                !ready
            });
            due
        };
        if due.is_empty() {
            return Ok(());
        }
        let destroyed = self.destroy_keys(&[], &due);
        if let Err(e) = destroyed {
            // The shred list holds them: the next commit or start tries again.
            self.pending_shreds.lock().push((0, due));
            return Err(e);
        }
        Ok(())
    }

    /// Whenever this keyring meets this data dir (every open): the data dir's erasure
    /// journal joins the keys dir's, and every key either journal or the shred list
    /// condemns is destroyed. A customer whose erasure unit has not finished (their
    /// record is still here) is left to the desk, which finishes the erasure. Returns
    /// how many keys were destroyed.
    pub(super) fn meet_journals(&self) -> Result<usize> {
        let mut journal = self.read_erasure_journal()?;
        let mut known: HashSet<CustomerId> = journal.iter().map(|r| r.customer).collect();
        for (_, record) in self.scan::<ErasureRecord>(&self.t.erasures, &[])? {
            let record = record?;
            if known.insert(record.customer) {
                self.append_erasure_journal(&record)?;
                journal.push(record);
            }
        }
        let mut customers = Vec::new();
        for record in &journal {
            let id = record.customer;
            if !self.t.customers.tree.contains_key(id.as_bytes())?
                && self.keyring.read().contains(&id)
            {
                customers.push(id);
            }
        }
        let records = self.shred_list_still_keyed()?;
        if customers.is_empty() && records.is_empty() {
            return Ok(0);
        }
        self.destroy_keys(&customers, &records)
    }

    /// Every record key id in the shred list.
    pub(super) fn shred_list(&self) -> Result<Vec<RecordKeyId>> {
        let mut out = Vec::new();
        for k in self.t.shredded.tree.iter().keys() {
            if let Ok(id) = <RecordKeyId>::try_from(k?.as_ref()) {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn shred_list_still_keyed(&self) -> Result<Vec<RecordKeyId>> {
        let ring = self.keyring.read();
        Ok(self
            .shred_list()?
            .into_iter()
            .filter(|id| ring.has_record_key(id))
            .collect())
    }

    /// The data dir's copy of the erasure journal.
    pub(super) fn erasures_in_data(&self) -> Result<Vec<ErasureRecord>> {
        self.scan::<ErasureRecord>(&self.t.erasures, &[])?
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    /// How many customer and record keys the keyring holds (for `keys status`).
    pub fn key_counts(&self) -> (usize, usize) {
        self.keyring.read().counts()
    }
}

impl Tx<'_> {
    /// The slot a value for `table`/`key` is sealed with. A customer's value in a
    /// deletable table gets a record key: the one already sealing the value there
    /// (a rewrite keeps it), or a fresh one from the reservoir. With `rotate`, it is
    /// always fresh and the old one is shredded.
    pub(super) fn record_slot(
        &mut self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        rotate: bool,
    ) -> Result<KeySlot> {
        let KeySlot::Customer(customer) = slot else {
            return Ok(slot);
        };
        if !self.store.is_deletable(table) {
            return Ok(slot);
        }
        if let Some(KeySlot::Record {
            customer: owner,
            key_id,
        }) = self.current_slot(table, key)?
        {
            if owner == customer {
                if !rotate {
                    return Ok(KeySlot::Record { customer, key_id });
                }
                self.shred(key_id)?;
            }
        }
        let key_id = self.store.take_record_key()?;
        Ok(KeySlot::Record { customer, key_id })
    }

    /// Which key seals the value at (table, key) now, counting this unit's writes.
    pub(super) fn current_slot(&self, table: &Table, key: &[u8]) -> Result<Option<KeySlot>> {
        let sealed = match self.staged(table, key) {
            Some(Some(v)) => Some(v.to_vec()),
            Some(None) => None,
            None => table.tree.get(key)?.map(|v| v.to_vec()),
        };
        sealed
            .map(|v| envelope::slot_of(table.name, &v))
            .transpose()
    }

    /// Condemns a record key: listed in the shred list with this unit, destroyed once
    /// the unit is durable.
    pub(super) fn shred(&mut self, key_id: RecordKeyId) -> Result<()> {
        if self.shreds.contains(&key_id) {
            return Ok(());
        }
        self.shreds.push(key_id);
        let store = self.store;
        self.put_sealed(
            &store.t.shredded,
            &key_id,
            KeySlot::Master,
            &Timestamp::now(),
        )
    }

    /// Condemns the record key sealing the value at (table, key), if it has one.
    fn shred_at(&mut self, table: &Table, key: &[u8]) -> Result<()> {
        if let Some(KeySlot::Record { key_id, .. }) = self.current_slot(table, key)? {
            self.shred(key_id)?;
        }
        Ok(())
    }

    /// Rewrites a value so that its old version becomes unreadable everywhere: sealed
    /// under a fresh record key, the old key shredded.
    pub(super) fn put_rotating<T: serde::Serialize + ?Sized>(
        &mut self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<()> {
        if !matches!(slot, KeySlot::Customer(_)) {
            // A placeholder sealed by the desk: the old value's key goes.
            self.shred_at(table, key)?;
            return self.put_sealed(table, key, slot, value);
        }
        let slot = self.record_slot(table, key, slot, true)?;
        self.put_sealed(table, key, slot, value)
    }

    /// Deletes a value and shreds its record key, so old copies go too.
    pub(super) fn remove_shredding(&mut self, table: &Table, key: &[u8]) -> Result<()> {
        self.shred_at(table, key)?;
        self.remove(table, key);
        Ok(())
    }

    /// Shreds every record key sealing a value of `customer` (erasure: their key goes
    /// too, this leaves no key of theirs in the keyring or a keys backup).
    pub(super) fn shred_records_of(&mut self, customer: &CustomerId) -> Result<usize> {
        let store = self.store;
        let mut ids = Vec::new();
        for table in store.deletable_tables() {
            for item in table.tree.iter() {
                let (_, v) = item?;
                if let Ok(KeySlot::Record {
                    customer: c,
                    key_id,
                }) = envelope::slot_of(table.name, &v)
                {
                    if c == *customer {
                        ids.push(key_id);
                    }
                }
            }
        }
        for id in &ids {
            self.shred(*id)?;
        }
        Ok(ids.len())
    }
}

/// What one redaction removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redaction {
    /// The customer whose message it is.
    pub customer: Option<CustomerId>,
    pub attachments: usize,
    pub original_mail: bool,
    /// Export archives held by the desk that held the old text, deleted.
    pub exports: usize,
}

impl Tx<'_> {
    /// Redacts one message (partial deletion): with `attachment`, only that attachment
    /// (name and bytes) goes; otherwise the text becomes `placeholder` and every
    /// attachment goes. Either way the original mail is deleted (it holds both) and
    /// every key that sealed what went is shredded, so the old text is unreadable in
    /// the data dir and in earlier backups; the message keeps its place, kind, author
    /// and time. `None` when the message holds nothing of a customer's (a note by the
    /// desk, a placeholder) or cannot be read (erased).
    pub fn redact_message(
        &mut self,
        ticket: sealdesk_model::TicketNo,
        seq: u32,
        attachment: Option<&str>,
        placeholder: &str,
    ) -> Result<Option<Redaction>> {
        let store = self.store;
        let t = &store.t;
        let key = super::records::message_key(ticket, seq);
        let owner = match self.current_slot(&t.messages, &key)? {
            Some(KeySlot::Customer(c)) | Some(KeySlot::Record { customer: c, .. }) => c,
            _ => return Ok(None),
        };
        let Ok(Some(mut message)) = store.get::<sealdesk_model::Message>(&t.messages, &key) else {
            return Ok(None);
        };
        let (gone, kept): (Vec<_>, Vec<_>) = message
            .attachments
            .drain(..)
            .partition(|a| attachment.is_none_or(|name| a.name == name));
        message.attachments = kept;
        if attachment.is_none() {
            message.text = placeholder.to_string();
        }
        for a in &gone {
            self.remove_shredding(&t.attachments, a.id.as_bytes())?;
        }
        let original_mail = self.current_slot(&t.raw_mail, &key)?.is_some();
        self.remove_shredding(&t.raw_mail, &key)?;
        self.put_rotating(&t.messages, &key, KeySlot::Customer(owner), &message)?;
        let exports = self.expire_archives_of(&owner)?;
        Ok(Some(Redaction {
            customer: Some(owner),
            attachments: gone.len(),
            original_mail,
            exports,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::new_store;
    use crate::testing::{open, scratch};
    use crate::{Store, StoreError};
    use sealdesk_model::{Customer, Ticket, Timestamp};

    fn subject_key_of(store: &Store, number: u64) -> super::RecordKeyId {
        let sealed = store
            .t
            .subjects
            .tree
            .get(number.to_be_bytes())
            .unwrap()
            .unwrap();
        match super::envelope::slot_of("ticket_subjects", &sealed).unwrap() {
            super::KeySlot::Record { key_id, .. } => key_id,
            other => panic!("not a record key: {other:?}"),
        }
    }

    /// A rewrite keeps the record key; a rotating rewrite takes a fresh one and the
    /// old one is destroyed once the unit is durable. A crash between the commit and
    /// the keyring rewrite (the keyring still holds the key), and an older keyring put
    /// back, are both caught at open by the shred list.
    #[test]
    fn rotation_shreds_the_old_key_after_commit_and_again_at_every_open() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let ann = Customer::new("ann@example.com", "Ann");
        let mut tx = store.begin();
        tx.insert_customer(&ann).unwrap();
        let mut ticket = Ticket::new(
            tx.next_ticket_number(),
            "First".into(),
            ann.id,
            Timestamp::now(),
        );
        tx.put_ticket(&ticket).unwrap();
        let (c, _) = store.commit(tx).unwrap();
        store.wait_durable(c).unwrap();
        let first = subject_key_of(&store, ticket.number.0);

        let keyring_before = std::fs::read(paths.key_paths().keyring()).unwrap();

        ticket.status = sealdesk_model::Status::Solved;
        let mut tx = store.begin();
        tx.put_ticket(&ticket).unwrap();
        let (c, _) = store.commit(tx).unwrap();
        store.wait_durable(c).unwrap();
        assert_eq!(subject_key_of(&store, ticket.number.0), first, "kept");

        let mut tx = store.begin();
        let key = ticket.number.0.to_be_bytes();
        tx.put_rotating(
            &store.t.subjects,
            &key,
            super::KeySlot::Customer(ann.id),
            "Second",
        )
        .unwrap();
        let (c, _) = store.commit(tx).unwrap();
        assert!(
            store.keyring.read().has_record_key(&first),
            "not before durable"
        );
        store.wait_durable(c).unwrap();
        assert!(!store.keyring.read().has_record_key(&first));
        assert_ne!(subject_key_of(&store, ticket.number.0), first);
        assert_eq!(
            store.ticket(ticket.number).unwrap().unwrap().subject,
            "Second"
        );
        assert_eq!(store.shred_list().unwrap(), vec![first]);
        drop(store);

        // An older keyring (a keys backup, or a crash before the rewrite) still holds
        // the key: opening the store destroys it.
        std::fs::write(paths.key_paths().keyring(), &keyring_before).unwrap();
        let store = open(&paths);
        assert!(!store.keyring.read().has_record_key(&first));
        assert!(store.has_customer_key(&ann.id));
        assert_eq!(store.customer(&ann.id).unwrap().unwrap().name, "Ann");
    }

    /// Retention's anonymisation shreds what it replaces: copies of the old subject,
    /// message, original and attachment made before (a backup) no longer open, while
    /// the same customer's other ticket does.
    #[test]
    fn anonymising_a_ticket_makes_earlier_copies_unreadable_and_spares_the_rest() {
        use sealdesk_model::{Attachment, AttachmentId, Author, Message};
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let ann = Customer::new("ann@example.com", "Ann");
        let mut tx = store.begin();
        tx.insert_customer(&ann).unwrap();
        let mut tickets = Vec::new();
        for subject in ["Old", "Other"] {
            let ticket = Ticket::new(
                tx.next_ticket_number(),
                subject.into(),
                ann.id,
                Timestamp::now(),
            );
            tx.put_ticket(&ticket).unwrap();
            let attachment = AttachmentId::random();
            tx.put_attachment(&ann.id, &attachment, b"bytes").unwrap();
            let mut m = Message::inbound(
                ticket.number,
                Author::Customer {
                    id: ann.id,
                    address: "ann@example.com".into(),
                    name: "Ann".into(),
                },
                format!("text of {subject}"),
                Timestamp::now(),
                None,
            )
            .with_attachments(vec![Attachment {
                id: attachment,
                name: "a.txt".into(),
                content_type: "text/plain".into(),
                size: 5,
            }]);
            let seq = tx.append_message(&ann.id, &mut m).unwrap();
            tx.put_raw_mail(&ann.id, ticket.number, seq, b"raw")
                .unwrap();
            tickets.push((ticket.number, attachment));
        }
        let (c, _) = store.commit(tx).unwrap();
        store.wait_durable(c).unwrap();

        let t = &store.t;
        let (old, old_attachment) = tickets[0];
        let mkey = crate::records::message_key(old, 1);
        let copies = [
            (&t.subjects, old.0.to_be_bytes().to_vec()),
            (&t.messages, mkey.to_vec()),
            (&t.raw_mail, mkey.to_vec()),
            (&t.attachments, old_attachment.as_bytes().to_vec()),
        ]
        .map(|(table, key)| {
            let sealed = table.tree.get(&key).unwrap().unwrap().to_vec();
            (table, key, sealed)
        });

        let mut tx = store.begin();
        assert_eq!(tx.anonymise_ticket(old).unwrap(), 1);
        let (c, _) = store.commit(tx).unwrap();
        store.wait_durable(c).unwrap();

        for (table, key, sealed) in &copies {
            let opened = store.decode::<serde::de::IgnoredAny>(table, key, sealed);
            assert!(
                matches!(opened, Err(StoreError::Erased)),
                "an old copy in {} still opens",
                table.name
            );
        }
        assert_eq!(
            store.ticket(old).unwrap().unwrap().subject,
            sealdesk_model::Personal::Erased
        );
        let (other, other_attachment) = tickets[1];
        assert_eq!(store.ticket(other).unwrap().unwrap().subject, "Other");
        assert_eq!(
            store.messages(other).unwrap()[0].as_ref().unwrap().text,
            "text of Other"
        );
        assert_eq!(
            store.attachment(&other_attachment).unwrap().unwrap(),
            b"bytes"
        );
        assert_eq!(store.customer(&ann.id).unwrap().unwrap().name, "Ann");
    }

    #[test]
    fn erasing_a_participant_takes_their_address_out_of_others_mail_and_old_copies_only() {
        use sealdesk_model::{Author, Draft, Message, Parties};
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let ann = Customer::new("ann@example.com", "Ann");
        let bob = Customer::new("bob@example.org", "Bob");
        let mut tx = store.begin();
        tx.insert_customer(&ann).unwrap();
        tx.insert_customer(&bob).unwrap();
        let mut ticket = Ticket::new(
            tx.next_ticket_number(),
            "Printer".into(),
            ann.id,
            Timestamp::now(),
        );
        ticket.participants = vec![bob.id];
        tx.put_ticket(&ticket).unwrap();
        let parties = Parties {
            to: vec!["Support <help@desk.example>".into()],
            cc: vec!["Bob <Bob@Example.org>".into(), "carol@example.net".into()],
            bcc: vec![],
        };
        let mut m = Message::inbound(
            ticket.number,
            Author::Customer {
                id: ann.id,
                address: "ann@example.com".into(),
                name: "Ann".into(),
            },
            "It burns.".into(),
            Timestamp::now(),
            None,
        )
        .addressed(parties.clone());
        let seq = tx.append_message(&ann.id, &mut m).unwrap();
        tx.put_raw_mail(&ann.id, ticket.number, seq, b"Cc: Bob <bob@example.org>")
            .unwrap();
        let mut draft = Draft::new(ticket.number, "alice", Timestamp::now());
        draft.body = "Hi both".into();
        draft.parties = parties;
        tx.put_draft(&ann.id, &draft).unwrap();
        let (c, _) = store.commit(tx).unwrap();
        store.wait_durable(c).unwrap();

        let t = &store.t;
        let mkey = crate::records::message_key(ticket.number, seq);
        let old_message = t.messages.tree.get(mkey).unwrap().unwrap().to_vec();
        let old_parties = t.message_parties.tree.get(mkey).unwrap().unwrap().to_vec();
        let old_raw = t.raw_mail.tree.get(mkey).unwrap().unwrap().to_vec();

        let record = store
            .journal_erasure(&bob.id, &["bob@example.org".into()])
            .unwrap();
        let mut tx = store.begin();
        tx.erase_customer(&record).unwrap();
        let (c, _) = store.commit(tx).unwrap();
        store.wait_durable(c).unwrap();
        store.destroy_customer_key(&bob.id).unwrap();

        let ticket = store.ticket(ticket.number).unwrap().unwrap();
        assert!(ticket.participants.is_empty());
        let m = store.messages(ticket.number).unwrap().remove(0).unwrap();
        assert_eq!(m.text, "It burns.", "Ann's own text stays");
        assert_eq!(m.parties.cc, vec!["carol@example.net".to_string()]);
        assert_eq!(
            m.parties.to,
            vec!["Support <help@desk.example>".to_string()]
        );
        assert!(t.raw_mail.tree.get(mkey).unwrap().is_none());
        // The old copy of Ann's message (what an earlier backup holds) still opens,
        // and names nobody: its recipients were sealed apart.
        let old: Message = store.decode(&t.messages, &mkey, &old_message).unwrap();
        assert_eq!(old.text, "It burns.");
        assert!(old.parties.is_empty());
        for (table, sealed) in [(&t.message_parties, &old_parties), (&t.raw_mail, &old_raw)] {
            let opened = store.decode::<serde::de::IgnoredAny>(table, &mkey, sealed);
            assert!(
                matches!(opened, Err(StoreError::Erased)),
                "an old copy in {} still opens",
                table.name
            );
        }
        let d = store.draft(ticket.number, "alice").unwrap().unwrap();
        assert_eq!(d.body, "Hi both");
        assert_eq!(d.parties.cc, vec!["carol@example.net".to_string()]);
    }

    /// The journal honours `privacy.suppress_after_erasure` when an erasure is
    /// re-applied, and a journal record written before the setting existed still
    /// reads (as suppressed, as it was then).
    #[test]
    fn the_erasure_journal_keeps_the_suppression_choice_and_reads_old_records() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let old = sealdesk_model::CustomerId([7; 16]);
        let old_key = store.email_key("old@example.com");
        let plain = bincode::serde::encode_to_vec(
            (old, vec![old_key], Timestamp::now()),
            bincode::config::standard(),
        )
        .unwrap();
        let sealed = store
            .master
            .seal_raw(b"sealdesk erasure journal v1", &plain);
        let mut bytes = (sealed.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&sealed);
        std::fs::write(paths.keys.join("erasures"), &bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            paths.keys.join("erasures"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();

        store.set_suppress_after_erasure(false);
        let recorded = store
            .journal_erasure(
                &sealdesk_model::CustomerId([8; 16]),
                &["new@example.com".into()],
            )
            .unwrap();
        assert!(!recorded.suppress);
        let journal = store.read_erasure_journal().unwrap();
        assert_eq!(journal.len(), 2);
        assert!(journal[0].suppress && journal[0].customer == old);
        assert!(!journal[1].suppress);

        store.reapply_erasures().unwrap();
        assert!(store.is_suppressed("old@example.com").unwrap());
        assert!(!store.is_suppressed("new@example.com").unwrap());
    }

    /// Record keys taken from four threads while refills run ahead of need: none is
    /// handed out twice, and every one is in the keyring file after a reopen.
    #[test]
    fn record_keys_taken_concurrently_are_unique_and_durable() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let taken: Vec<super::RecordKeyId> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..500)
                            .map(|_| store.take_record_key().unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut unique = taken.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 2000);
        drop(store);
        let store = open(&paths);
        let ring = store.keyring.read();
        assert!(taken.iter().all(|id| ring.has_record_key(id)));
    }
}
