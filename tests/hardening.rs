//! Process and file hardening end to end: the real binary leaves every file of its data
//! and keys dirs readable by its owner alone (also a desk made before, whose files were
//! 0644), runs without core dumps, masks secrets in `config`, and never leaves a backup
//! that is not whole under the backup's name.

mod common;

use common::live::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Every entry under `dir` whose mode lets group or others in.
fn exposed(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            }
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                out.push(format!("{} {mode:o}", entry.path().display()));
            }
        }
    }
    out
}

#[test]
fn every_file_is_the_owners_alone_and_old_desks_are_tightened() {
    let desk = configured_desk(None);
    let key = desk.keygen("alice");
    desk.add_admin("alice", &key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.org",
        "--subject",
        "Hello",
        "--body",
        "hi",
    ]);
    desk.cli(&[
        "backup",
        "--out",
        desk.path("data/first.backup").to_str().unwrap(),
    ]);
    let (data, keys) = (desk.path("data"), desk.path("keys"));
    assert!(std::fs::read_dir(data.join("db")).unwrap().count() > 0);
    assert_eq!(exposed(&data), Vec::<String>::new());
    assert_eq!(exposed(&keys), Vec::<String>::new());

    // A desk written by an earlier version: sled's files were 0644.
    let mut opened_up = 0;
    for entry in common::walk(&data.join("db")) {
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
        opened_up += 1;
    }
    assert!(opened_up > 0);
    assert!(!exposed(&data).is_empty());
    // Temp files a killed `config set` and a killed erasure's keyring rewrite leave.
    let config_tmp = data.join("sealdesk.toml.tmp");
    std::fs::write(&config_tmp, "[mail]\nrelay = \"smtps://u:pw@h\"\n").unwrap();
    let aged = std::process::Command::new("touch")
        .args(["-d", "2 minutes ago"])
        .arg(&config_tmp)
        .status()
        .unwrap();
    assert!(aged.success());
    std::fs::write(keys.join("keyring.tmp"), b"partial").unwrap();
    desk.cli(&["ticket", "list"]);
    assert_eq!(exposed(&data), Vec::<String>::new());
    assert!(!config_tmp.exists());
    assert!(!keys.join("keyring.tmp").exists());
    assert!(desk.cli(&["ticket", "list"]).contains("Hello"));
}

#[test]
fn the_server_runs_without_core_dumps() {
    let desk = TestDesk::new();
    let server = desk.serve();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core-file line");
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
}

#[test]
fn the_process_is_not_dumpable() {
    // The same call `main` makes, in this test process.
    let hardened = sealdesk::harden::process();
    assert!(hardened.no_core_dumps && hardened.not_dumpable);
    // PR_GET_DUMPABLE, read back.
    assert_eq!(
        rustix::process::dumpable_behavior().unwrap(),
        rustix::process::DumpableBehavior::NotDumpable
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    drop(file);
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("new");
    std::fs::write(&made, b"x").unwrap();
    assert_eq!(
        std::fs::metadata(&made).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn config_masks_the_relay_password() {
    let desk = TestDesk::new();
    let url = "smtps://desk:Hunter2-Secret@mail.example.com:465";
    let set = desk.cli(&["config", "set", "mail.relay", url]);
    let list = desk.cli(&["config", "list"]);
    let get = desk.cli(&["config", "get", "mail.relay"]);
    for shown in [&set, &list, &get] {
        assert!(!shown.contains("Hunter2-Secret"), "{shown}");
    }
    assert!(
        get.contains("smtps://desk:****@mail.example.com:465"),
        "{get}"
    );
    assert_eq!(
        desk.cli(&["config", "get", "mail.relay", "--reveal"])
            .trim(),
        url
    );
    // The desk itself still has the real value.
    let toml = std::fs::read_to_string(desk.path("data/sealdesk.toml")).unwrap();
    assert!(toml.contains("Hunter2-Secret"));
}

#[test]
fn a_backup_killed_half_way_leaves_no_file_under_the_backup_name() {
    let desk = TestDesk::new();
    let body = "x".repeat(100_000);
    for i in 0..20 {
        desk.cli(&[
            "ticket",
            "create",
            "--from",
            &format!("c{i}@example.org"),
            "--subject",
            "Bulk",
            "--body",
            &body,
        ]);
    }
    let out = desk.path("nightly.backup");
    let partial = desk.path(".nightly.backup.partial");
    // Killed at different moments: afterwards there is no backup under its name, or a
    // whole one that restores.
    let mut whole = 0;
    for delay_ms in [2u64, 5, 10, 15, 20, 30, 45, 60, 200] {
        let mut child = desk
            .command()
            .args(["backup", "--out", out.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if out.exists() {
            whole += 1;
            let restored = TestDesk {
                dir: tempfile::tempdir().unwrap(),
            };
            common::copy_dir(&desk.path("keys"), &restored.path("keys"));
            restored.cli(&["restore", out.to_str().unwrap()]);
            assert_eq!(
                restored.cli(&["ticket", "list"]).matches("Bulk").count(),
                20
            );
            std::fs::remove_file(&out).unwrap();
        }
    }
    // The next backup clears what a killed one left and is whole.
    desk.cli(&["backup", "--out", out.to_str().unwrap()]);
    assert!(
        !partial.exists(),
        "the partial file of a killed backup was removed"
    );
    let restored = TestDesk {
        dir: tempfile::tempdir().unwrap(),
    };
    common::copy_dir(&desk.path("keys"), &restored.path("keys"));
    restored.cli(&["restore", out.to_str().unwrap()]);
    assert_eq!(
        restored.cli(&["ticket", "list"]).matches("Bulk").count(),
        20
    );
    eprintln!("{whole} of 9 killed backups had finished");
}
