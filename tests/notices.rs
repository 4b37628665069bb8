//! Notices to chosen customers against a running `sealdesk serve` and a real SMTP sink:
//! each audience reaches exactly its customers, never an erased one, a restricted one
//! only for a mandatory kind; preview shows the count and filled-in samples; sending
//! again mails nobody twice; each copy is in the customer's history and export.

mod common;

use common::live::*;
use common::mailsink::Sink;
use std::collections::BTreeSet;
use std::io::Read;

const CUSTOMERS: [(&str, &str); 7] = [
    ("ann@example.com", "Ann Able"),
    ("bob@example.com", "Bob Baker"),
    ("cat@example.com", "Cat Cole"),
    ("dan@example.com", "Dan Dunn"),
    ("eve@example.com", "Eve Erased"),
    ("fay@example.com", "Fay Later"),
    ("rita@example.com", "Rita Restricted"),
];

fn ingest(desk: &TestDesk, from: &str, name: &str, n: usize) {
    let raw = format!(
        "From: {name} <{from}>\r\nTo: support@desk.example\r\nSubject: question {n}\r\nMessage-ID: <q{n}@example.com>\r\n\r\nHello.\r\n"
    );
    let out = desk.cli_with_stdin(&["ingest"], raw.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Opens the desk in this process (no server running) for what the CLI has no
/// command for here: tags (the TUI sets them) and the restricted flag.
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

/// Every mail the sink has received so far.
fn received(sink: &Sink) -> Vec<Vec<u8>> {
    sink.wait_for_mail(0)
}

/// Waits (up to 30 s) until `done` holds for what the sink received, and returns it.
fn wait_until(sink: &Sink, what: &str, done: impl Fn(&[Vec<u8>]) -> bool) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let got = received(sink);
        if done(&got) {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the relay never got {what}: {} mail(s) arrived",
            got.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// (recipient, subject) of every mail in the sink whose subject starts with `prefix`.
fn notice_mails(mails: &[Vec<u8>], prefix: &str) -> Vec<(String, String, String)> {
    mails
        .iter()
        .filter_map(|raw| {
            let m = sealdesk_mail::parse::parse(raw).unwrap();
            m.subject
                .starts_with(prefix)
                .then(|| (m.to.join(","), m.subject.clone(), m.text.clone()))
        })
        .collect()
}

fn recipients(mails: &[(String, String, String)]) -> BTreeSet<String> {
    mails.iter().map(|(to, _, _)| to.clone()).collect()
}

fn set(addresses: &[&str]) -> BTreeSet<String> {
    addresses.iter().map(|a| a.to_string()).collect()
}

fn create(desk: &TestDesk, kind: &str, subject: &str, audience: &[&str]) -> String {
    let body = desk.path("body.txt");
    std::fs::write(
        &body,
        "Dear {customer.name},\n\nthis concerns your account {customer.email}.\n",
    )
    .unwrap();
    let mut args = vec![
        "notice",
        "create",
        "--kind",
        kind,
        "--subject",
        subject,
        "--body-file",
        body.to_str().unwrap(),
    ];
    args.extend_from_slice(audience);
    let id = desk.cli(&args).trim().to_string();
    assert!(id.starts_with("ntc_"), "{id}");
    id
}

#[test]
fn notices_reach_exactly_their_audience_once_and_show_in_history_and_export() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    desk.cli(&["config", "set", "notice.rate_per_minute", "600"]);
    for (n, (address, name)) in CUSTOMERS.iter().enumerate() {
        ingest(&desk, address, name, n);
    }
    with_desk(&desk, |d| {
        let admin = sealdesk_desk::Actor::local_admin();
        let mut rita = d.find_customer(&admin, "rita@example.com").unwrap();
        rita.flags.restricted = true;
        d.update_customer(&admin, rita, "restricted").unwrap();
        // Ann's ticket #1 and Rita's #7 carry the tag.
        for n in [1, 7] {
            d.set_tags(&admin, sealdesk_model::TicketNo(n), &["vip".into()])
                .unwrap();
        }
    });
    // Looked at by the CLI's admin: the audit audience.
    let shown_at = sealdesk_model::Timestamp::now();
    desk.cli(&["customer", "show", "dan@example.com"]);
    let viewer = desk
        .audit()
        .iter()
        .rev()
        .find(|e| e["action"] == "customer.view")
        .map(|e| e["actor"].as_str().unwrap().to_string())
        .unwrap();
    desk.cli(&[
        "customer",
        "cancel",
        "eve@example.com",
        "--yes",
        "--override",
        "asked in person",
    ]);

    let server = desk.serve();
    let all = create(&desk, "policy-change", "Policy A", &["--all"]);
    let vip = create(&desk, "incident", "Incident B", &["--tag", "vip"]);
    let since = sealdesk_model::Timestamp(shown_at.0 - 60).rfc3339();
    let until = sealdesk_model::Timestamp::now().rfc3339();
    let touched = create(
        &desk,
        "transfer",
        "Transfer C",
        &[
            "--touched-by",
            &viewer,
            "--since",
            &since,
            "--until",
            &until,
        ],
    );
    let list = desk.path("addresses.txt");
    // Cat withdrew marketing consent: an `other` notice counts as marketing.
    desk.cli(&[
        "consent",
        "record",
        "cat@example.com",
        "--purpose",
        "040",
        "--state",
        "withdrawn",
        "--category",
        "C001",
    ]);
    std::fs::write(
        &list,
        "bob@example.com\ncat@example.com\nnobody@example.com\n\n",
    )
    .unwrap();
    let listed = create(
        &desk,
        "other",
        "Other D",
        &["--addresses", list.to_str().unwrap()],
    );

    // Preview: the count and three samples with the placeholders filled.
    let preview = desk.cli(&["notice", "preview", &all]);
    assert!(
        preview.contains("5 recipient(s) would be mailed now, 0 mailed already"),
        "ann, bob, cat, dan, fay (not erased eve, not restricted rita): {preview}"
    );
    assert_eq!(preview.matches("--- sample").count(), 3, "{preview}");
    assert!(preview.contains("Subject: Policy A"), "{preview}");
    let sampled: Vec<_> = CUSTOMERS
        .iter()
        .filter(|(address, _)| preview.contains(&format!("To: {address}\n")))
        .collect();
    assert_eq!(sampled.len(), 3, "{preview}");
    for (address, name) in sampled {
        assert!(preview.contains(&format!("Dear {name},")), "{preview}");
        assert!(
            preview.contains(&format!("account {address}.")),
            "{preview}"
        );
    }
    assert!(!preview.contains("{customer."), "{preview}");
    let vip_preview = desk.cli(&["notice", "preview", &vip]);
    assert!(
        vip_preview.contains("2 recipient(s) would be mailed now"),
        "an incident reaches the restricted customer: {vip_preview}"
    );
    assert_eq!(vip_preview.matches("--- sample").count(), 2);

    // Fay is erased after the notice was made, before it is sent.
    desk.cli(&[
        "customer",
        "cancel",
        "fay@example.com",
        "--yes",
        "--override",
        "asked in person",
    ]);

    for id in [&all, &touched, &listed] {
        let said = desk.cli(&["notice", "send", id]);
        assert!(said.contains("progress: "), "{said}");
    }
    // Followed until the outbox is through with it, line by line.
    let followed = desk.cli(&["notice", "send", &vip, "--follow"]);
    assert!(followed.contains("done: 2 queued"), "{followed}");
    assert!(
        followed.ends_with("progress: 2 sent, 0 failed, 0 waiting of 2 copies\n"),
        "{followed}"
    );
    let expected = [
        (
            "Policy A",
            set(&[
                "ann@example.com",
                "bob@example.com",
                "cat@example.com",
                "dan@example.com",
            ]),
        ),
        ("Incident B", set(&["ann@example.com", "rita@example.com"])),
        ("Transfer C", set(&["dan@example.com"])),
        ("Other D", set(&["bob@example.com"])),
    ];
    let total: usize = expected.iter().map(|(_, s)| s.len()).sum();
    let mails = wait_until(&sink, "every notice", |m| {
        expected
            .iter()
            .map(|(p, _)| notice_mails(m, p).len())
            .sum::<usize>()
            >= total
    });
    for (prefix, want) in &expected {
        let got = notice_mails(&mails, prefix);
        assert_eq!(&recipients(&got), want, "{prefix}");
        assert_eq!(got.len(), want.len(), "{prefix}: nobody twice");
    }
    let ann = notice_mails(&mails, "Policy A")
        .into_iter()
        .find(|(to, _, _)| to == "ann@example.com")
        .unwrap();
    assert!(ann.2.contains("Dear Ann Able,"), "{}", ann.2);

    // Sending again mails nobody twice.
    let again = desk.cli(&["notice", "send", &all]);
    assert!(again.contains("done: 0 queued"), "{again}");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(notice_mails(&received(&sink), "Policy A").len(), 4);

    // The list shows how far each got.
    let rows: serde_json::Value =
        serde_json::from_str(&desk.cli(&["notice", "list", "--json"])).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == all.as_str())
        .unwrap();
    assert_eq!(row["recipients"], 5);
    assert_eq!(row["sent"], 4, "{row}");
    assert_eq!(row["left_out"]["restricted"], 1, "{row}");
    let row = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let other = row(&listed);
    assert_eq!(other["recipients"], 1, "{other}");
    assert_eq!(other["left_out"]["no_marketing_consent"], 1, "{other}");
    assert_eq!(other["left_out"]["unknown_addresses"], 1, "{other}");
    assert_eq!(
        row(&vip)["left_out"]["restricted"],
        0,
        "an incident is mandatory"
    );

    // History: outbound notices on the customer, not in any ticket thread.
    let shown: serde_json::Value =
        serde_json::from_str(&desk.cli(&["customer", "show", "ann@example.com", "--json"]))
            .unwrap();
    let notices = shown["notices"].as_array().unwrap();
    let subjects: BTreeSet<&str> = notices
        .iter()
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, BTreeSet::from(["Policy A", "Incident B"]));
    assert!(notices.iter().all(|n| n["direction"] == "outbound"));
    assert!(notices.iter().all(|n| n["delivery"]["state"] == "sent"));
    let thread = desk.cli(&["ticket", "show", "1", "--json"]);
    assert!(
        !thread.contains("Policy A"),
        "a notice is no message of the customer's: {thread}"
    );

    // Export: the notices as sent.
    let out = desk.path("ann.tar.gz");
    desk.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--override",
        "asked in person",
        "--out",
        out.to_str().unwrap(),
    ]);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&out).unwrap(),
    ));
    let mut notices_json = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().ends_with("notices.json") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            notices_json = Some(text);
        }
    }
    let exported: serde_json::Value =
        serde_json::from_str(&notices_json.expect("notices.json is in the export")).unwrap();
    let exported = exported.as_array().unwrap();
    assert_eq!(exported.len(), 2);
    assert!(exported
        .iter()
        .any(|n| n["subject"] == "Incident B"
            && n["body"].as_str().unwrap().contains("Dear Ann Able")));

    // Audited: the creation, and each recipient by pseudonym.
    let events = desk.audit();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "notice.create")
            .count(),
        4
    );
    let sends: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "notice.send")
        .collect();
    assert_eq!(sends.len(), total);
    assert!(sends
        .iter()
        .all(|e| e["customer"].as_str().unwrap().starts_with("psn_")));
    assert!(server.terminate().success());
}

