//! The Debian package for real: `cargo deb` packs the binary these tests built (no second
//! build), `dpkg -i` installs it, the `sealdesk` user and its dirs are checked, `init`
//! and `doctor` run as that user with nothing but the package's defaults, a keys dir
//! others can read is flagged, and `dpkg --purge` takes the package away again. Needs
//! root, dpkg and cargo-deb (CI has them: `.ci/run` installs cargo-deb); fails, never
//! skips, without them. Everything it installs it removes, even when it fails.

mod common;

use common::live::BIN;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DATA: &str = "/var/lib/sealdesk";
const KEYS: &str = "/etc/sealdesk";

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn require_tools() {
    assert!(
        rustix::process::geteuid().is_root(),
        "installing a .deb needs root (as in CI): run this test as root"
    );
    let deb = Command::new(cargo()).args(["deb", "--version"]).output();
    assert!(
        deb.is_ok_and(|o| o.status.success()),
        "cargo-deb is missing: cargo install cargo-deb --locked --version 3.8.0 (.ci/run does)"
    );
    assert!(
        Path::new("/usr/bin/dpkg").exists(),
        "dpkg is missing: this test needs a Debian machine"
    );
    let installed = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "sealdesk"]));
    assert!(
        !String::from_utf8_lossy(&installed.stdout).contains("installed"),
        "a sealdesk package is installed on this machine: this test installs and purges its own; remove it first"
    );
    for dir in [DATA, KEYS] {
        assert!(
            !Path::new(dir).exists(),
            "{dir} exists: this test would use the same dirs as a real desk; move it away first"
        );
    }
}

/// Takes everything away again, whatever the test got to.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "sealdesk"]).output();
        for dir in [DATA, KEYS] {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = Command::new("userdel").arg("sealdesk").output();
        let _ = Command::new("groupdel").arg("sealdesk").output();
    }
}

/// `cargo deb --no-build` over a copy of the test binary, in a target dir of its own.
fn build_package(dir: &Path) -> PathBuf {
    let release = dir.join("release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(BIN, release.join("sealdesk")).unwrap();
    let deb = dir.join("sealdesk.deb");
    let out = run(Command::new(cargo())
        .args(["deb", "--no-build", "--output"])
        .arg(&deb)
        .env("CARGO_TARGET_DIR", dir)
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert!(out.status.success(), "cargo deb failed: {}", text(&out));
    deb
}

/// `runuser -u sealdesk -- sealdesk ARGS` from `/`, with no SEALDESK_* of ours: the
/// package's /etc/default/sealdesk must be enough.
fn as_service_user(args: &[&str]) -> Output {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "sealdesk", "--", "/usr/bin/sealdesk"])
        .args(args)
        .current_dir("/");
    for (var, _) in std::env::vars() {
        if var.starts_with("SEALDESK_") {
            cmd.env_remove(var);
        }
    }
    run(&mut cmd)
}

fn doctor_line(out: &str, check: &str) -> String {
    let found: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.get(6..)
                .is_some_and(|r| r.starts_with(&format!("{check}: ")))
        })
        .collect();
    assert!(!found.is_empty(), "no {check:?} line in:\n{out}");
    found[0].to_string()
}

