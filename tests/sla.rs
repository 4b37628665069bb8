//! SLA due times end to end: the real binary with a fixed clock (SEALDESK_TEST_CLOCK),
//! mail over real SMTP, business hours in Europe/Berlin, pending pausing the clock, a
//! due time set by hand, and the one-line errors of `ticket set`.

mod common;

use common::clock::{assert_near, set_clock};
use common::live::*;
use common::mailsink::{mail, smtp_send};
use std::path::Path;
use std::process::Output;
use time::macros::datetime;

fn show(desk: &TestDesk, n: &str) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", n, "--json"])).unwrap()
}

/// A CLI command without a server, on the test clock.
fn cli_at(desk: &TestDesk, clock: &Path, args: &[&str]) -> Output {
    run(
        desk.command().env("SEALDESK_TEST_CLOCK", clock).args(args),
        WAIT,
    )
}

fn ok_at(desk: &TestDesk, clock: &Path, args: &[&str]) -> String {
    let out = cli_at(desk, clock, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails with exactly one line on stderr that contains `needle`.
fn fails_with(out: Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it succeeded: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

#[test]
fn a_friday_evening_ticket_is_due_on_monday_and_pending_pauses_its_clock() {
    let desk = configured_desk(None);
    desk.cli(&["config", "set", "sla.zone", "Europe/Berlin"]);
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        desk.cli(&["config", "set", &format!("sla.hours.{day}"), "09:00-17:00"]);
    }
    desk.cli(&["config", "set", "sla.policy.standard.first_response", "1h"]);
    desk.cli(&["config", "set", "sla.policy.standard.next_response", "2h"]);
    let clock = desk.path("clock");
    // Friday 2026-12-04, 17:30 in Berlin (16:30 UTC).
    set_clock(&clock, datetime!(2026-12-04 16:30 UTC));
    let server = desk.serve_with_env(&[("SEALDESK_TEST_CLOCK", &clock)]);
    let m1 = mail(
        "Ann <ann@example.com>",
        "Printer on fire",
        "m1@example.com",
        "",
        "It burns.",
    );
    smtp_send(
        server.smtp_port,
        "ann@example.com",
        "support@desk.example",
        &m1,
    )
    .unwrap();

    // After hours on Friday: the whole business hour is on Monday, 09:00-10:00 Berlin.
    assert_near(&show(&desk, "1")["due"], datetime!(2026-12-07 09:00:00 UTC));
    // With Friday's hours until 18:00, half of it is on Friday: Monday 09:30 Berlin.
    desk.cli(&["config", "set", "sla.hours.fri", "09:00-18:00"]);
    assert_near(&show(&desk, "1")["due"], datetime!(2026-12-07 08:30:00 UTC));

    // Monday 09:00: snoozed (pending) for half an hour, the clock stands still...
    set_clock(&clock, datetime!(2026-12-07 08:00 UTC));
    desk.cli(&["ticket", "set", "1", "--snooze", "4h"]);
    let t = show(&desk, "1");
    assert_eq!(t["status"], "pending");
    assert!(t["due"].is_null(), "paused: {t}");
    // ...and at 09:30 woken by hand: due half an hour later than before, 10:00.
    set_clock(&clock, datetime!(2026-12-07 08:30 UTC));
    desk.cli(&["ticket", "set", "1", "--snooze", "-"]);
    let t = show(&desk, "1");
    assert_eq!(t["status"], "open");
    assert_near(&t["due"], datetime!(2026-12-07 09:00:00 UTC));

    set_clock(&clock, datetime!(2026-12-07 09:15:30 UTC));
    let text = desk.cli(&["ticket", "show", "1"]);
    assert!(text.contains("breached 15m"), "{text}");

    // Our reply meets the first response; the customer's answer starts the next (2h).
    desk.cli(&["ticket", "reply", "1", "--body", "On it."]);
    assert!(show(&desk, "1")["due"].is_null());
    set_clock(&clock, datetime!(2026-12-07 10:00 UTC));
    let m2 = mail(
        "ann@example.com",
        "Re: Printer on fire",
        "m2@example.com",
        "In-Reply-To: <m1@example.com>\r\n",
        "Still burning.",
    );
    smtp_send(
        server.smtp_port,
        "ann@example.com",
        "support@desk.example",
        &m2,
    )
    .unwrap();
    assert_near(&show(&desk, "1")["due"], datetime!(2026-12-07 12:00:00 UTC));

    let snoozes: Vec<_> = desk
        .audit()
        .into_iter()
        .filter(|e| e["action"] == "ticket.snooze")
        .map(|e| e["targets"][1].as_str().unwrap().to_string())
        .collect();
    assert_eq!(snoozes.len(), 2, "{snoozes:?}");
    assert!(
        snoozes[0].starts_with("until=2026-12-07T12:00"),
        "{snoozes:?}"
    );
    assert_eq!(snoozes[1], "until=-");
    drop(server);
}

#[test]
fn a_due_time_by_hand_wins_until_cleared_and_mistakes_read_as_one_line() {
    let desk = TestDesk::new();
    let clock = desk.path("clock");
    // Tuesday 2026-12-01 10:00 UTC; no hours set: round the clock.
    set_clock(&clock, datetime!(2026-12-01 10:00 UTC));
    ok_at(
        &desk,
        &clock,
        &["config", "set", "sla.policy.std.first_response", "8h"],
    );
    ok_at(
        &desk,
        &clock,
        &[
            "ticket",
            "create",
            "--from",
            "ann@example.com",
            "--subject",
            "Hello",
            "--body",
            "hi",
        ],
    );
    let show_at = |n: &str| -> serde_json::Value {
        serde_json::from_str(&ok_at(&desk, &clock, &["ticket", "show", n, "--json"])).unwrap()
    };
    assert_near(&show_at("1")["due"], datetime!(2026-12-01 18:00:00 UTC));

    let out = ok_at(
        &desk,
        &clock,
        &["ticket", "set", "1", "--due", "2026-12-03 10:00"],
    );
    assert!(out.contains("by hand"), "{out}");
    let t = show_at("1");
    assert_near(&t["due"], datetime!(2026-12-03 10:00:00 UTC));
    assert_eq!(t["due_by_hand"], true);
    // A policy change recomputes every due time, but not one set by hand.
    ok_at(
        &desk,
        &clock,
        &["config", "set", "sla.policy.std.first_response", "1h"],
    );
    assert_near(&show_at("1")["due"], datetime!(2026-12-03 10:00:00 UTC));
    ok_at(&desk, &clock, &["ticket", "set", "1", "--due", "-"]);
    let t = show_at("1");
    assert_near(&t["due"], datetime!(2026-12-01 11:00:00 UTC));
    assert_eq!(t["due_by_hand"], false);
    let audit: Vec<serde_json::Value> =
        serde_json::from_str(&ok_at(&desk, &clock, &["audit", "export", "--json"])).unwrap();
    let dues: Vec<_> = audit
        .iter()
        .filter(|e| e["action"] == "ticket.due")
        .map(|e| e["targets"][1].as_str().unwrap().to_string())
        .collect();
    assert_eq!(dues, ["due=2026-12-03T10:00:00Z", "due=policy"]);

    fails_with(
        cli_at(&desk, &clock, &["ticket", "set", "1", "--due", "soon"]),
        "2026-12-03 10:00",
    );
    fails_with(
        cli_at(
            &desk,
            &clock,
            &["ticket", "set", "1", "--snooze", "2026-11-01"],
        ),
        "past",
    );
    fails_with(
        cli_at(&desk, &clock, &["ticket", "set", "7", "--snooze", "2d"]),
        "no ticket",
    );
    fails_with(cli_at(&desk, &clock, &["ticket", "set", "1"]), "--snooze");
    fails_with(
        cli_at(&desk, &clock, &["ticket", "set", "1", "--snooze", "-"]),
        "not snoozed",
    );
    fails_with(
        cli_at(
            &desk,
            &clock,
            &["config", "set", "sla.policy.std.resolution", "2 days"],
        ),
        "sla.policy.std.resolution",
    );
    fails_with(
        cli_at(&desk, &clock, &["config", "set", "sla.zone", "Mars/Base"]),
        "IANA",
    );
}
