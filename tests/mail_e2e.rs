//! Mail end to end against a running `sealdesk serve`: a real SMTP client (Python's
//! smtplib) over TCP, threading and the spoofing rule, replies delivered to a real SMTP
//! server on loopback and checked header by header, `sealdesk ingest` through the
//! control socket, and SIGKILL in the middle of a burst losing nothing acknowledged.

mod common;

use common::live::*;
use common::mailsink::{smtp_send, Sink};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!("From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\r\n{body}\r\n")
}

fn tickets(desk: &TestDesk) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "list", "--status", "new", "--json"])).unwrap()
}

#[test]
fn mail_becomes_threaded_tickets_and_replies_go_out_as_proper_replies() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    assert!(server.smtp_port > 0, "banner: {}", server.banner);
    let port = server.smtp_port;

    smtp_send(
        port,
        "ann@example.com",
        "support@desk.example",
        &mail(
            "Ann <ann@example.com>",
            "Printer on fire",
            "m1@example.com",
            "",
            "It burns.",
        ),
    )
    .unwrap();
    let list = tickets(&desk);
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the ticket is there as soon as 250 came back"
    );
    assert_eq!(list[0]["subject"], "Printer on fire");

    let reply = mail(
        "ann@example.com",
        "Re: Printer on fire",
        "m2@example.com",
        "In-Reply-To: <m1@example.com>\r\nReferences: <m1@example.com>\r\n",
        "Still burning.",
    );
    smtp_send(port, "ann@example.com", "support@desk.example", &reply).unwrap();
    let spoof = mail(
        "mallory@evil.example",
        "Re: [#1] Printer on fire",
        "x@evil.example",
        "",
        "let me in",
    );
    smtp_send(port, "mallory@evil.example", "support@desk.example", &spoof).unwrap();
    let list = tickets(&desk);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let t1: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "show", "1", "--json"])).unwrap();
    assert_eq!(
        t1["thread"].as_array().unwrap().len(),
        2,
        "the reply joined #1"
    );
    let t2: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "show", "2", "--json"])).unwrap();
    assert_eq!(
        t2["thread"][0]["author"], "mallory@evil.example",
        "the stranger got a ticket of their own"
    );

    // Mail for an address that is not ours is refused at RCPT.
    let refused = smtp_send(
        port,
        "ann@example.com",
        "someone@else.example",
        &mail("ann@example.com", "x", "m9@example.com", "", "x"),
    );
    assert!(refused.unwrap_err().contains("SMTPRecipientsRefused"));

    // An agent's reply (from the CLI, through the control socket) reaches the relay.
    desk.cli(&["ticket", "reply", "1", "--body", "Please unplug it."]);
    let got = sink.wait_for_mail(1);
    let out = sealdesk_mail::parse::parse(&got[0]).expect("a well-formed mail");
    assert_eq!(out.from, "support@desk.example");
    assert_eq!(out.to, vec!["ann@example.com"]);
    assert_eq!(out.subject, "Re: [#1] Printer on fire");
    assert_eq!(out.in_reply_to, vec!["m2@example.com"]);
    assert_eq!(out.references, vec!["m1@example.com", "m2@example.com"]);
    assert!(out
        .message_id
        .as_deref()
        .unwrap()
        .ends_with("@desk.example"));
    assert!(out.text.contains("Please unplug it."), "{}", out.text);
    assert!(
        out.text.contains("> Still burning."),
        "quotes the customer's last message: {}",
        out.text
    );
    let raw = String::from_utf8_lossy(&got[0]);
    assert!(raw.contains("X-Loop: support@desk.example"), "{raw}");
    assert!(raw.contains("Date: "));
    // The ticket shows it sent, and the customer's answer to it threads by References.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t: serde_json::Value =
            serde_json::from_str(&desk.cli(&["ticket", "show", "1", "--json"])).unwrap();
        if t["thread"][2]["delivery"]
            .as_str()
            .unwrap_or("")
            .starts_with("sent")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never marked sent: {}",
            t["thread"][2]
        );
        thread::sleep(Duration::from_millis(100));
    }
    let ours = out.message_id.unwrap();
    let answer = mail(
        "ann@example.com",
        "Re: [#1] Printer on fire",
        "m3@example.com",
        &format!("In-Reply-To: <{ours}>\r\n"),
        "Done, thanks.",
    );
    smtp_send(port, "ann@example.com", "support@desk.example", &answer).unwrap();
    let t1: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "show", "1", "--json"])).unwrap();
    assert_eq!(t1["thread"].as_array().unwrap().len(), 4);

    // `sealdesk ingest` while the server runs goes through the control socket.
    let out = desk.cli_with_stdin(
        &["ingest"],
        mail("cy@example.com", "Via the pipe", "p1@example.com", "", "hi").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("new ticket #3"));
    assert!(server.terminate().success());
}

