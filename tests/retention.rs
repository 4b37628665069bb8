//! Retention for everything, through the real binary: a dry run lists every kind of
//! record a run would remove (by ids) and changes nothing; the run then does exactly
//! that, and is audited.

mod common;

use common::live::*;
use sealdesk_model::{Status, TicketNo, Timestamp};

fn ingest(desk: &TestDesk, raw: &str) {
    let out = desk.cli_with_stdin(&["ingest"], raw.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn customer_mail(from: &str, n: usize) -> String {
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: question {n}\r\nMessage-ID: <r{n}@example.com>\r\n\r\nCanary-body-{n} please help.\r\n"
    )
}

/// Opens the desk in this process for what the CLI has no command for (the TUI sets
/// ticket status) — no server is running.
fn with_desk(desk: &TestDesk, then: impl FnOnce(&sealdesk_desk::Desk)) {
    let paths = sealdesk_store::Paths {
        data: desk.path("data"),
        keys: desk.path("keys"),
    };
    let config = sealdesk_desk::config::Config::load(
        &sealdesk_desk::config::Config::default_path(&paths.data),
        false,
    )
    .unwrap();
    let store = sealdesk_store::Store::open(&paths, None).unwrap();
    then(&sealdesk_desk::Desk::new(store, config));
}

fn json(desk: &TestDesk, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&desk.cli(args)).unwrap()
}

/// Everything a run could change, as the CLI shows it.
fn snapshot(desk: &TestDesk) -> Vec<String> {
    vec![
        desk.cli(&["customer", "list", "--json"]),
        desk.cli(&["ticket", "list", "--json"]),
        desk.cli(&["ticket", "show", "1", "--json"]),
        desk.cli(&["quarantine", "list", "--json"]),
        desk.cli(&["request", "list", "--json"]),
        desk.cli(&["consent", "list", "bob@example.com", "--json"]),
        desk.cli(&["customer", "exports", "bob@example.com", "--json"]),
    ]
}

