//! The SSH key is the API key: `ssh NAME@desk COMMAND` with the real OpenSSH client in
//! batch mode (no pty) runs the CLI as that agent; another agent's TUI (tmux) sees the
//! change at once; roles, exit codes, stdin bodies, the audit and the rate limit.

mod common;

use common::live::*;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Live updates reach other sessions within a second; the tmux poll adds its own.
const LIVE: Duration = Duration::from_millis(2000);

/// `ssh … COMMAND` in batch mode, without a pty, stdin closed.
fn exec(server: &Server, key: &Path, user: &str, command: &[&str]) -> Output {
    run(server.ssh(key, user).args(command), WAIT)
}

/// Like [`exec`], with `stdin` sent on the channel and then EOF.
fn exec_with_stdin(
    server: &Server,
    key: &Path,
    user: &str,
    command: &[&str],
    stdin: &[u8],
) -> Output {
    let mut child = server
        .ssh(key, user)
        .args(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("ssh")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {}", out(o)))
}

/// `SHA256:…` of a key pair's public half, as `ssh-keygen -l` prints it.
fn fingerprint(key: &Path) -> String {
    let o = run(
        Command::new("ssh-keygen")
            .arg("-lf")
            .arg(key.with_extension("pub")),
        WAIT,
    );
    out(&o).split_whitespace().nth(1).unwrap().to_string()
}

fn desk_with_tickets() -> TestDesk {
    let desk = TestDesk::new();
    for (from, subject) in [
        ("ann@example.com", "Older question"),
        ("ben@example.com", "Printer on fire"),
    ] {
        desk.create_ticket(from, subject, "first");
    }
    desk
}

#[test]
fn list_parses_and_a_set_over_ssh_shows_in_another_agents_tui_at_once() {
    let desk = desk_with_tickets();
    let alice_key = desk.keygen("alice");
    let bob_key = desk.keygen("bob");
    desk.add_agent("alice", &alice_key);
    desk.add_agent("bob", &bob_key);
    let server = desk.serve();

    let alice = Tmux::start_named(
        &desk,
        "alice",
        &interactive_ssh(&server, &alice_key, "alice", &[]),
    );
    alice.wait_for("Queue (");
    assert!(alice.screen().contains("Printer on fire"));

    let listed = json_of(&exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "list", "--json"],
    ));
    let mut numbers: Vec<u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2]);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["subject"] == "Printer on fire"));

    let set = exec(
        &server,
        &bob_key,
        "bob",
        &[
            "ticket", "set", "2", "--status", "pending", "--assign", "bob", "--tag", "+x", "--json",
        ],
    );
    let changed = json_of(&set);
    assert_eq!(changed["action"], "ticket.set");
    assert_eq!(changed["ticket"], 2);
    let fields: Vec<&str> = changed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["assignee", "status", "tags"], "{changed}");

    let (_, took) = alice.wait_until("#2 pending and bob's on alice's queue", LIVE, |s| {
        s.lines()
            .any(|l| l.contains("#2") && l.contains("pending") && l.contains("bob"))
    });
    eprintln!("a change over ssh exec reached the open TUI after {took:?}");

    let shown = json_of(&exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "show", "2", "--json"],
    ));
    assert_eq!(
        (&shown["status"], &shown["assignee"]),
        (&"pending".into(), &"bob".into())
    );
    assert_eq!(shown["tags"], serde_json::json!(["x"]));

    // Filters over SSH, `me` being the agent whose key it is.
    let mine = json_of(&exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "list", "--assignee", "me", "--json"],
    ));
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let alices = json_of(&exec(
        &server,
        &alice_key,
        "alice",
        &["ticket", "list", "--assignee", "me", "--json"],
    ));
    assert_eq!(alices, serde_json::json!([]));
}

