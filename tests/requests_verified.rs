//! Part 7, requests: restriction of processing, verified requests gating export and
//! erasure, the one-time code kept secret (mailed, masked in the thread, verified by the
//! customer's reply), written notices to the requester, and alarms that reach people.
//! The real binary, real files, a real SMTP sink and Python's smtplib as the customer.

mod common;

use common::live::{configured_desk, TestDesk};
use common::mailsink::{mail, smtp_send, Sink};
use common::*;
use sealdesk_mail::parse::{parse, ParsedMail};
use serde_json::Value;
use std::time::{Duration, Instant};

const ANN: &str = "From: Ann Lee <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Printer CANARY-SUBJECT\r\nMessage-ID: <a1@example.com>\r\n\r\nMy printer is on fire. CANARY-BODY\r\n";

fn desk_with_ann() -> TempDesk {
    let d = TempDesk::with_support_address();
    ingest(&d, ANN);
    d
}

fn audit_actions(d: &TempDesk) -> Vec<Value> {
    json(d, &["audit", "export", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn has_event(events: &[Value], action: &str, detail: &str) -> bool {
    events
        .iter()
        .any(|e| e["action"] == action && e.to_string().contains(detail))
}

fn request_id(open_output: &str) -> String {
    open_output.split_whitespace().next().unwrap().to_string()
}

#[test]
fn restriction_refuses_a_reply_and_an_admin_override_is_audited() {
    let d = desk_with_ann();
    let said = ok(
        &d,
        &["customer", "set", "ann@example.com", "--restricted", "true"],
    );
    assert!(said.contains("restricted"), "{said}");
    let shown = json(&d, &["customer", "show", "ann@example.com", "--json"]);
    assert_eq!(shown["flags"]["restricted"], true);

    // A reply is refused in one line that names the way out; nothing is queued.
    let refused = d.cli(&["ticket", "reply", "1", "--body", "Unplug it."]);
    assert_clean_failure(&refused, "restricted");
    assert!(
        stderr(&refused).contains("--override"),
        "{}",
        stderr(&refused)
    );
    let thread = json(&d, &["ticket", "show", "1", "--json"]);
    assert_eq!(thread["thread"].as_array().unwrap().len(), 1);
    // A note is no mail: still allowed.
    ok(&d, &["ticket", "reply", "1", "--note", "--body", "on hold"]);

    // The admin's override with a reason goes through and is audited as an override.
    let out = ok(
        &d,
        &[
            "ticket",
            "reply",
            "1",
            "--body",
            "Unplug it.",
            "--override",
            "fire safety notice",
        ],
    );
    assert!(out.contains("queued"), "{out}");
    let events = audit_actions(&d);
    assert!(
        has_event(&events, "restriction.override", "fire safety notice"),
        "{events:?}"
    );
    assert!(has_event(&events, "customer.restrict", ""), "{events:?}");

    // No acknowledgement to a restricted customer either (optional mail).
    ok(
        &d,
        &[
            "config",
            "set",
            "mail.ack_template",
            "We got {subject} as {ticket}.",
        ],
    );
    ingest(
        &d,
        "From: Ann Lee <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Another one\r\nMessage-ID: <a9@example.com>\r\n\r\nAnd the scanner.\r\n",
    );
    let second = json(&d, &["ticket", "show", "2", "--json"]);
    assert_eq!(second["thread"].as_array().unwrap().len(), 1, "{second}");

    // Lifted: replies go again, without an override.
    ok(
        &d,
        &[
            "customer",
            "set",
            "ann@example.com",
            "--restricted",
            "false",
        ],
    );
    ok(&d, &["ticket", "reply", "1", "--body", "Fixed?"]);
    ingest(
        &d,
        "From: Ann Lee <ann@example.com>\r\nTo: support@desk.example\r\nSubject: A third\r\nMessage-ID: <a10@example.com>\r\n\r\nAnd the fax.\r\n",
    );
    let third = json(&d, &["ticket", "show", "3", "--json"]);
    assert_eq!(
        third["thread"].as_array().unwrap().len(),
        2,
        "acknowledged: {third}"
    );
    assert!(has_event(&audit_actions(&d), "customer.unrestrict", ""));

    // A completed restriction request sets the flag.
    let id = request_id(&ok(
        &d,
        &[
            "request",
            "open",
            "ann@example.com",
            "--kind",
            "restriction",
            "--ticket",
            "1",
        ],
    ));
    ok(&d, &["request", "verify", &id, "--method", "called back"]);
    ok(&d, &["request", "complete", &id]);
    let shown = json(&d, &["customer", "show", "ann@example.com", "--json"]);
    assert_eq!(shown["flags"]["restricted"], true);
    assert_clean_failure(
        &d.cli(&["ticket", "reply", "1", "--body", "Hello again"]),
        "restricted",
    );
}

#[test]
fn export_and_erasure_need_a_verified_request_or_an_override() {
    let d = desk_with_ann();
    ingest(
        &d,
        "From: Bo <bo@example.com>\r\nTo: support@desk.example\r\nSubject: Hi\r\nMessage-ID: <b1@example.com>\r\n\r\nHello\r\n",
    );
    let out = d.dir.path().join("ann.tar.gz");
    let out_s = out.to_str().unwrap();

    // Nothing given: refused, saying what would do; no archive.
    assert_clean_failure(
        &d.cli(&["customer", "export", "ann@example.com", "--out", out_s]),
        "verified access or export request",
    );
    assert!(!out.exists());
    // An unverified request: refused.
    let id = request_id(&ok(
        &d,
        &["request", "open", "ann@example.com", "--kind", "export"],
    ));
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "export",
            "ann@example.com",
            "--out",
            out_s,
            "--request",
            &id,
        ]),
        "identity is not verified",
    );
    // A request of the wrong kind: refused.
    let erasure = request_id(&ok(
        &d,
        &["request", "open", "ann@example.com", "--kind", "erasure"],
    ));
    ok(
        &d,
        &["request", "verify", &erasure, "--method", "in person"],
    );
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "export",
            "ann@example.com",
            "--out",
            out_s,
            "--request",
            &erasure,
        ]),
        "is a erasure request",
    );
    // Verified: it works.
    ok(&d, &["request", "verify", &id, "--method", "called back"]);
    ok(
        &d,
        &[
            "customer",
            "export",
            "ann@example.com",
            "--out",
            out_s,
            "--request",
            &id,
        ],
    );
    assert!(out.exists());
    // Someone else's request does not open Bo's data.
    let bo_out = d.dir.path().join("bo.tar.gz");
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "export",
            "bo@example.com",
            "--out",
            bo_out.to_str().unwrap(),
            "--request",
            &id,
        ]),
        "another customer",
    );
    // The admin's override with a reason: works, audited as an override.
    ok(
        &d,
        &[
            "customer",
            "export",
            "bo@example.com",
            "--out",
            bo_out.to_str().unwrap(),
            "--override",
            "court order 17/2026",
        ],
    );
    assert!(has_event(
        &audit_actions(&d),
        "export.override",
        "court order 17/2026"
    ));
    // An empty reason is no override.
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "export",
            "bo@example.com",
            "--out",
            bo_out.to_str().unwrap(),
            "--override",
            " ",
        ]),
        "needs a reason",
    );

    // Erasure: refused without, and with the export request; done with the erasure one.
    assert_clean_failure(
        &d.cli(&["customer", "cancel", "ann@example.com", "--yes"]),
        "verified erasure request",
    );
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--request",
            &id,
        ]),
        "is a export request",
    );
    ok(&d, &["customer", "show", "ann@example.com"]);
    // A code mail still waiting in the outbox must not go out after her erasure.
    let pending = request_id(&ok(
        &d,
        &["request", "open", "ann@example.com", "--kind", "access"],
    ));
    ok(&d, &["request", "send-code", &pending]);
    assert_eq!(outbox_to(&d, "ann@example.com"), vec![false]);
    ok(
        &d,
        &[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--request",
            &erasure,
        ],
    );
    assert_eq!(
        outbox_to(&d, "ann@example.com"),
        vec![true],
        "only the erasure's confirmation waits for her"
    );
    // Every request of hers is completed: none stays open, none can become overdue.
    let requests = json(&d, &["request", "list", "--json"]);
    let hers: Vec<&Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == id.as_str() || r["id"] == erasure.as_str())
        .collect();
    assert_eq!(hers.len(), 2);
    for r in hers {
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(r["urgency"], "finished", "{r}");
    }
    // Bo by override: audited as an override of the erasure.
    ok(
        &d,
        &[
            "customer",
            "cancel",
            "bo@example.com",
            "--yes",
            "--override",
            "asked at the counter, id checked",
        ],
    );
    assert!(has_event(
        &audit_actions(&d),
        "erasure.override",
        "asked at the counter"
    ));
}

