//! `contrib/postfix.md` followed literally, with a real Postfix: a private instance on
//! loopback (tests/common/postfix.rs) gets the doc's `main.cf` lines (with `postconf -e`,
//! as the doc says, over a Debian-like `mynetworks`), transport, recipient and
//! `master.cf` lines, the desk gets the doc's `sealdesk config set` lines, and mail from
//! an outside client goes through Postfix into a ticket, unknown addresses are refused at
//! RCPT, and the desk's reply goes back out through Postfix to the customer's server.
//!
//! What the test changes in the doc's lines, and only that: `/etc/postfix/` becomes the
//! instance's config dir, the desk's `127.0.0.1:2525` and Postfix's `127.0.0.1:25` become
//! the ports they got, `/usr/local/bin/sealdesk`, `/var/lib/sealdesk` and
//! `/etc/sealdesk/keys` become the test binary and desk, and the pipe's `user=sealdesk`
//! becomes `user=nobody` (a user that exists everywhere; the test gives it the desk's
//! dirs). The instance's own scaffolding (paths, port, no DNS) is in `Postfix::new`; the
//! customer's mail server is an SMTP sink on loopback, reached by one transport line of
//! the test's own (`customer.example smtp:[127.0.0.1]:PORT`).
//!
//! "Outside" is proven, not assumed: the client connects from 127.0.0.2, which the doc's
//! `mynetworks` does not trust, and Postfix refuses it relaying anywhere but the desk.

mod common;
#[path = "common/postfix.rs"]
mod postfix;

use common::live::*;
use common::mailsink::Sink;
use postfix::*;
use std::os::unix::process::CommandExt;
use std::thread;
use std::time::{Duration, Instant};

const CUSTOMER: &str = "ann@customer.example";

fn message(from: &str, to: &str, subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\r\n{body}\r\n"
    )
}

/// The doc's desk settings, with Postfix's port for the relay.
fn configure_desk(desk: &TestDesk, doc: &str, postfix_port: u16) {
    let lines = block(doc, "sh sealdesk-config");
    let lines = swap(
        &lines,
        "smtp://127.0.0.1:25\n",
        &format!("smtp://127.0.0.1:{postfix_port}\n"),
    );
    let settings = config_lines(&lines);
    assert!(settings.len() >= 3, "{lines}");
    for (key, value) in settings {
        desk.cli(&["config", "set", &key, &value]);
    }
    // Not the doc's: the reply leaves at once instead of after the 10 s undo window.
    desk.cli(&["config", "set", "mail.send_delay", "0"]);
}

/// The test's route to the customer's mail server, after the doc's transport lines.
fn transport(doc_lines: &str, sink: &Sink) -> String {
    format!(
        "{doc_lines}customer.example   smtp:[127.0.0.1]:{}\n",
        sink.port
    )
}

