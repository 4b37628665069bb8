//! Reports: how the desk is doing, one report at a time, drawn as charts with the
//! numbers beside them. The desk computes each [`Report`] (a table of typed columns);
//! this screen only chooses the query and draws what comes back, generically from the
//! columns' units and names, so a column the desk adds later still shows.
//!
//! The report is read when the screen opens and when a key changes the query, never
//! while drawing. Desk changes only mark it stale: it is read again on a tick at most
//! every [`RELOAD_SECS`], as a burst of mail must not recompute reports per message.

mod draw;

use super::{Ctx, Look};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::widgets::list::{self, ScrollList, Words};
use ratatui::layout::Rect;
use ratatui::Frame;
use sealdesk_api::Change;
use sealdesk_model::{GroupBy, Period, Report, ReportKind, ReportQuery, Timestamp, Unit};

/// A stale report (tickets changed since it was read) is read again this often at most.
const RELOAD_SECS: i64 = 30;

#[derive(Clone, Copy)]
enum ReportsKey {
    Next,
    Previous,
    Kind,
    Period,
    Group,
    Earlier,
    Later,
    Unit,
    Left,
    Right,
    Reload,
    Back,
}

const MOVES: Words = Words {
    down: "next row (hours: next day)",
    up: "previous row (hours: previous day)",
    top: "first row",
    bottom: "last row",
};

