//! The ticket queue as agents see it: an in-memory index over every ticket, built on
//! first use and kept current by each desk operation, so filtering 100,000 tickets per
//! keystroke never touches the store.
//!
//! Rows are shared: the index holds each row once behind an [`Arc`], and a session's
//! filtered view ([`QueueView`]) is a sorted list of pointers into it. When a ticket
//! changes, every session moves that one row in its view ([`QueueView::apply`]) instead
//! of re-running its query, so 50 agents on 100,000 tickets cost 50 small updates per
//! arriving mail, not 50 full queries and 50 copies of the queue.

use sealdesk_model::{Customer, Personal, Priority, Status, Ticket, TicketNo, Timestamp};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One queue row: the ticket and how to show its customer.
#[derive(Clone, Debug)]
pub struct QueueRow {
    pub ticket: Ticket,
    /// Name and address, or `Erased`.
    pub customer_label: Personal,
    /// Lower-cased subject and customer label, for free-text search.
    haystack: String,
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
        }
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
    /// Case-insensitive words that must all appear in subject, customer or tags.
    pub text: String,
    pub sort: SortKey,
}

impl QueueQuery {
    /// The query ready to test rows: search words lower-cased once.
    pub(crate) fn matcher(&self) -> Matcher<'_> {
        Matcher {
            query: self,
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
            && self.text.starts_with(&before.text)
    }
}

/// A [`QueueQuery`] with its search words prepared.
pub(crate) struct Matcher<'q> {
    query: &'q QueueQuery,
    words: Vec<String>,
}

impl Matcher<'_> {
    pub(crate) fn matches(&self, row: &QueueRow) -> bool {
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
        status_ok
            && assignee_ok
            && tag_ok
            && self.words.iter().all(|w| row.haystack.contains(w.as_str()))
    }
}

#[derive(Default)]
pub(crate) struct QueueIndex {
    rows: BTreeMap<TicketNo, SharedRow>,
    /// Per ticket, the store's commit count read before its row was: a row read
    /// earlier never replaces one read later (refreshes can overtake each other).
    versions: std::collections::HashMap<TicketNo, u64>,
}

impl QueueIndex {
    pub(crate) fn upsert(&mut self, row: QueueRow) {
        self.rows.insert(row.ticket.number, Arc::new(row));
    }

    /// Puts in (or takes out, with `None`) the row of `number` as read at `version`,
    /// unless a row read at a later version is there already.
    pub(super) fn apply_read(&mut self, number: TicketNo, version: u64, row: Option<QueueRow>) {
        if self.versions.get(&number).is_some_and(|&v| v > version) {
            return;
        }
        self.versions.insert(number, version);
        match row {
            Some(row) => self.upsert(row),
            None => self.remove(number),
        }
    }

    pub(crate) fn remove(&mut self, number: TicketNo) {
        self.rows.remove(&number);
    }

    pub(crate) fn get(&self, number: TicketNo) -> Option<&SharedRow> {
        self.rows.get(&number)
    }

    /// The highest ticket number there is.
    pub(crate) fn newest(&self) -> Option<TicketNo> {
        self.rows.keys().next_back().copied()
    }

