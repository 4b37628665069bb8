//! Exports kept sealed, quarantine owned by its sender, exports complete, and erasure
//! that reaches all of it: the real binary serving, a real SMTP sink as the relay,
//! canaries in every field a customer fills, then a scan of every file of the data and
//! keys dirs and of a backup taken before, restored with today's keys.

mod common;

use common::live::*;
use common::mailsink::Sink;
use common::TempDesk;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SUBJECT: &str = "CANARYSUBJ5512";
const BODY: &str = "CANARYBODY7731";
const NAME: &str = "Qwxleecanary";
const ADDRESS: &str = "ann.canary@example.com";
const ATTACHED: &str = "CANARYATTACH9090";
const FILE_NAME: &str = "CANARYFNAME3131";
const QUARANTINED: &str = "CANARYQUAR4242";

const CANARIES: [&str; 7] = [
    SUBJECT,
    BODY,
    NAME,
    ADDRESS,
    ATTACHED,
    FILE_NAME,
    QUARANTINED,
];

fn first_mail() -> String {
    use base64::Engine;
    let attached = base64::engine::general_purpose::STANDARD
        .encode(format!("the attached file says {ATTACHED}\n"));
    format!(
        "From: Ann {NAME} <{ADDRESS}>\r\nTo: support@desk.example\r\nSubject: {SUBJECT} printer\r\nMessage-ID: <c1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nMy words {BODY} are here.\r\n--B\r\nContent-Type: text/plain; name=\"{FILE_NAME}.txt\"\r\nContent-Disposition: attachment; filename=\"{FILE_NAME}.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attached}\r\n--B--\r\n"
    )
}

