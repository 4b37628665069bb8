//! The second factor end to end: `agent set --totp` through the CLI, then the real
//! binary's SSH server, the real OpenSSH client asking for the code in tmux, and codes
//! computed here from the printed secret.

mod common;

use common::live::*;

/// Enrols `name` in the second factor; returns the secret from the printed URI.
fn enrol(desk: &TestDesk, name: &str) -> (totp_rs::Totp, String) {
    let out = desk.cli(&["agent", "set", name, "--totp"]);
    let uri = out
        .lines()
        .find(|l| l.starts_with("otpauth://"))
        .unwrap_or_else(|| panic!("no otpauth URI in:\n{out}"));
    let prefix = format!("otpauth://totp/sealdesk:{name}?secret=");
    let secret = uri
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("&issuer=sealdesk"))
        .unwrap_or_else(|| panic!("unexpected URI {uri}"));
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
    assert_eq!(secret.as_bytes().len(), 20, "160 bits");
    let totp = totp_rs::Builder::new()
        .with_secret(secret.as_bytes())
        .build()
        .unwrap();
    (totp, out)
}

const PROMPT: &str = "Verification code:";

/// A six-digit code that is none of the ones the server would take now.
fn wrong_code(totp: &totp_rs::Totp) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let near: Vec<String> = [now - 60, now - 30, now, now + 30, now + 60]
        .iter()
        .map(|&t| totp.generate(t).to_string())
        .collect();
    (0..)
        .map(|n| format!("{:06}", (123_456 + n) % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap()
}

fn refusals(events: &[serde_json::Value], reason: &str) -> usize {
    events
        .iter()
        .filter(|e| {
            e["action"] == "agent.login-refused"
                && e["targets"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == &format!("reason={reason}")))
        })
        .count()
}

#[test]
fn the_key_and_then_a_code_log_in() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let (totp, printed) = enrol(&desk, "alice");
    assert!(
        printed.contains("only time the secret is shown"),
        "{printed}"
    );
    assert!(printed.contains('█'), "a QR code is drawn: {printed}");
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(list[0]["second_factor"], true);

    let server = desk.serve();
    let tmux = Tmux::start(&desk, &server.ssh_words(&key, "alice", false).join(" "));
    tmux.wait_for(PROMPT);

    // A wrong code: refused, and asked again.
    tmux.type_line(&wrong_code(&totp));
    tmux.wait_until("a second prompt", WAIT, |s| s.matches(PROMPT).count() >= 2);
    assert!(!tmux.screen().contains("Queue"));

    tmux.type_line(&totp.generate_current().to_string());
    let screen = tmux.wait_for("Queue");
    assert!(screen.contains("alice"), "{screen}");
    tmux.type_text("q");
    tmux.wait_for("[exit 0]");

    assert!(server.terminate().success());
    let events = desk.audit();
    assert_eq!(refusals(&events, "wrong code"), 1, "{events:#?}");
    let login = events
        .iter()
        .find(|e| e["action"] == "agent.login")
        .expect("the login is audited");
    assert_eq!(login["actor"], "alice");
    assert_eq!(login["targets"][0], "second-factor=totp");
    let secret = totp.secret().to_base32();
    assert!(
        !serde_json::to_string(&events).unwrap().contains(&secret),
        "the secret reached the audit log"
    );
}

#[test]
fn the_key_alone_is_refused_until_the_second_factor_is_removed() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    enrol(&desk, "alice");
    let server = desk.serve();

    // BatchMode: no keyboard-interactive, so the key is all the client can give.
    let out = run(server.ssh(&key, "alice").arg("-T"), WAIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(255),
        "{stderr}\nserver log:\n{}",
        server.log()
    );
    assert!(
        stderr.contains("Permission denied"),
        "{stderr}\nserver log:\n{}",
        server.log()
    );
    assert!(out.stdout.is_empty());

    // Changed while the server runs (the CLI hands the command to it): the key alone
    // logs in from the next connection.
    let removed = desk.cli(&["agent", "set", "alice", "--no-totp"]);
    assert!(removed.contains("second factor removed"), "{removed}");
    let out = run(server.ssh(&key, "alice").arg("-T"), WAIT);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("this is an interactive desk"));

    assert!(server.terminate().success());
    let events = desk.audit();
    assert_eq!(refusals(&events, "no code given"), 1, "{events:#?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "agent.login")
            .count(),
        1
    );
}

#[test]
fn themes_are_checked_against_the_available_ones() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);

    let out = desk.cli(&[
        "agent", "set", "alice", "--theme", "light", "--role", "admin",
    ]);
    assert!(out.contains("theme light"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(list[0]["theme"], "light");
    assert_eq!(list[0]["role"], "admin");
    assert_eq!(list[0]["second_factor"], false);

    let out = desk.try_cli(&["agent", "set", "alice", "--theme", "nope"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no theme named \"nope\""), "{stderr}");
    assert!(
        stderr.contains("dark, high-contrast, light, mono"),
        "{stderr}"
    );

    // A custom theme in the themes dir counts; a broken one is refused with the reason.
    let themes = desk.path("themes");
    std::fs::create_dir_all(&themes).unwrap();
    let light = include_str!("../themes/light.toml");
    std::fs::write(themes.join("ocean.toml"), light).unwrap();
    std::fs::write(themes.join("broken.toml"), "name = 'broken'\n").unwrap();
    desk.cli(&["agent", "set", "alice", "--theme", "ocean"]);
    let out = desk.try_cli(&["agent", "set", "alice", "--theme", "broken"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not load"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    assert_eq!(list[0]["theme"], "ocean");

    // Nothing to change is a usage error, as is asking for both.
    assert!(!desk.try_cli(&["agent", "set", "alice"]).status.success());
    assert!(!desk
        .try_cli(&["agent", "set", "alice", "--totp", "--no-totp"])
        .status
        .success());
}

/// A deep link (`ssh -t … open N`) still asks for the second factor first; the ticket
/// opens only after the code.
#[test]
fn a_deep_link_asks_for_the_code_first() {
    let desk = TestDesk::new();
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let (totp, _) = enrol(&desk, "alice");
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
    let mut words = server.ssh_words(&key, "alice", false);
    words.insert(1, "-t".into());
    words.extend(["open".into(), "1".into()]);
    let tmux = Tmux::start(&desk, &words.join(" "));
    tmux.wait_for(PROMPT);
    assert!(!tmux.screen().contains("Printer on fire"));
    tmux.type_line(&totp.generate_current().to_string());
    let screen = tmux.wait_for("Thread (");
    assert!(screen.contains("Printer on fire"), "{screen}");
}
