//! A private Postfix instance on loopback for tests: its own config, queue and data
//! directories in a temp dir, a high smtpd port, no DNS, its log in a file; stopped when
//! dropped. And `contrib/postfix.md` read as the test applies it: its fenced blocks by
//! info string, with the doc's placeholders swapped for the test's paths and ports.
#![allow(dead_code)]
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const POSTFIX: &str = "/usr/sbin/postfix";

/// Fails (never skips) when what the test needs is missing: CI installs it.
pub(crate) fn require_postfix() {
    assert!(
        Path::new(POSTFIX).exists(),
        "{POSTFIX} is missing: these tests run a real Postfix; apt-get install postfix (.ci/run does)"
    );
    for (db, name) in [("passwd", "postfix"), ("group", "postdrop")] {
        let found = Command::new("getent").args([db, name]).output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "no {name} in {db}: the Debian postfix package creates it; apt-get install postfix"
        );
    }
    assert_eq!(
        id(&["-u"]),
        0,
        "a private Postfix instance needs root (as in CI): run these tests as root"
    );
}

/// `id ARGS` as a number, e.g. `id(&["-u", "nobody"])`.
pub(crate) fn id(args: &[&str]) -> u32 {
    let out = Command::new("id").args(args).output().expect("run id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("id {args:?} printed no number"))
}

/// A port nobody listens on right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `contrib/postfix.md`, as shipped.
pub(crate) fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/postfix.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of the one fenced block whose info string is exactly `info`.
pub(crate) fn block(doc: &str, info: &str) -> String {
    let mut found = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if line.strip_prefix("```").map(str::trim) == Some(info) {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            found.push(body.join("\n") + "\n");
        }
    }
    assert_eq!(
        found.len(),
        1,
        "contrib/postfix.md must have exactly one ```{info} block"
    );
    found.remove(0)
}

/// Replaces `from` with `to` in `text`, which must contain it: a placeholder the test
/// relies on that left the doc fails the test instead of going unnoticed.
pub(crate) fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "contrib/postfix.md no longer says {from:?} here:\n{text}"
    );
    text.replace(from, to)
}

