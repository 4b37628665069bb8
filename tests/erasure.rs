//! Account cancellation with crypto-shredding, backups and restores, through the real
//! binary: the customer's canaries are gone from every file, and a backup taken before
//! the cancellation cannot show them either.

mod common;

use common::*;

const ANN: &str = "AnnCanary7Qx";
const BOB: &str = "BobCanary3Zp";

fn mail_with_attachment(from: &str, canary: &str, id: &str) -> String {
    format!(
        "From: {canary} Person <{from}>\r\nTo: support@desk.example\r\nSubject: Help {canary}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nMy secret is {canary}.\r\n--B\r\nContent-Type: text/plain; name=\"{canary}.txt\"\r\nContent-Disposition: attachment; filename=\"{canary}.txt\"\r\n\r\nfile {canary}\r\n--B--\r\n"
    )
}

fn populated() -> TempDesk {
    let d = TempDesk::with_support_address();
    ingest(
        &d,
        &mail_with_attachment("ann@example.com", ANN, "a1@example.com"),
    );
    ingest(
        &d,
        &mail_with_attachment("bob@example.com", BOB, "b1@example.com"),
    );
    ok(
        &d,
        &[
            "ticket",
            "reply",
            "1",
            "--body",
            &format!("Dear {ANN}, we are on it."),
        ],
    );
    ok(
        &d,
        &[
            "consent",
            "record",
            "ann@example.com",
            "--purpose",
            "040",
            "--state",
            "given",
            "--evidence",
            &format!("said {ANN}"),
        ],
    );
    d
}

#[test]
fn cancellation_erases_the_customer_everywhere_and_spares_the_others() {
    let d = populated();
    let backup = d.dir.path().join("before.bak");
    ok(&d, &["backup", "--out", backup.to_str().unwrap()]);

    // Legal hold first: refused, nothing erased.
    ok(
        &d,
        &["customer", "set", "ann@example.com", "--legal-hold", "true"],
    );
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--override",
            "test: asked in person",
        ]),
        "legal hold",
    );
    ok(
        &d,
        &[
            "customer",
            "set",
            "ann@example.com",
            "--legal-hold",
            "false",
        ],
    );
    // A typed address that does not match: refused.
    assert_clean_failure(
        &d.cli(&[
            "customer",
            "cancel",
            "ann@example.com",
            "--confirm",
            "bob@example.com",
            "--override",
            "test: asked in person",
        ]),
        "does not match",
    );
    // Without a terminal and without --yes: refused with the fix.
    assert_clean_failure(
        &d.cli(&["customer", "cancel", "ann@example.com"]),
        "pass --yes",
    );

    let out = ok(
        &d,
        &[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--override",
            "test: asked in person",
        ],
    );
    assert!(out.contains("erased: 2 messages"), "{out}");

    // Gone from the CLI's view; the ticket and its counts survive as placeholders.
    assert_clean_failure(
        &d.cli(&["customer", "show", "ann@example.com"]),
        "no customer with address",
    );
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["subject"], "[erased]");
    let kinds: Vec<&str> = t["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["inbound", "outbound"], "kinds kept for statistics");
    assert!(t["thread"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["text"] == "[erased]"));
    // Bob is untouched.
    let b = json(&d, &["ticket", "show", "2", "--json"]);
    assert!(b["thread"][0]["text"].as_str().unwrap().contains(BOB));
    assert_eq!(
        b["thread"][0]["attachments"][0]["name"],
        format!("{BOB}.txt")
    );
    // The confirmation mail went to the outbox before the key was destroyed; the audit
    // log is intact and names Ann only by pseudonym.
    let verify = d.cli(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));

    // No file of the data dir or keys dir holds Ann's canary in any encoding; Bob's
    // canary is absent too (everything is sealed), which shows the scan is not trivially
    // passing only for Ann because her data was never written.
    let hits = scan(&[&d.data, &d.keys], &needles(ANN));
    assert!(hits.is_empty(), "{hits:?}");

    // A later mail from Ann opens a new customer flagged as previously erased.
    ingest(
        &d,
        &mail_with_attachment("ann@example.com", "again", "a2@example.com"),
    );
    let c = json(&d, &["customer", "show", "ann@example.com", "--json"]);
    assert_eq!(c["flags"]["previously_erased"], true);
    assert_eq!(
        c["tickets"].as_array().unwrap().len(),
        1,
        "nothing old is linked to her"
    );
}

#[test]
fn a_backup_taken_before_cancellation_cannot_show_the_customer() {
    let d = populated();
    let backup = d.dir.path().join("before.bak");
    ok(&d, &["backup", "--out", backup.to_str().unwrap()]);
    assert_clean_failure(
        &d.cli(&["backup", "--out", backup.to_str().unwrap()]),
        "refusing to overwrite",
    );
    ok(
        &d,
        &[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--override",
            "test: asked in person",
        ],
    );

    // Restore the old backup into a fresh data dir with today's keys.
    let restored = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join("restored"),
        keys: d.keys.clone(),
    };
    let out = ok(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("re-applied 1 erasure"), "{out}");
    assert_clean_failure(
        &restored.cli(&["customer", "show", "ann@example.com"]),
        "no customer with address",
    );
    let t = json(&restored, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["subject"], "[erased]");
    assert!(
        t["thread"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] == "erased" || m["text"] == "[erased]"),
        "{t}"
    );
    assert!(
        json(&restored, &["ticket", "show", "2", "--json"])["thread"][0]["text"]
            .as_str()
            .unwrap()
            .contains(BOB)
    );
    assert!(restored.cli(&["audit", "verify"]).status.success());

    // Even without the erasure journal, the old data stays unreadable: the key is gone.
    std::fs::remove_file(d.keys.join("erasures")).unwrap();
    let bare = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join("restored-bare"),
        keys: d.keys.clone(),
    };
    let out = ok(&bare, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("re-applied 0 erasure"), "{out}");
    let t = json(&bare, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["subject"], "[erased]");
    let shown = ok(&bare, &["ticket", "show", "1"]);
    assert!(!shown.contains(ANN), "{shown}");
    assert!(
        bare.cli(&["customer", "show", "ann@example.com"])
            .status
            .code()
            != Some(0)
    );
}

#[test]
fn restore_refuses_a_damaged_backup_or_a_used_data_dir() {
    let d = populated();
    let backup = d.dir.path().join("b.bak");
    ok(&d, &["backup", "--out", backup.to_str().unwrap()]);
    assert_clean_failure(
        &d.cli(&["restore", backup.to_str().unwrap()]),
        "already holds a sealdesk setup",
    );
    let mut bytes = std::fs::read(&backup).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    let damaged = d.dir.path().join("damaged.bak");
    std::fs::write(&damaged, bytes).unwrap();
    let fresh = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join("fresh"),
        keys: d.keys.clone(),
    };
    assert_clean_failure(
        &fresh.cli(&["restore", damaged.to_str().unwrap()]),
        "checksum does not match",
    );
}
