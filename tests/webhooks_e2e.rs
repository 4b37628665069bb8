//! Webhooks end to end (Part 11): the real binary serving, real SMTP in (Python's
//! smtplib), and a real HTTP receiver here (a std TcpListener thread) that checks each
//! request's signature. Every event arrives once, in order, also after the receiver was
//! down and the server was killed (SIGKILL) meanwhile; a hook that keeps failing is
//! disabled and admins are told; payloads carry no customer text unless the hook asked.

mod common;

use common::live::*;
use common::mailsink::{mail, smtp_send, Sink};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const CUSTOMER: &str = "canary.hook@example.net";
const CANARIES: &[&str] = &["CanaryHookSubject", "Canary Hookname", CUSTOMER];
const LONG_WAIT: Duration = Duration::from_secs(60);

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Got {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    fn event(&self) -> String {
        self.json()["event"].as_str().unwrap().to_string()
    }

    fn delivery(&self) -> String {
        self.headers["sealdesk-delivery"].clone()
    }

    /// Checks `Sealdesk-Signature: t=…,v1=…` against `secret` as docs/webhooks.md says.
    fn assert_signed(&self, secret: &str) {
        let header = &self.headers["sealdesk-signature"];
        let mut t = None;
        let mut v1 = None;
        for part in header.split(',') {
            match part.split_once('=') {
                Some(("t", value)) => t = Some(value.to_string()),
                Some(("v1", value)) => v1 = Some(value.to_string()),
                _ => {}
            }
        }
        let (t, v1) = (t.expect("t="), v1.expect("v1="));
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(&self.body);
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(v1, expected, "bad signature on {}", self.event());
        let sent: i64 = t.parse().unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((now - sent).abs() < 300, "signature time {sent} is not now");
        assert_eq!(self.headers["sealdesk-event"], self.event());
        assert_eq!(self.json()["id"].as_str().unwrap(), self.delivery());
    }
}