/// The `sealdesk config set KEY VALUE` lines of a block, as (key, value).
pub(crate) fn config_lines(block: &str) -> Vec<(String, String)> {
    block
        .lines()
        .filter_map(|l| l.trim().strip_prefix("sealdesk config set "))
        .map(|rest| {
            let (key, value) = rest.split_once(' ').expect("config set KEY VALUE");
            let value = value.split(" #").next().unwrap().trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// Every service a Postfix 3.x instance needs, none chrooted (the private queue dir has
/// no copy of /etc), smtpd on loopback at `port`, and `postlog` for `maillog_file`.
const MASTER_CF: &str = "\
127.0.0.1:PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
";

/// A Postfix instance of its own; `postfix stop` when dropped.
pub(crate) struct Postfix {
    dir: tempfile::TempDir,
    pub conf: PathBuf,
    /// Where its smtpd listens, on 127.0.0.1.
    pub port: u16,
    started: bool,
}

impl Postfix {
    /// The instance's scaffolding: what a Debian "Internet Site" install provides, made
    /// private (paths, port, no DNS, no local delivery, a log file). The doc's lines
    /// follow with [`Postfix::append`].
    pub(crate) fn new(port: u16) -> Postfix {
        require_postfix();
        let dir = tempfile::tempdir().unwrap();
        // Postfix's daemons run as `postfix` and open paths below this dir.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let conf = dir.path().join("conf");
        let base = dir.path().display().to_string();
        fs::create_dir(&conf).unwrap();
        fs::create_dir(dir.path().join("queue")).unwrap();
        fs::create_dir(dir.path().join("data")).unwrap();
        let own = Command::new("chown")
            .arg("postfix")
            .arg(dir.path().join("data"))
            .status()
            .unwrap();
        assert!(own.success(), "chown postfix data dir");
        let scaffolding = format!(
            "# The test's private instance\n\
             compatibility_level = 3.6\n\
             queue_directory = {base}/queue\n\
             data_directory = {base}/data\n\
             maillog_file_prefixes = {base}\n\
             maillog_file = {base}/maillog\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = mail.example.com\n\
             mydestination =\n\
             alias_maps =\n\
             alias_database =\n\
             smtp_dns_support_level = disabled\n\
             smtpd_peername_lookup = no\n\
             biff = no\n\
             # As Debian's \"Internet Site\" writes it; the doc replaces it.\n\
             mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n"
        );
        fs::write(conf.join("main.cf"), scaffolding).unwrap();
        fs::write(
            conf.join("master.cf"),
            MASTER_CF.replace("PORT", &port.to_string()),
        )
        .unwrap();
        Postfix {
            dir,
            conf,
            port,
            started: false,
        }
    }

    /// Applies each `NAME = VALUE` line of `lines` (comments and blank lines skipped)
    /// with `postconf -e`, as the doc says to.
    pub(crate) fn set_main_cf(&self, lines: &str) {
        for line in lines.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let out = self
                .command("postconf")
                .args(["-e", line])
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "postconf -e {line:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Adds lines at the end of `main.cf` or `master.cf`.
    pub(crate) fn append(&self, file: &str, lines: &str) {
        let path = self.conf.join(file);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text + lines).unwrap();
    }

    /// The doc's text with `/etc/postfix/` pointing at this instance's config dir.
    pub(crate) fn local(&self, doc_lines: &str) -> String {
        swap(
            doc_lines,
            "/etc/postfix/",
            &format!("{}/", self.conf.display()),
        )
    }

    /// Writes a file (a lookup table) into the config dir.
    pub(crate) fn write(&self, name: &str, text: &str) {
        fs::write(self.conf.join(name), text).unwrap();
    }

    /// Runs the doc's `postmap FILE…` line (from `commands`) against this instance.
    pub(crate) fn postmap_as_documented(&self, commands: &str) {
        let line = commands
            .lines()
            .find_map(|l| l.trim().strip_prefix("postmap "))
            .expect("contrib/postfix.md has a postmap line");
        let line = self.local(line);
        let out = self
            .command("postmap")
            .args(line.split_whitespace())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postmap {line}: {}{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// A Postfix command against this instance (`-c` its config dir).
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        // sendmail takes the config dir as -C; the others as -c.
        cmd.arg(if program == "sendmail" { "-C" } else { "-c" })
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// `postfix -c DIR check` must pass and warn about nothing, and `postconf -n` find
    /// each setting once.
    pub(crate) fn check(&self) {
        let out = self.command("postconf").arg("-n").output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "postconf -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = self.postfix("check");
        let log = self.log();
        assert!(out.status.success(), "postfix check failed:\n{log}");
        assert!(
            !log.contains("warning:") && !log.contains("fatal:"),
            "postfix check complained:\n{log}"
        );
    }

    pub(crate) fn start(&mut self) {
        let out = self.postfix("start");
        assert!(
            out.status.success(),
            "postfix start failed:\n{}",
            self.log()
        );
        self.started = true;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "postfix never listened on {}:\n{}",
                self.port,
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn postfix(&self, what: &str) -> Output {
        self.command("postfix").arg(what).output().unwrap()
    }

    /// What `maillog_file` holds so far.
    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// `postqueue -p`.
    pub(crate) fn queue(&self) -> String {
        let out = self.command("postqueue").arg("-p").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the log until it has a line with every one of `words`.
    pub(crate) fn wait_for_log(&self, words: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| words.iter().all(|w| l.contains(w))) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "the mail log never showed {words:?}:\n{log}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if !self.started {
            return;
        }
        let _ = self.postfix("stop");
        // `postfix status` fails once master let go of its lock (its children go with
        // it); the pid file stays behind, and a zombie master would still answer kill -0.
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.postfix("status").status.success() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        if thread::panicking() {
            eprintln!("--- the Postfix mail log ---\n{}", self.log());
        }
    }
}

/// An SMTP client outside `mynetworks`: Python's smtplib from 127.0.0.2 (all of
/// 127.0.0.0/8 is loopback on Linux). Returns each RCPT's code and, if one was accepted,
/// DATA's.
pub(crate) struct Outcome {
    pub rcpt: Vec<(String, u16, String)>,
    pub data: Option<u16>,
}

pub(crate) fn send_from_outside(port: u16, from: &str, to: &[&str], raw: &str) -> Outcome {
    let script = r#"
import json, smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), source_address=('127.0.0.2', 0), timeout=20)
s.ehlo('client.customer.example')
code, msg = s.mail(sys.argv[2])
assert code == 250, (code, msg)
out = {'rcpt': [], 'data': None}
for r in sys.argv[3].split(','):
    code, msg = s.rcpt(r)
    out['rcpt'].append([r, code, msg.decode()])
if any(c == 250 for _, c, _ in out['rcpt']):
    out['data'] = s.data(sys.stdin.buffer.read())[0]
s.quit()
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, &port.to_string(), from, &to.join(",")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests: apt-get install python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the SMTP client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Outcome {
        rcpt: v["rcpt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_string(),
                    r[1].as_u64().unwrap() as u16,
                    r[2].as_str().unwrap().to_string(),
                )
            })
            .collect(),
        data: v["data"].as_u64().map(|c| c as u16),
    }
}