#[test]
fn sigkill_in_a_burst_loses_no_acknowledged_message() {
    let desk = configured_desk(None);
    let mut server = desk.serve();
    let port = server.smtp_port;
    // Four concurrent connections, 60 messages each; every 250 is printed as it comes.
    let script = r#"
import smtplib, sys, threading
port = int(sys.argv[1])
lock = threading.Lock()
def worker(w):
    try:
        s = smtplib.SMTP('127.0.0.1', port, timeout=20)
        for i in range(60):
            subj = 'burst-%d-%d' % (w, i)
            msg = 'From: c%d@example.com\r\nTo: support@desk.example\r\nSubject: %s\r\nMessage-ID: <%s@example.com>\r\n\r\nbody %s\r\n' % (w, subj, subj, 'x' * 2000)
            s.sendmail('c%d@example.com' % w, ['support@desk.example'], msg)
            with lock:
                print('OK ' + subj, flush=True)
    except Exception as e:
        with lock:
            print('STOP %d %s' % (w, type(e).__name__), flush=True)
ts = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
"#;
    let mut client = Command::new("python3")
        .args(["-u", "-c", script, &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut acked = Vec::new();
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(subject) = line.strip_prefix("OK ") {
            acked.push(subject.to_string());
            if acked.len() == 40 {
                // Mid-burst: no warning, no flush, no goodbye.
                server.child.kill().unwrap();
                server.child.wait().unwrap();
            }
        }
    }
    client.wait().unwrap();
    assert!(
        acked.len() >= 40,
        "only {} acknowledged before the kill",
        acked.len()
    );
    assert!(
        acked.len() < 240,
        "the kill came too late to interrupt the burst"
    );

    // The CLI finds the stale control socket, opens the store itself, and every
    // acknowledged message is there.
    let mut stored_subjects = Vec::new();
    let list = tickets(&desk);
    for t in list.as_array().unwrap() {
        stored_subjects.push(t["subject"].as_str().unwrap().to_string());
    }
    for s in &acked {
        assert!(
            stored_subjects.contains(s),
            "acknowledged {s} was lost ({} stored)",
            stored_subjects.len()
        );
    }
    let verify = desk.cli(&["audit", "verify"]);
    assert!(verify.contains("intact"), "{verify}");
}

#[test]
fn exports_and_erasure_confirmations_are_mailed_to_the_customer() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let server = desk.serve();
    smtp_send(
        server.smtp_port,
        "ann@example.com",
        "support@desk.example",
        &mail(
            "Ann <ann@example.com>",
            "My data please",
            "d1@example.com",
            "",
            "Send me a copy.",
        ),
    )
    .unwrap();
    let open = desk.cli(&[
        "request",
        "open",
        "ann@example.com",
        "--kind",
        "export",
        "--ticket",
        "1",
    ]);
    let id = open.split_whitespace().next().unwrap().to_string();
    let out = desk.dir.path().join("ann.tar.gz");
    // Not before the requester's identity is verified.
    let refused = desk
        .command()
        .args([
            "customer",
            "export",
            "ann@example.com",
            "--out",
            out.to_str().unwrap(),
            "--request",
            &id,
            "--mail",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("identity is not verified"));
    desk.cli(&[
        "request",
        "verify",
        &id,
        "--method",
        "called back on the number on file",
    ]);
    let out2 = desk.dir.path().join("ann2.tar.gz");
    let said = desk.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--out",
        out2.to_str().unwrap(),
        "--request",
        &id,
        "--mail",
    ]);
    assert!(said.contains("queued by mail to ann@example.com"), "{said}");
    let got = sink.wait_for_mail(1);
    let m = sealdesk_mail::parse::parse(&got[0]).unwrap();
    assert_eq!(m.to, vec!["ann@example.com"]);
    assert_eq!(m.subject, "Your data export");
    assert_eq!(m.attachments.len(), 1);
    let name = &m.attachments[0].name;
    assert!(
        name.starts_with("exp_") && name.ends_with(".tar.gz"),
        "{name}"
    );
    assert_eq!(
        m.attachments[0].bytes,
        std::fs::read(&out2).unwrap(),
        "the archive arrives intact"
    );

    // Cancellation: the confirmation goes out even though the customer is erased by then.
    desk.cli(&[
        "customer",
        "cancel",
        "ann@example.com",
        "--yes",
        "--override",
        "test",
    ]);
    let got = sink.wait_for_mail(2);
    let c = sealdesk_mail::parse::parse(&got[1]).unwrap();
    assert_eq!(c.to, vec!["ann@example.com"]);
    assert_eq!(c.subject, "Your account has been cancelled");
    assert!(String::from_utf8_lossy(&got[1]).contains("Auto-Submitted: auto-replied"));
    assert!(server.terminate().success());
}
