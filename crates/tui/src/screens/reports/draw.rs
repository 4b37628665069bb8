//! Drawing a report: tabs of the six reports, a line saying what is shown, the chart
//! (grouped bars, a sparkline for volume, a heat grid for busiest hours) with the
//! numbers in a table beside or below it, and a footer of keys. Everything is derived
//! from the report's columns (their unit and name), so new columns still show.
//!
//! Every chart also reads without colour: each series' bars carry its letter under
//! them, and heat cells are the characters ` .:-=+*#%@` from quiet to busiest.

use super::{hints, ReportsScreen, KINDS};
use crate::display;
use crate::theme::{Role, Theme};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Cell, Paragraph, Row, Sparkline, Tabs};
use ratatui::Frame;
use sealdesk_model::sanitize;
use sealdesk_model::{Report, ReportKind, Unit};
use unicode_width::UnicodeWidthStr;

/// Heat levels from nothing to the busiest cell.
pub(super) const SHADES: [char; 10] = [' ', '.', ':', '-', '=', '+', '*', '#', '%', '@'];

const SERIES: [Role; 4] = [Role::Chart1, Role::Chart2, Role::Chart3, Role::Chart4];

/// Reports whose rows (without grouping) are periods, oldest first.
pub(super) fn rows_are_periods(kind: ReportKind) -> bool {
    matches!(
        kind,
        ReportKind::Volume | ReportKind::ResponseTimes | ReportKind::Sla
    )
}

/// The unit whose columns the chart shows: the one chosen, or the one most columns
/// have (durations for response times, counts for privacy requests).
pub(super) fn charted_unit(report: &Report, chosen: Option<Unit>) -> Unit {
    let count = |unit| report.columns.iter().filter(|c| c.unit == unit).count();
    match chosen {
        Some(unit) if count(unit) > 0 => unit,
        _ if count(Unit::Seconds) > count(Unit::Count) => Unit::Seconds,
        _ => Unit::Count,
    }
}

/// The tab title of a report.
fn title(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Volume => "volume",
        ReportKind::Backlog => "backlog",
        ReportKind::ResponseTimes => "response",
        ReportKind::Sla => "SLA",
        ReportKind::Hours => "hours",
        ReportKind::Privacy => "privacy",
    }
}

/// A column's name for a table header, short enough for 80 columns.
fn header(name: &str) -> String {
    let short = match name {
        "first_response_median" => "resp med",
        "first_response_p90" => "resp p90",
        "resolution_median" => "solve med",
        "resolution_p90" => "solve p90",
        "completion_median" => "done med",
        "completion_p90" => "done p90",
        other => return other.replace('_', " "),
    };
    short.to_string()
}

/// "45s", "12m", "3h 20m", "2d 4h": durations as the CLI writes them.
pub(super) fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => match (s / 3_600, s % 3_600 / 60) {
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h {m}m"),
        },
        s => match (s / 86_400, s % 86_400 / 3_600) {
            (d, 0) => format!("{d}d"),
            (d, h) => format!("{d}d {h}h"),
        },
    }
}

