//! The triage TUI end to end: two agents in two real terminals (tmux + OpenSSH) on one
//! running server. One changes a ticket and replies; the other sees it without pressing
//! anything. Resizing redraws. An agent added while the server runs can log in.

mod common;

use common::live::*;
use std::time::Duration;

/// Live updates must reach other sessions within a second; the poll adds its own
/// capture latency, so allow a little on top (the benchmark measures the real figure).
const LIVE: Duration = Duration::from_millis(2000);

fn log_in(desk: &TestDesk, server: &Server, name: &str, key: &std::path::Path) -> Tmux {
    let tmux = Tmux::start_named(desk, name, &interactive_ssh(server, key, name, &[]));
    tmux.wait_for("Queue (");
    tmux
}

#[test]
fn two_agents_triage_and_see_each_others_changes_live() {
    let desk = TestDesk::new();
    let alice_key = desk.keygen("alice");
    let bob_key = desk.keygen("bob");
    desk.add_admin("alice", &alice_key);
    desk.add_agent("bob", &bob_key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--subject",
        "Older question",
        "--body",
        "first",
    ]);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ben@example.com",
        "--subject",
        "Printer on fire",
        "--body",
        "It burns.",
    ]);
    let server = desk.serve();

    let alice = log_in(&desk, &server, "alice", &alice_key);
    let bob = log_in(&desk, &server, "bob", &bob_key);
    assert!(bob.screen().contains("Printer on fire"));

    // Alice opens the newest ticket; Bob opens it too and Alice sees him there.
    alice.send_keys("Enter");
    alice.wait_for("Thread (");
    bob.send_keys("Enter");
    bob.wait_for("Thread (");
    alice.wait_until("bob's presence", LIVE, |s| s.contains("bob"));
    bob.send_keys("Escape");
    bob.wait_for("Queue (");

    // Status: the picker starts on the current status (new); two down is pending.
    alice.send_keys("S");
    alice.wait_for("pending");
    alice.send_keys("j");
    alice.send_keys("j");
    alice.send_keys("Enter");
    alice.wait_until("the new status", LIVE, |s| {
        s.lines().take(4).any(|l| l.contains("pending"))
    });
    let (_, took) = bob.wait_until("#2 pending on Bob's queue", LIVE, |s| {
        s.lines().any(|l| l.contains("#2") && l.contains("pending"))
    });
    eprintln!("status change reached the other session after {took:?}");

    // A reply in the editor, sent with Ctrl-S, is stored as an outbound message.
    alice.send_keys("r");
    alice.wait_for("Ctrl-S");
    alice.type_text("Please unplug it, a technician is on the way.");
    alice.send_keys("C-s");
    // The thread's title offers the undo once the reply is stored (the editor alone
    // shows the typed text too, before Ctrl-S has been handled).
    alice.wait_until("the reply in the thread", LIVE, |s| {
        s.contains("u to undo") && s.contains("technician is on the way")
    });
    let shown = desk.cli(&["ticket", "show", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["status"], "pending");
    let last = v["thread"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "outbound");
    assert_eq!(last["author"], "alice");
    assert!(last["text"]
        .as_str()
        .unwrap()
        .contains("technician is on the way"));

    // Bob opens it and reads the reply.
    bob.send_keys("Enter");
    bob.wait_until("the reply on Bob's screen", LIVE, |s| {
        s.contains("technician is on the way")
    });

    // Resize: smaller and larger; the frame follows the new size.
    alice.resize(80, 24);
    let (screen, _) = alice.wait_until("an 80-column frame", LIVE, |s| {
        let top = s.lines().next().unwrap_or("");
        top.starts_with('┌') && top.trim_end().ends_with('┐') && top.chars().count() == 80
    });
    assert!(screen.lines().count() <= 24);
    alice.resize(120, 40);
    alice.wait_until("a 120-column frame", LIVE, |s| {
        s.lines()
            .next()
            .is_some_and(|t| t.trim_end().chars().count() == 120)
    });

    // An agent added while the server runs (through the control socket) can log in.
    let carol_key = desk.keygen("carol");
    let out = desk.cli(&[
        "agent",
        "add",
        "carol",
        "--key-file",
        carol_key.with_extension("pub").to_str().unwrap(),
    ]);
    assert!(out.contains("added agent carol"), "{out}");
    let carol = log_in(&desk, &server, "carol", &carol_key);
    assert!(carol.screen().contains("Printer on fire"));
    drop(carol);

    // q leaves cleanly.
    alice.send_keys("Escape");
    alice.wait_for("Queue (");
    alice.send_keys("q");
    alice.wait_for("[exit 0]");
    assert!(server.terminate().success());
}

/// Demoting an admin while they are logged in takes effect in their open session at
/// once: the status line says so, and the very next admin action is refused by the
/// desk (not only hidden by the screen). The change and the refusal are audited.
#[test]
fn a_demotion_reaches_an_open_session_at_once() {
    let desk = TestDesk::new();
    let boss_key = desk.keygen("boss");
    desk.add_admin("boss", &boss_key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--subject",
        "Hello",
        "--body",
        "hi",
    ]);
    let server = desk.serve();
    let boss = log_in(&desk, &server, "boss", &boss_key);
    assert!(boss.screen().contains("boss (admin)"), "{}", boss.screen());
    // The quarantine is for admins: open it now, while still one.
    boss.send_keys("Q");
    boss.wait_for("Quarantine (");

    // Through the control socket, as the admin at the server would.
    desk.cli(&["agent", "set", "boss", "--role", "agent"]);
    let screen = boss.wait_for("role to agent");
    assert!(screen.contains("boss (agent)"), "{screen}");
    assert!(
        !screen.contains("Quarantine ("),
        "the admin screen closed: {screen}"
    );
    boss.send_keys("Q");
    let screen = boss.wait_for("only an admin can look at the quarantine");
    assert!(screen.contains("boss (agent)"), "{screen}");
    // The audit log is refused by the desk itself, from the role stored now.
    boss.send_keys("L");
    boss.wait_for("only an admin can read the audit log: your role is agent now");

    let audit = desk.audit();
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "agent.set" && e["targets"][1] == "role=agent"),
        "the demotion is audited"
    );
    assert!(
        !audit
            .iter()
            .any(|e| e["action"] == "audit.view" && e["actor"] == "boss"),
        "no audit view by the demoted agent"
    );
    assert!(server.terminate().success());
}