/// For each outbox entry composed to `to`: whether it is outside any ticket (the
/// erasure's confirmation is).
fn outbox_to(d: &TempDesk, to: &str) -> Vec<bool> {
    let store = sealdesk_store::Store::open(&d.paths(), None).unwrap();
    store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|e| e.composed.as_ref().is_some_and(|c| c.to == to))
        .map(|e| e.ticket.0 == 0)
        .collect()
}

/// Waits until `check` holds for `request list --json`'s entry `id`.
fn wait_for_request(desk: &TestDesk, id: &str, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all: Value = serde_json::from_str(&desk.cli(&["request", "list", "--json"])).unwrap();
        let r = all
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap();
        if check(&r) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {r}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn thread_texts(desk: &TestDesk, ticket: u64) -> Vec<(String, String)> {
    let t: Value =
        serde_json::from_str(&desk.cli(&["ticket", "show", &ticket.to_string(), "--json"]))
            .unwrap();
    t["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap_or_default().to_string(),
                m["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The words of six digits (a code stands alone on its line; a request id's hex may
/// hold six digits in a row too).
fn six_digits(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
        .map(String::from)
        .collect()
}

fn mails(sink: &Sink, n: usize) -> Vec<ParsedMail> {
    sink.wait_for_mail(n)
        .iter()
        .map(|raw| parse(raw).unwrap())
        .collect()
}

#[test]
fn the_code_is_only_mailed_masked_in_its_own_thread_and_a_reply_with_it_verifies() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    smtp_send(
        server.smtp_port,
        "ann@example.com",
        "support@desk.example",
        &mail(
            "Ann Lee <ann@example.com>",
            "Printer CANARY-SUBJECT",
            "a1@example.com",
            "",
            "My printer is on fire. CANARY-BODY",
        ),
    )
    .unwrap();
    // A request without a ticket: its code mail goes on a thread of its own.
    let id = request_id(&desk.cli(&["request", "open", "ann@example.com", "--kind", "access"]));
    desk.cli(&["request", "send-code", &id]);
    let got = mails(&sink, 1);
    let code_mail = &got[0];
    assert_eq!(code_mail.to, vec!["ann@example.com"]);
    let codes = six_digits(&code_mail.text);
    assert_eq!(codes.len(), 1, "{}", code_mail.text);
    let code = codes[0].clone();
    // It quotes nothing: no word of Ann's mail in it.
    assert!(!code_mail.text.contains("CANARY"), "{}", code_mail.text);
    assert!(!code_mail.text.contains("on fire"), "{}", code_mail.text);
    let r: Value = serde_json::from_str(&desk.cli(&["request", "list", "--json"])).unwrap();
    let ticket = r[0]["ticket"].as_u64().expect("the request got a ticket");
    assert_ne!(ticket, 1, "not the customer's unrelated ticket");
    let first = thread_texts(&desk, 1);
    assert_eq!(first.len(), 1, "ticket 1 untouched: {first:?}");
    let own = thread_texts(&desk, ticket);
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].0, "outbound");
    assert!(own[0].1.contains("[code hidden]"), "{own:?}");
    assert!(!own[0].1.contains(&code), "the code is in the thread");

    // A wrong code from Ann, and the right code from someone else: nothing verified
    // (and the code masked even in the stranger's mail).
    let in_reply_to = code_mail.message_id.clone().unwrap();
    let threading = format!("In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for (from, id, text) in [
        ("ann@example.com", "w1@example.com", wrong.to_string()),
        ("mallory@example.net", "w2@example.net", code.clone()),
    ] {
        smtp_send(
            server.smtp_port,
            from,
            "support@desk.example",
            &mail(from, "Re: code", id, &threading, &format!("Code: {text}")),
        )
        .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while thread_texts(&desk, ticket).len() < 3 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            thread_texts(&desk, ticket)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let all: Value = serde_json::from_str(&desk.cli(&["request", "list", "--json"])).unwrap();
    assert_eq!(all[0]["status"], "unverified", "{all}");
    let own = thread_texts(&desk, ticket);
    assert!(own[2].1.contains("Code: [code hidden]"), "{own:?}");

    // Ann replies to the code mail, quoting it: the request is verified by that mail.
    smtp_send(
        server.smtp_port,
        "ann@example.com",
        "support@desk.example",
        &mail(
            "Ann Lee <ann@example.com>",
            &format!("Re: {}", code_mail.subject),
            "a2@example.com",
            &format!("In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n"),
            &format!("Here it is: {code}\r\n\r\n> reply with this code:\r\n>     {code}"),
        ),
    )
    .unwrap();
    wait_for_request(&desk, &id, "verified by the emailed reply", |r| {
        r["status"] == "verified"
    });
    let all: Value = serde_json::from_str(&desk.cli(&["request", "list", "--json"])).unwrap();
    assert_eq!(
        all[0]["verification"]["method"],
        "emailed one-time code (replied by mail)"
    );
    assert!(desk
        .audit()
        .iter()
        .any(|e| e["action"] == "request.verify" && e.to_string().contains("emailed-code")));
    // The reply is in the thread, the code masked there.
    let own = thread_texts(&desk, ticket);
    assert_eq!(own.len(), 4, "{own:?}");
    assert_eq!(own[3].0, "inbound");
    assert!(own[3].1.contains("Here it is: [code hidden]"), "{own:?}");
    assert!(own.iter().all(|(_, t)| !t.contains(&code)), "{own:?}");
    // A code given back to an agent works as well (`request confirm`), on the ticket
    // the request came in.
    let id2 = request_id(&desk.cli(&[
        "request",
        "open",
        "ann@example.com",
        "--kind",
        "export",
        "--ticket",
        "1",
    ]));
    desk.cli(&["request", "send-code", &id2]);
    let got = mails(&sink, 2);
    assert!(got[1].subject.starts_with("[#1] "), "{}", got[1].subject);
    let code2 = six_digits(&got[1].text).pop().unwrap();
    desk.cli(&["request", "confirm", &id2, &code2]);
    wait_for_request(&desk, &id2, "confirmed", |r| r["status"] == "verified");
    assert!(thread_texts(&desk, 1)
        .iter()
        .all(|(_, t)| !t.contains(&code2)));

    // Ann's export shows the thread with the code masked, nowhere the code.
    let export = desk.path("ann.tar.gz");
    desk.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--request",
        &id,
        "--out",
        export.to_str().unwrap(),
    ]);
    let archive = std::fs::read(&export).unwrap();
    assert!(
        !deep_scan::hits_in("export", &archive, &["[code hidden]"]).is_empty(),
        "the export lacks the masked thread"
    );
    assert!(server.terminate().success());
    let backup = desk.path("backups");
    std::fs::create_dir(&backup).unwrap();
    desk.cli(&["backup", "--out", backup.join("b.bak").to_str().unwrap()]);
    assert!(backup.join("b.bak").exists());

    // Not in any file of the data or keys dir, nor the backup, nor the export, in any
    // form (inside archives too).
    let hits = deep_scan::hits(&[&desk.path("data"), &desk.path("keys"), &backup], &[&code]);
    assert!(hits.is_empty(), "the code {code} is stored: {hits:?}");
    let hits = deep_scan::hits_in("export", &archive, &[&code]);
    assert!(
        hits.is_empty(),
        "the code {code} is in the export: {hits:?}"
    );
}