fn ingest(desk: &TestDesk, raw: &str) -> String {
    let out = desk.cli_with_stdin(&["ingest"], raw.as_bytes());
    assert!(
        out.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(desk: &TestDesk, args: &[&str]) -> Value {
    let text = desk.cli(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {text}"))
}

/// Unpacks a .tar.gz into path → bytes (paths without the top directory).
fn unpack(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let (_, inner) = name.split_once('/').expect("one top directory");
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        files.insert(inner.to_string(), content);
    }
    files
}

fn doc(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(files.get(path).unwrap_or_else(|| panic!("{path} missing"))).unwrap()
}

/// Every canary hit under `dirs`, looking inside gzip, tar and zip ("path[!member]: canary").
fn hits(dirs: &[&Path]) -> Vec<String> {
    common::deep_scan::hits(dirs, &CANARIES)
}

/// A desk at `data` with this desk's keys dir (today's keys), for restores.
fn with_todays_keys(desk: &TestDesk, data: PathBuf) -> TempDesk {
    TempDesk {
        dir: tempfile::tempdir().unwrap(),
        data,
        keys: desk.path("keys"),
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn exports_and_quarantine_are_sealed_complete_and_erased_everywhere() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    // Two messages an hour per sender: the third is quarantined.
    desk.cli(&["config", "set", "mail.rate_limit", "2"]);
    let server = desk.serve();

    assert!(ingest(&desk, &first_mail()).contains("new ticket"));
    desk.cli(&["ticket", "reply", "1", "--body", "We are looking at it."]);
    let sent = sink.wait_for_mail(1);
    assert!(
        ingest(&desk, &format!("From: Ann {NAME} <{ADDRESS}>\r\nSubject: Re: printer\r\nMessage-ID: <c2@example.com>\r\nIn-Reply-To: <c1@example.com>\r\n\r\nThanks.\r\n"))
            .contains("filed into ticket")
    );
    let held = ingest(&desk, &format!("From: Ann {NAME} <{ADDRESS}>\r\nSubject: more\r\nMessage-ID: <c3@example.com>\r\n\r\nAnd {QUARANTINED} too.\r\n"));
    assert!(held.contains("quarantined"), "{held}");
    wait_until("the reply marked sent", || {
        desk.cli(&["ticket", "show", "1", "--json"])
            .contains("\"sent ")
    });

    let open = desk.cli(&[
        "request", "open", ADDRESS, "--kind", "export", "--ticket", "1",
    ]);
    let request = open.split_whitespace().next().unwrap().to_string();
    desk.cli(&[
        "request",
        "verify",
        &request,
        "--method",
        "called back on the number on file",
    ]);

    // Stored only: nothing is written anywhere but the sealed store.
    let said = desk.cli(&["customer", "export", ADDRESS, "--request", &request]);
    assert!(said.contains("kept sealed in the desk"), "{said}");
    let first_export = said.split_whitespace().nth(1).unwrap().to_string();
    assert!(first_export.starts_with("exp_"), "{said}");
    assert!(!desk.path("data").join("exports").exists());

    // Once with --out (the admin's choice of a copy outside) and mailed.
    let out = desk.path("ann-export.tar.gz");
    let said = desk.cli(&[
        "customer",
        "export",
        ADDRESS,
        "--request",
        &request,
        "--out",
        out.to_str().unwrap(),
        "--mail",
    ]);
    assert!(said.contains(&format!("to {}", out.display())), "{said}");
    assert!(
        said.contains(&format!("queued by mail to {ADDRESS}")),
        "{said}"
    );
    let mailed = sink.wait_for_mail(2);
    let archive = std::fs::read(&out).unwrap();
    let attachment = sealdesk_mail::parse::parse(&mailed[1]).unwrap().attachments;
    assert_eq!(
        attachment[0].bytes, archive,
        "the mailed archive is the one stored"
    );

    // The export is complete.
    let files = unpack(&archive);
    let quarantine = doc(&files, "quarantine.json");
    assert_eq!(quarantine.as_array().unwrap().len(), 1, "{quarantine}");
    let eml = quarantine[0]["eml"].as_str().unwrap();
    assert!(String::from_utf8_lossy(&files[eml]).contains(QUARANTINED));
    let ticket = doc(&files, "tickets/1/ticket.json");
    let reply = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "outbound")
        .expect("the reply");
    assert_eq!(reply["delivery"]["state"], "sent", "{reply}");
    assert_eq!(reply["eml_source"], "as sent");
    let as_sent = &files[reply["eml"].as_str().unwrap()];
    assert_eq!(
        String::from_utf8_lossy(as_sent).trim_end(),
        String::from_utf8_lossy(&sent[0]).trim_end(),
        "the .eml is the mail exactly as the relay got it"
    );
    let audit = doc(&files, "audit.json");
    let events = audit.as_array().unwrap();
    let earlier = events
        .iter()
        .find(|e| e["action"] == "customer.export")
        .expect("the first export is in the audit section");
    assert!(
        earlier["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == first_export.as_str()),
        "{earlier}"
    );
    assert!(
        earlier["by"]
            .as_str()
            .unwrap()
            .starts_with("an administrator"),
        "{earlier}"
    );
    assert!(
        events.iter().any(|e| e["action"] == "mail.quarantine"),
        "{audit}"
    );
    let html = String::from_utf8_lossy(&files["index.html"]);
    assert!(html.contains("Mail from you that was held back"), "{html}");
    assert!(html.contains("made a copy of your data (export)"), "{html}");
    let manifest = doc(&files, "manifest.json");
    assert_eq!(manifest["schema_version"], 2);

    // The index: two exports, the second written to the file and mailed.
    let listed = json(&desk, &["customer", "exports", ADDRESS, "--json"]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let second = listed
        .iter()
        .find(|e| e["id"] != first_export.as_str())
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .find(|e| e["id"] == first_export.as_str())
            .unwrap()["deliveries"],
        serde_json::json!([]),
        "the stored-only export never left the desk"
    );
    let ways: Vec<&str> = second["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["how"].as_str().unwrap())
        .collect();
    assert_eq!(ways, ["file", "mail"]);
    assert_eq!(second["deliveries"][0]["to"], out.to_str().unwrap());
    assert_eq!(second["deliveries"][1]["to"], ADDRESS);

    // A backup before the erasure, readable with today's keys (the control).
    let backup = desk.path("before.bak");
    desk.cli(&["backup", "--out", backup.to_str().unwrap()]);
    let control = with_todays_keys(&desk, desk.path("control"));
    common::ok(&control, &["restore", backup.to_str().unwrap()]);
    let shown = common::ok(&control, &["customer", "show", ADDRESS]);
    assert!(
        shown.contains(SUBJECT),
        "the backup holds the customer: {shown}"
    );
    drop(control);
    std::fs::remove_dir_all(desk.path("control")).unwrap();

    // The preview names the copy outside the desk and what is kept.
    let preview = desk.cli(&["customer", "cancel", ADDRESS, "--preview"]);
    assert!(
        preview.contains(&format!("{} written on", out.display())),
        "{preview}"
    );
    assert!(preview.contains("What is kept, and why"), "{preview}");
    assert!(preview.contains("keyed hash"), "{preview}");
    assert!(preview.contains("1 quarantined mail(s)"), "{preview}");
    let erased = desk.cli(&[
        "customer",
        "cancel",
        ADDRESS,
        "--yes",
        "--override",
        "asked in person",
    ]);
    assert!(erased.contains("1 quarantined mails"), "{erased}");
    assert!(erased.contains("2 stored exports"), "{erased}");
    let mails = sink.wait_for_mail(3);
    let confirmation = String::from_utf8_lossy(&mails[2]).into_owned();
    assert!(
        confirmation.contains("What we keep, and why"),
        "{confirmation}"
    );
    // Erasure removed the quarantined mail; the index entries stay, without paths.
    let q = json(&desk, &["quarantine", "list", "--json"]);
    assert_eq!(q.as_array().map(Vec::len), Some(0), "{q}");
    assert!(server.terminate().success());

    // Nothing readable in any file of the data or keys dir.
    let live = hits(&[&desk.path("data"), &desk.path("keys")]);
    assert!(live.is_empty(), "{live:#?}");
    // The copy the admin chose, listed by the preview, does hold them (so the scan
    // can find them).
    let outside = common::deep_scan::hits_in("ann-export.tar.gz", &archive, &CANARIES);
    for c in CANARIES {
        assert!(
            outside.iter().any(|h| h.ends_with(&format!(": {c}"))),
            "{c} not in the export: {outside:#?}"
        );
    }

    // The earlier backup, restored with today's keys: the erasure is applied again.
    let restored = with_todays_keys(&desk, desk.path("restored"));
    common::ok(&restored, &["restore", backup.to_str().unwrap()]);
    let gone = restored.cli(&["customer", "show", ADDRESS]);
    assert!(!gone.status.success(), "the customer is back");
    let q = common::json(&restored, &["quarantine", "list", "--json"]);
    assert_eq!(q.as_array().map(Vec::len), Some(0), "{q}");
    let old = hits(&[&desk.path("restored")]);
    assert!(old.is_empty(), "{old:#?}");
}

/// Plaintext archives an older version left in DATA/exports: the preview lists the
/// customer's, the erasure deletes them, and another customer's stay.
#[test]
fn old_plaintext_exports_are_listed_and_go_with_their_customer() {
    let d = TempDesk::with_support_address();
    common::ingest(
        &d,
        "From: Ann <ann@example.com>\r\nSubject: one\r\nMessage-ID: <o1@x>\r\n\r\nhi\r\n",
    );
    common::ingest(
        &d,
        "From: Bo <bo@example.com>\r\nSubject: two\r\nMessage-ID: <o2@x>\r\n\r\nhi\r\n",
    );
    let id = |email: &str| {
        common::json(&d, &["customer", "show", email, "--json"])["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let dir = d.data.join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    let anns = dir.join(format!("{}-1700000000.tar.gz", id("ann@example.com")));
    let bos = dir.join(format!("{}-1700000000.tar.gz", id("bo@example.com")));
    let gz = |text: &str| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    std::fs::write(&anns, gz("old plaintext OLDANNCANARY")).unwrap();
    std::fs::write(&bos, gz("old plaintext OLDBOCANARY")).unwrap();

    let preview = common::ok(&d, &["customer", "cancel", "ann@example.com", "--preview"]);
    assert!(
        preview.contains(&format!(
            "{} (plaintext, from an older version",
            anns.display()
        )),
        "{preview}"
    );
    assert!(!preview.contains(&bos.display().to_string()), "{preview}");
    common::ok(
        &d,
        &[
            "customer",
            "cancel",
            "ann@example.com",
            "--yes",
            "--override",
            "asked in person",
        ],
    );
    assert!(!anns.exists(), "Ann's old archive is deleted with her");
    assert!(bos.exists(), "Bo's is not Ann's");
    let left = common::deep_scan::hits(&[&d.data, &d.keys], &["OLDANNCANARY", "OLDBOCANARY"]);
    assert_eq!(left.len(), 1, "{left:#?}");
    assert!(left[0].ends_with(": OLDBOCANARY"), "{left:#?}");
}

#[test]
fn writing_an_export_out_fails_in_one_line_that_names_the_fix() {
    let d = TempDesk::with_support_address();
    common::ingest(
        &d,
        "From: Ann <ann@example.com>\r\nSubject: one\r\nMessage-ID: <w1@x>\r\n\r\nhi\r\n",
    );
    let taken = d.dir.path().join("taken.tar.gz");
    std::fs::write(&taken, b"the admin's own file").unwrap();
    let out = d.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--override",
        "asked in person",
        "--out",
        taken.to_str().unwrap(),
    ]);
    common::assert_clean_failure(&out, "pick another --out");
    assert_eq!(std::fs::read(&taken).unwrap(), b"the admin's own file");
    let listed = common::json(&d, &["customer", "exports", "ann@example.com", "--json"]);
    assert_eq!(
        listed[0]["deliveries"],
        serde_json::json!([]),
        "a file that was not written is not recorded"
    );
    let unknown = d.cli(&[
        "customer",
        "exports",
        "ann@example.com",
        "--save",
        "exp_00000000000000000000000000000000",
        "--out",
        d.dir.path().join("x.tar.gz").to_str().unwrap(),
    ]);
    common::assert_clean_failure(&unknown, "customer exports EMAIL");
}

/// `customer cancel` in a terminal (through a running server) shows the preview — the
/// copy written outside and what is kept — before it asks for the address.
#[test]
fn an_interactive_cancel_shows_the_preview_first() {
    let desk = configured_desk(None);
    let server = desk.serve();
    ingest(
        &desk,
        "From: Ann <ann@example.com>\r\nSubject: one\r\nMessage-ID: <i1@x>\r\n\r\nhi\r\n",
    );
    let out = desk.path("handed-over.tar.gz");
    desk.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--override",
        "asked in person",
        "--out",
        out.to_str().unwrap(),
    ]);
    let command = format!(
        "sleep 0.5; {BIN} --data {} --keys {} customer cancel ann@example.com --override 'asked in person'",
        desk.path("data").display(),
        desk.path("keys").display()
    );
    let t = Tmux::start(&desk, &command);
    t.resize(220, 60);
    let screen = t.wait_for("Type the customer's address to confirm");
    let flat = screen.replace('\n', "");
    assert!(flat.contains(&out.display().to_string()), "{screen}");
    assert!(screen.contains("What is kept, and why"), "{screen}");
    t.type_line("ann@example.com");
    t.wait_for("[exit 0]");
    let gone = desk.try_cli(&["customer", "show", "ann@example.com"]);
    assert!(!gone.status.success(), "not erased");
    assert!(server.terminate().success());
}
