//! `sealdesk doctor` on real desks: a fresh `init`, a keys dir others can read, a broken
//! config, a relay that answers (or lacks the TLS it is configured with), ports held by
//! another program or by this desk's running server, backups and second factors.

mod common;

use common::live::{configured_desk, TestDesk};
use common::mailsink::Sink;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

fn doctor(desk: &TestDesk, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["doctor"];
    args.extend_from_slice(extra);
    let out: Output = desk.try_cli(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.stderr.is_empty(),
        "doctor wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().expect("an exit code"), stdout)
}

/// The one line of `check` (the text output has exactly one per check here).
fn line<'a>(out: &'a str, check: &str) -> &'a str {
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.get(6..)
                .is_some_and(|rest| rest.starts_with(&format!("{check}: ")))
        })
        .collect();
    assert_eq!(lines.len(), 1, "one line for {check:?} in:\n{out}");
    lines[0]
}

fn findings(desk: &TestDesk) -> Vec<serde_json::Value> {
    let (_, out) = doctor(desk, &["--json"]);
    serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("doctor --json is a JSON array")
}

fn level_of(findings: &[serde_json::Value], check: &str) -> String {
    let found: Vec<_> = findings.iter().filter(|f| f["check"] == check).collect();
    assert_eq!(found.len(), 1, "one finding for {check:?}: {findings:?}");
    found[0]["level"].as_str().unwrap().to_string()
}

#[test]
fn a_fresh_desk_has_only_warnings_that_name_the_next_steps() {
    let desk = TestDesk::new();
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 0, "warnings only on a fresh desk:\n{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(line(&out, "keys dir").starts_with("ok "), "{out}");
    assert!(line(&out, "data dir").starts_with("ok "), "{out}");
    assert!(line(&out, "config").starts_with("ok "), "{out}");
    for (check, fix) in [
        ("mail.ingest", "sealdesk config set mail.ingest"),
        ("mail.from", "sealdesk config set mail.from"),
        ("mail.relay", "sealdesk config set mail.relay"),
        ("data backup", "sealdesk backup --out"),
        ("keys backup", "sealdesk keys backup --out"),
        ("agents", "sealdesk agent add"),
    ] {
        let l = line(&out, check);
        assert!(l.starts_with("warn "), "{check} warns: {l}");
        assert!(
            l.contains(&format!("fix: `{fix}")),
            "{check} names its fix: {l}"
        );
    }
    // Both dirs in one temp dir: one filesystem.
    assert!(line(&out, "keys apart").starts_with("warn "), "{out}");
    assert!(line(&out, "clock").starts_with("ok "), "{out}");
    assert!(out.lines().last().unwrap().contains("0 to fix"), "{out}");
}

