//! The Reports screen drawn at 80×24 (the app gives a screen 23 rows above the status
//! line) from hand-made reports, in the default theme and in `mono`.

use super::draw::{duration, group_label, level, SHADES};
use super::*;
use crate::theme::{load_theme, Theme};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use sealdesk_model::{Column, Row};

fn columns(names: &[(&str, Unit)]) -> Vec<Column> {
    names
        .iter()
        .map(|(name, unit)| Column {
            name: name.to_string(),
            unit: *unit,
        })
        .collect()
}

fn report(kind: ReportKind, columns: Vec<Column>, rows: Vec<(String, Vec<Option<i64>>)>) -> Report {
    Report {
        kind,
        from: Timestamp(1_788_000_000),
        to: Timestamp(1_795_000_000),
        period: Period::Week,
        by: None,
        zone: "UTC".into(),
        columns,
        rows: rows
            .into_iter()
            .map(|(label, values)| Row { label, values })
            .collect(),
    }
}

/// Twelve weeks W37…W48; week 45 is the busiest (9 opened), week 40 the quietest.
fn volume() -> Report {
    let opened = [3, 4, 2, 1, 5, 6, 4, 2, 9, 5, 3, 4];
    let solved = [2, 3, 3, 1, 4, 5, 4, 3, 6, 5, 2, 1];
    let rows = (0..12)
        .map(|i| {
            (
                format!("2026-W{}", 37 + i),
                vec![Some(opened[i]), Some(solved[i])],
            )
        })
        .collect();
    report(
        ReportKind::Volume,
        columns(&[("opened", Unit::Count), ("solved", Unit::Count)]),
        rows,
    )
}

/// Every hour of the week; Tuesday 10:00 is the busiest (18), Monday 09:00 has 2.
fn hours() -> Report {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let names: Vec<(String, Unit)> = (0..24).map(|h| (format!("h{h:02}"), Unit::Count)).collect();
    let names: Vec<(&str, Unit)> = names.iter().map(|(n, u)| (n.as_str(), *u)).collect();
    let rows = days
        .iter()
        .enumerate()
        .map(|(d, day)| {
            let values = (0..24)
                .map(|h| {
                    Some(match (d, h) {
                        (1, 10) => 18,
                        (0, 9) => 2,
                        (_, 9..=17) if d < 5 => 8,
                        _ => 0,
                    })
                })
                .collect();
            (day.to_string(), values)
        })
        .collect();
    report(ReportKind::Hours, columns(&names), rows)
}

fn render(screen: &mut ReportsScreen, theme: &Theme) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(80, 23)).unwrap();
    let look = Look {
        theme,
        now: Timestamp::now(),
    };
    terminal
        .draw(|frame| screen.draw(frame, frame.area(), &look))
        .unwrap();
    terminal.backend().buffer().clone()
}

fn text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push(buffer[(x, y)].symbol().chars().next().unwrap_or(' '));
        }
        out.push('\n');
    }
    out
}

/// Where `needle` first appears on screen, as (x, y).
fn locate(s: &str, needle: &str) -> Option<(usize, usize)> {
    s.lines().enumerate().find_map(|(y, line)| {
        let at = line.find(needle)?;
        Some((line[..at].chars().count(), y))
    })
}

/// Bar cells (any of ▁…█) in column `x` above row `y`.
fn bar_cells_above(s: &str, x: usize, y: usize) -> usize {
    s.lines()
        .take(y)
        .filter(|line| {
            line.chars()
                .nth(x)
                .is_some_and(|c| ('\u{2581}'..='\u{2588}').contains(&c))
        })
        .count()
}

fn showing(report: Report) -> ReportsScreen {
    let mut screen = ReportsScreen::new(ReportQuery::new(report.kind));
    screen.show(report);
    screen
}

#[test]
fn volume_draws_grouped_bars_a_sparkline_and_the_numbers() {
    let mut screen = showing(volume());
    let s = text(&render(&mut screen, &Theme::default()));
    for wanted in [
        "Reports",
        "1 volume",
        "5 hours",
        "6 privacy",
        "per week",
        "opened per week",
        "█o opened",
        "█s solved",
        "2026-W48",
        "Tab report",
        "Esc back",
    ] {
        assert!(s.contains(wanted), "{wanted:?} missing:\n{s}");
    }
    // All twelve weeks fit as groups, each labelled by its week.
    for week in 37..=48 {
        assert!(s.contains(&format!("W{week}")), "W{week}:\n{s}");
    }
    // The table beside the chart has each week's figures.
    let w45 = s.lines().find(|l| l.contains("2026-W45")).unwrap();
    assert!(
        w45.trim_end_matches('│').trim_end().ends_with("9      6"),
        "{w45:?}\n{s}"
    );
    // Bars grow with the figures: week 45 (9 opened) stands taller than week 40 (1).
    // At 80 columns beside the table, groups are two bars of one column: "45" and "40".
    let (_, labels) = locate(&s, "37 38 39").unwrap_or_else(|| panic!("{s}"));
    let column = |week: &str| {
        let line = s.lines().nth(labels).unwrap();
        line[..line.find(week).unwrap()].chars().count()
    };
    assert!(
        bar_cells_above(&s, column("45"), labels) > bar_cells_above(&s, column("40"), labels) + 3,
        "{s}"
    );
    // The latest week is selected, in the table and under its bars.
    assert_eq!(screen.list.selected(), 11);
    // Each bar carries its series' letter, so the chart reads without colour.
    let letters = s.lines().nth(labels - 1).unwrap();
    assert!(letters.contains("os os"), "{letters:?}\n{s}");
}

