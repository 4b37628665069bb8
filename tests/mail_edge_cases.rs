//! Mail as real Postfix and real mail programs send it, into a running `sealdesk serve`
//! over SMTP (Python's smtplib), with a real SMTP server on loopback as the relay: delay
//! warnings and bounces, out-of-office answers, read receipts, two From headers, a
//! byte-order mark, bracketed subjects, reused Message-IDs, a bad `mail.from` and
//! `ticket retry`, the EHLO name, and a queued reply's reason and next try.

mod common;

use common::live::*;
use common::mailsink::{mail, smtp_send, Sink};
use serde_json::Value;
use std::thread;
use std::time::{Duration, Instant};

fn show(desk: &TestDesk, n: u64) -> Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

fn all_tickets(desk: &TestDesk) -> Vec<Value> {
    let list: Value = serde_json::from_str(&desk.cli(&["ticket", "list", "--json"])).unwrap();
    list.as_array().unwrap().clone()
}

fn thread(t: &Value) -> Vec<Value> {
    t["thread"].as_array().unwrap().clone()
}

/// Polls `ticket show n` until `pred` holds; returns that ticket.
fn wait_ticket(desk: &TestDesk, n: u64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let t = show(desk, n);
        if pred(&t) {
            return t;
        }
        assert!(Instant::now() < deadline, "ticket {n} never {what}: {t:#}");
        thread::sleep(Duration::from_millis(100));
    }
}

