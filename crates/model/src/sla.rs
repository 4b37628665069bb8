//! Business time and a ticket's SLA clock: pure functions, no I/O.
//!
//! A [`Calendar`] says when the desk works (a time zone, hours per weekday, holidays);
//! [`Calendar::add`] and [`Calendar::between`] count business seconds in it. A ticket's
//! [`SlaClock`] remembers what its targets start and stop on (the first reply, the
//! customer's message awaiting ours, solved, the pauses while pending), and
//! [`SlaClock::due`] turns that and a policy's [`Targets`] into the next due time.

use super::{MessageKind, Status, Timestamp};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How far ahead business time is looked for (a calendar with hours finds them long
/// before; one whose every day is a holiday gives up here).
const HORIZON_DAYS: i64 = 3 * 366;

/// Working hours: spans of seconds since local midnight (end may be 86 400), per
/// weekday from Monday, in a time zone, minus holidays.
#[derive(Clone, Debug)]
pub struct Calendar {
    zone: TimeZone,
    week: [Vec<(u32, u32)>; 7],
    holidays: BTreeSet<Date>,
}

/// The weekday names `sla.hours.DAY` takes, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Calendar {
    /// Round the clock in UTC, no holidays: business time is wall-clock time.
    pub fn always() -> Calendar {
        Calendar {
            zone: TimeZone::UTC,
            week: std::array::from_fn(|_| vec![(0, 86_400)]),
            holidays: BTreeSet::new(),
        }
    }

    /// A calendar from its config: an IANA zone name (empty: UTC), the hours of each
    /// weekday from Monday (`"09:00-12:00,13:00-17:00"`; empty: closed), holiday dates
    /// (`2026-12-25`). The error names what is wrong.
    pub fn new(zone: &str, week: [&str; 7], holidays: &[String]) -> Result<Calendar, String> {
        let zone = match zone.trim() {
            "" => TimeZone::UTC,
            name => TimeZone::get(name).map_err(|_| {
                format!("sla.zone: {name:?} is not a time zone: use an IANA name such as Europe/Berlin or UTC")
            })?,
        };
        let mut spans: [Vec<(u32, u32)>; 7] = Default::default();
        for (i, text) in week.iter().enumerate() {
            spans[i] = parse_spans(text).map_err(|e| format!("sla.hours.{}: {e}", WEEKDAYS[i]))?;
        }
        let mut days = BTreeSet::new();
        for h in holidays.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
            days.insert(h.parse::<Date>().map_err(|_| {
                format!("sla.holidays: {h:?} is not a date: write dates like 2026-12-25, comma-separated")
            })?);
        }
        Ok(Calendar {
            zone,
            week: spans,
            holidays: days,
        })
    }

    /// Whether the calendar has any working hour in a week.
    pub fn has_hours(&self) -> bool {
        self.week.iter().any(|d| !d.is_empty())
    }

    /// The time zone (reports count periods, weekdays and hours in it).
    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The time zone's name (`UTC` for the default).
    pub fn zone_name(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }

    /// The local date at `at`.
    fn date_of(&self, at: i64) -> Option<Date> {
        let ts = jiff::Timestamp::from_second(at).ok()?;
        Some(self.zone.to_datetime(ts).date())
    }

    /// The instant of `seconds` after local midnight of `date` (86 400: the next
    /// midnight). A local time skipped by a DST change reads as the later one.
    fn instant(&self, date: Date, seconds: u32) -> Option<i64> {
        let (date, seconds) = if seconds >= 86_400 {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, seconds)
        };
        let time = Time::new(
            (seconds / 3600) as i8,
            ((seconds / 60) % 60) as i8,
            (seconds % 60) as i8,
            0,
        )
        .ok()?;
        let ts = self.zone.to_timestamp(date.to_datetime(time)).ok()?;
        Some(ts.as_second())
    }

    /// The working periods of one local day, as UTC second ranges.
    fn periods(&self, date: Date) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let day = date.weekday().to_monday_zero_offset() as usize;
        self.week[day]
            .iter()
            .filter_map(|&(a, b)| Some((self.instant(date, a)?, self.instant(date, b)?)))
            .filter(|(a, b)| a < b)
            .collect()
    }

    /// The instant at which `seconds` business seconds have passed since `from`; None
    /// when the calendar has no working time within three years.
    pub fn add(&self, from: Timestamp, seconds: i64) -> Option<Timestamp> {
        let mut left = seconds.max(0);
        let mut date = self.date_of(from.0)?.yesterday().ok()?;
        for _ in 0..HORIZON_DAYS {
            for (a, b) in self.periods(date) {
                let a = a.max(from.0);
                if a >= b {
                    continue;
                }
                if left == 0 {
                    return Some(Timestamp(a));
                }
                if b - a >= left {
                    return Some(Timestamp(a + left));
                }
                left -= b - a;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Business seconds in `[a, b)` (0 when `b <= a`).
    pub fn between(&self, a: Timestamp, b: Timestamp) -> i64 {
        if b <= a {
            return 0;
        }
        let (Some(mut date), Some(last)) = (
            self.date_of(a.0).and_then(|d| d.yesterday().ok()),
            self.date_of(b.0),
        ) else {
            return 0;
        };
        let mut sum = 0;
        while date <= last {
            for (x, y) in self.periods(date) {
                let (x, y) = (x.max(a.0), y.min(b.0));
                if x < y {
                    sum += y - x;
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        sum
    }
}

/// `"09:00-12:00, 13:00-17:00"` as second ranges; empty (or `closed`) is none.
pub fn parse_spans(text: &str) -> Result<Vec<(u32, u32)>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let mut spans = Vec::new();
    for part in text.split(',').map(str::trim) {
        let bad = || {
            format!(
                "{part:?} is not a span of hours: write e.g. 09:00-17:00 (several comma-separated)"
            )
        };
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (a, b) = (
            clock_time(a).ok_or_else(bad)?,
            clock_time(b).ok_or_else(bad)?,
        );
        if a >= b {
            return Err(format!(
                "{part:?} ends before it starts: write e.g. 09:00-17:00"
            ));
        }
        spans.push((a, b));
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(format!("{text:?}: the spans overlap"));
    }
    Ok(spans)
}

/// `9:00`, `09:30`, `24:00` as seconds after midnight.
fn clock_time(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) || text.trim().len() > 5 {
        return None;
    }
    Some(h * 3600 + m * 60)
}

/// An SLA target such as `1h`, `30m`, `1h30m`, `16h`, in seconds (business time: a
/// working day is as long as the calendar says, so days are written as hours).
pub fn parse_target(text: &str) -> Result<i64, String> {
    let bad = || {
        format!("{text:?} is not a target: write business hours and minutes such as 1h, 30m, 1h30m or 16h")
    };
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Err(bad());
    }
    let mut total = 0i64;
    let mut digits = String::new();
    for c in t.chars() {
        match c {
            '0'..='9' => digits.push(c),
            'h' | 'm' if !digits.is_empty() => {
                let n: i64 = digits.parse().map_err(|_| bad())?;
                total += n * if c == 'h' { 3600 } else { 60 };
                digits.clear();
            }
            _ => return Err(bad()),
        }
    }
    if !digits.is_empty() || total == 0 || total > 10_000 * 3600 {
        return Err(bad());
    }
    Ok(total)
}

/// A time an agent types for a snooze or a due time, read at `now` in the calendar's
/// zone: `4h`, `30m`, `2d`, `1w` (from now), `mon 9:00` / `monday` (the next such day,
/// 09:00 unless given), `tomorrow 9:00`, `2026-12-03 10:00`, `2026-12-03`. It must be
/// in the future.
pub fn parse_when(text: &str, now: Timestamp, calendar: &Calendar) -> Result<Timestamp, String> {
    let t = text.trim().to_ascii_lowercase();
    let bad = || {
        format!(
            "cannot read {:?} as a time: write 4h, 2d, mon 9:00, tomorrow 9:00 or 2026-12-03 10:00",
            crate::sanitize::line(text)
        )
    };
    if let Some(secs) = relative(&t) {
        return Ok(Timestamp(now.0 + secs));
    }
    let split = match t.split_once(' ') {
        Some(parts) => Some(parts),
        None => t.split_once('t').filter(|(d, _)| d.parse::<Date>().is_ok()),
    };
    let (day, time) = match split {
        Some((d, tm)) => (d.trim(), Some(clock_time(tm).ok_or_else(bad)?)),
        None => (t.as_str(), None),
    };
    let today = calendar.date_of(now.0).ok_or_else(bad)?;
    let seconds = time.unwrap_or(9 * 3600);
    let date = if let Ok(date) = day.parse::<Date>() {
        date
    } else if day == "today" {
        today
    } else if day == "tomorrow" {
        today.tomorrow().map_err(|_| bad())?
    } else {
        let wanted = WEEKDAYS
            .iter()
            .position(|w| day.len() >= 3 && full_weekday(w).starts_with(day))
            .ok_or_else(bad)?;
        let mut date = today.tomorrow().map_err(|_| bad())?;
        while date.weekday().to_monday_zero_offset() as usize != wanted {
            date = date.tomorrow().map_err(|_| bad())?;
        }
        date
    };
    let at = Timestamp(calendar.instant(date, seconds).ok_or_else(bad)?);
    if at <= now {
        return Err(format!(
            "{} is in the past: give a later time, e.g. 2d",
            crate::sanitize::line(text)
        ));
    }
    Ok(at)
}

fn full_weekday(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// `30m`, `4h`, `2d`, `1w` as seconds (wall-clock).
fn relative(t: &str) -> Option<i64> {
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].trim().parse().ok()?;
    let scale = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    (n > 0 && n <= 3660 * 86_400 / scale).then_some(n * scale)
}

/// The targets of one SLA policy, in business seconds (None: no such target).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    pub first_response: Option<i64>,
    pub next_response: Option<i64>,
    pub resolution: Option<i64>,
}

/// A stretch of time a ticket spent pending (its SLA clock stood still).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: Timestamp,
    pub until: Timestamp,
}

