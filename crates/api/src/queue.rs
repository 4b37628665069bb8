//! The queue rows and the query and view types a session uses (the desk keeps the
//! index over every ticket, in `sealdesk_desk::queue`).
//!
//! Rows are shared: the index holds each row once behind an [`Arc`], and a session's
//! filtered view ([`QueueView`]) is a sorted list of pointers into it. When a ticket
//! changes, every session moves that one row in its view ([`QueueView::apply`]) instead
//! of re-running its query, so 50 agents on 100,000 tickets cost 50 small updates per
//! arriving mail, not 50 full queries and 50 copies of the queue.

use sealdesk_model::{
    Customer, Personal, Priority, Status, Ticket, TicketActivity, TicketNo, Timestamp,
};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One queue row: the ticket and how to show its customer.
#[derive(Clone, Debug)]
pub struct QueueRow {
    pub ticket: Ticket,
    /// Name and address, or `Erased`.
    pub customer_label: Personal,
    /// Lower-cased subject and customer label, for free-text search.
    haystack: String,
    /// Who did what last on the ticket (the unread and customer-replied markers).
    pub activity: TicketActivity,
}

/// A row as the index and every session's view share it.
pub type SharedRow = Arc<QueueRow>;

impl QueueRow {
    pub fn new(ticket: Ticket, customer: Option<&Customer>) -> QueueRow {
        let customer_label = match customer {
            Some(c) if !c.name.is_empty() => {
                Personal::Text(format!("{} <{}>", c.name, c.primary_email()))
            }
            Some(c) => Personal::Text(c.primary_email().to_string()),
            None => Personal::Erased,
        };
        let haystack = format!(
            "{} {} {}",
            ticket.subject,
            customer_label,
            ticket.tags.join(" ")
        )
        .to_lowercase();
        QueueRow {
            ticket,
            customer_label,
            haystack,
            activity: TicketActivity::default(),
        }
    }

    /// The row with the ticket's recorded activity.
    pub fn with_activity(mut self, activity: TicketActivity) -> QueueRow {
        self.activity = activity;
        self
    }

    /// The customer wrote after our latest reply.
    pub fn customer_replied(&self) -> bool {
        self.activity.customer_replied()
    }
}

/// Which markers the queue keeps to (queue key `m` cycles them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MarkerFilter {
    #[default]
    All,
    /// Activity by someone else since the agent last opened the ticket.
    Unread,
    /// The customer wrote after our latest reply.
    CustomerReplied,
    /// The agent keeps a draft on the ticket.
    MyDrafts,
}

/// One agent's side of the markers, held by their session: the activity count they saw
/// on each ticket they opened, and the tickets they keep drafts on. Shared behind an
/// [`Arc`] so a query carries it without copying.
#[derive(Clone, Debug, Default)]
pub struct AgentMarks {
    pub agent: String,
    pub seen: Arc<HashMap<TicketNo, u64>>,
    pub drafts: HashSet<TicketNo>,
}

impl AgentMarks {
    /// Someone else did something on the row's ticket since this agent last opened it.
    pub fn unread(&self, row: &QueueRow) -> bool {
        let seen = self.seen.get(&row.ticket.number).copied().unwrap_or(0);
        row.activity.unread_for(&self.agent, seen)
    }

    pub fn draft(&self, number: TicketNo) -> bool {
        self.drafts.contains(&number)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Anyone,
    Unassigned,
    /// Assigned to this agent ("mine" is the caller's own name).
    Agent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Most recently updated first.
    #[default]
    Updated,
    /// Newest ticket first.
    Number,
    /// Most urgent first, then oldest.
    Priority,
    /// Earliest due first; tickets without a due date last.
    Due,
}

/// What the agent asked the queue to show.
#[derive(Clone, Debug, Default)]
pub struct QueueQuery {
    /// Empty means every status except closed.
    pub statuses: Vec<Status>,
    pub assignee: AssigneeFilter,
    /// The agent name for [`AssigneeFilter::Agent`].
    pub agent: Option<String>,
    pub tag: Option<String>,
    /// Case-insensitive words that must all appear in subject, customer or tags, or
    /// in a message body (see [`BodyHits`]).
    pub text: String,
    pub sort: SortKey,
    pub marker: MarkerFilter,
    /// The agent's marks the unread and drafts filters test against (without them,
    /// those filters match nothing). A new `Arc` means the marks changed.
    pub marks: Option<Arc<AgentMarks>>,
    /// Which tickets' bodies hold each word of `text` (the desk's body index answers
    /// `DeskPort::body_hits`); used only while it was made for this very `text`.
    pub bodies: Option<Arc<BodyHits>>,
}

/// How far the desk's body index build is: `done` of `total` tickets read; `ready`
/// once all are (until then body search finds only what is read so far).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyProgress {
    pub done: u64,
    pub total: u64,
    pub ready: bool,
    /// About how many bytes the index holds (counted once it is ready).
    pub bytes: u64,
}

