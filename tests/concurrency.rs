//! Concurrency end to end against a running `sealdesk serve`: many real SMTP connections
//! at once (Python's smtplib over TCP) into one ticket and from new senders, SIGKILL in
//! the middle of a reply burst and of an erasure, and CLI changes to a ticket while its
//! mail arrives. Every check is made afterwards through the CLI (`ticket show/list
//! --json`, `customer show --json`, `audit export --json`, `audit verify`).

mod common;

use common::live::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

const SUPPORT: &str = "support@desk.example";
/// How long one burst of mail may take before the test fails instead of hanging.
const BURST_LIMIT: Duration = Duration::from_secs(90);

/// The SMTP clients: one thread and one connection per list of mails on stdin (JSON).
/// Every connection is opened first, then all start together. Prints `OK marker` for
/// each 250, `REFUSED marker code text` for a 4xx/5xx answer to a message, and `STOP n
/// error` when connection n breaks (as it does when the server is killed).
const SMTP_CLIENTS: &str = r#"
import json, smtplib, sys, threading
port = int(sys.argv[1])
jobs = json.load(sys.stdin)
lock = threading.Lock()
ready = threading.Barrier(len(jobs))
def say(line):
    with lock:
        sys.stdout.write(line.replace('\n', ' ') + '\n')
        sys.stdout.flush()
def worker(n, mails):
    s, err = None, None
    try:
        s = smtplib.SMTP('127.0.0.1', port, timeout=30)
    except Exception as e:
        err = e
    try:
        ready.wait(30)
    except threading.BrokenBarrierError:
        pass
    if s is None:
        say('STOP %d %s %s' % (n, type(err).__name__, err))
        return
    try:
        for m in mails:
            try:
                s.sendmail(m['from'], ['support@desk.example'], m['raw'].encode('utf-8'))
            except smtplib.SMTPResponseException as e:
                say('REFUSED %s %d %s' % (m['marker'], e.smtp_code, e.smtp_error))
                continue
            say('OK ' + m['marker'])
        s.quit()
    except Exception as e:
        say('STOP %d %s %s' % (n, type(e).__name__, e))
ts = [threading.Thread(target=worker, args=(n, m)) for n, m in enumerate(jobs)]
[t.start() for t in ts]
[t.join() for t in ts]
"#;

/// One message to send, and the marker that finds it again (in its body or subject).
struct Mail {
    from: String,
    marker: String,
    raw: String,
}

fn raw_mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!("From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\r\n{body}\r\n")
}

/// A message that starts a ticket; its Message-ID is `<marker@example.com>`.
fn new_ticket(from: &str, marker: &str, body: &str) -> Mail {
    Mail {
        from: from.into(),
        marker: marker.into(),
        raw: raw_mail(
            from,
            marker,
            &format!("{marker}@example.com"),
            "",
            &format!("{marker}\r\n{body}"),
        ),
    }
}

/// A reply to the message `<root_id>`, by In-Reply-To and References, with the marker
/// in its body and a Message-ID of its own.
fn reply_to(root_id: &str, from: &str, marker: &str) -> Mail {
    Mail {
        from: from.into(),
        marker: marker.into(),
        raw: raw_mail(
            from,
            "Re: the printer",
            &format!("{marker}@example.com"),
            &format!("In-Reply-To: <{root_id}>\r\nReferences: <{root_id}>\r\n"),
            &format!("More about it:\r\n{marker}\r\n"),
        ),
    }
}

/// What the clients were told.
#[derive(Default, Debug)]
struct Outcome {
    /// Markers of the messages answered 250, in order.
    acked: Vec<String>,
    refused: Vec<String>,
    stopped: Vec<String>,
}

/// Kills the clients if the test fails while they run.
struct Clients(Child);

