//! `sealdesk import` through the real binary: an mbox of real-world mail (the shared
//! third-party corpus) and generated threads keeps its dates and threads, sends
//! nothing, survives SIGKILL and resumes with every message exactly once; Maildir and
//! .eml; `ingest --keep-date`.

mod common;

use common::live::*;
use common::mailsink::Sink;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::OffsetDateTime;

/// 2019-03-01 09:00 UTC: the first generated thread starts here.
const BASE: i64 = 1_551_430_800;

/// One mbox entry, written as mboxrd writers do (body `From ` lines quoted).
fn entry(raw: &[u8], from_line: &str) -> Vec<u8> {
    let mut out = format!("From {from_line}\n").into_bytes();
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

fn rfc2822(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&Rfc2822)
        .unwrap()
}

fn asctime(t: i64) -> String {
    let d = OffsetDateTime::from_unix_timestamp(t).unwrap();
    let weekday = &d.weekday().to_string()[..3];
    let month = &d.month().to_string()[..3];
    format!(
        "{weekday} {month} {:>2} {:02}:{:02}:{:02} {}",
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.year()
    )
}

fn time_of(value: &serde_json::Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    OffsetDateTime::parse(text, &Rfc3339)
        .unwrap_or_else(|_| panic!("not a time: {text}"))
        .unix_timestamp()
}

/// Message `k` of generated thread `t`: when it was written, and its bytes. The last
/// message of each thread has no Date: (its mbox From line dates it).
fn thread_message(t: usize, k: usize) -> (i64, String) {
    let at = BASE + t as i64 * 86_400 + k as i64 * 3_600;
    let subject = if k == 0 {
        format!("Question {t}")
    } else {
        format!("Re: Question {t}")
    };
    let mut headers = format!(
        "From: Person {t} <p{t}@example.org>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <t{t}m{k}@example.org>\r\n"
    );
    if k > 0 {
        let refs: Vec<String> = (0..k).map(|j| format!("<t{t}m{j}@example.org>")).collect();
        headers += &format!(
            "In-Reply-To: <t{t}m{}@example.org>\r\nReferences: {}\r\n",
            k - 1,
            refs.join(" ")
        );
    }
    if k < 4 {
        headers += &format!("Date: {}\r\n", rfc2822(at));
    }
    let body = format!("Message {k} of thread {t}.\r\n\r\nFrom what I see it still fails.\r\n");
    (at, format!("{headers}\r\n{body}"))
}

fn corpus() -> Vec<PathBuf> {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/mail-corpus");
    let dir = match std::env::var_os("SEALDESK_MAIL_CORPUS") {
        Some(d) => PathBuf::from(d),
        None if beside.is_dir() => beside,
        None => panic!(
            "the mail corpus is missing: set SEALDESK_MAIL_CORPUS to shared/testdata/mail-corpus"
        ),
    };
    let mut files = Vec::new();
    let mut dirs = vec![dir.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 40, "corpus looks incomplete: {dir:?}");
    files
}

/// The counts of a summary line: (total, filed, threaded, skipped, quarantined).
fn summary(out: &str) -> (usize, usize, usize, usize, usize) {
    let line = out
        .lines()
        .find(|l| l.starts_with("imported "))
        .unwrap_or_else(|| panic!("no summary in: {out}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (n[0], n[1], n[2], n[3], n[4])
}

fn tickets(desk: &TestDesk) -> Vec<serde_json::Value> {
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "list", "--json"])).unwrap();
    list.as_array().unwrap().clone()
}

