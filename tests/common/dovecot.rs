//! Part 11 (imap): a private Dovecot on loopback for the IMAP tests and the bench: its
//! own config, base and state dirs in a temp dir, a passwd-file with one user, Maildir
//! mail, high ports, plain login over loopback and (optionally) implicit TLS with the
//! a throwaway certificate made for each instance. Never the system instance. The bench
//! (`sealdesk-bench imap`) includes this file too.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const USER: &str = "desk";
pub(crate) const PASSWORD: &str = "imap-test-password";

/// Makes a throwaway self-signed certificate (CN and SAN localhost / 127.0.0.1, not a
/// CA, valid two days) and its key in `root` with the openssl CLI, so that no private key
/// is kept in the repository. openssl comes with Dovecot's `ssl-cert` (`.ci/run` also
/// installs it by name).
fn make_certificate(root: &Path) {
    require("/usr/bin/openssl");
    let out = Command::new("/usr/bin/openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
        ])
        .arg(root.join("key.pem"))
        .arg("-out")
        .arg(root.join("cert.pem"))
        .stdin(Stdio::null())
        .output()
        .expect("cannot run openssl");
    assert!(
        out.status.success(),
        "openssl could not make the test certificate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running private Dovecot; stopped when dropped.
pub(crate) struct Dovecot {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    /// Plain IMAP (LOGIN allowed: loopback only).
    pub port: u16,
    /// Implicit TLS.
    pub tls_port: u16,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn require(path: &str) {
    let package = if path.ends_with("openssl") {
        "openssl"
    } else {
        "dovecot-imapd"
    };
    assert!(
        Path::new(path).exists(),
        "{path} is missing: run scripts/test (it installs what the tests need), or `sudo apt-get install -y {package}`"
    );
}

impl Dovecot {
    pub(crate) fn start() -> Dovecot {
        require("/usr/sbin/dovecot");
        require("/usr/bin/doveadm");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // The mail user is this process's user, unless that is root (Dovecot refuses
        // mail access as uid 0): then `nobody`, for whom the temp dir must be passable.
        let (uid, gid) = match rustix::process::getuid().as_raw() {
            0 => (65534, 65534),
            uid => (uid, rustix::process::getgid().as_raw()),
        };
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mail = root.join("mail");
        std::fs::create_dir(&mail).unwrap();
        std::os::unix::fs::chown(&mail, Some(uid), Some(gid)).unwrap();
        std::fs::write(
            root.join("passwd"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{}::\n",
                mail.display()
            ),
        )
        .unwrap();
        make_certificate(root);
        let (port, tls_port) = (free_port(), free_port());
        let r = root.display();
        let conf = root.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "instance_name = sealdesk-test-{port}
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{r}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/dovecot")
            .arg("-c")
            .arg(&conf)
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dovecot");
        let dovecot = Dovecot {
            dir,
            conf,
            port,
            tls_port,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen on {port}: {}",
                dovecot.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        dovecot
    }

    /// The server's certificate, for `ca_file`.
    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// A file holding the test user's password.
    pub(crate) fn password_file(&self) -> PathBuf {
        let p = self.dir.path().join("password");
        std::fs::write(&p, format!("{PASSWORD}\n")).unwrap();
        p
    }

    pub(crate) fn doveadm(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut child = Command::new("/usr/bin/doveadm")
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run doveadm");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "doveadm {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        out
    }

    /// Delivers one message into `folder` as the server's own delivery would
    /// (`doveadm save`): IDLE clients are told at once.
    pub(crate) fn append(&self, folder: &str, raw: &[u8]) {
        save(&self.conf, folder, raw);
    }

    pub(crate) fn create_folder(&self, folder: &str) {
        self.doveadm(&["mailbox", "create", "-u", USER, folder], None);
    }

    /// The UIDs in `folder` matching a doveadm search query (e.g. `UNSEEN`, `ALL`).
    pub(crate) fn uids(&self, folder: &str, query: &str) -> Vec<u32> {
        let mut args = vec!["search", "-u", USER, "mailbox", folder];
        args.extend(query.split_whitespace());
        let out = self.doveadm(&args, None);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
            .collect()
    }
}

/// [`Dovecot::append`] for a thread that holds only the config path.
pub(crate) fn save(conf: &Path, folder: &str, raw: &[u8]) {
    use std::io::Write;
    let mut child = Command::new("/usr/bin/doveadm")
        .arg("-c")
        .arg(conf)
        .args(["save", "-u", USER, "-m", folder])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run doveadm save");
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "doveadm save: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
