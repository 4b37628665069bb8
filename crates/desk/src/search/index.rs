//! The inverted index over message bodies: a term dictionary sorted for prefix ranges,
//! each term's documents as a list of delta-encoded varints, and per document its
//! ticket, sequence number and customer. Documents are never changed in place: a
//! ticket's new contents get new ids, the old ones are tombstoned at once (so a search
//! never sees them again) and dropped from the posting lists by a compaction later.

use sealdesk_api::TicketSet;
use sealdesk_model::{CustomerId, TicketNo};
use std::collections::{BTreeMap, HashMap};

/// One message as the index takes it: its number in the thread and its distinct terms.
pub(crate) struct DocInput {
    pub(crate) seq: u32,
    pub(crate) terms: Vec<String>,
}

impl DocInput {
    /// The message text and attachment names of message `seq`, as terms.
    pub(crate) fn new<'t>(seq: u32, texts: impl IntoIterator<Item = &'t str>) -> DocInput {
        let mut terms = Vec::new();
        for text in texts {
            super::tokenize::terms(text, |t| terms.push(t.to_string()));
        }
        terms.sort_unstable();
        terms.dedup();
        DocInput { seq, terms }
    }
}

#[derive(Clone, Copy)]
struct Doc {
    ticket: TicketNo,
    seq: u32,
    customer: CustomerId,
    live: bool,
}

/// The documents of one term, ascending: the first, then the others as varint gaps
/// (most terms, such as order numbers, are in one message: no allocation for those).
#[derive(Default)]
struct Postings {
    first: u32,
    gaps: Vec<u8>,
    last: u32,
    len: u32,
}

impl Postings {
    fn push(&mut self, doc: u32) {
        if self.len == 0 {
            self.first = doc;
            self.last = doc;
            self.len = 1;
            return;
        }
        let mut gap = doc - self.last;
        loop {
            let byte = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                self.gaps.push(byte);
                break;
            }
            self.gaps.push(byte | 0x80);
        }
        self.last = doc;
        self.len += 1;
    }

    fn for_each(&self, mut each: impl FnMut(u32)) {
        if self.len == 0 {
            return;
        }
        each(self.first);
        let (mut doc, mut gap, mut shift) = (self.first, 0u32, 0);
        for &b in &self.gaps {
            gap |= u32::from(b & 0x7f) << shift;
            if b & 0x80 != 0 {
                shift += 7;
                continue;
            }
            doc += gap;
            each(doc);
            gap = 0;
            shift = 0;
        }
    }
}

/// A set of document ids.
struct DocSet(Vec<u64>);

impl DocSet {
    fn empty(docs: usize) -> DocSet {
        DocSet(vec![0; docs.div_ceil(64)])
    }
    fn insert(&mut self, doc: u32) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }
    fn intersect(&mut self, other: &DocSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }
    fn for_each(&self, mut each: impl FnMut(u32)) {
        for (i, &word) in self.0.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                let bit = w.trailing_zeros();
                each(i as u32 * 64 + bit);
                w &= w - 1;
            }
        }
    }
}

struct TicketDocs {
    /// The store's commit count read before these documents were.
    version: u64,
    docs: Vec<u32>,
}

#[derive(Default)]
pub(crate) struct BodyIndex {
    terms: BTreeMap<Box<str>, Postings>,
    docs: Vec<Doc>,
    tickets: HashMap<TicketNo, TicketDocs>,
    dead: usize,
    /// Goes up with every change: answers computed before are stale.
    generation: u64,
}