/// A duration in at most three characters, for the top of a bar: "45m", "3h", "2d".
fn duration_short(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

fn value_text(value: Option<i64>, unit: Unit) -> String {
    match (value, unit) {
        (None, _) => "–".into(),
        (Some(v), Unit::Count) => v.to_string(),
        (Some(v), Unit::Seconds) => duration(v),
    }
}

/// The letter under each series' bars: its name's first letter where those differ,
/// otherwise a, b, c…
fn letters(names: &[String]) -> Vec<char> {
    let firsts: Vec<char> = names
        .iter()
        .map(|n| n.chars().next().unwrap_or('?'))
        .collect();
    let unique = firsts
        .iter()
        .enumerate()
        .all(|(i, c)| !firsts[..i].contains(c));
    if unique {
        firsts
    } else {
        ('a'..='z').take(names.len()).collect()
    }
}

/// What a report's rows are, for the table's first header.
fn rows_header(report: &Report) -> String {
    if let Some(by) = report.by {
        return by.as_str().into();
    }
    match report.kind {
        ReportKind::Backlog => "age".into(),
        ReportKind::Privacy => "request".into(),
        ReportKind::Hours => "day".into(),
        _ => report.period.as_str().into(),
    }
}

pub(super) fn screen(s: &mut ReportsScreen, frame: &mut Frame, area: Rect, theme: &Theme) {
    let block = Block::bordered()
        .title(" Reports ")
        .title_style(theme.style(Role::Title))
        .border_style(theme.style(Role::BorderFocused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [tabs, summary, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let selected = KINDS.iter().position(|k| *k == s.query.kind);
    let titles = KINDS
        .iter()
        .enumerate()
        .map(|(i, kind)| format!("{} {}", i + 1, title(*kind)));
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .style(theme.style(Role::Muted))
            .highlight_style(theme.style(Role::Selected))
            .divider("│"),
        tabs,
    );
    draw_footer(frame, footer, theme);
    if let Some(problem) = &s.problem {
        let text = format!("could not read the report: {problem} (r tries again)");
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.style(Role::MessageError)))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            summary.union(body),
        );
        return;
    }
    let Some(report) = s.report.take() else {
        return;
    };
    draw_summary(frame, summary, theme, &report);
    if report.rows.is_empty() || report.columns.is_empty() {
        let text = "No figures in this range. [ goes back to earlier ones.";
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.style(Role::Muted))),
            body,
        );
    } else if report.kind == ReportKind::Hours {
        heat_grid(s, frame, body, theme, &report);
    } else {
        bars_and_table(s, frame, body, theme, &report);
    }
    s.report = Some(report);
}

/// "per week · 2026-09-07 → 2026-11-30 · UTC", and what the charted figures are.
fn draw_summary(frame: &mut Frame, area: Rect, theme: &Theme, report: &Report) {
    let mut words = Vec::new();
    if rows_are_periods(report.kind) {
        words.push(format!("per {}", report.period));
    }
    if let Some(by) = report.by {
        words.push(format!("by {by}"));
    }
    if report.kind == ReportKind::Backlog {
        // A snapshot: the tickets still open at the end of the range.
        words.push(format!("open at {}", display::minute(report.to)));
    } else {
        words.push(format!(
            "{} → {}",
            display::day(report.from),
            display::day(report.to)
        ));
    }
    words.push(sanitize::line(&report.zone).into_owned());
    frame.render_widget(
        Paragraph::new(Line::styled(words.join(" · "), theme.style(Role::Muted))),
        area,
    );
}

fn draw_footer(frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut spans = Vec::new();
    for (keys, hint) in hints() {
        spans.push(Span::styled(keys, theme.style(Role::Header)));
        spans.push(Span::styled(format!(" {hint}  "), theme.style(Role::Muted)));
    }
    spans.push(Span::styled("?", theme.style(Role::Header)));
    spans.push(Span::styled(" all keys", theme.style(Role::Muted)));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The table's column widths: the labels', then each column's (header or widest value).
fn table_widths(report: &Report) -> (u16, Vec<u16>) {
    let label = report
        .rows
        .iter()
        .map(|r| sanitize::line(&r.label).width())
        .chain([rows_header(report).width()])
        .max()
        .unwrap_or(0)
        .clamp(4, 16) as u16;
    let columns = report
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            report
                .rows
                .iter()
                .map(|r| value_text(r.values.get(i).copied().flatten(), column.unit).width())
                .chain([header(&column.name).width()])
                .max()
                .unwrap_or(1) as u16
        })
        .collect();
    (label, columns)
}

