//! Privacy requests per kind: how many came and were finished in the range, how many
//! are open and overdue at its end, and how long completion took. What the report needs
//! of each request (kind and times, nothing about the customer) is kept in memory and
//! read from the store again only after a request was stored or removed (the desk's
//! request generation went up).

use super::table::{median, p90, Table};
use super::Scope;
use crate::{Desk, Result};
use parking_lot::Mutex;
use sealdesk_model::{Column, DecisionOutcome, PrivacyRequest, RequestKind, Row, Timestamp, Unit};
use std::sync::Arc;

/// A request as the report counts it.
#[derive(Clone, Copy)]
struct Facts {
    kind: RequestKind,
    received: Timestamp,
    due: Timestamp,
    decided: Option<(DecisionOutcome, Timestamp)>,
}

impl Facts {
    fn of(r: &PrivacyRequest) -> Facts {
        Facts {
            kind: r.kind,
            received: r.received,
            due: r.due,
            decided: r.decision.as_ref().map(|d| (d.outcome, d.at)),
        }
    }
}

/// The requests' facts as read at a request generation.
#[derive(Default)]
pub(crate) struct RequestFacts(Mutex<Option<(u64, Arc<Vec<Facts>>)>>);

#[derive(Default)]
struct Kind {
    received: i64,
    completed: i64,
    denied: i64,
    open: i64,
    overdue: i64,
    took: Vec<i64>,
}

impl Desk {
    /// Rows: every request kind. `received` in the range; `completed` / `denied`:
    /// decided so in it; `open` at `to` (received before, not decided by then);
    /// `overdue`: open at `to` and past its due time (an extension's, if extended);
    /// `completion_median` / `_p90`: received → completed, of those completed in it.
    pub(super) fn privacy_report(&self, scope: &Scope) -> Result<(Vec<Column>, Vec<Row>)> {
        let (from, to) = scope.range();
        let mut table: Table<Kind> =
            Table::fixed(RequestKind::ALL.iter().map(|k| k.as_str().to_string()));
        for r in self.request_facts()?.iter() {
            let Some(i) = RequestKind::ALL.iter().position(|&k| k == r.kind) else {
                continue;
            };
            let k = table.row(i);
            if r.received >= from && r.received < to {
                k.received += 1;
            }
            let decided = r.decided.filter(|&(_, at)| at < to);
            if let Some((outcome, at)) = decided.filter(|&(_, at)| at >= from) {
                match outcome {
                    DecisionOutcome::Completed => {
                        k.completed += 1;
                        k.took.push((at.0 - r.received.0).max(0));
                    }
                    DecisionOutcome::Denied => k.denied += 1,
                }
            }
            if r.received < to && decided.is_none() {
                k.open += 1;
                if r.due < to {
                    k.overdue += 1;
                }
            }
        }
        let count = |name: &str| Column {
            name: name.into(),
            unit: Unit::Count,
        };
        let seconds = |name: &str| Column {
            name: name.into(),
            unit: Unit::Seconds,
        };
        let cols = vec![
            count("received"),
            count("completed"),
            count("denied"),
            count("open"),
            count("overdue"),
            seconds("completion_median"),
            seconds("completion_p90"),
        ];
        let rows = table.into_rows(|k| {
            vec![
                Some(k.received),
                Some(k.completed),
                Some(k.denied),
                Some(k.open),
                Some(k.overdue),
                median(&mut k.took),
                p90(&mut k.took),
            ]
        });
        Ok((cols, rows))
    }

    /// Every request's facts, read again if a request changed since they were.
    fn request_facts(&self) -> Result<Arc<Vec<Facts>>> {
        let generation = self.request_generation();
        if let Some((g, facts)) = &*self.report_memory.requests.0.lock() {
            if *g == generation {
                return Ok(Arc::clone(facts));
            }
        }
        let facts: Arc<Vec<Facts>> =
            Arc::new(self.store.requests()?.iter().map(Facts::of).collect());
        *self.report_memory.requests.0.lock() = Some((generation, Arc::clone(&facts)));
        Ok(facts)
    }

    /// After the store was reopened: read again when next needed.
    pub(crate) fn requests_reopened(&self) {
        *self.report_memory.requests.0.lock() = None;
    }
}
