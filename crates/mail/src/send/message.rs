//! Turning an agent's reply into an RFC 5322 message with lettre.
//!
//! lettre does the encoding: RFC 2047 for non-ASCII headers, folding, and a transfer
//! encoding for the body (7bit when it is short-lined ASCII, otherwise quoted-printable
//! or base64, whichever is smaller), so long lines and UTF-8 arrive intact.

use super::SendError;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::Message;
use sealdesk_model::sanitize;
use sealdesk_model::OutgoingMail;
use std::time::{Duration, SystemTime};

/// Headers we set ourselves; an extra header of the same name would be a duplicate.
const OWN_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Sender",
    "Cc",
    "Bcc",
];

pub(crate) fn build_message(mail: &OutgoingMail) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(mailbox("From", &mail.from)?)
        .to(mailbox("To", &mail.to)?);
    for cc in &mail.cc {
        builder = builder.cc(mailbox("Cc", cc)?);
    }
    // lettre keeps Bcc in the envelope and leaves it out of the headers it writes.
    for bcc in &mail.bcc {
        builder = builder.bcc(mailbox("Bcc", bcc)?);
    }
    let mut builder = builder
        .subject(sanitize::line(&mail.subject))
        .date(SystemTime::UNIX_EPOCH + Duration::from_secs(mail.date.0.max(0) as u64))
        .message_id(Some(msg_id("Message-ID", &mail.message_id)?));
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(msg_id("In-Reply-To", parent)?);
    }
    if !mail.references.is_empty() {
        let ids = mail
            .references
            .iter()
            .map(|id| msg_id("References", id))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.references(ids.join(" "));
    }
    for (name, value) in &mail.extra_headers {
        builder = builder.raw_header(extra_header(name, value)?);
    }
    let built = if mail.attachments.is_empty() {
        builder.singlepart(SinglePart::plain(mail.body.clone()))
    } else {
        let mut parts =
            lettre::message::MultiPart::mixed().singlepart(SinglePart::plain(mail.body.clone()));
        for a in &mail.attachments {
            let content_type = lettre::message::header::ContentType::parse(&a.content_type)
                .unwrap_or(
                    lettre::message::header::ContentType::parse("application/octet-stream")
                        .expect("a valid type"),
                );
            let name = sanitize::line(&a.name).replace(['/', '\\', '"'], "_");
            parts = parts.singlepart(
                lettre::message::Attachment::new(name).body(a.bytes.clone(), content_type),
            );
        }
        builder.multipart(parts)
    };
    built.map_err(|e| SendError::permanent(format!("cannot build the message: {e}")))
}

/// Lines longer than this are folded (RFC 5322 §2.1.1: SHOULD be at most 78 octets).
const LINE_MAX: usize = 78;

/// The message as it goes to the relay: lettre's text with long header lines folded.
/// lettre folds the words of one header value, but not between the addresses of a
/// To or Cc list, which ran to hundreds of octets on one line with a few colleagues
/// in Cc. Each header line over [`LINE_MAX`] is folded again at a space outside quoted
/// text, after a comma where there is one; the body is left alone (lettre's transfer
/// encoding keeps its lines short).
pub(crate) fn fold_headers(message: &[u8]) -> Vec<u8> {
    let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") else {
        return message.to_vec();
    };
    let Ok(head) = std::str::from_utf8(&message[..end]) else {
        return message.to_vec();
    };
    let folded: Vec<String> = head.split("\r\n").map(fold_line).collect();
    let mut out = folded.join("\r\n").into_bytes();
    out.extend_from_slice(&message[end..]);
    out
}