#[test]
fn a_notice_needs_a_known_placeholder_and_an_audience() {
    let desk = configured_desk(None);
    ingest(&desk, "ann@example.com", "Ann", 1);
    let body = desk.path("body.txt");
    std::fs::write(&body, "Dear {customer.nmae}").unwrap();
    let out = desk.try_cli(&[
        "notice",
        "create",
        "--kind",
        "incident",
        "--subject",
        "S",
        "--body-file",
        body.to_str().unwrap(),
        "--all",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown placeholder {customer.nmae}"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = desk.try_cli(&[
        "notice",
        "create",
        "--kind",
        "incident",
        "--subject",
        "S",
        "--body-file",
        body.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "no audience");
    let out = desk.try_cli(&["notice", "send", "ntc_00000000000000000000000000000000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("see `sealdesk notice list`"));
}

#[test]
fn customer_list_shows_every_live_customer() {
    let desk = configured_desk(None);
    ingest(&desk, "ann@example.com", "Ann \u{1b}[31mRed", 1);
    ingest(&desk, "bob@example.com", "Bob", 2);
    ingest(&desk, "bob@example.com", "Bob", 3);
    ingest(&desk, "eve@example.com", "Eve", 4);
    desk.cli(&[
        "customer",
        "cancel",
        "eve@example.com",
        "--yes",
        "--override",
        "asked in person",
    ]);
    let rows: serde_json::Value =
        serde_json::from_str(&desk.cli(&["customer", "list", "--json"])).unwrap();
    let rows = rows.as_array().unwrap();
    let emails: Vec<&str> = rows.iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(
        emails,
        vec!["ann@example.com", "bob@example.com"],
        "erased eve is left out"
    );
    assert_eq!(rows[1]["tickets"], 2);
    assert_eq!(rows[1]["flags"]["restricted"], false);
    let text = desk.cli(&["customer", "list"]);
    assert!(
        !text.contains('\u{1b}'),
        "terminal controls are sanitized: {text:?}"
    );
    assert!(
        text.contains("bob@example.com") && !text.contains("eve@"),
        "{text}"
    );
    assert!(desk.audit().iter().any(|e| e["action"] == "customer.list"));
}

#[test]
fn a_notice_queued_for_someone_erased_before_it_left_is_never_sent() {
    let sink = Sink::start();
    // No relay yet: the notice waits in the outbox.
    let desk = configured_desk(None);
    ingest(&desk, "ann@example.com", "Ann", 1);
    ingest(&desk, "bob@example.com", "Bob", 2);
    let server = desk.serve();
    let id = create(&desk, "incident", "Incident Z", &["--all"]);
    let said = desk.cli(&["notice", "send", &id]);
    assert!(said.contains("done: 2 queued"), "{said}");
    desk.cli(&[
        "customer",
        "cancel",
        "bob@example.com",
        "--yes",
        "--override",
        "asked in person",
    ]);
    desk.cli(&[
        "config",
        "set",
        "mail.relay",
        &format!("smtp://127.0.0.1:{}", sink.port),
    ]);
    wait_until(&sink, "ann's notice and bob's confirmation", |m| {
        notice_mails(m, "Incident Z").len() == 1
            && notice_mails(m, "Your account has been cancelled").len() == 1
    });
    // Two more outbox rounds: bob's notice was failed, not sent late.
    std::thread::sleep(std::time::Duration::from_secs(11));
    let mails = received(&sink);
    assert_eq!(
        recipients(&notice_mails(&mails, "Incident Z")),
        set(&["ann@example.com"])
    );
    let rows: serde_json::Value =
        serde_json::from_str(&desk.cli(&["notice", "list", "--json"])).unwrap();
    assert_eq!(rows[0]["sent"], 1, "{rows}");
    assert_eq!(rows[0]["queued"], 0, "bob's copy went with him: {rows}");
    assert!(server.terminate().success());
}