fn delivery_of(t: &Value, seq: usize) -> String {
    thread(t)[seq]["delivery"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn send(port: u16, from: &str, raw: &str) {
    smtp_send(port, from, "support@desk.example", raw).unwrap();
}

/// A delivery status notification as Postfix writes it, about our message `id`.
fn dsn(id: &str, action: &str, status: &str, code: &str) -> String {
    format!(
        concat!(
            "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n",
            "To: support@desk.example\r\n",
            "Subject: Delayed Mail (still being retried)\r\n",
            "Message-ID: <dsn-{action}-{status}@mx.example.net>\r\n",
            "Auto-Submitted: auto-replied\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n",
            "\r\n",
            "--B\r\n",
            "Content-Description: Notification\r\n",
            "Content-Type: text/plain; charset=us-ascii\r\n",
            "\r\n",
            "This is the mail system at host mx.example.net.\r\n",
            "\r\n",
            "####################################################################\r\n",
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n",
            "####################################################################\r\n",
            "\r\n",
            "--B\r\n",
            "Content-Description: Delivery report\r\n",
            "Content-Type: message/delivery-status\r\n",
            "\r\n",
            "Reporting-MTA: dns; mx.example.net\r\n",
            "X-Postfix-Queue-ID: 4ABCD1234\r\n",
            "Arrival-Date: Tue,  1 Dec 2026 10:00:00 +0000 (UTC)\r\n",
            "\r\n",
            "Final-Recipient: rfc822; ann@example.com\r\n",
            "Original-Recipient: rfc822;ann@example.com\r\n",
            "Action: {action}\r\n",
            "Status: {status}\r\n",
            "Diagnostic-Code: smtp; {code}\r\n",
            "\r\n",
            "--B\r\n",
            "Content-Description: Undelivered Message Headers\r\n",
            "Content-Type: text/rfc822-headers\r\n",
            "\r\n",
            "From: Support <support@desk.example>\r\n",
            "To: ann@example.com\r\n",
            "Message-ID: <{id}>\r\n",
            "Subject: Re: [#1] Printer on fire\r\n",
            "\r\n",
            "--B--\r\n"
        ),
        id = id,
        action = action,
        status = status,
        code = code
    )
}

#[test]
fn delay_warnings_receipts_and_bounces_land_on_the_reply_they_are_about() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    let port = server.smtp_port;
    send(
        port,
        "ann@example.com",
        &mail(
            "Ann <ann@example.com>",
            "Printer on fire",
            "a1@example.com",
            "",
            "It burns.",
        ),
    );
    desk.cli(&["ticket", "reply", "1", "--body", "Unplug it."]);
    let out = sealdesk_mail::parse::parse(&sink.wait_for_mail(1)[0]).unwrap();
    let ours = out.message_id.expect("our reply has a Message-ID");
    wait_ticket(&desk, 1, "marked the reply sent", |t| {
        delivery_of(t, 1).starts_with("sent")
    });

    // Postfix warns that the mail is delayed: the reply stays sent, a note says why.
    send(
        port,
        "",
        &dsn(
            &ours,
            "delayed",
            "4.4.1",
            "421 4.4.1 mx.example.com: connect timed out",
        ),
    );
    let t = show(&desk, 1);
    let entries = thread(&t);
    assert_eq!(entries.len(), 3, "{t:#}");
    assert!(delivery_of(&t, 1).starts_with("sent"), "{t:#}");
    let note = entries[2]["text"].as_str().unwrap();
    assert_eq!(entries[2]["kind"], "note");
    assert!(
        note.contains("delayed")
            && note.contains("4.4.1 421 4.4.1 mx.example.com: connect timed out"),
        "{note}"
    );
    assert!(
        !note.contains("WARNING ONLY"),
        "the boilerplate is left out: {note}"
    );
    assert_eq!(t["status"], "open", "{t:#}");

    // Ann's mail program sends a read receipt: a note on #1, not a ticket.
    let mdn = format!(
        concat!(
            "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\n",
            "Subject: Read: Re: [#1] Printer on fire\r\nMessage-ID: <mdn1@example.com>\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"M\"\r\n\r\n",
            "--M\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            "This is a Return Receipt for the mail that you sent to ann@example.com.\r\n\r\n",
            "--M\r\nContent-Type: message/disposition-notification\r\n\r\n",
            "Reporting-UA: example.com; Thunderbird 128\r\nFinal-Recipient: rfc822;ann@example.com\r\n",
            "Original-Message-ID: <{ours}>\r\n",
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n",
            "--M--\r\n"
        ),
        ours = ours
    );
    send(port, "ann@example.com", &mdn);
    assert_eq!(all_tickets(&desk).len(), 1, "the receipt made no ticket");
    let t = show(&desk, 1);
    let entries = thread(&t);
    assert_eq!(entries.len(), 4, "{t:#}");
    assert_eq!(entries[3]["kind"], "note");
    assert_eq!(
        entries[3]["text"],
        "Read receipt from ann@example.com: displayed"
    );

    // Then it fails for good: only now is the reply failed, with the code and reason.
    send(
        port,
        "",
        &dsn(
            &ours,
            "failed",
            "5.1.1",
            "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown",
        ),
    );
    let t = show(&desk, 1);
    let delivery = delivery_of(&t, 1);
    assert!(
        delivery.starts_with("failed")
            && delivery.contains(
                "bounced: 5.1.1 550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown"
            ),
        "{t:#}"
    );
    let entries = thread(&t);
    let note = entries[4]["text"].as_str().unwrap();
    assert!(note.starts_with("Delivery failed"), "{note}");
    assert!(!note.contains("mail system at host"), "{note}");
    assert!(server.terminate().success());
}

/// Opens the desk's store directly (the server is not running) and runs `then`.
fn with_desk(desk: &TestDesk, then: impl FnOnce(&sealdesk_desk::Desk)) {
    let paths = sealdesk_store::Paths {
        data: desk.path("data"),
        keys: desk.path("keys"),
    };
    let config = sealdesk_desk::config::Config::load(
        &sealdesk_desk::config::Config::default_path(&paths.data),
        false,
    )
    .unwrap();
    let store = sealdesk_store::Store::open(&paths, None).unwrap();
    then(&sealdesk_desk::Desk::new(store, config));
}

#[test]
fn out_of_office_answers_are_filed_but_reopen_nothing() {
    use sealdesk_model::{Status, TicketNo};
    let desk = configured_desk(None);
    for (from, id) in [
        ("Ann <ann@example.com>", "o1@example.com"),
        ("Bob <bob@example.com>", "o2@example.com"),
        ("Cy <cy@example.com>", "o3@example.com"),
    ] {
        let out = desk.cli_with_stdin(
            &["ingest"],
            mail(from, "Printer", id, "", "Help").as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0));
    }
    with_desk(&desk, |d| {
        let admin = sealdesk_desk::Actor::local_admin();
        d.set_status(&admin, TicketNo(1), Status::Solved).unwrap();
        d.set_status(&admin, TicketNo(2), Status::Closed).unwrap();
        d.set_status(&admin, TicketNo(3), Status::Pending).unwrap();
    });
    let server = desk.serve();
    let port = server.smtp_port;
    let answers = [
        (
            "ann@example.com",
            "Automatic reply: Printer",
            "In-Reply-To: <o1@example.com>\r\nAuto-Submitted: auto-replied\r\n",
        ),
        (
            "bob@example.com",
            "Abwesenheitsnotiz: Printer",
            "In-Reply-To: <o2@example.com>\r\n",
        ),
        (
            "cy@example.com",
            "Out of office",
            "References: <o3@example.com>\r\nX-Autoreply: yes\r\n",
        ),
    ];
    for (i, (from, subject, extra)) in answers.iter().enumerate() {
        let raw = mail(
            from,
            subject,
            &format!("ooo{i}@example.com"),
            extra,
            "I am away until Monday.",
        );
        send(port, from, &raw);
    }
    assert_eq!(all_tickets(&desk).len(), 3, "no new tickets");
    for (n, status) in [(1, "solved"), (2, "closed"), (3, "pending")] {
        let t = show(&desk, n);
        assert_eq!(t["status"], status, "#{n}: {t:#}");
        let entries = thread(&t);
        assert_eq!(entries.len(), 2, "filed into #{n}: {t:#}");
        assert_eq!(
            entries[1]["text"].as_str().unwrap().trim(),
            "I am away until Monday."
        );
    }
    // A real answer still reopens the solved ticket.
    let raw = mail(
        "ann@example.com",
        "Re: Printer",
        "real1@example.com",
        "In-Reply-To: <o1@example.com>\r\n",
        "It is broken again.",
    );
    send(port, "ann@example.com", &raw);
    assert_eq!(show(&desk, 1)["status"], "open");
    assert!(server.terminate().success());
}

