//! Strangers who never log in, against the real binary: silent SSH floods from many
//! loopback addresses that reconnect when dropped, idle SMTP floods, a DATA trickle,
//! `config set mail.max_size` while serving, and guessed second-factor codes. The
//! clients are the real OpenSSH `ssh`, Python's smtplib and raw TCP.

mod common;

use common::live::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Silent connections from `hosts` (127.0.0.N), `per_host` each, that reconnect (after
/// `pause`) whenever the server drops them, as an attacker would. Returns how many
/// connections were made so far; stops when `stop` is set.
fn silent_flood(
    rt: &tokio::runtime::Runtime,
    port: u16,
    hosts: std::ops::RangeInclusive<u8>,
    per_host: usize,
    pause: Duration,
    stop: &Arc<AtomicBool>,
) -> Arc<AtomicUsize> {
    let made = Arc::new(AtomicUsize::new(0));
    for host in hosts {
        for _ in 0..per_host {
            let (made, stop) = (Arc::clone(&made), Arc::clone(stop));
            rt.spawn(async move {
                use tokio::io::AsyncReadExt;
                let local: SocketAddr = format!("127.0.0.{host}:0").parse().unwrap();
                let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let socket = tokio::net::TcpSocket::new_v4().unwrap();
                    socket.bind(local).unwrap();
                    if let Ok(mut stream) = socket.connect(server).await {
                        made.fetch_add(1, Ordering::Relaxed);
                        // Read (the greeting, then nothing) until the server hangs up;
                        // never say a word.
                        let mut buf = [0u8; 512];
                        while !stop.load(Ordering::Relaxed) {
                            match tokio::time::timeout(
                                Duration::from_millis(200),
                                stream.read(&mut buf),
                            )
                            .await
                            {
                                Ok(Ok(0)) | Ok(Err(_)) => break,
                                _ => {}
                            }
                        }
                    }
                    tokio::time::sleep(pause).await;
                }
            });
        }
    }
    made
}

fn wait_until(what: &str, limit: Duration, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !pred() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `ssh` in BatchMode without a terminal from `source` (127.0.0.N): the desk answers
/// a shell without a terminal with a hint, which proves the login worked.
fn ssh_command(server: &Server, key: &Path, user: &str, source: &str) -> Command {
    let mut cmd = server.ssh(key, user);
    cmd.args(["-b", source, "-T"]);
    cmd
}

const LOGGED_IN: &str = "this is an interactive desk";

#[test]
fn a_silent_flood_from_many_addresses_never_keeps_an_agent_out() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice_key");
    desk.add_agent("alice", &key);
    let server = desk.serve();
    let rt = runtime();
    let stop = Arc::new(AtomicBool::new(false));
    // 256 silent connections from 32 addresses, 8 each, reconnecting when dropped.
    let made = silent_flood(
        &rt,
        server.port,
        2..=33,
        8,
        Duration::from_millis(200),
        &stop,
    );
    wait_until("the flood connected", Duration::from_secs(20), || {
        made.load(Ordering::Relaxed) >= 256
    });
    std::thread::sleep(Duration::from_millis(500));

    for attempt in 0..3 {
        let started = Instant::now();
        let out = run(&mut ssh_command(&server, &key, "alice", "127.0.0.1"), WAIT);
        let took = started.elapsed();
        eprintln!("login {attempt} during the flood took {took:?}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(LOGGED_IN),
            "attempt {attempt}: not logged in after {took:?}: {said}{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log()
        );
        assert!(
            took < Duration::from_secs(5),
            "attempt {attempt}: login took {took:?}"
        );
    }
    let during = made.load(Ordering::Relaxed);
    assert!(
        during > 256,
        "the pool was never full: nobody was pushed out ({during} connections)"
    );
    stop.store(true, Ordering::Relaxed);
    drop(rt);

    let events = desk.audit();
    let logins = events
        .iter()
        .filter(|e| e["action"] == "agent.login" && e["actor"] == "alice")
        .count();
    assert_eq!(logins, 3);
    // Silent connections tried nothing: they leave no refusal behind.
    assert!(
        !events.iter().any(|e| e["action"] == "agent.login-refused"),
        "{events:?}"
    );
}

#[test]
fn a_silent_connection_is_closed_at_the_short_login_deadline() {
    let desk = TestDesk::new();
    desk.cli(&["config", "set", "server.login_timeout_seconds", "2"]);
    let server = desk.serve();
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    let took = started.elapsed();
    assert!(
        String::from_utf8_lossy(&all).starts_with("SSH-2.0-sealdesk"),
        "{all:?}"
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "closed after {took:?}"
    );
}