fn fold_line(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while rest.len() > LINE_MAX {
        let mut quoted = false;
        let mut escaped = false;
        // The last fold point within the line (after a comma if there is one), else the
        // first one beyond it: a line a little long is better than one not folded.
        let (mut space, mut after_comma, mut beyond) = (None, None, None);
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ' ' | '\t' if !quoted && !rest[..i].trim().is_empty() => {
                    if i > LINE_MAX {
                        beyond = Some(i);
                        break;
                    }
                    space = Some(i);
                    if rest[..i].ends_with(',') {
                        after_comma = Some(i);
                    }
                }
                _ => {}
            }
        }
        let Some(at) = after_comma.or(space).or(beyond) else {
            // One word longer than a line (a long Message-ID): it cannot be folded.
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str("\r\n");
        rest = &rest[at..];
    }
    out.push_str(rest);
    out
}

pub(super) fn mailbox(field: &str, text: &str) -> Result<Mailbox, SendError> {
    text.parse().map_err(|e| {
        SendError::permanent(format!(
            "the {field} address {:?} is not valid ({e}): write it like Support <support@example.com>",
            sanitize::line(text)
        ))
    })
}

/// `<id>` from `id` (or `<id>`), refusing what would break the header.
fn msg_id(field: &str, id: &str) -> Result<String, SendError> {
    let bare = id
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(id);
    let valid = !bare.is_empty()
        && bare.is_ascii()
        && bare
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>'));
    if !valid {
        return Err(SendError::permanent(format!(
            "the {field} id {:?} is not a message id: use the form random@example.com, e.g. from new_message_id",
            sanitize::line(id)
        )));
    }
    Ok(format!("<{bare}>"))
}

