//! The range of a report and its rows of periods (days, ISO weeks) in the desk's zone.

use crate::{DeskError, Result};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use sealdesk_model::{Period, Timestamp};

/// More rows than a screen or a spreadsheet wants: a range is refused past this.
pub(super) const MAX_PERIODS: usize = 1_000;

/// The range a query asks for, with its defaults: `to` now, `from` 12 weeks (or, by
/// day, 30 days) before `to`.
pub(super) fn range(
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    period: Period,
) -> Result<(Timestamp, Timestamp)> {
    let to = to.unwrap_or_else(Timestamp::now);
    let back = match period {
        Period::Week => 12 * 7,
        Period::Day => 30,
    };
    let from = from.unwrap_or(to.plus_days(-back));
    if from >= to {
        return Err(DeskError::Invalid(format!(
            "the range is empty: --from ({from}) must be before --to ({to})"
        )));
    }
    Ok((from, to))
}

/// The local date of `at` in `zone`.
pub(super) fn date_of(zone: &TimeZone, at: i64) -> Option<Date> {
    let ts = jiff::Timestamp::from_second(at).ok()?;
    Some(zone.to_datetime(ts).date())
}

/// Local midnight of `date` in `zone` (a midnight skipped by DST reads as the next
/// instant there is).
pub(super) fn midnight(zone: &TimeZone, date: Date) -> Option<i64> {
    let ts = zone.to_timestamp(date.to_datetime(Time::midnight())).ok()?;
    Some(ts.as_second())
}

/// A date (`2026-11-01`, its midnight in `zone`) or an RFC 3339 time.
pub(super) fn parse_time(text: &str, zone: &TimeZone) -> Result<Timestamp> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(Timestamp(ts.as_second()));
    }
    t.parse::<Date>()
        .ok()
        .and_then(|d| midnight(zone, d))
        .map(Timestamp)
        .ok_or_else(|| {
            DeskError::Invalid(format!(
                "{:?} is not a date: write 2026-11-01 (midnight in the desk's zone) or 2026-11-01T08:00:00Z",
                sealdesk_model::sanitize::line(t)
            ))
        })
}

/// The periods a range touches, in order: row `i` counts what happened in
/// `[starts[i], starts[i + 1])`, cut to the range.
pub(super) struct Periods {
    starts: Vec<i64>,
    labels: Vec<String>,
    from: i64,
    to: i64,
}

impl Periods {
    pub(super) fn new(
        zone: &TimeZone,
        from: Timestamp,
        to: Timestamp,
        period: Period,
    ) -> Result<Periods> {
        let bad = || {
            DeskError::Invalid("the range lies outside the calendar: give --from and --to between the years 1 and 9999".into())
        };
        let mut date = date_of(zone, from.0).ok_or_else(bad)?;
        if period == Period::Week {
            let back = date.weekday().to_monday_zero_offset() as i32;
            date = date
                .checked_sub(jiff::Span::new().days(back))
                .map_err(|_| bad())?;
        }
        let step = match period {
            Period::Day => 1,
            Period::Week => 7,
        };
        let mut starts = Vec::new();
        let mut labels = Vec::new();
        loop {
            let start = midnight(zone, date).ok_or_else(bad)?;
            if start >= to.0 && !starts.is_empty() {
                starts.push(start);
                break;
            }
            if labels.len() == MAX_PERIODS {
                return Err(DeskError::Invalid(format!(
                    "the range holds more than {MAX_PERIODS} periods: narrow --from/--to or use --period week"
                )));
            }
            starts.push(start);
            labels.push(label(date, period));
            date = date
                .checked_add(jiff::Span::new().days(step))
                .map_err(|_| bad())?;
        }
        Ok(Periods {
            starts,
            labels,
            from: from.0,
            to: to.0,
        })
    }

    /// The row of the period `at` falls in, if it is in the range.
    pub(super) fn index(&self, at: Timestamp) -> Option<usize> {
        if at.0 < self.from || at.0 >= self.to {
            return None;
        }
        let i = self.starts.partition_point(|&s| s <= at.0);
        i.checked_sub(1).filter(|&i| i < self.labels.len())
    }

    pub(super) fn labels(&self) -> &[String] {
        &self.labels
    }
}

/// `2026-11-30`, or the ISO week `2026-W48`.
fn label(date: Date, period: Period) -> String {
    match period {
        Period::Day => date.to_string(),
        Period::Week => {
            let w = date.iso_week_date();
            format!("{:04}-W{:02}", w.year(), w.week())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_every_period_is_a_row() {
        let zone = TimeZone::UTC;
        // Wed 2026-11-25 12:00 UTC to Tue 2026-12-08 00:00.
        let from = Timestamp(1_795_608_000);
        let to = Timestamp(1_796_688_000);
        let weeks = Periods::new(&zone, from, to, Period::Week).unwrap();
        assert_eq!(weeks.labels(), ["2026-W48", "2026-W49", "2026-W50"]);
        assert_eq!(weeks.index(Timestamp(from.0 - 1)), None, "before the range");
        assert_eq!(weeks.index(from), Some(0));
        // Mon 2026-11-30 00:00 begins W49.
        assert_eq!(weeks.index(Timestamp(1_795_996_800)), Some(1));
        assert_eq!(weeks.index(Timestamp(1_795_996_799)), Some(0));
        assert_eq!(weeks.index(to), None, "the end is not in the range");
        let days = Periods::new(&zone, from, to, Period::Day).unwrap();
        assert_eq!(days.labels().len(), 13);
        assert_eq!(days.labels()[0], "2026-11-25");
        assert_eq!(days.labels()[12], "2026-12-07");
    }

    #[test]
    fn dates_are_midnight_in_the_zone() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            parse_time("2026-11-01", &berlin).unwrap(),
            Timestamp(1_793_491_200 - 3600)
        );
        assert_eq!(
            parse_time("2026-11-01T00:00:00Z", &berlin).unwrap(),
            Timestamp(1_793_491_200)
        );
        let e = parse_time("yesterday", &berlin).unwrap_err().to_string();
        assert!(e.contains("2026-11-01") && !e.contains('\n'), "{e}");
    }
}