/// The most pauses a ticket remembers; older ones are dropped (their business time
/// then counts again: a due time later too early, never too late).
const MAX_PAUSES: usize = 32;

/// What a ticket's SLA targets start and stop on. Stored with the ticket; every field
/// decodes from zeros, so tickets stored before it read as "nothing yet".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    /// Our first reply to the customer (first response met).
    pub first_reply: Option<Timestamp>,
    /// The customer's message that came after our last reply and waits for the next.
    pub awaiting_since: Option<Timestamp>,
    /// When it was solved or closed (resolution met); None while it is not.
    pub solved_at: Option<Timestamp>,
    /// Pending since then (the clock stands still).
    pub paused_since: Option<Timestamp>,
    /// Earlier pending stretches, oldest first.
    pub pauses: Vec<Pause>,
    /// The clock has followed the ticket from its start. False: stored before SLAs
    /// were kept, so it is read once from the thread ([`SlaClock::from_thread`]).
    pub tracked: bool,
}

impl SlaClock {
    /// The clock of a new ticket.
    pub fn start() -> SlaClock {
        SlaClock {
            tracked: true,
            ..SlaClock::default()
        }
    }

    /// The clock of a ticket stored before SLAs were kept, as far as its thread tells
    /// (customer mail and our replies, in order; notes do not count): a pending ticket
    /// is taken as paused since its last update, a solved or closed one as solved then.
    pub fn from_thread(
        thread: impl IntoIterator<Item = (MessageKind, Timestamp)>,
        status: Status,
        updated: Timestamp,
    ) -> SlaClock {
        let mut clock = SlaClock::start();
        for (kind, at) in thread {
            match kind {
                MessageKind::Inbound => clock.customer_wrote(at),
                MessageKind::Outbound => clock.agent_replied(at),
                _ => {}
            }
        }
        match status {
            Status::Pending => clock.paused_since = Some(updated),
            Status::Solved | Status::Closed => clock.solved_at = Some(updated),
            Status::New | Status::Open => {}
        }
        clock
    }

