//! A report's rows while they are counted: one per period of the range, or one per
//! group (agent, tag, support address), each holding what its columns are made from.

use super::periods::Periods;
use sealdesk_model::{GroupBy, Row, Ticket, Timestamp};
use std::collections::HashMap;

/// The group of tickets without an assignee.
pub(super) const UNASSIGNED: &str = "unassigned";
/// The group of tickets without a tag.
pub(super) const UNTAGGED: &str = "untagged";

/// How tickets fall into groups; `default_address` names the tickets that came to the
/// default support address (`mail.from`).
#[derive(Clone)]
pub(super) struct Grouping {
    pub(super) by: GroupBy,
    pub(super) default_address: String,
}

impl Grouping {
    /// Calls `f` with each group `t` is in: its assignee, each of its tags, its address.
    pub(super) fn each(&self, t: &Ticket, mut f: impl FnMut(&str)) {
        match self.by {
            GroupBy::Agent => f(t.assignee.as_deref().unwrap_or(UNASSIGNED)),
            GroupBy::Tag if t.tags.is_empty() => f(UNTAGGED),
            GroupBy::Tag => t.tags.iter().for_each(|tag| f(tag)),
            GroupBy::Address => f(t.address.as_deref().unwrap_or(&self.default_address)),
        }
    }
}

/// The rows being counted, each with its accumulator `T`.
pub(super) struct Table<T> {
    labels: Vec<String>,
    cells: Vec<T>,
    keys: Keys,
}

enum Keys {
    Periods(Periods),
    Groups(Grouping, HashMap<String, usize>),
    /// Rows fixed in advance (age buckets, weekdays, request kinds).
    Fixed,
}

impl<T: Default> Table<T> {
    /// One row per period of the range, zeros included.
    pub(super) fn periods(periods: Periods) -> Table<T> {
        let labels = periods.labels().to_vec();
        let cells = labels.iter().map(|_| T::default()).collect();
        Table {
            labels,
            cells,
            keys: Keys::Periods(periods),
        }
    }

    /// One row per group met, and per name in `known` (agents, addresses) even if none.
    pub(super) fn groups(grouping: Grouping, known: impl IntoIterator<Item = String>) -> Table<T> {
        let mut table = Table {
            labels: Vec::new(),
            cells: Vec::new(),
            keys: Keys::Groups(grouping, HashMap::new()),
        };
        for name in known {
            table.group(&name);
        }
        table
    }

    /// Rows in this order, with these labels.
    pub(super) fn fixed(labels: impl IntoIterator<Item = String>) -> Table<T> {
        let labels: Vec<String> = labels.into_iter().collect();
        let cells = labels.iter().map(|_| T::default()).collect();
        Table {
            labels,
            cells,
            keys: Keys::Fixed,
        }
    }

    /// Rows by period or by group, as the query asks.
    pub(super) fn for_query(
        periods: Periods,
        grouping: Option<Grouping>,
        known: impl IntoIterator<Item = String>,
    ) -> Table<T> {
        match grouping {
            Some(g) => Table::groups(g, known),
            None => Table::periods(periods),
        }
    }

    fn group(&mut self, name: &str) -> usize {
        let Keys::Groups(_, index) = &mut self.keys else {
            unreachable!("groups only")
        };
        if let Some(&i) = index.get(name) {
            return i;
        }
        let i = self.labels.len();
        index.insert(name.to_string(), i);
        self.labels.push(name.to_string());
        self.cells.push(T::default());
        i
    }

    /// Whether rows are groups (or periods, or fixed).
    pub(super) fn is_grouped(&self) -> bool {
        matches!(self.keys, Keys::Groups(..))
    }

    /// `f` on the row (by period) or rows (by group) where something that happened to
    /// `t` at `at` counts; nothing when `at` is outside `[from, to)`.
    pub(super) fn at(
        &mut self,
        t: &Ticket,
        at: Timestamp,
        (from, to): (Timestamp, Timestamp),
        mut f: impl FnMut(&mut T),
    ) {
        match &self.keys {
            Keys::Periods(p) => {
                if let Some(i) = p.index(at) {
                    f(&mut self.cells[i]);
                }
            }
            Keys::Groups(..) if at < from || at >= to => {}
            Keys::Groups(..) => self.in_groups(t, f),
            Keys::Fixed => unreachable!("fixed rows are counted by row"),
        }
    }

    /// `f` on each row of the groups `t` is in (whatever the time).
    pub(super) fn in_groups(&mut self, t: &Ticket, mut f: impl FnMut(&mut T)) {
        let mut rows = Vec::new();
        if let Keys::Groups(g, index) = &self.keys {
            g.each(t, |name| match index.get(name) {
                Some(&i) => rows.push(Ok(i)),
                None => rows.push(Err(name.to_string())),
            });
        }
        for row in rows {
            let i = row.unwrap_or_else(|name| self.group(&name));
            f(&mut self.cells[i]);
        }
    }

    /// The fixed row `i`.
    pub(super) fn row(&mut self, i: usize) -> &mut T {
        &mut self.cells[i]
    }

    /// The rows, each made into values by `values`. Groups come sorted by name, the
    /// `unassigned` / `untagged` group last; labels pass the sanitizer.
    pub(super) fn into_rows(
        mut self,
        mut values: impl FnMut(&mut T) -> Vec<Option<i64>>,
    ) -> Vec<Row> {
        let grouped = self.is_grouped();
        let mut rows: Vec<Row> = self
            .labels
            .into_iter()
            .zip(&mut self.cells)
            .map(|(label, cell)| Row {
                label: if grouped {
                    sealdesk_model::sanitize::line(&label).into_owned()
                } else {
                    label
                },
                values: values(cell),
            })
            .collect();
        if grouped {
            rows.sort_by(|a, b| {
                let last = |l: &str| l == UNASSIGNED || l == UNTAGGED;
                (last(&a.label), &a.label).cmp(&(last(&b.label), &b.label))
            });
        }
        rows
    }
}

/// The median of `values` (of an even count, the mean of the two middle ones, rounded
/// down), None for none. Sorts `values`.
pub(super) fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]).div_euclid(2)
    })
}

/// The 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest value. Sorts `values`.
pub(super) fn p90(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (9 * values.len()).div_ceil(10);
    Some(values[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_as_documented() {
        assert_eq!(median(&mut []), None);
        assert_eq!(p90(&mut []), None);
        assert_eq!(median(&mut [5]), Some(5));
        assert_eq!(median(&mut [40, 10, 30, 20]), Some(25));
        assert_eq!(median(&mut [1, 2]), Some(1), "1.5 rounds down");
        assert_eq!(median(&mut [3, 1, 2]), Some(2));
        // n = 10: rank 9; n = 11: rank ceil(9.9) = 10; n = 3: rank ceil(2.7) = 3.
        let mut ten: Vec<i64> = (1..=10).collect();
        assert_eq!(p90(&mut ten), Some(9));
        let mut eleven: Vec<i64> = (1..=11).rev().collect();
        assert_eq!(p90(&mut eleven), Some(10));
        assert_eq!(p90(&mut [7, 1, 4]), Some(7));
        assert_eq!(p90(&mut [4]), Some(4));
    }
}
