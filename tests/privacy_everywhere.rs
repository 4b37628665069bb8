//! The desk's claim, end to end through the real binary: what a customer asks to delete
//! is unreadable everywhere — live, in every file of the data and keys dirs (inside gzip,
//! tar and zip too), in every earlier data backup restored with today's keys, and next to
//! an old keys backup — while what was not asked to be deleted stays readable.
//!
//! One customer, Eve, fills every field a customer can fill (name, subject, body,
//! attachment name and bytes, a quarantined mail, consent evidence), has an export kept
//! in the desk, then asks for one message to be deleted, and later for everything.

mod common;

use common::*;
use std::path::{Path, PathBuf};

const NAME: &str = "EveNameCanary41q";
const SUBJECT: &str = "EveSubjectCanary42w";
const BODY: &str = "EveBodyCanary43e";
const FILE: &str = "EveFileNameCanary44r";
const BYTES: &str = "EveFileBytesCanary45t";
const REDACTED: &str = "EveRedactedCanary46y";
const KEPT: &str = "EveKeptCanary47u";
const HELD: &str = "EveQuarantineCanary48i";
const EVIDENCE: &str = "EveEvidenceCanary49o";
const BOB: &str = "BobControlCanary50p";

const EVE_ALL: [&str; 9] = [
    NAME, SUBJECT, BODY, FILE, BYTES, REDACTED, KEPT, HELD, EVIDENCE,
];

fn mail(from: &str, subject: &str, body: &str, id: &str, reply_to: Option<&str>) -> String {
    let threading = reply_to
        .map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n{body}\r\n--B\r\nContent-Type: application/octet-stream; name=\"{FILE}.bin\"\r\nContent-Disposition: attachment; filename=\"{FILE}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--B--\r\n",
        base64_of(&format!("bytes {BYTES} end"))
    )
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn eve() -> String {
    format!("{NAME} <eve@example.com>")
}

fn backup(d: &TempDesk, name: &str) -> PathBuf {
    let path = d.dir.path().join(name);
    ok(d, &["backup", "--out", path.to_str().unwrap()]);
    path
}

/// `backup` restored through the CLI into a fresh data dir, with today's keys dir.
fn restored_with_todays_keys(d: &TempDesk, backup: &Path, name: &str) -> TempDesk {
    let r = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join(name),
        keys: d.keys.clone(),
    };
    ok(&r, &["restore", backup.to_str().unwrap()]);
    r
}

