//! `sealdesk demo` as a newcomer meets it: the real binary, a HOME with the user's own
//! SSH key, the printed ssh line run as it is in tmux (real OpenSSH), twice in a row;
//! and the demo desk's data, read back through the CLI.
mod common;

use common::live::{run, signal_and_wait, TestDesk, Tmux, BIN, WAIT};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Filling the demo desk takes a while in a debug build.
const START: Duration = Duration::from_secs(120);

/// A running `sealdesk demo` and what it printed up to "Press Ctrl-C".
struct Demo {
    child: Child,
    printed: String,
}

impl Demo {
    /// Starts the demo as a user whose HOME is `home`, temp files in `tmp`.
    fn start(home: &Path, tmp: &Path, args: &[&str]) -> Demo {
        let mut command = Command::new(BIN);
        command
            .arg("demo")
            .args(args)
            .env("HOME", home)
            .env("USER", "newcomer")
            .env("TMPDIR", tmp);
        for var in [
            "SEALDESK_PASSPHRASE",
            "SEALDESK_PASSPHRASE_FILE",
            "SEALDESK_CONFIG",
            "SEALDESK_DATA",
            "SEALDESK_KEYS",
        ] {
            command.env_remove(var);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sealdesk demo");
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + START;
        let mut printed = String::new();
        while !printed.contains("Press Ctrl-C") {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    printed.push_str(&line);
                    printed.push('\n');
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the demo never said it runs; it printed:\n{printed}");
                }
            }
        }
        Demo { child, printed }
    }

    /// The line the demo says to log in with, exactly as printed.
    fn ssh_line(&self) -> String {
        self.printed
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("ssh "))
            .unwrap_or_else(|| panic!("no ssh line in:\n{}", self.printed))
            .to_string()
    }

    fn host_key(&self) -> String {
        self.printed
            .lines()
            .find_map(|l| l.trim().strip_prefix("host key: "))
            .expect("the host key fingerprint is printed")
            .to_string()
    }

    /// Ctrl-C, as the user stops it; waits for it to exit.
    fn interrupt(mut self) -> std::process::ExitStatus {
        signal_and_wait(&mut self.child, "-INT", "the demo did not stop on Ctrl-C")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A HOME with an ed25519 key in ~/.ssh, as a newcomer has; returns (home, private key).
fn home_with_key(base: &TestDesk) -> (PathBuf, PathBuf) {
    let home = base.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let key = home.join(".ssh/id_ed25519");
    let out = run(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "newcomer", "-f"])
            .arg(&key),
        WAIT,
    );
    assert!(out.status.success(), "ssh-keygen failed");
    (home, key)
}

/// A port free now on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The known_hosts ssh itself would use (it reads the passwd entry's home, not $HOME).
fn real_known_hosts() -> Option<PathBuf> {
    let uid = run(Command::new("id").arg("-u"), WAIT);
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_string();
    let entry = run(Command::new("getent").args(["passwd", &uid]), WAIT);
    let entry = String::from_utf8_lossy(&entry.stdout).into_owned();
    let home = entry.trim().split(':').nth(5)?;
    Some(Path::new(home).join(".ssh/known_hosts"))
}

