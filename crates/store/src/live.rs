//! The open sled database behind a slot that can be emptied and filled again while the
//! desk runs: sled 0.34 keeps the first I/O error it meets (a full disk) and returns it
//! for every later write, for as long as that `Db` lives. Recovering means dropping every
//! handle on it and opening the same path again (see `health`), so no part of the store
//! keeps a `sled::Tree` of its own: each [`TreeRef`] looks its tree up in the slot.

use parking_lot::RwLock;
use sled::IVec;
use std::sync::Arc;

/// The database and its trees, in `Table::idx` order.
pub(super) struct Open {
    pub db: sled::Db,
    pub trees: Vec<sled::Tree>,
}

/// Empty only while the database is being reopened.
pub(super) type Slot = Arc<RwLock<Option<Open>>>;

/// One tree of the database currently open in the slot.
pub(super) struct TreeRef {
    idx: usize,
    slot: Slot,
}

fn closed() -> sled::Error {
    sled::Error::Io(std::io::Error::other(
        "the database is being reopened after a disk error",
    ))
}

impl TreeRef {
    pub(crate) fn new(idx: usize, slot: Slot) -> TreeRef {
        TreeRef { idx, slot }
    }

    /// The tree itself, for a sequence of calls on the same handle.
    pub(crate) fn tree(&self) -> sled::Result<sled::Tree> {
        self.slot
            .read()
            .as_ref()
            .map(|open| open.trees[self.idx].clone())
            .ok_or_else(closed)
    }

    pub(crate) fn get<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.tree()?.get(key)
    }

    pub(crate) fn contains_key<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<bool> {
        self.tree()?.contains_key(key)
    }

    pub(crate) fn insert<K: AsRef<[u8]>, V: Into<IVec>>(
        &self,
        key: K,
        value: V,
    ) -> sled::Result<Option<IVec>> {
        self.tree()?.insert(key, value)
    }

    pub(crate) fn remove<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.tree()?.remove(key)
    }

    pub(crate) fn last(&self) -> sled::Result<Option<(IVec, IVec)>> {
        self.tree()?.last()
    }

    /// 0 while the database is being reopened.
    pub(crate) fn len(&self) -> usize {
        self.tree().map_or(0, |t| t.len())
    }

    pub(crate) fn iter(&self) -> TreeIter {
        TreeIter::from(self.tree().map(|t| t.iter()))
    }

    pub(crate) fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> TreeIter {
        TreeIter::from(self.tree().map(|t| t.scan_prefix(prefix)))
    }
}

/// A sled iterator, or the one error saying there is no database to iterate.
pub(super) enum TreeIter {
    Open(Box<sled::Iter>),
    Closed(Option<sled::Error>),
}

impl From<sled::Result<sled::Iter>> for TreeIter {
    fn from(iter: sled::Result<sled::Iter>) -> Self {
        match iter {
            Ok(iter) => TreeIter::Open(Box::new(iter)),
            Err(e) => TreeIter::Closed(Some(e)),
        }
    }
}

impl TreeIter {
    pub(crate) fn keys(self) -> impl DoubleEndedIterator<Item = sled::Result<IVec>> {
        self.map(|r| r.map(|(k, _)| k))
    }
}

impl Iterator for TreeIter {
    type Item = sled::Result<(IVec, IVec)>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            TreeIter::Open(iter) => iter.next(),
            TreeIter::Closed(e) => e.take().map(Err),
        }
    }
}

impl DoubleEndedIterator for TreeIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            TreeIter::Open(iter) => iter.next_back(),
            TreeIter::Closed(e) => e.take().map(Err),
        }
    }
}
