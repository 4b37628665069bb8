//! Reports end to end: the real binary on a desk built at known times (the test clock,
//! SEALDESK_TEST_CLOCK), figures checked against a count by hand, an erasure that
//! changes no figure and leaves no customer text in them, CSV and text output, a bad
//! date's one-line error, and `report volume --json` over `ssh NAME@desk`.

mod common;

use common::clock::stop_clock;
use common::live::*;
use common::mailsink::mail;
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use time::OffsetDateTime;

/// Customer text that must never show in a report.
const CANARIES: [&str; 6] = [
    "Canary",
    "example.com",
    "ann@",
    "frank",
    "Smoulder",
    "Grandmother",
];

struct Desk {
    desk: TestDesk,
    clock: std::path::PathBuf,
}

impl Desk {
    fn command_at(&self, at: OffsetDateTime, args: &[&str]) -> Command {
        stop_clock(&self.clock, at);
        let mut cmd = self.desk.command();
        cmd.env("SEALDESK_TEST_CLOCK", &self.clock).args(args);
        cmd
    }

    fn at(&self, at: OffsetDateTime, args: &[&str]) -> String {
        let out = run(&mut self.command_at(at, args), WAIT);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Files one message from stdin at `at`, sent to `to`.
    fn ingest(&self, at: OffsetDateTime, to: &str, raw: &str) {
        use std::io::Write;
        let mut child = self
            .command_at(at, &["ingest", "--to", to])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(raw.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn report(&self, args: &[&str]) -> Output {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        run(self.desk.command().args(&all), WAIT)
    }

    /// The report as JSON, over the fixed range.
    fn json(&self, kind: &str, extra: &[&str]) -> Value {
        let mut args = vec![kind, "--from", FROM, "--to", TO, "--json"];
        args.extend_from_slice(extra);
        let out = self.report(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Monday 2026-11-23, midnight in Berlin (the desk's zone), to Wednesday 2026-12-02 09:30 UTC.
const FROM: &str = "2026-11-23";
const TO: &str = "2026-12-02T09:30:00Z";

fn t(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

/// Rows as (label, values), values `null` as -1.
fn rows(report: &Value) -> Vec<(String, Vec<i64>)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let values = r["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap_or(-1))
                .collect();
            (r["label"].as_str().unwrap().to_string(), values)
        })
        .collect()
}

fn row(label: &str, values: &[i64]) -> (String, Vec<i64>) {
    (label.to_string(), values.to_vec())
}

/// Seven tickets (all times UTC; Berlin is UTC+1), SLA policy: first response 1h,
/// resolution 24h, round the clock in Europe/Berlin.
///
/// | # | created (in)      | to      | assignee | tags         | first reply | solved        | then            |
/// |---|-------------------|---------|----------|--------------|-------------|---------------|-----------------|
/// | 1 | Mon 11-23 09:00   | support | alice    | billing      | +30m        | 11-23 13:00   |                 |
/// | 2 | Mon 11-23 10:00   | billing | bob      | billing, vip | +2h         | 11-24 10:00   |                 |
/// | 3 | Tue 11-24 08:00   | support | -        | -            | +20m        | -             | customer again 15:00, pending Wed 09:00 |
/// | 4 | Wed 11-25 12:00   | billing | alice    | -            | -           | -             |                 |
/// | 5 | Mon 11-30 09:00   | support | bob      | billing      | +1h         | 11-30 11:00   |                 |
/// | 6 | Tue 12-01 09:00   | support | alice    | -            | +15m        | -             |                 |
/// | 7 | Wed 12-02 09:00   | support | -        | -            | -           | -             |                 |
fn fixed_desk() -> Desk {
    let desk = configured_desk(None);
    for (key, value) in [
        ("mail.addresses.billing@desk.example.name", "Billing"),
        ("sla.zone", "Europe/Berlin"),
        ("sla.policy.standard.first_response", "1h"),
        ("sla.policy.standard.resolution", "24h"),
        ("privacy.objection_days", "3"),
    ] {
        desk.cli(&["config", "set", key, value]);
    }
    for name in ["alice", "bob"] {
        let key = desk.keygen(name);
        desk.add_agent(name, &key);
    }
    let d = Desk {
        clock: desk.path("clock"),
        desk,
    };
    let customers = ["ann", "bob", "carol", "dave", "ann", "erin", "frank"];
    let created = [
        "2026-11-23T09:00:00Z",
        "2026-11-23T10:00:00Z",
        "2026-11-24T08:00:00Z",
        "2026-11-25T12:00:00Z",
        "2026-11-30T09:00:00Z",
        "2026-12-01T09:00:00Z",
        "2026-12-02T09:00:00Z",
    ];
    for (i, (who, at)) in customers.iter().zip(created).enumerate() {
        let to = if i == 1 || i == 3 {
            "billing@desk.example"
        } else {
            "support@desk.example"
        };
        let raw = mail(
            &format!("{who}@example.com"),
            &format!("Canary subject {i}"),
            &format!("m{i}@example.com"),
            "",
            "Smoulder and smoke from Grandmother's printer",
        );
        d.ingest(t(at), to, &raw);
    }
    let set = |n: &str, args: &[&str]| {
        let mut all = vec!["ticket", "set", n];
        all.extend_from_slice(args);
        d.at(t("2026-11-23T08:00:00Z"), &all);
    };
    // Assignment and tags: their times do not enter any figure.
    set("1", &["--assign", "alice", "--tag", "billing"]);
    set("2", &["--assign", "bob", "--tag", "billing,vip"]);
    set("4", &["--assign", "alice"]);
    set("5", &["--assign", "bob", "--tag", "billing"]);
    set("6", &["--assign", "alice"]);
    for (n, at) in [
        ("1", "2026-11-23T09:30:00Z"),
        ("2", "2026-11-23T12:00:00Z"),
        ("3", "2026-11-24T08:20:00Z"),
        ("5", "2026-11-30T10:00:00Z"),
        ("6", "2026-12-01T09:15:00Z"),
    ] {
        d.at(t(at), &["ticket", "reply", n, "--body", "Canary reply"]);
    }
    for (n, at) in [
        ("1", "2026-11-23T13:00:00Z"),
        ("2", "2026-11-24T10:00:00Z"),
        ("5", "2026-11-30T11:00:00Z"),
    ] {
        d.at(t(at), &["ticket", "set", n, "--status", "solved"]);
    }
    let again = mail(
        "carol@example.com",
        "Re: Canary subject 2",
        "m2b@example.com",
        "In-Reply-To: <m2@example.com>\r\n",
        "Still Smoulder",
    );
    d.ingest(t("2026-11-24T15:00:00Z"), "support@desk.example", &again);
    d.at(
        t("2026-11-25T09:00:00Z"),
        &["ticket", "set", "3", "--status", "pending"],
    );

    // Privacy requests: access (Ann) completed after 3 days; export (Carol) denied;
    // erasure (Bob) open; marketing objection (Dave, due in 3 days) open and overdue.
    let open = |who: &str, kind: &str, ticket: &str, at: &str| {
        let out = d.at(
            t(at),
            &[
                "request",
                "open",
                &format!("{who}@example.com"),
                "--kind",
                kind,
                "--ticket",
                ticket,
            ],
        );
        out.split_whitespace().next().unwrap().to_string()
    };
    let access = open("ann", "access", "1", "2026-11-23T10:00:00Z");
    let export = open("carol", "export", "3", "2026-11-25T10:00:00Z");
    open("bob", "erasure", "2", "2026-11-24T12:00:00Z");
    open("dave", "marketing-objection", "4", "2026-11-25T12:00:00Z");
    d.at(
        t("2026-11-24T10:00:00Z"),
        &["request", "verify", &access, "--method", "called back"],
    );
    d.at(t("2026-11-26T10:00:00Z"), &["request", "complete", &access]);
    d.at(
        t("2026-11-27T10:00:00Z"),
        &["request", "deny", &export, "--reason", "rights of others"],
    );
    d
}

/// Every figure by hand (see [`fixed_desk`]).
fn assert_hand_count(d: &Desk) {
    // Weeks W48 (11-23 … 11-29) and W49 (11-30 …): opened 1-4 and 5-7; solved 1, 2 and 5.
    let volume = d.json("volume", &[]);
    assert_eq!(volume["zone"], "Europe/Berlin");
    assert_eq!(volume["from"], "2026-11-22T23:00:00Z", "midnight in Berlin");
    assert_eq!(
        rows(&volume),
        vec![row("2026-W48", &[4, 2]), row("2026-W49", &[3, 1])]
    );
    // By day: Monday 11-23 opened 1 and 2 and solved 1; 11-24 opened 3, solved 2.
    let days = rows(&d.json("volume", &["--period", "day"]));
    assert_eq!(days.len(), 10, "11-23 … 12-02, empty days included");
    assert_eq!(days[0], row("2026-11-23", &[2, 1]));
    assert_eq!(days[1], row("2026-11-24", &[1, 1]));
    assert_eq!(days[4], row("2026-11-27", &[0, 0]));
    assert_eq!(days[9], row("2026-12-02", &[1, 0]));
    // alice: 1, 4, 6 (1 solved); bob: 2, 5 (both solved); unassigned: 3, 7.
    assert_eq!(
        rows(&d.json("volume", &["--by", "agent"])),
        vec![
            row("alice", &[3, 1]),
            row("bob", &[2, 2]),
            row("unassigned", &[2, 0])
        ]
    );
    // billing: 1, 2, 5; vip: 2; untagged: 3, 4, 6, 7.
    assert_eq!(
        rows(&d.json("volume", &["--by", "tag"])),
        vec![
            row("billing", &[3, 3]),
            row("vip", &[1, 1]),
            row("untagged", &[4, 0])
        ]
    );
    // billing@: 2, 4 (2 solved); support@ (the default): 1, 3, 5, 6, 7 (1, 5 solved).
    assert_eq!(
        rows(&d.json("volume", &["--by", "address"])),
        vec![
            row("billing@desk.example", &[2, 1]),
            row("support@desk.example", &[5, 2])
        ]
    );

    // Open at 12-02 09:30: 7 (30m old), 6 (1d 30m), 4 (6d 21h 30m), 3 pending (8d 1h 30m).
    assert_eq!(
        rows(&d.json("backlog", &[])),
        vec![
            row("< 1 day", &[1, 0]),
            row("1-3 days", &[1, 0]),
            row("3-7 days", &[1, 0]),
            row("1-2 weeks", &[0, 1]),
            row("2-4 weeks", &[0, 0]),
            row("> 4 weeks", &[0, 0]),
        ]
    );
    assert_eq!(
        rows(&d.json("backlog", &["--by", "agent"])),
        vec![
            row("alice", &[0, 1, 1, 0, 0, 0]),
            row("bob", &[0, 0, 0, 0, 0, 0]),
            row("unassigned", &[1, 0, 0, 1, 0, 0]),
        ]
    );

    // W48: first responses 1800, 7200, 1200 (4 none): median 1800, p90 = 3rd of 3 =
    // 7200; resolutions 14400, 86400: median 50400 (their mean), p90 = 2nd of 2.
    // W49: first responses 3600, 900: median 2250, p90 3600; resolution 7200.
    let times = d.json("response-times", &[]);
    assert_eq!(times["columns"][1]["unit"], "seconds");
    assert_eq!(
        rows(&times),
        vec![
            row("2026-W48", &[4, 1800, 7200, 50400, 86400]),
            row("2026-W49", &[3, 2250, 3600, 7200, 7200]),
        ]
    );
    // alice: 1 (1800, 14400), 4 (-), 6 (900): median 1350; bob: 2 (7200, 86400), 5
    // (3600, 7200); unassigned: 3 (1200), 7 (-).
    assert_eq!(
        rows(&d.json("response-times", &["--by", "agent"])),
        vec![
            row("alice", &[3, 1350, 1800, 14400, 14400]),
            row("bob", &[2, 5400, 7200, 46800, 86400]),
            row("unassigned", &[2, 1200, 1200, -1, -1]),
        ]
    );

    // 1 met; 2 first reply after 2h: breached; 3 not solved 24h after (pending only
    // after that): breached; 4 never answered: breached; 5 answered at exactly 1h,
    // solved in 2h: met; 6 not solved by 12-02 09:00: breached; 7 running.
    assert_eq!(
        rows(&d.json("sla", &[])),
        vec![row("2026-W48", &[1, 3, 0]), row("2026-W49", &[1, 1, 1])]
    );

    // Customer messages in Berlin time: Mon 10:00, 11:00 and (11-30) 10:00; Tue 09:00,
    // 16:00 (3's second message), 10:00; Wed 13:00, 10:00.
    let hours = d.json("hours", &[]);
    let grid = rows(&hours);
    assert_eq!(grid.len(), 7);
    assert_eq!(hours["columns"][23]["name"], "h23");
    let mut want = vec![vec![0i64; 24]; 7];
    for (day, hour) in [
        (0, 10),
        (0, 11),
        (0, 10),
        (1, 9),
        (1, 16),
        (1, 10),
        (2, 13),
        (2, 10),
    ] {
        want[day][hour] += 1;
    }
    for (i, (label, values)) in grid.iter().enumerate() {
        assert_eq!(label, ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][i]);
        assert_eq!(values, &want[i], "{label}");
    }

    // access: completed in 3 days (259200 s); export: denied; erasure: open; marketing
    // objection: open and past its 3 days.
    let privacy = rows(&d.json("privacy", &[]));
    assert_eq!(privacy.len(), 7, "every request kind");
    let kind = |k: &str| privacy.iter().find(|(l, _)| l == k).unwrap().1.clone();
    assert_eq!(kind("access"), vec![1, 1, 0, 0, 0, 259200, 259200]);
    assert_eq!(kind("export"), vec![1, 0, 1, 0, 0, -1, -1]);
    assert_eq!(kind("erasure"), vec![1, 0, 0, 1, 0, -1, -1]);
    assert_eq!(kind("marketing-objection"), vec![1, 0, 0, 1, 1, -1, -1]);
    assert_eq!(kind("restriction"), vec![0, 0, 0, 0, 0, -1, -1]);
}

#[test]
fn figures_match_a_hand_count_and_survive_an_erasure_without_customer_text() {
    let d = fixed_desk();
    assert_hand_count(&d);

    d.at(
        t("2026-12-02T09:10:00Z"),
        &[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--override",
            "test: asked in person",
        ],
    );
    d.at(
        t("2026-12-02T09:11:00Z"),
        &[
            "customer",
            "cancel",
            "frank@example.com",
            "--yes",
            "--override",
            "test: asked in person",
        ],
    );
    // Tickets 1 and 5 (Ann) and 7 (Frank) count as before.
    assert_hand_count(&d);

    for kind in [
        "volume",
        "backlog",
        "response-times",
        "sla",
        "hours",
        "privacy",
    ] {
        for by in [
            &[][..],
            &["--by", "agent"],
            &["--by", "tag"],
            &["--by", "address"],
        ] {
            if !by.is_empty() && (kind == "hours" || kind == "privacy") {
                continue;
            }
            for format in ["--json", "--csv", "--period"] {
                let mut args = vec![kind, "--from", FROM, "--to", TO];
                args.extend_from_slice(by);
                if format == "--period" {
                    args.extend(["--period", "day"]);
                } else {
                    args.push(format);
                }
                let out = d.report(&args);
                assert!(out.status.success(), "{args:?}");
                let text = String::from_utf8_lossy(&out.stdout);
                for canary in CANARIES {
                    assert!(!text.contains(canary), "{canary:?} in {args:?}: {text}");
                }
            }
        }
    }
}

#[test]
fn csv_and_text_show_the_figures_and_a_bad_date_is_one_line() {
    let d = fixed_desk();
    let out = d.report(&["response-times", "--from", FROM, "--to", TO, "--csv"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "label,tickets,first_response_median,first_response_p90,resolution_median,resolution_p90"
    );
    assert_eq!(lines[1], "2026-W48,4,1800,7200,50400,86400");
    assert_eq!(lines.len(), 3);
    let out = d.report(&[
        "response-times",
        "--from",
        FROM,
        "--to",
        TO,
        "--by",
        "agent",
        "--csv",
    ]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.contains("\nunassigned,2,1200,1200,,\n"), "{csv}");

    // Text: durations in words, aligned under their header.
    let out = d.report(&["response-times", "--from", FROM, "--to", TO]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("response-times per week"), "{text}");
    assert!(
        lines[2].starts_with("2026-W48") && lines[2].contains("14h"),
        "{text}"
    );
    assert!(
        lines[2].contains("30m") && lines[2].contains("1d"),
        "{text}"
    );
    assert_eq!(lines[1].len(), lines[2].len(), "aligned: {text}");

    for (args, needle) in [
        (&["volume", "--from", "last tuesday"][..], "2026-11-01"),
        (
            &["volume", "--from", "2026-12-05", "--to", "2026-12-01"],
            "--from",
        ),
        (&["hours", "--by", "agent"], "drop --by"),
    ] {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        let out = d.desk.try_cli(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

#[test]
fn an_agent_reads_a_report_over_ssh_and_through_the_running_server() {
    let d = fixed_desk();
    let key = d.desk.path("alice");
    let server = d.desk.serve();
    let out = run(
        server
            .ssh(&key, "alice")
            .args(["report", "volume", "--from", FROM, "--to", TO, "--json"]),
        WAIT,
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["kind"], "volume");
    assert_eq!(
        rows(&report),
        vec![row("2026-W48", &[4, 2]), row("2026-W49", &[3, 1])]
    );
    // The CLI beside the running server asks it (the store is locked by it).
    assert_hand_count(&d);

    // The server keeps the arrival times current: a new customer message counts at once.
    let total = || -> i64 {
        let out = d.report(&[
            "hours",
            "--from",
            "2026-01-01",
            "--to",
            "2031-01-01",
            "--json",
        ]);
        let hours: Value = serde_json::from_slice(&out.stdout).unwrap();
        rows(&hours).iter().flat_map(|(_, v)| v.clone()).sum()
    };
    assert_eq!(total(), 8);
    let raw = mail(
        "gina@example.com",
        "Canary subject 8",
        "m8@example.com",
        "",
        "Smoulder",
    );
    let out = d.desk.cli_with_stdin(&["ingest"], raw.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(total(), 9);
}
