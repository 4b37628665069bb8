//! Privacy requests per kind: how many came and were finished in the range, how many
//! are open and overdue at its end, and how long completion took.

use super::table::{median, p90, Table};
use super::Scope;
use crate::{Desk, Result};
use sealdesk_model::{Column, DecisionOutcome, RequestKind, Row, Unit};

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
        for r in self.store.requests()? {
            let Some(i) = RequestKind::ALL.iter().position(|&k| k == r.kind) else {
                continue;
            };
            let k = table.row(i);
            if r.received >= from && r.received < to {
                k.received += 1;
            }
            let decided = r.decision.as_ref().filter(|d| d.at < to);
            if let Some(d) = decided.filter(|d| d.at >= from) {
                match d.outcome {
                    DecisionOutcome::Completed => {
                        k.completed += 1;
                        k.took.push((d.at.0 - r.received.0).max(0));
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
}
