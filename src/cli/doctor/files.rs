//! The data and keys dirs: there, owned by the user who runs the desk, closed to
//! everyone else (a keys dir others can read is a failure: the keys open every backup),
//! and not on the same disk.

use super::{quoted, Finding};
use crate::cli::Global;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub(super) fn check(g: &Global) -> Vec<Finding> {
    let me = rustix::process::geteuid().as_raw();
    let mut out = Vec::new();
    let data = fs::metadata(&g.data);
    let keys = fs::metadata(&g.keys);
    match &data {
        Ok(meta) => out.extend(data_dir(&g.data, meta, me)),
        Err(e) => out.push(missing("data dir", &g.data, e)),
    }
    match &keys {
        Ok(meta) => out.extend(keys_dir(&g.keys, meta, me)),
        Err(e) => out.push(missing("keys dir", &g.keys, e)),
    }
    if let (Ok(d), Ok(k)) = (&data, &keys) {
        out.push(apart(&g.data, d, &g.keys, k));
    }
    out
}

fn missing(check: &'static str, path: &Path, e: &std::io::Error) -> Finding {
    if e.kind() == std::io::ErrorKind::NotFound {
        Finding::fail(
            check,
            format!("{} does not exist", path.display()),
            "create the desk with `sealdesk init`, or point --data/--keys (SEALDESK_DATA/SEALDESK_KEYS) at it",
        )
    } else {
        Finding::fail(
            check,
            format!("cannot read {} ({e})", path.display()),
            "run doctor as the user that runs `sealdesk serve`",
        )
    }
}

fn not_mine(check: &'static str, path: &Path, owner: u32, me: u32) -> Finding {
    Finding::fail(
        check,
        format!(
            "{} belongs to uid {owner}, not to you (uid {me})",
            path.display()
        ),
        format!(
            "run doctor as the user that runs `sealdesk serve` (e.g. `sudo -u sealdesk sealdesk doctor`), or `chown -R USER {}`",
            quoted(path)
        ),
    )
}

/// Sealed values, but names, sizes and times of the files: the owner's alone (a warning,
/// `serve` tightens the files inside at start).
fn data_dir(path: &Path, meta: &fs::Metadata, me: u32) -> Vec<Finding> {
    if !meta.is_dir() {
        return vec![Finding::fail(
            "data dir",
            format!("{} is not a directory", path.display()),
            "point --data (SEALDESK_DATA) at the desk's data dir",
        )];
    }
    if meta.uid() != me {
        return vec![not_mine("data dir", path, meta.uid(), me)];
    }
    let mode = meta.permissions().mode() & 0o777;
    let mut out = Vec::new();
    if mode & 0o077 != 0 {
        out.push(Finding::warn(
            "data dir",
            format!(
                "{} is open to {} (mode {mode:04o})",
                path.display(),
                who(mode)
            ),
            format!("chmod 700 {}", quoted(path)),
        ));
    }
    let exposed = exposed_entries(path, me);
    if let Some(first) = exposed.first() {
        out.push(Finding::warn(
            "data dir",
            format!(
                "{} entr(y/ies) inside are open to others or not yours, e.g. {}",
                exposed.len(),
                first.display()
            ),
            format!("chmod -R go-rwx {}", quoted(path)),
        ));
    }
    if out.is_empty() {
        out.push(Finding::ok(
            "data dir",
            format!("{} is yours alone (mode {mode:04o})", path.display()),
        ));
    }
    out
}

/// The master key, the keyring and the SSH host key: 0700 and 0600, the owner's.
fn keys_dir(path: &Path, meta: &fs::Metadata, me: u32) -> Vec<Finding> {
    if !meta.is_dir() {
        return vec![Finding::fail(
            "keys dir",
            format!("{} is not a directory", path.display()),
            "point --keys (SEALDESK_KEYS) at the desk's keys dir",
        )];
    }
    if meta.uid() != me {
        return vec![not_mine("keys dir", path, meta.uid(), me)];
    }
    let mode = meta.permissions().mode() & 0o777;
    let mut out = Vec::new();
    if mode & 0o077 != 0 {
        out.push(Finding::fail(
            "keys dir",
            format!(
                "{} is open to {} (mode {mode:04o}): the keys open every backup of the data",
                path.display(),
                who(mode)
            ),
            format!("chmod 700 {}", quoted(path)),
        ));
    }
    let exposed = exposed_entries(path, me);
    for entry in exposed.iter().take(5) {
        let want = if entry.is_dir() { "700" } else { "600" };
        out.push(Finding::fail(
            "key file",
            format!("{} is open to others or not yours", entry.display()),
            format!("chmod {want} {} (and own it)", quoted(entry)),
        ));
    }
    if exposed.len() > 5 {
        out.push(Finding::fail(
            "key file",
            format!(
                "{} more entries of the keys dir are exposed",
                exposed.len() - 5
            ),
            format!("chmod -R go-rwx {}", quoted(path)),
        ));
    }
    if !path.join("master.key").exists() {
        out.push(Finding::fail(
            "keys dir",
            format!("{} holds no master.key", path.display()),
            "point --keys at this desk's keys dir, `sealdesk keys restore` a keys backup, or `sealdesk init` a new desk",
        ));
    }
    if out.is_empty() {
        out.push(Finding::ok(
            "keys dir",
            format!(
                "{} is yours alone (mode {mode:04o}), its files 0600",
                path.display()
            ),
        ));
    }
    out
}

/// Files and dirs under `dir` that others may read or that belong to someone else.
fn exposed_entries(dir: &Path, me: u32) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        let Ok(entries) = fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            // The control socket is the server's door for the CLI: 0600 like the rest.
            if meta.permissions().mode() & 0o077 != 0 || meta.uid() != me {
                found.push(path.clone());
            }
            if meta.is_dir() {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

fn who(mode: u32) -> &'static str {
    match (mode & 0o070 != 0, mode & 0o007 != 0) {
        (true, true) => "its group and everyone",
        (true, false) => "its group",
        _ => "everyone",
    }
}

/// Keys on the data's disk: one lost or copied disk takes both.
fn apart(data: &Path, d: &fs::Metadata, keys: &Path, k: &fs::Metadata) -> Finding {
    let (cd, ck) = (fs::canonicalize(data), fs::canonicalize(keys));
    if let (Ok(cd), Ok(ck)) = (&cd, &ck) {
        if ck.starts_with(cd) || cd.starts_with(ck) {
            return Finding::fail(
                "keys apart",
                format!(
                    "the keys dir {} and the data dir {} are inside one another: a copy of one copies both",
                    keys.display(),
                    data.display()
                ),
                "move the keys dir out (e.g. data in /var/lib/sealdesk, keys in /etc/sealdesk) and set --keys / SEALDESK_KEYS",
            );
        }
    }
    if d.dev() == k.dev() {
        Finding::warn(
            "keys apart",
            format!(
                "the keys dir {} is on the same filesystem as the data dir {}",
                keys.display(),
                data.display()
            ),
            "put the data on its own disk or volume if you can, and keep a keys backup off this machine",
        )
    } else {
        Finding::ok(
            "keys apart",
            "the keys dir is on another filesystem than the data dir",
        )
    }
}
