//! A desk whose data dir fills up while it serves: the real binary, its data dir on a
//! small tmpfs, mail over real SMTP. While the disk is full mail gets 451 and nothing
//! acknowledged is lost; once space is freed the desk takes mail again by itself,
//! without a restart, and `sealdesk status` tells both.
//!
//! Needs root (to mount the tmpfs); CI runs as root. Anywhere else it says why it skips.

mod common;

use common::live::{Server, TestDesk, WAIT};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmpfs mounted for the length of a test; unmounted when dropped, panic or not.
struct Tmpfs {
    at: PathBuf,
}

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed");
        Tmpfs {
            at: at.to_path_buf(),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the server may still hold files open if the test failed early.
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// A file of `len` bytes really written (a sparse file would take no room on tmpfs).
fn fill_file(path: &Path, len: u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    file.sync_all().unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// One message from its own sender (no rate limit in the way), of about `kib` KiB.
fn message(i: usize, kib: usize) -> String {
    let mut body = String::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ i as u64;
    while body.len() < kib * 1024 {
        let line: String = (0..76)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (b'a' + (x % 26) as u8) as char
            })
            .collect();
        body.push_str(&line);
        body.push_str("\r\n");
    }
    format!(
        "From: Sender {i} <sender{i}@example.com>\r\nTo: support@desk.example\r\nSubject: Disk test {i}\r\nMessage-ID: <disk-{i}@example.com>\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\n\r\n{body}"
    )
}

/// Sends message `i` over SMTP; returns the reply code to the end of DATA.
fn send(port: u16, i: usize, kib: usize) -> std::io::Result<u16> {
    send_within(port, i, kib, WAIT)
}

/// [`send`], giving up on an answer after `limit`.
fn send_within(port: u16, i: usize, kib: usize, limit: Duration) -> std::io::Result<u16> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(limit))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut reply = || -> std::io::Result<u16> {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line.len() < 4 {
                return Err(std::io::Error::other(format!("short SMTP reply {line:?}")));
            }
            if line.as_bytes()[3] != b'-' {
                return line[..3].parse().map_err(std::io::Error::other);
            }
        }
    };
    let expect = |want: u16, code: u16| match code {
        c if c == want => Ok(()),
        c => Err(std::io::Error::other(format!("reply {c}, wanted {want}"))),
    };
    expect(220, reply()?)?;
    writer.write_all(b"EHLO client.example.org\r\n")?;
    expect(250, reply()?)?;
    writer.write_all(format!("MAIL FROM:<sender{i}@example.com>\r\n").as_bytes())?;
    expect(250, reply()?)?;
    writer.write_all(b"RCPT TO:<support@desk.example>\r\n")?;
    expect(250, reply()?)?;
    writer.write_all(b"DATA\r\n")?;
    expect(354, reply()?)?;
    writer.write_all(message(i, kib).as_bytes())?;
    writer.write_all(b"\r\n.\r\n")?;
    let code = reply()?;
    let _ = writer.write_all(b"QUIT\r\n");
    Ok(code)
}

/// `sealdesk ingest` with the message on stdin (handed to the running server).
fn ingest(desk: &TestDesk, i: usize) -> Output {
    desk.cli_with_stdin(&["ingest"], message(i, 4).as_bytes())
}

fn subjects(desk: &TestDesk) -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "list", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect()
}

fn ticket_number(desk: &TestDesk, subject: &str) -> u64 {
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["ticket", "list", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["subject"] == subject)
        .and_then(|t| t["number"].as_u64())
        .unwrap_or_else(|| panic!("no ticket {subject:?}"))
}

