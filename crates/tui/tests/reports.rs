//! The Reports screen and the status line's messages through the whole app: a real desk
//! on disk, our key events in, ratatui's TestBackend at 80×24 out.

mod common;

use common::*;

#[test]
fn percent_opens_reports_from_the_queue_and_help_lists_every_key() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    fx.ticket("bo@example.com", "Bo", "Invoice wrong", "see attached");
    // A range is [from, to) with `to` now, in whole seconds: a ticket made this very
    // second counts from the next one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut app = fx.app("alice", 1);
    keys(&mut app, "?");
    let help = help_pages(&mut app, 80, 24);
    assert!(help.contains("reports: volume, backlog"), "{help}");
    assert!(
        help.contains("the last messages of the status line"),
        "{help}"
    );
    code(&mut app, KeyCode::Esc);

    keys(&mut app, "%");
    let s = screen(&mut app);
    assert!(s.contains("Queue › Reports"), "{s}");
    assert!(s.contains("1 volume") && s.contains("█o opened"), "{s}");
    // This week's row counts the two tickets just made: opened 2, solved 0.
    let latest = s
        .lines()
        .rev()
        .find(|l| l.contains("-W"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(
        latest
            .trim_end_matches('│')
            .trim_end()
            .ends_with("2      0"),
        "{latest:?}\n{s}"
    );

    keys(&mut app, "?");
    let help = help_pages(&mut app, 80, 24);
    for key in [
        "next report",
        "periods of a day or a week",
        "group by: none, agent, tag, support address",
        "move the range back",
        "hours: the hour before",
    ] {
        assert!(help.contains(key), "{key:?}:\n{help}");
    }
    code(&mut app, KeyCode::Esc);

    // Period, grouping and report by key; the line under the tabs says what is shown.
    keys(&mut app, "p");
    assert!(screen(&mut app).contains("per day"));
    keys(&mut app, "b");
    let s = screen(&mut app);
    assert!(s.contains("by agent") && s.contains("alice"), "{s}");
    keys(&mut app, "5");
    let s = screen(&mut app);
    assert!(s.contains("busiest") && s.contains("00  02  04"), "{s}");
    keys(&mut app, "b");
    assert!(screen(&mut app).contains("the hours report has no grouping"));
    code(&mut app, KeyCode::Tab);
    assert!(screen(&mut app).contains("request"));
    code(&mut app, KeyCode::Esc);
    assert!(screen(&mut app).contains("Queue (2)"));
}

#[test]
fn the_range_moves_back_and_forward_but_not_past_now() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let mut app = fx.app("alice", 1);
    keys(&mut app, "%");
    let now = screen(&mut app);
    let dates = |s: &str| row_with(s, " → ").to_string();
    keys(&mut app, "]");
    assert!(screen(&mut app).contains("this range already ends now"));
    keys(&mut app, "[");
    let earlier = screen(&mut app);
    assert_ne!(dates(&earlier), dates(&now), "{earlier}");
    // Twelve weeks back, none of them holds the ticket just made.
    assert!(
        !earlier
            .lines()
            .any(|l| l.contains("-W") && l.contains(" 1 ")),
        "{earlier}"
    );
    keys(&mut app, "]");
    assert_eq!(dates(&screen(&mut app)), dates(&now));
}

#[test]
fn a_long_message_is_shown_whole_at_80_columns_and_h_lists_the_earlier_ones() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer", "help");
    let mut app = fx.app("alice", 1);
    keys(&mut app, "%]");
    code(&mut app, KeyCode::Esc);
    code(&mut app, KeyCode::Enter);
    // An agent may not erase: the desk says so, and names who can. At 80 columns the
    // status line used to end at "ask an"; the message now goes on below it.
    keys(&mut app, "cX");
    let s = screen(&mut app);
    let status: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.starts_with(" alice (agent)"))
        .collect();
    assert!(status.len() >= 2, "the status area grew:\n{s}");
    let shown = status
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        shown.contains("only an admin can erase a customer: ask an admin"),
        "the whole message:\n{s}"
    );
    // The screen above gave the status area its rows: still 24 in all.
    assert_eq!(s.lines().count(), 24);

    keys(&mut app, "H");
    let s = screen(&mut app);
    assert!(s.contains("Messages: the last 50"), "{s}");
    assert!(s.contains("this range already ends now"), "{s}");
    assert!(s.contains("! only an admin can erase"), "{s}");
    code(&mut app, KeyCode::Esc);
    assert!(!screen(&mut app).contains("Messages: the last 50"));
}