impl Drop for Clients {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends each list of mails over its own connection, all at once; `on_ack` is called
/// with the number of 250s so far after each one.
fn burst(port: u16, connections: &[Vec<Mail>], mut on_ack: impl FnMut(usize)) -> Outcome {
    let jobs: Vec<Vec<Value>> = connections
        .iter()
        .map(|c| {
            c.iter()
                .map(|m| json!({ "from": m.from, "marker": m.marker, "raw": m.raw }))
                .collect()
        })
        .collect();
    let mut child = Command::new("python3")
        .args(["-u", "-c", SMTP_CLIENTS, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests: apt-get install python3");
    let input = serde_json::to_vec(&jobs).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut clients = Clients(child);
    let deadline = Instant::now() + BURST_LIMIT;
    let mut out = Outcome::default();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(marker) = line.strip_prefix("OK ") {
                    out.acked.push(marker.to_string());
                    on_ack(out.acked.len());
                } else if let Some(what) = line.strip_prefix("REFUSED ") {
                    out.refused.push(what.to_string());
                } else if let Some(what) = line.strip_prefix("STOP ") {
                    out.stopped.push(what.to_string());
                } else {
                    panic!("the SMTP clients said {line:?}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "the SMTP clients did not finish within {BURST_LIMIT:?}: {} acknowledged, refused {:?}, stopped {:?}",
                out.acked.len(),
                out.refused,
                out.stopped
            ),
        }
    }
    let status = clients.0.wait().unwrap();
    let errors = errors.join().unwrap();
    assert!(status.success(), "the SMTP clients failed: {errors}");
    out
}

/// Asserts that every message of a burst without a kill got its 250.
fn assert_all_acked(out: &Outcome, sent: usize) {
    assert!(
        out.refused.is_empty() && out.stopped.is_empty() && out.acked.len() == sent,
        "{} of {sent} messages acknowledged; refused: {:?}; connections stopped: {:?}",
        out.acked.len(),
        out.refused,
        out.stopped
    );
}

/// A random word, so markers and canaries of different runs never meet.
fn token() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

/// One test at a time: each burst and each timed kill gets the whole (small) machine, so
/// the server really runs its deliveries side by side, and the kills land where the
/// calibration says.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A desk that takes mail for support@desk.example, without the per-sender rate limit
/// getting in the way of a burst.
fn busy_desk() -> TestDesk {
    let desk = configured_desk(None);
    desk.cli(&["config", "set", "mail.rate_limit", "1000000"]);
    desk
}

fn cli_json(desk: &TestDesk, args: &[&str]) -> Value {
    let text = desk.cli(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {text}"))
}

fn ticket_list(desk: &TestDesk) -> Vec<Value> {
    cli_json(desk, &["ticket", "list", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn ticket_show(desk: &TestDesk, number: u64) -> Value {
    cli_json(desk, &["ticket", "show", &number.to_string(), "--json"])
}

/// How often each word containing `tok` occurs in the texts of a ticket's thread, and
/// the kind of the entry it occurs in.
fn thread_markers(ticket: &Value, tok: &str) -> HashMap<String, (usize, String)> {
    let mut found: HashMap<String, (usize, String)> = HashMap::new();
    for entry in ticket["thread"].as_array().unwrap() {
        let text = entry["text"].as_str().unwrap_or("");
        let kind = entry["kind"].as_str().unwrap_or("").to_string();
        for word in text.split_whitespace().filter(|w| w.contains(tok)) {
            let slot = found.entry(word.to_string()).or_insert((0, kind.clone()));
            slot.0 += 1;
        }
    }
    found
}

/// Asserts that each of `expected` occurs exactly once in the ticket's thread; `what`
/// names them. Returns what the thread holds, as [`thread_markers`].
fn assert_each_once(
    ticket: &Value,
    tok: &str,
    expected: &[String],
    what: &str,
) -> HashMap<String, (usize, String)> {
    let found = thread_markers(ticket, tok);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|m| !found.contains_key(*m))
        .collect();
    let repeated: Vec<(&String, usize)> = expected
        .iter()
        .filter_map(|m| found.get(m).filter(|(n, _)| *n > 1).map(|(n, _)| (m, *n)))
        .collect();
    assert!(
        missing.is_empty() && repeated.is_empty(),
        "{} of {} {what} are missing from the thread of {} entries ({:?}{}), {} are there more than once ({:?})",
        missing.len(),
        expected.len(),
        ticket["thread"].as_array().map_or(0, Vec::len),
        &missing[..missing.len().min(13)],
        if missing.len() > 13 { " …" } else { "" },
        repeated.len(),
        &repeated[..repeated.len().min(13)],
    );
    found
}

/// How many audit events have this action.
fn count_action(events: &[Value], action: &str) -> usize {
    events.iter().filter(|e| e["action"] == action).count()
}

/// How many log lines report a message filed as `kind` (`Duplicate`, `Appended` …).
fn count_filed(log: &str, kind: &str) -> usize {
    log.lines()
        .filter(|l| l.contains(&format!("mail {kind}(")))
        .count()
}

/// The first message of a ticket, sent alone; returns the ticket's number.
/// A busy desk, serving, with one ticket from ann@example.com whose first mail has the
/// Message-ID `root_id`: what the reply bursts write into.
struct Threaded {
    tok: String,
    desk: TestDesk,
    server: Server,
    port: u16,
    number: u64,
    /// The marker in the first mail, and its Message-ID.
    root: String,
    root_id: String,
}

fn threaded_desk() -> Threaded {
    let tok = token();
    let desk = busy_desk();
    let server = desk.serve();
    let port = server.smtp_port;
    let root = format!("ROOT-{tok}");
    let number = first_ticket(&desk, port, "ann@example.com", &root);
    Threaded {
        root_id: format!("{root}@example.com"),
        root,
        tok,
        desk,
        server,
        port,
        number,
    }
}

fn first_ticket(desk: &TestDesk, port: u16, from: &str, marker: &str) -> u64 {
    let out = burst(
        port,
        &[vec![new_ticket(from, marker, "It is on fire.")]],
        |_| {},
    );
    assert_all_acked(&out, 1);
    let list = ticket_list(desk);
    assert_eq!(list.len(), 1, "one mail, one ticket: {list:?}");
    list[0]["number"].as_u64().unwrap()
}

#[test]
fn many_connections_replying_to_one_ticket_lose_nothing() {
    let _serial = one_at_a_time();
    let Threaded {
        tok,
        desk,
        server,
        port,
        number,
        root,
        root_id,
    } = threaded_desk();

    // 12 connections × 25 replies; the ticket's customer writes on four of them at once.
    let senders = ["ann@example.com", "bob@example.com", "cy@example.com"];
    let connections: Vec<Vec<Mail>> = (0..12)
        .map(|c| {
            (0..25)
                .map(|i| reply_to(&root_id, senders[c % 3], &format!("R-{tok}-{c}-{i}")))
                .collect()
        })
        .collect();
    let out = burst(port, &connections, |_| {});

    let ticket = ticket_show(&desk, number);
    let mut expected = vec![root.clone()];
    expected.extend(out.acked.iter().cloned());
    assert_each_once(&ticket, &tok, &expected, "acknowledged messages");
    assert_eq!(
        ticket["thread"].as_array().unwrap().len(),
        expected.len(),
        "the thread holds the first message and every acknowledged reply, nothing else"
    );
    assert_all_acked(&out, 300);
    let list = ticket_list(&desk);
    assert_eq!(list.len(), 1, "every reply joined #{number}: {list:?}");
    let log = server.log();
    assert_eq!(
        (count_filed(&log, "Appended"), count_filed(&log, "Duplicate")),
        (300, 0),
        "the server log reports every reply filed into the ticket, none as a duplicate (each has its own Message-ID)"
    );
    let audit = desk.audit();
    assert_eq!(count_action(&audit, "mail.new-ticket"), 1);
    assert_eq!(count_action(&audit, "mail.reply"), 300);
    assert!(server.terminate().success());
}

#[test]
fn new_senders_at_once_are_one_customer_each() {
    let _serial = one_at_a_time();
    let tok = token();
    let desk = busy_desk();
    let server = desk.serve();
    let addresses: Vec<String> = (0..3)
        .map(|a| format!("new{a}-{tok}@example.com"))
        .collect();
    // 12 connections, four per address, interleaved; ten new tickets each.
    let mut sender_of = HashMap::new();
    let connections: Vec<Vec<Mail>> = (0..12)
        .map(|c| {
            let from = &addresses[c % 3];
            (0..10)
                .map(|i| {
                    let marker = format!("NEW-{tok}-{c}-{i}");
                    sender_of.insert(marker.clone(), from.clone());
                    new_ticket(from, &marker, "Hello, I am new here.")
                })
                .collect()
        })
        .collect();
    let out = burst(server.smtp_port, &connections, |_| {});
    assert_all_acked(&out, 120);

    // Which customer each address's tickets belong to.
    let list = ticket_list(&desk);
    assert_eq!(list.len(), 120, "one ticket per mail");
    let mut customers: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for t in &list {
        let subject = t["subject"].as_str().unwrap();
        let from = sender_of
            .get(subject)
            .unwrap_or_else(|| panic!("a ticket nobody sent: {t}"));
        *customers
            .entry(from.as_str())
            .or_default()
            .entry(t["customer"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let distinct: BTreeSet<&String> = customers.values().flat_map(|c| c.keys()).collect();
    let mut problems = Vec::new();
    for from in &addresses {
        let sent = out.acked.iter().filter(|m| sender_of[*m] == *from).count();
        let shown = cli_json(&desk, &["customer", "show", from, "--json"])["tickets"]
            .as_array()
            .unwrap()
            .len();
        let split: Vec<usize> = customers[from.as_str()].values().copied().collect();
        if split.len() != 1 || shown != sent {
            problems.push(format!(
                "{from}: its {sent} tickets belong to {} customers ({split:?}); `customer show` lists {shown}",
                split.len()
            ));
        }
    }
    assert!(
        problems.is_empty() && distinct.len() == 3,
        "3 new addresses became {} customers: {}",
        distinct.len(),
        problems.join("; ")
    );
    assert!(server.terminate().success());
}

#[test]
fn sigkill_during_a_reply_burst_to_one_ticket_loses_nothing_acknowledged() {
    let _serial = one_at_a_time();
    let Threaded {
        tok,
        desk,
        mut server,
        port,
        number,
        root,
        root_id,
    } = threaded_desk();

    let senders = ["ann@example.com", "dee@example.com"];
    let connections: Vec<Vec<Mail>> = (0..8)
        .map(|c| {
            (0..30)
                .map(|i| reply_to(&root_id, senders[c % 2], &format!("K-{tok}-{c}-{i}")))
                .collect()
        })
        .collect();
    let out = burst(port, &connections, |acked| {
        if acked == 60 {
            // Mid-burst: no warning, no flush, no goodbye.
            server.child.kill().unwrap();
            server.child.wait().unwrap();
        }
    });
    assert!(
        out.acked.len() >= 60,
        "only {} acknowledged before the kill",
        out.acked.len()
    );
    assert!(
        out.acked.len() < 240,
        "the kill came too late to interrupt the burst"
    );

    // No restart: the CLI finds the stale control socket and opens the store itself.
    let ticket = ticket_show(&desk, number);
    let mut expected = vec![root.clone()];
    expected.extend(out.acked.iter().cloned());
    assert_each_once(&ticket, &tok, &expected, "acknowledged messages");
    let list = ticket_list(&desk);
    assert_eq!(list.len(), 1, "every reply joined #{number}: {list:?}");
    let verify = desk.cli(&["audit", "verify"]);
    assert!(verify.contains("intact"), "{verify}");
}

/// What a desk holds about the customer being erased, after a kill and a restart.
struct ErasureState {
    /// `customer show` worked, with this many tickets.
    customer: Option<usize>,
    subjects_erased: usize,
    subjects_kept: usize,
    /// Sampled threads whose message still reads (has the canary) / reads "[erased]".
    threads_readable: usize,
    threads_erased: usize,
    sampled: usize,
    /// Keys in the keyring (the bystander's and maybe the victim's).
    keys: u64,
    /// Erasures journalled in the keys dir.
    journalled: bool,
    /// Files under data/ and keys/ where the canary shows, if looked for.
    canary_hits: Option<usize>,
}

impl ErasureState {
    fn not_begun(&self, tickets: usize) -> bool {
        self.customer == Some(tickets)
            && self.subjects_kept == tickets
            && self.threads_readable == self.sampled
            && self.keys == 2
            && !self.journalled
    }

    fn complete(&self, tickets: usize) -> bool {
        self.customer.is_none()
            && self.subjects_erased == tickets
            && self.threads_erased == self.sampled
            && self.keys == 1
            && self.journalled
            && self.canary_hits == Some(0)
    }

    fn verdict(&self, tickets: usize) -> &'static str {
        if self.not_begun(tickets) {
            "not begun"
        } else if self.complete(tickets) {
            "complete"
        } else {
            "IN BETWEEN"
        }
    }

    fn describe(&self, tickets: usize) -> String {
        format!(
            "customer record {}; {} of {tickets} subjects \"[erased]\", {} intact; {} of {} sampled threads readable, {} erased; customer keys in the keyring: {} (2 = the victim's is alive); erasure journalled: {}; canary found in {} files",
            match self.customer {
                Some(n) => format!("present with {n} tickets"),
                None => "gone".into(),
            },
            self.subjects_erased,
            self.subjects_kept,
            self.threads_readable,
            self.sampled,
            self.threads_erased,
            self.keys,
            if self.journalled { "yes" } else { "no" },
            self.canary_hits
                .map(|n| n.to_string())
                .unwrap_or_else(|| "(not scanned)".into()),
        )
    }
}

/// The keyring is `header (24) | records of 88 bytes`, one per customer key
/// (src/store/keyring.rs): its length says how many keys are left.
/// Customer keys in the keyring (format v2: `kind (1 = customer, 2 = record) | id |
/// wrapped key`, 89 bytes a record, after a 24-byte header).
fn keyring_keys(desk: &TestDesk) -> u64 {
    let bytes = std::fs::read(desk.path("keys").join("keyring")).unwrap();
    bytes[24..].chunks_exact(89).filter(|r| r[0] == 1).count() as u64
}

/// A copy of a stopped desk (files keep their 0600; the two dirs get their 0700 back).
fn copy_desk(template: &TestDesk) -> TestDesk {
    use std::os::unix::fs::PermissionsExt;
    let desk = TestDesk {
        dir: tempfile::tempdir().unwrap(),
    };
    for dir in ["data", "keys"] {
        common::copy_dir(&template.path(dir), &desk.path(dir));
        std::fs::set_permissions(desk.path(dir), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    desk
}

/// Waits for a child, killing it and failing after `limit`.
fn wait_within(child: Child, limit: Duration) -> Output {
    let id = child.id();
    let (tx, done) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match done.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("the command did not finish within {limit:?}");
        }
    }
}

/// When the server is killed during `customer cancel`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kill {
    Never,
    /// This long after the command started.
    After(Duration),
    /// This long after the erasure journal (keys/erasures, see README) appeared: the
    /// erasure is then under way for sure.
    AfterJournal(Duration),
}

impl std::fmt::Display for Kill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kill::Never => write!(f, "after an uninterrupted erasure"),
            Kill::After(d) => write!(f, "kill {} ms after the start", d.as_millis()),
            Kill::AfterJournal(d) => write!(
                f,
                "kill {} ms after the erasure journal appeared",
                d.as_millis()
            ),
        }
    }
}

struct Erasure<'a> {
    victim: &'a str,
    bystander: &'a str,
    canary: &'a str,
    keep: &'a str,
    victim_tickets: &'a [u64],
    bystander_tickets: &'a [u64],
    all_tickets: usize,
}

impl Erasure<'_> {
    /// On a copy of `template`: serve, `customer cancel`, SIGKILL after `kill_after`
    /// (never, if None), serve again and stop; then what the desk holds. Also returns how
    /// long the cancel command ran.
    /// On a copy of `template`: serve, `customer cancel`, SIGKILL as `kill` says, serve
    /// again and stop; then what the desk holds. Also returns how long the cancel command
    /// ran.
    fn attempt(&self, template: &TestDesk, kill: Kill) -> (ErasureState, Duration) {
        let desk = copy_desk(template);
        let mut server = desk.serve();
        let start = Instant::now();
        let mut cancel = desk
            .command()
            .args([
                "customer",
                "cancel",
                self.victim,
                "--yes",
                "--override",
                "test",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        match kill {
            Kill::Never => {}
            Kill::After(delay) => thread::sleep(delay.saturating_sub(start.elapsed())),
            Kill::AfterJournal(delay) => {
                let journal = desk.path("keys").join("erasures");
                while !std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0)
                    && cancel.try_wait().unwrap().is_none()
                    && start.elapsed() < WAIT
                {
                    thread::sleep(Duration::from_micros(100));
                }
                thread::sleep(delay);
            }
        }
        if kill != Kill::Never {
            server.child.kill().unwrap();
            server.child.wait().unwrap();
        }
        let out = wait_within(cancel, WAIT);
        let took = start.elapsed();
        if kill == Kill::Never {
            assert!(
                out.status.success(),
                "customer cancel failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(server.terminate().success());
        } else {
            drop(server);
        }
        // The restart is where an interrupted erasure must be finished.
        let again = desk.serve();
        assert!(
            again.terminate().success(),
            "the restarted server did not stop cleanly"
        );
        (self.state(&desk, &format!("{kill} and a restart")), took)
    }

    /// What `desk` holds; `when` says when, for the messages of failed checks.
    fn state(&self, desk: &TestDesk, when: &str) -> ErasureState {
        let list = ticket_list(desk);
        assert_eq!(
            list.len(),
            self.all_tickets,
            "{when}: ticket list lists every ticket, erased or not"
        );
        let subjects: HashMap<u64, String> = list
            .iter()
            .map(|t| {
                (
                    t["number"].as_u64().unwrap(),
                    t["subject"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let subjects_erased = self
            .victim_tickets
            .iter()
            .filter(|n| subjects[n] == "[erased]")
            .count();
        let subjects_kept = self
            .victim_tickets
            .iter()
            .filter(|n| subjects[n].starts_with("ERASE-"))
            .count();
        let shown = desk.try_cli(&["customer", "show", self.victim, "--json"]);
        let customer = if shown.status.success() {
            let c: Value = serde_json::from_slice(&shown.stdout).unwrap();
            Some(c["tickets"].as_array().unwrap().len())
        } else {
            let err = String::from_utf8_lossy(&shown.stderr);
            assert!(
                err.contains("no customer with address"),
                "{when}: customer show: {err}"
            );
            None
        };
        // Erasure goes through the thread in ticket order: the first, the last and every
        // 20th in between show any prefix that was done.
        let n = self.victim_tickets.len();
        let sample: BTreeSet<usize> = (0..n).step_by(20).chain([n - 1]).collect();
        let (mut threads_readable, mut threads_erased) = (0, 0);
        for &i in &sample {
            let t = ticket_show(desk, self.victim_tickets[i]);
            let thread = t["thread"].as_array().unwrap();
            if thread
                .iter()
                .any(|e| e["text"].as_str().unwrap_or("").contains(self.canary))
            {
                threads_readable += 1;
            } else if thread
                .iter()
                .all(|e| e["kind"] == "erased" || e["text"] == "[erased]")
            {
                threads_erased += 1;
            }
        }
        // The other customer keeps everything.
        let other = cli_json(desk, &["customer", "show", self.bystander, "--json"]);
        assert_eq!(
            other["tickets"].as_array().unwrap().len(),
            self.bystander_tickets.len(),
            "{when}: the other customer keeps their tickets"
        );
        for &number in self.bystander_tickets {
            let t = ticket_show(desk, number);
            assert!(
                t["thread"][0]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains(self.keep),
                "{when}: the other customer's ticket {number} lost its text: {t}"
            );
        }
        let verify = desk.try_cli(&["audit", "verify"]);
        assert!(
            verify.status.success(),
            "{when}: audit verify: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        let canary_hits = customer.is_none().then(|| {
            let (data, keys) = (desk.path("data"), desk.path("keys"));
            let dirs: [&Path; 2] = [&data, &keys];
            common::scan(&dirs, &common::needles(self.canary)).len()
        });
        let journal = desk.path("keys").join("erasures");
        ErasureState {
            customer,
            subjects_erased,
            subjects_kept,
            threads_readable,
            threads_erased,
            sampled: sample.len(),
            keys: keyring_keys(desk),
            journalled: std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0),
            canary_hits,
        }
    }
}

#[test]
fn sigkill_during_an_erasure_leaves_it_complete_or_not_begun() {
    let _serial = one_at_a_time();
    let tok = token();
    let victim = format!("gone-{tok}@example.com");
    let bystander = format!("stays-{tok}@example.com");
    let canary = format!("CANARY-ERASE-{tok}");
    let keep = format!("CANARY-KEEP-{tok}");

    // One desk with 200 tickets from the victim and 5 from a bystander, copied for each
    // attempt. The first mail of each comes alone, so each is one customer.
    let template = busy_desk();
    {
        let server = template.serve();
        let port = server.smtp_port;
        let victim_mail = |i: usize| new_ticket(&victim, &format!("ERASE-{tok}-{i}"), &canary);
        let bystander_mail = |i: usize| new_ticket(&bystander, &format!("KEEP-{tok}-{i}"), &keep);
        let out = burst(port, &[vec![victim_mail(0), bystander_mail(0)]], |_| {});
        assert_all_acked(&out, 2);
        let mut connections: Vec<Vec<Mail>> = (0..4).map(|_| Vec::new()).collect();
        for i in 1..200 {
            connections[i % 4].push(victim_mail(i));
        }
        for i in 1..5 {
            connections[i % 4].push(bystander_mail(i));
        }
        let out = burst(port, &connections, |_| {});
        assert_all_acked(&out, 203);
        assert!(server.terminate().success());
    }
    let list = ticket_list(&template);
    let numbers_of = |prefix: &str| -> Vec<u64> {
        list.iter()
            .filter(|t| t["subject"].as_str().unwrap().starts_with(prefix))
            .map(|t| t["number"].as_u64().unwrap())
            .collect()
    };
    let victim_tickets = numbers_of("ERASE-");
    let bystander_tickets = numbers_of("KEEP-");
    assert_eq!((victim_tickets.len(), bystander_tickets.len()), (200, 5));
    assert_eq!(keyring_keys(&template), 2);
    let erasure = Erasure {
        victim: &victim,
        bystander: &bystander,
        canary: &canary,
        keep: &keep,
        victim_tickets: &victim_tickets,
        bystander_tickets: &bystander_tickets,
        all_tickets: 205,
    };
    let before = erasure.state(&template, "before any erasure");
    assert!(
        before.not_begun(200),
        "before any erasure: {}",
        before.describe(200)
    );

    // Uninterrupted, it completes; how long it takes places the kills.
    let (done, took) = erasure.attempt(&template, Kill::Never);
    assert!(
        done.complete(200),
        "an erasure without a kill: {}",
        done.describe(200)
    );
    // Kills spread over the whole command, then more where "not begun" turns into
    // "complete", and some just after the erasure wrote its journal: an interrupted
    // erasure lives in between.
    let full = took.as_millis() as u64;
    let ms = Duration::from_millis;
    let mut outcomes: BTreeMap<Kill, ErasureState> = BTreeMap::new();
    let kill = |kill: Kill, outcomes: &mut BTreeMap<Kill, ErasureState>| {
        outcomes.entry(kill).or_insert_with(|| {
            let (state, _) = erasure.attempt(&template, kill);
            eprintln!("{kill}: {}", state.verdict(200));
            state
        });
    };
    for delay in [5, 10, 20, 40]
        .into_iter()
        .chain((1..=8).map(|k| full * k / 8))
    {
        kill(Kill::After(ms(delay)), &mut outcomes);
    }
    let timed = |pick: fn(&ErasureState) -> bool| -> Vec<u64> {
        outcomes
            .iter()
            .filter_map(|(k, s)| match k {
                Kill::After(d) if pick(s) => Some(d.as_millis() as u64),
                _ => None,
            })
            .collect()
    };
    let first_complete = timed(|s| s.complete(200)).first().copied().unwrap_or(full);
    let last_not_begun = timed(|s| s.not_begun(200))
        .into_iter()
        .rfind(|d| *d < first_complete)
        .unwrap_or(0);
    let (low, high) = (
        last_not_begun.saturating_sub(3),
        first_complete.max(last_not_begun + 6) + 3,
    );
    for k in 0..6 {
        kill(Kill::After(ms(low + (high - low) * k / 5)), &mut outcomes);
    }
    for delay in [0, 1, 3] {
        kill(Kill::AfterJournal(ms(delay)), &mut outcomes);
    }
    let between: Vec<String> = outcomes
        .iter()
        .filter(|(_, s)| s.verdict(200) == "IN BETWEEN")
        .map(|(k, s)| format!("{k}: {}", s.describe(200)))
        .collect();
    assert!(
        between.is_empty(),
        "{} of {} kills (the whole cancel command takes {full} ms) left the customer half-erased after a restart:\n{}",
        between.len(),
        outcomes.len(),
        between.join("\n")
    );
}

#[test]
fn agent_change_while_mail_arrives_keeps_both() {
    let _serial = one_at_a_time();
    let Threaded {
        tok,
        desk,
        server,
        port,
        number,
        root,
        root_id,
    } = threaded_desk();
    let connections: Vec<Vec<Mail>> = (0..4)
        .map(|c| {
            (0..25)
                .map(|i| reply_to(&root_id, "ann@example.com", &format!("M-{tok}-{c}-{i}")))
                .collect()
        })
        .collect();

    // While the mail comes in, an agent writes on the same ticket from the CLI (through
    // the control socket): notes and replies, alternately, until the mail is all in.
    struct AgentChange {
        marker: String,
        note: bool,
        during_mail: bool,
    }
    let acks = AtomicUsize::new(0);
    let mail_done = AtomicBool::new(false);
    let n = number.to_string();
    let (out, changes) = thread::scope(|s| {
        let agent = s.spawn(|| {
            let waiting = Instant::now();
            while acks.load(Ordering::SeqCst) < 3 && waiting.elapsed() < WAIT {
                thread::sleep(Duration::from_millis(2));
            }
            let mut changes = Vec::new();
            for k in 0..40 {
                if k >= 6 && mail_done.load(Ordering::SeqCst) {
                    break;
                }
                let note = k % 2 == 0;
                let marker = format!("AGENT-{tok}-{k}");
                let mut args = vec!["ticket", "reply", n.as_str(), "--body", marker.as_str()];
                if note {
                    args.push("--note");
                }
                desk.cli(&args);
                changes.push(AgentChange {
                    marker,
                    note,
                    during_mail: !mail_done.load(Ordering::SeqCst),
                });
            }
            changes
        });
        let out = burst(port, &connections, |n| acks.store(n, Ordering::SeqCst));
        mail_done.store(true, Ordering::SeqCst);
        (out, agent.join().unwrap())
    });
    assert_all_acked(&out, 100);
    assert!(
        changes.iter().any(|c| c.during_mail),
        "no CLI change happened while mail arrived: the test proves nothing"
    );

    let ticket = ticket_show(&desk, number);
    let mut expected = vec![root.clone()];
    expected.extend(out.acked.iter().cloned());
    expected.extend(changes.iter().map(|c| c.marker.clone()));
    let found = assert_each_once(
        &ticket,
        &tok,
        &expected,
        "acknowledged mails and CLI changes",
    );
    for c in &changes {
        let kind = &found[&c.marker].1;
        assert_eq!(
            kind,
            if c.note { "note" } else { "outbound" },
            "{} is stored as the kind it was written as",
            c.marker
        );
    }
    assert_eq!(
        ticket["status"], "open",
        "the agent's replies opened the ticket, and mail from the customer keeps it open"
    );

    let audit = desk.audit();
    let notes = changes.iter().filter(|c| c.note).count();
    let replies = changes.len() - notes;
    let counts = (
        count_action(&audit, "mail.new-ticket"),
        count_action(&audit, "mail.reply"),
        count_action(&audit, "ticket.note"),
        count_action(&audit, "ticket.reply"),
    );
    assert_eq!(
        counts,
        (1, out.acked.len(), notes, replies),
        "one audit event (mail.new-ticket, mail.reply, ticket.note, ticket.reply) per mail and per CLI change"
    );
    assert!(server.terminate().success());
}