/// Runs Python with smtplib imported and PORT set; returns stdout (it must succeed).
fn python(port: u16, script: &str) -> String {
    let program = format!("import smtplib, sys\nPORT = {port}\n{script}");
    let out = run(Command::new("python3").args(["-c", &program]), WAIT);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

const GOOD_MAIL: &str = r#"
import time
started = time.monotonic()
s = smtplib.SMTP("127.0.0.1", PORT, source_address=("127.0.0.1", 0), timeout=15)
refused = s.sendmail("carol@customer.example", ["support@desk.example"],
    "From: carol@customer.example\r\nTo: support@desk.example\r\nSubject: printer on fire\r\n\r\nHelp.\r\n")
s.quit()
print("refused", refused)
print("seconds", time.monotonic() - started)
"#;

fn seconds(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix("seconds "))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_hundred_idle_smtp_connections_do_not_hold_up_real_mail() {
    let desk = configured_desk(None);
    let server = desk.serve();
    let rt = runtime();
    let stop = Arc::new(AtomicBool::new(false));
    // 100 connections that greet nothing and reconnect when dropped: 20 from each of
    // five addresses, each address at its limit, the listener full.
    let made = silent_flood(
        &rt,
        server.smtp_port,
        2..=6,
        20,
        Duration::from_millis(200),
        &stop,
    );
    wait_until("the flood connected", Duration::from_secs(20), || {
        made.load(Ordering::Relaxed) >= 100
    });
    // Old enough to be the ones that make room (a brand-new connection never is).
    std::thread::sleep(Duration::from_secs(3));

    let out = python(server.smtp_port, GOOD_MAIL);
    assert!(out.contains("refused {}"), "{out}");
    let took = seconds(&out);
    eprintln!("mail during the idle flood took {took:.2} s");
    assert!(took < 5.0, "the mail took {took} s");
    stop.store(true, Ordering::Relaxed);
    drop(rt);
    let listed = desk.cli(&["ticket", "list"]);
    assert!(listed.contains("printer on fire"), "{listed}");
}

/// Sends a command and reads reply lines up to the last one of the reply.
fn command(stream: &mut TcpStream, line: &str) -> String {
    if !line.is_empty() {
        stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    }
    let mut reply = String::new();
    let mut byte = [0u8; 1];
    loop {
        let n = stream.read(&mut byte).unwrap();
        assert_eq!(n, 1, "closed after {reply:?}");
        reply.push(byte[0] as char);
        if reply.ends_with("\r\n") {
            let last = reply.trim_end().lines().last().unwrap_or("");
            if last.len() < 4 || last.as_bytes()[3] == b' ' {
                return reply;
            }
        }
    }
}

#[test]
fn a_one_byte_a_second_data_sender_is_cut_off_at_the_message_deadline() {
    let desk = configured_desk(None);
    desk.cli(&["config", "set", "mail.message_timeout_seconds", "3"]);
    let server = desk.serve();
    let mut s = TcpStream::connect(("127.0.0.1", server.smtp_port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    assert!(command(&mut s, "").starts_with("220 "));
    assert!(command(&mut s, "EHLO slow.example").starts_with("250"));
    let started = Instant::now();
    assert!(command(&mut s, "MAIL FROM:<slow@slow.example>").starts_with("250"));
    assert!(command(&mut s, "RCPT TO:<support@desk.example>").starts_with("250"));
    assert!(command(&mut s, "DATA").starts_with("354"));

    s.set_read_timeout(Some(Duration::from_millis(1000)))
        .unwrap();
    let mut heard = Vec::new();
    let body = b"Subject: slow\r\n\r\nThis message never ends\r\n";
    for &b in body.iter().cycle().take(30) {
        if s.write_all(&[b]).is_err() {
            break;
        }
        let mut buf = [0u8; 256];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => heard.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        if heard.ends_with(b"\r\n") {
            break;
        }
    }
    let took = started.elapsed();
    eprintln!("the trickle was cut off {took:?} after MAIL");
    let heard = String::from_utf8_lossy(&heard);
    assert!(
        heard.starts_with("421 4.4.2") && heard.contains("too long"),
        "{heard:?} after {took:?}"
    );
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_secs(8),
        "cut off after {took:?}"
    );
    // And the connection is closed.
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(!desk.cli(&["ticket", "list"]).contains("slow"));
}

#[test]
fn mail_max_size_set_while_serving_applies_to_the_next_message() {
    let desk = configured_desk(None);
    let server = desk.serve();
    let small = python(
        server.smtp_port,
        "s = smtplib.SMTP('127.0.0.1', PORT); s.ehlo(); print(s.esmtp_features['size'])",
    );
    assert_eq!(small.trim(), (25 * 1024 * 1024).to_string());

    // Through the control socket of the running server.
    desk.cli(&["config", "set", "mail.max_size", "2000"]);
    let out = python(
        server.smtp_port,
        r#"
big = "From: carol@customer.example\r\nSubject: huge\r\n\r\n" + ("x" * 70 + "\r\n") * 70
s = smtplib.SMTP("127.0.0.1", PORT)
s.ehlo()
print("size", s.esmtp_features["size"])
try:
    s.sendmail("carol@customer.example", ["support@desk.example"], big)
    print("mail accepted")
except smtplib.SMTPSenderRefused as e:
    print("mail", e.smtp_code)
s.rset()
# Without SIZE the limit bites after DATA.
print("from", s.mail("carol@customer.example")[0])
print("rcpt", s.rcpt("support@desk.example")[0])
print("data", s.data(big)[0])
s.quit()
"#,
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["size 2000", "mail 552", "from 250", "rcpt 250", "data 552"],
        "{out}"
    );
    let quarantine = desk.try_cli(&["quarantine", "list"]);
    assert!(
        !String::from_utf8_lossy(&quarantine.stdout).contains("huge"),
        "refused mail went to quarantine"
    );
}

/// Enrols `name` in the second factor; returns a TOTP for the printed secret.
fn enrol(desk: &TestDesk, name: &str) -> totp_rs::Totp {
    let out = desk.cli(&["agent", "set", name, "--totp"]);
    let uri = out
        .lines()
        .find(|l| l.starts_with("otpauth://"))
        .unwrap_or_else(|| panic!("no otpauth URI in:\n{out}"));
    let secret = uri
        .split_once("secret=")
        .and_then(|(_, rest)| rest.split('&').next())
        .unwrap();
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
    totp_rs::Builder::new()
        .with_secret(secret.as_bytes())
        .build()
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A six-digit code that is none of the ones the server would take now.
fn wrong_code(totp: &totp_rs::Totp) -> String {
    let t = now();
    let near: Vec<String> = [t - 60, t - 30, t, t + 30, t + 60]
        .iter()
        .map(|&t| totp.generate(t).to_string())
        .collect();
    (0..)
        .map(|n| format!("{:06}", (123_456 + n) % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// `ssh` that answers every code prompt with `code` (through SSH_ASKPASS, no
/// terminal), at most `prompts` times, from `source`.
fn ssh_with_code(
    desk: &TestDesk,
    server: &Server,
    key: &Path,
    source: &str,
    code: &str,
    prompts: u32,
) -> std::process::Output {
    let askpass = desk.path("askpass.sh");
    std::fs::write(&askpass, format!("#!/bin/sh\necho {code}\n")).unwrap();
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o700);
    std::fs::set_permissions(&askpass, executable).unwrap();
    let words = server.ssh_words(key, "alice", false);
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..])
        .args(["-b", source])
        .args(["-o", &format!("NumberOfPasswordPrompts={prompts}")])
        .arg("-T")
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0");
    run(&mut cmd, WAIT)
}

fn reasons(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["action"] == "agent.login-refused")
        .filter_map(|e| {
            e["targets"]
                .as_array()?
                .iter()
                .find_map(|t| t.as_str()?.strip_prefix("reason=").map(String::from))
        })
        .collect()
}

#[test]
fn wrong_codes_lock_the_agent_from_any_connection_and_address_and_are_audited() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice_key");
    desk.add_agent("alice", &key);
    let totp = enrol(&desk, "alice");
    let server = desk.serve();

    // The right code works (and so does the askpass route).
    let out = ssh_with_code(
        &desk,
        &server,
        &key,
        "127.0.0.1",
        &totp.generate(now()).to_string(),
        1,
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(LOGGED_IN),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );

    // Five wrong codes, from two connections and two addresses.
    let wrong = wrong_code(&totp);
    for (source, prompts) in [("127.0.0.2", 3), ("127.0.0.3", 2)] {
        let out = ssh_with_code(&desk, &server, &key, source, &wrong, prompts);
        assert!(!String::from_utf8_lossy(&out.stdout).contains(LOGGED_IN));
    }
    // Locked: the right code from a third address and a new connection is refused
    // (without being looked at: the audit says why).
    let right = totp.generate(now()).to_string();
    let out = ssh_with_code(&desk, &server, &key, "127.0.0.4", &right, 1);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(LOGGED_IN),
        "logged in despite the lock"
    );

    let events = desk.audit();
    let locks: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "agent.second-factor-locked")
        .collect();
    assert_eq!(locks.len(), 1, "{events:?}");
    assert!(locks[0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "agent=alice"));
    let reasons = reasons(&events);
    assert_eq!(
        reasons.iter().filter(|r| *r == "wrong code").count(),
        5,
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r == "second factor locked"),
        "{reasons:?}"
    );
    // No code reaches the log.
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&wrong) && !text.contains(&right));
}

#[test]
fn a_client_that_offers_nothing_is_audited_once() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice_key");
    desk.add_agent("alice", &key);
    let server = desk.serve();
    // OpenSSH asks with `none` first; told "publickey", this one has nothing to offer.
    // (ssh takes the first value of an option: replace the helper's.)
    let words: Vec<String> = server
        .ssh_words(&key, "mallory", true)
        .into_iter()
        .map(|w| match w.starts_with("PreferredAuthentications=") {
            true => "PreferredAuthentications=none".to_string(),
            false => w,
        })
        .collect();
    let out = run(Command::new(&words[0]).args(&words[1..]).arg("-T"), WAIT);
    assert!(!out.status.success());
    wait_until("the refusal audited", WAIT, || {
        reasons(&desk.audit()).contains(&"no credentials offered".to_string())
    });
    let events = desk.audit();
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "agent.login-refused")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["targets"][0], "user=mallory");
}
