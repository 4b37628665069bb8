//! `sealdesk ingest` through the real binary: threading, spoofed tags, duplicates,
//! machine mail, bounces, quarantine, and every message of the shared mail corpus.

mod common;

use common::*;

fn mail(from: &str, subject: &str, message_id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n{extra}Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
}

#[test]
fn mail_threads_into_tickets_and_spoofed_tags_do_not() {
    let d = TempDesk::with_support_address();

    let first = ingest(
        &d,
        &mail(
            "Ann <ann@example.com>",
            "Printer on fire",
            "m1@example.com",
            "",
            "It burns.",
        ),
    );
    assert!(first.contains("new ticket #1"), "{first}");

    // A reply by In-Reply-To joins, whatever its subject.
    let reply = mail(
        "ann@example.com",
        "Re: Printer on fire",
        "m2@example.com",
        "In-Reply-To: <m1@example.com>\r\n",
        "Still burning.",
    );
    assert!(ingest(&d, &reply).contains("into ticket #1"));

    // An agent's reply gets a Message-ID; the customer's answer to it threads by References.
    let out = d.cli(&["ticket", "reply", "1", "--body", "Unplug it."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    let ours = t["thread"][2]["message_id"].as_str().unwrap().to_string();
    assert!(ours.ends_with("@desk.example"), "{ours}");
    assert_eq!(t["thread"][2]["in_reply_to"], "m2@example.com");
    assert_eq!(t["thread"][2]["references"][1], "m2@example.com");
    let answer = mail(
        "ann@example.com",
        "Re: [#1] Printer on fire",
        "m3@example.com",
        &format!("References: <m1@example.com> <{ours}>\r\n"),
        "Done.",
    );
    assert!(ingest(&d, &answer).contains("into ticket #1"));

    // The subject tag threads for a participant...
    assert!(ingest(
        &d,
        &mail(
            "ann@example.com",
            "[#1] one more thing",
            "m4@example.com",
            "",
            "PS"
        )
    )
    .contains("into ticket #1"));
    // ...but a stranger writing [#1] gets a ticket of their own.
    let spoof = ingest(
        &d,
        &mail(
            "mallory@evil.example",
            "Re: [#1] Printer on fire",
            "x1@evil.example",
            "",
            "Let me in",
        ),
    );
    assert!(spoof.contains("new ticket #2"), "{spoof}");

    // The same message delivered twice is stored once.
    assert!(ingest(&d, &reply).contains("already filed in ticket #1"));

    let t = json(&d, &["ticket", "show", "1", "--json"]);
    let kinds: Vec<&str> = t["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["inbound", "inbound", "outbound", "inbound", "inbound"]
    );
    assert_eq!(t["subject"], "Printer on fire");
    assert_eq!(
        t["thread"][2]["delivery"]
            .as_str()
            .unwrap()
            .split(' ')
            .next(),
        Some("queued")
    );
    let t2 = json(&d, &["ticket", "show", "2", "--json"]);
    assert_eq!(t2["thread"][0]["author"], "mallory@evil.example");
}

#[test]
fn charsets_html_and_attachments_arrive_decoded() {
    let d = TempDesk::init();
    let raw = concat!(
        "From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>\r\n",
        "Subject: =?UTF-8?B?5omT5Y2w5py65Z2P5LqG?=\r\n",
        "Message-ID: <cn1@example.cn>\r\nMIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=XX\r\n\r\n",
        "--XX\r\nContent-Type: text/html; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        "PHA+xOO6w6OsytjA7cqqPC9wPg==\r\n",
        "--XX\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename=\"shot.png\"\r\n",
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XX--\r\n"
    );
    assert!(ingest(&d, raw).contains("new ticket #1"));
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["subject"], "打印机坏了");
    let m = &t["thread"][0];
    assert_eq!(m["author"], "张三 <zhang@example.cn>");
    assert!(
        m["text"].as_str().unwrap().contains("你好"),
        "{}",
        m["text"]
    );
    assert!(!m["text"].as_str().unwrap().contains("<p>"));
    assert_eq!(m["attachments"][0]["name"], "shot.png");
    assert_eq!(m["attachments"][0]["content_type"], "image/png");
    assert_eq!(m["attachments"][0]["size"], 8);
}

#[test]
fn machine_mail_bounces_loops_and_oversize_are_handled_without_loss() {
    let d = TempDesk::init();
    for (k, v) in [
        ("mail.from", "Support <support@desk.example>"),
        (
            "mail.ack_template",
            "We got your message as ticket {ticket}.",
        ),
        ("mail.max_size", "4000"),
    ] {
        let out = d.cli(&["config", "set", k, v]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // A human's new ticket gets an acknowledgement (queued as an outbound message)...
    ingest(
        &d,
        &mail("ann@example.com", "Hello", "h1@example.com", "", "Hi"),
    );
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["thread"][1]["kind"], "outbound");
    assert_eq!(t["thread"][1]["text"], "We got your message as ticket #1.");
    // ...an autoresponder's does not.
    ingest(
        &d,
        &mail(
            "bot@example.com",
            "Out of office",
            "a1@example.com",
            "Auto-Submitted: auto-replied\r\n",
            "Away",
        ),
    );
    assert_eq!(
        json(&d, &["ticket", "show", "2", "--json"])["thread"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A bounce of our reply becomes a note on ticket 1 and marks the reply failed.
    assert!(d
        .cli(&["ticket", "reply", "1", "--body", "Answer"])
        .status
        .success());
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    let reply_id = t["thread"][2]["message_id"].as_str().unwrap().to_string();
    let dsn = format!(
        "From: MAILER-DAEMON@mx.example\r\nTo: support@desk.example\r\nSubject: Undelivered Mail\r\nMessage-ID: <b1@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\n550 5.1.1 <ann@example.com>: user unknown\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{reply_id}>\r\n\r\n--R--\r\n"
    );
    assert!(ingest(&d, &dsn).contains("delivery failure noted on ticket #1"));
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert!(
        t["thread"][2]["delivery"]
            .as_str()
            .unwrap()
            .contains("user unknown"),
        "{}",
        t["thread"][2]
    );
    assert_eq!(t["thread"][3]["kind"], "note");
    assert_eq!(
        json(&d, &["ticket", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2,
        "no ticket for the bounce"
    );

    // Our own mail coming back, an oversize message and a message without a sender are
    // quarantined with reasons; nothing is dropped.
    ingest(
        &d,
        &mail(
            "support@desk.example",
            "Re: Hello",
            "loop1@desk.example",
            "",
            "echo",
        ),
    );
    ingest(
        &d,
        &mail(
            "big@example.com",
            "Big",
            "big1@example.com",
            "",
            &"x".repeat(5000),
        ),
    );
    ingest(&d, "Subject: who am I\r\n\r\nno sender\r\n");
    let q = json(&d, &["quarantine", "list", "--json"]);
    assert_eq!(q.as_array().unwrap().len(), 3, "{q}");
    let id_for = |needle: &str| -> String {
        let item = q
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["reason"].as_str().unwrap().contains(needle));
        item.unwrap_or_else(|| panic!("no quarantine reason with {needle:?}: {q}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (loop_id, big, broken) = (
        id_for("a loop"),
        id_for("size limit"),
        id_for("no usable sender"),
    );

    // Release the oversize one (rules skipped), delete the loop; the unparseable one
    // cannot be released and stays.
    let out = d.cli(&["quarantine", "release", &big]);
    assert!(
        stdout(&out).contains("new ticket #3"),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
    assert!(d.cli(&["quarantine", "delete", &loop_id]).status.success());
    let broken = broken.as_str();
    assert_clean_failure(
        &d.cli(&["quarantine", "release", broken]),
        "still cannot be filed",
    );
    let shown = stdout(&d.cli(&["quarantine", "show", broken, "--raw"]));
    assert!(
        shown.contains("no sender") && shown.contains("who am I"),
        "{shown}"
    );
    assert_eq!(
        json(&d, &["quarantine", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn ingest_exits_75_when_it_cannot_store() {
    let d = TempDesk::init();
    let held = sealdesk_store::Store::open(&d.paths(), None).unwrap();
    let out = d.cli_with(
        &["ingest"],
        &[],
        Some(&mail("a@example.com", "s", "t1@example.com", "", "b")),
    );
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(stderr(&out).contains("another sealdesk process holds this data dir"));
    drop(held);
    assert_eq!(
        d.cli_with(
            &["ingest"],
            &[],
            Some(&mail("a@example.com", "s", "t1@example.com", "", "b"))
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn config_get_set_and_errors_name_the_key() {
    let d = TempDesk::init();
    assert!(d
        .cli(&[
            "config",
            "set",
            "mail.ingest",
            "support@desk.example,help@desk.example"
        ])
        .status
        .success());
    assert_eq!(
        stdout(&d.cli(&["config", "get", "mail.ingest"])).trim(),
        "support@desk.example,help@desk.example"
    );
    assert_eq!(
        stdout(&d.cli(&["config", "get", "mail.max_size"])).trim(),
        "26214400"
    );
    assert_clean_failure(
        &d.cli(&["config", "set", "mail.relay", "ftp://x"]),
        "mail.relay must be a URL",
    );
    assert_clean_failure(
        &d.cli(&["config", "set", "mail.max_size", "lots"]),
        "mail.max_size must be a whole number",
    );
    assert_clean_failure(&d.cli(&["config", "get", "mail.colour"]), "unknown key");
    // A broken file by hand: every command names the file and the problem.
    std::fs::write(d.data.join("sealdesk.toml"), "[mail]\nmax_size = \"big\"\n").unwrap();
    assert_clean_failure(&d.cli(&["ticket", "list"]), "sealdesk.toml");
}

/// Every message of the shared third-party corpus ends as a ticket message or in
/// quarantine with a reason: no panic, nothing lost.
#[test]
fn the_mail_corpus_is_filed_or_quarantined_without_loss() {
    // .ci/run sets SEALDESK_MAIL_CORPUS; a checkout beside ../shared finds it too.
    let beside =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/mail-corpus");
    let dir = match std::env::var_os("SEALDESK_MAIL_CORPUS") {
        Some(d) => std::path::PathBuf::from(d),
        None if beside.is_dir() => beside,
        None => panic!(
            "the mail corpus is missing: set SEALDESK_MAIL_CORPUS to shared/testdata/mail-corpus"
        ),
    };
    let mut files: Vec<_> = walk(std::path::Path::new(&dir))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "corpus looks incomplete: {} files in {dir:?}",
        files.len()
    );
    let d = TempDesk::init();
    let (mut filed, mut quarantined, mut duplicates) = (0, 0, 0);
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let out = d.cli_raw_stdin(&["ingest"], &raw);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            f.display(),
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", f.display());
        if text.contains("quarantined as") {
            quarantined += 1;
        } else if text.contains("already filed") {
            duplicates += 1;
        } else {
            assert!(text.contains("ticket #"), "{}: {text}", f.display());
            filed += 1;
        }
    }
    let q = json(&d, &["quarantine", "list", "--json"]);
    assert_eq!(
        q.as_array().unwrap().len(),
        quarantined,
        "every quarantined message is listed"
    );
    assert!(q
        .as_array()
        .unwrap()
        .iter()
        .all(|i| !i["reason"].as_str().unwrap().is_empty()));
    let tickets = json(&d, &["ticket", "list", "--status", "new", "--json"]);
    let mut messages = 0;
    for t in tickets.as_array().unwrap() {
        let n = t["number"].to_string();
        messages += json(&d, &["ticket", "show", &n, "--json"])["thread"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "inbound")
            .count();
    }
    assert_eq!(messages, filed, "every filed message is in a thread");
    assert_eq!(filed + quarantined + duplicates, files.len());
    eprintln!(
        "corpus: {} files, {filed} filed, {quarantined} quarantined, {duplicates} duplicates",
        files.len()
    );
}
