//! The inverted index over message bodies: a term dictionary sorted for prefix ranges,
//! each term's documents as a list of delta-encoded varints, and per document its
//! ticket, sequence number and customer. Documents are never changed in place: a
//! ticket's new contents get new ids, the old ones are tombstoned at once (so a search
//! never sees them again) and dropped from the posting lists by a compaction later.
//!
//! The dictionary has two tiers: most terms sit frozen in four flat buffers (their
//! texts and posting lists end to end, with offsets: about 20 bytes a term), and the
//! terms of documents added since the last freeze sit in a small B-tree (about 100 bytes
//! a term) that is merged into the frozen tier once it holds a quarter as many terms.
//! A term can be in both; its documents in the tree are all newer than those frozen.

use sealdesk_api::TicketSet;
use sealdesk_model::{CustomerId, TicketNo};
use std::collections::{BTreeMap, HashMap};

/// One message as the index takes it: its number in the thread and its distinct terms,
/// kept end to end in one string (one allocation per message, not one per word).
pub(crate) struct DocInput {
    pub(crate) seq: u32,
    text: String,
    spans: Vec<(u32, u32)>,
}

impl DocInput {
    /// The message text and attachment names of message `seq`, as terms. The words
    /// are gathered in a scratch buffer of this thread's and only the distinct terms
    /// copied out, each document in two allocations of its exact size: the building
    /// thread then leaves no trail of freed buffers among the index's own.
    pub(crate) fn new<'t>(seq: u32, texts: impl IntoIterator<Item = &'t str>) -> DocInput {
        thread_local! {
            static SCRATCH: std::cell::RefCell<(String, Vec<(u32, u32)>)> =
                const { std::cell::RefCell::new((String::new(), Vec::new())) };
        }
        SCRATCH.with(|scratch| {
            let (all, found) = &mut *scratch.borrow_mut();
            all.clear();
            found.clear();
            for t in texts {
                super::tokenize::terms(t, |term| {
                    let start = all.len() as u32;
                    all.push_str(term);
                    found.push((start, all.len() as u32));
                });
            }
            let at = |&(a, b): &(u32, u32)| &all.as_bytes()[a as usize..b as usize];
            found.sort_unstable_by(|x, y| at(x).cmp(at(y)));
            found.dedup_by(|x, y| at(x) == at(y));
            let size: usize = found.iter().map(|&(a, b)| (b - a) as usize).sum();
            let mut text = String::with_capacity(size);
            let mut spans = Vec::with_capacity(found.len());
            for &(a, b) in found.iter() {
                let start = text.len() as u32;
                text.push_str(&all[a as usize..b as usize]);
                spans.push((start, text.len() as u32));
            }
            if all.capacity() > 1 << 20 {
                // One huge message does not keep a megabyte per thread.
                *all = String::new();
                *found = Vec::new();
            }
            DocInput { seq, text, spans }
        })
    }

    /// The distinct terms, ascending.
    pub(crate) fn terms(&self) -> impl Iterator<Item = &str> {
        self.spans
            .iter()
            .map(|&(a, b)| &self.text[a as usize..b as usize])
    }
}

#[derive(Clone, Copy)]
struct Doc {
    ticket: TicketNo,
    seq: u32,
    customer: CustomerId,
    live: bool,
}

