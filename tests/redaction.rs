//! Redaction and correction reach backups: one message (or one attachment) of a
//! customer is deleted, or their profile corrected, and the old text is unreadable
//! live, in every file of the data and keys dirs, and in a backup taken before and
//! restored with today's keys — while the same customer's other data stays readable
//! there. Real binary, real files.

mod common;

use common::*;
use std::path::Path;

const NAME: &str = "NameCanary4Kd";
const SUBJECT: &str = "SubjCanary8Wm";
const BODY1: &str = "BodyOneCanary2Rt";
const FILE1: &str = "FileOneNameCanary5Hb";
const BYTES1: &str = "FileOneBytesCanary9Lq";
const BODY2: &str = "BodyTwoCanary6Ns";
const FILE2: &str = "FileTwoNameCanary3Jv";
const BYTES2: &str = "FileTwoBytesCanary1Pc";

fn mail(
    subject: &str,
    body: &str,
    file: &str,
    bytes: &str,
    id: &str,
    reply_to: Option<&str>,
) -> String {
    let threading = reply_to
        .map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {NAME} <ann@example.com>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nMy secret is {body}.\r\n--B\r\nContent-Type: text/plain; name=\"{file}.txt\"\r\nContent-Disposition: attachment; filename=\"{file}.txt\"\r\n\r\nfile {bytes}\r\n--B--\r\n"
    )
}

/// Ann writes twice into one ticket: message 1 (BODY1, FILE1) and message 2 (BODY2,
/// FILE2), under the subject SUBJECT and her name NAME.
fn populated() -> TempDesk {
    let d = TempDesk::with_support_address();
    ingest(
        &d,
        &mail(
            &format!("Help {SUBJECT}"),
            BODY1,
            FILE1,
            BYTES1,
            "a1@example.com",
            None,
        ),
    );
    ingest(
        &d,
        &mail(
            &format!("Re: Help {SUBJECT}"),
            BODY2,
            FILE2,
            BYTES2,
            "a2@example.com",
            Some("a1@example.com"),
        ),
    );
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["thread"].as_array().unwrap().len(), 2, "{t}");
    d
}

fn backup(d: &TempDesk, name: &str) -> std::path::PathBuf {
    let path = d.dir.path().join(name);
    ok(d, &["backup", "--out", path.to_str().unwrap()]);
    path
}

/// The backup restored through the CLI into a fresh data dir, with today's keys.
fn restored(d: &TempDesk, backup: &Path, name: &str) -> TempDesk {
    let r = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join(name),
        keys: d.keys.clone(),
    };
    ok(&r, &["restore", backup.to_str().unwrap()]);
    r
}

/// Everything Ann's export holds, unpacked, as one string (names and contents).
fn export_text(d: &TempDesk) -> String {
    let out = d.dir.path().join(format!(
        "export-{}.tar.gz",
        d.data.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&out);
    ok(
        d,
        &[
            "customer",
            "export",
            "ann@example.com",
            "--out",
            out.to_str().unwrap(),
            "--override",
            "test of redaction",
        ],
    );
    let unpacked = tempfile::tempdir().unwrap();
    let tar = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&out)
        .arg("-C")
        .arg(unpacked.path())
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    let mut text = String::new();
    for path in walk(unpacked.path()) {
        text.push_str(&path.to_string_lossy());
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        text.push('\n');
    }
    std::fs::remove_file(&out).unwrap();
    text
}

