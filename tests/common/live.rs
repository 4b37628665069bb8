//! Helpers for end-to-end tests against a running `sealdesk serve`: the real binary,
//! the real OpenSSH client, and tmux as the agent's terminal.
#![allow(dead_code)]
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_sealdesk");
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A desk in a temporary directory, driven through the CLI.
pub(crate) struct TestDesk {
    pub dir: tempfile::TempDir,
}

impl TestDesk {
    pub(crate) fn new() -> TestDesk {
        let desk = TestDesk {
            dir: tempfile::tempdir().unwrap(),
        };
        desk.cli(&["init"]);
        desk
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn command(&self) -> Command {
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

    pub(crate) fn try_cli(&self, args: &[&str]) -> Output {
        run(self.command().args(args), WAIT)
    }

    /// Runs a CLI command with `stdin` as its input (e.g. `ingest` and a message).
    pub(crate) fn cli_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sealdesk");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin)
            .expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let out = self.try_cli(args);
        assert!(
            out.status.success(),
            "sealdesk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new ed25519 key pair; returns the private key's path.
    pub(crate) fn keygen(&self, name: &str) -> PathBuf {
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

    pub(crate) fn add_agent(&self, name: &str, key: &Path) {
        let public = key.with_extension("pub");
        self.cli(&["agent", "add", name, "--key-file", public.to_str().unwrap()]);
    }

    /// `ticket create` from `from` with `subject` and `body`, through the CLI (and so
    /// through a running server's control socket when one runs).
    pub(crate) fn create_ticket(&self, from: &str, subject: &str, body: &str) {
        self.cli(&[
            "ticket",
            "create",
            "--from",
            from,
            "--subject",
            subject,
            "--body",
            body,
        ]);
    }

    /// Registers an agent with the admin role.
    pub(crate) fn add_admin(&self, name: &str, key: &Path) {
        let public = key.with_extension("pub");
        let public = public.to_str().unwrap();
        self.cli(&[
            "agent",
            "add",
            name,
            "--role",
            "admin",
            "--key-file",
            public,
        ]);
    }

    /// Every audit event, as `audit export --json` gives them.
    pub(crate) fn audit(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.cli(&["audit", "export", "--json"])).unwrap()
    }

    pub(crate) fn serve(&self) -> Server {
        self.serve_with_env(&[])
    }

    /// Like [`TestDesk::serve`], with more environment for the server (e.g.
    /// `SEALDESK_TEST_CLOCK`).
    pub(crate) fn serve_with_env(&self, env: &[(&str, &Path)]) -> Server {
        let mut command = self.command();
        for (name, value) in env {
            command.env(name, value);
        }
        self.start_server(command)
    }

    /// Like [`TestDesk::serve`], with `cwd` as the server's working directory (the
    /// CLI run elsewhere must not depend on it).
    pub(crate) fn serve_in(&self, cwd: &Path) -> Server {
        let mut command = self.command();
        command.current_dir(cwd);
        self.start_server(command)
    }

    fn start_server(&self, mut command: Command) -> Server {
        let mut child = command
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
            banner: String::new(),
            smtp_port: 0,
            lines,
        };
        let deadline = Instant::now() + WAIT;
        while server.port == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = server
                .lines
                .recv_timeout(left)
                .expect("the server never said where it listens");
            server.banner.push_str(&line);
            server.banner.push('\n');
            if let Some(addr) = line.strip_prefix("sealdesk: SSH server listening on ") {
                server.port = addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        }
        // The rest of the banner (fingerprint, ssh lines, mail) follows at once.
        while let Ok(line) = server.lines.recv_timeout(Duration::from_millis(300)) {
            if let Some(rest) = line.trim().strip_prefix("mail (SMTP/LMTP) on ") {
                let addr = rest.split_whitespace().next().unwrap_or("");
                server.smtp_port = addr.rsplit(':').next().unwrap_or("0").parse().unwrap_or(0);
            }
            server.banner.push_str(&line);
            server.banner.push('\n');
        }
        server
    }
}

/// A new desk that takes mail for `support@desk.example` and answers as
/// `Support <support@desk.example>`, through the relay on `relay_port` if given.
pub(crate) fn configured_desk(relay_port: Option<u16>) -> TestDesk {
    let desk = TestDesk::new();
    desk.cli(&["config", "set", "mail.ingest", "support@desk.example"]);
    desk.cli(&[
        "config",
        "set",
        "mail.from",
        "Support <support@desk.example>",
    ]);
    if let Some(p) = relay_port {
        desk.cli(&[
            "config",
            "set",
            "mail.relay",
            &format!("smtp://127.0.0.1:{p}"),
        ]);
    }
    desk
}

/// A running `sealdesk serve`, killed when dropped.
pub(crate) struct Server {
    pub child: Child,
    pub port: u16,
    pub banner: String,
    /// Where the SMTP/LMTP listener accepts mail.
    pub smtp_port: u16,
    /// What it printed (its log) after the banner.
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// The log lines printed since the last call, to explain a failure.
    pub(crate) fn log(&self) -> String {
        self.lines.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// The `ssh` command line for `user` with `key` and nothing else: no agent, no
    /// config, no known hosts. Without `batch` it may ask for a code.
    pub(crate) fn ssh_words(&self, key: &Path, user: &str, batch: bool) -> Vec<String> {
        need("ssh");
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

    /// `ssh` that never prompts (BatchMode): the key is all it can offer.
    pub(crate) fn ssh(&self, key: &Path, user: &str) -> Command {
        let words = self.ssh_words(key, user, true);
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]).stdin(Stdio::null());
        cmd
    }

    /// Asks the server to stop as the CLI's signal handling would, and waits for it.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        signal_and_wait(&mut self.child, "-TERM", "the server did not stop")
    }
}

/// Sends `signal` (`-TERM`, `-INT`) to `child` with kill(1) and waits for it to exit;
/// `stuck` is the failure when it has not within the wait.
pub(crate) fn signal_and_wait(
    child: &mut std::process::Child,
    signal: &str,
    stuck: &str,
) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "{stuck}");
        thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Debian package of each outside program the tests drive.
