//! The SSH server end to end: the real binary, the real OpenSSH client, and tmux as
//! the agent's terminal.

mod common;

use common::live::*;
use std::time::{Duration, Instant};
#[test]
fn without_a_terminal_one_line_explains_and_the_session_ends() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();
    assert!(
        server.banner.contains("host key: SHA256:"),
        "{}",
        server.banner
    );
    assert!(
        server
            .banner
            .contains(&format!("ssh -p {} alice@127.0.0.1", server.port)),
        "{}",
        server.banner
    );

    let started = Instant::now();
    let out = run(server.ssh(&key, "alice").arg("-T"), WAIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "sealdesk: this is an interactive desk; connect with a terminal (ssh -t -p {} alice@<host>)\r\n",
            server.port
        )
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // A command is the CLI's (tests/ssh_api.rs): one it does not know is a usage error.
    let out = run(server.ssh(&key, "alice").arg("ls"), WAIT);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown command 'ls'") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn unknown_keys_and_other_agents_keys_are_refused() {
    let desk = TestDesk::new();
    let alice_key = desk.keygen("alice");
    let bob_key = desk.keygen("bob");
    let stranger_key = desk.keygen("stranger");
    let carol_key = desk.keygen("carol");
    desk.add_agent("alice", &alice_key);
    desk.add_agent("bob", &bob_key);
    // Removed before the server starts: carol's key must not work.
    desk.add_agent("carol", &carol_key);
    desk.cli(&["agent", "remove", "carol"]);
    let events_before = audit_events(&desk);
    let server = desk.serve();

    for (key, user, what) in [
        (&stranger_key, "alice", "an unregistered key"),
        (&stranger_key, "stranger", "an unregistered key and name"),
        (&alice_key, "bob", "alice's key as bob"),
        (&bob_key, "alice", "bob's key as alice"),
        (&carol_key, "carol", "a removed agent's key"),
    ] {
        let out = run(server.ssh(key, user).arg("-T"), WAIT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{what}: {stderr}");
        assert!(stderr.contains("Permission denied"), "{what}: {stderr}");
        assert!(out.stdout.is_empty(), "{what}");
    }

    // The rightful owners still get in (and are told to use a terminal).
    for (key, user) in [(&alice_key, "alice"), (&bob_key, "bob")] {
        let out = run(server.ssh(key, user).arg("-T"), WAIT);
        assert_eq!(out.status.code(), Some(1), "{user}");
    }

    // Five refused connections and two logins, each one audit event.
    assert!(server.terminate().success());
    assert_eq!(audit_events(&desk), events_before + 7);
}

/// The number of events in the (intact) audit log.
fn audit_events(desk: &TestDesk) -> u64 {
    let out = desk.cli(&["audit", "verify"]);
    // "audit log intact: N events, …"
    out.strip_prefix("audit log intact: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected audit verify output: {out}"))
}

#[test]
fn an_agent_sees_the_queue_and_quits() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "customer@example.com",
        "--subject",
        "Printer is on fire",
        "--body",
        "Please help.",
    ]);
    let server = desk.serve();

    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    let screen = tmux.wait_for("Printer is on fire");
    let status_line = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        status_line.contains("alice"),
        "the status line names the agent: {screen}"
    );
    assert!(screen.contains("#1"), "{screen}");
    assert!(tmux.styled_screen().contains("\x1b[38;"), "drawn in colour");

    tmux.send_keys("q");
    let screen = tmux.wait_for("[exit 0]");
    assert!(
        !screen.contains("Printer is on fire"),
        "the alternate screen was left: {screen}"
    );
}

#[test]
fn shutdown_restores_terminals_and_says_why() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();

    let tmux = Tmux::start(&desk, &interactive_ssh(&server, &key, "alice", &[]));
    tmux.wait_for("No tickets match these filters.");
    let status = server.terminate();
    assert!(status.success(), "the server exits cleanly: {status:?}");
    let screen = tmux.wait_for("[exit ");
    assert!(
        screen.contains("sealdesk: server shutting down"),
        "{screen}"
    );
    assert!(
        !screen.contains("No tickets match these filters."),
        "{screen}"
    );

    // The store was flushed and closed: the CLI opens it, and the login is in the
    // intact audit chain (after `agent add`).
    assert_eq!(audit_events(&desk), 2);
}

#[test]
fn no_color_from_the_client_drops_colours() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let server = desk.serve();

    let tmux = Tmux::start(
        &desk,
        &interactive_ssh(&server, &key, "alice", &["-o", "SetEnv=NO_COLOR=1"]),
    );
    tmux.wait_for("No tickets match these filters.");
    let styled = tmux.styled_screen();
    assert!(!styled.contains("\x1b[38;"), "{styled:?}");
    assert!(!styled.contains("\x1b[48;"), "{styled:?}");
    assert!(styled.contains("\x1b[1m"), "bold stays: {styled:?}");
    tmux.send_keys("q");
    tmux.wait_for("[exit 0]");
}