fn show(desk: &TestDesk, n: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

#[test]
fn an_mbox_of_real_mail_and_threads_keeps_dates_threads_and_sends_nothing() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    desk.cli(&["config", "set", "mail.ack_template", "We got it: {ticket}."]);
    let corpus = corpus();
    let threads = 50;
    let mut mbox = Vec::new();
    for f in &corpus {
        mbox.extend(entry(
            &std::fs::read(f).unwrap(),
            "MAILER-DAEMON Thu Jan  1 00:00:00 2015",
        ));
    }
    for k in 0..5 {
        for t in 0..threads {
            let (at, raw) = thread_message(t, k);
            mbox.extend(entry(
                raw.as_bytes(),
                &format!("p{t}@example.org {}", asctime(at)),
            ));
        }
    }
    let entries = corpus.len() + threads * 5;
    assert!(entries >= 250, "a few hundred messages: {entries}");
    let file = desk.path("old.mbox");
    std::fs::write(&file, &mbox).unwrap();

    // Through the running server (its control socket): the CLI reads the file.
    let server = desk.serve();
    let out = desk.cli(&["import", "mbox", file.to_str().unwrap()]);
    let (total, filed, threaded, skipped, quarantined) = summary(&out);
    assert_eq!(total, entries, "{out}");
    assert_eq!(filed + threaded + skipped + quarantined, entries, "{out}");
    assert!(threaded >= threads * 4, "{out}");
    let dated_by_mbox: usize = out
        .lines()
        .find(|l| l.contains("without a usable Date: header took the mailbox's date"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(dated_by_mbox >= threads, "{out}");
    let listed: serde_json::Value =
        serde_json::from_str(&desk.cli(&["quarantine", "list", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), quarantined, "{out}");

    // Each generated thread is one ticket, dated by its first message, every message
    // at its Date: (the last at its From line), its body unquoted.
    let all = tickets(&desk);
    for t in 0..threads {
        let subject = format!("Question {t}");
        let mine: Vec<_> = all
            .iter()
            .filter(|x| x["subject"] == subject.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "thread {t}: {mine:?}");
        let ticket = show(&desk, &mine[0]["number"]);
        assert_eq!(ticket["status"], "solved", "the default --status");
        assert_eq!(time_of(&ticket["created"]), thread_message(t, 0).0);
        let thread = ticket["thread"].as_array().unwrap();
        assert_eq!(
            thread.len(),
            5,
            "thread {t}: nothing but its five messages (no acknowledgement)"
        );
        for (k, m) in thread.iter().enumerate() {
            assert_eq!(m["kind"], "inbound");
            assert_eq!(
                time_of(&m["at"]),
                thread_message(t, k).0,
                "thread {t} message {k}"
            );
            assert!(
                m["text"].as_str().unwrap().contains("\nFrom what I see"),
                "{}",
                m["text"]
            );
        }
    }

    // Nothing was sent: a live message after the import gets its acknowledgement
    // through the same relay, and that is all the relay ever receives.
    let live = mail(
        "new@example.net",
        "Live one",
        "live1@example.net",
        "",
        "Hello",
    );
    let o = desk.cli_with_stdin(&["ingest"], live.as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = sink.wait_for_mail(1);
    std::thread::sleep(Duration::from_secs(2));
    let got_now = sink.received.lock().unwrap().clone();
    assert_eq!(
        got_now.len(),
        1,
        "only the live acknowledgement: {}",
        got.len()
    );
    assert!(String::from_utf8_lossy(&got_now[0]).contains("new@example.net"));

    // The same import again skips all of it.
    let again = desk.cli(&["import", "mbox", file.to_str().unwrap()]);
    assert_eq!(summary(&again), (entries, 0, 0, entries, 0), "{again}");
    drop(server);
    let audit = desk.audit();
    assert!(audit.iter().any(|e| e["action"] == "import.run"));
}

fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    common::mailsink::mail(from, subject, id, extra, body)
}

#[test]
fn an_import_killed_mid_way_resumes_and_files_every_message_once() {
    let desk = TestDesk::new();
    let n = 3_000;
    let mut mbox = Vec::new();
    for i in 0..n {
        let at = BASE + i as i64 * 60;
        let raw = format!(
            "From: Sender {i} <s{i}@example.org>\r\nSubject: Bulk {i}\r\nMessage-ID: <bulk{i}@example.org>\r\nDate: {}\r\n\r\n{}\r\n",
            rfc2822(at),
            "Some words of an old message. ".repeat(30)
        );
        mbox.extend(entry(
            raw.as_bytes(),
            &format!("s{i}@example.org {}", asctime(at)),
        ));
    }
    let file = desk.path("big.mbox");
    std::fs::write(&file, &mbox).unwrap();

    let mut child = desk
        .command()
        .args(["import", "mbox", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Not a terminal: a progress line every two seconds, after batches are stored.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    let first = loop {
        let line = lines
            .next()
            .expect("the import ended before any progress")
            .unwrap();
        if line.starts_with("import: ") {
            break line;
        }
        assert!(Instant::now() < deadline);
    };
    assert!(first.contains("/s, ETA "), "{first}");
    let stored: usize = first["import: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(stored > 0 && stored < n, "killed mid-way: {first}");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let resumed = run(
        desk.command()
            .args(["import", "mbox", file.to_str().unwrap()]),
        Duration::from_secs(600),
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let out = String::from_utf8_lossy(&resumed.stdout);
    let (total, filed, threaded, skipped, quarantined) = summary(&out);
    assert_eq!((total, threaded, quarantined), (n, 0, 0), "{out}");
    assert!(
        skipped >= stored,
        "what was reported stored is skipped: {out}"
    );
    assert_eq!(filed + skipped, n, "{out}");

    let all = tickets(&desk);
    assert_eq!(all.len(), n, "every message exactly once");
    let mut subjects: Vec<String> = all
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), n);
    for t in all.iter().step_by(997) {
        let i: i64 = t["subject"].as_str().unwrap()["Bulk ".len()..]
            .parse()
            .unwrap();
        assert_eq!(time_of(&t["created"]), BASE + i * 60);
    }
    assert!(desk.cli(&["audit", "verify"]).contains("intact"));
}

#[test]
fn maildir_eml_and_ingest_keep_date() {
    let desk = TestDesk::new();
    // A Maildir: new/ and cur/, file names begin with the delivery time.
    let md = desk.path("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    let (first_at, first) = thread_message(1, 0);
    let (second_at, second) = thread_message(1, 1);
    let (_, dateless) = thread_message(1, 4);
    std::fs::write(
        md.join("cur").join(format!("{first_at}.M1P1.host:2,S")),
        &first,
    )
    .unwrap();
    std::fs::write(
        md.join("cur").join(format!("{second_at}.M2P1.host:2,S")),
        &second,
    )
    .unwrap();
    let delivered = BASE + 10 * 86_400;
    std::fs::write(
        md.join("new").join(format!("{delivered}.M3P1.host")),
        &dateless,
    )
    .unwrap();
    let out = desk.cli(&[
        "import",
        "maildir",
        md.to_str().unwrap(),
        "--status",
        "open",
    ]);
    assert_eq!(summary(&out), (3, 1, 2, 0, 0), "{out}");
    let ticket = show(&desk, &serde_json::json!(1));
    assert_eq!(ticket["status"], "open");
    assert_eq!(time_of(&ticket["created"]), first_at);
    let at: Vec<i64> = ticket["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| time_of(&m["at"]))
        .collect();
    assert!(
        at.contains(&delivered),
        "the Date-less message took its Maildir time: {at:?}"
    );

    // A directory that is no Maildir: one line naming the fix.
    let o = desk.try_cli(&["import", "maildir", desk.path("keys").to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a Maildir") && err.trim().lines().count() == 1,
        "{err}"
    );

    // .eml files: a message and its reply.
    let (a_at, a) = thread_message(2, 0);
    let (_, b) = thread_message(2, 1);
    std::fs::write(desk.path("a.eml"), &a).unwrap();
    std::fs::write(desk.path("b.eml"), &b).unwrap();
    let out = desk.cli(&[
        "import",
        "eml",
        desk.path("a.eml").to_str().unwrap(),
        desk.path("b.eml").to_str().unwrap(),
    ]);
    assert_eq!(summary(&out), (2, 1, 1, 0, 0), "{out}");
    let ticket = show(&desk, &serde_json::json!(2));
    assert_eq!(time_of(&ticket["created"]), a_at);
    assert_eq!(ticket["thread"].as_array().unwrap().len(), 2);

    // ingest --keep-date keeps the Date:; plain ingest stamps now.
    let (old_at, old) = thread_message(3, 0);
    let o = desk.cli_with_stdin(&["ingest", "--keep-date"], old.as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ticket = show(&desk, &serde_json::json!(3));
    assert_eq!(time_of(&ticket["created"]), old_at);
    assert_eq!(time_of(&ticket["thread"][0]["at"]), old_at);
    assert_eq!(ticket["status"], "new", "otherwise like ingest");
    let (_, other) = thread_message(4, 0);
    let o = desk.cli_with_stdin(&["ingest"], other.as_bytes());
    assert!(o.status.success());
    let ticket = show(&desk, &serde_json::json!(4));
    let now = OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now - time_of(&ticket["created"])).abs() < 60,
        "plain ingest: now"
    );
}
