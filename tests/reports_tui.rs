//! The Reports screen end to end: the real binary serving, an agent in a real terminal
//! (OpenSSH in tmux) at 80×24. Tickets made through the CLI show as this week's bars in
//! the volume report and as the busiest cell of the hours grid; a message too long for
//! the status line wraps, and `H` shows it again.

mod common;

use common::live::*;
use std::time::Duration;

const SOON: Duration = Duration::from_secs(5);

/// The rows of the screen from the one holding `first` down to the one holding `last`.
fn rows_between<'a>(screen: &'a str, first: &str, last: &str) -> Vec<&'a str> {
    screen
        .lines()
        .skip_while(|l| !l.contains(first))
        .take_while(|l| !l.contains(last))
        .collect()
}

#[test]
fn reports_draw_bars_and_the_hours_grid_at_80_by_24() {
    let desk = TestDesk::new();
    let key = desk.keygen("bob");
    desk.add_agent("bob", &key);
    for (from, subject) in [
        ("ann@example.com", "Printer on fire"),
        ("ben@example.com", "Invoice wrong"),
        ("cy@example.com", "Password reset"),
    ] {
        desk.create_ticket(from, subject, "help");
    }
    // A report's range is [from, to) with `to` now, in whole seconds: a ticket made
    // this very second counts from the next one.
    std::thread::sleep(Duration::from_millis(1100));
    let server = desk.serve();
    let tmux = Tmux::start_named(&desk, "bob", &interactive_ssh(&server, &key, "bob", &[]));
    tmux.resize(80, 24);
    tmux.wait_until("the queue at 80 columns", SOON, |s| {
        s.contains("Queue (3)") && s.lines().next().is_some_and(|t| t.chars().count() == 80)
    });

    tmux.type_text("%");
    let (screen, _) = tmux.wait_until("the volume report", SOON, |s| {
        s.contains("Queue › Reports") && s.contains("█o opened")
    });
    assert!(screen.lines().count() <= 24, "{screen}");
    // This week's row: the three tickets opened, none solved.
    let this_week = screen
        .lines()
        .rev()
        .find(|l| l.contains("-W"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        this_week
            .trim_end_matches('│')
            .trim_end()
            .ends_with("3      0"),
        "{this_week:?}\n{screen}"
    );
    // Its bar is drawn: block characters above the week labels, in the last group.
    let chart = rows_between(&screen, "opened per week", "os os");
    let bars = chart
        .iter()
        .filter(|l| l.chars().any(|c| ('\u{2581}'..='\u{2588}').contains(&c)))
        .count();
    assert!(bars >= 3, "the bars of 3 tickets:\n{screen}");

    // The hours grid: the hour the tickets came in is the busiest cell, '@'.
    tmux.type_text("5");
    let (screen, _) = tmux.wait_until("the hours grid", SOON, |s| {
        s.contains("busiest: ") && s.contains("total")
    });
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let grid: Vec<&str> = screen
        .lines()
        .map(|l| l.trim_start_matches('│'))
        .filter(|l| days.iter().any(|d| l.starts_with(d)))
        .collect();
    assert_eq!(grid.len(), 7, "a row per weekday:\n{screen}");
    // Each day's total ends its row; the week's add up to the three tickets.
    let total: i64 = grid
        .iter()
        .map(|l| {
            let l = l.trim_end_matches('│').trim_end();
            l.rsplit(' ').next().unwrap().parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(total, 3, "{screen}");
    let hot = grid
        .iter()
        .find(|l| l.contains("@@"))
        .unwrap_or_else(|| panic!("the busiest cell is '@':\n{screen}"));
    assert!(
        screen.contains(&format!("busiest: {} ", &hot[..3])),
        "{screen}"
    );
    assert!(screen.lines().count() <= 24, "{screen}");

    // A message too long for the status line at 80 columns wraps onto the next row,
    // and the message history shows it whole.
    tmux.send_keys("Escape");
    tmux.wait_for("Queue (3)");
    tmux.send_keys("Enter");
    tmux.wait_for("Thread (");
    tmux.type_text("cX");
    let (screen, _) = tmux.wait_until("the whole refusal", SOON, |s| {
        let status: Vec<&str> = s
            .lines()
            .skip_while(|l| !l.starts_with(" bob (agent)"))
            .collect();
        let joined = status
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ");
        status.len() >= 2 && joined.contains("only an admin can erase a customer: ask an admin")
    });
    assert!(screen.lines().count() <= 24, "{screen}");
    tmux.type_text("H");
    tmux.wait_for("Messages: the last 50");
    tmux.wait_for("! only an admin can erase a customer: ask an admin");
}
