//! Part 12: a newcomer's first hour with the CLI, against the real binary — files named
//! on the command line read by the CLI itself (a running server has another working
//! directory), parse errors as one line naming the fix (locally and over SSH), the
//! status filter `all`, a backup that would overwrite a file, and help that lists only
//! the options a command uses.

mod common;

use common::live::{configured_desk, run, Server, TestDesk, WAIT};
use std::path::Path;
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The CLI run from `cwd`, with the desk's absolute --data/--keys.
fn cli_in(desk: &TestDesk, cwd: &Path, args: &[&str]) -> Output {
    run(desk.command().current_dir(cwd).args(args), WAIT)
}

/// A failure on exactly one stderr line that contains each of `words`; nothing on stdout.
fn assert_one_line(o: &Output, code: i32, words: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    for w in words {
        assert!(err.contains(w), "{w:?} missing from {err:?}");
    }
    assert!(o.stdout.is_empty(), "{}", stdout(o));
}

fn ssh_exec(server: &Server, key: &Path, user: &str, words: &[&str]) -> Output {
    run(server.ssh(key, user).args(words), WAIT)
}

#[test]
fn agent_add_reads_a_relative_key_file_where_the_cli_runs_while_the_server_runs_elsewhere() {
    let desk = TestDesk::new();
    let (server_dir, my_dir) = (desk.path("server-cwd"), desk.path("me"));
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&my_dir).unwrap();
    let server = desk.serve_in(&server_dir);
    // The key pair lives only in my directory; the server's has no bob.pub.
    let key = desk.keygen("me/bob");
    assert!(my_dir.join("bob.pub").exists() && !server_dir.join("bob.pub").exists());

    let o = cli_in(
        &desk,
        &my_dir,
        &["agent", "add", "bob", "--key-file", "bob.pub"],
    );
    assert!(o.status.success(), "{}\n{}", stderr(&o), server.log());
    let out = stdout(&o);
    assert!(
        out.contains("added agent bob") && out.contains("1 key(s)"),
        "{out}"
    );
    // Bob logs in with that key and runs a command.
    let o = ssh_exec(&server, &key, "bob", &["ticket", "list"]);
    assert!(o.status.success(), "bob's ssh: {}", stderr(&o));

    // The `--key-file=F` spelling, and a signature file, relative too.
    let carol = desk.keygen("me/carol");
    std::fs::write(my_dir.join("sig.txt"), "-- \nCarol, Support").unwrap();
    let o = cli_in(
        &desk,
        &my_dir,
        &["agent", "add", "carol", "--key-file=carol.pub"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cli_in(
        &desk,
        &my_dir,
        &["agent", "set", "carol", "--signature-file", "sig.txt"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let agents: serde_json::Value =
        serde_json::from_str(&desk.cli(&["agent", "list", "--json"])).unwrap();
    let signature = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "carol")
        .map(|a| a["signature"].clone());
    assert_eq!(
        signature,
        Some(serde_json::json!("-- \nCarol, Support")),
        "{agents}"
    );
    assert!(ssh_exec(&server, &carol, "carol", &["ticket", "list"])
        .status
        .success());

    // A missing file, a private key, a file without a key: one line each, naming the fix,
    // and never a line of the private key.
    let o = cli_in(
        &desk,
        &my_dir,
        &["agent", "add", "dan", "--key-file", "dan.pub"],
    );
    assert_one_line(&o, 1, &["dan.pub", "--key-file"]);
    let o = cli_in(
        &desk,
        &my_dir,
        &["agent", "add", "dan", "--key-file", "bob"],
    );
    assert_one_line(&o, 1, &["private key", "bob.pub"]);
    assert!(!stderr(&o).contains("BEGIN"), "{}", stderr(&o));
    std::fs::write(my_dir.join("empty.pub"), "# no key here\n\n").unwrap();
    let o = cli_in(
        &desk,
        &my_dir,
        &["agent", "add", "dan", "--key-file", "empty.pub"],
    );
    assert_one_line(&o, 1, &["empty.pub", "no public key"]);
    assert!(!desk.cli(&["agent", "list"]).contains("dan"));
}

#[test]
fn notice_files_are_read_where_the_cli_runs_while_serving() {
    let desk = configured_desk(None);
    let (server_dir, my_dir) = (desk.path("server-cwd"), desk.path("me"));
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&my_dir).unwrap();
    let server = desk.serve_in(&server_dir);
    std::fs::write(
        my_dir.join("body.txt"),
        "Dear {customer.name},\n\nall is well.\n",
    )
    .unwrap();
    std::fs::write(my_dir.join("to.txt"), "# who\nnobody@example.com\n").unwrap();
    let o = cli_in(
        &desk,
        &my_dir,
        &[
            "notice",
            "create",
            "--kind",
            "incident",
            "--subject",
            "Maintenance",
            "--body-file",
            "body.txt",
            "--addresses",
            "to.txt",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).trim().starts_with("ntc_"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("1 address(es) of no customer"),
        "{}",
        stderr(&o)
    );
    // Over SSH an admin gives the text itself; a file option stays the server's.
    let key = desk.keygen("carol");
    desk.add_admin("carol", &key);
    let create = [
        "notice",
        "create",
        "--kind",
        "incident",
        "--subject",
        "Maintenance",
        "--body",
        "'Dear {customer.name}'",
        "--address",
        "nobody@example.com",
    ];
    let o = ssh_exec(&server, &key, "carol", &create);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).trim().starts_with("ntc_"), "{}", stdout(&o));
    let mut with_file = create[..6].to_vec();
    with_file.extend(["--body-file", "body.txt", "--all"]);
    let o = ssh_exec(&server, &key, "carol", &with_file);
    assert_one_line(&o, 6, &["not over SSH", "--body TEXT"]);
}

