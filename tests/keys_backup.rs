//! Keys backups that cannot undo an erasure or a redaction: an old keys backup put
//! back next to a newer data dir (or data backup) shows no erased customer and no
//! redacted text, because wherever a keyring meets a journal, every key the journal
//! condemns is destroyed. Real binary, real files.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const ANN_BODY: &str = "AnnBodyCanary5Tg";
const ANN_SECRET: &str = "AnnRedactedCanary2Yu";
const BOB: &str = "BobCanary8Vw";

fn mail(from: &str, subject: &str, body: &str, id: &str, reply_to: Option<&str>) -> String {
    let threading = reply_to
        .map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{threading}\r\n{body}\r\n"
    )
}

/// Ann: ticket 1, message 1 holds ANN_SECRET (to be redacted), message 2 ANN_BODY.
/// Bob: ticket 2 (to be erased).
fn populated() -> TempDesk {
    let d = TempDesk::with_support_address();
    ingest(
        &d,
        &mail(
            "Ann <ann@example.com>",
            "Hello",
            &format!("secret {ANN_SECRET}"),
            "a1@example.com",
            None,
        ),
    );
    ingest(
        &d,
        &mail(
            "Ann <ann@example.com>",
            "Re: Hello",
            &format!("body {ANN_BODY}"),
            "a2@example.com",
            Some("a1@example.com"),
        ),
    );
    ingest(
        &d,
        &mail(
            &format!("{BOB} <bob@example.com>"),
            "Bob here",
            &format!("I am {BOB}"),
            "b1@example.com",
            None,
        ),
    );
    d
}

fn path(d: &TempDesk, name: &str) -> PathBuf {
    d.dir.path().join(name)
}

/// A desk sharing `d`'s temp dir, with its own data and keys dirs.
fn beside(d: &TempDesk, data: &str, keys: &Path) -> TempDesk {
    TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: path(d, data),
        keys: keys.to_path_buf(),
    }
}

