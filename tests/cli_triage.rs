//! The CLI can triage: `ticket set` (status, priority, assignee, tags), `ticket merge`,
//! `ticket list` filters and the `--json` of what each write changed; the real binary
//! on a real desk, the audit log read back.

mod common;

use common::*;
use serde_json::Value;

fn create(d: &TempDesk, from: &str, subject: &str) -> u64 {
    let v = json(
        d,
        &[
            "ticket",
            "create",
            "--from",
            from,
            "--subject",
            subject,
            "--body",
            "hello",
            "--json",
        ],
    );
    assert_eq!(v["action"], "ticket.create", "{v}");
    v["ticket"].as_u64().unwrap()
}

fn numbers(list: &Value) -> Vec<u64> {
    let mut n: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    n.sort();
    n
}

fn change<'a>(v: &'a Value, field: &str) -> Option<&'a Value> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
}

#[test]
fn ticket_set_changes_each_field_once_audited_and_says_what_changed() {
    let d = TempDesk::init();
    ok(
        &d,
        &["agent", "add", "bob", "--key", &public_key_line(7, "bob")],
    );
    let n = create(&d, "ann@example.com", "Printer").to_string();
    let before = d.cli(&["audit", "export", "--json"]);
    let before: Vec<Value> = serde_json::from_slice(&before.stdout).unwrap();

    let v = json(
        &d,
        &[
            "ticket",
            "set",
            &n,
            "--status",
            "pending",
            "--priority",
            "high",
            "--assign",
            "bob",
            "--tag",
            "+vip,+printer",
            "--json",
        ],
    );
    assert_eq!(v["action"], "ticket.set");
    assert_eq!(v["ticket"].as_u64(), Some(1));
    let status = change(&v, "status").expect("status changed");
    assert_eq!(
        (&status["before"], &status["after"]),
        (&"new".into(), &"pending".into())
    );
    assert_eq!(change(&v, "assignee").unwrap()["after"], "bob");
    assert_eq!(change(&v, "priority").unwrap()["after"], "high");
    assert_eq!(
        change(&v, "tags").unwrap()["after"],
        serde_json::json!(["vip", "printer"])
    );

    // One audited write per field, in the desk's own words.
    let events: Vec<Value> =
        serde_json::from_slice(&d.cli(&["audit", "export", "--json"]).stdout).unwrap();
    let new: Vec<&str> = events[before.len()..]
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("ticket.") && *a != "ticket.list")
        .collect();
    assert_eq!(
        new,
        [
            "ticket.assign",
            "ticket.status",
            "ticket.priority",
            "ticket.tags"
        ]
    );

    // Again: nothing changes, nothing is written.
    let again = json(
        &d,
        &[
            "ticket", "set", &n, "--status", "pending", "--tag", "vip", "--json",
        ],
    );
    assert_eq!(again["changes"], serde_json::json!([]), "{again}");
    let tags = json(
        &d,
        &["ticket", "set", &n, "--tag", "-vip", "--unassign", "--json"],
    );
    assert_eq!(
        change(&tags, "tags").unwrap()["after"],
        serde_json::json!(["printer"])
    );
    assert_eq!(change(&tags, "assignee").unwrap()["after"], Value::Null);

    // Refused clearly, and before anything was written.
    let out = d.cli(&[
        "ticket", "set", &n, "--status", "open", "--assign", "nobody",
    ]);
    assert_clean_failure(&out, "no agent named nobody");
    assert_eq!(out.status.code(), Some(4), "not found");
    let out = d.cli(&[
        "ticket",
        "set",
        &n,
        "--status",
        "open",
        "--tag",
        "+has space",
    ]);
    assert_clean_failure(&out, "is not allowed");
    assert_eq!(out.status.code(), Some(2), "usage");
    let shown = json(&d, &["ticket", "show", &n, "--json"]);
    assert_eq!(
        shown["status"], "pending",
        "nothing of the refused sets happened"
    );
    let out = d.cli(&["ticket", "set", "99", "--status", "open"]);
    assert_clean_failure(&out, "there is no ticket #99");
    assert_eq!(out.status.code(), Some(4));
    let out = d.cli(&["ticket", "set", &n]);
    assert_clean_failure(&out, "nothing to change");
}