impl BodyIndex {
    /// Puts in ticket `number`'s messages as read at `version` (replacing what was
    /// there), unless what is there was read later.
    pub(crate) fn put_ticket(
        &mut self,
        number: TicketNo,
        version: u64,
        customer: CustomerId,
        docs: Vec<DocInput>,
    ) {
        if !self.forget_ticket(number, version) {
            return;
        }
        self.generation += 1;
        let mut ids = Vec::with_capacity(docs.len());
        for doc in docs {
            let Ok(id) = u32::try_from(self.docs.len()) else {
                tracing::warn!("the body index is full: ticket {number} is not searchable");
                break;
            };
            self.docs.push(Doc {
                ticket: number,
                seq: doc.seq,
                customer,
                live: true,
            });
            for term in doc.terms {
                match self.terms.get_mut(term.as_str()) {
                    Some(p) => p.push(id),
                    None => {
                        let mut p = Postings::default();
                        p.push(id);
                        self.terms.insert(term.into_boxed_str(), p);
                    }
                }
            }
            ids.push(id);
        }
        self.tickets
            .insert(number, TicketDocs { version, docs: ids });
        self.compact_if_due();
    }

    /// Tombstones ticket `number`'s documents, unless they were read after `version`;
    /// says whether it did.
    pub(crate) fn forget_ticket(&mut self, number: TicketNo, version: u64) -> bool {
        self.generation += 1;
        if let Some(old) = self.tickets.get_mut(&number) {
            if old.version > version {
                return false;
            }
            old.version = version;
            for id in std::mem::take(&mut old.docs) {
                let doc = &mut self.docs[id as usize];
                if doc.live {
                    doc.live = false;
                    self.dead += 1;
                }
            }
        } else {
            self.tickets.insert(
                number,
                TicketDocs {
                    version,
                    docs: Vec::new(),
                },
            );
        }
        true
    }

    /// Tombstones every document of `customer` at once (an erasure).
    pub(crate) fn forget_customer(&mut self, customer: &CustomerId, version: u64) {
        let theirs: Vec<TicketNo> = self
            .docs
            .iter()
            .filter(|d| d.live && d.customer == *customer)
            .map(|d| d.ticket)
            .collect();
        for number in theirs {
            self.forget_ticket(number, version);
        }
    }

    /// Tickets with a message holding every term of `terms`; the last term also matches
    /// as a prefix when `prefix_last`. No terms: no tickets.
    pub(crate) fn tickets_matching(&self, terms: &[String], prefix_last: bool) -> TicketSet {
        let mut docs: Option<DocSet> = None;
        for (i, term) in terms.iter().enumerate() {
            let prefix = prefix_last && i + 1 == terms.len();
            let set = self.docs_of(term, prefix);
            match &mut docs {
                None => docs = Some(set),
                Some(d) => d.intersect(&set),
            }
        }
        let mut out = TicketSet::default();
        if let Some(docs) = docs {
            docs.for_each(|id| {
                let doc = &self.docs[id as usize];
                if doc.live {
                    out.insert(doc.ticket);
                }
            });
        }
        out
    }