    /// The rows matching `q`, sorted as asked.
    pub(crate) fn query(&self, q: &QueueQuery) -> Vec<SharedRow> {
        let matcher = q.matcher();
        let mut out: Vec<SharedRow> = self
            .rows
            .values()
            .filter(|r| matcher.matches(r))
            .cloned()
            .collect();
        out.sort_unstable_by(|a, b| q.order(a, b));
        out
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

fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::CustomerId;

    fn ticket(n: u64, status: Status, assignee: Option<&str>, subject: &str) -> Ticket {
        Ticket {
            number: TicketNo(n),
            subject: subject.into(),
            status,
            priority: if n.is_multiple_of(2) {
                Priority::High
            } else {
                Priority::Low
            },
            assignee: assignee.map(String::from),
            tags: if n == 3 {
                vec!["billing".into()]
            } else {
                vec![]
            },
            customer: CustomerId([0; 16]),
            created: Timestamp(n as i64),
            updated: Timestamp(100 - n as i64),
            due: None,
        }
    }

    #[test]
    fn filters_and_sorts() {
        let mut idx = QueueIndex::default();
        idx.upsert(QueueRow::new(
            ticket(1, Status::New, None, "Printer on fire"),
            None,
        ));
        idx.upsert(QueueRow::new(
            ticket(2, Status::Open, Some("alice"), "Invoice wrong"),
            None,
        ));
        idx.upsert(QueueRow::new(
            ticket(3, Status::Pending, Some("bob"), "Invoice missing"),
            None,
        ));
        idx.upsert(QueueRow::new(
            ticket(4, Status::Closed, Some("alice"), "Old"),
            None,
        ));
        let nums =
            |rows: Vec<SharedRow>| rows.iter().map(|r| r.ticket.number.0).collect::<Vec<_>>();

        assert_eq!(nums(idx.query(&QueueQuery::default())), vec![1, 2, 3]);
        let mine = QueueQuery {
            assignee: AssigneeFilter::Agent,
            agent: Some("alice".into()),
            ..Default::default()
        };
        assert_eq!(nums(idx.query(&mine)), vec![2]);
        let text = QueueQuery {
            text: "INVOICE miss".into(),
            ..Default::default()
        };
        assert_eq!(nums(idx.query(&text)), vec![3]);
        let tag = QueueQuery {
            tag: Some("billing".into()),
            ..Default::default()
        };
        assert_eq!(nums(idx.query(&tag)), vec![3]);
        let closed = QueueQuery {
            statuses: vec![Status::Closed],
            ..Default::default()
        };
        assert_eq!(nums(idx.query(&closed)), vec![4]);
        let by_prio = QueueQuery {
            sort: SortKey::Priority,
            ..Default::default()
        };
        assert_eq!(nums(idx.query(&by_prio)), vec![2, 1, 3]);
        let unassigned = QueueQuery {
            assignee: AssigneeFilter::Unassigned,
            ..Default::default()
        };
        assert_eq!(nums(idx.query(&unassigned)), vec![1]);
    }

    /// A view kept up to date one ticket at a time lists exactly what a fresh query
    /// would, in the same order, for every sort and filter, through random changes.
    #[test]
    fn a_view_updated_per_ticket_equals_a_fresh_query() {
        let mut seed = 7_u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let subjects = [
            "Invoice wrong",
            "Password reset",
            "Invoice missing",
            "Hello",
        ];
        let statuses = Status::ALL;
        let random_ticket = |n: u64, next: &mut dyn FnMut(u64) -> u64| Ticket {
            number: TicketNo(n),
            subject: subjects[next(4) as usize].into(),
            status: statuses[next(statuses.len() as u64) as usize],
            priority: [
                Priority::Low,
                Priority::Normal,
                Priority::High,
                Priority::Urgent,
            ][next(4) as usize],
            assignee: [None, Some("alice".to_string()), Some("bob".to_string())][next(3) as usize]
                .clone(),
            tags: if next(3) == 0 {
                vec!["billing".into()]
            } else {
                vec![]
            },
            customer: CustomerId([0; 16]),
            created: Timestamp(next(50) as i64),
            updated: Timestamp(next(50) as i64),
            due: (next(2) == 0).then(|| Timestamp(next(50) as i64)),
        };
        let queries = [
            QueueQuery::default(),
            QueueQuery {
                sort: SortKey::Number,
                statuses: Status::ALL.to_vec(),
                ..Default::default()
            },
            QueueQuery {
                sort: SortKey::Priority,
                assignee: AssigneeFilter::Agent,
                agent: Some("alice".into()),
                ..Default::default()
            },
            QueueQuery {
                sort: SortKey::Due,
                text: "invoice".into(),
                ..Default::default()
            },
            QueueQuery {
                assignee: AssigneeFilter::Unassigned,
                tag: Some("billing".into()),
                ..Default::default()
            },
        ];
        let mut idx = QueueIndex::default();
        for n in 1..=60 {
            idx.upsert(QueueRow::new(random_ticket(n, &mut next), None));
        }
        let mut views: Vec<QueueView> = queries
            .iter()
            .map(|q| QueueView::new(idx.query(q)))
            .collect();
        for round in 0..400 {
            let n = TicketNo(1 + next(70));
            if round % 10 == 9 {
                idx.remove(n);
            } else {
                idx.upsert(QueueRow::new(random_ticket(n.0, &mut next), None));
            }
            for (view, q) in views.iter_mut().zip(&queries) {
                view.apply(q, n, idx.get(n).cloned());
                let fresh: Vec<u64> = idx.query(q).iter().map(|r| r.ticket.number.0).collect();
                let kept: Vec<u64> = view.rows().iter().map(|r| r.ticket.number.0).collect();
                assert_eq!(kept, fresh, "round {round}, query {q:?}");
                for (i, r) in view.rows().iter().enumerate() {
                    assert_eq!(
                        view.position(r.ticket.number),
                        Some(i),
                        "numbers beside rows"
                    );
                }
            }
        }
        assert!(
            views.iter().all(|v| !v.is_empty()),
            "the test must exercise non-empty views"
        );
    }

    #[test]
    fn typing_on_narrows_the_view_to_what_a_fresh_query_finds() {
        let mut idx = QueueIndex::default();
        for (n, subject) in [
            (1, "Invoice wrong"),
            (2, "Invoice missing"),
            (3, "Password"),
        ] {
            idx.upsert(QueueRow::new(ticket(n, Status::Open, None, subject), None));
        }
        let before = QueueQuery {
            text: "inv".into(),
            ..Default::default()
        };
        let after = QueueQuery {
            text: "invoice mi".into(),
            ..Default::default()
        };
        assert!(after.narrows(&before));
        assert!(!before.narrows(&after), "deleting a character widens");
        let sorted = QueueQuery {
            sort: SortKey::Number,
            ..after.clone()
        };
        assert!(!sorted.narrows(&before), "another order is not a narrowing");
        let mut view = QueueView::new(idx.query(&before));
        assert_eq!(view.len(), 2);
        view.narrow(&after);
        let kept: Vec<u64> = view.rows().iter().map(|r| r.ticket.number.0).collect();
        assert_eq!(kept, vec![2]);
        assert_eq!(idx.newest(), Some(TicketNo(3)));
    }
}
