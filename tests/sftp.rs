//! Attachments both ways over SFTP on the desk's SSH port, with OpenSSH's `sftp` (and
//! `scp -s`) against the real binary; replies with files reach a real SMTP sink.

mod common;

use common::live::*;
use common::mailsink::Sink;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// Bytes that survive no text conversion: every byte value, in an odd length.
fn binary_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
}

fn mail_with_file(name: &str, bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let folded: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Scanner\r\nMessage-ID: <scan1@example.com>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nThe scan is attached.\r\n--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--XX--\r\n",
        folded.join("\r\n")
    )
    .into_bytes()
}

/// OpenSSH's `sftp` as `user` with `key`, with no config, agent or known hosts; the
/// caller adds the batch file and the destination.
fn sftp_options(server: &Server, key: &Path) -> Command {
    let mut cmd = Command::new("sftp");
    cmd.args(["-F", "/dev/null", "-P", &server.port.to_string(), "-i"])
        .arg(key);
    for option in [
        "IdentitiesOnly=yes",
        "IdentityAgent=none",
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "BatchMode=yes",
        "LogLevel=ERROR",
    ] {
        cmd.args(["-o", option]);
    }
    cmd
}

/// [`sftp_options`] reading its commands from stdin (`-b -`), for a session kept open.
fn sftp_command(server: &Server, key: &Path, user: &str) -> Command {
    let mut cmd = sftp_options(server, key);
    cmd.args(["-b", "-"]).arg(format!("{user}@127.0.0.1"));
    cmd
}

/// OpenSSH's `sftp` in batch mode as `user` with `key`, running `commands`.
fn sftp(server: &Server, desk: &TestDesk, key: &Path, user: &str, commands: &str) -> Output {
    let batch = desk.path(&format!("batch-{user}"));
    std::fs::write(&batch, commands).unwrap();
    let mut cmd = sftp_options(server, key);
    cmd.arg("-b").arg(&batch).arg(format!("{user}@127.0.0.1"));
    run(&mut cmd, WAIT)
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_attachment_downloads_byte_for_byte_audited_and_an_upload_goes_out_with_the_reply() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let scan = binary_bytes(300_001);
    let filed = desk.cli_with_stdin(&["ingest"], &mail_with_file("scan.pdf", &scan));
    assert!(filed.status.success(), "{}", text(&filed));
    let server = desk.serve();

    let got = desk.path("got.pdf");
    let upload = desk.path("steps.bin");
    let steps = binary_bytes(70_000);
    std::fs::write(&upload, &steps).unwrap();
    let out = sftp(
        &server,
        &desk,
        &key,
        "alice",
        &format!(
            "ls /tickets\nls /tickets/1/attachments\nget /tickets/1/attachments/scan.pdf {}\nput {} /tickets/1/outgoing/steps.bin\nls -l /tickets/1/outgoing\n",
            got.display(),
            upload.display()
        ),
    );
    assert!(out.status.success(), "{}\n{}", text(&out), server.log());
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.lines().any(|l| l.trim() == "/tickets/1"),
        "ticket numbers: {listed}"
    );
    assert!(listed.contains("scan.pdf"), "{listed}");
    assert!(
        listed.contains("steps.bin") && listed.contains("70000"),
        "{listed}"
    );
    assert_eq!(
        std::fs::read(&got).unwrap(),
        scan,
        "the download is byte for byte"
    );

    // Writing anywhere else, and changing the tree, is refused one by one.
    for refused in [
        format!("put {} /tickets/1/attachments/x.txt", upload.display()),
        "mkdir /tickets/9".to_string(),
        "rename /tickets/1/outgoing/steps.bin /tickets/1/outgoing/b.txt".to_string(),
        "rm /tickets/1/attachments/scan.pdf".to_string(),
        "ls /exports".to_string(),
    ] {
        let out = sftp(&server, &desk, &key, "alice", &format!("{refused}\n"));
        assert!(!out.status.success(), "{refused}: {}", text(&out));
    }

    // The download is in the audit: ticket, message, size; no file name.
    let audit = desk.audit();
    let download = audit
        .iter()
        .find(|e| e["action"] == "attachment.download")
        .expect("the download is audited");
    assert_eq!(download["actor"], "alice");
    let targets = download["targets"].to_string();
    assert!(
        targets.contains("\"#1\"") && targets.contains("seq=1") && targets.contains("size=300001"),
        "{targets}"
    );
    assert!(!targets.contains("scan"), "{targets}");

    // Alice opens the ticket in the TUI (real ssh in tmux): `r` brings her draft back
    // with the uploaded file on it; she writes and sends, and the file goes along.
    let tmux = Tmux::start_named(
        &desk,
        "alice",
        &interactive_ssh(&server, &key, "alice", &[]),
    );
    tmux.wait_for("Queue (");
    tmux.send_keys("Enter");
    tmux.wait_for("your draft carries: steps.bin");
    tmux.send_keys("r");
    tmux.wait_for("Ctrl-S");
    tmux.wait_for("steps.bin");
    tmux.type_text("The steps are attached.");
    tmux.send_keys("C-s");
    tmux.wait_for("queued for sending");
    let mail = sink.wait_for_mail(1);
    let m = sealdesk_mail::parse::parse(&mail[0]).unwrap();
    assert_eq!(m.to, vec!["ann@example.com"]);
    assert_eq!(
        m.attachments.len(),
        1,
        "{}",
        String::from_utf8_lossy(&mail[0])
    );
    assert_eq!(m.attachments[0].name, "steps.bin");
    assert_eq!(m.attachments[0].bytes, steps, "the upload arrives intact");
}