fn bars_and_table(
    s: &mut ReportsScreen,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    report: &Report,
) {
    let (label_width, widths) = table_widths(report);
    let table_width = label_width + widths.iter().map(|w| w + 1).sum::<u16>();
    let (chart, table) = if table_width <= area.width * 2 / 5 {
        let [chart, _, table] = Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Length(table_width),
        ])
        .areas(area);
        (chart, table)
    } else {
        let height = (report.rows.len() as u16 + 1).min(7).min(area.height / 2);
        let [chart, table] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(height)]).areas(area);
        (chart, table)
    };
    draw_table(s, frame, table, theme, report, label_width, &widths);
    draw_chart(s, frame, chart, theme, report);
}

fn draw_table(
    s: &mut ReportsScreen,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    report: &Report,
    label_width: u16,
    widths: &[u16],
) {
    let window = s
        .list
        .keep_in_view((area.height as usize).saturating_sub(1), report.rows.len());
    let rows = report.rows[window].iter().map(|row| {
        let mut cells = vec![Cell::from(sanitize::line(&row.label).into_owned())];
        cells.extend(report.columns.iter().enumerate().map(|(i, column)| {
            let text = value_text(row.values.get(i).copied().flatten(), column.unit);
            Cell::from(Line::from(text).right_aligned())
        }));
        Row::new(cells)
    });
    let mut head = vec![Cell::from(rows_header(report))];
    head.extend(
        report
            .columns
            .iter()
            .map(|c| Cell::from(Line::from(header(&c.name)).right_aligned())),
    );
    let constraints = std::iter::once(Constraint::Length(label_width))
        .chain(widths.iter().map(|w| Constraint::Length(*w)));
    s.list
        .render_table(frame, area, theme, Row::new(head), rows, constraints);
}

/// The series charted, as (column index, name) of the charted unit.
fn series(report: &Report, unit: Unit) -> Vec<(usize, String)> {
    report
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.unit == unit)
        .map(|(i, c)| (i, header(&c.name)))
        .collect()
}