impl BodyProgress {
    /// "indexing bodies 45%" while building; `None` once ready or when not started.
    pub fn label(&self) -> Option<String> {
        if self.ready || self.total == 0 {
            return None;
        }
        Some(format!("indexing bodies {}%", self.done * 100 / self.total))
    }
}

/// A set of tickets as one bit per ticket number: a test per queue row is a shift and
/// a mask (a search narrowing 100,000 rows asks once per row and word).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketSet(Vec<u64>);

impl TicketSet {
    pub fn insert(&mut self, number: TicketNo) {
        let (word, bit) = ((number.0 / 64) as usize, number.0 % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    pub fn contains(&self, number: TicketNo) -> bool {
        let (word, bit) = ((number.0 / 64) as usize, number.0 % 64);
        self.0.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// The tickets, ascending.
    pub fn numbers(&self) -> Vec<TicketNo> {
        let mut out = Vec::new();
        for (i, &word) in self.0.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                out.push(TicketNo(i as u64 * 64 + u64::from(w.trailing_zeros())));
                w &= w - 1;
            }
        }
        out
    }
}

/// The tickets whose message bodies match each word of a search text.
#[derive(Debug, Default)]
pub struct BodyHits {
    text: String,
    /// Per word of `text` (as `split_whitespace` gives them).
    words: Vec<TicketSet>,
}

impl BodyHits {
    pub fn new(text: String, words: Vec<TicketSet>) -> BodyHits {
        BodyHits { text, words }
    }

    /// The search text these are the hits of.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether ticket `number`'s bodies match word `i` of the text.
    pub fn has(&self, i: usize, number: TicketNo) -> bool {
        self.words.get(i).is_some_and(|w| w.contains(number))
    }

    /// Whether ticket `number`'s bodies match any word of the text.
    pub fn any(&self, number: TicketNo) -> bool {
        (0..self.words.len()).any(|i| self.has(i, number))
    }
}

impl QueueQuery {
    /// The query ready to test rows: search words lower-cased once.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            query: self,
            bodies: self.bodies.as_deref().filter(|b| b.text == self.text),
            words: self
                .text
                .split_whitespace()
                .map(str::to_lowercase)
                .collect(),
        }
    }

    /// The order rows are listed in: a total order (ties broken by ticket number), so
    /// a row's place in a sorted view is found by binary search.
    pub fn order(&self, a: &QueueRow, b: &QueueRow) -> Ordering {
        let (a, b) = (&a.ticket, &b.ticket);
        match self.sort {
            SortKey::Updated => b.updated.cmp(&a.updated).then(b.number.cmp(&a.number)),
            SortKey::Number => b.number.cmp(&a.number),
            SortKey::Priority => priority_rank(b.priority)
                .cmp(&priority_rank(a.priority))
                .then(a.created.cmp(&b.created))
                .then(a.number.cmp(&b.number)),
            SortKey::Due => {
                let due = |t: &Ticket| t.due.unwrap_or(Timestamp(i64::MAX));
                due(a).cmp(&due(b)).then(a.number.cmp(&b.number))
            }
        }
    }

    /// Whether rows matching `self` are all among the rows matching `before`, in the
    /// same order: true when only search text was typed on. Then the new view is the
    /// old one filtered, without going back to the index.
    pub fn narrows(&self, before: &QueueQuery) -> bool {
        self.statuses == before.statuses
            && self.assignee == before.assignee
            && self.agent == before.agent
            && self.tag == before.tag
            && self.sort == before.sort
            && self.marker == before.marker
            && same_marks(&self.marks, &before.marks)
            && self.text.starts_with(&before.text)
    }
}

/// A [`QueueQuery`] with its search words prepared.
pub struct Matcher<'q> {
    query: &'q QueueQuery,
    bodies: Option<&'q BodyHits>,
    words: Vec<String>,
}

