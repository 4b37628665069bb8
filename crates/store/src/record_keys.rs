//! The keyring's record keys in memory: one per deletable record, so the biggest
//! table the server keeps for every stored message.
//!
//! A `HashMap` of them held twice their size: 16-byte ids and 72-byte wrapped keys in
//! a table of power-of-two buckets, rehashed into one twice as big as it fills (11.1
//! MiB for the 62,700 keys of a 10,000-ticket desk; BENCHMARKS.md, Part 10, third
//! pass). Here the keys read at start sit in one exactly sized vector sorted by id and
//! found by binary search; keys made since then wait in a small map, merged into the
//! vector (a linear merge in place) once they are an eighth of it.

use super::envelope::RecordKeyId;
use super::keyring::WrappedKey;
use std::collections::HashMap;

/// Fresh keys merged into the sorted vector at the latest at this many, or an eighth of
/// the vector if that is more.
const MIN_MERGE: usize = 1024;

#[derive(Clone, Default)]
pub(crate) struct RecordKeys {
    /// Sorted by id, each id once.
    sorted: Vec<(RecordKeyId, WrappedKey)>,
    /// Added since the last merge; no id of `sorted` is here.
    fresh: HashMap<RecordKeyId, WrappedKey>,
}

impl RecordKeys {
    /// From keys in any order; of a repeated id, the last one counts (as in the file,
    /// where a later record wins).
    pub(crate) fn from_unsorted(mut keys: Vec<(RecordKeyId, WrappedKey)>) -> RecordKeys {
        keys.sort_by_key(|(id, _)| *id);
        // `dedup_by` hands the later of two equal ids first: it replaces the kept one.
        keys.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        keys.shrink_to_fit();
        RecordKeys {
            sorted: keys,
            fresh: HashMap::new(),
        }
    }

    pub(crate) fn get(&self, id: &RecordKeyId) -> Option<&WrappedKey> {
        match self.sorted.binary_search_by(|(k, _)| k.cmp(id)) {
            Ok(at) => Some(&self.sorted[at].1),
            Err(_) => self.fresh.get(id),
        }
    }

    pub(crate) fn contains_key(&self, id: &RecordKeyId) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len() + self.fresh.len()
    }

    pub(crate) fn insert(&mut self, id: RecordKeyId, wrapped: WrappedKey) {
        match self.sorted.binary_search_by(|(k, _)| k.cmp(&id)) {
            Ok(at) => self.sorted[at].1 = wrapped,
            Err(_) => {
                self.fresh.insert(id, wrapped);
                if self.fresh.len() >= MIN_MERGE.max(self.sorted.len() / 8) {
                    self.merge();
                }
            }
        }
    }

    /// Keeps the keys `keep` says yes to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&RecordKeyId) -> bool) {
        self.sorted.retain(|(id, _)| keep(id));
        self.fresh.retain(|id, _| keep(id));
        self.sorted.shrink_to_fit();
    }

    /// Every key, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&RecordKeyId, &WrappedKey)> {
        self.sorted
            .iter()
            .map(|(id, w)| (id, w))
            .chain(self.fresh.iter())
    }

    /// Moves the fresh keys into the sorted vector: merged from the back, in place,
    /// after one exact reservation.
    fn merge(&mut self) {
        let mut fresh: Vec<(RecordKeyId, WrappedKey)> = self.fresh.drain().collect();
        self.fresh.shrink_to_fit();
        fresh.sort_unstable_by_key(|(id, _)| *id);
        let old = self.sorted.len();
        self.sorted.reserve_exact(fresh.len());
        // Placeholders: filled from the end down, largest id first, until every fresh key
        // is placed; the old keys below that point are already where they belong.
        self.sorted.extend_from_slice(&fresh);
        let (mut i, mut j) = (old, fresh.len());
        for k in (0..self.sorted.len()).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.sorted[i - 1].0 > fresh[j - 1].0 {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = fresh[j - 1];
                j -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> RecordKeyId {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
        id[4..8].copy_from_slice(&n.to_be_bytes());
        id
    }

    fn key(n: u32) -> WrappedKey {
        let mut k = [0u8; 72];
        k[..4].copy_from_slice(&n.to_le_bytes());
        k
    }

    #[test]
    fn keys_are_found_before_and_after_merges_and_a_later_one_wins() {
        let mut keys = RecordKeys::from_unsorted(vec![(id(1), key(1)), (id(1), key(9))]);
        assert_eq!(keys.get(&id(1)), Some(&key(9)));
        let mut model = HashMap::new();
        model.insert(id(1), key(9));
        // Enough to merge several times.
        for n in 2..5000 {
            keys.insert(id(n), key(n));
            model.insert(id(n), key(n));
            if n % 7 == 0 {
                keys.insert(id(n / 2), key(n));
                model.insert(id(n / 2), key(n));
            }
        }
        assert_eq!(keys.len(), model.len());
        for (k, v) in &model {
            assert_eq!(keys.get(k), Some(v));
        }
        assert!(!keys.contains_key(&id(6000)));
        assert!(keys.sorted.windows(2).all(|w| w[0].0 < w[1].0));
        keys.retain(|k| k[7] % 2 == 0);
        assert_eq!(keys.len(), model.keys().filter(|k| k[7] % 2 == 0).count());
        assert!(keys
            .iter()
            .all(|(k, v)| model.get(k) == Some(v) && k[7] % 2 == 0));
    }
}
