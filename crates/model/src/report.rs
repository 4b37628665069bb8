//! Reports: how the desk is doing, as plain tables that the CLI prints (text, JSON, CSV)
//! and the TUI draws as charts. Every label is a period, an age bucket, a weekday, an
//! agent's name, a tag or one of the desk's own support addresses: never customer text
//! or a customer's address.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

word_enum!(
    /// Which report: `volume` (opened and solved per period), `backlog` (open tickets
    /// by age), `response-times` (first response and resolution, median and p90), `sla`
    /// (met against breached), `hours` (busiest hours of the week), `privacy` (requests
    /// per kind and their time to completion).
    ReportKind {
        Volume => "volume",
        Backlog => "backlog",
        ResponseTimes => "response-times",
        Sla => "sla",
        Hours => "hours",
        Privacy => "privacy",
    }
);

word_enum!(
    /// The length of a row's period, in the desk's time zone (the SLA calendar's).
    Period {
        Day => "day",
        Week => "week",
    }
);

word_enum!(
    /// Rows per group instead of per period (`--by`).
    GroupBy {
        Agent => "agent",
        Tag => "tag",
        Address => "address",
    }
);

word_enum!(
    /// What a column's numbers are.
    Unit {
        Count => "count",
        Seconds => "seconds",
    }
);

/// What to report on. `from`/`to` default (in the desk) to the last 12 weeks, or the
/// last 30 days when `period` is `day`, ending now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub kind: ReportKind,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub period: Period,
    pub by: Option<GroupBy>,
}

impl ReportQuery {
    pub fn new(kind: ReportKind) -> ReportQuery {
        ReportQuery {
            kind,
            from: None,
            to: None,
            period: Period::Week,
            by: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// A stable snake_case name (`opened`, `first_response_p90`, …): the CSV header and
    /// the JSON key a script reads.
    pub name: String,
    pub unit: Unit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The period (`2026-11-30`, `2026-W48`), age bucket, weekday, agent, tag or address.
    pub label: String,
    /// One value per column; `None` where there is nothing to measure (a median of no
    /// tickets).
    pub values: Vec<Option<i64>>,
}

/// One report: a table with typed columns. The desk fills it; the CLI and the TUI only
/// show it. Serialised (JSON) with its times as RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub kind: ReportKind,
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    pub from: Timestamp,
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    pub to: Timestamp,
    pub period: Period,
    pub by: Option<GroupBy>,
    /// The time zone periods, weekdays and hours are counted in.
    pub zone: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Report {
    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// A duration as people read it in a table: `45s`, `12m`, `3h 20m`, `2d 4h`.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => match (s / 3_600, (s % 3_600) / 60) {
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h {m}m"),
        },
        s => match (s / 86_400, (s % 86_400) / 3_600) {
            (d, 0) => format!("{d}d"),
            (d, h) => format!("{d}d {h}h"),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_words() {
        use super::duration_words as w;
        assert_eq!(w(45), "45s");
        assert_eq!(w(12 * 60 + 5), "12m");
        assert_eq!(w(3 * 3600 + 20 * 60 + 9), "3h 20m");
        assert_eq!(w(7200), "2h");
        assert_eq!(w(2 * 86_400 + 4 * 3600 + 59), "2d 4h");
        assert_eq!(w(86_400), "1d");
        assert_eq!(w(-5), "0s");
    }
}