#[test]
fn extension_denial_and_completion_are_told_to_the_requester() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    smtp_send(
        server.smtp_port,
        "ann@example.com",
        "support@desk.example",
        &mail(
            "Ann Lee <ann@example.com>",
            "What do you hold about me",
            "a1@example.com",
            "",
            "Tell me. CANARY-BODY",
        ),
    )
    .unwrap();
    let id = request_id(&desk.cli(&[
        "request",
        "open",
        "ann@example.com",
        "--kind",
        "access",
        "--ticket",
        "1",
    ]));
    desk.cli(&["request", "verify", &id, "--method", "called back"]);
    desk.cli(&[
        "request",
        "extend",
        &id,
        "--reason",
        "archive retrieval from tape",
    ]);
    let got = mails(&sink, 1);
    assert_eq!(got[0].to, vec!["ann@example.com"]);
    assert!(got[0].subject.contains("more time"), "{}", got[0].subject);
    assert!(got[0].text.contains("archive retrieval from tape"));
    assert!(!got[0].text.contains("CANARY"), "quotes nothing");
    desk.cli(&[
        "request",
        "complete",
        &id,
        "--note",
        "the copy went out by post",
    ]);
    let got = mails(&sink, 2);
    assert!(got[1].subject.contains("is done"), "{}", got[1].subject);
    assert!(got[1].text.contains("the copy went out by post"));

    // In German for a customer whose locale is de-AT; a denial carries its reason.
    desk.cli(&["customer", "set", "ann@example.com", "--locale", "de-AT"]);
    let id2 = request_id(&desk.cli(&[
        "request",
        "open",
        "ann@example.com",
        "--kind",
        "erasure",
        "--ticket",
        "1",
    ]));
    desk.cli(&[
        "request",
        "deny",
        &id2,
        "--reason",
        "invoices must be kept for 7 years",
    ]);
    let got = mails(&sink, 3);
    assert!(got[2].subject.contains("abgelehnt"), "{}", got[2].subject);
    assert!(got[2].text.contains("invoices must be kept for 7 years"));

    // All three are in the request's thread as outbound messages, marked sent.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t: Value = serde_json::from_str(&desk.cli(&["ticket", "show", "1", "--json"])).unwrap();
        let out: Vec<&Value> = t["thread"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "outbound")
            .collect();
        let texts: Vec<&str> = out.iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(texts[0].contains("archive retrieval from tape"));
        assert!(texts[1].contains("the copy went out by post"));
        assert!(texts[2].contains("invoices must be kept for 7 years"));
        if out.iter().all(|m| m.to_string().contains("sent")) {
            break;
        }
        assert!(Instant::now() < deadline, "not marked sent: {t}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(server.terminate().success());
}

