//! Units of work at the store: a write set, sealed as it is built and applied all at
//! once, together with the unit's audit events, in one sled transaction over every tree,
//! so a crash leaves all of it or none of it. Durability comes after: concurrent units
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
use crate::model::{AuditEvent, EventHash};
use serde::Serialize;
use sled::Transactional;
use std::collections::BTreeMap;

/// The writes of one unit of work, not yet visible to anyone.
pub struct Tx<'s> {
    pub(super) store: &'s Store,
    /// (tree, key) → sealed value, or `None` for a removal.
    writes: BTreeMap<(usize, Vec<u8>), Option<Vec<u8>>>,
    audit: Vec<AuditEvent>,
    /// A ticket number was handed out: the counter is stored with this commit.
    took_ticket_number: bool,
    _op: OpGuard<'s>,
}

/// The position of a commit; durable once [`Store::wait_durable`] returned for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitNo(u64);

/// Group commit bookkeeping: the newest commit known to be on disk, and whether some
/// writer is flushing right now (the others wait for it instead of flushing too).
#[derive(Default)]
pub(super) struct Durability {
    durable: u64,
    flushing: bool,
}

impl Store {
    /// Starts a unit of work. It holds the operation gate (a backup sees whole units).
    pub fn begin(&self) -> Tx<'_> {
        Tx {
            store: self,
            writes: BTreeMap::new(),
            audit: Vec::new(),
            took_ticket_number: false,
            _op: self.op(),
        }
    }

    /// Applies a unit atomically and returns its position and its audit events as
    /// stored (numbered and chained). Not yet durable: see [`Store::wait_durable`].
    pub fn commit(&self, tx: Tx<'_>) -> Result<(CommitNo, Vec<AuditEvent>)> {
        let Tx {
            mut writes,
            audit,
            took_ticket_number,
            ..
        } = tx;
        let mut head = self.audit_head.lock();
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
            let applied: sled::transaction::TransactionResult<(), ()> = self.t.trees[..]
                .transaction(|trees| {
                    for ((tree, key), value) in &writes {
                        match value {
                            Some(v) => trees[*tree].insert(key.as_slice(), v.as_slice())?,
                            None => trees[*tree].remove(key.as_slice())?,
                        };
                    }
                    Ok(())
                });
            applied.map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::from(e),
                sled::transaction::TransactionError::Abort(()) => {
                    StoreError::Db("a unit of work was aborted".into())
                }
            })?;
        }
        *head = new_head;
        let commit = CommitNo(
            self.committed
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
                + 1,
        );
        Ok((commit, events))
    }

    /// How many units of work were committed since the store was opened: a row read
    /// after this returned reflects at least that many.
    pub fn commits(&self) -> u64 {
        self.committed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Returns once `commit` is on disk. One writer flushes for everyone who committed
    /// before its flush began; the others wait for that flush rather than start their
    /// own, so the cost of durability is shared as load grows.
    pub fn wait_durable(&self, commit: CommitNo) -> Result<()> {
        let mut state = self.durability.lock();
        loop {
            if state.durable >= commit.0 {
                return Ok(());
            }
            if state.flushing {
                self.durable_cv.wait(&mut state);
                continue;
            }
            state.flushing = true;
            let target = self.committed.load(std::sync::atomic::Ordering::Acquire);
            drop(state);
            let flushed = self.db.flush();
            state = self.durability.lock();
            state.flushing = false;
            if flushed.is_ok() {
                state.durable = state.durable.max(target);
            }
            self.durable_cv.notify_all();
            flushed?;
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
            KeySlot::Customer(id) => {
                let ring = self.keyring.read();
                let cipher = ring.key(&id).ok_or(StoreError::Erased)?;
                envelope::seal(slot, cipher, table.name, key, &plain)
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
        let sealed = self.store.seal_value(table, key, slot, value)?;
        self.writes.insert((table.idx, key.to_vec()), Some(sealed));
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
    pub fn next_ticket_number(&mut self) -> crate::model::TicketNo {
        let mut counter = self.store.ticket_counter.lock();
        *counter += 1;
        self.took_ticket_number = true;
        crate::model::TicketNo(*counter)
    }

    /// Whether the unit would write anything.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.audit.is_empty() && !self.took_ticket_number
    }

    /// The store, for reads.
    pub fn store(&self) -> &'s Store {
        self.store
    }
}
