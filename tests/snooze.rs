//! Snooze end to end: the real binary on a fixed clock (SEALDESK_TEST_CLOCK), mail over
//! real SMTP, and an agent in a real terminal (tmux + OpenSSH): the timer wakes a
//! snoozed ticket once the clock passes its time, a customer's reply wakes one early,
//! and `z` / `D` in the queue show in its due column.

mod common;

use common::clock::{assert_near, set_clock};
use common::live::*;
use common::mailsink::{mail, smtp_send};
use std::time::{Duration, Instant};
use time::macros::datetime;

fn show(desk: &TestDesk, n: &str) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", n, "--json"])).unwrap()
}

fn woke(desk: &TestDesk) -> Vec<(String, String, String)> {
    desk.audit()
        .into_iter()
        .filter(|e| e["action"] == "ticket.woke")
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or("").to_string(),
                e["targets"][0].as_str().unwrap().to_string(),
                e["targets"][1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_snoozed_ticket_wakes_when_its_time_comes_and_early_when_the_customer_writes() {
    let desk = configured_desk(None);
    let clock = desk.path("clock");
    // Tuesday 2026-12-01 10:00 UTC.
    set_clock(&clock, datetime!(2026-12-01 10:00 UTC));
    let server = desk.serve_with_env(&[("SEALDESK_TEST_CLOCK", &clock)]);
    let port = server.smtp_port;
    for (subject, id) in [("Printer on fire", "m1"), ("Invoice", "m2")] {
        let m = mail(
            "ann@example.com",
            subject,
            &format!("{id}@example.com"),
            "",
            "hi",
        );
        smtp_send(port, "ann@example.com", "support@desk.example", &m).unwrap();
    }
    let out = desk.cli(&["ticket", "set", "1", "--snooze", "2d"]);
    assert!(
        out.contains("snoozed until 2026-12-03T10:00") && out.contains("(in 2d)"),
        "{out}"
    );
    desk.cli(&["ticket", "set", "2", "--snooze", "mon 9:00"]);
    let t2 = show(&desk, "2");
    assert_eq!(t2["status"], "pending");
    assert_near(&t2["snoozed_until"], datetime!(2026-12-07 09:00:00 UTC));

    // Ann writes on #2: awake at once, long before Monday.
    let reply = mail(
        "ann@example.com",
        "Re: Invoice",
        "m3@example.com",
        "In-Reply-To: <m2@example.com>\r\n",
        "any news?",
    );
    smtp_send(port, "ann@example.com", "support@desk.example", &reply).unwrap();
    let t2 = show(&desk, "2");
    assert_eq!(t2["status"], "open");
    assert!(t2["snoozed_until"].is_null(), "{t2}");
    // #1 sleeps on while the clock has not reached its time.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(show(&desk, "1")["status"], "pending");

    // Two days later the timer wakes #1: open, updated now (the top of the queue).
    set_clock(&clock, datetime!(2026-12-03 10:00:05 UTC));
    let deadline = Instant::now() + WAIT;
    let t1 = loop {
        let t = show(&desk, "1");
        if t["status"] == "open" {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "#1 never woke: {t}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(t1["snoozed_until"].is_null());
    assert!(
        t1["updated"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-03T10:00"),
        "{t1}"
    );
    let woke = woke(&desk);
    assert_eq!(woke.len(), 2, "{woke:?}");
    assert!(
        woke.contains(&("mail".into(), "#2".into(), "by=customer".into()))
            || woke
                .iter()
                .any(|(_, n, by)| n == "#2" && by == "by=customer"),
        "{woke:?}"
    );
    assert!(
        woke.iter().any(|(_, n, by)| n == "#1" && by == "by=timer"),
        "{woke:?}"
    );
}

#[test]
fn z_and_d_in_the_queue_show_in_its_due_column() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.cli(&["config", "set", "sla.policy.std.first_response", "4h"]);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--subject",
        "Printer on fire",
        "--body",
        "It burns.",
    ]);
    let server = desk.serve();
    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    tmux.wait_for("Queue (");
    tmux.wait_for("due 4h");

    tmux.send_keys("D");
    tmux.wait_for("Due time of #1");
    tmux.type_line("1d");
    tmux.wait_for("due 1d");

    tmux.send_keys("z");
    tmux.wait_for("Snooze #1 until");
    tmux.type_line("2d");
    let screen = tmux.wait_for("z 2d");
    assert!(screen.contains("pending"), "{screen}");

    tmux.send_keys("Enter");
    let screen = tmux.wait_for("snoozed until");
    assert!(screen.contains("(in 2d)"), "{screen}");
    tmux.send_keys("z");
    tmux.wait_for("empty: wake it now");
    tmux.send_keys("Enter");
    tmux.wait_for("is awake");
    let t = show(&desk, "1");
    assert_eq!(t["status"], "open");
    assert_eq!(t["due_by_hand"], true);
    let snoozes: Vec<_> = desk
        .audit()
        .into_iter()
        .filter(|e| e["action"] == "ticket.snooze" && e["actor"] == "alice")
        .collect();
    assert_eq!(snoozes.len(), 2, "{snoozes:?}");
}
