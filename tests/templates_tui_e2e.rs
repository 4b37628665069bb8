//! Saved replies and macros in the real TUI, over real OpenSSH in tmux: Ctrl-T in the
//! reply editor inserts a saved reply filled for the ticket at the cursor, and a macro
//! applied from the queue reaches the two tickets marked with Space, and only them.

mod common;

use common::live::*;
use std::time::Duration;

const LIVE: Duration = Duration::from_secs(5);

fn ticket(desk: &TestDesk, n: u64) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

fn last_text(t: &serde_json::Value) -> String {
    let last = t["thread"].as_array().unwrap().last().unwrap();
    last["text"].as_str().unwrap().to_string()
}

#[test]
fn insert_a_saved_reply_and_apply_a_macro_to_two_marked_tickets() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    for (from, name, subject) in [
        ("ann@example.com", "Ann Example", "Alpha question"),
        ("ben@example.com", "Ben Example", "Bravo question"),
        ("cat@example.com", "Cat Example", "Charlie question"),
    ] {
        desk.cli(&[
            "ticket",
            "create",
            "--from",
            from,
            "--name",
            name,
            "--subject",
            subject,
            "--body",
            "Help?",
        ]);
    }
    desk.cli(&[
        "reply-template",
        "add",
        "greeting",
        "--text",
        "Hello {customer.name}, about {ticket}.",
    ]);
    desk.cli(&["reply-template", "add", "goodbye", "--text", "Bye, {agent}"]);
    desk.cli(&[
        "macro",
        "add",
        "close it",
        "--reply",
        "Solved for {customer.name} ({ticket}).",
        "--status",
        "solved",
        "--tags",
        "+done",
    ]);
    let server = desk.serve();
    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    tmux.wait_for("Queue (");

    // Ticket #1: a reply typed, a saved reply picked by typing part of its name.
    tmux.send_keys("/");
    tmux.type_text("Alpha");
    tmux.send_keys("Enter");
    tmux.send_keys("Enter");
    tmux.wait_for("Thread (");
    tmux.send_keys("r");
    tmux.wait_for("Ctrl-T");
    tmux.type_text("Hi. ");
    tmux.send_keys("C-t");
    tmux.wait_for("Insert a saved reply into #1");
    tmux.type_text("gree");
    tmux.wait_until("only the greeting", LIVE, |s| {
        s.contains("greeting") && !s.contains("goodbye")
    });
    tmux.send_keys("Enter");
    tmux.wait_for("Hi. Hello Ann Example, about #1.");
    tmux.type_text(" Thanks!");
    tmux.send_keys("C-s");
    tmux.wait_for("queued for sending");
    let one = ticket(&desk, 1);
    assert_eq!(last_text(&one), "Hi. Hello Ann Example, about #1. Thanks!");

    // Back in the queue: mark #2 and #3 (found by search), then apply the macro.
    tmux.send_keys("Escape");
    tmux.wait_for("Queue (1)");
    tmux.send_keys("Escape");
    tmux.wait_for("Queue (3)");
    for subject in ["Bravo", "Charlie"] {
        tmux.send_keys("/");
        tmux.type_text(subject);
        tmux.send_keys("Enter");
        tmux.wait_until("one row", LIVE, |s| {
            s.contains("Queue (1") && s.contains(subject) && !s.contains("Alpha")
        });
        tmux.send_keys("Space");
        // Esc clears the search; wait for it, or the next key would read as Alt-key.
        tmux.send_keys("Escape");
        tmux.wait_until("the search cleared", LIVE, |s| s.contains("Queue (3"));
    }
    tmux.wait_for("2 marked");
    let screen = tmux.screen();
    assert!(screen.contains("*#2") && screen.contains("*#3"), "{screen}");
    assert!(!screen.contains("*#1"), "{screen}");
    tmux.send_keys("M");
    tmux.wait_for("Apply a macro to 2 marked tickets");
    tmux.type_text("close");
    tmux.send_keys("Enter");
    tmux.wait_for("macro close it applied to #2, #3");
    tmux.wait_until("the marks cleared", LIVE, |s| !s.contains("marked"));

    for (n, name) in [(2, "Ben Example"), (3, "Cat Example")] {
        let t = ticket(&desk, n);
        assert_eq!(t["status"], "solved", "{t}");
        assert_eq!(t["tags"], serde_json::json!(["done"]));
        assert_eq!(last_text(&t), format!("Solved for {name} (#{n})."));
    }
    let one = ticket(&desk, 1);
    assert_ne!(one["status"], "solved", "the unmarked ticket is left alone");
    assert_eq!(one["tags"], serde_json::json!([]));

    // The saved-replies manager (Ctrl-T in the queue): an agent adds a personal one.
    tmux.send_keys("C-t");
    tmux.wait_for("Saved replies");
    tmux.send_keys("a");
    tmux.wait_for("name of the new saved reply");
    tmux.type_text("mine");
    tmux.send_keys("Enter");
    tmux.wait_for("Ctrl-S: save");
    tmux.type_text("Personal words for {customer.name}");
    tmux.send_keys("C-s");
    tmux.wait_for("saved reply mine added (personal)");
    let mine: serde_json::Value =
        serde_json::from_str(&desk.cli(&["reply-template", "show", "mine", "--json"])).unwrap();
    assert_eq!(mine["text"], "Personal words for {customer.name}");
    assert_eq!(mine["scope"], "personal");
    assert_eq!(mine["created_by"], "alice");
    // A shared one is for admins: the agent is told so.
    tmux.send_keys("g");
    tmux.send_keys("e");
    tmux.wait_for("Saved reply goodbye");
    tmux.type_text("!");
    tmux.send_keys("C-s");
    tmux.wait_for("only an admin can manage shared templates");
    tmux.send_keys("Escape");
    tmux.wait_for("a: add");
    tmux.send_keys("Escape");
    tmux.wait_for("Queue (3)");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&desk.cli(&[
            "reply-template",
            "show",
            "goodbye",
            "--json"
        ]))
        .unwrap()["text"],
        "Bye, {agent}"
    );

    // Each change is audited per ticket, by the agent.
    let audit = desk.audit();
    let by_alice = |action: &str| {
        audit
            .iter()
            .filter(|e| e["action"] == action && e["actor"] == "alice")
            .count()
    };
    assert_eq!(by_alice("ticket.reply"), 3);
    assert_eq!(by_alice("ticket.status"), 2);
    assert_eq!(by_alice("ticket.tags"), 2);
    drop(tmux);
    drop(server);
}