#[test]
fn mono_draws_without_colours_and_the_bars_still_read() {
    let (mono, warning) = load_theme(std::path::Path::new("/nonexistent"), "mono", false);
    assert_eq!(warning, None);
    let mut screen = showing(volume());
    let buffer = render(&mut screen, &mono);
    for cell in buffer.content() {
        assert_eq!((cell.fg, cell.bg), (Default::default(), Default::default()));
    }
    let s = text(&buffer);
    assert!(s.contains("█o opened") && s.contains("█s solved"), "{s}");
    assert!(s.contains("os os"), "{s}");
}

#[test]
fn hours_draw_a_heat_grid_with_characters() {
    let mut screen = showing(hours());
    let (mono, _) = load_theme(std::path::Path::new("/nonexistent"), "mono", false);
    let s = text(&render(&mut screen, &mono));
    assert!(s.contains("5 hours") || s.contains("1 volume"), "{s}");
    let row = |day: &str| -> String {
        s.lines()
            .find(|l| l.trim_start_matches('│').starts_with(day))
            .unwrap_or_else(|| panic!("{day}:\n{s}"))
            .to_string()
    };
    // Cells are two columns wide at 80 columns (with the totals beside): hour h
    // starts at 4 + 2h, inside the border.
    let cell = |line: &str, hour: usize| -> String {
        line.chars().skip(1 + 4 + 2 * hour).take(2).collect()
    };
    let tue = row("tue");
    assert_eq!(cell(&tue, 10), "@@", "{tue:?}\n{s}");
    // 8 of 18 is level 4, '='; 2 of 18 is level 1, '.'; nothing is blank.
    assert_eq!(cell(&tue, 11), "==", "{tue:?}");
    let mon = row("mon");
    assert_eq!(cell(&mon, 9), "..", "{mon:?}");
    assert_eq!(cell(&mon, 3), "  ", "{mon:?}");
    let sat = row("sat");
    assert!(sat.chars().skip(5).take(48).all(|c| c == ' '), "{sat:?}");
    // Hour labels over the cells, each day's total beside its row.
    assert!(s.contains("00  02  04"), "{s}");
    assert!(
        tue.trim_end_matches('│').trim_end().ends_with("82"),
        "{tue:?}"
    );
    // The busiest cell is selected and spelled out.
    assert!(s.contains("selected: tue 10:00 18"), "{s}");
    assert!(s.contains("busiest: tue 10:00 18"), "{s}");
    assert!(s.contains(".:-=+*#%@"), "the scale: {s}");
}

#[test]
fn hours_follow_the_selected_cell() {
    let mut screen = showing(hours());
    screen.hour = 9;
    screen.list.select(0, 7);
    let s = text(&render(&mut screen, &Theme::default()));
    assert!(s.contains("selected: mon 09:00 2"), "{s}");
}

#[test]
fn durations_chart_as_time_and_the_counts_on_u() {
    let rows = (0..12)
        .map(|i| {
            (
                format!("2026-W{}", 37 + i),
                vec![
                    Some(4 + i as i64),
                    Some(12_000),
                    Some(90_000),
                    if i == 10 { None } else { Some(2_700) },
                    Some(200_000),
                ],
            )
        })
        .collect();
    let report = report(
        ReportKind::ResponseTimes,
        columns(&[
            ("tickets", Unit::Count),
            ("first_response_median", Unit::Seconds),
            ("first_response_p90", Unit::Seconds),
            ("resolution_median", Unit::Seconds),
            ("resolution_p90", Unit::Seconds),
        ]),
        rows,
    );
    let mut screen = showing(report);
    screen.query.kind = ReportKind::ResponseTimes;
    let s = text(&render(&mut screen, &Theme::default()));
    for wanted in [
        "3 response",
        "(bars: time)",
        "resp med",
        "solve p90",
        "3h 20m",
        "1d 1h",
        "45m",
        "2d 7h",
        "–",
    ] {
        assert!(s.contains(wanted), "{wanted:?} missing:\n{s}");
    }
    // Four duration series: lettered a…d as their names share first letters.
    assert!(
        s.contains("█a resp med") && s.contains("█d solve p90"),
        "{s}"
    );
    assert!(screen.toggle_unit().is_none());
    let s = text(&render(&mut screen, &Theme::default()));
    assert!(
        !s.contains("(bars: time)") && s.contains("█t tickets"),
        "{s}"
    );
}

