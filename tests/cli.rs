//! The admin CLI through the real binary: happy paths, and a clear one-line error with
//! the fix (never a panic) for every kind of bad input.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_creates_private_keys_and_refuses_to_run_twice() {
    let d = TempDesk::init();
    assert_eq!(mode(&d.keys), 0o700);
    assert_eq!(mode(&d.data), 0o700);
    for f in [
        "master.key",
        "keyring",
        "ssh_host_ed25519_key",
        "ssh_host_ed25519_key.pub",
    ] {
        assert_eq!(mode(&d.keys.join(f)), 0o600, "{f}");
    }
    let host = std::fs::read_to_string(d.keys.join("ssh_host_ed25519_key")).unwrap();
    assert!(host.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    assert!(russh::keys::PrivateKey::from_openssh(&host).is_ok());
    let master_before = std::fs::read(d.keys.join("master.key")).unwrap();

    let again = d.cli(&["init"]);
    assert_clean_failure(&again, "already holds a sealdesk setup");
    assert_eq!(
        std::fs::read(d.keys.join("master.key")).unwrap(),
        master_before,
        "init overwrote the key"
    );

    // Keys dir reused with a fresh data dir: refused too.
    let other = TempDesk::paths_only();
    let out = other.cli_keys(&d.keys, &["init"]);
    assert_clean_failure(&out, "already holds a sealdesk setup");
}

#[test]
fn commands_before_init_say_how_to_start() {
    let d = TempDesk::paths_only();
    assert_clean_failure(&d.cli(&["ticket", "list"]), "run `sealdesk init` first");
}

