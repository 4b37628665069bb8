//! Units of work at the store: a write set, sealed as it is built and applied all at
//! once together with the unit's audit events, so that a crash leaves all of it or none
//! of it (see [`Store::apply`]). Durability comes after: concurrent units
//! share one flush (group commit), and a unit is acknowledged only once a flush that
//! started after its commit has finished.
//!
//! Commits are serialised by the audit head: events are numbered and chained at
//! commit time, in the order the units reach the log. Sealing and encoding happen while
//! the write set is built, outside that lock; inside it there is only chaining the
//! events and applying the prepared bytes.

use super::backup::OpGuard;
use super::envelope::{self, KeySlot};
use super::{Result, Store, StoreError, Table, META_AUDIT_HEAD, META_NEXT_TICKET};
use sealdesk_model::{AuditEvent, EventHash};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the last unit's write set is kept (see [`Store::apply`]).
pub(super) const LAST_UNIT: &[u8] = b"last";

/// (tree, key) → sealed value, or `None` for a removal.
type WriteSet = BTreeMap<(usize, Vec<u8>), Option<Vec<u8>>>;

/// One write of a unit's stored write set: (tree, key, value or `None` to remove).
pub(super) type RecordedWrite<K> = (u8, K, Option<K>);

fn undecodable() -> StoreError {
    StoreError::Corrupt("tree units: the last unit's write set is undecodable".into())
}

/// The writes of one unit of work, not yet visible to anyone.
pub struct Tx<'s> {
    pub(super) store: &'s Store,
    writes: WriteSet,
    /// Large new values under fresh keys (attachments, original mails): stored before
    /// the write set and left out of it (see [`Tx::put_blob`]).
    blobs: Vec<(usize, Vec<u8>, Vec<u8>)>,
    audit: Vec<AuditEvent>,
    /// A ticket number was handed out: the counter is stored with this commit.
    took_ticket_number: bool,
    /// Record keys this unit condemned: destroyed once it is durable (see `shred`).
    pub(super) shreds: Vec<super::envelope::RecordKeyId>,
    _op: OpGuard<'s>,
}

/// How far a unit's writes got when one failed.
enum Applied {
    /// Not even its write set was stored: as if it never happened.
    Nothing(StoreError),
    /// Its write set was stored, some writes were not: to be finished from the set.
    Part(StoreError),
}

/// The position of a commit; durable once [`Store::wait_durable`] returned for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitNo(u64);