/// Polls `list` (the desk's `ticket list --json`) until it has `n` tickets.
fn wait_for_tickets(list: impl Fn() -> String, n: usize, pf: &Postfix) -> serde_json::Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = list();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v.as_array().unwrap().len() >= n {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{n} ticket(s) never arrived: {text}\nqueue: {}",
            pf.queue()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Every address of the doc's recipient list is accepted from outside, an unknown one
/// and a foreign domain are refused at RCPT.
fn assert_only_desk_addresses(outcome: &Outcome, known: &[&str]) {
    for (rcpt, code, text) in &outcome.rcpt {
        if known.contains(&rcpt.as_str()) {
            assert_eq!(*code, 250, "{rcpt}: {code} {text}");
        } else if rcpt.ends_with("@example.com") {
            assert_eq!(*code, 550, "an unknown desk address: {rcpt}: {code} {text}");
            assert!(
                text.contains("User unknown in relay recipient table"),
                "{text}"
            );
        } else {
            assert_eq!(*code, 454, "relaying for outsiders: {rcpt}: {code} {text}");
            assert!(text.contains("Relay access denied"), "{text}");
        }
    }
    assert_eq!(outcome.data, Some(250));
}

#[test]
fn mail_through_postfix_becomes_a_ticket_and_the_reply_goes_back_out() {
    require_postfix();
    let doc = doc();
    let sink = Sink::start();
    let port = free_port();
    let desk = TestDesk::new();
    configure_desk(&desk, &doc, port);
    let server = desk.serve();
    assert!(server.smtp_port > 0, "banner: {}", server.banner);

    let mut pf = Postfix::new(port);
    pf.set_main_cf(&pf.local(&block(&doc, "postfix-main.cf")));
    let lmtp = swap(
        &block(&doc, "postfix-transport"),
        "lmtp:inet:127.0.0.1:2525",
        &format!("lmtp:inet:127.0.0.1:{}", server.smtp_port),
    );
    pf.write("transport", &transport(&lmtp, &sink));
    pf.write("relay_recipients", &block(&doc, "postfix-relay-recipients"));
    pf.postmap_as_documented(&block(&doc, "sh postfix-commands"));
    pf.check();
    pf.start();

    // From outside: the desk's address is taken, an unknown one and relaying are not.
    let outcome = send_from_outside(
        port,
        CUSTOMER,
        &[
            "support@example.com",
            "nobody@example.com",
            "someone@elsewhere.example",
        ],
        &message(
            "Ann <ann@customer.example>",
            "support@example.com",
            "Printer on fire",
            "m1@customer.example",
            "It burns.",
        ),
    );
    assert_only_desk_addresses(&outcome, &["support@example.com"]);
    let list = wait_for_tickets(|| desk.cli(&["ticket", "list", "--json"]), 1, &pf);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["subject"], "Printer on fire");
    let delivered = pf.wait_for_log(&[
        "to=<support@example.com>",
        &format!("relay=127.0.0.1[127.0.0.1]:{}", server.smtp_port),
        "status=sent",
    ]);
    assert!(delivered.contains("lmtp"), "{delivered}");
    // Nothing bounced to anyone (the refused recipients were refused, not accepted and
    // bounced): the queue is empty and the customer's server got nothing yet.
    assert!(pf.queue().contains("Mail queue is empty"), "{}", pf.queue());
    assert!(sink.received.lock().unwrap().is_empty());

    // The desk's reply goes out through Postfix (from 127.0.0.1, which may relay).
    desk.cli(&["ticket", "reply", "1", "--body", "Please unplug it."]);
    let got = sink.wait_for_mail(1);
    assert_eq!(sink.envelopes.lock().unwrap()[0], vec![CUSTOMER]);
    let raw = String::from_utf8_lossy(&got[0]);
    assert!(
        raw.contains("by mail.example.com (Postfix)"),
        "relayed by Postfix: {raw}"
    );
    let out = sealdesk_mail::parse::parse(&got[0]).expect("a well-formed mail");
    assert_eq!(out.from, "support@example.com");
    assert_eq!(out.to, vec![CUSTOMER]);
    assert_eq!(out.subject, "Re: [#1] Printer on fire");
    assert!(out.text.contains("Please unplug it."), "{}", out.text);

    // The doc's local check: `sendmail -f` enters Postfix's queue and reaches the desk.
    let mut sendmail = pf.command("sendmail");
    sendmail.args(["-f", CUSTOMER, "help@example.com"]);
    let out = run_with_stdin(
        &mut sendmail,
        &message(
            CUSTOMER,
            "help@example.com",
            "Via sendmail",
            "m2@customer.example",
            "hello",
        ),
    );
    assert!(out.status.success(), "sendmail: {out:?}\n{}", pf.log());
    let list = wait_for_tickets(|| desk.cli(&["ticket", "list", "--json"]), 2, &pf);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["subject"] == "Via sendmail"),
        "{list}"
    );
    drop(server);
}

