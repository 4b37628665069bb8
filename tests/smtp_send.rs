//! `Sender::send` against a small ESMTP relay written here: what arrives on the wire,
//! and how the relay's refusals map to permanent or temporary errors.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sealdesk_mail::send::{RelayConfig, SendError, Sender};
use sealdesk_model::{OutgoingMail, Timestamp};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the test relay answers.
#[derive(Clone, Copy)]
struct Script {
    rcpt: &'static str,
    /// Advertise AUTH and answer it with this reply.
    auth: Option<&'static str>,
}

const ACCEPT: Script = Script {
    rcpt: "250 2.1.5 OK",
    auth: None,
};

/// What the relay saw on one connection.
#[derive(Debug, Default)]
struct Seen {
    commands: Vec<String>,
    data: Vec<u8>,
}

/// Serves one connection on 127.0.0.1 with just enough ESMTP for lettre.
async fn relay(script: Script) -> (u16, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut seen = Seen::default();
        write.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let line = line.trim_end().to_string();
            seen.commands.push(line.clone());
            let verb = line.split(' ').next().unwrap().to_ascii_uppercase();
            let reply = match verb.as_str() {
                "EHLO" if script.auth.is_some() => {
                    "250-relay.test\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN XOAUTH2".into()
                }
                "EHLO" => "250-relay.test\r\n250 8BITMIME".to_string(),
                "AUTH" => script.auth.unwrap_or("503 5.5.1 no AUTH here").into(),
                "MAIL" | "RSET" | "NOOP" => "250 2.0.0 OK".into(),
                "RCPT" => script.rcpt.into(),
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    loop {
                        let mut data_line = Vec::new();
                        read.read_until(b'\n', &mut data_line).await.unwrap();
                        if data_line == b".\r\n" || data_line.is_empty() {
                            break;
                        }
                        let unstuffed = data_line.strip_prefix(b".").unwrap_or(&data_line);
                        seen.data.extend_from_slice(unstuffed);
                    }
                    "250 2.0.0 queued as 1".into()
                }
                "QUIT" => {
                    write.write_all(b"221 2.0.0 bye\r\n").await.unwrap();
                    break;
                }
                _ => "500 5.5.2 what?".into(),
            };
            write
                .write_all(format!("{reply}\r\n").as_bytes())
                .await
                .unwrap();
        }
        seen
    });
    (port, task)
}

fn mail() -> OutgoingMail {
    OutgoingMail {
        from: "Support <support@example.com>".into(),
        to: "Jane Doe <jane@example.org>".into(),
        cc: Vec::new(),
        bcc: Vec::new(),
        subject: "Re: Grüße aus Köln".into(),
        message_id: "reply-7@desk.example.com".into(),
        in_reply_to: Some("q2@example.org".into()),
        references: vec!["q1@example.org".into(), "q2@example.org".into()],
        body: format!(
            "Hallo Jane,\n\nda kümmern wir uns.\n{}\n",
            "long ".repeat(60)
        ),
        date: Timestamp::now(),
        extra_headers: vec![("Auto-Submitted".into(), "auto-replied".into())],
        attachments: Vec::new(),
    }
}

async fn send(port: u16, url_extra: &str) -> Result<(), SendError> {
    let relay = RelayConfig::parse(&format!("smtp://{url_extra}127.0.0.1:{port}")).unwrap();
    let sender = Sender::new(&relay, "desk.example.com").unwrap();
    tokio::time::timeout(Duration::from_secs(60), sender.send(&mail()))
        .await
        .expect("send finishes")
}

/// Headers (unfolded) and the decoded body of a received message.
fn parse(data: &[u8]) -> (Vec<(String, String)>, String) {
    let text = String::from_utf8(data.to_vec()).expect("7-bit on the wire");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header/body split");
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let headers: Vec<(String, String)> = unfolded
        .split("\r\n")
        .map(|l| {
            let (n, v) = l.split_once(": ").expect("name: value");
            (n.to_string(), v.to_string())
        })
        .collect();
    let encoding = header(&headers, "Content-Transfer-Encoding");
    let body = match encoding.as_str() {
        "base64" => String::from_utf8(B64.decode(body.replace("\r\n", "")).unwrap()).unwrap(),
        "quoted-printable" => quoted_printable(body),
        _ => body.to_string(),
    };
    (headers, body.replace("\r\n", "\n"))
}