#[test]
fn agents_tickets_and_customers_end_to_end() {
    let d = TempDesk::init();
    let alice = public_key_line(1, "alice@laptop");
    let keyfile = d.dir.path().join("bob.pub");
    std::fs::write(&keyfile, format!("{}\n", public_key_line(2, "bob@desk"))).unwrap();
    assert!(d
        .cli(&["agent", "add", "alice", "--key", &alice, "--role", "admin"])
        .status
        .success());
    assert!(d
        .cli(&[
            "agent",
            "add",
            "bob",
            "--key-file",
            keyfile.to_str().unwrap()
        ])
        .status
        .success());
    let list = stdout(&d.cli(&["agent", "list", "--json"]));
    let agents: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(agents[0]["name"], "alice");
    assert_eq!(agents[0]["role"], "admin");
    assert_eq!(agents[1]["name"], "bob");
    assert!(agents[1]["keys"][0]
        .as_str()
        .unwrap()
        .starts_with("SHA256:"));

    // One key, one agent.
    assert_clean_failure(
        &d.cli(&["agent", "add", "carol", "--key", &alice]),
        "already registered to agent alice",
    );
    assert_clean_failure(
        &d.cli(&["agent", "add", "carol", "--key", "ssh-ed25519 nonsense"]),
        "not an OpenSSH public key",
    );
    assert_clean_failure(
        &d.cli(&[
            "agent",
            "add",
            "Carol Smith",
            "--key",
            &public_key_line(3, "c"),
        ]),
        "invalid agent name",
    );
    assert!(d.cli(&["agent", "remove", "bob"]).status.success());
    assert_clean_failure(&d.cli(&["agent", "remove", "bob"]), "no agent named bob");

    // A ticket with the body on stdin, then one with --body.
    let out = d.cli_with(
        &[
            "ticket",
            "create",
            "--from",
            "Ann@Example.com",
            "--name",
            "Ann",
            "--subject",
            "Printer on fire",
        ],
        &[],
        Some("It is on fire.\nPlease help."),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created ticket #1"));
    assert!(d
        .cli(&[
            "ticket",
            "create",
            "--from",
            "bo@example.com",
            "--subject",
            "Invoice",
            "--body",
            "Wrong total"
        ])
        .status
        .success());
    assert_clean_failure(
        &d.cli(&[
            "ticket",
            "create",
            "--from",
            "not-an-address",
            "--subject",
            "x",
            "--body",
            "y",
        ]),
        "not an email address",
    );

    let list: serde_json::Value =
        serde_json::from_str(&stdout(&d.cli(&["ticket", "list", "--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["subject"], "Printer on fire");
    assert_eq!(list[0]["status"], "new");
    let filtered: serde_json::Value = serde_json::from_str(&stdout(
        &d.cli(&["ticket", "list", "--status", "closed", "--json"]),
    ))
    .unwrap();
    assert_eq!(filtered.as_array().unwrap().len(), 0);
    let bad = d.cli(&["ticket", "list", "--status", "later"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("use one of new, open, pending, solved, closed"),
        "{}",
        stderr(&bad)
    );

    let show: serde_json::Value =
        serde_json::from_str(&stdout(&d.cli(&["ticket", "show", "#1", "--json"]))).unwrap();
    assert_eq!(show["thread"][0]["kind"], "inbound");
    assert_eq!(show["thread"][0]["text"], "It is on fire.\nPlease help.");
    assert_eq!(show["thread"][0]["author"], "Ann <ann@example.com>");
    let text = stdout(&d.cli(&["ticket", "show", "1"]));
    assert!(
        text.contains("Ticket #1: Printer on fire")
            && text.contains("── inbound · Ann <ann@example.com>"),
        "{text}"
    );
    assert_clean_failure(&d.cli(&["ticket", "show", "99"]), "there is no ticket #99");

    let cust: serde_json::Value = serde_json::from_str(&stdout(&d.cli(&[
        "customer",
        "show",
        "ANN@example.com",
        "--json",
    ])))
    .unwrap();
    assert_eq!(cust["name"], "Ann");
    assert_eq!(cust["emails"][0], "ann@example.com");
    assert_eq!(cust["tickets"][0]["number"], 1);
    assert_clean_failure(
        &d.cli(&["customer", "show", "nobody@example.com"]),
        "no customer with address",
    );

    let verify = d.cli(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn a_locked_data_dir_names_the_other_process() {
    let d = TempDesk::init();
    let held = sealdesk_store::Store::open(&d.paths(), None).unwrap();
    assert_clean_failure(
        &d.cli(&["ticket", "list"]),
        "another sealdesk process holds this data dir",
    );
    drop(held);
    assert!(d.cli(&["ticket", "list"]).status.success());
}

#[test]
fn wrong_keys_and_exposed_key_files_are_explained() {
    let d = TempDesk::init();
    let other = TempDesk::init();
    let out = d.cli_keys(&other.keys, &["ticket", "list"]);
    assert_clean_failure(&out, "does not open this data dir");

    let empty = d.dir.path().join("empty-keys");
    std::fs::create_dir(&empty).unwrap();
    let out = d.cli_keys(&empty, &["ticket", "list"]);
    assert_clean_failure(&out, "no master key in");

    std::fs::set_permissions(
        d.keys.join("master.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert_clean_failure(&d.cli(&["ticket", "list"]), "chmod 600");
}

#[test]
fn passphrase_protected_master_key() {
    let d = TempDesk::paths_only();
    let pass = [("SEALDESK_PASSPHRASE", "correct horse battery staple")];
    let out = d.cli_with(&["init"], &pass, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("protected by your passphrase"));
    assert!(d
        .cli_with(&["ticket", "list"], &pass, None)
        .status
        .success());
    assert_clean_failure(&d.cli(&["ticket", "list"]), "protected by a passphrase");
    assert_clean_failure(
        &d.cli_with(
            &["ticket", "list"],
            &[("SEALDESK_PASSPHRASE", "wrong")],
            None,
        ),
        "does not unlock",
    );
    let file = d.dir.path().join("pass.txt");
    std::fs::write(&file, "correct horse battery staple\n").unwrap();
    assert!(d
        .cli(&[
            "--passphrase-file",
            file.to_str().unwrap(),
            "ticket",
            "list"
        ])
        .status
        .success());
    let missing = d.cli(&["--passphrase-file", "/nonexistent/pass", "ticket", "list"]);
    assert_clean_failure(&missing, "check --passphrase-file");
}

#[test]
fn a_corrupt_value_gives_an_integrity_error_not_a_panic() {
    let d = TempDesk::init();
    assert!(d
        .cli(&[
            "ticket",
            "create",
            "--from",
            "a@example.com",
            "--subject",
            "s",
            "--body",
            "b"
        ])
        .status
        .success());
    {
        let db = sled::open(d.data.join("db")).unwrap();
        let t = db.open_tree("ticket_subjects").unwrap();
        let k = 1u64.to_be_bytes();
        let mut v = t.get(k).unwrap().unwrap().to_vec();
        let last = v.len() - 1;
        v[last] ^= 0xff;
        t.insert(k, v).unwrap();
        db.flush().unwrap();
    }
    assert_clean_failure(
        &d.cli(&["ticket", "show", "1"]),
        "failed its integrity check",
    );
    assert_clean_failure(&d.cli(&["ticket", "list"]), "restore it from a backup");
}

/// Mail-derived text can carry terminal escapes; none may reach the admin's terminal.
#[test]
fn untrusted_text_never_reaches_the_terminal_raw() {
    let d = TempDesk::init();
    let payload =
        "A\u{1b}]52;c;cHduZWQ=\u{7}B\u{1b}]0;title\u{7}C\u{1b}[2JD\u{9b}31mE\u{202e}F\u{7f}G";
    let out = d.cli_with(
        &[
            "ticket",
            "create",
            "--from",
            "x@example.com",
            "--name",
            payload,
            "--subject",
            payload,
        ],
        &[],
        Some(payload),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for args in [
        vec!["ticket", "list"],
        vec!["ticket", "list", "--json"],
        vec!["ticket", "show", "1"],
        vec!["ticket", "show", "1", "--json"],
        vec!["customer", "show", "x@example.com"],
        vec!["customer", "show", "x@example.com", "--json"],
    ] {
        let out = d.cli(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| {
                (c.is_control() && c != '\n') || sealdesk_model::sanitize::is_bidi_control(c)
            })
            .collect();
        assert!(bad.is_empty(), "{args:?} printed {bad:?}");
        assert!(
            text.contains('A') && text.contains('G'),
            "{args:?} lost the text: {text}"
        );
    }
    // An error that quotes untrusted input is cleaned too.
    let out = d.cli(&["customer", "show", "evil\u{1b}[2J@example.com"]);
    assert!(!stderr(&out).contains('\u{1b}'));
}

#[test]
fn damaged_database_files_are_reported_not_panicked_on() {
    let d = TempDesk::init();
    assert!(d
        .cli(&[
            "ticket",
            "create",
            "--from",
            "a@example.com",
            "--subject",
            "s",
            "--body",
            "b"
        ])
        .status
        .success());
    let db_file = d.data.join("db").join("db");
    let mut bytes = std::fs::read(&db_file).unwrap();
    for i in (100..bytes.len()).step_by(97) {
        bytes[i] ^= 0x5a;
    }
    std::fs::write(&db_file, bytes).unwrap();
    assert_clean_failure(
        &d.cli(&["ticket", "list"]),
        "restore the data dir from a backup",
    );
}

/// The benchmarks are `sealdesk-bench`, beside the product: the product has no `bench`
/// command, and its help does not offer one.
#[test]
fn the_product_has_no_bench_command() {
    let d = TempDesk::init();
    let help = d.cli(&["--help"]);
    assert!(help.status.success());
    let help = stdout(&help);
    assert!(
        help.contains("demo") && !help.to_lowercase().contains("bench"),
        "{help}"
    );
    let o = d.cli(&["bench", "queue"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown command 'bench'") && stderr(&o).trim().lines().count() == 1,
        "{}",
        stderr(&o)
    );
}