impl Store {
    /// Starts a unit of work. It holds the operation gate (a backup sees whole units).
    pub fn begin(&self) -> Tx<'_> {
        Tx {
            store: self,
            writes: BTreeMap::new(),
            blobs: Vec::new(),
            audit: Vec::new(),
            took_ticket_number: false,
            shreds: Vec::new(),
            _op: self.op(),
        }
    }

    /// Applies a unit atomically and returns its position and its audit events as
    /// stored (numbered and chained). Not yet durable: see [`Store::wait_durable`].
    pub fn commit(&self, tx: Tx<'_>) -> Result<(CommitNo, Vec<AuditEvent>)> {
        self.commit_applying(tx, usize::MAX)
    }

    /// [`Store::commit`], applying only the first `limit` writes after the write set
    /// (tests stand for a crash part way with a limit).
    pub(super) fn commit_applying(
        &self,
        tx: Tx<'_>,
        limit: usize,
    ) -> Result<(CommitNo, Vec<AuditEvent>)> {
        let Tx {
            mut writes,
            blobs,
            audit,
            took_ticket_number,
            shreds,
            ..
        } = tx;
        // While the disk fails us, nothing is tried: a write would only add to what
        // sled holds in memory and will never write out.
        self.check_writable()?;
        // Blobs first, outside the commit lock: under fresh keys, nothing points to
        // them until the unit's own writes do.
        for (tree, key, value) in &blobs {
            self.t.trees[*tree]
                .insert(key.as_slice(), value.as_slice())
                .map_err(|e| self.failed(e.into()))?;
        }
        let mut head = self.audit_head.lock();
        // A reopen may have run since the check above.
        self.check_writable()?;
        if self.half_applied.load(std::sync::atomic::Ordering::Acquire) {
            // An earlier unit stopped part way (a write failed: disk full?): finish
            // it from its write set before anything builds on it.
            self.replay_last_unit().map_err(|e| match self.failed(e) {
                e @ StoreError::Unavailable { .. } => e,
                e => StoreError::Db(format!(
                    "an earlier change could not be completed ({e}); restart the server"
                )),
            })?;
            self.half_applied
                .store(false, std::sync::atomic::Ordering::Release);
        }
        let commit_no = self.committed.load(std::sync::atomic::Ordering::Acquire) + 1;
        let mut new_head = *head;
        let mut events = Vec::with_capacity(audit.len());
        for mut event in audit {
            event.seq = new_head.0 + 1;
            event.prev_hash = new_head.1;
            new_head = (event.seq, event.hash());
            let key = event.seq.to_be_bytes();
            let sealed = self.seal_value(&self.t.audit, &key, KeySlot::Master, &event)?;
            writes.insert((self.t.audit.idx, key.to_vec()), Some(sealed));
            events.push(event);
        }
        if new_head != *head {
            let sealed =
                self.seal_value(&self.t.meta, META_AUDIT_HEAD, KeySlot::Master, &new_head)?;
            writes.insert((self.t.meta.idx, META_AUDIT_HEAD.to_vec()), Some(sealed));
        }
        if took_ticket_number {
            // The highest number handed out so far, not this unit's: units commit in
            // another order than they took numbers, and the stored counter must never
            // go back.
            let counter = *self.ticket_counter.lock();
            let sealed =
                self.seal_value(&self.t.meta, META_NEXT_TICKET, KeySlot::Master, &counter)?;
            writes.insert((self.t.meta.idx, META_NEXT_TICKET.to_vec()), Some(sealed));
        }
        if !writes.is_empty() {
            match self.apply(&writes, limit) {
                Ok(()) => {}
                Err(Applied::Nothing(e)) => return Err(self.failed(e)),
                Err(Applied::Part(e)) => {
                    let e = self.failed(e);
                    // The write set is stored: the unit counts as committed (its
                    // numbers are taken) and is finished by the next commit or open.
                    // Its caller is told it failed, so nothing is acknowledged.
                    // The flag is set first: whoever sees this commit counted sees
                    // the flag too, and does not drop the write set still needed.
                    self.half_applied
                        .store(true, std::sync::atomic::Ordering::Release);
                    *head = new_head;
                    self.committed
                        .store(commit_no, std::sync::atomic::Ordering::Release);
                    // Its shreds wait for the next open (the shred list has them):
                    // the unit is not whole until the next commit or open finishes it.
                    return Err(e);
                }
            }
        }
        *head = new_head;
        self.committed
            .store(commit_no, std::sync::atomic::Ordering::Release);
        if !shreds.is_empty() {
            self.pending_shreds.lock().push((commit_no, shreds));
        }
        Ok((CommitNo(commit_no), events))
    }

    /// How many units of work were committed since the store was opened: a row read
    /// after this returned reflects at least that many.
    pub fn commits(&self) -> u64 {
        self.committed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The newest commit so far: waiting for it covers everything committed before.
    pub fn latest_commit(&self) -> CommitNo {
        CommitNo(self.commits())
    }

    /// Returns once `commit` is on disk. This is group commit: sled's flush waits until
    /// everything reserved in its log so far is stable, and concurrent callers share
    /// that work (the first seals and writes the log buffer, the others wait for the
    /// stable point to pass theirs), so eight writers flushing at once cost about one
    /// flush. A commit that an earlier flush already covered does not flush at all.
    /// (A leader/follower scheme on top, with a condition variable, measured slower:
    /// followers that just missed a flush waited for it and then for another.)
    pub fn wait_durable(&self, commit: CommitNo) -> Result<()> {
        // Before the durable mark: a reopen moves it past commits it cannot vouch for.
        self.check_not_lost(commit.0)?;
        if self.durable.load(std::sync::atomic::Ordering::Acquire) >= commit.0 {
            return self.shred_durable();
        }
        // What was committed in memory since the disk failed is not on it.
        self.check_writable()?;
        let target = self.committed.load(std::sync::atomic::Ordering::Acquire);
        self.flush()?;
        self.durable
            .fetch_max(target, std::sync::atomic::Ordering::AcqRel);
        self.shred_durable()
    }

    /// Applies one unit's writes: first its whole write set as one record (a single
    /// sled write, so it is there entirely or not at all), then each write. sled
    /// recovers a prefix of its log (its log reader stops at the first message that is
    /// not whole), and commits are serialised, so after a crash at most one unit is
    /// part-written: the last whose record survived. One record, overwritten by each
    /// unit, is therefore enough, and [`Store::repair_units`] completes that unit from
    /// it (re-applying a unit that was whole changes nothing).
    ///
    /// (A sled transaction would give the same guarantee, but it takes a global write
    /// lock that every read then waits for, and forces the log buffer out at each
    /// commit: it halved ingest throughput.)
    fn apply(&self, writes: &WriteSet, limit: usize) -> std::result::Result<(), Applied> {
        let record: Vec<RecordedWrite<&[u8]>> = writes
            .iter()
            .map(|((tree, key), value)| (*tree as u8, key.as_slice(), value.as_deref()))
            .collect();
        let encoded =
            bincode::serde::encode_to_vec(&record, bincode::config::standard()).map_err(|e| {
                Applied::Nothing(StoreError::Db(format!("cannot encode a unit of work: {e}")))
            })?;
        self.t
            .units
            .tree
            .insert(LAST_UNIT, encoded)
            .map_err(|e| Applied::Nothing(e.into()))?;
        for ((tree, key), value) in writes.iter().take(limit) {
            let tree = &self.t.trees[*tree];
            match value {
                Some(v) => tree.insert(key.as_slice(), v.as_slice()),
                None => tree.remove(key.as_slice()),
            }
            .map_err(|e| Applied::Part(e.into()))?;
        }
        if limit < writes.len() {
            return Err(Applied::Part(StoreError::Db(
                "cut short on purpose (a test)".into(),
            )));
        }
        Ok(())
    }

    /// Completes the unit a crash cut short, from its write set, and drops the set.
    /// Runs when the store opens; returns whether there was one (after a clean close
    /// there is none).
    pub(super) fn repair_units(&self) -> Result<usize> {
        let repaired = self.replay_last_unit()?;
        if repaired > 0 {
            self.t.units.tree.remove(LAST_UNIT)?;
            self.db()?.flush()?;
        }
        Ok(repaired)
    }

    /// The last unit's write set as stored (tree index, key, value or removal), if any.
    pub(super) fn last_unit_writes(&self) -> Result<Option<Vec<RecordedWrite<Vec<u8>>>>> {
        let Some(record) = self.t.units.tree.get(LAST_UNIT)? else {
            return Ok(None);
        };
        let (writes, _): (Vec<RecordedWrite<Vec<u8>>>, usize) =
            bincode::serde::decode_from_slice(&record, bincode::config::standard())
                .map_err(|_| undecodable())?;
        Ok(Some(writes))
    }

    /// Re-applies the last unit's write set, if there is one.
    pub(super) fn replay_last_unit(&self) -> Result<usize> {
        let Some(writes) = self.last_unit_writes()? else {
            return Ok(0);
        };
        for (tree, k, v) in writes {
            let tree = self.t.trees.get(tree as usize).ok_or_else(undecodable)?;
            match v {
                Some(v) => tree.insert(k, v)?,
                None => tree.remove(k)?,
            };
        }
        Ok(1)
    }

    /// On a clean close: the last unit is whole, its write set is not needed.
    pub(super) fn close_units(&self) {
        if !self.half_applied.load(std::sync::atomic::Ordering::Acquire) {
            let _ = self.t.units.tree.remove(LAST_UNIT);
        }
        if let Ok(db) = self.db() {
            let _ = db.flush();
        }
    }

    /// Encodes and seals one value for `table` under `key`.
    pub(super) fn seal_value<T: Serialize + ?Sized>(
        &self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<Vec<u8>> {
        let plain = zeroize::Zeroizing::new(
            bincode::serde::encode_to_vec(value, bincode::config::standard())
                .map_err(|e| StoreError::Db(format!("cannot encode a record: {e}")))?,
        );
        Ok(match slot {
            KeySlot::Master => envelope::seal(slot, &self.master, table.name, key, &plain),
            slot => {
                let cipher = self.keyring.read().cipher(slot).ok_or(StoreError::Erased)?;
                envelope::seal(slot, &cipher, table.name, key, &plain)
            }
        })
    }
}

impl<'s> Tx<'s> {
    /// Stages a sealed value.
    pub(super) fn put<T: Serialize + ?Sized>(
        &mut self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<()> {
        let slot = self.record_slot(table, key, slot, false)?;
        self.put_sealed(table, key, slot, value)
    }

    /// Stages a value sealed exactly with `slot`.
    pub(super) fn put_sealed<T: Serialize + ?Sized>(
        &mut self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<()> {
        let sealed = self.store.seal_value(table, key, slot, value)?;
        self.writes.insert((table.idx, key.to_vec()), Some(sealed));
        Ok(())
    }

    /// The sealed value this unit last staged at (table, key): `Some(None)` for a
    /// staged removal, `None` if it staged nothing there.
    pub(super) fn staged(&self, table: &Table, key: &[u8]) -> Option<Option<&[u8]>> {
        if let Some(v) = self.writes.get(&(table.idx, key.to_vec())) {
            return Some(v.as_deref());
        }
        self.blobs
            .iter()
            .rev()
            .find(|(t, k, _)| *t == table.idx && k == key)
            .map(|(_, _, v)| Some(v.as_slice()))
    }

    /// Stages a large value under a key no stored record refers to yet (a new
    /// attachment id, the original mail of a new message). It is written before the
    /// unit's write set and kept out of it, so big mail is not written twice. If the
    /// unit then never completes, the blob stays behind unreferenced: sealed with its
    /// owner's key (so erasing them still reaches it), shown nowhere, and an original
    /// mail left at a message's place is cleared when a message takes that place.
    pub(super) fn put_blob<T: Serialize + ?Sized>(
        &mut self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<()> {
        let slot = self.record_slot(table, key, slot, false)?;
        self.put_blob_sealed(table, key, slot, value)
    }

    /// [`Tx::put_blob`] sealed exactly with `slot`.
    pub(super) fn put_blob_sealed<T: Serialize + ?Sized>(
        &mut self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<()> {
        let sealed = self.store.seal_value(table, key, slot, value)?;
        // A removal staged for this key (a stale original) would undo the blob.
        self.writes.remove(&(table.idx, key.to_vec()));
        self.blobs.push((table.idx, key.to_vec(), sealed));
        Ok(())
    }

    /// Stages a removal.
    pub(super) fn remove(&mut self, table: &Table, key: &[u8]) {
        self.writes.insert((table.idx, key.to_vec()), None);
    }

    /// Whether `key` exists, counting this unit's own writes.
    pub(super) fn contains(&self, table: &Table, key: &[u8]) -> Result<bool> {
        match self.writes.get(&(table.idx, key.to_vec())) {
            Some(v) => Ok(v.is_some()),
            None => Ok(table.tree.contains_key(key)?),
        }
    }

    /// The highest key under `prefix`, counting this unit's own writes: where the next
    /// record of a sequence goes.
    pub(super) fn last_key_under(&self, table: &Table, prefix: &[u8]) -> Result<Option<Vec<u8>>> {
        let stored = super::records::last_key_under(&table.tree, prefix)?.map(|k| k.to_vec());
        let staged = self
            .writes
            .range((table.idx, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == table.idx && k.starts_with(prefix))
            .filter(|(_, v)| v.is_some())
            .map(|((_, k), _)| k.clone())
            .last();
        Ok(stored.max(staged))
    }

    /// Adds an event to the audit log with this unit; numbered and chained at commit.
    pub fn audit(&mut self, event: AuditEvent) {
        self.audit.push(AuditEvent {
            seq: 0,
            prev_hash: EventHash::GENESIS,
            ..event
        });
    }

    /// Hands out the next ticket number (#1, #2, …). A unit that is dropped leaves a
    /// gap; numbers are never handed out twice.
    pub fn next_ticket_number(&mut self) -> sealdesk_model::TicketNo {
        let mut counter = self.store.ticket_counter.lock();
        *counter += 1;
        self.took_ticket_number = true;
        sealdesk_model::TicketNo(*counter)
    }

    /// Whether the unit would write anything.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
            && self.blobs.is_empty()
            && self.audit.is_empty()
            && !self.took_ticket_number
    }

    /// The store, for reads.
    pub fn store(&self) -> &'s Store {
        self.store
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::new_store;
    use crate::testing::{open, scratch};
    use sealdesk_model::{AuditEvent, Customer, EventHash, Ticket, Timestamp};

    /// A crash after a unit's write set and one of its writes reached the log: the next
    /// open completes the unit, audit event included.
    #[test]
    fn a_unit_cut_short_is_completed_when_the_store_opens() {
        let (_dir, paths) = scratch();
        let (number, customer) = {
            let store = new_store(&paths);
            let customer = Customer::new("ann@example.com", "Ann");
            let mut tx = store.begin();
            tx.insert_customer(&customer).unwrap();
            let ticket = stage_ticket(&mut tx, &customer, "Cut short");
            tx.audit(AuditEvent {
                seq: 0,
                at: Timestamp::now(),
                actor: "test".into(),
                key_fingerprint: None,
                source: "test".into(),
                action: "ticket.create".into(),
                targets: vec![ticket.number.to_string()],
                customer: None,
                prev_hash: EventHash::GENESIS,
            });
            assert!(store.commit_applying(tx, 1).is_err());
            store.flush().unwrap();
            assert!(
                store.ticket(ticket.number).unwrap().is_none()
                    || store.customer(&customer.id).unwrap().is_none(),
                "only part of the unit is in the trees before the repair"
            );
            (ticket.number, customer)
        };
        let store = open(&paths);
        let ticket = store
            .ticket(number)
            .unwrap()
            .expect("the ticket was completed");
        assert_eq!(ticket.subject, "Cut short");
        assert_eq!(store.customer(&customer.id).unwrap().unwrap(), customer);
        assert_eq!(store.customer_tickets(&customer.id).unwrap(), vec![number]);
        let mut events = Vec::new();
        store
            .for_each_audit(|e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(store.audit_head().unwrap(), (1, events[0].hash()));
        assert_eq!(
            store.t.units.tree.len(),
            0,
            "the write set is gone once applied"
        );
        drop(store);
        // Opening again changes nothing more.
        let store = open(&paths);
        assert_eq!(store.ticket(number).unwrap().unwrap().subject, "Cut short");
    }

    /// A write that failed part way (disk full) is finished by the next commit, before
    /// that commit's own writes, without a restart.
    #[test]
    fn a_unit_cut_short_while_serving_is_finished_by_the_next_commit() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let customer = Customer::new("ann@example.com", "Ann");
        let mut tx = store.begin();
        tx.insert_customer(&customer).unwrap();
        let ticket = stage_ticket(&mut tx, &customer, "Half");
        assert!(
            store.commit_applying(tx, 2).is_err(),
            "the caller hears it failed"
        );
        let mut tx = store.begin();
        let second = stage_ticket(&mut tx, &customer, "Next");
        let (commit, _) = store.commit(tx).unwrap();
        store.wait_durable(commit).unwrap();
        assert_eq!(
            store.ticket(ticket.number).unwrap().unwrap().subject,
            "Half"
        );
        assert_eq!(store.customer(&customer.id).unwrap().unwrap(), customer);
        assert_eq!(
            store.ticket(second.number).unwrap().unwrap().subject,
            "Next"
        );
        assert_eq!(
            store.customer_tickets(&customer.id).unwrap(),
            vec![ticket.number, second.number]
        );
    }

    /// While a unit is half-applied (its head written, its events not), the audit log
    /// still reads as one whole chain: the write set fills the gap. Without the overlay
    /// the head is ahead of the events, as `audit verify` once reported on a full disk.
    #[test]
    fn a_half_applied_unit_leaves_the_audit_chain_whole_to_readers() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let event = |action: &str| AuditEvent {
            seq: 0,
            at: Timestamp::now(),
            actor: "test".into(),
            key_fingerprint: None,
            source: "test".into(),
            action: action.into(),
            targets: vec![],
            customer: None,
            prev_hash: EventHash::GENESIS,
        };
        let mut tx = store.begin();
        tx.audit(event("first"));
        store.commit(tx).unwrap();
        let mut tx = store.begin();
        tx.audit(event("second"));
        tx.audit(event("third"));
        // The meta tree (the head) sorts before the audit tree: one write is the head.
        assert!(store.commit_applying(tx, 1).is_err());
        let stored: Vec<String> = {
            let mut v = Vec::new();
            store
                .for_each_audit(|e| {
                    v.push(e.action);
                    Ok(())
                })
                .unwrap();
            v
        };
        assert_eq!(stored, ["first"], "the events are not in their tree yet");
        let mut chain = sealdesk_model::ChainVerifier::new();
        let head = store
            .audit_snapshot(|e| {
                chain.push(&e).unwrap();
                Ok(())
            })
            .unwrap();
        assert_eq!(head.0, 3);
        assert_eq!(chain.finish(head).unwrap(), 3);
    }

    /// One write set is kept, the last unit's, and a clean close drops it.
    #[test]
    fn only_the_last_units_write_set_is_kept_and_a_clean_close_drops_it() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        for i in 0..5 {
            let mut tx = store.begin();
            tx.insert_customer(&Customer::new(&format!("c{i}@example.com"), ""))
                .unwrap();
            let (commit, _) = store.commit(tx).unwrap();
            store.wait_durable(commit).unwrap();
        }
        assert_eq!(store.customer_ids().unwrap().len(), 5);
        assert_eq!(store.t.units.tree.len(), 1);
        drop(store);
        let store = open(&paths);
        assert_eq!(store.t.units.tree.len(), 0);
        assert_eq!(store.customer_ids().unwrap().len(), 5);
    }

    fn stage_ticket(tx: &mut super::Tx<'_>, customer: &Customer, subject: &str) -> Ticket {
        let ticket = Ticket::new(
            tx.next_ticket_number(),
            subject.into(),
            customer.id,
            Timestamp::now(),
        );
        tx.put_ticket(&ticket).unwrap();
        ticket
    }
}
