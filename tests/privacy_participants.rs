//! Erasure reaches a participant: someone who was only in Cc of another customer's
//! mail, and then wrote into that ticket themselves. After their erasure nothing of
//! them can be read through the desk — not their own message, not their name and
//! address in the Cc lines of the requester's mail or the agent's reply, not the
//! requester's original mail (whose headers named them), not the requester's export —
//! live or in a backup taken before, restored with today's keys; the requester's own
//! text stays readable.

mod common;

use common::*;
use std::path::{Path, PathBuf};

const EVE_NAME: &str = "EveCcNameCanary61a";
const EVE_LOCAL: &str = "evecanary62s";
const EVE_BODY: &str = "EveBodyCanary63d";
const BOB_BODY: &str = "BobBodyCanary64f";
const EVE_ALL: [&str; 3] = [EVE_NAME, EVE_LOCAL, EVE_BODY];

fn eve_address() -> String {
    format!("{EVE_LOCAL}@example.com")
}

fn backup(d: &TempDesk, name: &str) -> PathBuf {
    let path = d.dir.path().join(name);
    ok(d, &["backup", "--out", path.to_str().unwrap()]);
    path
}

fn restored_with_todays_keys(d: &TempDesk, backup: &Path, name: &str) -> TempDesk {
    let r = TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data: d.dir.path().join(name),
        keys: d.keys.clone(),
    };
    ok(&r, &["restore", backup.to_str().unwrap()]);
    r
}

/// Everything an agent can read about ticket 1 and its requester, as one string: the
/// ticket with its thread and participants, the requester's profile and their export.
fn readable(d: &TempDesk) -> String {
    let ticket = ok(d, &["ticket", "show", "1", "--json"]);
    let bob = ok(d, &["customer", "show", "bob@example.com", "--json"]);
    let out = tempfile::tempdir().unwrap();
    let exported = ok(
        d,
        &[
            "customer",
            "export",
            "bob@example.com",
            "--override",
            "asked at the counter",
        ],
    );
    let id = exported.split_whitespace().nth(1).unwrap().to_string();
    let copy = out.path().join("bob.tar.gz");
    ok(
        d,
        &[
            "customer",
            "exports",
            "bob@example.com",
            "--save",
            &id,
            "--out",
            copy.to_str().unwrap(),
        ],
    );
    let in_export = deep_scan::hits(&[out.path()], &EVE_ALL);
    let bob_in_export = deep_scan::hits(&[out.path()], &[BOB_BODY]);
    assert!(
        !bob_in_export.is_empty(),
        "Bob's export holds his own text: {exported} {ticket}"
    );
    format!("{ticket}\n{bob}\nexport hits: {in_export:?}")
}

#[test]
fn erasing_a_participant_reaches_others_mail_and_earlier_backups() {
    let d = TempDesk::with_support_address();
    let bob_mail = format!(
        "From: Bob <bob@example.com>\r\nTo: support@desk.example\r\nCc: {EVE_NAME} <{}>\r\nSubject: Printer on fire\r\nMessage-ID: <b1@example.com>\r\n\r\nIt burns, says {BOB_BODY}.\r\n",
        eve_address()
    );
    ingest(&d, &bob_mail);
    let eve_mail = format!(
        "From: {EVE_NAME} <{}>\r\nTo: support@desk.example\r\nCc: Bob <bob@example.com>\r\nSubject: Re: Printer on fire\r\nMessage-ID: <e1@example.com>\r\nIn-Reply-To: <b1@example.com>\r\nReferences: <b1@example.com>\r\n\r\nI saw it too: {EVE_BODY}.\r\n",
        eve_address()
    );
    ingest(&d, &eve_mail);
    ok(
        &d,
        &["ticket", "reply", "1", "--body", "We are on our way."],
    );

    // Before: she is there, in Cc and in the thread (so the checks below can fail).
    let before = readable(&d);
    for canary in EVE_ALL {
        assert!(
            before.contains(canary),
            "{canary} readable before: {before}"
        );
    }
    let t = json(&d, &["ticket", "show", "1", "--json"]);
    assert_eq!(
        t["thread"].as_array().unwrap().len(),
        3,
        "Eve's mail joined Bob's ticket: {t}"
    );
    let before_erasure = backup(&d, "before.backup");

    ok(
        &d,
        &[
            "customer",
            "cancel",
            &eve_address(),
            "--yes",
            "--override",
            "asked at the counter",
        ],
    );

    let after = readable(&d);
    for canary in EVE_ALL {
        assert!(!after.contains(canary), "{canary} still readable: {after}");
    }
    assert!(after.contains(BOB_BODY), "Bob's own text stays: {after}");
    let hits = deep_scan::hits(&[&d.data, &d.keys], &EVE_ALL);
    assert!(hits.is_empty(), "live files: {hits:?}");

    let r = restored_with_todays_keys(&d, &before_erasure, "restored");
    let restored = readable(&r);
    for canary in EVE_ALL {
        assert!(
            !restored.contains(canary),
            "{canary} readable in the restored backup: {restored}"
        );
    }
    assert!(restored.contains(BOB_BODY), "Bob intact in the backup");
    let hits = deep_scan::hits(&[&r.data], &EVE_ALL);
    assert!(hits.is_empty(), "restored files: {hits:?}");
}
