//! The real `sealdesk serve`, started from the `sealdesk` binary beside this one on a
//! benchmark desk, with ports picked by the OS and its log in a file next to the desk.

use anyhow::{bail, Context, Result};
use sealdesk_store::Paths;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

const START_LIMIT: Duration = Duration::from_secs(120);
/// Linux reports CPU times in these (USER_HZ, 100 on every mainstream architecture).
const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// Environment that would point the child at another desk or change its behaviour.
const SEALDESK_ENV: &[&str] = &[
    "SEALDESK_DATA",
    "SEALDESK_KEYS",
    "SEALDESK_PASSPHRASE",
    "SEALDESK_PASSPHRASE_FILE",
    "SEALDESK_CONFIG",
    "SEALDESK_SSH",
    "SEALDESK_SMTP",
    "SEALDESK_THEMES",
    "SEALDESK_LOG",
];

/// The sealdesk binary measured, set once by [`find_sealdesk`].
static SEALDESK: OnceLock<PathBuf> = OnceLock::new();

/// Finds the sealdesk binary to measure: `given` (`--sealdesk` or `SEALDESK_BIN`), else
/// `sealdesk` in the directory of this executable, where `cargo build --workspace` puts
/// both. Every server and CLI command of the benchmark runs it.
pub(crate) fn find_sealdesk(given: Option<PathBuf>) -> Result<PathBuf> {
    let (exe, how) = match given {
        Some(path) => (path, "--sealdesk / SEALDESK_BIN"),
        None => {
            let me = std::env::current_exe()
                .context("cannot find this executable's directory; pass --sealdesk PATH")?;
            let dir = me.parent().unwrap_or(Path::new("."));
            (
                dir.join(format!("sealdesk{}", std::env::consts::EXE_SUFFIX)),
                "beside sealdesk-bench",
            )
        }
    };
    if !exe.is_file() {
        bail!(
            "no sealdesk binary at {} ({how}); build it: cargo build --release --workspace, \
             or pass --sealdesk PATH",
            exe.display()
        );
    }
    let exe = exe
        .canonicalize()
        .with_context(|| format!("cannot resolve {}; pass --sealdesk PATH", exe.display()))?;
    Ok(SEALDESK.get_or_init(|| exe).clone())
}

/// The sealdesk binary measured, with a desk's paths and a clean environment.
pub(crate) fn sealdesk(paths: &Paths) -> Result<Command> {
    let exe = SEALDESK
        .get()
        .context("no sealdesk binary chosen; pass --sealdesk PATH")?;
    let mut cmd = Command::new(exe);
    cmd.arg("--data")
        .arg(&paths.data)
        .arg("--keys")
        .arg(&paths.keys);
    for var in SEALDESK_ENV {
        cmd.env_remove(var);
    }
    Ok(cmd)
}

pub(crate) struct Server {
    child: Child,
    pub ssh: SocketAddr,
    pub smtp: SocketAddr,
    /// When the process was spawned.
    pub spawned: Instant,
    /// When it printed that the SSH server listens.
    pub listening: Instant,
    /// Where its log goes.
    log: std::path::PathBuf,
}

/// Resident memory of a process, from /proc.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Memory {
    pub rss: u64,
    /// The peak so far.
    pub hwm: u64,
}

impl Server {
    /// Starts `sealdesk serve` on loopback ports of the OS's choosing; returns once it
    /// has said where it listens. Its log goes to `log`.
    pub(crate) fn start(paths: &Paths, log: &Path) -> Result<Server> {
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let spawned = Instant::now();
        let mut child = sealdesk(paths)?
            .args(["serve", "--ssh", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
            .current_dir(&paths.data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .context("cannot start sealdesk serve")?;
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Keep reading after the banner so the pipe never fills.
                let _ = tx.send((line, Instant::now()));
            }
        });
        let mut ssh = None;
        let mut smtp = None;
        let mut listening = spawned;
        while ssh.is_none() || smtp.is_none() {
            let left = START_LIMIT.saturating_sub(spawned.elapsed());
            let Ok((line, at)) = lines.recv_timeout(left) else {
                let _ = child.kill();
                bail!(
                    "sealdesk serve did not say where it listens within {START_LIMIT:?}; see {}",
                    log.display()
                );
            };
            if let Some(addr) = line.strip_prefix("sealdesk: SSH server listening on ") {
                ssh = Some(addr.trim().parse().context("SSH address in the banner")?);
                listening = at;
            }
            if let Some(rest) = line.trim().strip_prefix("mail (SMTP/LMTP) on ") {
                let addr = rest.split_whitespace().next().unwrap_or("");
                smtp = Some(addr.parse().context("SMTP address in the banner")?);
            }
        }
        Ok(Server {
            child,
            ssh: ssh.expect("set above"),
            smtp: smtp.expect("set above"),
            spawned,
            listening,
            log: log.to_path_buf(),
        })
    }

    /// Waits until the control socket exists: `sealdesk ingest` and the other CLI
    /// commands reach the server through it, and it opens just after the banner.
    pub(crate) fn wait_for_control_socket(&self, data: &Path) -> Result<()> {
        let socket = sealdesk::control::socket_path(data);
        let deadline = Instant::now() + START_LIMIT;
        while !socket.exists() {
            if Instant::now() > deadline {
                bail!(
                    "the server's control socket {} never appeared",
                    socket.display()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// CPU time the server used so far, user and system, all threads.
    pub(crate) fn cpu_time(&self) -> Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .context("cannot read the server's /proc stat")?;
        // Fields after the command name (which is in parentheses and may hold spaces):
        // state is field 3, utime 14, stime 15, in clock ticks.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<u64> = after
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
        Ok(Duration::from_millis(ticks * 1000 / CLOCK_TICKS_PER_SECOND))
    }

    /// Polls the log until a line contains `needle`; when it was seen.
    pub(crate) fn wait_for_log(&self, needle: &str, limit: Duration) -> Result<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if text.contains(needle) {
                return Ok(Instant::now());
            }
            if Instant::now() > deadline {
                bail!("the server log never said {needle:?} within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server uses (almost) no CPU for a moment: nothing queued.
    pub(crate) async fn wait_idle(&self) -> Result<()> {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let before = self.cpu_time()?;
            tokio::time::sleep(Duration::from_millis(150)).await;
            if self.cpu_time()?.saturating_sub(before) <= Duration::from_millis(10) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the server stayed busy for {START_LIMIT:?}");
            }
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's memory once it has settled: idle, and past the moment it hands freed
    /// memory back to the system (half a second after the work that freed it, see
    /// `sealdesk::memory::give_back_soon`), as it stands between an agent's actions.
    pub(crate) async fn settled_memory(&self) -> Result<Memory> {
        self.wait_idle().await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.memory()
    }

    pub(crate) fn memory(&self) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("cannot read the server's /proc status")?;
        let field = |name: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc status"))?;
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("unreadable {name}"))?;
            Ok(kib * 1024)
        };
        Ok(Memory {
            rss: field("VmRSS:")?,
            hwm: field("VmHWM:")?,
        })
    }

    /// Stops the server as an admin would (SIGTERM) and waits for it to exit.
    pub(crate) fn stop(mut self) -> Result<()> {
        let pid = self.pid().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!("sealdesk serve did not stop within a minute of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