/// A keys dir holding only this desk's master.key, as a disaster leaves it when the
/// master key was kept apart.
fn bare_keys_dir(d: &TempDesk, name: &str) -> PathBuf {
    let keys = path(d, name);
    std::fs::create_dir(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::copy(d.keys.join("master.key"), keys.join("master.key")).unwrap();
    std::fs::set_permissions(
        keys.join("master.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    keys
}

fn erase_bob_and_redact_ann(d: &TempDesk) {
    ok(
        d,
        &[
            "customer",
            "cancel",
            "bob@example.com",
            "--yes",
            "--override",
            "test of keys backups",
        ],
    );
    ok(
        d,
        &[
            "ticket",
            "redact",
            "1",
            "--message",
            "1",
            "--reason",
            "asked to",
        ],
    );
}

/// What the desk shows of Ann's ticket and Bob, as one string; Bob's ticket must read.
fn visible(d: &TempDesk) -> String {
    let mut text = ok(d, &["ticket", "show", "1", "--json"]);
    text.push_str(&ok(d, &["ticket", "show", "2", "--json"]));
    text.push_str(&stdout(&d.cli(&[
        "customer",
        "show",
        "bob@example.com",
        "--json",
    ])));
    text
}

#[test]
fn an_old_keys_backup_next_to_newer_data_brings_back_no_erased_customer_and_no_redacted_text() {
    let d = populated();
    let data_before = path(&d, "data-before.bak");
    ok(&d, &["backup", "--out", data_before.to_str().unwrap()]);
    let old_keys = path(&d, "old.keys");
    let out = ok(&d, &["keys", "backup", "--out", old_keys.to_str().unwrap()]);
    assert!(out.contains("2 customer key(s)"), "{out}");
    let before = visible(&d);
    assert!(
        before.contains(ANN_SECRET) && before.contains(BOB),
        "the check can fail: {before}"
    );

    erase_bob_and_redact_ann(&d);
    let data_after = path(&d, "data-after.bak");
    ok(&d, &["backup", "--out", data_after.to_str().unwrap()]);
    // A keys backup taken now holds no destroyed key.
    let new_keys = path(&d, "new.keys");
    let out = ok(&d, &["keys", "backup", "--out", new_keys.to_str().unwrap()]);
    assert!(
        out.contains("1 customer key(s)") && out.contains("1 erasure(s)"),
        "{out}"
    );
    assert_clean_failure(
        &d.cli(&["keys", "backup", "--out", new_keys.to_str().unwrap()]),
        "refusing to overwrite",
    );

    // Disaster: only master.key survived. The OLD keys backup goes back first, then
    // the NEWER data backup.
    let keys = bare_keys_dir(&d, "keys-recovered");
    let recovered = beside(&d, "data-recovered", &keys);
    let out = ok(&recovered, &["keys", "restore", old_keys.to_str().unwrap()]);
    assert!(
        out.contains("2 customer key(s)") && out.contains("no data dir"),
        "{out}"
    );
    ok(&recovered, &["restore", data_after.to_str().unwrap()]);
    let shown = visible(&recovered);
    assert!(!shown.contains(BOB), "Bob is back: {shown}");
    assert!(
        !shown.contains(ANN_SECRET),
        "the redacted text is back: {shown}"
    );
    assert!(
        shown.contains(ANN_BODY),
        "Ann's other message is readable: {shown}"
    );
    assert_clean_failure(
        &recovered.cli(&["customer", "show", "bob@example.com"]),
        "no customer",
    );

    // The keys the old backup brought back were destroyed at that meeting: even the
    // data backup from before the erasure and the redaction, restored with them,
    // shows neither (and still shows Ann's other message).
    let oldest = beside(&d, "data-oldest", &keys);
    ok(&oldest, &["restore", data_before.to_str().unwrap()]);
    let shown = visible(&oldest);
    assert!(
        !shown.contains(BOB),
        "Bob readable in the old backup: {shown}"
    );
    assert!(
        !shown.contains(ANN_SECRET),
        "redacted text readable in the old backup: {shown}"
    );
    assert!(shown.contains(ANN_BODY), "{shown}");
    for dir in [&recovered.data, &oldest.data, &keys] {
        for c in [BOB, ANN_SECRET] {
            assert!(
                scan(&[dir], &needles(c)).is_empty(),
                "{c} in {}",
                dir.display()
            );
        }
    }
}

#[test]
fn restoring_an_old_keys_backup_over_the_live_keys_dir_destroys_the_condemned_keys_again() {
    let d = populated();
    let data_before = path(&d, "data-before.bak");
    ok(&d, &["backup", "--out", data_before.to_str().unwrap()]);
    let old_keys = path(&d, "old.keys");
    ok(&d, &["keys", "backup", "--out", old_keys.to_str().unwrap()]);
    erase_bob_and_redact_ann(&d);

    // A damaged keys backup, or another desk's, is refused and changes nothing.
    let mut bytes = std::fs::read(&old_keys).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let damaged = path(&d, "damaged.keys");
    std::fs::write(&damaged, &bytes).unwrap();
    assert_clean_failure(
        &d.cli(&["keys", "restore", damaged.to_str().unwrap()]),
        "not a keys backup of this desk",
    );
    let other = TempDesk::init();
    let foreign = path(&d, "foreign.keys");
    ok(
        &other,
        &["keys", "backup", "--out", foreign.to_str().unwrap()],
    );
    assert_clean_failure(
        &d.cli(&["keys", "restore", foreign.to_str().unwrap()]),
        "not a keys backup of this desk",
    );

    let out = ok(&d, &["keys", "restore", old_keys.to_str().unwrap()]);
    assert!(
        out.contains("1 customer key(s)"),
        "Bob's key went again at once: {out}"
    );
    let shown = visible(&d);
    assert!(
        !shown.contains(BOB) && !shown.contains(ANN_SECRET),
        "{shown}"
    );
    assert!(shown.contains(ANN_BODY), "{shown}");

    // And the data backup from before, restored with these keys, shows neither.
    let oldest = beside(&d, "data-oldest", &d.keys);
    ok(&oldest, &["restore", data_before.to_str().unwrap()]);
    let shown = visible(&oldest);
    assert!(
        !shown.contains(BOB) && !shown.contains(ANN_SECRET),
        "{shown}"
    );
    assert!(shown.contains(ANN_BODY), "{shown}");
    // Ingest still works against the restored keys (a fresh reservoir).
    ingest(
        &d,
        &mail(
            "Cy <cy@example.com>",
            "New",
            "hello",
            "c1@example.com",
            None,
        ),
    );
    assert!(d.cli(&["audit", "verify"]).status.success());
}