/// Appends `value` as a varint (7 bits a byte, low first).
fn put_varint(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Calls `each` with the running sum of the varints in `bytes`, starting from `start`.
fn for_each_gap(bytes: &[u8], start: u32, mut each: impl FnMut(u32)) {
    let (mut doc, mut gap, mut shift) = (start, 0u32, 0);
    for &b in bytes {
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
        put_varint(&mut self.gaps, doc - self.last);
        self.last = doc;
        self.len += 1;
    }

    fn for_each(&self, mut each: impl FnMut(u32)) {
        if self.len == 0 {
            return;
        }
        each(self.first);
        for_each_gap(&self.gaps, self.first, each);
    }
}

/// The frozen tier: term `i`'s text is `text[text_at[i]..text_at[i + 1]]` and its
/// documents the varint gaps (the first from 0) in `posts[post_at[i]..post_at[i + 1]]`;
/// terms ascending.
struct Frozen {
    text: Vec<u8>,
    text_at: Vec<u32>,
    posts: Vec<u8>,
    post_at: Vec<u32>,
}

impl Default for Frozen {
    fn default() -> Frozen {
        Frozen {
            text: Vec::new(),
            text_at: vec![0],
            posts: Vec::new(),
            post_at: vec![0],
        }
    }
}

impl Frozen {
    fn len(&self) -> usize {
        self.text_at.len() - 1
    }

    fn term(&self, i: usize) -> &[u8] {
        &self.text[self.text_at[i] as usize..self.text_at[i + 1] as usize]
    }

    fn for_each(&self, i: usize, each: impl FnMut(u32)) {
        let posts = &self.posts[self.post_at[i] as usize..self.post_at[i + 1] as usize];
        for_each_gap(posts, 0, each);
    }

    /// The terms equal to `term`, or (with `prefix`) starting with it: a range of indexes.
    fn matching(&self, term: &str, prefix: bool) -> std::ops::Range<usize> {
        let term = term.as_bytes();
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.term(mid) < term {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let start = lo;
        if !prefix {
            return if start < self.len() && self.term(start) == term {
                start..start + 1
            } else {
                start..start
            };
        }
        // Terms starting with `term` follow it in order: find where they stop.
        let mut hi = self.len();
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.term(mid).starts_with(term) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        start..lo
    }

    /// Appends one term with its (ascending) documents.
    fn push(&mut self, term: &[u8], docs: &[u32]) {
        self.text.extend_from_slice(term);
        self.text_at.push(self.text.len() as u32);
        let mut last = 0;
        for &doc in docs {
            put_varint(&mut self.posts, doc - last);
            last = doc;
        }
        self.post_at.push(self.posts.len() as u32);
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.text_at.shrink_to_fit();
        self.posts.shrink_to_fit();
        self.post_at.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.posts.capacity()
            + (self.text_at.capacity() + self.post_at.capacity()) * 4
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

/// A ticket's documents: ids `first..first + count` (a ticket's messages are put in
/// together and get consecutive ids; a compaction keeps them consecutive).
struct TicketDocs {
    /// The store's commit count read before these documents were.
    version: u64,
    first: u32,
    count: u32,
}

impl TicketDocs {
    fn ids(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.count
    }
}

/// Terms the B-tree tier holds at least before it is frozen.
const FREEZE_MIN: usize = 16 * 1024;

#[derive(Default)]
pub(crate) struct BodyIndex {
    /// Terms of documents added since the last freeze.
    terms: BTreeMap<Box<str>, Postings>,
    frozen: Frozen,
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
        let Ok(first) = u32::try_from(self.docs.len()) else {
            tracing::warn!("the body index is full: ticket {number} is not searchable");
            return;
        };
        if u32::try_from(self.docs.len() + docs.len()).is_err() {
            tracing::warn!("the body index is full: ticket {number} is not searchable");
            return;
        }
        let count = docs.len() as u32;
        for (id, doc) in (first..).zip(docs) {
            self.docs.push(Doc {
                ticket: number,
                seq: doc.seq,
                customer,
                live: true,
            });
            for term in doc.terms() {
                match self.terms.get_mut(term) {
                    Some(p) => p.push(id),
                    None => {
                        let mut p = Postings::default();
                        p.push(id);
                        self.terms.insert(term.into(), p);
                    }
                }
            }
        }
        self.tickets.insert(
            number,
            TicketDocs {
                version,
                first,
                count,
            },
        );
        if !self.compact_if_due() && self.terms.len() > FREEZE_MIN.max(self.frozen.len() / 4) {
            self.freeze(None);
        }
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
            let ids = old.ids();
            old.count = 0;
            for id in ids {
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
                    first: 0,
                    count: 0,
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
            .ids()
            .filter(|&id| {
                sets.iter()
                    .all(|s| s.0[id as usize / 64] & (1 << (id % 64)) != 0)
            })
            .map(|id| self.docs[id as usize].seq)
            .collect()
    }

    fn docs_of(&self, term: &str, prefix: bool) -> DocSet {
        use std::ops::Bound::{Included, Unbounded};
        let mut set = DocSet::empty(self.docs.len());
        for i in self.frozen.matching(term, prefix) {
            self.frozen.for_each(i, |id| set.insert(id));
        }
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

    /// Freezes every term and frees the slack the building left.
    pub(crate) fn shrink(&mut self) {
        self.freeze(None);
        self.docs.shrink_to_fit();
        self.tickets.shrink_to_fit();
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
        // A hash map entry (key, value, control byte) at its load factor.
        let tickets = self.tickets.capacity() * (8 + std::mem::size_of::<TicketDocs>() + 1);
        terms
            + self.frozen.heap_bytes()
            + tickets
            + self.docs.capacity() * std::mem::size_of::<Doc>()
    }

    /// How many distinct terms there are.
    pub(crate) fn term_count(&self) -> usize {
        let mut n = self.frozen.len();
        for term in self.terms.keys() {
            if self.frozen.matching(term, false).is_empty() {
                n += 1;
            }
        }
        n
    }

    /// Merges the B-tree tier into the frozen one; with `renumbered` (old id → new id,
    /// `u32::MAX` for a dropped document) the documents are renumbered on the way and
    /// terms left without documents dropped.
    fn freeze(&mut self, renumbered: Option<&[u32]>) {
        if self.terms.is_empty() && renumbered.is_none() {
            return;
        }
        let old = std::mem::take(&mut self.frozen);
        let delta = std::mem::take(&mut self.terms);
        let mut new = Frozen {
            text: Vec::with_capacity(old.text.len() + delta.len() * 8),
            text_at: Vec::with_capacity(old.len() + delta.len() + 1),
            posts: Vec::with_capacity(old.posts.len() + delta.len() * 2),
            post_at: Vec::with_capacity(old.len() + delta.len() + 1),
        };
        new.text_at.push(0);
        new.post_at.push(0);
        let mut docs: Vec<u32> = Vec::new();
        let keep = |id: u32, docs: &mut Vec<u32>| match renumbered {
            None => docs.push(id),
            Some(map) => {
                let to = map[id as usize];
                if to != u32::MAX {
                    docs.push(to);
                }
            }
        };
        let mut i = 0;
        let mut delta = delta.into_iter().peekable();
        loop {
            let frozen_term = (i < old.len()).then(|| old.term(i));
            let delta_term = delta.peek().map(|(k, _)| k.as_bytes());
            let (take_frozen, take_delta) = match (frozen_term, delta_term) {
                (None, None) => break,
                (Some(_), None) => (true, false),
                (None, Some(_)) => (false, true),
                (Some(f), Some(d)) => (f <= d, d <= f),
            };
            docs.clear();
            let term: Vec<u8> = if take_frozen {
                old.term(i).to_vec()
            } else {
                delta_term.unwrap_or_default().to_vec()
            };
            if take_frozen {
                old.for_each(i, |id| keep(id, &mut docs));
                i += 1;
            }
            if take_delta {
                if let Some((_, p)) = delta.next() {
                    // Documents in the tree are newer than the frozen ones.
                    p.for_each(|id| keep(id, &mut docs));
                }
            }
            if !docs.is_empty() {
                new.push(&term, &docs);
            }
        }
        new.shrink();
        self.frozen = new;
    }

    /// Once tombstones outnumber live documents, the lists are rewritten without them
    /// (the ids renumbered): amortised, each document is rewritten a bounded number of
    /// times. Says whether it did.
    fn compact_if_due(&mut self) -> bool {
        if self.dead > self.live_docs().max(4096) {
            self.compact();
            return true;
        }
        false
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
        self.freeze(Some(&renumbered));
        for entry in self.tickets.values_mut() {
            // A ticket's documents are all live or all dead (forgotten together).
            entry.first = if entry.count == 0 {
                0
            } else {
                renumbered[entry.first as usize]
            };
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
    fn frozen_and_new_terms_answer_together() {
        let mut idx = sample();
        idx.freeze(None);
        assert_eq!(idx.terms.len(), 0, "all frozen");
        // New documents for a frozen term, and new terms sharing a frozen prefix.
        idx.put_ticket(
            TicketNo(4),
            1,
            BOB,
            vec![doc(1, "smoking again, smoky room")],
        );
        assert_eq!(nums(idx.tickets_matching(&q("smoking"), false)), [1, 4]);
        assert_eq!(nums(idx.tickets_matching(&q("smok"), true)), [1, 3, 4]);
        assert_eq!(nums(idx.tickets_matching(&q("smoky"), false)), [4]);
        assert_eq!(idx.term_count(), {
            let mut all = idx.frozen.len();
            all += idx
                .terms
                .keys()
                .filter(|k| idx.frozen.matching(k, false).is_empty())
                .count();
            all
        });
        // Replacing a frozen ticket hides its frozen text at once.
        idx.put_ticket(TicketNo(1), 2, ANN, vec![doc(1, "fixed")]);
        assert_eq!(nums(idx.tickets_matching(&q("smoking"), false)), [4]);
        idx.freeze(None);
        assert_eq!(nums(idx.tickets_matching(&q("smoking"), false)), [4]);
        idx.compact();
        assert_eq!(nums(idx.tickets_matching(&q("smok"), true)), [3, 4]);
        assert_eq!(nums(idx.tickets_matching(&q("fixed"), false)), [1]);
        assert_eq!(idx.seqs_matching(TicketNo(4), &q("room"), false), [1]);
        assert_eq!(idx.live_docs(), 5);
    }

    /// Many puts, forgets, freezes and compactions in a fixed pseudo-random order: the
    /// index answers as a plain map of each ticket's words does.
    #[test]
    fn the_tiers_agree_with_a_plain_model() {
        let mut idx = BodyIndex::default();
        let mut model: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let words = ["alpha", "alpine", "beta", "bet", "gamma", "東京", "zeta9"];
        for version in 1..4000u64 {
            let n = next() % 300 + 1;
            match next() % 10 {
                0 => {
                    idx.forget_ticket(TicketNo(n), version);
                    model.remove(&n);
                }
                1 => idx.freeze(None),
                2 if version % 7 == 0 => idx.compact(),
                _ => {
                    let text: Vec<String> = (0..next() % 4 + 1)
                        .map(|_| {
                            let w = words[(next() % words.len() as u64) as usize];
                            format!("{w}{}", next() % 5)
                        })
                        .collect();
                    idx.put_ticket(TicketNo(n), version, ANN, vec![doc(1, &text.join(" "))]);
                    model.insert(n, text);
                }
            }
            if version % 97 == 0 {
                for w in [
                    "alp", "alpha1", "bet", "beta", "東京", "zeta93", "gamma4", "x",
                ] {
                    let want: Vec<u64> = model
                        .iter()
                        .filter(|(_, ws)| {
                            ws.iter()
                                .any(|t| q(t).iter().any(|term| term.starts_with(&q(w)[0])))
                        })
                        .map(|(n, _)| *n)
                        .collect();
                    assert_eq!(nums(idx.tickets_matching(&q(w), true)), want, "{w}");
                }
            }
        }
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