/// Moves a request's due date into the past, as time would.
fn backdate(paths: &sealdesk_store::Paths, id: &str, days: i64) {
    use sealdesk_model::Timestamp;
    let store = sealdesk_store::Store::open(paths, None).unwrap();
    let mut r = store
        .requests()
        .unwrap()
        .into_iter()
        .find(|r| r.id.to_string() == id)
        .unwrap();
    r.received = Timestamp(Timestamp::now().0 - (days + 15) * 86_400);
    r.due = Timestamp(Timestamp::now().0 - days * 86_400);
    let mut tx = store.begin();
    tx.put_request(&r).unwrap();
    let (commit, _) = store.commit(tx).unwrap();
    store.wait_durable(commit).unwrap();
    store.flush().unwrap();
}

#[test]
fn an_overdue_request_makes_request_list_overdue_exit_3() {
    let d = desk_with_ann();
    let overdue = d.cli(&["request", "list", "--overdue"]);
    assert_eq!(overdue.status.code(), Some(0));
    assert!(stdout(&overdue).contains("no overdue privacy requests"));
    let id = request_id(&ok(
        &d,
        &[
            "request",
            "open",
            "ann@example.com",
            "--kind",
            "erasure",
            "--ticket",
            "1",
        ],
    ));
    let soon = request_id(&ok(
        &d,
        &["request", "open", "ann@example.com", "--kind", "access"],
    ));
    backdate(&d.paths(), &id, 2);
    let overdue = d.cli(&["request", "list", "--overdue"]);
    assert_eq!(overdue.status.code(), Some(3), "{}", stderr(&overdue));
    assert_eq!(stderr(&overdue).trim_end().lines().count(), 1);
    assert!(stderr(&overdue).contains("1 privacy request(s) overdue"));
    assert!(stdout(&overdue).contains(&id) && !stdout(&overdue).contains(&soon));
    // Answered, it no longer counts.
    ok(
        &d,
        &[
            "request",
            "deny",
            &id,
            "--reason",
            "legal hold on the invoices",
        ],
    );
    assert_eq!(
        d.cli(&["request", "list", "--overdue"]).status.code(),
        Some(0)
    );
}