#[test]
fn roles_exit_codes_and_the_audit_name_the_agent_and_the_key() {
    let desk = desk_with_tickets();
    let admin_key = desk.keygen("carol");
    let bob_key = desk.keygen("bob");
    desk.add_admin("carol", &admin_key);
    desk.add_agent("bob", &bob_key);
    let server = desk.serve();

    // An agent-role key: admin commands refused with one line and code 5.
    for command in [
        &["audit", "export", "--json"][..],
        &["agent", "list"],
        &["config", "list"],
    ] {
        let o = exec(&server, &bob_key, "bob", command);
        assert_eq!(o.status.code(), Some(5), "{command:?}: {}", err(&o));
        assert_eq!(err(&o).trim_end().lines().count(), 1, "{}", err(&o));
        assert!(err(&o).contains("only an admin can"), "{}", err(&o));
        assert!(o.stdout.is_empty());
    }
    // Never over SSH, whatever the role: code 6, the reason named.
    for key_user in [(&bob_key, "bob"), (&admin_key, "carol")] {
        for command in [
            &["backup", "--out", "/tmp/x"][..],
            &["keys", "backup", "--out", "/tmp/k"],
            &["ingest"],
            &["init"],
        ] {
            let o = exec(&server, key_user.0, key_user.1, command);
            assert_eq!(o.status.code(), Some(6), "{command:?}: {}", err(&o));
            assert!(err(&o).contains("not over SSH"), "{}", err(&o));
        }
    }
    // The server's own settings are not the caller's to give.
    let o = exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "list", "--data", "/tmp"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // Not found, usage.
    let o = exec(&server, &bob_key, "bob", &["ticket", "show", "99"]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    let o = exec(&server, &bob_key, "bob", &["ticket", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let o = exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "set", "1", "--status", "sleeping"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // Quoting as a shell does: one argument with a space.
    let o = exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "set", "1", "--tag", "'+two words'"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("\"two words\" is not allowed"),
        "{}",
        err(&o)
    );

    // Bob changes a ticket; the admin reads the audit over SSH.
    let o = exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "set", "1", "--priority", "urgent"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let events = json_of(&exec(
        &server,
        &admin_key,
        "carol",
        &["audit", "export", "--json"],
    ));
    let bobs = fingerprint(&bob_key);
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "ticket.priority")
        .expect("the change is audited");
    assert_eq!(event["actor"], "bob");
    assert_eq!(event["key_fingerprint"], bobs.as_str());
    assert!(
        event["source"].as_str().unwrap().starts_with("ssh exec "),
        "{event}"
    );
    // The refusals were not writes: nothing audited as bob's admin work.
    assert!(!events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "bob" && e["action"] == "audit.export"));
}

#[test]
fn bodies_come_from_stdin_until_eof() {
    let desk = desk_with_tickets();
    let bob_key = desk.keygen("bob");
    desk.add_agent("bob", &bob_key);
    let server = desk.serve();

    let body = "Line one of the note.\nLine two, from stdin.\n";
    let o = exec_with_stdin(
        &server,
        &bob_key,
        "bob",
        &["ticket", "reply", "1", "--note", "--json"],
        body.as_bytes(),
    );
    let added = json_of(&o);
    assert_eq!(
        (&added["action"], &added["ticket"]),
        (&"ticket.note".into(), &1.into())
    );
    let shown = json_of(&exec(
        &server,
        &bob_key,
        "bob",
        &["ticket", "show", "1", "--json"],
    ));
    let texts: Vec<&str> = shown["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(texts.contains(&body), "{texts:?}");

    let created = exec_with_stdin(
        &server,
        &bob_key,
        "bob",
        &[
            "ticket",
            "create",
            "--from",
            "cy@example.com",
            "--subject",
            "'By phone'",
            "--json",
        ],
        b"Called about the invoice.",
    );
    assert_eq!(json_of(&created)["ticket"], 3);

    // No body at all: refused, one line.
    let o = exec_with_stdin(
        &server,
        &bob_key,
        "bob",
        &["ticket", "reply", "1", "--note"],
        b"",
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("the reply is empty"), "{}", err(&o));
}

#[test]
fn over_the_rate_limit_a_key_is_told_to_wait() {
    let desk = desk_with_tickets();
    desk.cli(&["config", "set", "ssh.exec_per_minute", "3"]);
    let bob_key = desk.keygen("bob");
    let alice_key = desk.keygen("alice");
    desk.add_agent("bob", &bob_key);
    desk.add_agent("alice", &alice_key);
    let server = desk.serve();

    for _ in 0..3 {
        let o = exec(&server, &bob_key, "bob", &["ticket", "list"]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
    let o = exec(&server, &bob_key, "bob", &["ticket", "list"]);
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    assert!(err(&o).contains("rate limit"), "{}", err(&o));
    assert_eq!(err(&o).trim_end().lines().count(), 1);
    assert!(o.stdout.is_empty());
    // Per key: another agent's key is not held up.
    let o = exec(&server, &alice_key, "alice", &["ticket", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}