/// Runs `cmd` with `input` on stdin.
fn run_with_stdin(cmd: &mut std::process::Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd.stdin(std::process::Stdio::piped()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_pipe_variant_runs_sealdesk_ingest_as_the_desk_user() {
    require_postfix();
    let doc = doc();
    let port = free_port();
    let desk = TestDesk::new();
    configure_desk(&desk, &doc, port);
    // The desk's dirs belong to the pipe's user, as they belong to `sealdesk` in the doc.
    let (uid, gid) = (id(&["-u", "nobody"]), id(&["-g", "nobody"]));
    let owner = format!("{uid}:{gid}");
    for dir in ["data", "keys"] {
        let out = run(
            std::process::Command::new("chown")
                .args(["-R", &owner])
                .arg(desk.path(dir)),
            WAIT,
        );
        assert!(out.status.success(), "chown {dir}");
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(desk.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    let bin = env!("CARGO_BIN_EXE_sealdesk");
    let master = block(&doc, "postfix-master.cf");
    let master = swap(&master, "/usr/local/bin/sealdesk", bin);
    let master = swap(
        &master,
        "/var/lib/sealdesk",
        &desk.path("data").display().to_string(),
    );
    let master = swap(
        &master,
        "/etc/sealdesk/keys",
        &desk.path("keys").display().to_string(),
    );
    let master = swap(&master, "user=sealdesk", "user=nobody");

    let mut pf = Postfix::new(port);
    pf.set_main_cf(&pf.local(&block(&doc, "postfix-main.cf")));
    pf.append("master.cf", &master);
    pf.write("transport", &block(&doc, "postfix-transport-pipe"));
    pf.write("relay_recipients", &block(&doc, "postfix-relay-recipients"));
    pf.postmap_as_documented(&block(&doc, "sh postfix-commands"));
    pf.check();
    pf.start();

    let outcome = send_from_outside(
        port,
        CUSTOMER,
        &["help@example.com", "nobody@example.com"],
        &message(
            "Ann <ann@customer.example>",
            "help@example.com",
            "Through the pipe",
            "p1@customer.example",
            "Piped.",
        ),
    );
    assert_only_desk_addresses(&outcome, &["help@example.com"]);
    pf.wait_for_log(&["to=<help@example.com>", "relay=sealdesk", "status=sent"]);
    // Read back as the desk's user (root would find files that are not its own).
    let as_desk_user = || {
        let mut cmd = desk.command();
        cmd.uid(uid).gid(gid);
        let out = run(cmd.args(["ticket", "list", "--json"]), WAIT);
        assert!(
            out.status.success(),
            "ticket list as nobody: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = wait_for_tickets(as_desk_user, 1, &pf);
    assert_eq!(list[0]["subject"], "Through the pipe", "{list}");

    // With `serve` running as that user, the data dir is the server's: the pipe's
    // `ingest` can only file the message through the server's control socket (0600,
    // the same user only), which is why `user=` must be the user running `serve`.
    let server = ServeAs::start(&desk, uid, gid);
    let outcome = send_from_outside(
        port,
        CUSTOMER,
        &["help@example.com"],
        &message(
            "Ann <ann@customer.example>",
            "help@example.com",
            "While the desk runs",
            "p2@customer.example",
            "Piped again.",
        ),
    );
    assert_only_desk_addresses(&outcome, &["help@example.com"]);
    let list = wait_for_tickets(as_desk_user, 2, &pf);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["subject"] == "While the desk runs"),
        "{list}"
    );
    assert!(pf.queue().contains("Mail queue is empty"), "{}", pf.queue());
    drop(server);
}

/// `sealdesk serve` as another user (the desk's), killed when dropped.
struct ServeAs(std::process::Child);

impl ServeAs {
    fn start(desk: &TestDesk, uid: u32, gid: u32) -> ServeAs {
        let mut cmd = desk.command();
        cmd.uid(uid)
            .gid(gid)
            .args(["serve", "--ssh", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut server = ServeAs(cmd.spawn().expect("start sealdesk serve"));
        let socket = desk.path("data").join("control.sock");
        let deadline = Instant::now() + WAIT;
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if let Some(status) = server.0.try_wait().unwrap() {
                panic!("sealdesk serve as uid {uid} exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the server never opened {socket:?}"
            );
            thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for ServeAs {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