#[test]
fn alarms_reach_admins_by_mail_and_the_log_at_start() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let admin_key = desk.keygen("boss");
    desk.add_admin("boss", &admin_key);
    let agent_key = desk.keygen("alice");
    desk.add_agent("alice", &agent_key);
    desk.cli(&["agent", "set", "boss", "--email", "boss@desk.example"]);
    desk.cli(&["agent", "set", "alice", "--email", "alice@desk.example"]);
    let listed: Value = serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    let boss = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "boss")
        .unwrap();
    assert_eq!(boss["email"], "boss@desk.example");
    let bad = desk.try_cli(&["agent", "set", "boss", "--email", "not an address"]);
    assert!(!bad.status.success());
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
    desk.cli_with_stdin(&["ingest"], ANN.as_bytes());
    let id = request_id(&desk.cli(&[
        "request",
        "open",
        "ann@example.com",
        "--kind",
        "erasure",
        "--ticket",
        "1",
    ]));
    let paths = sealdesk_store::Paths {
        data: desk.path("data"),
        keys: desk.path("keys"),
    };
    backdate(&paths, &id, 1);

    let server = desk.serve();
    let got = mails(&sink, 1);
    assert_eq!(got[0].to, vec!["boss@desk.example"], "admins only");
    assert!(got[0].text.contains(&id), "{}", got[0].text);
    assert!(got[0].text.contains("Overdue"), "{}", got[0].text);
    assert!(got[0].text.contains("erasure"), "{}", got[0].text);
    assert!(
        !got[0].text.contains("CANARY"),
        "no customer text: {}",
        got[0].text
    );
    assert!(!got[0].text.contains("ann@example.com"), "{}", got[0].text);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.received.lock().unwrap().len(), 1, "one mail, to boss");
    let log = format!("{}{}", server.banner, server.log());
    assert!(
        log.contains("privacy requests: 1 overdue"),
        "no warning line in the log: {log}"
    );
    assert!(server.terminate().success());
}

