//! Search that reads message bodies: an inverted index in memory only (nothing of it
//! is written to disk, so it cannot outlive crypto-shredding), built at start by a
//! background thread that decrypts every message, kept current by every unit of work
//! (the tickets a unit touched are read again), and forgetting an erased customer at
//! once. The queue search and `F` ask it which tickets hold each typed word.

mod index;
mod tokenize;

use crate::{Actor, Desk, Result};
use index::{BodyIndex, DocInput};
use parking_lot::{Mutex, RwLock};
use sealdesk_api::{BodyHits, BodyProgress, TicketSet};
use sealdesk_model::{Author, CustomerId, TicketNo};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The index and its build state, owned by the desk.
#[derive(Default)]
pub(crate) struct BodySearch {
    index: RwLock<BodyIndex>,
    /// Set when the build starts: from then on every unit keeps the index current.
    started: AtomicBool,
    ready: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
    /// The index's size as counted when the build finished.
    bytes: AtomicU64,
    /// Set when the store was reopened after a disk failure: the index is built again.
    stale: AtomicBool,
    /// The ticket sets of words asked for lately (word, as a prefix), valid for one
    /// generation of the index.
    recent: Mutex<(u64, RecentWords)>,
    /// Tickets that units with deferred durability (imports) touched: read again once
    /// per batch, not once per message (see [`Desk::refresh_deferred_bodies`]).
    later: Mutex<std::collections::BTreeSet<TicketNo>>,
    /// Called each time a build finished (see [`Desk::after_body_index`]).
    after_build: std::sync::OnceLock<fn()>,
}

/// A ticket's customer, its messages as documents, and its customer messages' times.
type TicketDocs = (CustomerId, Vec<DocInput>, Vec<i64>);

/// Per (word, as a prefix): the tickets whose bodies hold it.
type RecentWords = HashMap<(String, bool), TicketSet>;

/// Words kept in `recent` before it starts over.
const RECENT_WORDS: usize = 64;

/// At most this many tickets are listed by `F` from bodies.
const FIND_LIMIT: usize = 50;

impl Desk {
    /// Starts building the body index in a background thread (once; `serve` calls it).
    /// Searches answer from what is indexed so far meanwhile.
    pub fn index_bodies(self: &Arc<Desk>) {
        if !self.config().search.bodies {
            if !self.bodies.ready.swap(true, Ordering::AcqRel) {
                tracing::info!(
                    "body search is off (search.bodies = false): subjects, names and tags only"
                );
            }
            return;
        }
        if self.bodies.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let desk = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("body-index".into())
            .spawn(move || desk.build_body_index());
        if let Err(e) = spawned {
            tracing::warn!("body search is off: cannot start its thread: {e}");
        }
    }

    /// After the store was reopened (a disk failure), the index may hold messages of
    /// units that never reached the disk: it starts over and is built again in the
    /// background, as at start (`serve`'s store watch calls this).
    pub fn rebuild_bodies_if_stale(self: &Arc<Desk>) {
        if !self.bodies.stale.swap(false, Ordering::AcqRel) {
            return;
        }
        *self.bodies.index.write() = BodyIndex::default();
        self.bodies.recent.lock().1.clear();
        self.bodies.ready.store(false, Ordering::Release);
        self.bodies.done.store(0, Ordering::Release);
        self.bodies.started.store(false, Ordering::Release);
        self.index_bodies();
    }

    /// Whether the index is in use: every unit's touched tickets are read into it.
    pub(crate) fn bodies_in_use(&self) -> bool {
        self.bodies.started.load(Ordering::Acquire)
    }

    /// Marks the index for a rebuild if it is in use (see [`Desk::rebuild_bodies_if_stale`]).
    pub(crate) fn bodies_reopened(&self) {
        if self.bodies.started.load(Ordering::Acquire) {
            self.bodies.stale.store(true, Ordering::Release);
        }
    }

    /// Has `hook` called each time the body index was built (at start, and again after
    /// the store was reopened). `serve` gives the allocator's free pages back to the
    /// system with it: the build frees most of what it allocated, and that memory would
    /// otherwise stay resident. The first hook set stays.
    pub fn after_body_index(&self, hook: fn()) {
        let _ = self.bodies.after_build.set(hook);
    }