fn header(headers: &[(String, String)], name: &str) -> String {
    let found: Vec<&String> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(found.len(), 1, "{name} exactly once in {headers:?}");
    found[0].clone()
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words; adjacent encoded words join without space.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_encoded = false;
    for word in value.split(' ') {
        let inner = word
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="));
        let joins_previous = inner.is_some() && previous_encoded;
        if !out.is_empty() && !joins_previous {
            out.push(' ');
        }
        match inner {
            Some(b64) => out.push_str(&String::from_utf8(B64.decode(b64).unwrap()).unwrap()),
            None => out.push_str(word),
        }
        previous_encoded = inner.is_some();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_arrives_header_by_header() {
    let (port, seen) = relay(ACCEPT).await;
    send(port, "").await.expect("accepted");
    let seen = seen.await.unwrap();
    assert_eq!(seen.commands[0], "EHLO desk.example.com");
    assert!(seen
        .commands
        .iter()
        .any(|c| c.starts_with("MAIL FROM:<support@example.com>")));
    assert!(seen
        .commands
        .iter()
        .any(|c| c == "RCPT TO:<jane@example.org>"));
    assert_eq!(seen.commands.last().unwrap(), "QUIT");

    let (headers, body) = parse(&seen.data);
    assert_eq!(header(&headers, "From"), "Support <support@example.com>");
    assert_eq!(header(&headers, "To"), "\"Jane Doe\" <jane@example.org>");
    let subject = header(&headers, "Subject");
    assert!(subject.is_ascii(), "encoded on the wire: {subject}");
    assert_eq!(decode_words(&subject), "Re: Grüße aus Köln");
    assert_eq!(header(&headers, "Message-ID"), "<reply-7@desk.example.com>");
    assert_eq!(header(&headers, "In-Reply-To"), "<q2@example.org>");
    assert_eq!(
        header(&headers, "References"),
        "<q1@example.org> <q2@example.org>"
    );
    assert_eq!(header(&headers, "Auto-Submitted"), "auto-replied");
    assert_eq!(header(&headers, "MIME-Version"), "1.0");
    assert_eq!(
        header(&headers, "Content-Type"),
        "text/plain; charset=utf-8"
    );
    assert!(header(&headers, "Date").ends_with("+0000"));
    // lettre ends a single-part body with an extra blank line or two; nothing else changes.
    assert_eq!(
        body.trim_end_matches('\n'),
        mail().body.trim_end_matches('\n')
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_sent_percent_decoded() {
    let (port, seen) = relay(Script {
        auth: Some("235 2.7.0 Authentication successful"),
        ..ACCEPT
    })
    .await;
    send(port, "desk%40example.com:p%40ss%20w@")
        .await
        .expect("accepted");
    let seen = seen.await.unwrap();
    let auth = seen
        .commands
        .iter()
        .find(|c| c.starts_with("AUTH PLAIN "))
        .expect("AUTH");
    let decoded = B64.decode(auth.trim_start_matches("AUTH PLAIN ")).unwrap();
    assert_eq!(decoded, b"\0desk@example.com\0p@ss w");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_is_permanent_and_keeps_the_password_out() {
    let (port, _seen) = relay(Script {
        auth: Some("535 5.7.8 Authentication credentials invalid"),
        ..ACCEPT
    })
    .await;
    let err = send(port, "agent:hunter2@").await.expect_err("refused");
    assert!(err.permanent, "{err:?}");
    assert!(err.reason.contains("535"), "{}", err.reason);
    assert!(
        err.reason.contains("password"),
        "names the fix: {}",
        err.reason
    );
    assert!(!err.reason.contains("hunter2"), "{}", err.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_550_recipient_is_permanent() {
    let (port, _seen) = relay(Script {
        rcpt: "550 5.1.1 <jane@example.org>: no such user",
        ..ACCEPT
    })
    .await;
    let err = send(port, "").await.expect_err("refused");
    assert!(err.permanent, "{err:?}");
    assert!(err.reason.contains("no such user"), "{}", err.reason);
    assert!(err.reason.contains("check the addresses"), "{}", err.reason);
    assert!(!err.reason.contains('\n'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_451_is_temporary() {
    let (port, _seen) = relay(Script {
        rcpt: "451 4.3.0 try again later",
        ..ACCEPT
    })
    .await;
    let err = send(port, "").await.expect_err("deferred");
    assert!(!err.permanent, "{err:?}");
    assert!(err.reason.contains("try again later"), "{}", err.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_temporary() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = send(port, "").await.expect_err("nobody listening");
    assert!(!err.permanent, "{err:?}");
    assert!(
        err.reason.contains("127.0.0.1:"),
        "names the relay: {}",
        err.reason
    );
}

// ---- Part 11 (imap): relay secrets from a file or a command, not the URL ----

async fn send_with_secret(
    port: u16,
    secret: sealdesk_mail::send::RelaySecret,
) -> Result<(), SendError> {
    let (relay, user) =
        RelayConfig::parse_user_only(&format!("smtp://desk%40example.com@127.0.0.1:{port}"))
            .unwrap();
    let sender = Sender::with_secret(&relay, "desk.example.com", &user, secret).unwrap();
    tokio::time::timeout(Duration::from_secs(60), sender.send(&mail()))
        .await
        .expect("send finishes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_file_and_an_oauth2_token_command_log_in_to_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relay-password");
    std::fs::write(&file, "from-file pw\n").unwrap();
    let (port, seen) = relay(Script {
        auth: Some("235 2.7.0 Authentication successful"),
        ..ACCEPT
    })
    .await;
    let password =
        sealdesk_mail::secret::password_from_file("mail.relay_password_file", &file).unwrap();
    send_with_secret(port, sealdesk_mail::send::RelaySecret::Password(password))
        .await
        .expect("accepted");
    let seen = seen.await.unwrap();
    let auth = seen
        .commands
        .iter()
        .find(|c| c.starts_with("AUTH PLAIN "))
        .expect("AUTH PLAIN");
    let decoded = B64.decode(auth.trim_start_matches("AUTH PLAIN ")).unwrap();
    assert_eq!(decoded, b"\0desk@example.com\0from-file pw");

    let (port, seen) = relay(Script {
        auth: Some("235 2.7.0 Authentication successful"),
        ..ACCEPT
    })
    .await;
    let token =
        sealdesk_mail::secret::token_from_command("mail.relay_oauth2_command", "echo ya29.token")
            .await
            .unwrap();
    send_with_secret(port, sealdesk_mail::send::RelaySecret::OAuth2Token(token))
        .await
        .expect("accepted");
    let seen = seen.await.unwrap();
    let auth = seen
        .commands
        .iter()
        .find(|c| c.starts_with("AUTH XOAUTH2 "))
        .expect("AUTH XOAUTH2");
    let decoded = B64
        .decode(auth.trim_start_matches("AUTH XOAUTH2 "))
        .unwrap();
    assert_eq!(
        decoded,
        b"user=desk@example.com\x01auth=Bearer ya29.token\x01\x01"
    );
}