#[test]
fn a_keys_dir_others_can_read_fails_with_the_chmod_that_fixes_it() {
    let desk = TestDesk::new();
    let keys = desk.path("keys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 1, "{out}");
    let l = line(&out, "keys dir");
    assert!(l.starts_with("FAIL "), "{l}");
    assert!(l.contains("mode 0755"), "{l}");
    assert!(
        l.ends_with(&format!("fix: chmod 700 {}", keys.display())),
        "{l}"
    );

    // A key file readable by the group is named on its own line.
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let master = keys.join("master.key");
    std::fs::set_permissions(&master, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 1, "{out}");
    let l = line(&out, "key file");
    assert!(
        l.starts_with("FAIL ") && l.contains(&format!("chmod 600 {}", master.display())),
        "{l}"
    );

    // Fixed as it says: exit 0 again.
    std::fs::set_permissions(&master, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(doctor(&desk, &[]).0, 0);
}

#[test]
fn json_has_check_level_message_and_fix_for_each_finding() {
    let desk = TestDesk::new();
    let found = findings(&desk);
    assert!(found.len() >= 10, "{found:?}");
    for f in &found {
        let obj = f.as_object().expect("each finding is an object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["check", "fix", "level", "message"], "{f}");
        let level = f["level"].as_str().unwrap();
        assert!(["ok", "warn", "fail"].contains(&level), "{f}");
        assert_eq!(
            level == "ok",
            f["fix"] == "",
            "a fix exactly when not ok: {f}"
        );
    }
    assert_eq!(level_of(&found, "keys dir"), "ok");
    assert_eq!(level_of(&found, "data backup"), "warn");
}

#[test]
fn a_broken_config_is_one_line_without_the_relay_password() {
    let desk = TestDesk::new();
    std::fs::write(
        desk.path("data/sealdesk.toml"),
        "[mail]\nrelay = \"smtps://me:Canary-s3cret@mail.example.com:465\"\nrelay_typo = 1\n",
    )
    .unwrap();
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 1, "{out}");
    let l = line(&out, "config");
    assert!(l.starts_with("FAIL "), "{l}");
    assert!(l.contains("relay_typo"), "names the bad key: {l}");
    assert!(l.contains("fix: "), "{l}");
    assert!(!out.contains("Canary-s3cret"), "no password shown:\n{out}");
}

#[test]
fn the_relay_is_connected_to_without_sending_and_missing_tls_fails() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(line(&out, "mail.ingest").starts_with("ok "), "{out}");
    assert!(line(&out, "mail.from").starts_with("ok "), "{out}");
    let l = line(&out, "mail.relay");
    assert!(
        l.starts_with("ok ") && l.contains("no mail was sent"),
        "{l}"
    );
    assert_eq!(sink.hellos.lock().unwrap().len(), 1, "it said EHLO once");
    assert!(sink.received.lock().unwrap().is_empty(), "nothing was sent");

    // Configured for STARTTLS, which this relay does not offer.
    desk.cli(&[
        "config",
        "set",
        "mail.relay",
        &format!("smtp://127.0.0.1:{}?tls=starttls", sink.port),
    ]);
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 1, "{out}");
    let l = line(&out, "mail.relay");
    assert!(l.starts_with("FAIL ") && l.contains("STARTTLS"), "{l}");

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    desk.cli(&[
        "config",
        "set",
        "mail.relay",
        &format!("smtp://127.0.0.1:{port}"),
    ]);
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(line(&out, "mail.relay").starts_with("FAIL "), "{out}");
}

#[test]
fn a_port_held_by_another_program_fails_and_one_held_by_this_desk_does_not() {
    let desk = TestDesk::new();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = other.local_addr().unwrap();
    desk.cli(&["config", "set", "server.smtp", &taken.to_string()]);
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 1, "{out}");
    let l = line(&out, "smtp port");
    assert!(
        l.starts_with("FAIL ") && l.contains("in use by another program"),
        "{l}"
    );
    drop(other);

    // The running server holds its own port, answers doctor's questions, and keeps
    // count of backups and second factors.
    let server = desk.serve();
    let held = format!("127.0.0.1:{}", server.port);
    desk.cli(&["config", "set", "server.ssh", &held]);
    let key = desk.keygen("alice");
    desk.add_admin("alice", &key);
    desk.cli(&[
        "backup",
        "--out",
        desk.path("backup.sealdesk").to_str().unwrap(),
    ]);
    let (code, out) = doctor(&desk, &[]);
    assert_eq!(code, 0, "{out}\n{}", server.log());
    let l = line(&out, "ssh port");
    assert!(
        l.starts_with("ok ") && l.contains("server is running"),
        "{l}"
    );
    assert!(line(&out, "data backup").starts_with("ok "), "{out}");
    assert!(line(&out, "keys backup").starts_with("warn "), "{out}");
    let l = line(&out, "agents");
    assert!(
        l.starts_with("warn ") && l.contains("1 of 1") && l.contains("alice"),
        "{l}"
    );
    drop(server);

    // Without the server, the same facts from the store.
    let (_, out) = doctor(&desk, &[]);
    assert!(line(&out, "data backup").starts_with("ok "), "{out}");
    assert!(line(&out, "agents").contains("alice"), "{out}");
}