#[test]
fn outgoing_files_are_listed_removed_and_capped_and_scp_s_downloads() {
    let desk = configured_desk(None);
    let key = desk.keygen("alice");
    desk.add_agent("alice", &key);
    let scan = binary_bytes(5_000);
    let filed = desk.cli_with_stdin(&["ingest"], &mail_with_file("scan.pdf", &scan));
    assert!(filed.status.success(), "{}", text(&filed));
    let server = desk.serve();

    let small = desk.path("a.txt");
    std::fs::write(&small, b"hello").unwrap();
    let big = desk.path("big.bin");
    std::fs::write(&big, vec![0u8; sealdesk_desk::ATTACHMENT_MAX + 1]).unwrap();
    let out = sftp(
        &server,
        &desk,
        &key,
        "alice",
        &format!(
            "put {} /tickets/1/outgoing/a.txt\n-put {} /tickets/1/outgoing/big.bin\nls -1 /tickets/1/outgoing\nrm /tickets/1/outgoing/a.txt\nls -1 /tickets/1/outgoing\n",
            small.display(),
            big.display()
        ),
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let listings: Vec<&str> = stdout.split("sftp> ls -1").collect();
    assert!(listings[1].contains("a.txt"), "{stdout}");
    assert!(
        !listings[1].contains("big.bin"),
        "the oversized file is not attached: {stdout}"
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(!listings[2].contains("a.txt"), "rm detaches: {stdout}");

    // `scp -s` speaks SFTP too.
    let got = desk.path("scp.pdf");
    let mut scp = Command::new("scp");
    scp.args([
        "-s",
        "-F",
        "/dev/null",
        "-P",
        &server.port.to_string(),
        "-i",
    ])
    .arg(&key);
    for option in [
        "IdentitiesOnly=yes",
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "BatchMode=yes",
    ] {
        scp.args(["-o", option]);
    }
    scp.arg("alice@127.0.0.1:/tickets/1/attachments/scan.pdf")
        .arg(&got);
    let out = run(&mut scp, WAIT);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(&got).unwrap(), scan);
}

#[test]
fn exports_are_for_admins_and_each_download_is_audited() {
    let desk = configured_desk(None);
    let agent_key = desk.keygen("bob");
    let admin_key = desk.keygen("carol");
    desk.add_agent("bob", &agent_key);
    desk.add_admin("carol", &admin_key);
    let filed = desk.cli_with_stdin(&["ingest"], &mail_with_file("scan.pdf", b"%PDF-1"));
    assert!(filed.status.success(), "{}", text(&filed));
    let written = desk.path("ann.tar.gz");
    desk.cli(&[
        "customer",
        "export",
        "ann@example.com",
        "--override",
        "test of the sftp tree",
        "--out",
        written.to_str().unwrap(),
    ]);
    let server = desk.serve();

    let out = sftp(&server, &desk, &agent_key, "bob", "ls /exports\n");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ermission denied"),
        "{}",
        text(&out)
    );

    let out = sftp(&server, &desk, &admin_key, "carol", "ls -1 /exports\n");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let name = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("/exports/export-") || l.starts_with("export-"))
        .unwrap_or_else(|| panic!("no archive listed: {stdout}"))
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let got = desk.path("got.tar.gz");
    let out = sftp(
        &server,
        &desk,
        &admin_key,
        "carol",
        &format!("get /exports/{name} {}\n", got.display()),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read(&got).unwrap(),
        std::fs::read(&written).unwrap()
    );
    let audit = desk.audit();
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "customer.export-downloaded" && e["actor"] == "carol"),
        "the export download is audited"
    );

    // A removed agent whose SFTP session is still open gets nothing more.
    let mut open = sftp_command(&server, &agent_key, "bob");
    let mut child = open
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines_tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    writeln!(stdin, "ls /tickets").unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("bob's first listing");
        if line.trim() == "/tickets/1" {
            break;
        }
    }
    desk.cli(&["agent", "remove", "bob"]);
    writeln!(stdin, "ls /tickets").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let after: Vec<String> = lines.try_iter().collect();
    assert!(
        !after.iter().any(|l| l.trim() == "/tickets/1"),
        "nothing listed after the removal: {after:?}"
    );
}

