//! The ticket queue as agents see it: an in-memory index over every ticket, built on
//! first use and kept current by each desk operation, so filtering 100,000 tickets per
//! keystroke never touches the store.
//!
//! Rows are shared: the index holds each row once behind an [`Arc`], and a session's
//! filtered view ([`QueueView`]) is a sorted list of pointers into it. The row, query
//! and view types are in `sealdesk_api` (the TUI names them); the index is here.

pub use sealdesk_api::{
    AssigneeFilter, BodyHits, BodyProgress, QueueQuery, QueueRow, QueueView, SharedRow, SortKey,
};
use sealdesk_model::{Ticket, TicketNo};
use std::collections::BTreeMap;
use std::sync::Arc;

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

    /// Up to `limit` ticket numbers after `after`, in order.
    pub(crate) fn numbers_after(&self, after: TicketNo, limit: usize) -> Vec<TicketNo> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.rows
            .range((Excluded(after), Unbounded))
            .take(limit)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Every row, in ticket order (reports count over them).
    pub(crate) fn all_rows(&self) -> Vec<SharedRow> {
        self.rows.values().cloned().collect()
    }

    /// The highest ticket number there is.
    pub(crate) fn newest(&self) -> Option<TicketNo> {
        self.rows.keys().next_back().copied()
    }

    /// The numbers of the tickets for which `wanted` holds, in order.
    pub(crate) fn numbers_where(&self, wanted: impl Fn(&Ticket) -> bool) -> Vec<TicketNo> {
        self.rows
            .iter()
            .filter(|(_, r)| wanted(&r.ticket))
            .map(|(n, _)| *n)
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{CustomerId, Priority, Status, Ticket, Timestamp};

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
            address: None,
            participants: Vec::new(),
            links: Vec::new(),
            snoozed_until: None,
            due_by_hand: false,
            sla: Default::default(),
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
            address: None,
            participants: Vec::new(),
            links: Vec::new(),
            snoozed_until: None,
            due_by_hand: false,
            sla: Default::default(),
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
