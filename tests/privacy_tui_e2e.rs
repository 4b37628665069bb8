//! The privacy screens through a real SSH session in tmux: consent recorded and
//! withdrawn, a request verified, extended and completed, an export written and an
//! account cancelled — all by keys, checked through the CLI (the control socket).

mod common;

use common::live::*;
use std::time::Duration;

const SCREEN: Duration = Duration::from_secs(5);

fn json(desk: &TestDesk, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&desk.cli(args)).unwrap()
}

#[test]
fn privacy_promises_kept_from_the_keyboard() {
    let desk = TestDesk::new();
    let key = desk.keygen("bob");
    desk.add_admin("bob", &key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ben@example.com",
        "--subject",
        "Printer",
        "--body",
        "x",
    ]);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--name",
        "Ann Lee",
        "--subject",
        "What do you hold on me?",
        "--body",
        "A copy please.",
    ]);
    let server = desk.serve();
    let t = Tmux::start(&desk, &interactive_ssh(&server, &key, "bob", &[]));
    t.resize(160, 45);
    t.wait_for("Queue (2)");

    // Ann's ticket is on top; c opens her, C her consent.
    t.send_keys("Enter");
    t.wait_for("What do you hold on me?");
    t.send_keys("c");
    t.wait_for("Ann Lee");
    t.send_keys("C");
    t.wait_for("Consent: Ann Lee");
    t.send_keys("g");
    t.wait_for("Record consent: given");
    t.send_keys("Space");
    t.send_keys("Enter");
    t.wait_until("the consent recorded", SCREEN, |s| {
        s.contains("recorded: purpose 040 given")
    });
    let c = json(&desk, &["consent", "list", "ann@example.com", "--json"]);
    assert_eq!(c["history"][0]["state"], "given");
    assert_eq!(c["history"][0]["by"], "bob");
    t.send_keys("w");
    t.wait_for("Record consent: withdrawn");
    t.send_keys("Enter");
    t.wait_until("the withdrawal", SCREEN, |s| s.contains("History (2"));
    let c = json(&desk, &["consent", "list", "ann@example.com", "--json"]);
    assert_eq!(c["history"].as_array().unwrap().len(), 2);
    assert_eq!(c["history"][1]["state"], "withdrawn");

    // Back to the ticket: P makes it a privacy request (access).
    t.send_keys("Escape");
    t.send_keys("Escape");
    t.wait_for("Thread (");
    t.send_keys("P");
    t.wait_for("access: see what we hold");
    t.send_keys("Enter");
    t.wait_until("the request opened", SCREEN, |s| {
        s.contains("access request opened")
    });
    t.send_keys("Escape");
    t.wait_for("Queue (2)");
    t.wait_until("the request marker in the queue", SCREEN, |s| {
        s.lines()
            .any(|l| l.contains("What do you hold") && l.contains('§'))
    });
    t.send_keys("R");
    t.wait_for("unverified");
    t.send_keys("Enter");
    t.wait_for("Privacy request: access");
    t.send_keys("v");
    t.type_text("called back on the number on file");
    t.send_keys("Enter");
    t.wait_until("verified", SCREEN, |s| s.contains("identity verified"));
    t.send_keys("x");
    t.type_text("archive retrieval");
    t.send_keys("Enter");
    t.wait_until("extended", SCREEN, |s| s.contains("archive retrieval"));
    t.send_keys("c");
    t.type_text("copy sent");
    t.send_keys("Enter");
    t.wait_until("completed", SCREEN, |s| s.contains("request completed"));
    let r = json(&desk, &["request", "list", "--json"]);
    assert_eq!(r[0]["status"], "completed");
    assert_eq!(
        r[0]["verification"]["method"],
        "called back on the number on file"
    );
    assert_eq!(r[0]["extended"]["reason"], "archive retrieval");
    assert_eq!(r[0]["decision"]["by"], "bob");

    // u opens the customer: E exports, X cancels after typing the address.
    t.send_keys("u");
    t.wait_for("Ann Lee");
    t.send_keys("E");
    let (screen, _) = t.wait_until("the stored export", SCREEN, |s| {
        s.contains("kept sealed in the desk")
    });
    assert!(screen.contains("kept sealed in the desk"), "{screen}");
    assert!(
        !desk.path("data").join("exports").exists(),
        "no plaintext archive in the data dir"
    );
    let listed = json(&desk, &["customer", "exports", "ann@example.com", "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    // No erasure request: an admin types why, audited as an override.
    t.send_keys("X");
    t.wait_for("why erase anyway");
    t.type_text("asked in person at the desk");
    t.send_keys("Enter");
    t.wait_for("Type ann@example.com to erase this customer");
    t.type_text("ann@example.com");
    t.send_keys("Enter");
    // Not just "erased": the confirmation prompt itself says messages become "[erased]".
    t.wait_until("the erasure", SCREEN, |s| s.contains("customer erased"));
    let gone = desk
        .command()
        .args(["customer", "show", "ann@example.com"])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "the customer is still there after the erasure"
    );
    let ticket = json(&desk, &["ticket", "show", "2", "--json"]);
    assert_eq!(ticket["subject"], "[erased]");
    assert!(desk.cli(&["audit", "verify"]).contains("intact"));
    let audit = desk.cli(&["audit", "export", "--json"]);
    assert!(audit.contains("erasure.override"), "{audit}");
    assert!(server.terminate().success());
}