    /// A customer's message came in.
    pub fn customer_wrote(&mut self, at: Timestamp) {
        if self.first_reply.is_some() && self.awaiting_since.is_none() {
            self.awaiting_since = Some(at);
        }
    }

    /// An agent replied to the customer (a note does not count).
    pub fn agent_replied(&mut self, at: Timestamp) {
        self.first_reply.get_or_insert(at);
        self.awaiting_since = None;
    }

    /// The status went from `before` to `after` at `at`: pending stops the clock,
    /// leaving it starts it again; solved or closed meets the resolution target.
    pub fn status_changed(&mut self, before: Status, after: Status, at: Timestamp) {
        let paused = |s: Status| s == Status::Pending;
        let done = |s: Status| matches!(s, Status::Solved | Status::Closed);
        if paused(after) && self.paused_since.is_none() {
            self.paused_since = Some(at);
        }
        if !paused(after) {
            if let Some(from) = self.paused_since.take() {
                if from < at {
                    self.pauses.push(Pause { from, until: at });
                }
                if self.pauses.len() > MAX_PAUSES {
                    self.pauses.remove(0);
                }
            }
        }
        if done(after) && !done(before) {
            self.solved_at = Some(at);
        } else if !done(after) {
            self.solved_at = None;
        }
    }

    /// The earliest due time of the targets still running, or None (none set, all met,
    /// or paused now).
    pub fn due(
        &self,
        created: Timestamp,
        targets: &Targets,
        calendar: &Calendar,
    ) -> Option<Timestamp> {
        if self.paused_since.is_some() || self.solved_at.is_some() {
            return None;
        }
        let mut running = Vec::new();
        match (self.first_reply, targets.first_response) {
            (None, Some(t)) => running.push((created, t)),
            (Some(_), _) => {
                if let (Some(since), Some(t)) = (self.awaiting_since, targets.next_response) {
                    running.push((since, t));
                }
            }
            _ => {}
        }
        if let Some(t) = targets.resolution {
            running.push((created, t));
        }
        running
            .into_iter()
            .filter_map(|(start, target)| self.reached(start, target, calendar))
            .min()
    }