#[test]
fn headers_as_odd_mail_programs_write_them() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    let port = server.smtp_port;

    // Two From headers: the first counts.
    let two = "From: Ann <ann@example.com>\r\nFrom: Mallory <mallory@evil.example>\r\nTo: support@desk.example\r\nSubject: Two senders\r\nMessage-ID: <t1@example.com>\r\n\r\nHello\r\n";
    send(port, "ann@example.com", two);
    assert_eq!(
        thread(&show(&desk, 1))[0]["author"],
        "Ann <ann@example.com>"
    );

    // A byte-order mark before the first header.
    let bom = "\u{feff}From: Bob <bob@example.com>\r\nTo: support@desk.example\r\nSubject: With a BOM\r\nMessage-ID: <b1@example.com>\r\n\r\nHello\r\n";
    send(port, "bob@example.com", bom);
    let t = show(&desk, 2);
    assert_eq!(thread(&t)[0]["author"], "Bob <bob@example.com>", "{t:#}");
    assert_eq!(t["subject"], "With a BOM");

    // A bracketed prefix is the customer's; reply prefixes and our tag are not.
    send(
        port,
        "cy@example.com",
        &mail(
            "cy@example.com",
            "Fwd: [URGENT] Server down",
            "u1@example.com",
            "",
            "Down!",
        ),
    );
    assert_eq!(show(&desk, 3)["subject"], "[URGENT] Server down");
    desk.cli(&["ticket", "reply", "3", "--body", "Looking."]);
    let got = sink.wait_for_mail(1);
    let reply = sealdesk_mail::parse::parse(&got[0]).unwrap();
    assert_eq!(reply.subject, "Re: [#3] [URGENT] Server down");
    let answer = mail(
        "cy@example.com",
        &reply.subject.replace("Re:", "AW: RE[2]:"),
        "u2@example.com",
        "",
        "Thanks.",
    );
    send(port, "cy@example.com", &answer);
    assert_eq!(thread(&show(&desk, 3)).len(), 3, "threaded by the tag");
    assert_eq!(show(&desk, 3)["subject"], "[URGENT] Server down");

    // The same message again (an SMTP retry) is stored once; another message reusing
    // its Message-ID is not dropped.
    let first = mail(
        "dee@example.com",
        "Invoice",
        "fixed@example.com",
        "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n",
        "Where is my invoice?",
    );
    send(port, "dee@example.com", &first);
    send(port, "dee@example.com", &first);
    assert_eq!(all_tickets(&desk).len(), 4, "the retry is a duplicate");
    let other = mail(
        "dee@example.com",
        "Password",
        "fixed@example.com",
        "Date: Wed, 2 Dec 2026 09:00:00 +0000\r\n",
        "I forgot my password.",
    );
    send(port, "dee@example.com", &other);
    let tickets = all_tickets(&desk);
    assert_eq!(tickets.len(), 5, "the other message is filed: {tickets:?}");
    assert_eq!(show(&desk, 5)["subject"], "Password");
    assert_eq!(thread(&show(&desk, 4)).len(), 1);
    assert!(server.terminate().success());
}

