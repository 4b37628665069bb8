//! Search that reads message bodies, end to end: mail in over real SMTP (a CJK body),
//! an agent's reply through the CLI, and the queue's `/` search in a real terminal
//! (tmux + OpenSSH) finding both with the matching line; after the customer is erased,
//! neither is found any more, while another customer's mail still is.

mod common;

use base64::Engine;
use common::live::*;
use common::mailsink::{smtp_send, Sink};
use std::time::Duration;

const LIVE: Duration = Duration::from_secs(5);

/// A UTF-8 mail with a base64 body (so the CJK text survives any 7-bit hop).
fn mail(from: &str, subject: &str, id: &str, body: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(body);
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
    )
}

/// Types a new search after `/`, replacing what was typed before.
fn search(tmux: &Tmux, text: &str) {
    tmux.send_keys("/");
    tmux.send_keys("C-u");
    tmux.type_text(text);
}

fn queue_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.contains("Order question") || l.contains("Hangar door"))
        .collect()
}

#[test]
fn body_search_finds_reply_and_cjk_words_until_the_customer_is_erased() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let key = desk.keygen("alice");
    desk.add_admin("alice", &key);
    let server = desk.serve();
    let port = server.smtp_port;
    assert!(port > 0, "banner: {}", server.banner);

    smtp_send(
        port,
        "ann@example.com",
        "support@desk.example",
        &mail(
            "Ann <ann@example.com>",
            "Order question",
            "a1@example.com",
            "こんにちは。\r\n東京都の倉庫から発送してください。\r\nよろしく",
        ),
    )
    .unwrap();
    smtp_send(
        port,
        "bob@example.com",
        "support@desk.example",
        &mail(
            "Bob <bob@example.com>",
            "Hangar door",
            "b1@example.com",
            "Our zeppelin hangar door is stuck.",
        ),
    )
    .unwrap();
    let out = desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--body",
        "Hello Ann,\nthe zeppelin spare part ships on Monday.\nRegards",
    ]);
    assert!(!out.is_empty(), "the reply was stored: {out}");

    let alice = Tmux::start_named(
        &desk,
        "alice",
        &interactive_ssh(&server, &key, "alice", &[]),
    );
    alice.wait_for("Queue (2)");
    // Wide enough for subject and matching line side by side.
    alice.resize(220, 40);

    // A word from the agent's reply: both tickets hold it, each row shows its line.
    search(&alice, "zeppel");
    let (screen, _) = alice.wait_until("both zeppelin tickets with their lines", LIVE, |s| {
        s.contains("Queue (2)")
            && s.contains("spare part ships on Monday")
            && s.contains("hangar door is stuck")
    });
    assert_eq!(queue_rows(&screen).len(), 2, "{screen}");

    // A CJK word inside running text of the inbound mail: only Ann's ticket.
    search(&alice, "倉庫");
    let (screen, _) = alice.wait_until("the CJK word found", LIVE, |s| {
        s.contains("Queue (1)") && s.contains("東京都の倉庫から発送")
    });
    assert!(screen.contains("Order question"), "{screen}");
    alice.send_keys("Enter");
    alice.wait_for("Queue (1)");

    // F finds it too, listing the ticket with the matching line.
    alice.send_keys("F");
    alice.type_line("倉庫");
    alice.wait_until("F lists the ticket", LIVE, |s| {
        s.contains("1 tickets match") && s.contains("#1 Order question")
    });
    alice.send_keys("Escape");

    // Erasing Ann: her messages leave the index before the command returns.
    let out = desk.cli(&[
        "customer",
        "cancel",
        "ann@example.com",
        "--yes",
        "--override",
        "test: asked in person",
    ]);
    assert!(out.contains("erased"), "{out}");
    alice.wait_until("the erased ticket leaves the results", LIVE, |s| {
        s.contains("Queue (0)") && !s.contains("倉庫から")
    });
    search(&alice, "倉庫");
    alice.wait_until("the CJK word no longer found", LIVE, |s| {
        s.contains("Queue (0)") && s.contains("No tickets match")
    });
    search(&alice, "zeppelin");
    let (screen, _) = alice.wait_until("only Bob's ticket holds the reply word", LIVE, |s| {
        s.contains("Queue (1)") && s.contains("hangar door is stuck")
    });
    assert!(!screen.contains("spare part"), "{screen}");
    assert!(!screen.contains("Order question"), "{screen}");
    alice.send_keys("Enter");
    alice.send_keys("F");
    alice.type_line("倉庫");
    alice.wait_until("F finds nothing for the erased word", LIVE, |s| {
        s.contains("no customer matches")
    });
    assert!(server.terminate().success());
}