    /// Builds the body index in the calling thread (the bench and tests time it).
    pub fn build_body_index(&self) {
        self.bodies.started.store(true, Ordering::Release);
        let started = std::time::Instant::now();
        let numbers = match self.store.ticket_numbers() {
            Ok(numbers) => numbers,
            Err(e) => {
                tracing::warn!("body search is off: cannot list the tickets: {e}");
                return;
            }
        };
        self.bodies
            .total
            .store(numbers.len() as u64, Ordering::Release);
        // Part 12: the `hours` report's arrival times are gathered on the way.
        self.gathering_arrivals(|| {
            for number in numbers {
                self.index_ticket(number);
                self.bodies.done.fetch_add(1, Ordering::AcqRel);
            }
        });
        self.bodies.index.write().shrink();
        self.bodies.ready.store(true, Ordering::Release);
        let index = self.bodies.index.read();
        self.bodies
            .bytes
            .store(index.heap_bytes() as u64, Ordering::Release);
        tracing::info!(
            "body index built: {} messages, {} terms, about {:.1} MiB, in {:.1}s",
            index.live_docs(),
            index.term_count(),
            index.heap_bytes() as f64 / (1024.0 * 1024.0),
            started.elapsed().as_secs_f64()
        );
        drop(index);
        if let Some(hook) = self.bodies.after_build.get() {
            hook();
        }
    }

    /// How far the body index build is.
    pub fn body_progress(&self) -> BodyProgress {
        BodyProgress {
            done: self.bodies.done.load(Ordering::Acquire),
            total: self.bodies.total.load(Ordering::Acquire),
            ready: self.bodies.ready.load(Ordering::Acquire),
            bytes: self.bodies.bytes.load(Ordering::Acquire),
        }
    }

    /// Reads ticket `number`'s messages again into the body index (after a unit
    /// touched it), if the index is in use. Decrypts outside the index lock.
    pub(crate) fn refresh_bodies(&self, number: TicketNo) {
        if self.bodies.started.load(Ordering::Acquire) {
            self.index_ticket(number);
        }
    }

    /// Like [`Desk::refresh_bodies`], for a unit whose durability is deferred (an
    /// import): the ticket is read again by [`Desk::refresh_deferred_bodies`], once
    /// however many of the batch's messages it got.
    pub(crate) fn refresh_bodies_later(&self, number: TicketNo) {
        if self.bodies.started.load(Ordering::Acquire) {
            self.bodies.later.lock().insert(number);
        }
    }

    /// Reads the tickets [`Desk::refresh_bodies_later`] collected into the index.
    pub(crate) fn refresh_deferred_bodies(&self) {
        let numbers = std::mem::take(&mut *self.bodies.later.lock());
        for number in numbers {
            self.index_ticket(number);
        }
    }

    fn index_ticket(&self, number: TicketNo) {
        let version = self.store.commits();
        match self.read_docs(number) {
            Ok(Some((customer, docs, arrivals))) => {
                self.feed_arrivals(number, version, arrivals);
                self.bodies
                    .index
                    .write()
                    .put_ticket(number, version, customer, docs)
            }
            Ok(None) => {
                self.feed_arrivals(number, version, Vec::new());
                self.bodies.index.write().forget_ticket(number, version);
            }
            Err(e) => tracing::warn!("bodies of {number} not indexed: {e}"),
        }
    }

    /// Ticket `number`'s customer and its readable messages as documents (erased
    /// messages are left out), and the times of its customer messages (erased ones
    /// included) for the `hours` report.
    fn read_docs(&self, number: TicketNo) -> Result<Option<TicketDocs>> {
        let Some(ticket) = self.store.ticket(number)? else {
            return Ok(None);
        };
        let mut docs = Vec::new();
        let messages: Vec<_> = self.store.messages(number)?.into_iter().flatten().collect();
        let arrivals = crate::reports::inbound_times(&messages);
        for message in messages {
            if matches!(message.author, Author::Erased) {
                continue;
            }
            let names = message.attachments.iter().map(|a| a.name.as_str());
            docs.push(DocInput::new(
                message.seq,
                std::iter::once(message.text.as_str()).chain(names),
            ));
        }
        Ok(Some((ticket.customer, docs, arrivals)))
    }

    /// An erased customer's messages leave the index at once (their tickets are read
    /// again as the erasure's unit touched them, too).
    pub(crate) fn forget_bodies_of(&self, customer: &CustomerId) {
        let version = self.store.commits();
        self.bodies.index.write().forget_customer(customer, version);
    }

