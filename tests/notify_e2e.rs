//! Notifications to agents end to end (Part 10): the real binary, real SMTP in (Python's
//! smtplib) and out (a sink standing in for the relay), real OpenSSH in tmux. An agent
//! hears of an assignment by one mail with no customer text; the actor hears nothing;
//! what happens within the batch window goes in one mail; a topic turned off stays
//! quiet; the TUI lists it all (N).

mod common;

use common::live::*;
use common::mailsink::{mail, smtp_send, Sink};
use std::time::{Duration, Instant};

/// Every word the customer wrote, or that names them: none may reach an agent's mail.
const CANARIES: &[&str] = &[
    "CanarySubject7781",
    "Canary Cusname",
    "canary.cust@example.net",
    "CanaryBody5530",
];
const CUSTOMER: &str = "canary.cust@example.net";
const WINDOW: u64 = 4;

/// The mails the sink has for `to`, as text, in order.
fn mails_to(sink: &Sink, to: &str) -> Vec<String> {
    let received = sink.received.lock().unwrap().clone();
    let envelopes = sink.envelopes.lock().unwrap().clone();
    received
        .iter()
        .zip(envelopes)
        .filter(|(_, env)| env.iter().any(|a| a == to))
        .map(|(m, _)| String::from_utf8_lossy(m).into_owned())
        .collect()
}

fn assert_no_customer_text(text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "customer text {c:?} in:\n{text}");
    }
}

fn assignee(desk: &TestDesk, n: u32) -> Option<String> {
    let t: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap();
    t["assignee"].as_str().map(String::from)
}