#[test]
fn a_dry_run_lists_every_kind_and_changes_nothing_then_the_run_does_it() {
    let desk = configured_desk(None);
    for (key, value) in [
        ("privacy.anonymise_closed_after_days", "30"),
        ("privacy.export_retention_days", "7"),
        ("retention.inactive_customer_days", "365"),
        ("retention.consent_evidence_days", "100"),
        ("retention.request_days", "100"),
        ("privacy.quarantine_days", "30"),
    ] {
        desk.cli(&["config", "set", key, value]);
    }
    // #1 ann (closed), #2 bob (open: bob is busy), #3 cat (solved), #4 dan (closed,
    // legal hold).
    for (n, from) in [
        "Ann <ann@example.com>",
        "Bob <bob@example.com>",
        "Cat <cat@example.com>",
        "Dan <dan@example.com>",
    ]
    .iter()
    .enumerate()
    {
        ingest(&desk, &customer_mail(from, n + 1));
    }
    with_desk(&desk, |d| {
        let admin = sealdesk_desk::Actor::local_admin();
        d.set_status(&admin, TicketNo(1), Status::Closed).unwrap();
        d.set_status(&admin, TicketNo(2), Status::Open).unwrap();
        d.set_status(&admin, TicketNo(3), Status::Solved).unwrap();
        d.set_status(&admin, TicketNo(4), Status::Closed).unwrap();
    });
    desk.cli(&["customer", "set", "dan@example.com", "--legal-hold", "true"]);
    // Bob's consent: given, then withdrawn (the first is superseded evidence).
    for state in ["given", "withdrawn"] {
        desk.cli(&[
            "consent",
            "record",
            "bob@example.com",
            "--purpose",
            "040",
            "--state",
            state,
            "--category",
            "C001",
            "--evidence",
            "web form",
        ]);
    }
    // A finished request, a quarantined mail (no sender), an export archive.
    let opened = desk.cli(&["request", "open", "bob@example.com", "--kind", "access"]);
    let request = opened.split_whitespace().next().unwrap().to_string();
    desk.cli(&[
        "request",
        "deny",
        &request,
        "--reason",
        "duplicate of an earlier request",
    ]);
    ingest(
        &desk,
        "To: support@desk.example\r\nSubject: no sender\r\nMessage-ID: <q@x>\r\n\r\nCanary-quarantine\r\n",
    );
    let quarantined = json(&desk, &["quarantine", "list", "--json"]);
    let quarantine_id = quarantined[0]["id"].as_str().unwrap().to_string();
    let made = desk.cli(&[
        "customer",
        "export",
        "bob@example.com",
        "--override",
        "asked in person",
    ]);
    let export_id = made.split_whitespace().nth(1).unwrap().to_string();
    assert!(export_id.starts_with("exp_"), "{made}");

    let ids: std::collections::HashMap<String, String> =
        json(&desk, &["customer", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["email"].as_str().unwrap().to_string(),
                    c["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    let as_of = Timestamp::now().plus_days(400).rfc3339();

    // Today: nothing is due yet.
    let today = desk.cli(&["retention", "run", "--dry-run"]);
    for kind in [
        "tickets to anonymise 0",
        "inactive customers to erase 0",
        "consent records to delete 0",
        "privacy requests to delete 0",
        "quarantined mails to delete 0",
        "export archives to expire 0",
        "old plaintext export files to delete 0",
    ] {
        assert!(today.contains(kind), "{kind}: {today}");
    }

    let before = snapshot(&desk);
    let events_before = desk.audit().len();
    let dry = desk.cli(&["retention", "run", "--dry-run", "--as-of", &as_of]);
    let line = |prefix: &str| {
        dry.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line: {dry}"))
            .to_string()
    };
    assert!(
        line("tickets to anonymise").starts_with("tickets to anonymise 3: #1 #3 #4"),
        "{dry}"
    );
    let customers = line("inactive customers to erase 2");
    assert!(
        customers.contains(&ids["ann@example.com"]) && customers.contains(&ids["cat@example.com"]),
        "{dry}"
    );
    assert!(
        !customers.contains(&ids["bob@example.com"])
            && !customers.contains(&ids["dan@example.com"]),
        "busy and legal hold stay: {dry}"
    );
    assert_eq!(
        line("consent records to delete"),
        format!("consent records to delete 1: {}/1", ids["bob@example.com"])
    );
    assert_eq!(
        line("privacy requests to delete"),
        format!("privacy requests to delete 1: {request}")
    );
    assert_eq!(
        line("quarantined mails to delete"),
        format!("quarantined mails to delete 1: {quarantine_id}")
    );
    assert_eq!(
        line("export archives to expire"),
        format!("export archives to expire 1: {export_id}")
    );
    assert!(
        !dry.contains("Canary") && !dry.contains("@example.com"),
        "ids and counts only: {dry}"
    );
    assert_eq!(snapshot(&desk), before, "a dry run changes nothing");
    let since_dry: Vec<String> = desk.audit()[events_before..]
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        since_dry
            .iter()
            .all(|a| a.ends_with(".view") || a.ends_with(".export") || a.ends_with(".list")),
        "a dry run audits no change: {since_dry:?}"
    );

    let run = desk.cli(&["retention", "run", "--as-of", &as_of]);
    assert!(run.contains("tickets anonymised 3"), "{run}");
    assert!(run.contains("inactive customers erased 2"), "{run}");
    let left: Vec<String> = json(&desk, &["customer", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, vec!["bob@example.com", "dan@example.com"]);
    let shown = json(&desk, &["ticket", "show", "4", "--json"]);
    assert_eq!(shown["subject"], "[erased]", "{shown}");
    assert!(
        !desk
            .cli(&["ticket", "show", "2", "--json"])
            .contains("[erased]"),
        "an open ticket is kept"
    );
    assert_eq!(
        json(&desk, &["quarantine", "list", "--json"]),
        serde_json::json!([])
    );
    let requests = json(&desk, &["request", "list", "--json"]);
    assert!(!requests.to_string().contains(&request), "{requests}");
    let consents = desk.cli(&["consent", "list", "bob@example.com", "--json"]);
    assert!(
        consents.contains("withdrawn") && !consents.contains("\"given\""),
        "the current record stays: {consents}"
    );
    let exports = json(&desk, &["customer", "exports", "bob@example.com", "--json"]);
    assert!(exports[0]["content_deleted"].is_string(), "{exports}");
    let events = desk.audit();
    let run_event = events
        .iter()
        .rev()
        .find(|e| e["action"] == "retention.run")
        .expect("the run is audited");
    let targets = run_event["targets"].to_string();
    for t in [
        "tickets=3",
        "customers=2",
        "consents=1",
        "requests=1",
        "quarantine-deleted=1",
        "exports-expired=1",
    ] {
        assert!(targets.contains(t), "{t}: {targets}");
    }
    let erasures: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "retention.erase")
        .collect();
    assert_eq!(erasures.len(), 2);
    assert!(erasures
        .iter()
        .all(|e| e["customer"].as_str().unwrap().starts_with("psn_")));

    // Nothing left to do.
    let again = desk.cli(&["retention", "run", "--dry-run", "--as-of", &as_of]);
    assert!(
        again.contains("tickets to anonymise 0") && again.contains("inactive customers to erase 0"),
        "{again}"
    );
}

/// An inactive customer erased by retention is gone everywhere: no canary in any file
/// of the data dir or the keys dir (their export archive included, looked into), and a
/// backup taken before, restored with today's keys, shows nothing of them either.
#[test]
fn an_inactive_customer_erased_by_retention_is_unreadable_everywhere() {
    let desk = configured_desk(None);
    desk.cli(&["config", "set", "retention.inactive_customer_days", "365"]);
    let canaries = ["CanaryName-ann", "CanarySubject-ann", "CanaryBody-ann"];
    ingest(
        &desk,
        "From: CanaryName-ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: CanarySubject-ann\r\nMessage-ID: <a1@example.com>\r\n\r\nCanaryBody-ann here.\r\n",
    );
    ingest(&desk, &customer_mail("Bob <bob@example.com>", 2));
    with_desk(&desk, |d| {
        let admin = sealdesk_desk::Actor::local_admin();
        d.set_status(&admin, TicketNo(1), Status::Closed).unwrap();
    });
    // A plaintext archive as an older version left it in DATA/exports.
    let ann_id = json(&desk, &["customer", "list", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let exports_dir = desk.path("data").join("exports");
    std::fs::create_dir_all(&exports_dir).unwrap();
    let old = exports_dir.join(format!("{ann_id}-1700000000.tar.gz"));
    desk.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--override",
        "asked in person",
        "--out",
        old.to_str().unwrap(),
    ]);
    let backup = desk.path("before.sdb");
    desk.cli(&["backup", "--out", backup.to_str().unwrap()]);
    let dirs = [desk.path("data"), desk.path("keys")];
    let dirs: Vec<&std::path::Path> = dirs.iter().map(|p| p.as_path()).collect();
    assert!(
        !common::deep_scan::hits(&dirs, &canaries).is_empty(),
        "the old plaintext archive holds the canaries before the run (the scan can see them)"
    );

    let as_of = Timestamp::now().plus_days(400).rfc3339();
    let said = desk.cli(&["retention", "run", "--as-of", &as_of]);
    assert!(said.contains("inactive customers erased 1"), "{said}");
    assert!(
        said.contains("old plaintext export files deleted 1"),
        "{said}"
    );
    assert!(said.contains("export archives expired 1"), "{said}");
    let hits = common::deep_scan::hits(&dirs, &canaries);
    assert!(hits.is_empty(), "{hits:?}");
    let left = json(&desk, &["customer", "list", "--json"]);
    assert_eq!(
        left[0]["email"], "bob@example.com",
        "bob's ticket is still new: {left}"
    );
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");

    // The backup from before, restored with today's keys.
    let restored = desk.path("restored");
    let on_restored = |args: &[&str]| {
        let out = run(
            std::process::Command::new(BIN)
                .arg("--data")
                .arg(&restored)
                .arg("--keys")
                .arg(desk.path("keys"))
                .args(args),
            WAIT,
        );
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    on_restored(&["restore", backup.to_str().unwrap()]);
    let listed = on_restored(&["customer", "list", "--json"]);
    assert!(
        !listed.contains("ann@example.com") && listed.contains("bob@example.com"),
        "{listed}"
    );
    let ticket = on_restored(&["ticket", "show", "1", "--json"]);
    assert!(ticket.contains("[erased]"), "{ticket}");
    for c in canaries {
        assert!(!ticket.contains(c), "{ticket}");
    }
    let hits = common::deep_scan::hits(
        &[restored.as_path(), desk.path("keys").as_path()],
        &canaries,
    );
    assert!(hits.is_empty(), "{hits:?}");
}