    /// Sequence numbers of ticket `number`'s messages that hold every term (the last
    /// as a prefix when `prefix_last`).
    pub(crate) fn seqs_matching(
        &self,
        number: TicketNo,
        terms: &[String],
        prefix_last: bool,
    ) -> Vec<u32> {
        let Some(entry) = self.tickets.get(&number) else {
            return Vec::new();
        };
        let sets: Vec<DocSet> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| self.docs_of(t, prefix_last && i + 1 == terms.len()))
            .collect();
        entry
            .docs
            .iter()
            .filter(|&&id| {
                sets.iter()
                    .all(|s| s.0[id as usize / 64] & (1 << (id % 64)) != 0)
            })
            .map(|&id| self.docs[id as usize].seq)
            .collect()
    }

    fn docs_of(&self, term: &str, prefix: bool) -> DocSet {
        use std::ops::Bound::{Included, Unbounded};
        let mut set = DocSet::empty(self.docs.len());
        if prefix {
            for (_, p) in self
                .terms
                .range::<str, _>((Included(term), Unbounded))
                .take_while(|(k, _)| k.starts_with(term))
            {
                p.for_each(|id| set.insert(id));
            }
        } else if let Some(p) = self.terms.get(term) {
            p.for_each(|id| set.insert(id));
        }
        set
    }

    /// Which state of the index this is (see `generation`).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// How many documents are searchable.
    pub(crate) fn live_docs(&self) -> usize {
        self.docs.len() - self.dead
    }

    /// Frees the slack the building left in the posting lists.
    pub(crate) fn shrink(&mut self) {
        for p in self.terms.values_mut() {
            p.gaps.shrink_to_fit();
        }
        self.docs.shrink_to_fit();
    }

    /// About how many bytes the index holds on the heap (for the log).
    pub(crate) fn heap_bytes(&self) -> usize {
        // A B-tree entry's key and value plus its share of the node, the key's text, and
        // the gaps (each allocation rounded up as malloc does).
        let round = |n: usize| if n == 0 { 0 } else { n.div_ceil(16) * 16 + 16 };
        let terms: usize = self
            .terms
            .iter()
            .map(|(k, p)| 72 + round(k.len()) + round(p.gaps.capacity()))
            .sum();
        let tickets: usize = self
            .tickets
            .values()
            .map(|t| 48 + round(t.docs.len() * 4))
            .sum();
        terms + tickets + self.docs.capacity() * std::mem::size_of::<Doc>()
    }

    /// How many distinct terms there are.
    pub(crate) fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Once tombstones outnumber live documents, the lists are rewritten without them
    /// (the ids renumbered): amortised, each document is rewritten a bounded number of
    /// times.
    fn compact_if_due(&mut self) {
        if self.dead > self.live_docs().max(4096) {
            self.compact();
        }
    }

    pub(crate) fn compact(&mut self) {
        let mut renumbered = vec![u32::MAX; self.docs.len()];
        let mut docs = Vec::with_capacity(self.live_docs());
        for (old, doc) in self.docs.iter().enumerate() {
            if doc.live {
                renumbered[old] = docs.len() as u32;
                docs.push(*doc);
            }
        }
        let terms = std::mem::take(&mut self.terms);
        for (term, p) in terms {
            let mut kept = Postings::default();
            p.for_each(|id| {
                let new = renumbered[id as usize];
                if new != u32::MAX {
                    kept.push(new);
                }
            });
            if kept.len > 0 {
                kept.gaps.shrink_to_fit();
                self.terms.insert(term, kept);
            }
        }
        for entry in self.tickets.values_mut() {
            for id in &mut entry.docs {
                *id = renumbered[*id as usize];
            }
        }
        self.docs = docs;
        self.dead = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(seq: u32, text: &str) -> DocInput {
        DocInput::new(seq, [text])
    }

    fn q(text: &str) -> Vec<String> {
        super::super::tokenize::query_terms(text)
    }

    fn nums(t: TicketSet) -> Vec<u64> {
        t.numbers().into_iter().map(|n| n.0).collect()
    }

    const ANN: CustomerId = CustomerId([1; 16]);
    const BOB: CustomerId = CustomerId([2; 16]);

    fn sample() -> BodyIndex {
        let mut idx = BodyIndex::default();
        idx.put_ticket(
            TicketNo(1),
            1,
            ANN,
            vec![
                doc(1, "The printer is smoking since Monday"),
                doc(2, "Please unplug it"),
            ],
        );
        idx.put_ticket(
            TicketNo(2),
            1,
            BOB,
            vec![
                doc(1, "東京都の見積もりをお願いします"),
                doc(2, "invoice.pdf"),
            ],
        );
        idx.put_ticket(TicketNo(3), 1, ANN, vec![doc(1, "Smoke alarm")]);
        idx
    }

    #[test]
    fn words_match_whole_or_as_a_prefix_when_last() {
        let idx = sample();
        assert_eq!(nums(idx.tickets_matching(&q("smoking"), false)), [1]);
        assert_eq!(nums(idx.tickets_matching(&q("smok"), true)), [1, 3]);
        assert_eq!(
            nums(idx.tickets_matching(&q("smok"), false)),
            Vec::<u64>::new()
        );
        assert_eq!(nums(idx.tickets_matching(&q("SMOKE"), true)), [3]);
        assert_eq!(nums(idx.tickets_matching(&q("invoice.p"), true)), [2]);
        assert_eq!(nums(idx.tickets_matching(&[], true)), Vec::<u64>::new());
    }

    #[test]
    fn cjk_words_are_found_inside_running_text() {
        let idx = sample();
        assert_eq!(nums(idx.tickets_matching(&q("東京"), true)), [2]);
        assert_eq!(nums(idx.tickets_matching(&q("見積もり"), true)), [2]);
        assert_eq!(nums(idx.tickets_matching(&q("都"), true)), [2]);
        assert_eq!(
            nums(idx.tickets_matching(&q("す"), true)),
            [2],
            "a run's last"
        );
        assert_eq!(
            nums(idx.tickets_matching(&q("京都府"), true)),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn terms_of_one_word_must_meet_in_one_message() {
        let idx = sample();
        assert_eq!(idx.seqs_matching(TicketNo(1), &q("unplug"), false), [2]);
        assert_eq!(
            nums(idx.tickets_matching(&q("printer/unplug"), false)),
            Vec::<u64>::new(),
            "terms of one query word match within one message"
        );
    }

    #[test]
    fn a_replaced_ticket_matches_only_its_new_text() {
        let mut idx = sample();
        idx.put_ticket(TicketNo(1), 2, ANN, vec![doc(1, "all fixed")]);
        assert!(idx
            .tickets_matching(&q("smoking"), false)
            .numbers()
            .is_empty());
        assert_eq!(nums(idx.tickets_matching(&q("fixed"), false)), [1]);
        // A read from before that update does not bring the old text back.
        idx.put_ticket(TicketNo(1), 1, ANN, vec![doc(1, "smoking")]);
        assert!(idx
            .tickets_matching(&q("smoking"), false)
            .numbers()
            .is_empty());
        idx.forget_ticket(TicketNo(1), 3);
        assert!(idx
            .tickets_matching(&q("fixed"), false)
            .numbers()
            .is_empty());
    }

    #[test]
    fn forgetting_a_customer_removes_all_their_tickets_at_once() {
        let mut idx = sample();
        idx.forget_customer(&ANN, 2);
        assert!(idx.tickets_matching(&q("smok"), true).numbers().is_empty());
        assert_eq!(nums(idx.tickets_matching(&q("東京"), true)), [2]);
        assert_eq!(idx.live_docs(), 2);
        // An older read (the builder's) cannot bring them back.
        idx.put_ticket(TicketNo(3), 1, ANN, vec![doc(1, "Smoke alarm")]);
        assert!(idx
            .tickets_matching(&q("smoke"), false)
            .numbers()
            .is_empty());
    }

    #[test]
    fn compaction_keeps_what_matches() {
        let mut idx = BodyIndex::default();
        for round in 0..3u64 {
            for n in 1..=3000 {
                let text = format!("word{n} round{round} common");
                idx.put_ticket(TicketNo(n), round, ANN, vec![doc(1, &text)]);
            }
        }
        assert!(idx.docs.len() < 3 * 3000, "compacted on the way");
        idx.compact();
        assert_eq!(idx.docs.len(), 3000);
        assert_eq!(nums(idx.tickets_matching(&q("word2999"), false)), [2999]);
        assert_eq!(
            idx.tickets_matching(&q("common"), false).numbers().len(),
            3000
        );
        assert!(idx
            .tickets_matching(&q("round1"), false)
            .numbers()
            .is_empty());
        assert_eq!(
            idx.tickets_matching(&q("round2"), false).numbers().len(),
            3000
        );
        assert_eq!(
            idx.tickets_matching(&q("round"), true).numbers().len(),
            3000
        );
    }

    #[test]
    fn varint_postings_round_trip() {
        let mut p = Postings::default();
        let ids = [0, 1, 127, 128, 300, 16_384, 2_000_000, u32::MAX - 1];
        for id in ids {
            p.push(id);
        }
        let mut back = Vec::new();
        p.for_each(|id| back.push(id));
        assert_eq!(back, ids);
    }
}