fn wait_assignee(desk: &TestDesk, n: u32, who: &str) {
    let deadline = Instant::now() + WAIT;
    while assignee(desk, n).as_deref() != Some(who) {
        assert!(Instant::now() < deadline, "#{n} never went to {who}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn customer_mail(server: &Server, subject: &str, id: &str, extra: &str, body: &str) {
    let raw = mail(
        &format!("Canary Cusname <{CUSTOMER}>"),
        subject,
        id,
        extra,
        body,
    );
    smtp_send(server.smtp_port, CUSTOMER, "support@desk.example", &raw).unwrap();
}

fn open_ticket(tmux: &Tmux, n: u32) {
    tmux.send_keys("F");
    tmux.wait_for("Find:");
    tmux.type_line(&n.to_string());
    tmux.wait_for("Thread (");
}

#[test]
fn assignment_reply_and_mention_reach_the_agent_batched_and_without_customer_text() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    desk.cli(&["config", "set", "notify.batch_window", &WINDOW.to_string()]);
    desk.cli(&["config", "set", "ssh.public_host", "desk.example.com"]);
    let alice_key = desk.keygen("alice");
    let bob_key = desk.keygen("bob");
    desk.add_agent("alice", &alice_key);
    desk.add_agent("bob", &bob_key);
    desk.cli(&["agent", "set", "alice", "--email", "alice@team.example"]);
    desk.cli(&["agent", "set", "bob", "--email", "bob@team.example"]);
    desk.cli(&["macro", "add", "to-alice", "--assign", "alice"]);
    desk.cli(&["macro", "add", "to-nobody", "--assign", "none"]);
    let listed = desk.cli(&["agent", "list"]);
    assert!(
        listed.contains("assigned,replied,mentioned,sla"),
        "{listed}"
    );
    let server = desk.serve();

    customer_mail(
        &server,
        "CanarySubject7781",
        "c1@example.net",
        "",
        "CanaryBody5530 one",
    );
    customer_mail(
        &server,
        "CanarySubject7781 two",
        "c2@example.net",
        "",
        "CanaryBody5530 two",
    );

    // Bob assigns #1 to Alice in the TUI (unassign, alice, bob (me)), then takes #2.
    let bob = Tmux::start_named(
        &desk,
        "bob",
        &interactive_ssh(&server, &bob_key, "bob", &[]),
    );
    bob.wait_for("Queue (");
    open_ticket(&bob, 1);
    bob.send_keys("A");
    bob.wait_for("Assign #1");
    bob.send_keys("j");
    bob.send_keys("Enter");
    wait_assignee(&desk, 1, "alice");
    bob.send_keys("Escape");
    bob.wait_for("Queue (");
    open_ticket(&bob, 2);
    bob.send_keys("a");
    wait_assignee(&desk, 2, "bob");
    bob.send_keys("Escape");

    // Exactly one mail, to Alice: the ticket, its status, why, who, the deep link.
    let first = sink.wait_for_mail(1);
    assert_eq!(first.len(), 1);
    let to_alice = mails_to(&sink, "alice@team.example");
    assert_eq!(to_alice.len(), 1, "{to_alice:?}");
    let m = &to_alice[0];
    assert!(m.contains("#1  open  assigned to you (by bob)"), "{m}");
    let link = format!("ssh -t -p {} alice@desk.example.com open 1", server.port);
    assert!(m.contains(&link), "{m}");
    assert!(!m.contains("#2"), "Bob's own take is nobody's news: {m}");
    assert_no_customer_text(m);

    // Within one window: the customer replies on Alice's #1 and a macro gives her #2.
    // One mail holds both.
    customer_mail(
        &server,
        "Re: CanarySubject7781",
        "c3@example.net",
        "In-Reply-To: <c1@example.net>\r\n",
        "CanaryBody5530 three",
    );
    desk.cli(&["macro", "apply", "to-alice", "--ticket", "2"]);
    sink.wait_for_mail(2);
    std::thread::sleep(Duration::from_secs(WINDOW + 2));
    let to_alice = mails_to(&sink, "alice@team.example");
    assert_eq!(to_alice.len(), 2, "one mail per window: {to_alice:?}");
    let m = &to_alice[1];
    assert!(m.contains("#1  open  the customer replied"), "{m}");
    assert!(m.contains("#2  open  assigned to you (by cli:"), "{m}");
    assert!(m.contains("alice@desk.example.com open 2"), "{m}");
    assert_no_customer_text(m);

    // "Assigned to me" off: a new assignment stays quiet, a reply still reaches her.
    let set = desk.cli(&["agent", "set", "alice", "--notify", "-assigned"]);
    assert!(
        set.contains("alice is told about: replied,mentioned,sla"),
        "{set}"
    );
    desk.cli(&["macro", "apply", "to-nobody", "--ticket", "2"]);
    desk.cli(&["macro", "apply", "to-alice", "--ticket", "2"]);
    customer_mail(
        &server,
        "Re: CanarySubject7781 two",
        "c4@example.net",
        "In-Reply-To: <c2@example.net>\r\n",
        "CanaryBody5530 four",
    );
    sink.wait_for_mail(3);
    let to_alice = mails_to(&sink, "alice@team.example");
    let m = &to_alice[2];
    assert!(m.contains("#2  open  the customer replied"), "{m}");
    assert!(!m.contains("assigned to you"), "the topic is off: {m}");
    assert_no_customer_text(m);
    assert!(
        mails_to(&sink, "bob@team.example").is_empty(),
        "Bob caused everything he could have heard of"
    );

    // With `notify.include_subject` the subject comes along, sanitized; still no name,
    // address or body.
    desk.cli(&["config", "set", "notify.include_subject", "true"]);
    customer_mail(
        &server,
        "Re: CanarySubject7781 two",
        "c5@example.net",
        "In-Reply-To: <c2@example.net>\r\n",
        "CanaryBody5530 five",
    );
    sink.wait_for_mail(4);
    let m = &mails_to(&sink, "alice@team.example")[3];
    assert!(m.contains("subject: CanarySubject7781 two"), "{m}");
    assert_no_customer_text(&m.replace("CanarySubject7781", ""));

    // Alice's TUI: the unread count, the list newest first, Enter opens and marks read.
    let alice = Tmux::start_named(
        &desk,
        "alice",
        &interactive_ssh(&server, &alice_key, "alice", &[]),
    );
    alice.wait_for("Queue (");
    alice.wait_for("5 unread (N)");
    alice.send_keys("N");
    let list = alice.wait_for("Notifications (5 unread of 5)");
    assert!(list.contains("the customer replied"), "{list}");
    assert!(list.contains("assigned to you"), "{list}");
    assert_no_customer_text(&list);
    // A mention in a note arrives in the open list by itself.
    desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--note",
        "--body",
        "@alice have a look, not @carol",
    ]);
    alice.wait_for("you were mentioned in a note");
    alice.wait_for("Notifications (6 unread of 6)");
    alice.send_keys("Enter");
    alice.wait_for("Thread (");
    alice.send_keys("Escape");
    alice.wait_for("Notifications (5 unread of 6)");

    // The settings screen (O): her address, "assigned" off; Space turns it back on.
    alice.send_keys("Escape");
    alice.wait_for("Queue (");
    alice.send_keys("O");
    let settings = alice.wait_for("Notification settings");
    assert!(settings.contains("alice@team.example"), "{settings}");
    assert!(
        settings
            .lines()
            .any(|l| l.contains("[ ]") && l.contains("assigned")),
        "{settings}"
    );
    alice.send_keys("Space");
    alice.wait_until("assigned on", WAIT, |s| {
        s.lines()
            .any(|l| l.contains("[x]") && l.contains("assigned"))
    });
    let listed: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    let alice_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "alice")
        .unwrap();
    assert_eq!(alice_row["notify"], "assigned,replied,mentioned,sla");

    // Bob's own list is empty: nothing he did is news to him.
    bob.wait_for("Queue (");
    bob.send_keys("N");
    bob.wait_for("No notifications yet");
}
