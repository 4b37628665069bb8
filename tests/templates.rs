//! Saved replies and macros through the real binary: offline, then against a running
//! server over the control socket; the texts from --file and stdin; one-line errors.

mod common;

use common::live::TestDesk;
use common::{assert_clean_failure, needles, scan};

fn text_of(desk: &TestDesk, name: &str) -> String {
    let shown: serde_json::Value =
        serde_json::from_str(&desk.cli(&["reply-template", "show", name, "--json"])).unwrap();
    shown["text"].as_str().unwrap().to_string()
}

fn ticket(desk: &TestDesk, number: u64) -> serde_json::Value {
    serde_json::from_str(&desk.cli(&["ticket", "show", &number.to_string(), "--json"])).unwrap()
}

/// Runs the same sequence offline and with the server running.
fn manage_templates(desk: &TestDesk, prefix: &str) {
    let name = format!("{prefix} refund");
    desk.cli(&[
        "reply-template",
        "add",
        &name,
        "--text",
        "Dear {customer.name}, your refund for {ticket} is on its way. {{not a placeholder}",
    ]);
    let file = desk.path(&format!("{prefix}.txt"));
    std::fs::write(&file, "From a file, {agent}\n").unwrap();
    let from_file = format!("{prefix} file");
    desk.cli(&[
        "reply-template",
        "add",
        &from_file,
        "--file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(text_of(desk, &from_file), "From a file, {agent}\n");
    let from_stdin = format!("{prefix} stdin");
    let out = desk.cli_with_stdin(&["reply-template", "add", &from_stdin], b"Piped text\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text_of(desk, &from_stdin), "Piped text\n");

    let listed: serde_json::Value =
        serde_json::from_str(&desk.cli(&["reply-template", "list", "--json"])).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for n in [&name, &from_file, &from_stdin] {
        assert!(names.contains(&n.as_str()), "{n} in {names:?}");
    }
    let table = desk.cli(&["reply-template", "list"]);
    assert!(table.contains(&name) && table.contains("shared"), "{table}");

    let out = desk.cli_with_stdin(&["reply-template", "edit", &from_stdin], b"Edited\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text_of(desk, &from_stdin), "Edited\n");
    let renamed = format!("{prefix} renamed");
    desk.cli(&["reply-template", "edit", &from_stdin, "--rename", &renamed]);
    assert_eq!(
        text_of(desk, &renamed),
        "Edited\n",
        "a rename keeps the text"
    );
    desk.cli(&["reply-template", "remove", &renamed]);

    assert_clean_failure(
        &desk.try_cli(&["reply-template", "show", &renamed]),
        "see `sealdesk reply-template list`",
    );
    assert_clean_failure(
        &desk.try_cli(&["reply-template", "add", &name, "--text", "again"]),
        "exists already: pick another name",
    );
    assert_clean_failure(
        &desk.try_cli(&["reply-template", "add", "a/b", "--text", "x"]),
        "invalid name",
    );
    assert_clean_failure(
        &desk.try_cli(&[
            "reply-template",
            "add",
            "missing",
            "--file",
            "/nonexistent/t.txt",
        ]),
        "check the path",
    );
}

#[test]
fn saved_replies_and_macros_offline_and_while_serving() {
    let desk = TestDesk::new();
    let ada = "From: Ada Lovelace <ada@example.com>\r\nTo: support@example.com\r\nSubject: Refund\r\nMessage-ID: <a1@example.com>\r\n\r\nWhere is my refund?\r\n";
    let bob = "From: Bob <bob@example.com>\r\nTo: support@example.com\r\nSubject: Refund too\r\nMessage-ID: <b1@example.com>\r\n\r\nMine too\r\n";
    let eve = "From: Eve <eve@example.com>\r\nTo: support@example.com\r\nSubject: Stop\r\nMessage-ID: <e1@example.com>\r\n\r\nRestrict me\r\n";
    for raw in [ada, bob, eve] {
        let out = desk.cli_with_stdin(&["ingest"], raw.as_bytes());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);

    manage_templates(&desk, "offline");
    desk.cli(&[
        "macro",
        "add",
        "refund done",
        "--reply",
        "Dear {customer.name}, {ticket} is refunded.",
        "--status",
        "solved",
        "--tags",
        "+refund,-vip",
        "--assign",
        "alice",
        "--priority",
        "low",
    ]);
    assert_clean_failure(
        &desk.try_cli(&["macro", "add", "nobody", "--assign", "nobody"]),
        "no agent named nobody",
    );
    assert_clean_failure(
        &desk.try_cli(&["macro", "add", "idle"]),
        "the macro does nothing",
    );
    assert_clean_failure(
        &desk.try_cli(&["macro", "add", "x", "--tags", "+a,-"]),
        "write +tag or -tag",
    );
    assert_clean_failure(
        &desk.try_cli(&["macro", "apply", "refund done", "--ticket", "1,99"]),
        "#99",
    );

    let server = desk.serve();
    manage_templates(&desk, "served");
    // Eve's processing is restricted: her ticket refuses the reply, is left alone and
    // reported on one line; the others go on.
    desk.cli(&["customer", "set", "eve@example.com", "--restricted", "true"]);
    let out = desk.try_cli(&["macro", "apply", "refund done", "--ticket", "1,3,2"]);
    assert_clean_failure(&out, "#3: ");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the reply was refused, nothing changed"),
        "{err}"
    );
    let applied = String::from_utf8_lossy(&out.stdout);
    assert!(applied.contains("#1: reply, status=solved"), "{applied}");
    assert!(applied.contains("#2: reply"), "{applied}");
    assert_eq!(ticket(&desk, 3)["status"], "new");
    desk.cli(&["macro", "add", "take", "--assign", "me"]);
    assert_clean_failure(
        &desk.try_cli(&["macro", "apply", "take", "--ticket", "1"]),
        "apply it from the TUI",
    );
    for (n, name) in [(1, "Ada Lovelace"), (2, "Bob")] {
        let t = ticket(&desk, n);
        assert_eq!(t["status"], "solved", "{t}");
        assert_eq!(t["tags"], serde_json::json!(["refund"]));
        assert_eq!(t["assignee"], "alice");
        assert_eq!(t["priority"], "low");
        let shown = desk.cli(&["ticket", "show", &n.to_string()]);
        assert!(
            shown.contains(&format!("Dear {name}, #{n} is refunded.")),
            "{shown}"
        );
    }
    desk.cli(&[
        "macro",
        "edit",
        "refund done",
        "--no-reply",
        "--rename",
        "quiet",
    ]);
    let shown: serde_json::Value =
        serde_json::from_str(&desk.cli(&["macro", "show", "quiet", "--json"])).unwrap();
    assert_eq!(shown["reply"], serde_json::Value::Null);
    assert_eq!(shown["status"], "solved");
    assert!(desk.cli(&["macro", "list"]).contains("quiet"));
    desk.cli(&["macro", "remove", "quiet"]);
    desk.cli(&["macro", "remove", "take"]);
    assert!(desk.cli(&["macro", "list"]).contains("no macros"));

    let actions: Vec<String> = desk
        .audit()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for wanted in [
        "template.add",
        "template.edit",
        "template.remove",
        "macro.add",
        "macro.edit",
        "macro.remove",
        "ticket.reply",
        "ticket.status",
        "ticket.tags",
        "ticket.assign",
        "ticket.priority",
    ] {
        assert!(
            actions.iter().any(|a| a == wanted),
            "{wanted} in {actions:?}"
        );
    }
    assert!(server.terminate().success());

    // Sealed at rest: a saved reply's text is nowhere in the data dir in clear.
    let hits = scan(&[desk.path("data").as_path()], &needles("is on its way"));
    assert!(hits.is_empty(), "{hits:?}");
}
