//! Shared helpers for the integration tests: a desk in a temp dir, the real binary, and
//! a byte scanner for plaintext at rest.
#![allow(dead_code)]

pub(crate) mod clock;
pub(crate) mod deep_scan;
pub(crate) mod live;
pub(crate) mod mailsink;
// Part 11 (imap)
pub(crate) mod dovecot;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) struct TempDesk {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub keys: PathBuf,
}

impl TempDesk {
    /// Paths only; nothing created yet.
    pub(crate) fn paths_only() -> TempDesk {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let keys = dir.path().join("keys");
        TempDesk { dir, data, keys }
    }

    /// A desk initialised through the real binary.
    pub(crate) fn init() -> TempDesk {
        let d = TempDesk::paths_only();
        let out = d.cli(&["init"]);
        assert!(out.status.success(), "init failed: {}", stderr(&out));
        d
    }

    /// A new desk whose mail goes out as `Support <support@desk.example>`.
    pub(crate) fn with_support_address() -> TempDesk {
        let d = TempDesk::init();
        ok(
            &d,
            &[
                "config",
                "set",
                "mail.from",
                "Support <support@desk.example>",
            ],
        );
        d
    }

    pub(crate) fn paths(&self) -> sealdesk_store::Paths {
        sealdesk_store::Paths {
            data: self.data.clone(),
            keys: self.keys.clone(),
        }
    }

    /// Runs the real binary against this desk.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        self.cli_with(args, &[], None)
    }

    /// Runs the real binary with this desk's data dir but another keys dir.
    pub(crate) fn cli_keys(&self, keys: &Path, args: &[&str]) -> Output {
        let keyed = TempDesk {
            dir: tempfile::tempdir().unwrap(),
            data: self.data.clone(),
            keys: keys.into(),
        };
        keyed.cli(args)
    }

    /// Runs the real binary with raw bytes on stdin.
    pub(crate) fn cli_raw_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.cli_bytes(args, &[], Some(stdin))
    }

    pub(crate) fn cli_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Output {
        self.cli_bytes(args, env, stdin.map(str::as_bytes))
    }

    pub(crate) fn cli_bytes(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&[u8]>,
    ) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealdesk"));
        cmd.args([
            "--data",
            self.data.to_str().unwrap(),
            "--keys",
            self.keys.to_str().unwrap(),
        ])
        .args(args)
        .env_remove("SEALDESK_PASSPHRASE")
        .env_remove("SEALDESK_DATA")
        .env_remove("SEALDESK_KEYS")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run sealdesk");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        child.wait_with_output().expect("wait for sealdesk")
    }
}

/// Runs a command that must succeed; returns its stdout.
pub(crate) fn ok(d: &TempDesk, args: &[&str]) -> String {
    let out = d.cli(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Runs a command that must succeed and print JSON.
pub(crate) fn json(d: &TempDesk, args: &[&str]) -> serde_json::Value {
    let text = ok(d, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {text}"))
}

/// Files one message with `sealdesk ingest`, which must exit 0; returns its stdout.
pub(crate) fn ingest(d: &TempDesk, raw: &str) -> String {
    let out = d.cli_with(&["ingest"], &[], Some(raw));
    assert_eq!(
        out.status.code(),
        Some(0),
        "ingest failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a failed command: non-zero exit, one clear line mentioning `needle`, no panic.
pub(crate) fn assert_clean_failure(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stdout: {}",
        stdout(o)
    );
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "panic: {err}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "expected one line: {err}"
    );
}

/// The byte patterns a canary could hide as: UTF-8, UTF-16LE and base64 (at each of the
/// three alignments, minus the edge characters that depend on neighbouring bytes).
pub(crate) fn needles(canary: &str) -> Vec<Vec<u8>> {
    let mut out = vec![canary.as_bytes().to_vec()];
    out.push(
        canary
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect(),
    );
    for pad in 0..3 {
        let mut bytes = vec![b'x'; pad];
        bytes.extend_from_slice(canary.as_bytes());
        let enc = B64.encode(&bytes);
        // Keep only the characters whose 6 bits all come from the canary: they appear
        // whatever bytes surround it in the real data.
        let start = (8 * pad).div_ceil(6);
        let end = 8 * (pad + canary.len()) / 6;
        out.push(enc.as_bytes()[start..end].to_vec());
    }
    out
}

/// Every (file, needle index) where a needle occurs, across all files under `dirs`.
pub(crate) fn scan(dirs: &[&Path], needles: &[Vec<u8>]) -> Vec<(PathBuf, usize)> {
    let mut hits = Vec::new();
    let mut files = 0;
    for dir in dirs {
        for path in walk(dir) {
            files += 1;
            let bytes = std::fs::read(&path).unwrap_or_default();
            for (i, n) in needles.iter().enumerate() {
                if bytes.windows(n.len()).any(|w| w == n.as_slice()) {
                    hits.push((path.clone(), i));
                }
            }
        }
    }
    assert!(files > 0, "scanned no files at all");
    hits
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A fresh OpenSSH public key line, without touching ssh-keygen.
pub(crate) fn public_key_line(seed: u8, comment: &str) -> String {
    use russh::keys::ssh_key::{private::Ed25519Keypair, PrivateKey};
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]));
    key.set_comment(comment);
    key.public_key().to_openssh().unwrap()
}
