//! The audit log's hash chain, checked by the real `sealdesk audit verify` after the
//! sled files were tampered with directly.

mod common;

use common::*;

/// A desk with a few audited actions (agent add, ticket create, views).
fn desk_with_events() -> TempDesk {
    let d = TempDesk::init();
    let key = public_key_line(7, "alice@laptop");
    assert!(d
        .cli(&["agent", "add", "alice", "--key", &key])
        .status
        .success());
    for i in 0..3 {
        let out = d.cli(&[
            "ticket",
            "create",
            "--from",
            &format!("c{i}@example.com"),
            "--subject",
            "Help",
            "--body",
            "hi",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert!(d.cli(&["ticket", "show", "2"]).status.success());
    let out = d.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "fresh log must verify: {}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("intact: 5 events"),
        "{}",
        stdout(&out)
    );
    d
}

fn with_audit_tree(d: &TempDesk, f: impl FnOnce(&sled::Tree)) {
    let db = sled::open(d.data.join("db")).unwrap();
    f(&db.open_tree("audit").unwrap());
    db.flush().unwrap();
}

fn key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn assert_broken(d: &TempDesk) {
    let out = d.cli(&["audit", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "verify must fail; stdout {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("audit log BROKEN"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn editing_an_event_breaks_verification() {
    let d = desk_with_events();
    with_audit_tree(&d, |t| {
        let mut v = t.get(key(3)).unwrap().unwrap().to_vec();
        let i = v.len() / 2;
        v[i] ^= 1;
        t.insert(key(3), v).unwrap();
    });
    assert_broken(&d);
}

#[test]
fn deleting_an_event_breaks_verification() {
    let d = desk_with_events();
    with_audit_tree(&d, |t| {
        t.remove(key(2)).unwrap();
    });
    assert_broken(&d);
}

#[test]
fn deleting_the_last_event_breaks_verification() {
    let d = desk_with_events();
    with_audit_tree(&d, |t| {
        t.remove(key(5)).unwrap();
    });
    assert_broken(&d);
}

#[test]
fn reordering_events_breaks_verification() {
    let d = desk_with_events();
    with_audit_tree(&d, |t| {
        let a = t.get(key(2)).unwrap().unwrap();
        let b = t.get(key(4)).unwrap().unwrap();
        t.insert(key(2), b).unwrap();
        t.insert(key(4), a).unwrap();
    });
    assert_broken(&d);
}

#[test]
fn renumbering_events_breaks_verification() {
    // Move event 5 to slot 6 and 4 to 5: still a sequence of sealed values, wrong keys.
    let d = desk_with_events();
    with_audit_tree(&d, |t| {
        let five = t.remove(key(5)).unwrap().unwrap();
        t.insert(key(6), five).unwrap();
    });
    assert_broken(&d);
}
