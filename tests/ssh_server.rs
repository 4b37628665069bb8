//! The SSH server end to end: the real binary, the real OpenSSH client, and tmux as
//! the agent's terminal.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sealdesk");
const WAIT: Duration = Duration::from_secs(20);

/// A desk in a temporary directory, driven through the CLI.
struct TestDesk {
    dir: tempfile::TempDir,
}

impl TestDesk {
    fn new() -> TestDesk {
        let desk = TestDesk {
            dir: tempfile::tempdir().unwrap(),
        };
        desk.cli(&["init"]);
        desk
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data")
            .arg(self.path("data"))
            .arg("--keys")
            .arg(self.path("keys"));
        for var in [
            "SEALDESK_PASSPHRASE",
            "SEALDESK_PASSPHRASE_FILE",
            "SEALDESK_CONFIG",
            "SEALDESK_SSH",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let out = run(self.command().args(args), WAIT);
        assert!(
            out.status.success(),
            "sealdesk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new ed25519 key pair; returns the private key's path.
    fn keygen(&self, name: &str) -> PathBuf {
        let key = self.path(name);
        let out = run(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(&key),
            WAIT,
        );
        assert!(out.status.success(), "ssh-keygen failed");
        key
    }

    fn add_agent(&self, name: &str, key: &Path) {
        let public = key.with_extension("pub");
        self.cli(&["agent", "add", name, "--key-file", public.to_str().unwrap()]);
    }

    fn serve(&self) -> Server {
        let mut child = self
            .command()
            .args(["serve", "--ssh", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
            .env("SEALDESK_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sealdesk serve");
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            port: 0,
            banner: String::new(),
        };
        let deadline = Instant::now() + WAIT;
        while server.port == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines
                .recv_timeout(left)
                .expect("the server never said where it listens");
            server.banner.push_str(&line);
            server.banner.push('\n');
            if let Some(addr) = line.strip_prefix("sealdesk: SSH server listening on ") {
                server.port = addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        }
        // The rest of the banner (fingerprint, ssh lines) follows at once.
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(300)) {
            server.banner.push_str(&line);
            server.banner.push('\n');
        }
        server
    }
}

/// A running `sealdesk serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    banner: String,
}

impl Server {
    fn ssh(&self, key: &Path, user: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "/dev/null", "-p", &self.port.to_string(), "-i"])
            .arg(key)
            .args([
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "IdentityAgent=none",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "ConnectTimeout=10",
            ])
            .arg(format!("{user}@127.0.0.1"))
            .stdin(Stdio::null());
        cmd
    }

    /// Asks the server to stop as the CLI's signal handling would, and waits for it.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion within `limit`, killing it if it hangs.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let id = child.id();
    let (done_tx, done) = mpsc::channel();
    thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    match done.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("command did not finish within {limit:?}: {cmd:?}");
        }
    }
}