fn draw_chart(
    s: &mut ReportsScreen,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    report: &Report,
) {
    let unit = charted_unit(report, s.unit);
    let series = series(report, unit);
    let names: Vec<String> = series.iter().map(|(_, n)| n.clone()).collect();
    let letters = letters(&names);
    let style = |i: usize| theme.style(SERIES[i % SERIES.len()]);
    let spark = report.kind == ReportKind::Volume
        && report.by.is_none()
        && area.height >= 10
        && !series.is_empty();
    let [legend, sparkline, bars] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(if spark { 2 } else { 0 }),
        Constraint::Fill(1),
    ])
    .areas(area);

    // Names are cut to share the line when they do not all fit on it.
    let full: usize = names.iter().map(|n| n.width() + 5).sum();
    let room = if full > legend.width as usize {
        (legend.width as usize / names.len().max(1))
            .saturating_sub(5)
            .max(1)
    } else {
        usize::MAX
    };
    let mut spans = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let name: String = name.chars().take(room).collect();
        spans.push(Span::styled(format!("█{} ", letters[i]), style(i)));
        spans.push(Span::raw(format!("{name}  ")));
    }
    if unit == Unit::Seconds {
        spans.push(Span::styled("(bars: time)", theme.style(Role::Muted)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), legend);

    if spark {
        let (column, name) = &series[0];
        let data: Vec<u64> = report
            .rows
            .iter()
            .map(|r| r.values.get(*column).copied().flatten().unwrap_or(0).max(0) as u64)
            .collect();
        let label = format!("{name} per {}: ", report.period);
        let [label_area, line] = Layout::horizontal([
            Constraint::Length(label.width() as u16),
            Constraint::Fill(1),
        ])
        .areas(sparkline);
        frame.render_widget(
            Paragraph::new(Line::styled(label, theme.style(Role::Muted))),
            label_area,
        );
        let width = line.width as usize;
        let shown = &data[data.len().saturating_sub(width)..];
        frame.render_widget(Sparkline::default().data(shown).style(style(0)), line);
    }

    let n = series.len().max(1) as u16;
    const GROUP_GAP: u16 = 1;
    let fits = |bar: u16, groups: u16| groups * n * bar + groups.saturating_sub(1) * GROUP_GAP;
    let total = report.rows.len() as u16;
    let bar_width = (1..=4)
        .rev()
        .find(|w| fits(*w, total) <= bars.width)
        .unwrap_or(1);
    let visible = ((bars.width + GROUP_GAP) / (n * bar_width + GROUP_GAP)).max(1) as usize;
    let selected = s.list.selected();
    let first = (selected + 1)
        .saturating_sub(visible)
        .min(report.rows.len().saturating_sub(visible));
    let scale = |v: i64| match unit {
        Unit::Count => v.max(0) as u64,
        // Minutes: fine enough for the bar's height, small enough for a u64 of days.
        Unit::Seconds => (v.max(0) / 60) as u64,
    };
    let max = report
        .rows
        .iter()
        .flat_map(|r| {
            series
                .iter()
                .map(|(i, _)| r.values.get(*i).copied().flatten())
        })
        .flatten()
        .map(scale)
        .max()
        .unwrap_or(0)
        .max(1);
    let group_width = (n * bar_width) as usize;
    let mut chart = BarChart::default()
        .bar_width(bar_width)
        .bar_gap(0)
        .group_gap(GROUP_GAP)
        .max(max)
        .label_style(theme.style(Role::Muted));
    for (at, row) in report.rows.iter().enumerate().skip(first).take(visible) {
        let bars: Vec<Bar> = series
            .iter()
            .enumerate()
            .map(|(k, (i, _))| {
                let value = row.values.get(*i).copied().flatten();
                let mut bar = Bar::default()
                    .value(value.map_or(0, scale))
                    .style(style(k))
                    .value_style(
                        style(k)
                            .patch(Style::new().add_modifier(ratatui::style::Modifier::REVERSED)),
                    )
                    .text_value(match (value, unit) {
                        (None, _) => String::new(),
                        (Some(v), Unit::Count) => v.to_string(),
                        (Some(v), Unit::Seconds) => duration_short(v),
                    });
                if series.len() > 1 {
                    bar = bar.label(Line::from(letters[k].to_string()));
                }
                bar
            })
            .collect();
        let label = group_label(&sanitize::line(&row.label), group_width);
        let label_style = if at == selected {
            theme.style(Role::Selected)
        } else {
            theme.style(Role::Muted)
        };
        chart = chart.data(
            BarGroup::default()
                .label(Line::styled(label, label_style))
                .bars(&bars),
        );
    }
    frame.render_widget(chart, bars);
}

/// A row's label shortened to `width`: a period loses its year first (`W48`,
/// `11-30`), then keeps its end (`48`, `30`); other labels are cut.
pub(super) fn group_label(label: &str, width: usize) -> String {
    let mut candidates = vec![label.to_string()];
    if let Some((year, rest)) = label.split_once('-') {
        if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) {
            candidates.push(rest.to_string());
            let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
            candidates.push(digits[digits.len().saturating_sub(2)..].to_string());
        }
    }
    candidates
        .into_iter()
        .find(|c| c.width() <= width)
        .unwrap_or_else(|| label.chars().take(width).collect())
}

/// The heat level (0–9) of `value` against the busiest cell's `max`; anything above
/// zero shows at least as a dot.
pub(super) fn level(value: i64, max: i64) -> usize {
    if value <= 0 || max <= 0 {
        return 0;
    }
    ((value * 9 + max - 1) / max).clamp(1, 9) as usize
}

fn heat_role(level: usize) -> Role {
    match level {
        0..=3 => Role::HeatLow,
        4..=6 => Role::HeatMid,
        _ => Role::HeatHigh,
    }
}

/// The (row, column) of the busiest cell, the first of equals; `None` when all are 0.
pub(super) fn busiest(report: &Report) -> Option<(usize, usize)> {
    let value = |r: usize, c: usize| report.rows[r].values.get(c).copied().flatten();
    (0..report.rows.len())
        .flat_map(|r| (0..report.columns.len()).map(move |c| (r, c)))
        .filter(|&(r, c)| value(r, c).unwrap_or(0) > 0)
        .max_by_key(|&(r, c)| (value(r, c), std::cmp::Reverse((r, c))))
}