    /// Per word of `text`, the tickets whose messages hold it; the last word matches
    /// as a prefix unless a space follows it. `None` for an empty text.
    pub fn body_hits(&self, text: &str) -> Option<Arc<BodyHits>> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return None;
        }
        let open_end = !text.ends_with(char::is_whitespace);
        let index = self.bodies.index.read();
        let generation = index.generation();
        let hits = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let key = (w.to_string(), open_end && i + 1 == words.len());
                // Typing on re-asks for every earlier word: those come from `recent`
                // (looked up and filled without computing under its lock).
                let known = {
                    let recent = self.bodies.recent.lock();
                    (recent.0 == generation)
                        .then(|| recent.1.get(&key).cloned())
                        .flatten()
                };
                known.unwrap_or_else(|| {
                    let set = index.tickets_matching(&tokenize::query_terms(w), key.1);
                    let mut recent = self.bodies.recent.lock();
                    if recent.0 != generation || recent.1.len() >= RECENT_WORDS {
                        *recent = (generation, HashMap::new());
                    }
                    recent.1.insert(key, set.clone());
                    set
                })
            })
            .collect();
        Some(Arc::new(BodyHits::new(text.to_string(), hits)))
    }

    /// For each of `numbers`, the first line of its messages (or an attachment name)
    /// that best matches `text`, sanitised: what the queue shows beside the rows in
    /// view. Reads (decrypts) just those tickets' messages.
    pub fn body_lines(&self, numbers: &[TicketNo], text: &str) -> Vec<(TicketNo, String)> {
        let wanted = Wanted::new(text);
        if wanted.terms.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for &number in numbers {
            let seqs = self.matching_seqs(number, text);
            let messages = seqs
                .iter()
                .filter_map(|&seq| self.store.message(number, seq).ok().flatten());
            let mut best: Option<(usize, String)> = None;
            for message in messages {
                if matches!(message.author, Author::Erased) {
                    continue;
                }
                let names = message.attachments.iter().map(|a| a.name.as_str());
                for line in message.text.lines().chain(names) {
                    let score = wanted.score(line);
                    if score > best.as_ref().map_or(0, |b| b.0) {
                        best = Some((score, line.trim().to_string()));
                    }
                }
            }
            if let Some((_, line)) = best {
                out.push((number, shorten(&sealdesk_model::sanitize::line(&line))));
            }
        }
        out
    }

    /// Tickets whose messages hold every word of `text` (for `F`, which finds customers
    /// by address and name besides), newest first, each labelled with its subject and
    /// the matching line; at most [`FIND_LIMIT`]. Audited.
    pub fn find_in_bodies(&self, actor: &Actor, text: &str) -> Result<Vec<(TicketNo, String)>> {
        let query = sealdesk_api::QueueQuery {
            statuses: sealdesk_model::Status::ALL.to_vec(),
            sort: sealdesk_api::SortKey::Number,
            text: text.to_string(),
            bodies: self.body_hits(text),
            ..Default::default()
        };
        if query.bodies.is_none() {
            return Ok(Vec::new());
        }
        let words = text.split_whitespace().count();
        let in_bodies = |n: TicketNo| {
            let hits = query.bodies.as_deref();
            (0..words).all(|i| hits.is_some_and(|h| h.has(i, n)))
        };
        let mut rows = self.queue(&query)?;
        rows.retain(|r| in_bodies(r.ticket.number));
        rows.truncate(FIND_LIMIT);
        self.audit_only(
            actor,
            "ticket.search",
            vec!["by=body".into(), format!("matches={}", rows.len())],
            None,
        )?;
        let numbers: Vec<TicketNo> = rows.iter().map(|r| r.ticket.number).collect();
        let lines: std::collections::HashMap<TicketNo, String> =
            self.body_lines(&numbers, text).into_iter().collect();
        Ok(rows
            .iter()
            .map(|row| {
                let n = row.ticket.number;
                let subject = sealdesk_model::sanitize::line(row.ticket.subject.as_str());
                match lines.get(&n) {
                    Some(line) => (n, format!("#{n} {subject} · {line}")),
                    None => (n, format!("#{n} {subject}")),
                }
            })
            .collect())
    }
}

