//! Conversations with more than two people, and more than one support address, against
//! a running `sealdesk serve`: mail in over real SMTP (Python's smtplib), replies out to
//! a real SMTP sink, read back with the desk's own parser; the agent's reply from the
//! CLI (through the control socket) and from the TUI (OpenSSH in tmux).

mod common;

use common::live::*;
use common::mailsink::{smtp_send, Sink};
use sealdesk_mail::parse::{parse, Mailbox, ParsedMail};

fn show(desk: &TestDesk, n: u32) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

fn addresses(list: &[Mailbox]) -> Vec<&str> {
    list.iter().map(|m| m.address.as_str()).collect()
}

/// The mails the sink got, parsed.
fn received(sink: &Sink, n: usize) -> Vec<ParsedMail> {
    sink.wait_for_mail(n)
        .iter()
        .map(|raw| {
            let mut mail = parse(raw).expect("a well-formed mail");
            mail.text = mail.text.replace("\r\n", "\n");
            mail
        })
        .collect()
}

#[test]
fn a_colleague_in_cc_joins_gets_the_reply_and_is_not_quoted_to_the_requester() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();
    let port = server.smtp_port;

    let first = concat!(
        "From: Ann <ann@example.com>\r\nTo: Support <support@desk.example>\r\n",
        "Cc: Bob Builder <bob@example.com>\r\nSubject: Printer on fire\r\n",
        "Message-ID: <a1@example.com>\r\n\r\nIt burns, says Ann.\r\n"
    );
    smtp_send(port, "ann@example.com", "support@desk.example", first).unwrap();
    let t = show(&desk, 1);
    assert_eq!(t["participants"], serde_json::json!(["bob@example.com"]));
    assert_eq!(t["thread"][0]["cc"][0], "Bob Builder <bob@example.com>");

    // Bob answers the desk alone: his mail joins the ticket as his.
    let bobs = concat!(
        "From: bob@example.com\r\nTo: support@desk.example\r\nSubject: Re: Printer on fire\r\n",
        "Message-ID: <b1@example.com>\r\nIn-Reply-To: <a1@example.com>\r\n",
        "References: <a1@example.com>\r\n\r\nBetween us: it was my coffee machine.\r\n"
    );
    smtp_send(port, "bob@example.com", "support@desk.example", bobs).unwrap();
    let t = show(&desk, 1);
    let thread = t["thread"].as_array().unwrap();
    assert_eq!(thread.len(), 2, "Bob's mail joined ticket 1: {t}");
    assert_eq!(thread[1]["author"], "bob@example.com");
    let text = desk.cli(&["ticket", "show", "1"]);
    assert!(text.contains("Cc: bob@example.com"), "{text}");

    // The agent's reply: To Ann, Cc Bob; the quote is Ann's mail, which both saw.
    desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--body",
        "A technician is on the way.",
    ]);
    let out = &received(&sink, 1)[0];
    assert_eq!(out.from, "support@desk.example");
    assert_eq!(addresses(&out.to_mailboxes), vec!["ann@example.com"]);
    assert_eq!(addresses(&out.cc), vec!["bob@example.com"]);
    assert!(
        out.text.contains("A technician is on the way."),
        "{}",
        out.text
    );
    assert!(out.text.contains("> It burns, says Ann."), "{}", out.text);
    assert!(
        !out.text.contains("coffee machine"),
        "Ann never saw Bob's mail: {}",
        out.text
    );

    // A reply to Bob and Carol: the desk's own address is left out, Carol (new)
    // becomes a participant, and nothing is quoted: Carol saw none of the mails.
    let answer = desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--to",
        "bob@example.com",
        "--cc",
        "carol@example.com,Support@Desk.Example",
        "--body",
        "Thanks, Bob.",
    ]);
    assert!(answer.contains("left out"), "{answer}");
    let out = &received(&sink, 2)[1];
    assert_eq!(addresses(&out.to_mailboxes), vec!["bob@example.com"]);
    assert_eq!(addresses(&out.cc), vec!["carol@example.com"]);
    assert!(out.text.contains("Thanks, Bob."), "{}", out.text);
    assert!(!out.text.contains("wrote:"), "{}", out.text);
    let t = show(&desk, 1);
    assert_eq!(
        t["participants"],
        serde_json::json!(["bob@example.com", "carol@example.com"])
    );

    // To Bob alone, his own mail may be quoted.
    desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--to",
        "bob@example.com",
        "--body",
        "Noted.",
    ]);
    let out = &received(&sink, 3)[2];
    assert!(out.cc.is_empty());
    assert!(out.text.contains("> Between us"), "{}", out.text);

    // Bcc: delivered (the relay's envelope has it), seen by nobody else (no header),
    // and not made a participant.
    desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--to",
        "bob@example.com",
        "--bcc",
        "boss@example.com",
        "--body",
        "Copying the boss quietly.",
    ]);
    let out = &received(&sink, 4)[3];
    assert_eq!(addresses(&out.to_mailboxes), vec!["bob@example.com"]);
    assert!(out.cc.is_empty());
    let envelope = sink.envelopes.lock().unwrap()[3].clone();
    assert_eq!(envelope, vec!["bob@example.com", "boss@example.com"]);
    let raw = String::from_utf8_lossy(&sink.received.lock().unwrap()[3]).into_owned();
    assert!(!raw.to_lowercase().contains("boss@"), "{raw}");
    assert_eq!(
        show(&desk, 1)["participants"],
        serde_json::json!(["bob@example.com", "carol@example.com"])
    );

    // The ticket's header in the TUI names who a reply is Cc'd to.
    let tmux = Tmux::start_named(
        &desk,
        "alice",
        &interactive_ssh(&server, &key, "alice", &[]),
    );
    tmux.wait_for("Queue (");
    tmux.send_keys("Enter");
    tmux.wait_for("Cc: bob@example.com, carol@example.com");
    drop(tmux);

    // A bad address is refused in one line that names it.
    let bad = desk.try_cli(&[
        "ticket",
        "reply",
        "1",
        "--cc",
        "carol at home",
        "--body",
        "x",
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("in Cc is not an email address"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    drop(server);
}

#[test]
fn each_support_address_answers_from_itself_with_its_signature_and_the_agents() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    for (key, value) in [
        ("mail.addresses.billing@desk.example.name", "Billing"),
        (
            "mail.addresses.billing@desk.example.signature",
            "Billing team · {address.email}",
        ),
        ("mail.addresses.billing@desk.example.tags", "money"),
        ("mail.addresses.sales@desk.example.name", "Sales"),
        (
            "mail.addresses.sales@desk.example.signature",
            "{address.name}, ticket {ticket}",
        ),
    ] {
        desk.cli(&["config", "set", key, value]);
    }
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.cli(&[
        "agent",
        "set",
        "alice",
        "--signature",
        "Alice, for {customer.name}",
    ]);
    let server = desk.serve();
    let port = server.smtp_port;

    let to_billing = concat!(
        "From: Ann <ann@example.com>\r\nTo: billing@desk.example\r\nSubject: Invoice\r\n",
        "Message-ID: <i1@example.com>\r\n\r\nThe sum is wrong.\r\n"
    );
    smtp_send(port, "ann@example.com", "billing@desk.example", to_billing).unwrap();
    // Sales only in the envelope (as for a Bcc), billing in To: the envelope decides.
    let to_sales = concat!(
        "From: Ben <ben@example.com>\r\nTo: billing@desk.example\r\nSubject: Offer\r\n",
        "Message-ID: <s1@example.com>\r\n\r\nHow much for ten?\r\n"
    );
    smtp_send(port, "ben@example.com", "sales@desk.example", to_sales).unwrap();
    let billing = show(&desk, 1);
    assert_eq!(billing["address"], "billing@desk.example");
    assert_eq!(billing["tags"], serde_json::json!(["money"]));
    assert_eq!(show(&desk, 2)["address"], "sales@desk.example");

    // From the CLI (no agent: the address's signature alone).
    desk.cli(&["ticket", "reply", "1", "--body", "We will correct it."]);
    let out = &received(&sink, 1)[0];
    assert_eq!(out.from, "billing@desk.example");
    assert_eq!(out.from_name, "Billing");
    assert_eq!(addresses(&out.to_mailboxes), vec!["ann@example.com"]);
    assert!(
        out.text
            .contains("We will correct it.\n\n-- \nBilling team · billing@desk.example\n"),
        "{}",
        out.text
    );

    // Alice replies from the TUI on ticket 2 (sales; found with F): her signature,
    // then the address's, filled in.
    let tmux = Tmux::start_named(
        &desk,
        "alice",
        &interactive_ssh(&server, &key, "alice", &[]),
    );
    tmux.wait_for("Queue (");
    tmux.send_keys("F");
    tmux.wait_for("Find:");
    tmux.type_text("2");
    tmux.send_keys("Enter");
    tmux.wait_for("Offer");
    tmux.wait_for("Thread (");
    tmux.send_keys("r");
    tmux.wait_for("Ctrl-S");
    tmux.type_text("Ten cost less.");
    tmux.send_keys("C-s");
    let out = &received(&sink, 2)[1];
    assert_eq!(out.from, "sales@desk.example");
    assert_eq!(out.from_name, "Sales");
    assert_eq!(addresses(&out.to_mailboxes), vec!["ben@example.com"]);
    assert!(
        out.text
            .contains("Ten cost less.\n\n-- \nAlice, for Ben\nSales, ticket #2\n"),
        "{}",
        out.text
    );
    // The thread keeps the reply as sent.
    let last = show(&desk, 2)["thread"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"], "alice");
    assert!(last["text"].as_str().unwrap().contains("Alice, for Ben"));

    // Alice changes her own signature in the TUI (`W`); `\n` is a line break.
    tmux.send_keys("Escape");
    tmux.wait_for("Queue (");
    tmux.send_keys("W");
    tmux.wait_for("Your signature");
    tmux.send_keys("C-u");
    tmux.type_text("Alice B.\\nSales desk");
    tmux.send_keys("Enter");
    tmux.wait_for("signature saved");
    let agents: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(agents[0]["signature"], "Alice B.\nSales desk");
    drop(tmux);
    drop(server);
}

#[test]
fn ingest_takes_the_envelope_recipient_from_the_mta() {
    let desk = configured_desk(None);
    desk.cli(&[
        "config",
        "set",
        "mail.addresses.billing@desk.example.name",
        "Billing",
    ]);
    let raw = concat!(
        "From: ann@example.com\r\nTo: support@desk.example\r\nSubject: Invoice\r\n",
        "Message-ID: <g1@example.com>\r\n\r\nWrong sum.\r\n"
    );
    let out = desk.cli_with_stdin(&["ingest", "--to", "billing@desk.example"], raw.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(show(&desk, 1)["address"], "billing@desk.example");
    // Without it, To decides: support@ is not one of mail.addresses, so the default.
    let again = raw.replace("g1@", "g2@");
    let out = desk.cli_with_stdin(&["ingest"], again.as_bytes());
    assert!(out.status.success());
    assert_eq!(show(&desk, 2)["address"], serde_json::Value::Null);
}