/// The thread of ticket `n` as one string of texts (what an agent can read); a message
/// sealed with a destroyed key (an erased customer's, in a restored backup) reads
/// "[erased]".
fn thread_text(d: &TempDesk, n: &str) -> String {
    let t = json(d, &["ticket", "show", n, "--json"]);
    t["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| match m["kind"].as_str() {
            Some("erased") => "[erased]".to_string(),
            _ => m["text"].as_str().unwrap_or_default().to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_no_hits(what: &str, dirs: &[&Path], canaries: &[&str]) {
    let hits = deep_scan::hits(dirs, canaries);
    assert!(hits.is_empty(), "{what}: {hits:?}");
}

#[test]
fn what_a_customer_asks_to_delete_is_unreadable_everywhere_and_stays_so() {
    let d = TempDesk::with_support_address();
    ingest(
        &d,
        &mail(
            &eve(),
            &format!("Help {SUBJECT}"),
            &format!("My secret is {BODY}."),
            "e1@example.com",
            None,
        ),
    );
    ingest(
        &d,
        &mail(
            &eve(),
            &format!("Re: Help {SUBJECT}"),
            &format!("Please delete this one: {REDACTED}."),
            "e2@example.com",
            Some("e1@example.com"),
        ),
    );
    ingest(
        &d,
        &mail(
            &eve(),
            "Another matter",
            &format!("Keep this: {KEPT}."),
            "e3@example.com",
            None,
        ),
    );
    // Mail that looks like the desk's own coming back is quarantined: sealed for Eve.
    let held = ingest(
        &d,
        &mail(
            &eve(),
            "More",
            &format!("And {HELD}."),
            "e4@example.com",
            None,
        )
        .replacen("\r\n", "\r\nX-Loop: support@desk.example\r\n", 1),
    );
    assert!(held.contains("quarantined"), "{held}");
    ingest(
        &d,
        &mail(
            "Bob <bob@example.com>",
            "Bob's question",
            &format!("Bob says {BOB}."),
            "b1@example.com",
            None,
        ),
    );
    ok(
        &d,
        &[
            "consent",
            "record",
            "eve@example.com",
            "--purpose",
            "090",
            "--state",
            "given",
            "--evidence",
            &format!("said so in {EVIDENCE}"),
        ],
    );
    ok(
        &d,
        &["ticket", "reply", "1", "--body", "We will look into it."],
    );
    let exported = ok(
        &d,
        &[
            "customer",
            "export",
            "eve@example.com",
            "--override",
            "asked at the counter",
        ],
    );
    assert!(exported.contains("kept sealed in the desk"), "{exported}");
    // The scan can see her: a copy written outside the desk holds every canary (inside
    // its gzip and tar), the quarantined mail and the consent evidence included.
    let outside = tempfile::tempdir().unwrap();
    let copy = outside.path().join("eve.tar.gz");
    ok(
        &d,
        &[
            "customer",
            "exports",
            "eve@example.com",
            "--save",
            exported.split_whitespace().nth(1).unwrap(),
            "--out",
            copy.to_str().unwrap(),
        ],
    );
    let seen = deep_scan::hits(&[outside.path()], &EVE_ALL);
    for canary in EVE_ALL {
        assert!(
            seen.iter().any(|h| h.ends_with(canary)),
            "{canary} missing from her export: {seen:?}"
        );
    }
    // Everything is sealed from the start: not one canary of anyone in any file, also
    // inside the stored export archive (which is sealed as a whole).
    let mut everyone = EVE_ALL.to_vec();
    everyone.push(BOB);
    assert_no_hits("sealed at rest", &[&d.data, &d.keys], &everyone);
    let thread = thread_text(&d, "1");
    assert!(
        thread.contains(BODY) && thread.contains(REDACTED),
        "{thread}"
    );

    let before_anything = backup(&d, "0-before.bak");
    let old_keys = d.dir.path().join("old-keys.sdk");
    ok(&d, &["keys", "backup", "--out", old_keys.to_str().unwrap()]);

    // 1. Partial deletion: message 2 of ticket 1.
    let redacted = ok(
        &d,
        &[
            "ticket",
            "redact",
            "1",
            "--message",
            "2",
            "--reason",
            "the customer asked",
        ],
    );
    assert!(!redacted.is_empty());
    let thread = thread_text(&d, "1");
    assert!(!thread.contains(REDACTED), "{thread}");
    assert!(
        thread.contains("[redacted: the customer asked]"),
        "{thread}"
    );
    assert!(thread.contains(BODY), "her other message stays: {thread}");
    // Not in any live file, nor in the backup taken before, restored with today's keys —
    // where her other data is still readable.
    assert_no_hits("after redaction, live", &[&d.data, &d.keys], &[REDACTED]);
    let r0 = restored_with_todays_keys(&d, &before_anything, "r0");
    assert_no_hits("after redaction, restored", &[&r0.data], &[REDACTED]);
    let old_thread = thread_text(&r0, "1");
    assert!(!old_thread.contains(REDACTED), "{old_thread}");
    assert!(old_thread.contains(BODY), "{old_thread}");
    assert!(thread_text(&r0, "2").contains(KEPT));
    let old_profile = json(&r0, &["customer", "show", "eve@example.com", "--json"]);
    assert_eq!(old_profile["name"], NAME, "{old_profile}");

    let before_erasure = backup(&d, "1-before-erasure.bak");

    // 2. Everything: account cancellation.
    let preview = ok(&d, &["customer", "cancel", "eve@example.com", "--preview"]);
    assert!(preview.to_lowercase().contains("kept"), "{preview}");
    assert!(
        preview.contains(&copy.display().to_string()),
        "the copy outside is listed for the admin to delete: {preview}"
    );
    std::fs::remove_file(&copy).unwrap();
    ok(
        &d,
        &[
            "customer",
            "cancel",
            "eve@example.com",
            "--yes",
            "--override",
            "asked at the counter",
        ],
    );
    assert_clean_failure(
        &d.cli(&["customer", "show", "eve@example.com"]),
        "no customer",
    );
    assert_eq!(thread_text(&d, "2").trim(), "[erased]");
    assert!(
        thread_text(&d, "3").contains(BOB),
        "Bob, who asked for nothing, is readable"
    );
    let requests = json(&d, &["request", "list", "--json"]);
    assert!(
        requests
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "completed" || r["status"] == "denied"),
        "no request of hers stays open: {requests}"
    );
    assert!(d.cli(&["audit", "verify"]).status.success());

    // Live: nothing of Eve in any file of the data or keys dir.
    assert_no_hits("after erasure, live", &[&d.data, &d.keys], &EVE_ALL);

    // Every earlier data backup, restored with today's keys: nothing of Eve, Bob intact.
    for (i, b) in [&before_anything, &before_erasure].into_iter().enumerate() {
        let r = restored_with_todays_keys(&d, b, &format!("after-{i}"));
        assert_no_hits("after erasure, restored", &[&r.data], &EVE_ALL);
        assert_clean_failure(
            &r.cli(&["customer", "show", "eve@example.com"]),
            "no customer",
        );
        let t1 = thread_text(&r, "1");
        assert!(t1.contains("[erased]"), "backup {i}: {t1}");
        assert!(
            thread_text(&r, "3").contains(BOB),
            "backup {i}: Bob is intact"
        );
    }

    // An old keys backup (from before the erasure and the redaction) beside a data
    // backup taken after them: the journals the data carries destroy the keys again.
    let after_erasure = backup(&d, "2-after-erasure.bak");
    let recovered = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join("recovered-data"),
        keys: d.dir.path().join("recovered-keys"),
    };
    std::fs::create_dir(&recovered.keys).unwrap();
    let master = recovered.keys.join("master.key");
    std::fs::copy(d.keys.join("master.key"), &master).unwrap();
    set_private(&master);
    set_private(&recovered.keys);
    ok(&recovered, &["keys", "restore", old_keys.to_str().unwrap()]);
    ok(&recovered, &["restore", after_erasure.to_str().unwrap()]);
    assert_clean_failure(
        &recovered.cli(&["customer", "show", "eve@example.com"]),
        "no customer",
    );
    assert!(!thread_text(&recovered, "1").contains(BODY));
    assert!(thread_text(&recovered, "3").contains(BOB));
    assert_no_hits(
        "old keys beside newer data",
        &[&recovered.data, &recovered.keys],
        &EVE_ALL,
    );
    // Then the data from before both, beside those keys: they met the journals that
    // condemn her key and the redacted message's key, so nothing of her is readable.
    let oldest = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join("oldest-data"),
        keys: recovered.keys.clone(),
    };
    ok(&oldest, &["restore", before_anything.to_str().unwrap()]);
    assert_clean_failure(
        &oldest.cli(&["customer", "show", "eve@example.com"]),
        "no customer",
    );
    assert_no_hits("oldest data, old keys", &[&oldest.data], &EVE_ALL);
}

fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o700 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