#[test]
fn ticket_merge_moves_the_thread_and_closes_the_source() {
    let d = TempDesk::init();
    let a = create(&d, "ann@example.com", "First");
    let b = create(&d, "ann@example.com", "Second");
    let v = json(
        &d,
        &[
            "ticket",
            "merge",
            &b.to_string(),
            "--into",
            &a.to_string(),
            "--json",
        ],
    );
    assert_eq!(v["action"], "ticket.merge");
    assert_eq!(
        (v["ticket"].as_u64(), v["into"].as_u64()),
        (Some(b), Some(a))
    );
    assert_eq!(change(&v, "status").unwrap()["after"], "closed");
    let target = json(&d, &["ticket", "show", &a.to_string(), "--json"]);
    let texts: Vec<&str> = target["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("Ticket #{b} was merged"))),
        "{texts:?}"
    );
    let source = json(&d, &["ticket", "show", &b.to_string(), "--json"]);
    assert_eq!(source["status"], "closed");
    let out = d.cli(&["ticket", "merge", &a.to_string(), "--into", &a.to_string()]);
    assert_clean_failure(&out, "cannot be merged into itself");
}

#[test]
fn ticket_list_filters_by_status_assignee_tag_customer_and_time() {
    let d = TempDesk::init();
    ok(
        &d,
        &["agent", "add", "bob", "--key", &public_key_line(7, "bob")],
    );
    let one = create(&d, "ann@example.com", "One");
    let two = create(&d, "ben@example.com", "Two");
    let three = create(&d, "ann@example.com", "Three");
    ok(
        &d,
        &[
            "ticket",
            "set",
            &two.to_string(),
            "--assign",
            "bob",
            "--tag",
            "vip",
        ],
    );
    ok(
        &d,
        &["ticket", "set", &three.to_string(), "--status", "closed"],
    );

    let list = |args: &[&str]| {
        let mut all = vec!["ticket", "list", "--json"];
        all.extend_from_slice(args);
        numbers(&json(&d, &all))
    };
    assert_eq!(list(&[]), [one, two, three]);
    assert_eq!(list(&["--status", "all"]), [one, two, three]);
    assert_eq!(list(&["--status", "closed"]), [three]);
    assert_eq!(list(&["--assignee", "bob"]), [two]);
    assert_eq!(list(&["--assignee", "none"]), [one, three]);
    assert_eq!(list(&["--tag", "VIP"]), [two]);
    assert_eq!(list(&["--customer", "ann@example.com"]), [one, three]);
    assert_eq!(
        list(&["--customer", "nobody@example.com"]),
        Vec::<u64>::new()
    );
    assert_eq!(
        list(&["--customer", "ann@example.com", "--status", "new"]),
        [one]
    );
    assert_eq!(list(&["--since", "1h"]), [one, two, three]);
    assert_eq!(list(&["--since", "2999-01-01"]), Vec::<u64>::new());

    let out = d.cli(&["ticket", "list", "--status", "sleeping"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("all"),
        "names the words: {}",
        stderr(&out)
    );
    let out = d.cli(&["ticket", "list", "--assignee", "zed"]);
    assert_clean_failure(&out, "no agent named zed");
    let out = d.cli(&["ticket", "list", "--assignee", "me"]);
    assert_clean_failure(&out, "name the agent instead");
    let out = d.cli(&["ticket", "list", "--since", "yesterdayish"]);
    assert_clean_failure(&out, "is not a time");

    // The audit names the filters, never the address.
    let events: Vec<Value> =
        serde_json::from_slice(&d.cli(&["audit", "export", "--json"]).stdout).unwrap();
    let text = serde_json::to_string(&events).unwrap();
    assert!(text.contains("customer=given"));
    assert!(!text.contains("ann@example.com"));
}