const PACKAGES: [(&str, &str); 13] = [
    ("tmux", "tmux"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("sftp", "openssh-client"),
    ("scp", "openssh-client"),
    ("kill", "procps"),
    ("pgrep", "procps"),
    ("python3", "python3"),
    ("openssl", "openssl"),
    ("dovecot", "dovecot-imapd"),
    ("doveadm", "dovecot-imapd"),
    ("postfix", "postfix"),
    ("postmap", "postfix"),
];

/// Stops the test with one line naming the package to install when `program` (a
/// name looked up in PATH, or a path) is missing, instead of a backtrace about
/// "No such file or directory".
pub(crate) fn need(program: &str) {
    let found = if program.contains('/') {
        Path::new(program).is_file()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
    };
    if !found {
        let name = program.rsplit('/').next().unwrap_or(program);
        let package = PACKAGES
            .iter()
            .find(|(p, _)| *p == name)
            .map_or(name, |(_, package)| package);
        panic!(
            "{name} is not installed: run scripts/test (it installs what the tests need), or `sudo apt-get install -y {package}`"
        );
    }
}

/// Runs a command to completion within `limit`, killing it if it hangs.
pub(crate) fn run(cmd: &mut Command, limit: Duration) -> Output {
    need(&cmd.get_program().to_string_lossy());
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
pub(crate) struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Runs `command` in a 100×30 window; the shell keeps the window open afterwards
    /// and prints the exit status.
    pub(crate) fn start(desk: &TestDesk, command: &str) -> Tmux {
        Tmux::start_named(desk, "tmux", command)
    }

    /// Like [`Tmux::start`], on its own socket, for a second terminal.
    pub(crate) fn start_named(desk: &TestDesk, name: &str, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: desk.path(&format!("{name}.sock")),
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

    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).env_remove("TMUX");
        cmd
    }

    pub(crate) fn screen(&self) -> String {
        let out = run(self.command().args(["capture-pane", "-p", "-t", "t"]), WAIT);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its colours and attributes as escape sequences.
    pub(crate) fn styled_screen(&self) -> String {
        let out = run(
            self.command().args(["capture-pane", "-p", "-e", "-t", "t"]),
            WAIT,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until it shows `text`.
    pub(crate) fn wait_for(&self, text: &str) -> String {
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

    pub(crate) fn send_keys(&self, keys: &str) {
        run(self.command().args(["send-keys", "-t", "t", keys]), WAIT);
    }

    /// Types text literally (no key-name interpretation).
    pub(crate) fn type_text(&self, text: &str) {
        run(
            self.command().args(["send-keys", "-t", "t", "-l", text]),
            WAIT,
        );
    }

    /// Types `text`, then Enter.
    pub(crate) fn type_line(&self, text: &str) {
        self.type_text(text);
        self.send_keys("Enter");
    }

    /// Resizes the terminal, as a user dragging the window would.
    pub(crate) fn resize(&self, cols: u16, rows: u16) {
        let (x, y) = (cols.to_string(), rows.to_string());
        run(
            self.command()
                .args(["resize-window", "-t", "t", "-x", &x, "-y", &y]),
            WAIT,
        );
    }

    /// Polls until `pred` holds for the screen; returns it and how long it took.
    pub(crate) fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> (String, Duration) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return (screen, start.elapsed());
            }
            assert!(
                start.elapsed() < limit,
                "the screen never showed {what} within {limit:?}; it shows:\n{screen}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = run(self.command().arg("kill-server"), WAIT);
    }
}

pub(crate) fn interactive_ssh(server: &Server, key: &Path, user: &str, extra: &[&str]) -> String {
    let cmd = server.ssh(key, user);
    let mut words: Vec<String> = vec![
        cmd.get_program().to_string_lossy().into_owned(),
        "-t".into(),
    ];
    words.extend(extra.iter().map(|s| s.to_string()));
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}
