//! Part 11 (imap) against a real Dovecot on loopback: mail appended to INBOX becomes a
//! ticket within a second through IDLE; a message is flagged only after the desk stored
//! it (a sink that cannot store leaves it unseen); SIGKILL of `serve` in the middle of
//! many messages loses and duplicates nothing after a restart; TLS with a self-signed
//! certificate through `ca_file`; move and delete after filing.

mod common;

use common::dovecot::{Dovecot, USER};
use common::live::*;
use parking_lot::Mutex;
use sealdesk_mail::imap::{After, Credentials, ImapAccount, ImapSink, Progress, Tls};
use sealdesk_mail::smtp::DeliveryOutcome;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn mail(from: &str, subject: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Wed, 02 Dec 2026 01:00:00 +0000\r\n\r\nPlease help with {subject}.\r\n"
    )
    .into_bytes()
}

fn account(dovecot: &Dovecot, tls: Tls, after: After) -> ImapAccount {
    ImapAccount {
        name: "test".into(),
        host: if tls == Tls::None {
            "127.0.0.1"
        } else {
            "localhost"
        }
        .into(),
        port: if tls == Tls::Implicit {
            dovecot.tls_port
        } else {
            dovecot.port
        },
        tls,
        user: USER.into(),
        credentials: Credentials::PasswordFile(dovecot.password_file()),
        folder: "INBOX".into(),
        after,
        poll: Duration::from_secs(1),
        ca_file: Some(dovecot.cert()),
    }
}

/// A sink standing for the desk: records what it got, and for each message whether
/// it was still unseen on the server while being stored. Fails while `failing`.
struct Recorder {
    dovecot_conf: std::path::PathBuf,
    failing: Mutex<bool>,
    got: Mutex<Vec<(Vec<u8>, bool)>>,
    progress: Mutex<HashMap<String, Progress>>,
}

impl Recorder {
    fn unseen_on_server(&self) -> usize {
        let out = std::process::Command::new("/usr/bin/doveadm")
            .arg("-c")
            .arg(&self.dovecot_conf)
            .args(["search", "-u", USER, "mailbox", "INBOX", "UNSEEN"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    }
}

impl ImapSink for Recorder {
    fn deliver(&self, _account: &str, raw: &[u8]) -> DeliveryOutcome {
        if *self.failing.lock() {
            return DeliveryOutcome::TempFail("disk full".into());
        }
        let unseen = self.unseen_on_server() > 0;
        self.got.lock().push((raw.to_vec(), unseen));
        DeliveryOutcome::Stored
    }

    fn progress(&self, account: &str, folder: &str) -> anyhow::Result<Option<Progress>> {
        Ok(self
            .progress
            .lock()
            .get(&format!("{account}/{folder}"))
            .copied())
    }

    fn set_progress(&self, account: &str, folder: &str, p: Progress) -> anyhow::Result<()> {
        self.progress
            .lock()
            .insert(format!("{account}/{folder}"), p);
        Ok(())
    }
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the fetcher for `account` on its own runtime until the returned sender says stop.
fn fetch(
    account: ImapAccount,
    sink: Arc<Recorder>,
) -> (
    tokio::sync::watch::Sender<bool>,
    std::thread::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handle = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(sealdesk_mail::imap::run(account, sink, stopped));
    });
    (stop, handle)
}

#[test]
fn a_message_is_flagged_only_after_it_is_stored_and_stays_unseen_while_storing_fails() {
    let dovecot = Dovecot::start();
    let sink = Arc::new(Recorder {
        dovecot_conf: dovecot.conf.clone(),
        failing: Mutex::new(true),
        got: Mutex::new(Vec::new()),
        progress: Mutex::new(HashMap::new()),
    });
    dovecot.append(
        "INBOX",
        &mail("Ann <ann@example.com>", "printer", "p1@example.com"),
    );
    let (stop, handle) = fetch(account(&dovecot, Tls::None, After::Seen), sink.clone());
    // The store fails: the fetcher retries with backoff, the message stays unseen.
    std::thread::sleep(Duration::from_secs(3));
    assert!(sink.got.lock().is_empty());
    assert_eq!(
        dovecot.uids("INBOX", "UNSEEN").len(),
        1,
        "{}",
        dovecot.log()
    );
    *sink.failing.lock() = false;
    wait_until(
        "the message to be stored and flagged",
        Duration::from_secs(20),
        || dovecot.uids("INBOX", "UNSEEN").is_empty(),
    );
    let got = sink.got.lock().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].0.windows(7).any(|w| w == b"printer"));
    assert!(got[0].1, "the message was flagged before it was stored");
    assert_eq!(dovecot.uids("INBOX", "SEEN").len(), 1);
    stop.send(true).unwrap();
    handle.join().unwrap();
}