/// Runs the printed ssh line as it is, in tmux, with the user's key in an ssh-agent
/// (ssh looks for keys in the passwd home, not in the test's HOME), and waits for the
/// queue.
fn log_in(base: &TestDesk, name: &str, key: &Path, line: &str) -> Tmux {
    let command = format!("ssh-agent sh -c \"ssh-add -q {} && {line}\"", key.display());
    let tmux = Tmux::start_named(base, name, &command);
    let deadline = Instant::now() + WAIT;
    loop {
        let screen = tmux.screen();
        if screen.contains("Queue (") && screen.contains("Printer on fire") {
            break;
        }
        assert!(
            !screen.contains("IDENTIFICATION HAS CHANGED") && !screen.contains("[exit"),
            "the printed line did not log in:\n{screen}"
        );
        assert!(
            Instant::now() < deadline,
            "no queue after the printed line; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux
}

#[test]
fn the_printed_ssh_line_logs_in_on_the_first_and_the_second_run() {
    let base = TestDesk::new();
    let (home, key) = home_with_key(&base);
    let tmp = base.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let known = real_known_hosts();
    let known_before = known.as_ref().map(std::fs::read);
    let port = free_port();
    let ssh = format!("127.0.0.1:{port}");
    let args = ["--ssh", ssh.as_str(), "--smtp", "127.0.0.1:0"];

    let first = Demo::start(&home, &tmp, &args);
    let line = first.ssh_line();
    assert!(
        line.contains("-o UserKnownHostsFile=") && line.ends_with("newcomer@127.0.0.1"),
        "the line names the demo's known_hosts and the user: {line}"
    );
    assert!(
        !line.contains("StrictHostKeyChecking"),
        "nothing is trusted blindly: {line}"
    );
    let tmux = log_in(&base, "first", &key, &line);
    let screen = tmux.screen();
    assert!(
        screen.contains('✎'),
        "the user's saved draft shows in the queue:\n{screen}"
    );
    drop(tmux);
    let first_key = first.host_key();
    let demo_dir = tmp
        .read_dir()
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("sealdesk-demo-"))
        .expect("the demo desk is in TMPDIR");
    assert!(first.interrupt().success(), "Ctrl-C stops the demo cleanly");
    assert!(
        !demo_dir.exists(),
        "the throwaway demo dir is gone after Ctrl-C"
    );

    let second = Demo::start(&home, &tmp, &args);
    assert_ne!(
        second.host_key(),
        first_key,
        "a new demo has a new host key (what made the second login fail)"
    );
    let line = second.ssh_line();
    assert!(
        line.contains(&format!("-p {port} ")),
        "the same port again: {line}"
    );
    let tmux = log_in(&base, "second", &key, &line);
    drop(tmux);
    assert!(second.interrupt().success());
    assert_eq!(
        known.as_ref().map(std::fs::read).map(|r| r.ok()),
        known_before.map(|r| r.ok()),
        "the user's own known_hosts is not touched"
    );
}

fn cli(dir: &Path, args: &[&str]) -> String {
    let out = run(
        Command::new(BIN)
            .arg("--data")
            .arg(dir.join("data"))
            .arg("--keys")
            .arg(dir.join("keys"))
            .env_remove("SEALDESK_CONFIG")
            .args(args),
        WAIT,
    );
    assert!(
        out.status.success(),
        "sealdesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&cli(dir, args)).unwrap()
}

fn time(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn the_demo_desk_has_something_for_every_screen_and_report() {
    let base = TestDesk::new();
    let (home, _) = home_with_key(&base);
    let dir = base.path("kept");
    let dir_arg = dir.to_string_lossy().into_owned();
    let demo = Demo::start(
        &home,
        &base.path(""),
        &[
            "--ssh",
            "127.0.0.1:0",
            "--smtp",
            "127.0.0.1:0",
            "--dir",
            &dir_arg,
        ],
    );
    assert!(demo.interrupt().success());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let day = 86_400;

    let tickets = json(&dir, &["ticket", "list", "--json", "--status", "all"]);
    let tickets = tickets.as_array().unwrap();
    assert!(tickets.len() >= 40, "{} tickets", tickets.len());
    let field = |t: &Value, f: &str| t[f].as_str().unwrap_or("").to_string();
    for status in ["new", "open", "pending", "solved", "closed"] {
        assert!(
            tickets.iter().any(|t| field(t, "status") == status),
            "a {status} ticket"
        );
    }
    let snoozed: Vec<&Value> = tickets
        .iter()
        .filter(|t| !t["snoozed_until"].is_null())
        .collect();
    assert!(
        snoozed.len() == 1 && time(&snoozed[0]["snoozed_until"]) > now,
        "one ticket snoozed until later"
    );
    // Ages over the last ~8 weeks, in every one of them.
    let created: Vec<i64> = tickets.iter().map(|t| time(&t["created"])).collect();
    for week in 0..8 {
        let (young, old) = (now - week * 7 * day, now - (week + 1) * 7 * day);
        assert!(
            created.iter().any(|&c| c <= young && c > old),
            "a ticket opened {week} weeks ago"
        );
    }
    assert!(created.iter().all(|&c| c > now - 9 * 7 * day && c < now));
    // Ticket numbers grow with time, as on a real desk.
    let numbers: Vec<u64> = tickets
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    let mut by_number: Vec<(u64, i64)> = numbers.iter().copied().zip(created.clone()).collect();
    by_number.sort();
    assert!(by_number.windows(2).all(|w| w[0].1 <= w[1].1));
    let agents: std::collections::BTreeSet<String> =
        tickets.iter().map(|t| field(t, "assignee")).collect();
    for name in ["alice", "bob", "chen", "newcomer"] {
        assert!(agents.contains(name), "tickets assigned to {name}");
    }
    assert!(
        tickets
            .iter()
            .filter(|t| !t["tags"].as_array().unwrap().is_empty())
            .count()
            >= 20,
        "most tickets are tagged"
    );
    // SLA: some open tickets breached, some due within hours.
    let live = |t: &&Value| ["new", "open"].contains(&field(t, "status").as_str());
    let dues: Vec<i64> = tickets
        .iter()
        .filter(live)
        .filter(|t| !t["due"].is_null())
        .map(|t| time(&t["due"]))
        .collect();
    assert!(
        dues.iter().filter(|&&d| d < now).count() >= 3,
        "breached tickets"
    );
    assert!(
        dues.iter()
            .filter(|&&d| d > now && d < now + 8 * 3600)
            .count()
            >= 2,
        "tickets due soon"
    );

    // Threads: replies at realistic delays, Cc, an attachment, two addresses.
    let mut delays = Vec::new();
    let (mut cc, mut files, mut addresses) = (false, false, std::collections::BTreeSet::new());
    for n in &numbers {
        let t = json(&dir, &["ticket", "show", &n.to_string(), "--json"]);
        addresses.insert(field(&t, "address"));
        cc |= !t["participants"].as_array().unwrap().is_empty();
        let thread = t["thread"].as_array().unwrap();
        files |= thread
            .iter()
            .any(|m| !m["attachments"].as_array().unwrap().is_empty());
        let first_in = thread.iter().find(|m| m["kind"] == "inbound");
        let first_out = thread.iter().find(|m| m["kind"] == "outbound");
        if let (Some(i), Some(o)) = (first_in, first_out) {
            assert!(
                o["delivery"].to_string().contains("sent"),
                "a past reply went out: {}",
                o["delivery"]
            );
            delays.push(time(&o["at"]) - time(&i["at"]));
        }
    }
    assert!(cc, "a ticket with a Cc participant");
    assert!(files, "a message with an attachment");
    assert!(
        addresses.contains("billing@desk.example") && addresses.contains(""),
        "tickets on two support addresses: {addresses:?}"
    );
    delays.sort();
    assert!(delays.len() >= 25, "{} tickets answered", delays.len());
    assert!(
        delays[0] > 0 && delays[0] < 3600 && *delays.last().unwrap() > 8 * 3600,
        "first replies after minutes to hours: {delays:?}"
    );

    // Privacy: an open request near its deadline, a completed one.
    let requests = json(&dir, &["request", "list", "--json"]);
    let requests = requests.as_array().unwrap();
    assert!(requests.iter().any(|r| {
        r["status"] != "completed" && {
            let due = time(&r["due"]);
            due > now && due < now + 7 * day
        }
    }));
    assert!(requests
        .iter()
        .any(|r| r["status"] == "completed" && time(&r["decision"]["at"]) > time(&r["received"])));
    let consents = json(&dir, &["consent", "list", "meiling@example.tw", "--json"]);
    assert!(
        consents.to_string().contains("withdrawn"),
        "a consent given and withdrawn: {consents}"
    );
    let quarantine = json(&dir, &["quarantine", "list", "--json"]);
    assert_eq!(
        quarantine.as_array().unwrap().len(),
        1,
        "one quarantined mail"
    );
    // And the history says it is history.
    let audit = json(&dir, &["audit", "export", "--json"]);
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "history.reply"));
}