#[test]
fn a_bad_from_is_refused_failed_replies_are_retried_and_the_reason_is_shown() {
    // The relay is down at first: nothing listens on its port.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_port = down.local_addr().unwrap().port();
    drop(down);
    let desk = TestDesk::new();
    desk.cli(&["config", "set", "mail.ingest", "support@desk.example"]);
    desk.cli(&[
        "config",
        "set",
        "mail.relay",
        &format!("smtp://127.0.0.1:{down_port}"),
    ]);

    // A From the sender could not use is refused, with the fix, without and with a server.
    let refused = desk.try_cli(&[
        "config",
        "set",
        "mail.from",
        "Example, Inc. <support@desk.example>",
    ]);
    let err = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success());
    assert!(
        err.contains("mail.from") && err.contains("Support <support@example.com>"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let server = desk.serve();
    let refused = desk.try_cli(&["config", "set", "mail.from", "Support support@desk.example"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("mail.from"));
    assert_eq!(desk.cli(&["config", "get", "mail.from"]).trim(), "");

    // Without a usable From the reply fails for good, and says so.
    send(
        server.smtp_port,
        "ann@example.com",
        &mail(
            "Ann <ann@example.com>",
            "Printer",
            "r1@example.com",
            "",
            "Help",
        ),
    );
    desk.cli(&["ticket", "reply", "1", "--body", "On it."]);
    let t = wait_ticket(&desk, 1, "failed the reply", |t| {
        delivery_of(t, 1).starts_with("failed")
    });
    assert!(delivery_of(&t, 1).contains("mail.from is not set"), "{t:#}");
    let text = desk.cli(&["ticket", "show", "1"]);
    assert!(text.contains("sealdesk ticket retry 1"), "{text}");

    // Fixed, and retried: now the relay is down, so it waits, with the reason and the
    // next try on the ticket.
    desk.cli(&[
        "config",
        "set",
        "mail.from",
        "\"Example, Inc.\" <support@desk.example>",
    ]);
    let said = desk.cli(&["ticket", "retry", "1"]);
    assert!(said.contains("1 reply of ticket #1 queued"), "{said}");
    let t = wait_ticket(&desk, 1, "recorded a failed try", |t| {
        thread(t)[1]["outbox"]["last_error"].is_string()
    });
    assert!(delivery_of(&t, 1).starts_with("queued"), "{t:#}");
    let outbox = &thread(&t)[1]["outbox"];
    let reason = outbox["last_error"].as_str().unwrap();
    assert!(
        reason.contains(&format!("127.0.0.1:{down_port}")) && reason.contains("cannot talk to"),
        "{reason}"
    );
    assert!(outbox["attempts"].as_u64().unwrap() >= 1);
    let next = outbox["next_attempt"].as_str().unwrap();
    assert!(next > thread(&t)[1]["at"].as_str().unwrap(), "{t:#}");
    let text = desk.cli(&["ticket", "show", "1"]);
    assert!(
        text.contains("next try") && text.contains("cannot talk to"),
        "{text}"
    );

    // The relay is back; `ticket retry` sends at once instead of at the next try, and
    // greets it with the configured host name.
    let sink = Sink::start();
    desk.cli(&[
        "config",
        "set",
        "mail.relay",
        &format!("smtp://127.0.0.1:{}", sink.port),
    ]);
    desk.cli(&["config", "set", "mail.hostname", "helpdesk-1.desk.example"]);
    let audit_before = desk.audit().len();
    desk.cli(&["ticket", "retry", "1"]);
    let got = sink.wait_for_mail(1);
    let sent = sealdesk_mail::parse::parse(&got[0]).unwrap();
    assert_eq!(sent.from, "support@desk.example");
    assert!(sent.text.contains("On it."));
    assert_eq!(sink.hellos.lock().unwrap()[0], "helpdesk-1.desk.example");
    let t = wait_ticket(&desk, 1, "marked the reply sent", |t| {
        delivery_of(t, 1).starts_with("sent")
    });
    assert!(thread(&t)[1]["outbox"].is_null(), "{t:#}");
    let retries: Vec<Value> = desk.audit()[audit_before..]
        .iter()
        .filter(|e| e["action"] == "ticket.retry")
        .cloned()
        .collect();
    assert_eq!(retries.len(), 1, "audited");
    let refused = desk.try_cli(&["ticket", "retry", "1"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no failed or queued reply"));
    // Every header line on the wire is short.
    let raw = String::from_utf8_lossy(&got[0]).into_owned();
    let head = raw.split("\r\n\r\n").next().unwrap();
    assert!(head.lines().all(|l| l.len() <= 78), "{head}");
    assert!(server.terminate().success());
}

#[test]
fn the_ehlo_name_is_this_host_not_the_mail_domain() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    send(
        server.smtp_port,
        "ann@example.com",
        &mail("ann@example.com", "Hello", "h1@example.com", "", "Hi"),
    );
    desk.cli(&["ticket", "reply", "1", "--body", "Hi Ann."]);
    sink.wait_for_mail(1);
    let hello = sink.hellos.lock().unwrap()[0].clone();
    assert_ne!(hello, "desk.example", "not the domain of mail.from");
    assert_eq!(hello, sealdesk_mail::send::system_hello_name());
    assert!(server.terminate().success());
}