#[test]
fn argument_errors_are_one_line_naming_the_fix_and_exit_2_locally_and_over_ssh() {
    let desk = TestDesk::new();
    for (args, words) in [
        (
            &["tiket", "list"][..],
            &[
                "unknown command 'tiket'",
                "did you mean 'ticket'?",
                "sealdesk --help",
            ][..],
        ),
        (
            &["ticket", "list", "--foo"],
            &[
                "unexpected argument '--foo' for 'ticket list'",
                "sealdesk ticket list --help",
            ],
        ),
        (&["agent", "add"], &["'agent add' needs <NAME>", "--help"]),
        (
            &["agent", "add", "x", "--role", "boss"],
            &["'boss'", "choose one of agent, admin"],
        ),
        (
            &["agent", "set", "x", "--totp", "--no-totp"],
            &["'--totp'", "give only one", "sealdesk agent set --help"],
        ),
        (
            &["ticket", "list", "--status", "sleeping"],
            &["\"sleeping\"", "or all"],
        ),
    ] {
        let o = desk.try_cli(args);
        assert_one_line(&o, 2, words);
        assert!(
            stderr(&o).starts_with("sealdesk: error: "),
            "{}",
            stderr(&o)
        );
    }
    // Help and version are output, not errors.
    for args in [
        &["--help"][..],
        &["ticket", "list", "--help"],
        &["--version"],
    ] {
        let o = desk.try_cli(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!o.stdout.is_empty() && o.stderr.is_empty(), "{args:?}");
    }

    // Over SSH the same path: one line, exit 2; --help still works there.
    let server = desk.serve();
    let key = desk.keygen("bob");
    desk.add_agent("bob", &key);
    let o = ssh_exec(&server, &key, "bob", &["ticket", "list", "--foo"]);
    assert_one_line(
        &o,
        2,
        &[
            "unexpected argument '--foo' for 'ticket list'",
            "ticket list --help",
        ],
    );
    let o = ssh_exec(&server, &key, "bob", &["tiket"]);
    assert_one_line(&o, 2, &["unknown command 'tiket'", "'ticket'"]);
    let o = ssh_exec(&server, &key, "bob", &["ticket", "list", "--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("--status"), "{}", stdout(&o));
}

#[test]
fn ticket_list_status_all_lists_every_status() {
    let desk = TestDesk::new();
    for (n, status) in ["pending", "closed", ""].iter().enumerate() {
        let from = format!("c{n}@example.com");
        let id = desk.cli(&[
            "ticket",
            "create",
            "--from",
            &from,
            "--subject",
            "Hello",
            "--body",
            "hi",
        ]);
        let number = id.split_whitespace().find_map(|w| {
            w.trim_start_matches('#')
                .trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse::<u64>()
                .ok()
        });
        let number = number.unwrap_or_else(|| panic!("no ticket number in {id:?}"));
        if !status.is_empty() {
            desk.cli(&["ticket", "set", &number.to_string(), "--status", status]);
        }
    }
    let count = |args: &[&str]| -> usize {
        let json: serde_json::Value = serde_json::from_str(&desk.cli(args)).unwrap();
        json.as_array().unwrap().len()
    };
    assert_eq!(count(&["ticket", "list", "--json", "--status", "all"]), 3);
    assert_eq!(count(&["ticket", "list", "--json", "--status", "ALL"]), 3);
    assert_eq!(
        count(&["ticket", "list", "--json", "--status", "closed"]),
        1
    );
    assert_eq!(
        count(&["ticket", "list", "--json", "--status", "pending"]),
        1
    );
}

#[test]
fn a_backup_onto_an_existing_file_says_to_choose_another_out() {
    let desk = TestDesk::new();
    let out = desk.path("desk.backup");
    let keys_out = desk.path("keys.backup");
    desk.cli(&["backup", "--out", out.to_str().unwrap()]);
    desk.cli(&["keys", "backup", "--out", keys_out.to_str().unwrap()]);
    let before = std::fs::read(&out).unwrap();
    for args in [
        &["backup", "--out", out.to_str().unwrap()][..],
        &["keys", "backup", "--out", keys_out.to_str().unwrap()],
    ] {
        let o = desk.try_cli(args);
        assert_one_line(&o, 1, &["exists already", "choose another --out", "remove"]);
        // Not the advice for a data dir.
        assert!(!stderr(&o).contains("--data"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&out).unwrap(), before, "never overwritten");
    // The same while the server runs (the command goes to it).
    let _server = desk.serve();
    let o = desk.try_cli(&["backup", "--out", out.to_str().unwrap()]);
    assert_one_line(&o, 1, &["exists already", "choose another --out"]);
}

#[test]
fn help_lists_the_desk_options_only_where_they_apply() {
    let desk = TestDesk::new();
    let help = |args: &[&str]| {
        let o = desk.try_cli(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    let demo = help(&["demo", "--help"]);
    for option in ["--data", "--keys", "--passphrase-file", "--config"] {
        assert!(
            !demo.contains(option),
            "demo --help lists {option}:\n{demo}"
        );
    }
    assert!(demo.contains("--dir") && demo.contains("--ssh"), "{demo}");
    for args in [
        &["ticket", "list", "--help"][..],
        &["backup", "--help"],
        &["--help"],
    ] {
        let text = help(args);
        assert!(
            text.contains("--data") && text.contains("--keys"),
            "{args:?}:\n{text}"
        );
    }
}

#[test]
fn a_missing_test_tool_is_one_line_naming_its_package() {
    let stop = std::panic::catch_unwind(|| common::live::need("sealdesk-no-such-tool"))
        .expect_err("a missing program stops the test");
    let line = stop.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        line.contains("sealdesk-no-such-tool is not installed")
            && line.contains("scripts/test")
            && line.contains("apt-get install -y sealdesk-no-such-tool")
            && !line.contains('\n'),
        "{line}"
    );
    // Present programs pass, by name or by path.
    common::live::need("sh");
    common::live::need("/bin/sh");
}