fn extra_header(name: &str, value: &str) -> Result<HeaderValue, SendError> {
    let printable = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    let header = printable
        .then(|| HeaderName::new_from_ascii(name.to_string()).ok())
        .flatten()
        .ok_or_else(|| {
            SendError::permanent(format!(
                "the extra header name {:?} is not valid: use letters, digits and dashes, e.g. X-Loop",
                sanitize::line(name)
            ))
        })?;
    if OWN_HEADERS.iter().any(|own| own.eq_ignore_ascii_case(name)) {
        return Err(SendError::permanent(format!(
            "the extra header {name} is set from the mail's own fields: set that field instead"
        )));
    }
    Ok(HeaderValue::new(header, sanitize::line(value).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{MailAttachment, Timestamp};

    fn mail() -> OutgoingMail {
        OutgoingMail {
            from: "Support <support@example.com>".into(),
            to: "Jane Doe <jane@example.org>".into(),
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: "Re: printer on fire".into(),
            message_id: "reply-1@desk.example.com".into(),
            in_reply_to: Some("orig-2@example.org".into()),
            references: vec!["orig-1@example.org".into(), "orig-2@example.org".into()],
            body: "Hello Jane,\n\nwe are on it.\n".into(),
            date: Timestamp(1_700_000_000),
            extra_headers: vec![
                ("Auto-Submitted".into(), "auto-replied".into()),
                ("X-Loop".into(), "support@example.com".into()),
            ],
            attachments: Vec::new(),
        }
    }

    #[test]
    fn attachments_make_a_mixed_message() {
        let mut m = mail();
        m.attachments.push(MailAttachment {
            name: "export.tar.gz".into(),
            content_type: "application/gzip".into(),
            bytes: vec![0x1f, 0x8b, 0, 1, 2],
        });
        let text = formatted(&m);
        let parsed = crate::parse::parse(text.as_bytes()).unwrap();
        assert!(parsed.text.contains("we are on it"));
        assert_eq!(parsed.attachments.len(), 1);
        assert_eq!(parsed.attachments[0].name, "export.tar.gz");
        assert_eq!(parsed.attachments[0].bytes, vec![0x1f, 0x8b, 0, 1, 2]);
    }

    fn formatted(mail: &OutgoingMail) -> String {
        let bytes = fold_headers(&build_message(mail).expect("builds").formatted());
        String::from_utf8(bytes).expect("ASCII on the wire")
    }

    /// The header lines (unfolded) named `name`, values only.
    fn header(text: &str, name: &str) -> Vec<String> {
        let head = text.split("\r\n\r\n").next().unwrap();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        unfolded
            .split("\r\n")
            .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].to_string())
            .collect()
    }

    #[test]
    fn each_header_exactly_once() {
        let text = formatted(&mail());
        let expect = [
            ("From", "Support <support@example.com>"),
            ("To", "\"Jane Doe\" <jane@example.org>"),
            ("Subject", "Re: printer on fire"),
            ("Date", "Tue, 14 Nov 2023 22:13:20 +0000"),
            ("Message-ID", "<reply-1@desk.example.com>"),
            ("In-Reply-To", "<orig-2@example.org>"),
            ("References", "<orig-1@example.org> <orig-2@example.org>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "7bit"),
            ("Auto-Submitted", "auto-replied"),
            ("X-Loop", "support@example.com"),
        ];
        for (name, value) in expect {
            assert_eq!(
                header(&text, name),
                vec![value.to_string()],
                "{name} in\n{text}"
            );
        }
        assert!(
            text.contains("\r\n\r\nHello Jane,\r\n\r\nwe are on it.\r\n"),
            "{text:?}"
        );
    }

    #[test]
    fn cc_is_a_header_and_bcc_only_an_envelope_recipient() {
        let mut m = mail();
        m.cc = vec!["Bob <bob@example.org>".into(), "carol@example.net".into()];
        m.bcc = vec!["boss@example.com".into()];
        let text = formatted(&m);
        let cc = header(&text, "Cc");
        assert_eq!(cc.len(), 1, "{text}");
        assert!(cc[0].contains("bob@example.org") && cc[0].contains("carol@example.net"));
        assert!(header(&text, "Bcc").is_empty(), "{text}");
        assert!(!text.contains("boss@example.com"), "{text}");
        let envelope = build_message(&m).unwrap().envelope().clone();
        let to: Vec<String> = envelope.to().iter().map(|a| a.to_string()).collect();
        assert_eq!(
            to,
            [
                "jane@example.org",
                "bob@example.org",
                "carol@example.net",
                "boss@example.com"
            ]
        );
    }

    #[test]
    fn optional_threading_headers_are_left_out() {
        let mut m = mail();
        m.in_reply_to = None;
        m.references.clear();
        let text = formatted(&m);
        assert!(header(&text, "In-Reply-To").is_empty());
        assert!(header(&text, "References").is_empty());
    }

    #[test]
    fn references_keep_their_order() {
        let mut m = mail();
        m.references = (1..=12)
            .rev()
            .map(|i| format!("m{i}@example.org"))
            .collect();
        let want: Vec<String> = m.references.iter().map(|r| format!("<{r}>")).collect();
        let text = formatted(&m);
        let got = header(&text, "References").join("");
        let got: Vec<&str> = got.split_whitespace().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn non_ascii_is_encoded() {
        let mut m = mail();
        m.subject = "Re: Grüße — Rechnung №5".into();
        m.body = format!("Grüße!\n{}\n", "ü".repeat(500));
        let text = formatted(&m);
        let subject = header(&text, "Subject").join("");
        assert!(subject.starts_with("Re: =?utf-8?b?"), "{subject}");
        let encoding = header(&text, "Content-Transfer-Encoding");
        assert!(
            encoding == ["base64"] || encoding == ["quoted-printable"],
            "{encoding:?}"
        );
        assert!(
            text.lines().all(|l| l.len() <= 78),
            "a line over 78 octets:\n{text}"
        );
    }

    #[test]
    fn long_headers_are_folded() {
        let mut m = mail();
        m.from = "Ünïcödé Support Team of a Company With a Long Name <support@example.com>".into();
        m.to = "Jürgen Müller-Lüdenscheidt von und zu Großmannsdorf <juergen@example.org>".into();
        m.cc = (0..6)
            .map(|i| format!("Mitarbeiterin Nummer {i} der Abteilung <person{i}@example.org>"))
            .collect();
        m.subject = format!(
            "Re: [#12] {}",
            "Grüße aus der Buchhaltung, Rechnung Nr. 4711 ".repeat(4)
        );
        m.references = (0..20)
            .map(|i| format!("{i:032x}@desk.example.com"))
            .collect();
        m.extra_headers.push(("X-Note".into(), "word ".repeat(40)));
        let text = formatted(&m);
        let head = text.split("\r\n\r\n").next().unwrap();
        for line in head.split("\r\n") {
            assert!(
                line.len() <= 78,
                "a header line of {} octets: {line}\n{head}",
                line.len()
            );
        }
        let parsed = crate::parse::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.subject, m.subject.trim());
        assert_eq!(parsed.references.len(), 20);
        let unfolded = head.replace("\r\n ", " ");
        let cc = unfolded.lines().find(|l| l.starts_with("Cc: ")).unwrap();
        for i in 0..6 {
            assert!(
                cc.contains(&format!(
                    "\"Mitarbeiterin Nummer {i} der Abteilung\" <person{i}@example.org>"
                )),
                "{cc}"
            );
        }
    }

    #[test]
    fn folding_keeps_quoted_text_and_long_words_whole() {
        let quoted = format!(
            "Cc: \"{}\" <a@example.org>, b@example.org",
            "x, y ".repeat(20)
        );
        let folded = fold_line(&quoted);
        // The quoted name has no fold point inside: the line is folded around it.
        let lines: Vec<&str> = folded.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "{folded}");
        assert!(
            lines[1].starts_with(" \"x, y") && lines[1].ends_with('"'),
            "{folded}"
        );
        assert_eq!(lines[2], " <a@example.org>, b@example.org");
        assert_eq!(folded.replace("\r\n", ""), quoted);
        let word = format!("References: <{}@example.org>", "a".repeat(100));
        let id = &word["References: ".len()..];
        assert_eq!(
            fold_line(&word),
            format!("References:\r\n {id}"),
            "a word longer than a line stays whole"
        );
        let short = "Subject: hi there";
        assert_eq!(fold_line(short), short);
        let body = b"Subject: hi\r\n\r\na very long body line that is not a header at all and must stay as it is, whatever its length\r\n";
        assert_eq!(fold_headers(body), body.to_vec());
    }

    #[test]
    fn long_ascii_lines_are_encoded() {
        let mut m = mail();
        m.body = "x".repeat(2000);
        let text = formatted(&m);
        assert_eq!(header(&text, "Content-Transfer-Encoding").len(), 1);
        assert!(text.lines().all(|l| l.len() <= 78));
    }

    #[test]
    fn header_injection_is_neutralised() {
        let mut m = mail();
        m.subject = "hi\r\nBcc: victim@example.net".into();
        m.extra_headers = vec![("X-Note".into(), "a\r\nBcc: victim@example.net".into())];
        let text = formatted(&m);
        assert!(header(&text, "Bcc").is_empty(), "{text}");
    }

    #[test]
    fn bad_fields_are_permanent_errors_naming_the_fix() {
        type Change = fn(&mut OutgoingMail);
        let cases: [(Change, &str); 6] = [
            (|m| m.from = "not an address".into(), "From address"),
            (|m| m.to = "".into(), "To address"),
            (|m| m.message_id = "two words@x".into(), "Message-ID"),
            (|m| m.references.push("<a@b".into()), "References"),
            (
                |m| m.extra_headers.push(("Bad Name".into(), "v".into())),
                "X-Loop",
            ),
            (
                |m| m.extra_headers.push(("subject".into(), "v".into())),
                "set that field",
            ),
        ];
        for (change, needle) in cases {
            let mut m = mail();
            change(&mut m);
            let err = build_message(&m).expect_err(needle);
            assert!(err.permanent);
            assert!(err.reason.contains(needle), "{}", err.reason);
        }
    }

    #[test]
    fn bracketed_ids_are_not_doubled() {
        let mut m = mail();
        m.message_id = "<x@y>".into();
        assert_eq!(header(&formatted(&m), "Message-ID"), vec!["<x@y>"]);
    }
}