/// tmux on a private socket, standing in for the agent's terminal; killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Runs `command` in a 100×30 window; the shell keeps the window open afterwards
    /// and prints the exit status.
    fn start(desk: &TestDesk, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: desk.path("tmux.sock"),
        };
        let shell = format!("{command}; echo \"[exit $?]\"; sleep 60");
        let out = run(
            tmux.command()
                .args(["new-session", "-d", "-s", "t", "-x", "100", "-y", "30"])
                .arg(shell),
            WAIT,
        );
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).env_remove("TMUX");
        cmd
    }

    fn screen(&self) -> String {
        let out = run(self.command().args(["capture-pane", "-p", "-t", "t"]), WAIT);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its colours and attributes as escape sequences.
    fn styled_screen(&self) -> String {
        let out = run(
            self.command().args(["capture-pane", "-p", "-e", "-t", "t"]),
            WAIT,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until it shows `text`.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}; it shows:\n{screen}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn send_keys(&self, keys: &str) {
        run(self.command().args(["send-keys", "-t", "t", keys]), WAIT);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = run(self.command().arg("kill-server"), WAIT);
    }
}

fn interactive_ssh(server: &Server, key: &Path, user: &str, extra: &[&str]) -> String {
    let cmd = server.ssh(key, user);
    let mut words: Vec<String> = vec![
        cmd.get_program().to_string_lossy().into_owned(),
        "-t".into(),
    ];
    words.extend(extra.iter().map(|s| s.to_string()));
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

#[test]
fn without_a_terminal_one_line_explains_and_the_session_ends() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();
    assert!(
        server.banner.contains("host key: SHA256:"),
        "{}",
        server.banner
    );
    assert!(
        server
            .banner
            .contains(&format!("ssh -p {} alice@127.0.0.1", server.port)),
        "{}",
        server.banner
    );

    let started = Instant::now();
    let out = run(server.ssh(&key, "alice").arg("-T"), WAIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "sealdesk: this is an interactive desk; connect with a terminal (ssh -t -p {} alice@<host>)\r\n",
            server.port
        )
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // A command gets the same answer.
    let out = run(server.ssh(&key, "alice").arg("ls"), WAIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("this is an interactive desk"));
}

#[test]
fn unknown_keys_and_other_agents_keys_are_refused() {
    let desk = TestDesk::new();
    let alice_key = desk.keygen("alice");
    let bob_key = desk.keygen("bob");
    let stranger_key = desk.keygen("stranger");
    let carol_key = desk.keygen("carol");
    desk.add_agent("alice", &alice_key);
    desk.add_agent("bob", &bob_key);
    // Removed before the server starts: carol's key must not work.
    desk.add_agent("carol", &carol_key);
    desk.cli(&["agent", "remove", "carol"]);
    let events_before = audit_events(&desk);
    let server = desk.serve();

    for (key, user, what) in [
        (&stranger_key, "alice", "an unregistered key"),
        (&stranger_key, "stranger", "an unregistered key and name"),
        (&alice_key, "bob", "alice's key as bob"),
        (&bob_key, "alice", "bob's key as alice"),
        (&carol_key, "carol", "a removed agent's key"),
    ] {
        let out = run(server.ssh(key, user).arg("-T"), WAIT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{what}: {stderr}");
        assert!(stderr.contains("Permission denied"), "{what}: {stderr}");
        assert!(out.stdout.is_empty(), "{what}");
    }

    // The rightful owners still get in (and are told to use a terminal).
    for (key, user) in [(&alice_key, "alice"), (&bob_key, "bob")] {
        let out = run(server.ssh(key, user).arg("-T"), WAIT);
        assert_eq!(out.status.code(), Some(1), "{user}");
    }

    // Five refused connections and two logins, each one audit event.
    assert!(server.terminate().success());
    assert_eq!(audit_events(&desk), events_before + 7);
}

/// The number of events in the (intact) audit log.
fn audit_events(desk: &TestDesk) -> u64 {
    let out = desk.cli(&["audit", "verify"]);
    // "audit log intact: N events, …"
    out.strip_prefix("audit log intact: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected audit verify output: {out}"))
}

#[test]
fn an_agent_sees_the_queue_and_quits() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "customer@example.com",
        "--subject",
        "Printer is on fire",
        "--body",
        "Please help.",
    ]);
    let server = desk.serve();

    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    let screen = tmux.wait_for("Printer is on fire");
    let status_line = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        status_line.contains("alice"),
        "the status line names the agent: {screen}"
    );
    assert!(screen.contains("#1"), "{screen}");
    assert!(tmux.styled_screen().contains("\x1b[38;"), "drawn in colour");

    tmux.send_keys("q");
    let screen = tmux.wait_for("[exit 0]");
    assert!(
        !screen.contains("Printer is on fire"),
        "the alternate screen was left: {screen}"
    );
}

#[test]
fn shutdown_restores_terminals_and_says_why() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();

    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    tmux.wait_for("No tickets match these filters.");
    let status = server.terminate();
    assert!(status.success(), "the server exits cleanly: {status:?}");
    let screen = tmux.wait_for("[exit ");
    assert!(
        screen.contains("sealdesk: server shutting down"),
        "{screen}"
    );
    assert!(
        !screen.contains("No tickets match these filters."),
        "{screen}"
    );

    // The store was flushed and closed: the CLI opens it, and the login is in the
    // intact audit chain (after `agent add`).
    assert_eq!(audit_events(&desk), 2);
}

#[test]
fn no_color_from_the_client_drops_colours() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();

    let tmux = Tmux::start(
        &desk,
        &interactive_ssh(&server, &key, "alice", &["-o", "SetEnv=NO_COLOR=1"]),
    );
    tmux.wait_for("No tickets match these filters.");
    let styled = tmux.styled_screen();
    assert!(!styled.contains("\x1b[38;"), "{styled:?}");
    assert!(!styled.contains("\x1b[48;"), "{styled:?}");
    assert!(styled.contains("\x1b[1m"), "bold stays: {styled:?}");
    tmux.send_keys("q");
    tmux.wait_for("[exit 0]");
}