/// An HTTP endpoint answering every POST with `status`; stopped, its port refuses.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Got>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(port: u16, status: u16, got: Arc<Mutex<Vec<Got>>>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, got2) = (Arc::clone(&stop), Arc::clone(&got));
        let thread = thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(g) = read_request(stream, status) {
                            got2.lock().unwrap().push(g);
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Receiver {
            port,
            got,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests came; returns them.
    fn wait_for(&self, n: usize, server: &Server) -> Vec<Got> {
        let deadline = Instant::now() + LONG_WAIT;
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {n} requests: {:?}\nserver log:\n{}",
                got.len(),
                got.iter().map(Got::event).collect::<Vec<_>>(),
                server.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(mut self) -> u16 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.port
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_request(mut stream: TcpStream, status: u16) -> Option<Got> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    assert!(request_line.starts_with("POST "), "{request_line}");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let reason = if status < 300 { "OK" } else { "Nope" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    Some(Got { headers, body })
}

/// `webhook add …` and the secret it printed once.
fn add_hook(desk: &TestDesk, args: &[&str]) -> String {
    let mut all = vec!["webhook", "add"];
    all.extend_from_slice(args);
    let out = desk.cli(&all);
    out.lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap_or_else(|| panic!("no secret in: {out}"))
        .trim()
        .to_string()
}

fn customer_mail(server: &Server, subject: &str, id: &str, extra: &str, body: &str) {
    let raw = mail(
        &format!("Canary Hookname <{CUSTOMER}>"),
        subject,
        id,
        extra,
        body,
    );
    smtp_send(server.smtp_port, CUSTOMER, "support@desk.example", &raw).unwrap();
}

fn failed_tries(desk: &TestDesk, hook: &str) -> usize {
    let log: serde_json::Value =
        serde_json::from_str(&desk.cli(&["webhook", "log", hook, "--json"])).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ok"] == false)
        .count()
}

/// (event, ticket number, status) of each request, in the order they came.
fn summary(got: &[Got]) -> Vec<(String, u64, String)> {
    got.iter()
        .map(|g| {
            let v = g.json();
            (
                g.event(),
                v["ticket"]["number"].as_u64().unwrap_or(0),
                v["ticket"]["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn event(name: &str, n: u64, status: &str) -> (String, u64, String) {
    (name.to_string(), n, status.to_string())
}

#[test]
fn every_event_arrives_signed_once_and_in_order_across_an_outage_and_a_sigkill() {
    let desk = configured_desk(None);
    desk.cli(&["config", "set", "webhook.retry_base_seconds", "1"]);
    desk.cli(&["config", "set", "webhook.max_failures", "100"]);
    let alice_key = desk.keygen("alice");
    desk.add_agent("alice", &alice_key);
    desk.cli(&["macro", "add", "to-alice", "--assign", "alice"]);
    desk.cli(&["macro", "add", "wait", "--status", "pending"]);
    desk.cli(&["macro", "add", "done", "--status", "solved"]);
    let got = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, 200, Arc::clone(&got));
    let secret = add_hook(
        &desk,
        &[
            &receiver.url("/hook"),
            "--event",
            "ticket.created,ticket.customer_replied,ticket.status,ticket.assigned",
        ],
    );
    let server = desk.serve();

    // Created by SMTP, assigned by the CLI (which opens it), the customer replies.
    customer_mail(&server, "CanaryHookSubject", "h1@example.net", "", "first");
    receiver.wait_for(1, &server);
    desk.cli(&["macro", "apply", "to-alice", "--ticket", "1"]);
    receiver.wait_for(3, &server);
    customer_mail(
        &server,
        "Re: CanaryHookSubject",
        "h2@example.net",
        "In-Reply-To: <h1@example.net>\r\n",
        "second",
    );
    let first = receiver.wait_for(4, &server);
    assert_eq!(
        summary(&first),
        vec![
            event("ticket.created", 1, "new"),
            event("ticket.status", 1, "open"),
            event("ticket.assigned", 1, "open"),
            event("ticket.customer_replied", 1, "open"),
        ]
    );
    assert!(first[0].json()["agent"].is_null(), "mail has no agent");
    assert_eq!(first[2].json()["ticket"]["assignee"], "alice");
    assert!(first[2].json()["agent"].as_str().is_some());

    // The receiver goes down; events happen and their tries fail.
    let port = receiver.stop();
    desk.cli(&["macro", "apply", "wait", "--ticket", "1"]);
    customer_mail(
        &server,
        "Re: CanaryHookSubject",
        "h3@example.net",
        "In-Reply-To: <h2@example.net>\r\n",
        "third",
    );
    let deadline = Instant::now() + LONG_WAIT;
    while failed_tries(&desk, "1") < 2 {
        assert!(Instant::now() < deadline, "no failed tries logged");
        thread::sleep(Duration::from_millis(100));
    }
    let log = desk.cli(&["webhook", "log", "1"]);
    assert!(
        log.contains("Connection refused") || log.contains("refused"),
        "{log}"
    );

    // The server is killed (SIGKILL) with all of that queued, starts again, one more
    // event happens, and the receiver comes back on its port.
    drop(server);
    let server = desk.serve();
    desk.cli(&["macro", "apply", "done", "--ticket", "1"]);
    let listed = desk.cli(&["webhook", "list"]);
    assert!(listed.contains("queued 4"), "{listed}");
    let receiver = Receiver::start(port, 200, Arc::clone(&got));
    let all = receiver.wait_for(8, &server);
    // Give a duplicate the time to show up.
    thread::sleep(Duration::from_secs(2));
    let all_now = receiver.got();
    assert_eq!(all_now.len(), 8, "{:?}", summary(&all_now));
    assert_eq!(
        summary(&all)[4..],
        [
            event("ticket.status", 1, "pending"),
            event("ticket.customer_replied", 1, "open"),
            event("ticket.status", 1, "open"),
            event("ticket.status", 1, "solved"),
        ]
    );
    let mut ids = Vec::new();
    for g in &all {
        g.assert_signed(&secret);
        ids.push(g.delivery().parse::<u64>().unwrap());
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "deliveries out of order or twice");
    // Pseudonymous by default: no customer text anywhere in what was sent.
    for g in &all {
        let text = String::from_utf8_lossy(&g.body);
        for c in CANARIES {
            assert!(!text.contains(c), "customer text {c:?} in {text}");
        }
    }
    let listed = desk.cli(&["webhook", "list", "--json"]);
    let hooks: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(hooks[0]["queued"], 0, "{listed}");
    assert_eq!(hooks[0]["enabled"], true);
}

#[test]
fn a_failing_hook_is_disabled_admins_are_told_and_text_goes_only_where_asked() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    desk.cli(&["config", "set", "webhook.retry_base_seconds", "1"]);
    desk.cli(&["config", "set", "webhook.max_failures", "3"]);
    desk.cli(&["config", "set", "notify.batch_window", "1"]);
    let boss_key = desk.keygen("boss");
    desk.add_admin("boss", &boss_key);
    desk.cli(&["agent", "set", "boss", "--email", "boss@team.example"]);

    let failing = Receiver::start(0, 500, Arc::new(Mutex::new(Vec::new())));
    let good = Receiver::start(0, 200, Arc::new(Mutex::new(Vec::new())));
    add_hook(&desk, &[&failing.url("/x"), "--event", "ticket.created"]);
    let plain = add_hook(&desk, &[&good.url("/plain"), "--event", "ticket.created"]);
    let texty = add_hook(
        &desk,
        &[
            &good.url("/text"),
            "--event",
            "ticket.created",
            "--include-text",
        ],
    );
    let server = desk.serve();
    customer_mail(&server, "CanaryHookSubject", "f1@example.net", "", "hello");

    // The plain hook gets no customer text, the one added with --include-text does.
    let got = good.wait_for(2, &server);
    for g in &got {
        let path_is_text = g.json()["customer"].is_object();
        let text = String::from_utf8_lossy(&g.body).into_owned();
        if path_is_text {
            g.assert_signed(&texty);
            assert_eq!(g.json()["ticket"]["subject"], "CanaryHookSubject");
            assert_eq!(g.json()["customer"]["email"], CUSTOMER);
            assert_eq!(g.json()["customer"]["name"], "Canary Hookname");
        } else {
            g.assert_signed(&plain);
            for c in CANARIES {
                assert!(!text.contains(c), "customer text {c:?} in {text}");
            }
        }
    }
    assert_eq!(
        got.iter()
            .filter(|g| g.json()["customer"].is_object())
            .count(),
        1
    );

    // Three failed tries in a row (1 s, 6 s apart): disabled, audited, admins told.
    let deadline = Instant::now() + LONG_WAIT;
    loop {
        let hooks: serde_json::Value =
            serde_json::from_str(&desk.cli(&["webhook", "list", "--json"])).unwrap();
        if hooks[0]["enabled"] == false {
            assert_eq!(hooks[0]["failures"], 3);
            assert!(hooks[0]["disabled_why"]
                .as_str()
                .unwrap()
                .contains("HTTP 500"));
            assert_eq!(hooks[0]["queued"], 1, "what failed waits for `enable`");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the failing hook was never disabled"
        );
        thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(failed_tries(&desk, "1"), 3);
    assert!(desk
        .audit()
        .iter()
        .any(|e| e["action"] == "webhook.disable"));
    let told = sink.wait_for_mail(1);
    let mail = String::from_utf8_lossy(told.last().unwrap()).into_owned();
    assert!(
        mail.contains("a webhook was disabled: see `sealdesk webhook list`"),
        "{mail}"
    );
    for c in CANARIES {
        assert!(!mail.contains(c), "customer text {c:?} in the admin mail");
    }
    // A disabled hook gets no new events; `webhook test` still pings it.
    let test = desk.try_cli(&["webhook", "test", "1"]);
    assert_eq!(test.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&test.stdout).contains("HTTP 500"));
    assert_eq!(failing.got().len(), 4);
    drop(server);
}
