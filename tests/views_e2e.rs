//! Markers, saved views and deep links (Part 10) end to end: the real binary, mail in
//! over real SMTP (Python's smtplib), the agent in OpenSSH inside tmux.

mod common;

use common::live::*;
use common::mailsink::smtp_send;
use std::time::Duration;

const LIVE: Duration = Duration::from_secs(5);

fn mail(port: u16, from: &str, to: &str, subject: &str, id: &str, reply_to: Option<&str>) {
    let threading = match reply_to {
        Some(parent) => format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"),
        None => String::new(),
    };
    let raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{threading}\r\nHello from {from}.\r\n"
    );
    smtp_send(port, from, to, &raw).unwrap();
}

/// The queue line of ticket `n` (e.g. "#1"), if listed.
fn row<'a>(screen: &'a str, n: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.starts_with(&format!("│{n} ")))
}

fn row_has(screen: &str, n: &str, marker: char) -> bool {
    row(screen, n).is_some_and(|l| l.contains(marker))
}

/// Alice in a new terminal, running `ssh -t … COMMAND`; `name` names the terminal.
fn open_session(
    server: &Server,
    desk: &TestDesk,
    key: &std::path::Path,
    name: &str,
    command: &str,
) -> Tmux {
    let line = format!("{} {command}", interactive_ssh(server, key, "alice", &[]));
    Tmux::start_named(desk, name, &line)
}

#[test]
fn deep_links_views_and_markers() {
    let desk = configured_desk(None);
    desk.cli(&[
        "config",
        "set",
        "mail.addresses.billing@desk.example.tags",
        "billing",
    ]);
    let key = desk.keygen("alice");
    desk.add_admin("alice", &key);
    // Shared views list before an agent's own: key 1 is Billing, key 2 Printers.
    desk.cli(&["view", "add", "Billing", "--shared", "--tag", "billing"]);
    let added = desk.cli(&[
        "view", "add", "Printers", "--agent", "alice", "--search", "printer",
    ]);
    assert!(added.contains("saved view Printers"), "{added}");
    let refused = desk.try_cli(&["view", "add", "Nobody's"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("--shared") && said.lines().count() == 1,
        "{said}"
    );
    let listed = desk.cli(&["view", "list"]);
    assert!(
        listed.find("Billing").unwrap() < listed.find("Printers").unwrap(),
        "{listed}"
    );

    let server = desk.serve();
    let port = server.smtp_port;
    let support = "support@desk.example";
    mail(
        port,
        "ann@example.com",
        support,
        "Printer on fire",
        "a1@example.com",
        None,
    );
    mail(
        port,
        "ben@example.com",
        "billing@desk.example",
        "Invoice wrong",
        "b1@example.com",
        None,
    );
    mail(
        port,
        "cat@example.com",
        support,
        "Password reset",
        "c1@example.com",
        None,
    );

    // Without a terminal: one line saying to add -t.
    let out = run(server.ssh(&key, "alice").args(["open", "1"]), WAIT);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("add -t") && text.trim().lines().count() == 1,
        "{text}"
    );

    // `open 1` opens ticket 1 directly; opening it reads it.
    let t = open_session(&server, &desk, &key, "t1", "open 1");
    let screen = t.wait_for("Thread (");
    assert!(screen.contains("Printer on fire"), "{screen}");
    t.send_keys("Escape");
    let screen = t.wait_for("Queue (");
    assert!(!row_has(&screen, "#1", '●'), "#1 was just read:\n{screen}");
    assert!(
        row_has(&screen, "#3", '●'),
        "#3 was never opened:\n{screen}"
    );
    drop(t);

    // An unknown ticket: the queue, with one line saying so.
    let t = open_session(&server, &desk, &key, "t2", "open 99");
    let screen = t.wait_for("Queue (");
    t.wait_for("no ticket #99");
    assert!(screen.contains("Printer on fire"));
    drop(t);

    // `queue Billing` opens the shared view: its name in the title, only its tickets.
    let t = open_session(&server, &desk, &key, "t3", "queue Billing");
    let screen = t.wait_for("Queue: Billing (1)");
    assert!(screen.contains("Invoice wrong"), "{screen}");
    assert!(!screen.contains("Printer on fire"), "{screen}");
    // Key 2 switches to her own view, 1 back; a changed sort stars the title.
    t.send_keys("2");
    let screen = t.wait_for("Queue: Printers (1)");
    assert!(
        screen.contains("Printer on fire") && !screen.contains("Invoice"),
        "{screen}"
    );
    t.send_keys("1");
    t.wait_for("Queue: Billing (1)");
    t.send_keys("s");
    t.wait_for("Queue: Billing* (1)");

    // Back to everything (Esc leaves the search empty; `a`, `f` untouched): key 3 is
    // no view, and says so.
    t.send_keys("3");
    t.wait_for("no saved view 3");

    // A customer's mail on #1 makes it unread, live; opening it clears the marker.
    drop(t);
    let t = open_session(&server, &desk, &key, "t4", "");
    let screen = t.wait_for("Queue (3)");
    assert!(!row_has(&screen, "#1", '●'), "{screen}");
    mail(
        port,
        "ann@example.com",
        support,
        "Re: Printer on fire",
        "a2@example.com",
        Some("a1@example.com"),
    );
    t.wait_until("the unread marker on #1", LIVE, |s| row_has(s, "#1", '●'));
    assert!(!row_has(&t.screen(), "#1", '↩'), "no reply of ours yet");
    // Alice replies (from the CLI); the customer writes again: customer replied.
    desk.cli(&["ticket", "reply", "1", "--body", "Unplug it, please."]);
    mail(
        port,
        "ann@example.com",
        support,
        "Re: Printer on fire",
        "a3@example.com",
        Some("a2@example.com"),
    );
    t.wait_until("the customer-replied marker on #1", LIVE, |s| {
        row_has(s, "#1", '↩')
    });

    // The marker filter: unread, then customer replied (only #1), then drafts, then all.
    t.send_keys("m");
    let screen = t.wait_for("· unread");
    assert!(
        row(&screen, "#1").is_some() && row(&screen, "#3").is_some(),
        "{screen}"
    );
    t.send_keys("m");
    let screen = t.wait_for("Queue (1)");
    assert!(
        screen.contains("customer replied") && row(&screen, "#1").is_some(),
        "{screen}"
    );
    t.send_keys("m");
    t.wait_for("No tickets match");
    t.send_keys("m");
    t.wait_for("Queue (3)");

    // Opening #1 (the newest activity is at the top) and coming back clears its ●.
    let screen = t.screen();
    // Below the border and the header row.
    let first_row = screen.lines().nth(2).unwrap_or("");
    assert!(first_row.contains("#1"), "{screen}");
    t.send_keys("Enter");
    t.wait_for("Thread (");
    t.send_keys("Escape");
    let (screen, _) = t.wait_until("#1 read", LIVE, |s| {
        row(s, "#1").is_some() && !row_has(s, "#1", '●')
    });
    assert!(
        row_has(&screen, "#1", '↩'),
        "still: the customer wrote last:\n{screen}"
    );
    let audit = desk.audit();
    assert!(audit.iter().any(|e| e["action"] == "ticket.seen"));
    assert!(audit.iter().any(|e| e["action"] == "view.save"));
}
