//! Part 10's writes at once against a running `sealdesk serve`: links (both ends in one
//! unit), snoozes, due times by hand and customer mail over real SMTP on the same
//! tickets from many processes, then a SIGKILL in the middle of a link burst. Afterwards,
//! through the CLI: every acknowledged write is there, every link has its other end, a
//! snoozed ticket is pending, and the audit log holds one event per acknowledged change
//! and still verifies.

mod common;

use common::live::*;
use common::mailsink::{mail, smtp_send};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread;

const TICKETS: u64 = 12;

fn show(desk: &TestDesk, n: u64) -> Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

fn reverse(kind: &str) -> &str {
    match kind {
        "duplicate-of" => "duplicated-by",
        "duplicated-by" => "duplicate-of",
        other => other,
    }
}

/// Every link of every ticket has its other end, with the reverse kind.
fn assert_links_are_symmetric(desk: &TestDesk) -> BTreeSet<(u64, u64, String)> {
    let mut all = BTreeSet::new();
    for n in 1..=TICKETS {
        for link in show(desk, n)["links"].as_array().unwrap() {
            all.insert((
                n,
                link["ticket"].as_u64().unwrap(),
                link["kind"].as_str().unwrap().to_string(),
            ));
        }
    }
    for (a, b, kind) in &all {
        assert!(
            all.contains(&(*b, *a, reverse(kind).to_string())),
            "#{a} {kind} #{b} has no other end: {all:?}"
        );
    }
    all
}

fn open_tickets(desk: &TestDesk, port: u16) {
    for i in 1..=TICKETS {
        let from = format!("c{i}@example.com");
        let raw = mail(
            &from,
            &format!("Question {i}"),
            &format!("t{i}@example.com"),
            "",
            "Hello.",
        );
        smtp_send(port, &from, "support@desk.example", &raw).unwrap();
    }
    let list = desk.cli(&["ticket", "list", "--json"]);
    let rows: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), TICKETS as usize, "{list}");
}

/// The (a, b, kind) links one linker makes: ticket i with i + offset, wrapping.
fn pairs(offset: u64, kind: &str) -> Vec<(u64, u64, String)> {
    (1..=TICKETS)
        .map(|i| (i, (i - 1 + offset) % TICKETS + 1, kind.to_string()))
        .collect()
}

