//! Part 10's bulk actions, split and link, through the real binary: the queue's `*` and
//! `B` over real OpenSSH in tmux, `ticket link/unlink/split` on the CLI, and what an
//! erasure leaves of a message split off into its own ticket.

mod common;

use common::live::*;
use std::time::Duration;

const LIVE: Duration = Duration::from_secs(5);

fn ticket(desk: &TestDesk, n: u64) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

fn create(desk: &TestDesk, from: &str, subject: &str, body: &str) {
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        from,
        "--subject",
        subject,
        "--body",
        body,
    ]);
}

#[test]
fn three_marked_tickets_closed_at_once_are_three_audit_events() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    for (from, subject) in [
        ("ann@example.com", "Alpha"),
        ("ben@example.com", "Bravo"),
        ("cat@example.com", "Charlie"),
        ("dan@example.com", "Delta"),
    ] {
        create(&desk, from, subject, "Help?");
    }
    let server = desk.serve();
    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    tmux.wait_for("Queue (4)");

    // `*` marks every ticket listed; again, none.
    tmux.send_keys("*");
    tmux.wait_for("Queue (4, 4 marked)");
    tmux.send_keys("*");
    tmux.wait_until("the marks cleared", LIVE, |s| !s.contains("marked"));

    // Newest first: Space marks #4, #3 and #2, and leaves #1.
    for _ in 0..3 {
        tmux.send_keys("Space");
    }
    tmux.wait_for("Queue (4, 3 marked)");
    tmux.send_keys("B");
    tmux.wait_for("Change 3 tickets");
    tmux.send_keys("Enter");
    tmux.wait_for("Set status");
    tmux.send_keys("G");
    tmux.send_keys("Enter");
    tmux.wait_for("close 3 tickets?");
    tmux.send_keys("y");
    tmux.wait_for("3 closed");
    tmux.wait_for("Queue (1)");

    for n in 2..=4 {
        assert_eq!(ticket(&desk, n)["status"], "closed");
    }
    assert_ne!(
        ticket(&desk, 1)["status"],
        "closed",
        "the unmarked one stays"
    );
    let audit = desk.audit();
    let closes: Vec<&serde_json::Value> = audit
        .iter()
        .filter(|e| e["action"] == "ticket.status" && e["actor"] == "alice")
        .collect();
    assert_eq!(closes.len(), 3, "one event per ticket: {closes:?}");
    let mut targets: Vec<String> = closes
        .iter()
        .map(|e| e["targets"][0].as_str().unwrap().to_string())
        .collect();
    targets.sort();
    assert_eq!(targets, ["#2", "#3", "#4"]);
    drop(tmux);
    drop(server);
}