impl Desk {
    /// The messages of ticket `number` that match a word of `text`, in thread order.
    fn matching_seqs(&self, number: TicketNo, text: &str) -> Vec<u32> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let open_end = !text.ends_with(char::is_whitespace);
        let index = self.bodies.index.read();
        let mut seqs: Vec<u32> = words
            .iter()
            .enumerate()
            .flat_map(|(i, w)| {
                let terms = tokenize::query_terms(w);
                index.seqs_matching(number, &terms, open_end && i + 1 == words.len())
            })
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        seqs
    }
}

/// The query's terms for scoring lines: every word's terms, the last as a prefix.
struct Wanted {
    terms: Vec<(String, bool)>,
}

impl Wanted {
    fn new(text: &str) -> Wanted {
        let words: Vec<&str> = text.split_whitespace().collect();
        let open_end = !text.ends_with(char::is_whitespace);
        let mut terms = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let t = tokenize::query_terms(w);
            let last = t.len();
            for (j, term) in t.into_iter().enumerate() {
                let prefix = open_end && i + 1 == words.len() && j + 1 == last;
                terms.push((term, prefix));
            }
        }
        Wanted { terms }
    }

    /// How many of the wanted terms `line` holds.
    fn score(&self, line: &str) -> usize {
        let have = tokenize::term_set(line);
        self.terms
            .iter()
            .filter(|(t, prefix)| match prefix {
                true => have.iter().any(|h| h.starts_with(t.as_str())),
                false => have.contains(t),
            })
            .count()
    }
}

/// A matching line cut to what a queue row can show.
fn shorten(line: &str) -> String {
    const MAX: usize = 160;
    match line.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(desk: &Desk, word: &str, n: TicketNo) -> bool {
        desk.body_hits(word).is_some_and(|h| h.any(n))
    }

    /// After the store is reopened (a disk failure) the index starts over from what is
    /// on disk: what it held of units that never got there is gone.
    #[test]
    fn a_reopened_store_gets_its_body_index_built_again() {
        let dir = tempfile::tempdir().unwrap();
        let desk = Arc::new(crate::testing::desk(dir.path()));
        let n = crate::testing::new_ticket(&desk, "ann@example.com", "Printer", "the toner smells");
        desk.build_body_index();
        assert!(found(&desk, "toner", n));
        // A message the index took from a unit that never reached the disk.
        let ghost = DocInput::new(9, ["ghostword"]);
        let customer = desk.store().ticket(n).unwrap().unwrap().customer;
        desk.bodies
            .index
            .write()
            .put_ticket(n, u64::MAX, customer, vec![ghost]);
        assert!(found(&desk, "ghostword", n));

        desk.bodies_reopened();
        desk.rebuild_bodies_if_stale();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !desk.body_progress().ready {
            assert!(std::time::Instant::now() < deadline, "not rebuilt");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!found(&desk, "ghostword", n));
        assert!(found(&desk, "toner", n));
        // Nothing stale: a second call does nothing.
        desk.rebuild_bodies_if_stale();
        assert!(desk.body_progress().ready);
    }

    /// An import batch's tickets are read into the index once, when the batch is made
    /// durable: searchable then, and a thread's messages all of them.
    #[test]
    fn imported_mail_is_searchable_once_its_batch_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let desk = Arc::new(crate::testing::desk(dir.path()));
        desk.build_body_index();
        let first = b"From: Ann <ann@example.com>\r\nTo: support@example.com\r\nSubject: Old\r\nMessage-ID: <i1@example.com>\r\nDate: Mon, 05 Jan 2024 10:00:00 +0000\r\n\r\nthe zeppelin is late\r\n";
        let reply = b"From: Ann <ann@example.com>\r\nTo: support@example.com\r\nSubject: Re: Old\r\nMessage-ID: <i2@example.com>\r\nIn-Reply-To: <i1@example.com>\r\nDate: Tue, 06 Jan 2024 10:00:00 +0000\r\n\r\nand the xylophone too\r\n";
        let batch = [
            crate::ImportMessage {
                raw: first,
                mailbox_date: None,
            },
            crate::ImportMessage {
                raw: reply,
                mailbox_date: None,
            },
        ];
        desk.import_batch(&Actor::local_admin(), &batch, None)
            .unwrap();
        let n = desk.newest_ticket().unwrap();
        assert!(found(&desk, "zeppelin", n));
        assert!(
            found(&desk, "xylophone", n),
            "the reply threaded in is indexed too"
        );
        assert!(desk.bodies.later.lock().is_empty());
    }
}