#[test]
fn links_snoozes_due_times_and_mail_at_once_keep_every_acknowledged_write() {
    let desk = configured_desk(None);
    let server = desk.serve();
    open_tickets(&desk, server.smtp_port);
    let desk = Arc::new(desk);

    // Distinct pairs per linker (offsets 1, 2, 3 never make the same pair twice).
    let linked = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for (offset, kind) in [(1, "related"), (2, "duplicate"), (3, "related")] {
        let (desk, linked) = (desk.clone(), linked.clone());
        workers.push(thread::spawn(move || {
            for (a, b, kind) in pairs(offset, kind) {
                let (a_s, b_s) = (a.to_string(), b.to_string());
                let out = desk.try_cli(&["ticket", "link", &a_s, "--to", &b_s, "--as", &kind]);
                assert!(
                    out.status.success(),
                    "link {a} {b}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                linked.lock().unwrap().push((a, b, kind));
            }
        }));
    }
    {
        let desk = desk.clone();
        workers.push(thread::spawn(move || {
            for n in (1..=TICKETS).filter(|n| n % 2 == 1) {
                let out = desk.try_cli(&["ticket", "set", &n.to_string(), "--due", "4h"]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }));
    }
    {
        let desk = desk.clone();
        workers.push(thread::spawn(move || {
            for n in 1..=TICKETS {
                let out = desk.try_cli(&["ticket", "set", &n.to_string(), "--snooze", "2d"]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }));
    }
    let port = server.smtp_port;
    let replied = thread::spawn(move || {
        let mut acked = Vec::new();
        for n in (1..=TICKETS).filter(|n| n % 2 == 0) {
            let from = format!("c{n}@example.com");
            let raw = mail(
                &from,
                &format!("Re: Question {n}"),
                &format!("r{n}@example.com"),
                &format!("In-Reply-To: <t{n}@example.com>\r\n"),
                &format!("reply-marker-{n}"),
            );
            if smtp_send(port, &from, "support@desk.example", &raw).is_ok() {
                acked.push(n);
            }
        }
        acked
    });
    for w in workers {
        w.join().unwrap();
    }
    let replied = replied.join().unwrap();
    assert_eq!(replied.len(), TICKETS as usize / 2, "every reply accepted");

    let all = assert_links_are_symmetric(&desk);
    let linked = linked.lock().unwrap().clone();
    assert_eq!(linked.len(), 3 * TICKETS as usize);
    for (a, b, kind) in &linked {
        let here = if kind == "duplicate" {
            "duplicate-of"
        } else {
            "related"
        };
        assert!(
            all.contains(&(*a, *b, here.to_string())),
            "#{a} {here} #{b} was acknowledged but is missing: {all:?}"
        );
    }
    for n in 1..=TICKETS {
        let t: Value =
            serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap();
        // Snoozed means pending; a customer's reply may have woken it since.
        if !t["snoozed_until"].is_null() {
            assert_eq!(t["status"], "pending", "#{n}: {t}");
        }
        if n % 2 == 1 {
            assert_eq!(t["due_by_hand"], true, "#{n}: {t}");
            assert!(!t["due"].is_null(), "#{n}: {t}");
        }
        if replied.contains(&n) {
            let text = t["thread"].to_string();
            assert!(text.contains(&format!("reply-marker-{n}")), "#{n}: {text}");
        }
    }
    let events = desk.audit();
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    // One event per end of each acknowledged link.
    assert_eq!(count("ticket.link"), 2 * linked.len());
    assert_eq!(count("ticket.snooze"), TICKETS as usize);
    assert_eq!(count("ticket.due"), TICKETS as usize / 2);
    drop(server);
    let verify = desk.try_cli(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn a_sigkill_in_a_link_burst_leaves_no_link_with_one_end() {
    let desk = configured_desk(None);
    let mut server = desk.serve();
    open_tickets(&desk, server.smtp_port);
    let desk = Arc::new(desk);
    let linked = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for (offset, kind) in [
        (1, "related"),
        (2, "duplicate"),
        (5, "related"),
        (4, "duplicate"),
    ] {
        let (desk, linked) = (desk.clone(), linked.clone());
        workers.push(thread::spawn(move || {
            for (a, b, kind) in pairs(offset, kind) {
                let (a_s, b_s) = (a.to_string(), b.to_string());
                let out = desk.try_cli(&["ticket", "link", &a_s, "--to", &b_s, "--as", &kind]);
                if out.status.success() {
                    linked.lock().unwrap().push((a, b, kind));
                }
            }
        }));
    }
    // Kill once a few links are acknowledged, while the rest are under way.
    let deadline = std::time::Instant::now() + WAIT;
    while linked.lock().unwrap().len() < 6 {
        assert!(std::time::Instant::now() < deadline, "no link was made");
        thread::sleep(std::time::Duration::from_millis(5));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    drop(server);

    // Reopened (the CLI alone now), every acknowledged link is there at both ends and no
    // link lost its other end.
    let all = assert_links_are_symmetric(&desk);
    let linked = linked.lock().unwrap().clone();
    assert!(linked.len() >= 6);
    for (a, b, kind) in &linked {
        let here = if kind == "duplicate" {
            "duplicate-of"
        } else {
            "related"
        };
        // A later link of the same two tickets may have replaced the kind; the link stays.
        assert!(
            all.iter().any(|(x, y, _)| (x, y) == (a, b)),
            "#{a} {here} #{b} was acknowledged but is missing: {all:?}"
        );
    }
    let verify = desk.try_cli(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
