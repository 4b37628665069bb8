//! Drafts and undo send end to end (Part 9): the real binary serving, an agent in a real
//! terminal (tmux + OpenSSH), a real SMTP sink as the relay.
//!
//! A reply typed and then lost to a dropped connection and a server restart is still
//! there; a reply taken back with `u` within `mail.send_delay` never reaches the relay,
//! and one left alone arrives after the delay.

mod common;

use common::live::*;
use common::mailsink::Sink;
use std::process::Command;
use std::time::{Duration, Instant};

fn log_in(desk: &TestDesk, server: &Server, name: &str, key: &std::path::Path) -> Tmux {
    let tmux = Tmux::start_named(desk, name, &interactive_ssh(server, key, name, &[]));
    tmux.wait_for("Queue (");
    tmux
}

/// Kills the `ssh` client running in the tmux pane, as a dropped connection would end
/// it: no goodbye to the server.
fn kill_ssh_client(tmux: &Tmux) {
    let out = run(
        tmux.command()
            .args(["display-message", "-p", "-t", "t", "#{pane_pid}"]),
        Duration::from_secs(10),
    );
    let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!shell.is_empty(), "tmux names the pane's process");
    let children = run(
        Command::new("pgrep").args(["-P", &shell, "-x", "ssh"]),
        Duration::from_secs(10),
    );
    let pids = String::from_utf8_lossy(&children.stdout).to_string();
    let pids: Vec<&str> = pids.split_whitespace().collect();
    assert_eq!(pids.len(), 1, "one ssh client in the pane: {pids:?}");
    let killed = run(
        Command::new("kill").args(["-KILL", pids[0]]),
        Duration::from_secs(10),
    );
    assert!(killed.status.success());
    tmux.wait_for("[exit ");
}

fn ticket_json(desk: &TestDesk, n: u32) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &n.to_string(), "--json"])).unwrap()
}

fn outbound_count(desk: &TestDesk, n: u32) -> usize {
    ticket_json(desk, n)["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "outbound")
        .count()
}

#[test]
fn a_draft_survives_a_dropped_connection_and_a_server_restart() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--subject",
        "Printer on fire",
        "--body",
        "It burns.",
    ]);
    let server = desk.serve();
    let alice = log_in(&desk, &server, "alice", &key);
    alice.send_keys("Enter");
    alice.wait_for("Thread (1)");
    alice.send_keys("r");
    alice.wait_for("Reply to #1");
    alice.type_text("Please unplug it, a technician is on the way.");
    alice.wait_for("technician is on the way.");
    // At once, before the pause that saves a draft: the session's end must save it.
    kill_ssh_client(&alice);
    drop(alice);
    assert!(server.terminate().success(), "SIGTERM stops it cleanly");

    let server = desk.serve();
    let alice = log_in(&desk, &server, "alice", &key);
    let screen = alice.screen();
    let row = screen
        .lines()
        .find(|l| l.contains("Printer on fire"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains('✎'), "the queue marks the draft: {screen}");
    alice.send_keys("Enter");
    alice.wait_for("Thread (1)");
    alice.send_keys("r");
    let screen = alice.wait_for("your draft reply is back");
    assert!(
        screen.contains("Please unplug it, a technician is on the way."),
        "{screen}"
    );
    assert!(screen.contains("To: ann@example.com"), "{screen}");
    // Typing goes on at the end of it. At 80×24 a long line wraps by words inside the
    // editor, and the thread stays in view above it.
    alice.resize(80, 24);
    alice.type_text(" Thanks! He will bring a new fuser and take the old one away for recycling.");
    let (screen, _) = alice.wait_until(
        "the wrapped line at 80 columns",
        Duration::from_secs(10),
        |s| s.contains("recycling.") && s.lines().next().is_some_and(|l| l.chars().count() == 80),
    );
    assert!(
        screen.contains("It burns."),
        "the thread is visible: {screen}"
    );
    assert!(screen.contains("Thread (1)"), "{screen}");
    let body: Vec<String> = screen
        .lines()
        .skip_while(|l| !l.contains("Bcc:"))
        .skip(1)
        .map(|l| {
            l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_string()
        })
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        body.join(" "),
        "Please unplug it, a technician is on the way. Thanks! He will bring a new fuser and take the old one away for recycling.",
        "{screen}"
    );
    assert!(body.len() >= 2, "wrapped: {screen}");
    alice.send_keys("C-s");
    alice.wait_for("u to undo");
    assert_eq!(outbound_count(&desk, 1), 1);
    let audit = desk.audit();
    assert!(audit.iter().any(|e| e["action"] == "ticket.reply"));
    assert!(server.terminate().success());
}

#[test]
fn undo_send_keeps_the_mail_from_the_relay_and_without_it_the_mail_arrives_after_the_delay() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let delay = 4;
    desk.cli(&["config", "set", "mail.send_delay", &delay.to_string()]);
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--subject",
        "Printer on fire",
        "--body",
        "It burns.",
    ]);
    let server = desk.serve();
    let alice = log_in(&desk, &server, "alice", &key);
    alice.send_keys("Enter");
    alice.wait_for("Thread (1)");

    // Sent, then taken back within the delay.
    alice.send_keys("r");
    alice.wait_for("Reply to #1");
    alice.type_text("Unplug it.");
    alice.wait_for("Unplug it.");
    alice.send_keys("C-s");
    alice.wait_for("u to undo");
    alice.send_keys("u");
    let screen = alice.wait_for("reply taken back");
    assert!(screen.contains("Unplug it."), "the draft is back: {screen}");
    assert!(screen.contains("Reply to #1"), "{screen}");
    assert_eq!(outbound_count(&desk, 1), 0, "the reply left the thread");
    // Past the delay and the outbox's 5 s round: nothing ever reached the relay.
    std::thread::sleep(Duration::from_secs(delay + 7));
    assert!(
        sink.received.lock().unwrap().is_empty(),
        "a reply taken back is never sent"
    );
    assert!(desk
        .audit()
        .iter()
        .any(|e| e["action"] == "ticket.unsend" && e["actor"] == "alice"));

    // Sent again and left alone: it arrives, not before the delay.
    alice.type_text(" Now.");
    alice.wait_for("Unplug it. Now.");
    let sent_at = Instant::now();
    alice.send_keys("C-s");
    alice.wait_for("u to undo");
    let got = sink.wait_for_mail(1);
    let took = sent_at.elapsed();
    assert!(
        took >= Duration::from_secs(delay - 1),
        "the mail waited out the delay: {took:?}"
    );
    let mail = sealdesk_mail::parse::parse(&got[0]).expect("a well-formed mail");
    assert_eq!(mail.to, vec!["ann@example.com"]);
    assert!(mail.text.contains("Unplug it. Now."), "{}", mail.text);
    // Too late now.
    alice.send_keys("u");
    alice.wait_for("nothing to take back");
    assert_eq!(sink.received.lock().unwrap().len(), 1);
    assert!(server.terminate().success());
}