fn status(desk: &TestDesk) -> serde_json::Value {
    let out = desk.try_cli(&["status", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Mail big enough that sled keeps each value in a blob file of its own: a blob write
/// that fails leaves sled's database unable to flush or close (see `store::health`).
#[test]
fn a_disk_filled_by_big_mail_gets_451_loses_nothing_and_recovers_without_a_restart() {
    fill_serve_and_recover(160, 1, Wake::ByMail);
}

/// Big mail from four senders at once: some deliveries are waiting for their flush when
/// a blob write fails; they must not keep the desk from recovering.
#[test]
fn a_disk_filled_by_concurrent_big_mail_recovers_without_a_restart() {
    fill_serve_and_recover(160, 4, Wake::ByMail);
}

/// Small mail: the failing write is sled's log, which then keeps that error.
#[test]
fn a_disk_filled_by_small_mail_gets_451_loses_nothing_and_recovers_without_a_restart() {
    fill_serve_and_recover(12, 1, Wake::ByItself);
}

/// Sends mail until three in a row get 451; returns those that got 250. Once one got
/// 451, none may get 250 while the disk stays full.
fn fill_in_turn(server: &Server, kib: usize) -> Vec<usize> {
    let mut accepted = Vec::new();
    let mut refused = 0;
    let mut i = 0;
    while refused < 3 {
        i += 1;
        assert!(i < 2000, "the disk never filled: {}", server.log());
        match send(server.smtp_port, i, kib)
            .unwrap_or_else(|e| panic!("mail {i}: {e}\n{}", server.log()))
        {
            250 => {
                assert_eq!(refused, 0, "mail {i} accepted after a 451 while still full");
                accepted.push(i);
            }
            451 => refused += 1,
            other => panic!("mail {i}: unexpected reply {other}\n{}", server.log()),
        }
    }
    accepted
}

/// `senders` clients sending at once, each until two of its mails were not taken (451,
/// or no answer within 10 s: a delivery still waiting is not acknowledged either);
/// returns those that got 250.
fn fill_at_once(server: &Server, kib: usize, senders: usize) -> Vec<usize> {
    let port = server.smtp_port;
    let threads: Vec<_> = (0..senders)
        .map(|t| {
            std::thread::spawn(move || {
                let (mut accepted, mut refused) = (Vec::new(), 0);
                for k in 1..1000 {
                    let i = 10_000 * (t + 1) + k;
                    match send_within(port, i, kib, Duration::from_secs(10)) {
                        Ok(250) => accepted.push(i),
                        Ok(451) | Err(_) => refused += 1,
                        Ok(other) => panic!("mail {i}: unexpected reply {other}"),
                    }
                    if refused == 2 {
                        return accepted;
                    }
                }
                panic!("the disk never filled");
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| {
            t.join()
                .unwrap_or_else(|_| panic!("a sender failed\n{}", server.log()))
        })
        .collect()
}

/// Fills the data dir's disk with mail of `kib` KiB over SMTP from `senders` clients,
/// checks what happens while it is full, frees space and checks that the same server
/// takes mail again.
/// What brings the desk back once space is freed.
#[derive(PartialEq)]
enum Wake {
    /// The next mail's write tries again.
    ByMail,
    /// Nothing: the server notices by itself (the server log says so) before any
    /// client comes.
    ByItself,
}

fn fill_serve_and_recover(kib: usize, senders: usize, wake: Wake) {
    if !is_root() {
        eprintln!("SKIPPED: mounting a tmpfs needs root (CI runs this as root)");
        return;
    }
    let desk = TestDesk {
        dir: tempfile::tempdir().unwrap(),
    };
    let data = desk.path("data");
    let disk = Tmpfs::mount(&data, "24m");
    desk.cli(&["init"]);
    desk.cli(&["config", "set", "mail.ingest", "support@desk.example"]);
    let server = desk.serve();
    assert_ne!(server.smtp_port, 0, "{}", server.banner);

    // Leave about 2 MiB: a few dozen mails fill the rest.
    let filler = disk.at.join("filler");
    let free = fs2::available_space(&data).unwrap();
    fill_file(&filler, free - 2 * 1024 * 1024);

    let mut accepted = if senders == 1 {
        fill_in_turn(&server, kib)
    } else {
        fill_at_once(&server, kib, senders)
    };
    assert!(
        !accepted.is_empty(),
        "no mail was accepted before the disk filled"
    );
    let last_full = *accepted.last().unwrap();

    // While full: ingest says try later (75), the CLI says what is wrong and what to do.
    let out = ingest(&desk, 9000);
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    let out = desk.try_cli(&["ticket", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("is full: free space"), "{err}");
    assert!(err.contains("retries by itself"), "{err}");
    // `audit verify` reads every event: it is served, and finds the chain whole (a unit
    // left half-applied by the full disk reads as the next commit will finish it) —
    // unless sled itself has gone into its error state after a failed background flush,
    // when it refuses reads too: then one line says the disk failed and what to do.
    // Never a false "BROKEN".
    let verified = desk.try_cli(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&verified.stderr);
    assert!(!said.contains("BROKEN"), "audit verify while full: {said}");
    if !verified.status.success() {
        assert_eq!(said.trim().lines().count(), 1, "{said}");
        assert!(said.contains("free space"), "{said}");
    }
    let text = desk.try_cli(&["status"]);
    assert_eq!(text.status.code(), Some(1), "status exits 1 while failing");
    let said = String::from_utf8_lossy(&text.stdout);
    assert!(said.contains("FAILING since"), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert!(said.contains("retries by itself"), "{said}");
    let failing = status(&desk);
    assert_eq!(failing["store"]["state"], "failing", "{failing}");
    assert_eq!(failing["store"]["disk_full"], true, "{failing}");

    // Space comes back: mail is taken again within seconds, same server process.
    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    let mut log = String::new();
    if wake == Wake::ByItself {
        while !log.contains("the store recovered") {
            assert!(
                freed.elapsed() < Duration::from_secs(15),
                "an idle desk did not recover by itself 15 s after space was freed\n{log}"
            );
            std::thread::sleep(Duration::from_millis(200));
            log.push_str(&server.log());
        }
    }
    let mut next = 5_000;
    loop {
        next += 1;
        let code = send(server.smtp_port, next, kib)
            .unwrap_or_else(|e| panic!("mail {next}: {e}\n{}", server.log()));
        if code == 250 {
            accepted.push(next);
            break;
        }
        assert!(
            freed.elapsed() < Duration::from_secs(15),
            "still 451 15 s after space was freed\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(ingest(&desk, 9001).status.code(), Some(0));
    accepted.push(9001);

    let stored = subjects(&desk);
    for n in &accepted {
        let subject = format!("Disk test {n}");
        assert!(
            stored.contains(&subject),
            "acknowledged mail {n} is missing; stored: {stored:?}"
        );
    }
    // The last mail taken before the disk filled is whole, body and all.
    let number = ticket_number(&desk, &format!("Disk test {last_full}"));
    let shown = desk.cli(&["ticket", "show", &number.to_string(), "--json"]);
    let body_line = message(last_full, kib)
        .split("\r\n\r\n")
        .nth(1)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    assert!(
        shown.contains(&body_line),
        "the body of mail {last_full} is cut"
    );

    let healthy = status(&desk);
    assert_eq!(healthy["store"]["state"], "healthy", "{healthy}");
    assert!(
        healthy["last_recovery"]["at"].is_string(),
        "status tells the recovery: {healthy}"
    );
    assert_eq!(
        healthy["last_recovery"]["disk_full"], true,
        "and what it recovered from: {healthy}"
    );
    assert!(
        desk.cli(&["audit", "verify"]).contains("intact"),
        "the audit chain survived"
    );

    // The log says it once each way, not once per refused mail.
    log.push_str(&server.log());
    let broke = log.matches("the store cannot write to").count();
    let recovered = log.matches("the store recovered").count();
    assert_eq!((broke, recovered), (1, 1), "{log}");
    assert!(log.contains("No space left on device"), "{log}");

    // The server still stops cleanly, and what it took is there after a restart.
    assert!(
        server.terminate().success(),
        "the server did not stop cleanly"
    );
    let reopened = subjects(&desk);
    for n in &accepted {
        assert!(
            reopened.contains(&format!("Disk test {n}")),
            "mail {n} is missing after a restart; stored: {reopened:?}"
        );
    }
    drop(disk);
}
