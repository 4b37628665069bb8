//! The second factor end to end: `agent set --totp` through the CLI, then the real
//! binary's SSH server, the real OpenSSH client asking for the code in tmux, and codes
//! computed here from the printed secret.

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
            .arg(self.path("keys"))
            // Only the shipped themes, unless a test puts files here.
            .env("SEALDESK_THEMES", self.path("themes"));
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

    fn try_cli(&self, args: &[&str]) -> Output {
        run(self.command().args(args), WAIT)
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let out = self.try_cli(args);
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

    /// Enrols `name` in the second factor; returns the secret from the printed URI.
    fn enrol(&self, name: &str) -> (totp_rs::Totp, String) {
        let out = self.cli(&["agent", "set", name, "--totp"]);
        let uri = out
            .lines()
            .find(|l| l.starts_with("otpauth://"))
            .unwrap_or_else(|| panic!("no otpauth URI in:\n{out}"));
        let prefix = format!("otpauth://totp/sealdesk:{name}?secret=");
        let secret = uri
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix("&issuer=sealdesk"))
            .unwrap_or_else(|| panic!("unexpected URI {uri}"));
        let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
        assert_eq!(secret.as_bytes().len(), 20, "160 bits");
        let totp = totp_rs::Builder::new()
            .with_secret(secret.as_bytes())
            .build()
            .unwrap();
        (totp, out)
    }

    fn serve(&self) -> Server {
        let mut child = self
            .command()
            .args(["serve", "--ssh", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
            .env("SEALDESK_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sealdesk serve");
        // Its welcome on stdout, its log on stderr: both read as they come, so the
        // server never blocks on a full pipe, and kept to explain a failure.
        let (lines_tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = BufReader::new(child.stderr.take().unwrap());
        for output in [
            Box::new(stdout) as Box<dyn BufRead + Send>,
            Box::new(stderr),
        ] {
            let lines_tx = lines_tx.clone();
            thread::spawn(move || {
                for line in output.lines().map_while(Result::ok) {
                    if lines_tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut server = Server {
            child,
            port: 0,
            lines,
        };
        let deadline = Instant::now() + WAIT;
        while server.port == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = server
                .lines
                .recv_timeout(left)
                .expect("the server never said where it listens");
            if let Some(addr) = line.strip_prefix("sealdesk: SSH server listening on ") {
                server.port = addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        }
        server
    }

    /// Every audit event, as `audit export --json` gives them.
    fn audit(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.cli(&["audit", "export", "--json"])).unwrap()
    }
}

/// A running `sealdesk serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    /// What it printed (its log) since it said where it listens.
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// The log lines printed since the last call, to explain a failure.
    fn log(&self) -> String {
        self.lines.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// The `ssh` command line for `user` with `key` and nothing else: no agent, no
    /// config, no known hosts. Without `batch` it may ask for a code.
    fn ssh_words(&self, key: &Path, user: &str, batch: bool) -> Vec<String> {
        let mut words: Vec<String> = ["ssh", "-F", "/dev/null", "-p"].map(String::from).to_vec();
        words.push(self.port.to_string());
        words.push("-i".into());
        words.push(key.to_string_lossy().into_owned());
        for option in [
            "IdentitiesOnly=yes",
            "IdentityAgent=none",
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "PreferredAuthentications=publickey,keyboard-interactive",
            "LogLevel=ERROR",
            "ConnectTimeout=10",
        ] {
            words.push("-o".into());
            words.push(option.into());
        }
        if batch {
            words.extend(["-o".into(), "BatchMode=yes".into()]);
        }
        words.push(format!("{user}@127.0.0.1"));
        words
    }

    fn ssh_batch(&self, key: &Path, user: &str) -> Command {
        let words = self.ssh_words(key, user, true);
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]).stdin(Stdio::null());
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

    /// Polls the screen until `done` says it shows what is awaited.
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}; it shows:\n{screen}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Types `text` literally.
    fn type_keys(&self, text: &str) {
        run(
            self.command().args(["send-keys", "-t", "t", "-l", text]),
            WAIT,
        );
    }

    /// Types `text`, then Enter.
    fn type_line(&self, text: &str) {
        self.type_keys(text);
        run(self.command().args(["send-keys", "-t", "t", "Enter"]), WAIT);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = run(self.command().arg("kill-server"), WAIT);
    }
}

const PROMPT: &str = "Verification code:";

/// A six-digit code that is none of the ones the server would take now.
fn wrong_code(totp: &totp_rs::Totp) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let near: Vec<String> = [now - 60, now - 30, now, now + 30, now + 60]
        .iter()
        .map(|&t| totp.generate(t).to_string())
        .collect();
    (0..)
        .map(|n| format!("{:06}", (123_456 + n) % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap()
}

fn refusals(events: &[serde_json::Value], reason: &str) -> usize {
    events
        .iter()
        .filter(|e| {
            e["action"] == "agent.login-refused"
                && e["targets"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == &format!("reason={reason}")))
        })
        .count()
}

#[test]
fn the_key_and_then_a_code_log_in() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let (totp, printed) = desk.enrol("alice");
    assert!(
        printed.contains("only time the secret is shown"),
        "{printed}"
    );
    assert!(printed.contains('█'), "a QR code is drawn: {printed}");
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(list[0]["second_factor"], true);

    let server = desk.serve();
    let tmux = Tmux::start(&desk, &server.ssh_words(&key, "alice", false).join(" "));
    tmux.wait_for(PROMPT);

    // A wrong code: refused, and asked again.
    tmux.type_line(&wrong_code(&totp));
    tmux.wait_until("a second prompt", |s| s.matches(PROMPT).count() >= 2);
    assert!(!tmux.screen().contains("Queue"));

    tmux.type_line(&totp.generate_current().to_string());
    let screen = tmux.wait_for("Queue");
    assert!(screen.contains("alice"), "{screen}");
    tmux.type_keys("q");
    tmux.wait_for("[exit 0]");

    assert!(server.terminate().success());
    let events = desk.audit();
    assert_eq!(refusals(&events, "wrong code"), 1, "{events:#?}");
    let login = events
        .iter()
        .find(|e| e["action"] == "agent.login")
        .expect("the login is audited");
    assert_eq!(login["actor"], "alice");
    assert_eq!(login["targets"][0], "second-factor=totp");
    let secret = totp.secret().to_base32();
    assert!(
        !serde_json::to_string(&events).unwrap().contains(&secret),
        "the secret reached the audit log"
    );
}

#[test]
fn the_key_alone_is_refused_until_the_second_factor_is_removed() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.enrol("alice");
    let server = desk.serve();

    // BatchMode: no keyboard-interactive, so the key is all the client can give.
    let out = run(server.ssh_batch(&key, "alice").arg("-T"), WAIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(255),
        "{stderr}\nserver log:\n{}",
        server.log()
    );
    assert!(
        stderr.contains("Permission denied"),
        "{stderr}\nserver log:\n{}",
        server.log()
    );
    assert!(out.stdout.is_empty());

    // Changed while the server runs (the CLI hands the command to it): the key alone
    // logs in from the next connection.
    let removed = desk.cli(&["agent", "set", "alice", "--no-totp"]);
    assert!(removed.contains("second factor removed"), "{removed}");
    let out = run(server.ssh_batch(&key, "alice").arg("-T"), WAIT);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("this is an interactive desk"));

    assert!(server.terminate().success());
    let events = desk.audit();
    assert_eq!(refusals(&events, "no code given"), 1, "{events:#?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "agent.login")
            .count(),
        1
    );
}

