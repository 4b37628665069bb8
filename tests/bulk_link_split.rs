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
        desk.create_ticket(from, subject, "Help?");
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

    // Tags in bulk: what is listed now (#1) gets +vip, its other tags stay.
    tmux.send_keys("*");
    tmux.wait_for("Queue (1, 1 marked)");
    tmux.send_keys("B");
    tmux.wait_for("Change 1 ticket");
    for _ in 0..3 {
        tmux.send_keys("j");
    }
    tmux.send_keys("Enter");
    tmux.wait_for("Tags: +add -remove");
    tmux.type_text("+vip -nothing");
    tmux.send_keys("Enter");
    tmux.wait_for("tag 1 ticket +vip -nothing?");
    tmux.send_keys("y");
    tmux.wait_for("1 retagged");
    assert_eq!(ticket(&desk, 1)["tags"], serde_json::json!(["vip"]));

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
    let by_alice: Vec<&str> = audit
        .iter()
        .filter(|e| e["actor"] == "alice")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_alice,
        [
            "agent.login",
            "ticket.status",
            "ticket.status",
            "ticket.status",
            "ticket.tags"
        ],
        "each bulk action adds exactly its per-ticket events"
    );
    let mut targets: Vec<String> = closes
        .iter()
        .map(|e| e["targets"][0].as_str().unwrap().to_string())
        .collect();
    targets.sort();
    assert_eq!(targets, ["#2", "#3", "#4"]);
    drop(tmux);
    drop(server);
}

#[test]
fn two_tickets_linked_as_duplicate_show_both_ends() {
    let d = common::TempDesk::init();
    for (from, subject) in [
        ("ann@example.com", "Printer"),
        ("ben@example.com", "Printer too"),
    ] {
        common::ok(
            &d,
            &[
                "ticket",
                "create",
                "--from",
                from,
                "--subject",
                subject,
                "--body",
                "b",
            ],
        );
    }
    let out = common::ok(
        &d,
        &["ticket", "link", "2", "--to", "1", "--as", "duplicate"],
    );
    assert_eq!(out.trim(), "#2: duplicate of #1; #1: duplicated by #2");
    let show = |n: &str| common::json(&d, &["ticket", "show", n, "--json"]);
    assert_eq!(
        show("2")["links"],
        serde_json::json!([{ "kind": "duplicate-of", "ticket": 1 }])
    );
    assert_eq!(
        show("1")["links"],
        serde_json::json!([{ "kind": "duplicated-by", "ticket": 2 }])
    );
    assert!(common::ok(&d, &["ticket", "show", "1"]).contains("links: duplicated by #2"));
    common::assert_clean_failure(
        &d.cli(&["ticket", "link", "1", "--to", "1"]),
        "cannot be linked to itself",
    );
    common::assert_clean_failure(
        &d.cli(&["ticket", "link", "1", "--to", "9"]),
        "no ticket #9",
    );

    common::ok(&d, &["ticket", "unlink", "1", "--from", "2"]);
    assert_eq!(show("1")["links"], serde_json::json!([]));
    assert_eq!(show("2")["links"], serde_json::json!([]));
    common::assert_clean_failure(
        &d.cli(&["ticket", "unlink", "1", "--from", "2"]),
        "not linked",
    );
    let audit: Vec<serde_json::Value> = common::json(&d, &["audit", "export", "--json"])
        .as_array()
        .unwrap()
        .clone();
    let count = |a: &str| audit.iter().filter(|e| e["action"] == a).count();
    assert_eq!(
        (count("ticket.link"), count("ticket.unlink")),
        (2, 2),
        "one per end"
    );
}

const CANARY: &str = "SplitCanary5Wq";

