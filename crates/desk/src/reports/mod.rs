//! Reports (Part 12): figures over every ticket and privacy request, erased customers'
//! included, as [`Report`] tables. Only counts, durations and our own labels (periods,
//! agents, tags, support addresses) leave here.
//!
//! Ticket figures come from the queue index in memory (each row holds its ticket with
//! the SLA clock: first reply, solved), so a report over 100,000 tickets unseals
//! nothing; `hours` reads the arrival times kept beside it (see `hours`), `privacy`
//! the requests (few). The definitions are in docs/decisions.md (Part 12).

mod hours;
mod periods;
mod privacy;
mod table;
mod tickets;

pub(crate) use hours::Arrivals;

use crate::sla::SlaRules;
use crate::{Actor, Desk, DeskError, Result, SharedRow};
use jiff::tz::TimeZone;
use periods::Periods;
use sealdesk_model::{GroupBy, Period, Report, ReportKind, ReportQuery, Timestamp};
use std::sync::Arc;
use table::{Grouping, Table};

/// What one report is computed over.
pub(super) struct Scope {
    from: Timestamp,
    to: Timestamp,
    zone: TimeZone,
    period: Period,
    grouping: Option<Grouping>,
    /// Groups shown even when empty: every agent, every support address.
    known: Vec<String>,
    rules: Arc<SlaRules>,
}

impl Scope {
    fn range(&self) -> (Timestamp, Timestamp) {
        (self.from, self.to)
    }

    /// Empty rows for this scope: per period of the range, or per group.
    fn table<T: Default>(&self) -> Result<Table<T>> {
        let periods = Periods::new(&self.zone, self.from, self.to, self.period)?;
        Ok(Table::for_query(
            periods,
            self.grouping.clone(),
            self.known.iter().cloned(),
        ))
    }
}

impl Desk {
    /// One report (any agent may ask; reading figures is not audited: they hold no
    /// customer data, and the TUI asks on every key).
    pub fn report(&self, _actor: &Actor, query: &ReportQuery) -> Result<Report> {
        let rules = self.sla_rules();
        let zone = rules.calendar().time_zone().clone();
        let zone_name = rules.calendar().zone_name().to_string();
        let (from, to) = periods::range(query.from, query.to, query.period)?;
        if let (Some(by), ReportKind::Hours | ReportKind::Privacy) = (query.by, query.kind) {
            return Err(DeskError::Invalid(format!(
                "the {} report has no groups: drop --by {by}",
                query.kind
            )));
        }
        let config = self.config();
        let default_address = config
            .mail
            .sender_address()
            .unwrap_or_else(|| "default".into());
        let known = match query.by {
            Some(GroupBy::Agent) => self.store.agents()?.into_iter().map(|a| a.name).collect(),
            Some(GroupBy::Address) => std::iter::once(default_address.clone())
                .chain(
                    config
                        .mail
                        .addresses
                        .keys()
                        .map(|a| sealdesk_model::normalize_email(a)),
                )
                .collect(),
            _ => Vec::new(),
        };
        let scope = Scope {
            from,
            to,
            zone,
            period: query.period,
            grouping: query.by.map(|by| Grouping {
                by,
                default_address,
            }),
            known,
            rules,
        };
        let (columns, rows) = match query.kind {
            ReportKind::Volume => tickets::volume(&scope, &self.report_rows()?)?,
            ReportKind::Backlog => tickets::backlog(&scope, &self.report_rows()?)?,
            ReportKind::ResponseTimes => tickets::response_times(&scope, &self.report_rows()?)?,
            ReportKind::Sla => tickets::sla(&scope, &self.report_rows()?)?,
            ReportKind::Hours => self.hours_report(&scope)?,
            ReportKind::Privacy => self.privacy_report(&scope)?,
        };
        Ok(Report {
            kind: query.kind,
            from,
            to,
            period: query.period,
            by: query.by,
            zone: zone_name,
            columns,
            rows,
        })
    }

    /// A date (`2026-11-01`: midnight in the desk's zone, the SLA calendar's) or an
    /// RFC 3339 time, as `--from` / `--to` take it.
    pub fn report_time(&self, text: &str) -> Result<Timestamp> {
        periods::parse_time(text, self.sla_rules().calendar().time_zone())
    }

    /// Every ticket's queue row (shared, not copied): the lock is not held while the
    /// figures are counted.
    fn report_rows(&self) -> Result<Vec<SharedRow>> {
        self.ensure_queue_index()?;
        let slot = self.queue.read();
        Ok(slot
            .built
            .as_ref()
            .map(|idx| idx.all_rows())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{Status, Unit};

    /// A desk's figures right after its tickets were made: what was created, replied
    /// to and solved now shows in this week's row; every report answers.
    #[test]
    fn every_report_answers_and_counts_what_just_happened() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let admin = Actor::local_admin();
        let a = crate::testing::new_ticket(&desk, "ann@example.com", "Printer", "on fire");
        let b = crate::testing::new_ticket(&desk, "bob@example.com", "Invoice", "wrong");
        desk.add_reply(&admin, a, "on it").unwrap();
        desk.set_status(&admin, a, Status::Solved).unwrap();
        desk.set_tags(&admin, b, &["billing".into()]).unwrap();
        let ask = |kind, by| {
            let mut q = ReportQuery::new(kind);
            q.to = Some(Timestamp(Timestamp::now().0 + 60));
            q.by = by;
            desk.report(&admin, &q).unwrap()
        };
        let volume = ask(ReportKind::Volume, None);
        let last = volume.rows.last().unwrap();
        assert_eq!(last.values, vec![Some(2), Some(1)], "{volume:?}");
        assert!(volume.rows[..volume.rows.len() - 1]
            .iter()
            .all(|r| r.values == vec![Some(0), Some(0)]));
        let by_tag = ask(ReportKind::Volume, Some(GroupBy::Tag));
        let labels: Vec<&str> = by_tag.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["billing", "untagged"]);
        let backlog = ask(ReportKind::Backlog, None);
        assert_eq!(backlog.rows[0].label, "< 1 day");
        assert_eq!(backlog.rows[0].values, vec![Some(1), Some(0)]);
        let times = ask(ReportKind::ResponseTimes, None);
        let last = times.rows.last().unwrap();
        assert_eq!(last.values[0], Some(2));
        assert!(last.values[1].is_some_and(|s| (0..60).contains(&s)));
        assert_eq!(times.columns[1].unit, Unit::Seconds);
        let hours = ask(ReportKind::Hours, None);
        assert_eq!(hours.rows.len(), 7);
        let received: i64 = hours
            .rows
            .iter()
            .flat_map(|r| r.values.iter().flatten())
            .sum();
        assert_eq!(received, 2, "two customer messages");
        assert_eq!(ask(ReportKind::Privacy, None).rows.len(), 7);
        assert!(ask(ReportKind::Sla, None)
            .rows
            .iter()
            .all(|r| r.values == vec![Some(0), Some(0), Some(0)]));
        let mut bad = ReportQuery::new(ReportKind::Hours);
        bad.by = Some(GroupBy::Agent);
        assert!(desk.report(&admin, &bad).is_err());
    }
}