#[test]
fn the_package_installs_a_service_user_and_doctor_checks_its_desk() {
    require_tools();
    let _cleanup = Cleanup;
    let work = tempfile::tempdir().unwrap();
    let deb = build_package(work.path());

    let install = run(Command::new("dpkg").arg("-i").arg(&deb));
    assert!(
        install.status.success(),
        "dpkg -i failed: {}",
        text(&install)
    );
    assert!(
        text(&install).contains("sudo -u sealdesk sealdesk init"),
        "postinst names the next step: {}",
        text(&install)
    );

    // The user: a system account without a login shell, at home in the data dir.
    let passwd = run(Command::new("getent").args(["passwd", "sealdesk"]));
    let entry = String::from_utf8_lossy(&passwd.stdout).trim().to_string();
    let fields: Vec<&str> = entry.split(':').collect();
    assert_eq!(fields.len(), 7, "{entry}");
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "a system user: {entry}");
    assert_eq!(fields[5], DATA, "{entry}");
    assert!(fields[6].ends_with("nologin"), "{entry}");

    // Data and keys apart, each 0700 and the service user's.
    for dir in [DATA, KEYS] {
        let meta = std::fs::metadata(dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert!(meta.is_dir(), "{dir}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{dir}");
        assert_eq!(meta.uid(), uid, "{dir} belongs to sealdesk");
    }
    let unit = std::fs::read_to_string("/lib/systemd/system/sealdesk.service").unwrap();
    for line in [
        "User=sealdesk",
        "ExecStart=/usr/bin/sealdesk serve",
        "Environment=SEALDESK_DATA=/var/lib/sealdesk",
        "Environment=SEALDESK_KEYS=/etc/sealdesk",
        "EnvironmentFile=-/etc/default/sealdesk",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit has {line:?}");
    }
    let defaults = std::fs::read_to_string("/etc/default/sealdesk").unwrap();
    assert!(defaults.lines().any(|l| l == "SEALDESK_KEYS=/etc/sealdesk"));

    // Before `init`: doctor says so.
    let before = as_service_user(&["doctor"]);
    let out = text(&before);
    assert_eq!(before.status.code(), Some(1), "{out}");
    let keys = doctor_line(&out, "keys dir");
    assert!(
        keys.starts_with("FAIL ")
            && keys.contains("no master.key")
            && keys.contains("sealdesk init"),
        "{out}"
    );

    let init = as_service_user(&["init"]);
    assert!(init.status.success(), "init as sealdesk: {}", text(&init));
    assert!(
        text(&init).contains("keys dir: /etc/sealdesk"),
        "{}",
        text(&init)
    );
    let master = std::fs::metadata("/etc/sealdesk/master.key").unwrap();
    assert_eq!(master.uid(), uid);
    assert_eq!(master.permissions().mode() & 0o777, 0o600);

    // A fresh install: nothing to fix, the next steps as warnings.
    let fresh = as_service_user(&["doctor"]);
    let out = text(&fresh);
    assert_eq!(fresh.status.code(), Some(0), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(
        doctor_line(&out, "keys dir").starts_with("ok    keys dir: /etc/sealdesk is yours alone"),
        "{out}"
    );
    assert!(
        doctor_line(&out, "data dir").starts_with("ok    data dir: /var/lib/sealdesk"),
        "{out}"
    );
    for check in ["data backup", "keys backup", "agents", "mail.ingest"] {
        assert!(
            doctor_line(&out, check).starts_with("warn "),
            "{check}: {out}"
        );
    }

    // A keys dir others can read.
    std::fs::set_permissions(KEYS, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exposed = as_service_user(&["doctor"]);
    let out = text(&exposed);
    assert_eq!(exposed.status.code(), Some(1), "{out}");
    let keys = doctor_line(&out, "keys dir");
    assert!(
        keys.starts_with("FAIL ") && keys.ends_with("fix: chmod 700 /etc/sealdesk"),
        "{out}"
    );

    // Purged: the package's files go, the desk (keys!) stays for the admin to decide.
    let purge = run(Command::new("dpkg").args(["--purge", "sealdesk"]));
    assert!(purge.status.success(), "dpkg --purge: {}", text(&purge));
    assert!(!Path::new("/usr/bin/sealdesk").exists());
    assert!(!Path::new("/etc/default/sealdesk").exists());
    assert!(!Path::new("/lib/systemd/system/sealdesk.service").exists());
    assert!(
        Path::new("/etc/sealdesk/master.key").exists(),
        "a purge keeps the keys"
    );
    assert!(
        text(&purge).contains("kept /etc/sealdesk"),
        "{}",
        text(&purge)
    );
}