/// The deep scan (inside gzip/tar/zip, UTF-16, base64, quoted-printable) finds none
/// of the canaries in any file under `dirs`.
fn no_hits(dirs: &[&Path], canaries: &[&str]) {
    let hits = common::deep_scan::hits(dirs, canaries);
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn redacting_a_message_makes_it_unreadable_live_and_in_an_earlier_backup_and_spares_the_rest() {
    let d = populated();
    let before = backup(&d, "before.bak");
    let export = export_text(&d);
    for c in [NAME, SUBJECT, BODY1, FILE1, BYTES1, BODY2, FILE2, BYTES2] {
        assert!(
            export.contains(c),
            "the export holds {c} before: the check can fail"
        );
    }

    // Refused cleanly: no reason, no such message, no such attachment.
    assert_clean_failure(
        &d.cli(&["ticket", "redact", "1", "--message", "1", "--reason", " "]),
        "--reason",
    );
    assert_clean_failure(
        &d.cli(&["ticket", "redact", "1", "--message", "9", "--reason", "x"]),
        "no message 9",
    );
    assert_clean_failure(
        &d.cli(&[
            "ticket",
            "redact",
            "1",
            "--message",
            "1",
            "--attachment",
            "nope.txt",
            "--reason",
            "x",
        ]),
        "no attachment named",
    );

    let out = ok(
        &d,
        &[
            "ticket",
            "redact",
            "1",
            "--message",
            "1",
            "--reason",
            "sent by mistake",
        ],
    );
    assert!(out.contains("[redacted: sent by mistake]"), "{out}");
    // The archive the export above left in the desk held the text: it went too.
    assert!(out.contains("1 export archive(s)"), "{out}");

    // Live: a placeholder in its place, the rest as it was.
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    let thread = t["thread"].as_array().unwrap();
    assert_eq!(thread[0]["text"], "[redacted: sent by mistake]");
    assert_eq!(thread[0]["kind"], "inbound", "kind kept");
    assert!(thread[0]["attachments"].as_array().unwrap().is_empty());
    assert!(thread[1]["text"].as_str().unwrap().contains(BODY2));
    assert_eq!(thread[1]["attachments"][0]["name"], format!("{FILE2}.txt"));
    assert!(t["subject"].as_str().unwrap().contains(SUBJECT));
    let live_export = export_text(&d);
    for c in [BODY1, FILE1, BYTES1] {
        assert!(!live_export.contains(c), "{c} is still in the export");
    }
    for c in [NAME, SUBJECT, BODY2, FILE2, BYTES2] {
        assert!(live_export.contains(c), "{c} went missing from the export");
    }
    // Audited, with the reason.
    let audit = ok(&d, &["audit", "export", "--json"]);
    assert!(
        audit.contains("ticket.redact") && audit.contains("reason=sent by mistake"),
        "{audit}"
    );
    assert!(d.cli(&["audit", "verify"]).status.success());

    // No file of the data or keys dir holds the removed text in any encoding.
    no_hits(&[&d.data, &d.keys], &[BODY1, FILE1, BYTES1]);

    // The backup taken before, restored with today's keys: message 1 cannot be read
    // (its key is destroyed), everything else of Ann's can.
    let r = restored(&d, &before, "restored");
    let t = json(&r, &["ticket", "show", "1", "--json"]);
    let shown = t.to_string();
    for c in [BODY1, FILE1] {
        assert!(
            !shown.contains(c),
            "{c} readable in the restored backup: {t}"
        );
    }
    assert_eq!(t["thread"][0]["kind"], "erased", "{t}");
    assert!(
        t["thread"][1]["text"].as_str().unwrap().contains(BODY2),
        "{t}"
    );
    assert!(t["subject"].as_str().unwrap().contains(SUBJECT));
    let c = json(&r, &["customer", "show", "ann@example.com", "--json"]);
    assert!(c.to_string().contains(NAME), "{c}");
    let old_export = export_text(&r);
    for c in [BODY1, FILE1, BYTES1] {
        assert!(
            !old_export.contains(c),
            "{c} in the restored backup's export"
        );
    }
    for c in [NAME, SUBJECT, BODY2, FILE2, BYTES2] {
        assert!(
            old_export.contains(c),
            "{c} missing from the restored backup's export"
        );
    }
    no_hits(&[&r.data, &r.keys], &[BODY1, FILE1, BYTES1]);
}

#[test]
fn redacting_one_attachment_keeps_the_text_live_and_removes_the_file_from_earlier_backups() {
    let d = populated();
    let before = backup(&d, "before.bak");
    let out = ok(
        &d,
        &[
            "ticket",
            "redact",
            "1",
            "--message",
            "2",
            "--attachment",
            &format!("{FILE2}.txt"),
            "--reason",
            "wrong file",
        ],
    );
    assert!(out.contains("attachment"), "{out}");
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert!(
        t["thread"][1]["text"].as_str().unwrap().contains(BODY2),
        "text kept: {t}"
    );
    assert!(t["thread"][1]["attachments"].as_array().unwrap().is_empty());
    assert!(
        t["thread"][0]["text"].as_str().unwrap().contains(BODY1),
        "{t}"
    );
    let live_export = export_text(&d);
    assert!(!live_export.contains(FILE2) && !live_export.contains(BYTES2));
    assert!(live_export.contains(BODY2) && live_export.contains(BYTES1));
    no_hits(&[&d.data, &d.keys], &[FILE2, BYTES2]);

    let r = restored(&d, &before, "restored");
    let old_export = export_text(&r);
    assert!(
        !old_export.contains(FILE2),
        "the name in the restored backup"
    );
    assert!(
        !old_export.contains(BYTES2),
        "the bytes in the restored backup"
    );
    for c in [NAME, SUBJECT, BODY1, FILE1, BYTES1] {
        assert!(
            old_export.contains(c),
            "{c} missing from the restored backup's export"
        );
    }
}

#[test]
fn correcting_a_name_leaves_the_old_name_unreadable_in_an_earlier_backup() {
    let d = populated();
    ok(
        &d,
        &["customer", "set", "ann@example.com", "--legal-hold", "true"],
    );
    let before = backup(&d, "before.bak");
    ok(
        &d,
        &[
            "customer",
            "set",
            "ann@example.com",
            "--name",
            "Ann Corrected",
        ],
    );
    let c = json(&d, &["customer", "show", "ann@example.com", "--json"]);
    assert_eq!(c["name"], "Ann Corrected", "{c}");
    no_hits(&[&d.data, &d.keys], &[NAME]);

    let r = restored(&d, &before, "restored");
    // The old profile's key is destroyed: its name is gone from the restored desk, its
    // flags (kept apart under the master key) and her messages (their own keys) stay.
    let c = json(&r, &["customer", "show", "ann@example.com", "--json"]);
    assert!(!c.to_string().contains(NAME), "{c}");
    assert_eq!(c["flags"]["legal_hold"], true, "{c}");
    let t = json(&r, &["ticket", "show", "1", "--json"]);
    assert!(
        t["thread"][1]["text"].as_str().unwrap().contains(BODY2),
        "{t}"
    );
    assert!(
        t["thread"][0]["text"].as_str().unwrap().contains(BODY1),
        "{t}"
    );
    // Her next mail still threads into her ticket on the restored desk.
    ingest(
        &r,
        "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Re: again\r\nMessage-ID: <a3@example.com>\r\nIn-Reply-To: <a2@example.com>\r\n\r\nthird\r\n",
    );
    let t = json(&r, &["ticket", "show", "1", "--json"]);
    assert_eq!(t["thread"].as_array().unwrap().len(), 3, "{t}");
    no_hits(&[&r.data, &r.keys], &[NAME]);
}

/// While `serve` runs, redaction and a keys backup go through the control socket, and
/// the server destroys the key at once; `keys restore` is refused until it stops.
#[test]
fn redaction_and_keys_backup_work_while_the_server_runs() {
    let desk = common::live::TestDesk::new();
    desk.cli(&[
        "config",
        "set",
        "mail.from",
        "Support <support@desk.example>",
    ]);
    let raw = mail(
        &format!("Help {SUBJECT}"),
        BODY1,
        FILE1,
        BYTES1,
        "l1@example.com",
        None,
    );
    let out = desk.cli_with_stdin(&["ingest"], raw.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backup = desk.path("before.bak");
    desk.cli(&["backup", "--out", backup.to_str().unwrap()]);

    let server = desk.serve();
    let out = desk.cli(&[
        "ticket",
        "redact",
        "1",
        "--message",
        "1",
        "--reason",
        "live",
    ]);
    assert!(out.contains("[redacted: live]"), "{out}");
    let shown = desk.cli(&["ticket", "show", "1", "--json"]);
    assert!(
        !shown.contains(BODY1) && shown.contains("[redacted: live]"),
        "{shown}"
    );
    let keys_backup = desk.path("live.keys");
    let out = desk.cli(&["keys", "backup", "--out", keys_backup.to_str().unwrap()]);
    assert!(out.contains("keys backup written"), "{out}");
    let refused = desk.try_cli(&["keys", "restore", keys_backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop the server first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(server.terminate().success());

    // The server destroyed the key: the backup from before cannot show the text.
    let r = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: desk.path("restored"),
        keys: desk.path("keys"),
    };
    ok(&r, &["restore", backup.to_str().unwrap()]);
    let t = json(&r, &["ticket", "show", "1", "--json"]);
    assert!(!t.to_string().contains(BODY1), "{t}");
    assert!(t["subject"].as_str().unwrap().contains(SUBJECT), "{t}");
    no_hits(
        &[&r.data, &desk.path("data"), &desk.path("keys")],
        &[BODY1, FILE1, BYTES1],
    );
}
