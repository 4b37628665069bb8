//! The ticket queue as agents see it: an in-memory index over every ticket, built on
//! first use and kept current by each desk operation, so filtering 100,000 tickets per
//! keystroke never touches the store.

use crate::model::{Customer, Priority, Status, Ticket, TicketNo, Timestamp};
use std::collections::BTreeMap;

/// One queue row: the ticket and how to show its customer.
#[derive(Clone, Debug)]
pub struct QueueRow {
    pub ticket: Ticket,
    /// Name and address, or the placeholder once erased.
    pub customer_label: String,
    /// Lower-cased subject and customer label, for free-text search.
    haystack: String,
}

impl QueueRow {
    pub fn new(ticket: Ticket, customer: Option<&Customer>) -> QueueRow {
        let customer_label = match customer {
            Some(c) if !c.name.is_empty() => format!("{} <{}>", c.name, c.primary_email()),
            Some(c) => c.primary_email().to_string(),
            None => crate::store::ERASED_PLACEHOLDER.to_string(),
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

#[derive(Default)]
pub struct QueueIndex {
    rows: BTreeMap<TicketNo, QueueRow>,
}

impl QueueIndex {
    pub fn upsert(&mut self, row: QueueRow) {
        self.rows.insert(row.ticket.number, row);
    }

    pub fn remove(&mut self, number: TicketNo) {
        self.rows.remove(&number);
    }

    pub fn get(&self, number: TicketNo) -> Option<&QueueRow> {
        self.rows.get(&number)
    }

    /// The rows matching `q`, sorted as asked.
    pub fn query(&self, q: &QueueQuery) -> Vec<QueueRow> {
        let words: Vec<String> = q.text.split_whitespace().map(str::to_lowercase).collect();
        let mut out: Vec<QueueRow> = self
            .rows
            .values()
            .filter(|r| {
                let t = &r.ticket;
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
                    && words.iter().all(|w| r.haystack.contains(w.as_str()))
            })
            .cloned()
            .collect();
        match q.sort {
            SortKey::Updated => out.sort_by(|a, b| {
                b.ticket
                    .updated
                    .cmp(&a.ticket.updated)
                    .then(b.ticket.number.cmp(&a.ticket.number))
            }),
            SortKey::Number => out.sort_by_key(|r| std::cmp::Reverse(r.ticket.number)),
            SortKey::Priority => out.sort_by(|a, b| {
                priority_rank(b.ticket.priority)
                    .cmp(&priority_rank(a.ticket.priority))
                    .then(a.ticket.created.cmp(&b.ticket.created))
            }),
            SortKey::Due => {
                out.sort_by_key(|r| (r.ticket.due.unwrap_or(Timestamp(i64::MAX)), r.ticket.number))
            }
        }
        out
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
    use crate::model::CustomerId;

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
        let nums = |rows: Vec<QueueRow>| rows.iter().map(|r| r.ticket.number.0).collect::<Vec<_>>();

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
}