#[test]
fn alarm_mail_follows_the_privacy_notification_topic() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let admin_key = desk.keygen("boss");
    desk.add_admin("boss", &admin_key);
    let agent_key = desk.keygen("alice");
    desk.add_agent("alice", &agent_key);
    desk.cli(&["agent", "set", "boss", "--email", "boss@desk.example"]);
    desk.cli(&["agent", "set", "alice", "--email", "alice@desk.example"]);
    // The admin opts out, the agent in.
    desk.cli(&["agent", "set", "boss", "--notify", "-privacy"]);
    desk.cli(&["agent", "set", "alice", "--notify", "+privacy"]);
    desk.cli_with_stdin(&["ingest"], ANN.as_bytes());
    let id = request_id(&desk.cli(&[
        "request",
        "open",
        "ann@example.com",
        "--kind",
        "erasure",
        "--ticket",
        "1",
    ]));
    let paths = sealdesk_store::Paths {
        data: desk.path("data"),
        keys: desk.path("keys"),
    };
    backdate(&paths, &id, 1);
    let _server = desk.serve();
    let got = mails(&sink, 1);
    assert_eq!(got[0].to, vec!["alice@desk.example"], "the topic decides");
    assert!(got[0].text.contains(&id), "{}", got[0].text);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.received.lock().unwrap().len(), 1, "nothing to boss");
}

#[test]
fn deadlines_outside_1_to_90_days_are_refused() {
    let d = TempDesk::init();
    for (key, value) in [
        ("privacy.access_days", "0"),
        ("privacy.correction_days", "91"),
        ("privacy.extension_days", "0"),
    ] {
        let out = d.cli(&["config", "set", key, value]);
        assert_clean_failure(&out, "between 1 and 90");
        assert!(stderr(&out).contains(key), "{}", stderr(&out));
    }
    ok(&d, &["config", "set", "privacy.access_days", "90"]);
    ok(&d, &["config", "set", "privacy.objection_days", "1"]);
    // A file edited by hand is refused at start with the same line.
    let cfg = d.data.join("sealdesk.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("access_days = 90", "access_days = 0")).unwrap();
    assert_clean_failure(&d.cli(&["request", "list"]), "between 1 and 90");
}