#[test]
fn a_wide_table_goes_under_the_chart_with_every_column() {
    let kinds = [
        "access",
        "export",
        "erasure",
        "rectification",
        "restriction",
    ];
    let rows = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let n = i as i64;
            (
                k.to_string(),
                vec![
                    Some(n + 3),
                    Some(n + 1),
                    Some(1),
                    Some(1),
                    Some(n % 2),
                    Some(86_400 * (n + 2)),
                    None,
                ],
            )
        })
        .collect();
    let report = report(
        ReportKind::Privacy,
        columns(&[
            ("received", Unit::Count),
            ("completed", Unit::Count),
            ("denied", Unit::Count),
            ("open", Unit::Count),
            ("overdue", Unit::Count),
            ("completion_median", Unit::Seconds),
            ("completion_p90", Unit::Seconds),
        ]),
        rows,
    );
    let mut screen = showing(report);
    let s = text(&render(&mut screen, &Theme::default()));
    let header = s
        .lines()
        .find(|l| l.contains("request") && l.contains("received"))
        .unwrap_or_else(|| panic!("{s}"));
    for column in [
        "completed",
        "denied",
        "open",
        "overdue",
        "done med",
        "done p90",
    ] {
        assert!(header.contains(column), "{column}: {header:?}");
    }
    assert!(s.contains("rectification") && s.contains("4d"), "{s}");
    // Counts are charted (five of seven columns); open and overdue share a first
    // letter, so the series are lettered a…e.
    assert!(s.contains("█a received") && s.contains("█e overdue"), "{s}");
    assert!(s.contains("a b c d e"), "{s}");
}

#[test]
fn a_failure_shows_on_the_screen_and_an_empty_range_says_so() {
    let mut screen = ReportsScreen::new(ReportQuery::new(ReportKind::Sla));
    screen.problem = Some("the desk is shutting down".into());
    let s = text(&render(&mut screen, &Theme::default()));
    assert!(
        s.contains("could not read the report: the desk is shutting down (r tries again)"),
        "{s}"
    );
    let mut screen = showing(report(ReportKind::Sla, Vec::new(), Vec::new()));
    let s = text(&render(&mut screen, &Theme::default()));
    assert!(s.contains("No figures in this range"), "{s}");
}

#[test]
fn labels_levels_and_durations() {
    assert_eq!(group_label("2026-W48", 8), "2026-W48");
    assert_eq!(group_label("2026-W48", 3), "W48");
    assert_eq!(group_label("2026-W48", 2), "48");
    assert_eq!(group_label("2026-11-30", 5), "11-30");
    assert_eq!(group_label("2026-11-30", 2), "30");
    assert_eq!(group_label("alice", 3), "ali");
    assert_eq!(level(0, 10), 0);
    assert_eq!(level(1, 100), 1);
    assert_eq!(level(10, 10), 9);
    assert_eq!(SHADES[level(5, 10)], '+');
    assert_eq!(duration(59), "59s");
    assert_eq!(duration(3_600), "1h");
    assert_eq!(duration(12_000), "3h 20m");
    assert_eq!(duration(90_000), "1d 1h");
}

#[test]
fn a_legend_too_long_for_the_line_cuts_names_but_keeps_every_series() {
    let names = [
        "under_1_day",
        "days_1_3",
        "days_3_7",
        "weeks_1_2",
        "weeks_2_4",
        "over_4_weeks",
    ];
    let cols: Vec<(&str, Unit)> = names.iter().map(|n| (*n, Unit::Count)).collect();
    let rows = ["alice", "bob", "unassigned"]
        .iter()
        .map(|a| (a.to_string(), vec![Some(1); 6]))
        .collect();
    let mut report = report(ReportKind::Backlog, columns(&cols), rows);
    report.by = Some(sealdesk_model::GroupBy::Agent);
    let mut screen = showing(report);
    let s = text(&render(&mut screen, &Theme::default()));
    let legend = row_with(&s, "█a ");
    for letter in ['a', 'b', 'c', 'd', 'e', 'f'] {
        assert!(legend.contains(&format!("█{letter} ")), "{legend:?}\n{s}");
    }
    assert!(s.contains("by agent") && s.contains("open at "), "{s}");
}

fn row_with<'a>(s: &'a str, needle: &str) -> &'a str {
    s.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?}:\n{s}"))
}