    /// When `target` business seconds have run since `start`, not counting the pauses
    /// recorded so far (a pause still running is the caller's to consider): whether a
    /// target was met or missed (reports).
    pub fn target_reached(
        &self,
        start: Timestamp,
        target: i64,
        calendar: &Calendar,
    ) -> Option<Timestamp> {
        self.reached(start, target, calendar)
    }

    /// When `target` business seconds have run since `start`, not counting the pauses.
    fn reached(&self, start: Timestamp, target: i64, calendar: &Calendar) -> Option<Timestamp> {
        let mut left = target;
        let mut cursor = start;
        for p in self.pauses.iter().filter(|p| p.until > start) {
            let from = p.from.max(cursor);
            let run = calendar.between(cursor, from);
            if run >= left {
                return calendar.add(cursor, left);
            }
            left -= run;
            cursor = cursor.max(p.until);
        }
        calendar.add(cursor, left)
    }
}

/// How a due time reads: `due 2h`, `due 45m`, `breached 15m`.
pub fn due_words(due: Timestamp, now: Timestamp) -> String {
    if due <= now {
        format!("breached {}", due.age_at(now))
    } else {
        format!("due {}", time_left(now, due))
    }
}

/// The time from `now` until `at`, rounded to its unit (`2d` just after snoozing for
/// two days, not `1d`): `45s`, `30m`, `2h`, `3d`, `5w`.
pub fn time_left(now: Timestamp, at: Timestamp) -> String {
    let s = (at.0 - now.0).max(0);
    let round = |unit: i64| (s + unit / 2) / unit;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 - 30 => format!("{}m", round(60)),
        s if s < 86_400 - 1_800 => format!("{}h", round(3_600)),
        s if s < 86_400 * 14 - 43_200 => format!("{}d", round(86_400)),
        _ => format!("{}w", round(86_400 * 7)),
    }
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