fn texts(t: &serde_json::Value) -> Vec<String> {
    t["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_split_message_moves_with_its_files_and_the_customers_erasure_still_reaches_it() {
    let d = common::TempDesk::with_support_address();
    common::ingest(
        &d,
        "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Login fails\r\nMessage-ID: <s1@example.com>\r\n\r\nI cannot log in.\r\n",
    );
    common::ingest(
        &d,
        &format!("From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Invoice question\r\nMessage-ID: <s2@example.com>\r\nIn-Reply-To: <s1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nAlso my invoice {CANARY} is wrong.\r\n--B\r\nContent-Type: text/plain; name=\"{CANARY}.txt\"\r\nContent-Disposition: attachment; filename=\"{CANARY}.txt\"\r\n\r\nfile {CANARY}\r\n--B--\r\n"),
    );
    let show = |d: &common::TempDesk, n: &str| common::json(d, &["ticket", "show", n, "--json"]);
    assert_eq!(show(&d, "1")["thread"].as_array().unwrap().len(), 2);
    common::assert_clean_failure(
        &d.cli(&["ticket", "split", "1", "--message", "7"]),
        "has no message 7",
    );

    let out = common::ok(&d, &["ticket", "split", "1", "--message", "2"]);
    assert!(
        out.contains("split off into ticket #2 \"Invoice question\""),
        "{out}"
    );
    let (old, new) = (show(&d, "1"), show(&d, "2"));
    assert!(!texts(&old).iter().any(|t| t.contains(CANARY)), "{old}");
    assert!(texts(&new)[0].contains(CANARY), "{new}");
    assert_eq!(
        new["thread"][0]["attachments"][0]["name"],
        format!("{CANARY}.txt")
    );
    assert_eq!(new["subject"], "Invoice question");
    assert_eq!(new["customer"], old["customer"]);
    assert_eq!(
        old["links"],
        serde_json::json!([{ "kind": "related", "ticket": 2 }])
    );
    assert_eq!(
        new["links"],
        serde_json::json!([{ "kind": "related", "ticket": 1 }])
    );
    // What is left of #1 is one message: it is not split off alone.
    common::assert_clean_failure(
        &d.cli(&["ticket", "split", "1", "--message", "1"]),
        "only this message",
    );
    let audit = common::json(&d, &["audit", "export", "--json"]);
    let splits: Vec<&serde_json::Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ticket.split")
        .collect();
    assert_eq!(splits.len(), 1);
    assert_eq!(splits[0]["targets"][0], "#1");

    // A backup holds the message at its new place; then Ann is erased.
    let backup = d.dir.path().join("after-split.bak");
    common::ok(&d, &["backup", "--out", backup.to_str().unwrap()]);
    let out = common::ok(
        &d,
        &[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--override",
            "test: asked",
        ],
    );
    assert!(out.contains("erased: 2 messages"), "{out}");
    let erased = |d: &common::TempDesk| {
        let t = show(d, "2");
        assert_eq!(t["subject"], "[erased]", "{t}");
        assert!(!t.to_string().contains(CANARY), "{t}");
        let first = &t["thread"][0];
        assert!(
            first["kind"] == "erased" || first["text"] == "[erased]",
            "{t}"
        );
        assert!(!common::ok(d, &["ticket", "show", "2"]).contains(CANARY));
    };
    erased(&d);
    let hits = common::scan(&[&d.data, &d.keys], &common::needles(CANARY));
    assert!(hits.is_empty(), "{hits:?}");

    // The backup restored: the erasure is re-applied to the moved message too.
    let restored = common::TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join("restored"),
        keys: d.keys.clone(),
    };
    let out = common::ok(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("re-applied 1 erasure"), "{out}");
    erased(&restored);
    assert!(restored.cli(&["audit", "verify"]).status.success());
}

#[test]
fn split_and_link_from_the_ticket_screen() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    for raw in [
        "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Login fails\r\nMessage-ID: <t1@example.com>\r\n\r\nI cannot log in.\r\n",
        "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Re: Login fails\r\nMessage-ID: <t2@example.com>\r\nIn-Reply-To: <t1@example.com>\r\n\r\nAnd the invoice is wrong.\r\n",
    ] {
        let out = desk.cli_with_stdin(&["ingest"], raw.as_bytes());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let server = desk.serve();
    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    tmux.wait_for("Queue (1)");
    tmux.send_keys("Enter");
    tmux.wait_for("Thread (");
    tmux.send_keys("X");
    tmux.wait_for("Split a message off #1");
    tmux.send_keys("j");
    tmux.send_keys("Enter");
    tmux.wait_for("Split message 2 off #1");
    tmux.send_keys("y");
    // (The status line may say "1 new ticket" by now rather than what was done.)
    tmux.wait_for("links: related #2");
    assert!(!tmux.screen().contains("invoice is wrong"));

    // #1 is a duplicate of #2 now: the link is replaced at both ends.
    tmux.send_keys("K");
    tmux.wait_for("Link #1");
    tmux.send_keys("j");
    tmux.send_keys("Enter");
    tmux.wait_for("#1 is a duplicate of ticket number");
    tmux.type_text("2");
    tmux.send_keys("Enter");
    tmux.wait_for("#1 is duplicate of #2 now");
    tmux.wait_for("links: duplicate of #2");
    tmux.send_keys("Escape");
    tmux.wait_for("Queue (2)");

    let two = ticket(&desk, 2);
    assert!(two["thread"][0]["text"]
        .as_str()
        .unwrap()
        .contains("invoice is wrong"));
    assert_eq!(
        two["links"],
        serde_json::json!([{ "kind": "duplicated-by", "ticket": 1 }])
    );
    let audit = desk.audit();
    assert!(audit
        .iter()
        .any(|e| e["action"] == "ticket.split" && e["actor"] == "alice"));
    drop(tmux);
    drop(server);
}