#[test]
fn themes_are_checked_against_the_available_ones() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);

    let out = desk.cli(&[
        "agent", "set", "alice", "--theme", "light", "--role", "admin",
    ]);
    assert!(out.contains("theme light"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(list[0]["theme"], "light");
    assert_eq!(list[0]["role"], "admin");
    assert_eq!(list[0]["second_factor"], false);

    let out = desk.try_cli(&["agent", "set", "alice", "--theme", "nope"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no theme named \"nope\""), "{stderr}");
    assert!(
        stderr.contains("dark, high-contrast, light, mono"),
        "{stderr}"
    );

    // A custom theme in the themes dir counts; a broken one is refused with the reason.
    let themes = desk.path("themes");
    std::fs::create_dir_all(&themes).unwrap();
    let light = include_str!("../themes/light.toml");
    std::fs::write(themes.join("ocean.toml"), light).unwrap();
    std::fs::write(themes.join("broken.toml"), "name = 'broken'\n").unwrap();
    desk.cli(&["agent", "set", "alice", "--theme", "ocean"]);
    let out = desk.try_cli(&["agent", "set", "alice", "--theme", "broken"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not load"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(list[0]["theme"], "ocean");

    // Nothing to change is a usage error, as is asking for both.
    assert!(!desk.try_cli(&["agent", "set", "alice"]).status.success());
    assert!(!desk
        .try_cli(&["agent", "set", "alice", "--totp", "--no-totp"])
        .status
        .success());
}