#[test]
fn ticket_reply_attach_sends_the_files_offline_and_through_the_running_server() {
    let sink = Sink::start();
    let desk = configured_desk(Some(sink.port));
    let filed = desk.cli_with_stdin(&["ingest"], &mail_with_file("scan.pdf", b"%PDF-1"));
    assert!(filed.status.success(), "{}", text(&filed));
    let first = desk.path("first.bin");
    let second = desk.path("second.txt");
    std::fs::write(&first, binary_bytes(40_000)).unwrap();
    std::fs::write(&second, b"second file").unwrap();

    // Offline: the CLI opens the store itself.
    let said = desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--body",
        "Two files.",
        "--attach",
        first.to_str().unwrap(),
        "--attach",
        second.to_str().unwrap(),
    ]);
    assert!(said.contains("with 2 file(s)"), "{said}");
    let missing = desk.try_cli(&[
        "ticket",
        "reply",
        "1",
        "--body",
        "x",
        "--attach",
        "/nonexistent/file",
    ]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--attach"), "{err}");

    let _server = desk.serve();
    // Through the control socket: the CLI reads the file, the server sends it.
    let said = desk.cli(&[
        "ticket",
        "reply",
        "1",
        "--body",
        "One more.",
        "--attach",
        second.to_str().unwrap(),
    ]);
    assert!(said.contains("with 1 file(s)"), "{said}");
    let mail = sink.wait_for_mail(2);
    let parsed: Vec<_> = mail
        .iter()
        .map(|m| sealdesk_mail::parse::parse(m).unwrap())
        .collect();
    let two = parsed
        .iter()
        .find(|m| m.attachments.len() == 2)
        .expect("the offline reply with two files");
    assert_eq!(two.attachments[0].name, "first.bin");
    assert_eq!(two.attachments[0].bytes, binary_bytes(40_000));
    assert_eq!(two.attachments[1].bytes, b"second file");
    let one = parsed
        .iter()
        .find(|m| m.attachments.len() == 1)
        .expect("the reply through the server");
    assert_eq!(one.attachments[0].name, "second.txt");
    assert_eq!(one.attachments[0].bytes, b"second file");
}