/// Busiest hours: a row per weekday, a cell per hour, shaded by count, with each day's
/// total beside it and the selected cell's figure under it.
fn heat_grid(s: &mut ReportsScreen, frame: &mut Frame, area: Rect, theme: &Theme, report: &Report) {
    let value = |r: usize, c: usize| report.rows[r].values.get(c).copied().flatten().unwrap_or(0);
    let columns = report.columns.len();
    let max = (0..report.rows.len())
        .flat_map(|r| (0..columns).map(move |c| (r, c)))
        .map(|(r, c)| value(r, c))
        .max()
        .unwrap_or(0);
    let label_width = report
        .rows
        .iter()
        .map(|r| sanitize::line(&r.label).width())
        .max()
        .unwrap_or(3)
        .min(10)
        + 1;
    const TOTAL: usize = 7;
    let room = (area.width as usize).saturating_sub(label_width + TOTAL);
    let cell = (room / columns.max(1)).clamp(1, 3);
    // Hour labels every few cells, so that they do not run into each other.
    let step = 3usize.div_ceil(cell);
    let selected_row = s.list.selected().min(report.rows.len().saturating_sub(1));
    let hour = s.hour.min(columns.saturating_sub(1));

    let mut lines = Vec::new();
    let mut head = " ".repeat(label_width);
    for c in (0..columns).step_by(step) {
        let name = report.columns[c].name.trim_start_matches('h');
        let width = cell * step.min(columns - c);
        head.push_str(&format!("{name:<width$}"));
    }
    head.push_str(&format!("{:>TOTAL$}", "total"));
    lines.push(Line::styled(head, theme.style(Role::Header)));
    let window = s
        .list
        .keep_in_view(area.height.saturating_sub(4) as usize, report.rows.len());
    for r in window {
        let row = &report.rows[r];
        let label_style = if r == selected_row {
            theme.style(Role::Selected)
        } else {
            theme.style(Role::Header)
        };
        let label = sanitize::line(&row.label).into_owned();
        let mut spans = vec![
            Span::styled(label.clone(), label_style),
            Span::raw(" ".repeat(label_width.saturating_sub(label.width()))),
        ];
        let mut total = 0;
        for c in 0..columns {
            let v = value(r, c);
            total += v.max(0);
            let l = level(v, max);
            let mark = SHADES[l];
            let text: String = if cell == 3 {
                format!("{mark}{mark} ")
            } else {
                std::iter::repeat_n(mark, cell).collect()
            };
            let mut style = theme.style(heat_role(l));
            if r == selected_row && c == hour {
                style = theme.style(Role::Selected);
            }
            spans.push(Span::styled(text, style));
        }
        spans.push(Span::raw(format!("{total:>TOTAL$}")));
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    let mut scale = vec![Span::styled("quiet ", theme.style(Role::Muted))];
    for (l, mark) in SHADES.iter().enumerate().skip(1) {
        scale.push(Span::styled(mark.to_string(), theme.style(heat_role(l))));
    }
    let busiest = busiest(report);
    let describe = |r: usize, c: usize| {
        let name = report.columns[c].name.trim_start_matches('h');
        format!(
            "{} {name}:00 {}",
            sanitize::line(&report.rows[r].label),
            value(r, c)
        )
    };
    scale.push(Span::styled(
        format!(" busiest ({max})   h/l: hour  j/k: day"),
        theme.style(Role::Muted),
    ));
    lines.push(Line::from(scale));
    if columns > 0 {
        let mut detail = vec![Span::raw(format!(
            "selected: {}",
            describe(selected_row, hour)
        ))];
        if let Some((r, c)) = busiest {
            detail.push(Span::styled(
                format!(" · busiest: {}", describe(r, c)),
                theme.style(Role::Muted),
            ));
        }
        lines.push(Line::from(detail));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