impl Matcher<'_> {
    pub fn matches(&self, row: &QueueRow) -> bool {
        let q = self.query;
        let t = &row.ticket;
        let status_ok = if q.statuses.is_empty() {
            t.status != Status::Closed
        } else {
            q.statuses.contains(&t.status)
        };
        let assignee_ok = match q.assignee {
            AssigneeFilter::Anyone => true,
            AssigneeFilter::Unassigned => t.assignee.is_none(),
            AssigneeFilter::Agent => t.assignee.is_some() && t.assignee == q.agent,
        };
        let tag_ok = q
            .tag
            .as_ref()
            .is_none_or(|tag| t.tags.iter().any(|x| x == tag));
        let marker_ok = match q.marker {
            MarkerFilter::All => true,
            MarkerFilter::CustomerReplied => row.customer_replied(),
            MarkerFilter::Unread => q.marks.as_ref().is_some_and(|m| m.unread(row)),
            MarkerFilter::MyDrafts => q.marks.as_ref().is_some_and(|m| m.draft(t.number)),
        };
        status_ok
            && assignee_ok
            && tag_ok
            && marker_ok
            && self.words.iter().enumerate().all(|(i, w)| {
                row.haystack.contains(w.as_str()) || self.bodies.is_some_and(|b| b.has(i, t.number))
            })
    }
}

/// One session's queue: the rows its query lets through, in its order.
///
/// The ticket numbers are kept beside the rows, in a plain array: finding a changed
/// ticket scans 8 bytes per row instead of following a pointer per row (that scan was
/// most of a change's cost with 50 sessions on 100,000 tickets).
#[derive(Default)]
pub struct QueueView {
    numbers: Vec<TicketNo>,
    rows: Vec<SharedRow>,
}

impl QueueView {
    pub fn new(rows: Vec<SharedRow>) -> QueueView {
        QueueView {
            numbers: rows.iter().map(|r| r.ticket.number).collect(),
            rows,
        }
    }

    pub fn rows(&self) -> &[SharedRow] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&SharedRow> {
        self.rows.get(i)
    }

    pub fn position(&self, number: TicketNo) -> Option<usize> {
        self.numbers.iter().position(|&n| n == number)
    }

    /// Keeps only the rows `q` still matches (for a query that [`narrows`] the one this
    /// view was made with).
    ///
    /// [`narrows`]: QueueQuery::narrows
    pub fn narrow(&mut self, q: &QueueQuery) {
        let matcher = q.matcher();
        self.rows.retain(|r| matcher.matches(r));
        self.numbers = self.rows.iter().map(|r| r.ticket.number).collect();
    }

    /// Ticket `number` is now `row` (`None`: gone): drops its old row and, if `q`
    /// matches the new one, puts it in its place. A scan of the numbers to find the old
    /// row, a binary search for the new place, and one shift of the rows between the
    /// two: no query, no copy of the queue.
    pub fn apply(&mut self, q: &QueueQuery, number: TicketNo, row: Option<SharedRow>) {
        let old = self.position(number);
        let new = row.filter(|r| q.matcher().matches(r));
        let before = |r: &SharedRow, new: &SharedRow| q.order(r, new) == Ordering::Less;
        match (old, new) {
            (None, None) => {}
            (Some(i), None) => {
                self.numbers.remove(i);
                self.rows.remove(i);
            }
            (None, Some(new)) => {
                let at = self.rows.partition_point(|r| before(r, &new));
                self.numbers.insert(at, number);
                self.rows.insert(at, new);
            }
            (Some(i), Some(new)) => {
                // The others stay sorted around the old row; find the new place among
                // them, left or right of it, and shift the rows in between by one.
                let left = self.rows[..i].partition_point(|r| before(r, &new));
                if left < i {
                    self.rows[left..=i].rotate_right(1);
                    self.numbers[left..=i].rotate_right(1);
                    self.rows[left] = new;
                } else {
                    let right = i + self.rows[i + 1..].partition_point(|r| before(r, &new));
                    self.rows[i..=right].rotate_left(1);
                    self.numbers[i..=right].rotate_left(1);
                    self.rows[right] = new;
                }
            }
        }
    }
}

fn same_marks(a: &Option<Arc<AgentMarks>>, b: &Option<Arc<AgentMarks>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }
}