const KEYS: &[Binding<ReportsKey>] = &[
    bind(
        &[key(KeyCode::Tab)],
        ReportsKey::Next,
        "next report",
        Some("report"),
    ),
    bind(
        &[key(KeyCode::BackTab)],
        ReportsKey::Previous,
        "previous report",
        None,
    ),
    bind(
        &[ch('1'), ch('2'), ch('3'), ch('4'), ch('5'), ch('6')],
        ReportsKey::Kind,
        "volume, backlog, response times, SLA, busiest hours, privacy requests",
        None,
    ),
    bind(
        &[ch('p')],
        ReportsKey::Period,
        "periods of a day or a week (the range goes back to the latest)",
        Some("day/week"),
    ),
    bind(
        &[ch('b')],
        ReportsKey::Group,
        "group by: none, agent, tag, support address",
        Some("by"),
    ),
    bind(
        &[ch('[')],
        ReportsKey::Earlier,
        "move the range back by its length",
        Some("earlier"),
    ),
    bind(
        &[ch(']')],
        ReportsKey::Later,
        "move the range forward (up to now)",
        Some("later"),
    ),
    bind(
        &[ch('u')],
        ReportsKey::Unit,
        "chart the counts or the durations (where a report has both)",
        Some("counts/times"),
    ),
    bind(
        &[ch('h'), key(KeyCode::Left)],
        ReportsKey::Left,
        "hours: the hour before",
        None,
    ),
    bind(
        &[ch('l'), key(KeyCode::Right)],
        ReportsKey::Right,
        "hours: the hour after",
        None,
    ),
    bind(
        &[ch('r')],
        ReportsKey::Reload,
        "read the report again",
        None,
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        ReportsKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![list::help_section("Reports", &MOVES, KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

/// The reports in the order of their keys (1–6) and of Tab.
const KINDS: [ReportKind; 6] = [
    ReportKind::Volume,
    ReportKind::Backlog,
    ReportKind::ResponseTimes,
    ReportKind::Sla,
    ReportKind::Hours,
    ReportKind::Privacy,
];

/// Whether a report can group its rows (hours and privacy requests have fixed rows).
fn takes_grouping(kind: ReportKind) -> bool {
    !matches!(kind, ReportKind::Hours | ReportKind::Privacy)
}

pub(crate) struct ReportsScreen {
    query: ReportQuery,
    /// The last report read for `query`; `None` when reading it failed.
    report: Option<Report>,
    /// Why the last read failed, shown in place of the charts.
    problem: Option<String>,
    /// The selected row: of the table, and the group highlighted in the chart.
    list: ScrollList,
    /// The selected hour in the hours grid.
    hour: usize,
    /// The unit the agent chose to chart (`u`); `None` charts the report's main one.
    unit: Option<Unit>,
    read_at: Timestamp,
    stale: bool,
}

impl ReportsScreen {
    pub(crate) fn open(ctx: &Ctx) -> ReportsScreen {
        let mut screen = ReportsScreen::new(ReportQuery::new(ReportKind::Volume));
        screen.load(ctx);
        screen
    }

    fn new(query: ReportQuery) -> ReportsScreen {
        ReportsScreen {
            query,
            report: None,
            problem: None,
            list: ScrollList::default(),
            hour: 0,
            unit: None,
            read_at: Timestamp(0),
            stale: false,
        }
    }

    /// Reads the report for the current query. A failure is shown on the screen (the
    /// charts would otherwise show figures for another query).
    fn load(&mut self, ctx: &Ctx) {
        let mut query = self.query.clone();
        if !takes_grouping(query.kind) {
            query.by = None;
        }
        self.read_at = Timestamp::now();
        self.stale = false;
        match ctx.desk.report(&ctx.session.actor, &query) {
            Ok(report) => self.show(report),
            Err(e) => {
                self.report = None;
                self.problem = Some(sealdesk_model::sanitize::line(&e.to_string()).into_owned());
            }
        }
    }

    /// Shows `report`, keeping the selected row where it still fits. A new report over
    /// periods starts on the latest one, where the chart shows the most recent bars.
    fn show(&mut self, report: Report) {
        let same_shape = self.report.as_ref().is_some_and(|old| {
            old.kind == report.kind && old.by == report.by && old.rows.len() == report.rows.len()
        });
        if !same_shape {
            let latest = report.by.is_none() && draw::rows_are_periods(report.kind);
            let at = if latest { report.rows.len() } else { 0 };
            self.list.select(at, report.rows.len());
            self.hour = 0;
            if report.kind == ReportKind::Hours {
                // The grid starts on its busiest cell, whose figure it spells out.
                if let Some((row, hour)) = draw::busiest(&report) {
                    self.list.select(row, report.rows.len());
                    self.hour = hour;
                }
            }
        } else {
            self.list.clamp(report.rows.len());
        }
        self.hour = self.hour.min(report.columns.len().saturating_sub(1));
        self.report = Some(report);
        self.problem = None;
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        let rows = self.report.as_ref().map_or(0, |r| r.rows.len());
        if self.list.handle_key(pressed, rows).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            ReportsKey::Next => self.switch(ctx, 1),
            ReportsKey::Previous => self.switch(ctx, KINDS.len() - 1),
            ReportsKey::Kind => {
                let KeyCode::Char(c) = pressed.code else {
                    return None;
                };
                let i = c.to_digit(10)? as usize;
                self.select_kind(ctx, KINDS[i.checked_sub(1)?]);
            }
            ReportsKey::Period => {
                self.query.period = match self.query.period {
                    Period::Week => Period::Day,
                    Period::Day => Period::Week,
                };
                self.latest(ctx);
            }
            ReportsKey::Group => {
                if !takes_grouping(self.query.kind) {
                    return Some(Action::Info(format!(
                        "the {} report has no grouping",
                        self.query.kind
                    )));
                }
                self.query.by = match self.query.by {
                    None => Some(GroupBy::Agent),
                    Some(GroupBy::Agent) => Some(GroupBy::Tag),
                    Some(GroupBy::Tag) => Some(GroupBy::Address),
                    Some(GroupBy::Address) => None,
                };
                self.load(ctx);
            }
            ReportsKey::Earlier => self.shift(ctx, -1),
            ReportsKey::Later => return self.later(ctx),
            ReportsKey::Unit => return self.toggle_unit(),
            ReportsKey::Left => self.hour = self.hour.saturating_sub(1),
            ReportsKey::Right => {
                let last = self.report.as_ref().map_or(0, |r| r.columns.len());
                self.hour = (self.hour + 1).min(last.saturating_sub(1));
            }
            ReportsKey::Reload => self.load(ctx),
            ReportsKey::Back => return Some(Action::Back),
        }
        None
    }

    /// `step` reports along (1: the next, 5: the previous of six).
    fn switch(&mut self, ctx: &Ctx, step: usize) {
        let at = KINDS
            .iter()
            .position(|k| *k == self.query.kind)
            .unwrap_or(0);
        self.select_kind(ctx, KINDS[(at + step) % KINDS.len()]);
    }

    /// Another report over the same range, period and grouping.
    fn select_kind(&mut self, ctx: &Ctx, kind: ReportKind) {
        self.query.kind = kind;
        self.unit = None;
        self.load(ctx);
    }

    /// The range ending now (the desk's default for the period).
    fn latest(&mut self, ctx: &Ctx) {
        self.query.from = None;
        self.query.to = None;
        self.load(ctx);
    }

    /// The range as long as the one shown, `direction` (-1 or 1) lengths along.
    fn shift(&mut self, ctx: &Ctx, direction: i64) {
        let Some((from, to)) = self.report.as_ref().map(|r| (r.from, r.to)) else {
            self.load(ctx);
            return;
        };
        let length = (to.0 - from.0).max(86_400);
        self.query.from = Some(Timestamp(from.0 + direction * length));
        self.query.to = Some(Timestamp(to.0 + direction * length));
        self.load(ctx);
    }

    /// Forward, but never past now: the range that would end later ends now instead.
    fn later(&mut self, ctx: &Ctx) -> Option<Action> {
        let Some(to) = self.query.to else {
            return Some(Action::Info("this range already ends now".into()));
        };
        let length = self.report.as_ref().map_or(0, |r| r.to.0 - r.from.0);
        if to.0 + length >= Timestamp::now().0 {
            self.latest(ctx);
        } else {
            self.shift(ctx, 1);
        }
        None
    }

    fn toggle_unit(&mut self) -> Option<Action> {
        let report = self.report.as_ref()?;
        let has = |unit| report.columns.iter().any(|c| c.unit == unit);
        if !(has(Unit::Count) && has(Unit::Seconds)) {
            return Some(Action::Info(format!(
                "the {} report has only {}",
                report.kind,
                if has(Unit::Seconds) {
                    "durations"
                } else {
                    "counts"
                }
            )));
        }
        self.unit = Some(match draw::charted_unit(report, self.unit) {
            Unit::Count => Unit::Seconds,
            Unit::Seconds => Unit::Count,
        });
        None
    }

    /// Re-reads the report now.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        self.load(ctx);
        None
    }

    /// Tickets changed: the figures may have; they are read again on a later tick.
    pub(crate) fn on_change(&mut self, change: &Change) -> Option<Action> {
        if matches!(change, Change::Ticket(_)) {
            self.stale = true;
        }
        None
    }

    pub(crate) fn tick(&mut self, ctx: &Ctx) -> Option<Action> {
        if self.stale && Timestamp::now().0 - self.read_at.0 >= RELOAD_SECS {
            self.load(ctx);
        }
        None
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        draw::screen(self, frame, area, look.theme);
    }
}

#[cfg(test)]
mod tests;