#[test]
fn tls_with_a_self_signed_certificate_through_ca_file_and_move_after_filing() {
    let dovecot = Dovecot::start();
    dovecot.create_folder("Filed");
    let sink = Arc::new(Recorder {
        dovecot_conf: dovecot.conf.clone(),
        failing: Mutex::new(false),
        got: Mutex::new(Vec::new()),
        progress: Mutex::new(HashMap::new()),
    });
    // Without the CA file the certificate is refused and nothing is fetched.
    let mut untrusted = account(&dovecot, Tls::Implicit, After::Move("Filed".into()));
    untrusted.ca_file = None;
    dovecot.append(
        "INBOX",
        &mail("Bo <bo@example.com>", "invoice", "i1@example.com"),
    );
    let (stop, handle) = fetch(untrusted, sink.clone());
    std::thread::sleep(Duration::from_secs(2));
    stop.send(true).unwrap();
    handle.join().unwrap();
    assert!(
        sink.got.lock().is_empty(),
        "fetched over an untrusted certificate"
    );
    let (stop, handle) = fetch(
        account(&dovecot, Tls::Implicit, After::Move("Filed".into())),
        sink.clone(),
    );
    wait_until(
        "the message to move to Filed",
        Duration::from_secs(20),
        || dovecot.uids("Filed", "ALL").len() == 1,
    );
    assert!(dovecot.uids("INBOX", "ALL").is_empty());
    assert_eq!(sink.got.lock().len(), 1);
    stop.send(true).unwrap();
    handle.join().unwrap();
}

/// The desk's config with one IMAP account on the plain port of `dovecot`.
fn imap_desk(dovecot: &Dovecot, after: &str) -> TestDesk {
    let desk = configured_desk(None);
    desk.cli(&["config", "set", "mail.rate_limit", "100000"]);
    let config = desk.path("data").join("sealdesk.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[mail.imap.hosted]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nuser = \"{USER}\"\npassword_file = \"{}\"\nafter = \"{after}\"\n",
        dovecot.port,
        dovecot.password_file().display()
    ));
    std::fs::write(&config, text).unwrap();
    desk
}

