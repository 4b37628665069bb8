//! The SMTP/LMTP listener on a real socket, driven by Python's smtplib (a real client
//! we did not write) and by raw TCP for what smtplib cannot do (pipelining, garbage).

use sealdesk_mail::smtp::{self, DeliveryOutcome, Envelope, LmtpMode, MailSink, SmtpOptions};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Accepts `support@desk.test` and `help@desk.test`; records what it is given.
struct Recorder {
    outcome: Mutex<DeliveryOutcome>,
    envelopes: Mutex<Vec<Envelope>>,
}

impl MailSink for Recorder {
    fn accepts_recipient(&self, address: &str) -> bool {
        let lower = address.to_ascii_lowercase();
        lower == "support@desk.test" || lower == "help@desk.test"
    }

    fn deliver(&self, envelope: Envelope) -> DeliveryOutcome {
        self.envelopes.lock().unwrap().push(envelope);
        self.outcome.lock().unwrap().clone()
    }
}

struct Server {
    addr: SocketAddr,
    sink: Arc<Recorder>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(options: SmtpOptions) -> Server {
        Server::start_with(options, DeliveryOutcome::Stored).await
    }

    async fn start_with(options: SmtpOptions, outcome: DeliveryOutcome) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = Arc::new(Recorder {
            outcome: Mutex::new(outcome),
            envelopes: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(smtp::serve(listener, options, sink.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            sink,
            stop: Some(stop),
            task,
        }
    }

    fn envelopes(&self) -> Vec<Envelope> {
        self.sink.envelopes.lock().unwrap().clone()
    }

    /// Runs a Python script with `smtplib` imported and PORT set; returns its stdout.
    async fn python(&self, script: &str) -> String {
        let program = format!("import smtplib, sys\nPORT = {}\n{script}", self.addr.port());
        let out = tokio::task::spawn_blocking(move || {
            Command::new("python3")
                .args(["-c", &program])
                .output()
                .expect("python3 is needed for these tests: apt-get install python3")
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
        stdout
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let result = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("serve() stops after shutdown");
        result.unwrap().unwrap();
    }
}

fn options() -> SmtpOptions {
    SmtpOptions {
        hostname: "desk.test".into(),
        ..SmtpOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_plain_send() {
    let server = Server::start(options()).await;
    let out = server
        .python(
            r#"
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.example.org")
code, _ = s.ehlo()
print(code, sorted(s.esmtp_features))
print(s.esmtp_features["size"])
refused = s.sendmail("alice@example.org", ["support@desk.test"],
                     b"Subject: hello\r\nFrom: alice@example.org\r\n\r\nMy printer is on fire.\r\n")
print("refused", refused)
print(s.noop()[0], s.rset()[0], s.verify("x")[0], s.help().decode())
print(s.quit())
"#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "250 ['8bitmime', 'enhancedstatuscodes', 'pipelining', 'size', 'smtputf8']",
        "no STARTTLS, no CHUNKING:\n{out}"
    );
    assert_eq!(lines[1], (25 * 1024 * 1024).to_string());
    assert_eq!(lines[2], "refused {}");
    assert!(lines[3].starts_with("250 250 252 2.0.0 Commands:"), "{out}");
    assert_eq!(lines[4], "(221, b'2.0.0 desk.test closing connection')");
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1);
    let e = &envelopes[0];
    assert_eq!(e.helo, "client.example.org");
    assert_eq!(e.mail_from, "alice@example.org");
    assert_eq!(e.rcpt_to, ["support@desk.test"]);
    assert!(!e.lmtp);
    assert_eq!(
        e.data,
        b"Subject: hello\r\nFrom: alice@example.org\r\n\r\nMy printer is on fire.\r\n"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_several_recipients_some_refused() {
    let server = Server::start(options()).await;
    let out = server
        .python(
            r#"
s = smtplib.SMTP("127.0.0.1", PORT)
refused = s.sendmail("bob@example.org", ["support@desk.test", "nobody@desk.test", "HELP@desk.test"],
                     b"Subject: two\r\n\r\nbody\r\n")
print(refused)
try:
    s.sendmail("bob@example.org", ["nobody@elsewhere.test"], b"Subject: x\r\n\r\ny\r\n")
except smtplib.SMTPRecipientsRefused as e:
    print("refused all", e.recipients)
s.quit()
"#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "{'nobody@desk.test': (550, b'5.1.1 No such mailbox here')}"
    );
    assert_eq!(
        lines[1],
        "refused all {'nobody@elsewhere.test': (550, b'5.1.1 No such mailbox here')}"
    );
    let envelopes = server.envelopes();
    assert_eq!(
        envelopes.len(),
        1,
        "the all-refused mail never reaches the sink"
    );
    assert_eq!(
        envelopes[0].rcpt_to,
        ["support@desk.test", "HELP@desk.test"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_oversize_is_refused_and_never_delivered() {
    let server = Server::start(SmtpOptions {
        max_size: 1000,
        ..options()
    })
    .await;
    let out = server
        .python(
            r#"
big = b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 1 + (b"y" * 78 + b"\r\n") * 30
s = smtplib.SMTP("127.0.0.1", PORT)
try:
    s.sendmail("a@example.org", ["support@desk.test"], big)   # announces SIZE=
except smtplib.SMTPSenderRefused as e:
    print("mail", e.smtp_code, e.smtp_error.decode())
s.ehlo()
s.mail("a@example.org")                                          # no SIZE: caught in DATA
s.rcpt("support@desk.test")
print("data", s.data(big))
print("after", s.noop())
s.quit()
"#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "mail 552 5.3.4 Message size exceeds fixed maximum message size (1000 octets)"
    );
    assert_eq!(
        lines[1],
        "data (552, b'5.3.4 Message exceeds fixed maximum message size')"
    );
    assert_eq!(lines[2], "after (250, b'2.0.0 OK')", "the session goes on");
    assert!(server.envelopes().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_null_sender_bounce() {
    let server = Server::start(options()).await;
    server
        .python(
            r#"
s = smtplib.SMTP("127.0.0.1", PORT)
s.sendmail("", ["support@desk.test"], b"Subject: Undelivered Mail Returned to Sender\r\n\r\nbounce\r\n")
s.quit()
"#,
        )
        .await;
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].mail_from, "");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_lmtp_replies_per_recipient() {
    let server = Server::start(options()).await;
    let out = server
        .python(
            r#"
s = smtplib.LMTP("127.0.0.1", PORT)
print(s.ehlo()[0], "pipelining" in s.esmtp_features)      # smtplib's LMTP sends LHLO
s.mail("carol@example.org")
print(s.rcpt("support@desk.test")[0], s.rcpt("nobody@desk.test")[0], s.rcpt("help@desk.test")[0])
print(s.data(b"Subject: lmtp\r\n\r\nhi\r\n"))
print(s.getreply())                                         # smtplib reads only the first
print(s.noop())
s.quit()
"#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "250 True");
    assert_eq!(lines[1], "250 550 250");
    assert_eq!(lines[2], "(250, b'2.0.0 Message accepted for delivery')");
    assert_eq!(lines[3], "(250, b'2.0.0 Message accepted for delivery')");
    assert_eq!(
        lines[4], "(250, b'2.0.0 OK')",
        "exactly two replies, then NOOP's"
    );
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert!(envelopes[0].lmtp);
    assert_eq!(
        envelopes[0].rcpt_to,
        ["support@desk.test", "help@desk.test"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_sees_the_sinks_temporary_failure() {
    let outcome = DeliveryOutcome::TempFail("store is busy\r\n250 fake".into());
    let server = Server::start_with(options(), outcome).await;
    let out = server
        .python(
            r#"
s = smtplib.SMTP("127.0.0.1", PORT)
try:
    s.sendmail("dave@example.org", ["support@desk.test"], b"Subject: x\r\n\r\ny\r\n")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
print(s.noop())
s.quit()
"#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    // The reason cannot inject a second reply line.
    assert_eq!(lines[0], "451 4.3.0 store is busy  250 fake");
    assert_eq!(lines[1], "(250, b'2.0.0 OK')");
    assert_eq!(server.envelopes().len(), 1, "the sink was asked");

    *server.sink.outcome.lock().unwrap() = DeliveryOutcome::Rejected("looks like a loop".into());
    let out = server
        .python(
            r#"
s = smtplib.SMTP("127.0.0.1", PORT)
try:
    s.sendmail("dave@example.org", ["support@desk.test"], b"Subject: x\r\n\r\ny\r\n")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
"#,
        )
        .await;
    assert_eq!(out.trim(), "550 5.7.1 looks like a loop");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_dot_lines_and_eight_bit_bytes_survive() {
    let server = Server::start(options()).await;
    server
        .python(
            r#"
body = (b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"
        b".\r\n..\r\n.starts with a dot\r\n"
        + "Grüße, 你好, emoji 🎉\r\n".encode("utf-8")
        + bytes(range(0x80, 0x100)) + b"\r\n"
        + b"last line without newline")
s = smtplib.SMTP("127.0.0.1", PORT)
s.sendmail("jürgen@example.org", ["support@desk.test"], body, mail_options=["BODY=8BITMIME", "SMTPUTF8"])
s.quit()
"#,
        )
        .await;
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].mail_from, "jürgen@example.org");
    let mut want =
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n.\r\n..\r\n.starts with a dot\r\n".to_vec();
    want.extend_from_slice("Grüße, 你好, emoji 🎉\r\n".as_bytes());
    want.extend((0x80..=0xffu8).collect::<Vec<_>>());
    // smtplib ends the last line for us.
    want.extend_from_slice(b"\r\nlast line without newline\r\n");
    assert_eq!(envelopes[0].data, want);
    server.stop().await;
}

/// A raw SMTP client: writes whatever it is given, reads whole replies.
struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        let (read, writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut raw = Raw {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = raw.reply().await;
        assert!(greeting.starts_with("220 desk.test "), "{greeting}");
        raw
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// One reply; a multi-line reply comes back joined with `|`. Empty at EOF.
    async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                .await
                .expect("a reply within 10 s")
                .unwrap();
            if n == 0 {
                return lines.join("|");
            }
            assert!(line.ends_with("\r\n"), "replies end with CRLF: {line:?}");
            let line = line.trim_end().to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("|");
            }
        }
    }

    async fn replies(&mut self, n: usize) -> Vec<String> {
        let mut all = Vec::new();
        for _ in 0..n {
            all.push(self.reply().await);
        }
        all
    }

    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), self.reader.read_to_end(&mut rest))
            .await
            .is_ok_and(|r| r.is_ok() && rest.is_empty())
    }
}

fn codes(replies: &[String]) -> Vec<&str> {
    replies.iter().map(|r| &r[..3]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pipelining_replies_in_order() {
    let server = Server::start(options()).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(
        b"EHLO pipe.example\r\nMAIL FROM:<a@example.org> SIZE=40\r\nRCPT TO:<support@desk.test>\r\n\
          RCPT TO:<nobody@desk.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\n",
    )
    .await;
    let replies = c.replies(6).await;
    assert!(replies[0].contains("|250-PIPELINING|"), "{replies:?}");
    assert_eq!(codes(&replies[1..]), ["250", "250", "550", "250", "354"]);
    c.send(b"Subject: p\r\n\r\n..foo\r\n.\r\nRSET\r\nNOOP\r\nMAIL FROM:<>\r\nQUIT\r\n")
        .await;
    assert_eq!(
        codes(&c.replies(5).await),
        ["250", "250", "250", "250", "221"]
    );
    assert!(c.closed().await);
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].data, b"Subject: p\r\n\r\n.foo\r\n");
    assert_eq!(
        envelopes[0].rcpt_to,
        ["support@desk.test", "help@desk.test"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bare_lf_is_tolerated_but_never_ends_data() {
    let server = Server::start(options()).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"HELO lf.example\nMAIL FROM:<a@example.org>\nRCPT TO:<support@desk.test>\nDATA\n")
        .await;
    assert_eq!(codes(&c.replies(4).await), ["250", "250", "250", "354"]);
    // "\n.\n" and "\r\n.\n" are data; only "\r\n.\r\n" ends the message.
    c.send(b"Subject: lf\n\nline one\n.\nMAIL FROM:<evil@example.org>\r\n.\nstill data\r\n.\r\n")
        .await;
    assert_eq!(codes(&c.replies(1).await), ["250"]);
    let envelopes = server.envelopes();
    assert_eq!(
        envelopes[0].data,
        b"Subject: lf\n\nline one\n\nMAIL FROM:<evil@example.org>\r\n\nstill data\r\n"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sequence_errors() {
    let server = Server::start(options()).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"MAIL FROM:<a@example.org>\r\nEHLO x\r\nRCPT TO:<support@desk.test>\r\nDATA\r\n")
        .await;
    let replies = c.replies(4).await;
    assert_eq!(codes(&replies), ["503", "250", "503", "503"], "{replies:?}");
    c.send(b"MAIL FROM:<a@example.org>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@desk.test>\r\nDATA\r\n")
        .await;
    assert_eq!(codes(&c.replies(4).await), ["250", "503", "550", "554"]);
    c.send(b"STARTTLS\r\nBDAT 5 LAST\r\nLHLO x\r\nQUIT\r\n")
        .await;
    assert_eq!(codes(&c.replies(4).await), ["502", "502", "250", "221"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_too_many_recipients_are_deferred() {
    let server = Server::start(SmtpOptions {
        max_recipients: 2,
        ..options()
    })
    .await;
    let mut c = Raw::connect(server.addr).await;
    c.send(
        b"EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<support@desk.test>\r\n\
          RCPT TO:<help@desk.test>\r\nRCPT TO:<support@desk.test>\r\n",
    )
    .await;
    let replies = c.replies(5).await;
    assert_eq!(codes(&replies), ["250", "250", "250", "250", "452"]);
    assert_eq!(replies[4], "452 4.5.3 Too many recipients");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_garbage_does_not_kill_the_server() {
    let server = Server::start(options()).await;
    let mut c = Raw::connect(server.addr).await;
    let mut long = vec![b'A'; 10_000];
    long.extend_from_slice(b"\r\n");
    c.send(&long).await;
    assert!(c.reply().await.starts_with("500 5.5.6 "));
    c.send(b"\xff\xfe\x00garbage\r\nGET / HTTP/1.1\r\n\x1b]52;c;x\x07\r\nEHLO\r\nMAIL FROM:<no-at>\r\n")
        .await;
    assert_eq!(
        codes(&c.replies(5).await),
        ["500", "500", "500", "501", "501"]
    );
    c.send(b"NOOP\r\nX\r\nY\r\nZ\r\nW\r\n").await;
    let replies = c.replies(6).await;
    assert_eq!(codes(&replies), ["250", "500", "500", "500", "500", "421"]);
    assert!(c.closed().await, "closed after too many errors");

    // Random bytes from a fixed seed, then half a line and a hang-up.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    for _ in 0..3 {
        let mut junk = TcpStream::connect(server.addr).await.unwrap();
        let _ = junk.write_all(&noise).await;
    }

    // The server still works.
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO ok\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<support@desk.test>\r\nDATA\r\n")
        .await;
    assert_eq!(codes(&c.replies(4).await), ["250", "250", "250", "354"]);
    c.send(b"Subject: fine\r\n\r\nstill here\r\n.\r\nQUIT\r\n")
        .await;
    assert_eq!(codes(&c.replies(2).await), ["250", "221"]);
    assert_eq!(server.envelopes().len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_lmtp_modes() {
    let only = Server::start(SmtpOptions {
        lmtp: LmtpMode::Only,
        ..options()
    })
    .await;
    let mut c = Raw::connect(only.addr).await;
    c.send(b"EHLO x\r\nHELO x\r\nLHLO x\r\n").await;
    assert_eq!(codes(&c.replies(3).await), ["500", "500", "250"]);
    only.stop().await;

    let off = Server::start(SmtpOptions {
        lmtp: LmtpMode::Off,
        ..options()
    })
    .await;
    let mut c = Raw::connect(off.addr).await;
    c.send(b"LHLO x\r\nEHLO x\r\n").await;
    assert_eq!(codes(&c.replies(2).await), ["500", "250"]);
    off.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_idle_timeout_and_connection_limit() {
    let server = Server::start(SmtpOptions {
        idle_timeout: Duration::from_millis(500),
        max_connections: 1,
        ..options()
    })
    .await;
    let mut first = Raw::connect(server.addr).await;
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    let mut refusal = String::new();
    second.read_to_string(&mut refusal).await.unwrap();
    assert_eq!(
        refusal,
        "421 4.3.2 desk.test Too many connections, try again later\r\n"
    );
    assert_eq!(
        first.reply().await,
        "421 4.4.2 desk.test Idle timeout, closing connection"
    );
    assert!(first.closed().await);
    // The slot is free again (the session may need a moment to let go of it).
    assert!(greeted_within(server.addr, Duration::from_secs(5)).await);
    server.stop().await;
}

/// Waits until the server greets a new connection (a slot is free).
async fn greeted_within(addr: SocketAddr, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        let mut probe = TcpStream::connect(addr).await.unwrap();
        let mut greeting = [0u8; 3];
        if probe.read_exact(&mut greeting).await.is_ok() && &greeting == b"220" {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_a_client_that_never_reads_is_dropped() {
    let server = Server::start(SmtpOptions {
        idle_timeout: Duration::from_millis(300),
        max_connections: 1,
        ..options()
    })
    .await;
    let mut flood = TcpStream::connect(server.addr).await.unwrap();
    let flooding = tokio::spawn(async move {
        let noops = b"NOOP\r\n".repeat(10_000);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        // Writes until the server gives up on us and closes: then the write fails.
        while tokio::time::Instant::now() < deadline {
            let write = tokio::time::timeout(Duration::from_secs(1), flood.write_all(&noops));
            if let Ok(Err(_)) = write.await {
                return true;
            }
        }
        false
    });
    assert!(
        flooding.await.unwrap(),
        "the server closed the stalled connection"
    );
    assert!(greeted_within(server.addr, Duration::from_secs(5)).await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_shutdown_says_goodbye() {
    let server = Server::start(options()).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO x\r\n").await;
    c.reply().await;
    let addr = server.addr;
    server.stop().await;
    assert_eq!(
        c.reply().await,
        "421 4.3.2 desk.test Service shutting down, try again later"
    );
    assert!(c.closed().await);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