/// Waits until `serve`'s fetcher has logged in and selected INBOX.
fn wait_connected(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut log = server.banner.clone();
    while !log.contains("imap hosted: connected") {
        assert!(Instant::now() < deadline, "never connected: {log}");
        log.push_str(&server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ticket_subjects(desk: &TestDesk) -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "list", "--status", "new", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn mail_appended_to_inbox_becomes_a_ticket_within_a_second_through_idle() {
    let dovecot = Dovecot::start();
    let desk = imap_desk(&dovecot, "seen");
    let server = desk.serve();
    wait_connected(&server);
    std::thread::sleep(Duration::from_millis(300));
    for n in 0..3 {
        let subject = format!("idle test {n}");
        let sent = Instant::now();
        dovecot.append(
            "INBOX",
            &mail(
                &format!("c{n} <c{n}@example.com>"),
                &subject,
                &format!("idle{n}@example.com"),
            ),
        );
        wait_until("the ticket", Duration::from_secs(10), || {
            ticket_subjects(&desk).contains(&subject)
        });
        let took = sent.elapsed();
        assert!(took < Duration::from_secs(1), "ticket {n} took {took:?}");
    }
    wait_until("the messages flagged seen", Duration::from_secs(10), || {
        dovecot.uids("INBOX", "UNSEEN").is_empty()
    });
    assert_eq!(ticket_subjects(&desk).len(), 3);
    let log = server.log();
    assert!(
        !log.contains(common::dovecot::PASSWORD),
        "password in the log"
    );
}

#[test]
fn sigkill_in_the_middle_of_many_messages_loses_and_duplicates_nothing() {
    const N: usize = 300;
    let dovecot = Dovecot::start();
    let desk = imap_desk(&dovecot, "seen");
    let mut server = desk.serve();
    wait_connected(&server);
    // Mail keeps arriving while the desk files it; SIGKILL lands in the middle.
    let appender = {
        let conf = dovecot.conf.clone();
        std::thread::spawn(move || {
            for n in 0..N {
                let raw = mail(
                    &format!("k{n} <k{n}@example.com>"),
                    &format!("burst {n}"),
                    &format!("burst{n}@example.com"),
                );
                common::dovecot::save(&conf, "INBOX", &raw);
            }
        })
    };
    let mut filed_lines = 0;
    wait_until("the first messages filed", Duration::from_secs(60), || {
        filed_lines += server.log().lines().filter(|l| l.contains("mail ")).count();
        filed_lines >= 20
    });
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let filed = ticket_subjects(&desk).len();
    assert!(
        filed < N,
        "all {N} were filed before the kill: make the burst bigger"
    );
    appender.join().unwrap();
    let server = desk.serve();
    wait_until("every message filed", Duration::from_secs(120), || {
        ticket_subjects(&desk).len() >= N
    });
    wait_until("every message flagged", Duration::from_secs(30), || {
        dovecot.uids("INBOX", "UNSEEN").is_empty()
    });
    std::thread::sleep(Duration::from_secs(1));
    let mut subjects = ticket_subjects(&desk);
    subjects.sort();
    let mut expected: Vec<String> = (0..N).map(|n| format!("burst {n}")).collect();
    expected.sort();
    assert_eq!(subjects, expected, "{}", server.log());
}

#[test]
fn starttls_on_the_plain_port_and_delete_after_filing() {
    let dovecot = Dovecot::start();
    let sink = Arc::new(Recorder {
        dovecot_conf: dovecot.conf.clone(),
        failing: Mutex::new(false),
        got: Mutex::new(Vec::new()),
        progress: Mutex::new(HashMap::new()),
    });
    for n in 0..3 {
        dovecot.append(
            "INBOX",
            &mail(
                &format!("d{n} <d{n}@example.com>"),
                &format!("delete {n}"),
                &format!("d{n}@example.com"),
            ),
        );
    }
    let (stop, handle) = fetch(
        account(&dovecot, Tls::StartTls, After::Delete),
        sink.clone(),
    );
    wait_until("the messages deleted", Duration::from_secs(20), || {
        dovecot.uids("INBOX", "ALL").is_empty()
    });
    stop.send(true).unwrap();
    handle.join().unwrap();
    let got = sink.got.lock();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|(_, unseen)| *unseen),
        "deleted before stored"
    );
    // The bookmark: the highest UID stored under the folder's UIDVALIDITY.
    assert_eq!(sink.progress.lock()["test/INBOX"].last_uid, 3);
}

#[test]
fn a_bad_account_is_refused_at_load_in_one_line_naming_the_key() {
    let desk = configured_desk(None);
    let config = desk.path("data").join("sealdesk.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[mail.imap.work]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword_file = \"/p\"\ntls = \"none\"\n");
    std::fs::write(&config, text).unwrap();
    let out = desk.try_cli(&["ticket", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("mail.imap.work.tls") && err.contains("loopback"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
