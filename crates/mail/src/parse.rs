//! Raw RFC 5322 / MIME → [`ParsedMail`], with mail-parser doing the decoding: every
//! charset, RFC 2047 encoded words, transfer encodings, nested parts. Plain text is
//! preferred; HTML-only mail is turned into readable text by mail-parser.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use sealdesk_model::{normalize_email, Timestamp};

/// What the desk needs from one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMail {
    /// Normalised sender address (From, else Sender, else Return-Path).
    pub from: String,
    pub from_name: String,
    pub to: Vec<String>,
    /// As written, with `Re:` and friends still in front.
    pub subject: String,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub date: Option<Timestamp>,
    pub text: String,
    pub attachments: Vec<ParsedAttachment>,
    pub noise: Noise,
    /// Set for delivery status notifications (bounces).
    pub bounce: Option<Bounce>,
    /// The `To` mailboxes with their display names, in order (plausible addresses only).
    pub to_mailboxes: Vec<Mailbox>,
    /// The `Cc` mailboxes, likewise.
    pub cc: Vec<Mailbox>,
    /// The first plausible `Reply-To` mailbox: where the sender wants answers to go.
    pub reply_to: Option<Mailbox>,
}

/// One address of a header, normalised, with its display name (empty if none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub address: String,
    pub name: String,
}

impl Mailbox {
    /// As a header writes it: `Ann <ann@example.com>`, or the bare address.
    pub fn written(&self) -> String {
        if self.name.is_empty() {
            self.address.clone()
        } else {
            format!("{} <{}>", self.name, self.address)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// An inline image or part rather than a file the sender attached.
    pub inline: bool,
}

/// Signs that a message was sent by a machine, so it must never be answered
/// automatically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Noise {
    /// `Auto-Submitted` other than `no` (RFC 3834).
    pub auto_submitted: bool,
    /// `Precedence: bulk / junk / list`, or a mailing list (`List-Id`).
    pub bulk: bool,
    /// `X-Loop` headers present, lower-cased, to compare with our own address.
    pub x_loop: Vec<String>,
}

impl Noise {
    pub fn is_automatic(&self) -> bool {
        self.auto_submitted || self.bulk || !self.x_loop.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// Message-IDs of the mail that bounced, from the returned headers.
    pub original_ids: Vec<String>,
    /// The human-readable part, e.g. "550 5.1.1 user unknown".
    pub diagnostic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a mail message: no headers could be read")]
    Unreadable,
    #[error(
        "no usable sender address (From, Sender and Return-Path are missing or not addresses)"
    )]
    NoSender,
}

pub fn parse(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::Unreadable)?;
    if msg.headers().is_empty() {
        return Err(ParseError::Unreadable);
    }
    let bounce = bounce_of(&msg);
    let sender = [msg.from(), msg.sender()]
        .into_iter()
        .flatten()
        .filter_map(|a| a.first())
        .find(|a| a.address().is_some_and(sealdesk_model::is_plausible_email));
    let (from, from_name) = match sender {
        Some(a) => (
            normalize_email(a.address().unwrap_or_default()),
            a.name().unwrap_or_default().trim().to_string(),
        ),
        None => match msg
            .return_address()
            .filter(|a| sealdesk_model::is_plausible_email(a))
        {
            Some(a) => (normalize_email(a), String::new()),
            None if bounce.is_some() => ("mailer-daemon".to_string(), String::new()),
            None => return Err(ParseError::NoSender),
        },
    };
    let to = msg
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(normalize_email)
                .collect()
        })
        .unwrap_or_default();
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let attachments = msg
        .attachments()
        .filter_map(|part| {
            let bytes = match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
                PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
                PartType::Message(m) => m.raw_message().to_vec(),
                PartType::Multipart(_) => return None,
            };
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            let inline = matches!(part.body, PartType::InlineBinary(_))
                || part
                    .content_disposition()
                    .is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline"));
            let name = part
                .attachment_name()
                .map(str::to_string)
                .unwrap_or_else(|| default_name(&content_type));
            Some(ParsedAttachment {
                name,
                content_type,
                bytes,
                inline,
            })
        })
        .collect();

    Ok(ParsedMail {
        from,
        from_name,
        to,
        subject: msg.subject().unwrap_or_default().trim().to_string(),
        message_id: msg.message_id().map(clean_id).filter(|s| !s.is_empty()),
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        date: msg.date().map(|d| Timestamp(d.to_timestamp())),
        text,
        attachments,
        noise: noise_of(&msg),
        bounce,
        to_mailboxes: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        reply_to: mailboxes(msg.reply_to()).into_iter().next(),
    })
}

/// The `Reply-To` of a stored raw message, reading its headers only.
pub fn reply_to(raw: &[u8]) -> Option<Mailbox> {
    let msg = MessageParser::default().parse_headers(raw)?;
    mailboxes(msg.reply_to()).into_iter().next()
}

/// The plausible addresses of an address header (groups flattened), names trimmed of
/// quotes, angle brackets and control characters.
fn mailboxes(header: Option<&mail_parser::Address<'_>>) -> Vec<Mailbox> {
    let Some(header) = header else {
        return Vec::new();
    };
    header
        .iter()
        .filter_map(|a| {
            let address = normalize_email(a.address()?);
            if !sealdesk_model::is_plausible_email(&address) {
                return None;
            }
            let name = sealdesk_model::sanitize::line(a.name().unwrap_or_default())
                .replace(['<', '>', '"'], "")
                .trim()
                .to_string();
            Some(Mailbox { address, name })
        })
        .collect()
}

fn default_name(content_type: &str) -> String {
    let ext = content_type.rsplit('/').next().unwrap_or("bin");
    format!("attachment.{ext}")
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

fn id_list(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match value {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    raw.iter()
        .flat_map(|s| s.split_whitespace().map(clean_id).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

fn header_text(msg: &mail_parser::Message<'_>, name: &str) -> Vec<String> {
    msg.header_values(name)
        .filter_map(|v| match v {
            mail_parser::HeaderValue::Text(t) => Some(t.to_string()),
            mail_parser::HeaderValue::TextList(l) => Some(l.join(" ")),
            _ => None,
        })
        .map(|s| s.trim().to_lowercase())
        .collect()
}

fn noise_of(msg: &mail_parser::Message<'_>) -> Noise {
    let auto_submitted = header_text(msg, "Auto-Submitted")
        .iter()
        .any(|v| !v.is_empty() && !v.starts_with("no"));
    let bulk = header_text(msg, "Precedence")
        .iter()
        .any(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
        || !msg.list_id().is_empty();
    Noise {
        auto_submitted,
        bulk,
        x_loop: header_text(msg, "X-Loop"),
    }
}

/// A DSN (`multipart/report; report-type=delivery-status`), or a classic bounce from a
/// mailer daemon with the original message attached.
fn bounce_of(msg: &mail_parser::Message<'_>) -> Option<Bounce> {
    let root = msg.root_part();
    let is_report = root.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_none_or(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let from_daemon = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .is_some_and(|a| {
            a.to_lowercase().starts_with("mailer-daemon@")
                || a.to_lowercase().starts_with("postmaster@")
        });
    if !is_report && !from_daemon {
        return None;
    }
    let mut original_ids = Vec::new();
    for part in &msg.parts {
        let is_headers = part.content_type().is_some_and(|ct| {
            ct.subtype().is_some_and(|s| {
                s.eq_ignore_ascii_case("rfc822-headers") || s.eq_ignore_ascii_case("rfc822")
            })
        });
        if let PartType::Message(inner) = &part.body {
            original_ids.extend(inner.message_id().map(clean_id));
        } else if is_headers {
            if let Some(inner) = MessageParser::default().parse_headers(part.contents()) {
                original_ids.extend(inner.message_id().map(clean_id));
            }
        }
    }
    original_ids.extend(id_list(msg.in_reply_to()));
    original_ids.extend(id_list(msg.references()));
    original_ids.dedup();
    let diagnostic = msg
        .body_text(0)
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(6)
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .unwrap_or_default();
    Some(Bounce {
        original_ids,
        diagnostic,
    })
}

/// The subject without reply/forward prefixes in the languages our customers write in
/// ("Re:", "Fwd:", "AW:", "WG:", "SV:", "回复:", …) and without our `[#N]` tag.
pub fn base_subject(subject: &str) -> String {
    const PREFIXES: &[&str] = &[
        "re",
        "fw",
        "fwd",
        "aw",
        "wg",
        "sv",
        "vs",
        "vb",
        "antw",
        "tr",
        "rv",
        "ref",
        "réf",
        "odp",
        "pd",
        "rif",
        "ynt",
        "ha",
        "atb",
        "továbbítás",
        "vá",
        "回复",
        "回覆",
        "答复",
        "答覆",
        "转发",
        "轉寄",
        "轉發",
        "返信",
        "転送",
    ];
    let mut s = subject.trim();
    loop {
        let before = s;
        // A leading [#123] (ours) or [list-name] tag.
        if s.starts_with('[') {
            if let Some(end) = s.find(']') {
                s = s[end + 1..].trim_start();
            }
        }
        if let Some(colon) = s.find([':', '：']) {
            let head = s[..colon].trim();
            // "Re[2]" / "Re(2)" / "Re 2" counters.
            let word = head
                .trim_end_matches(|c: char| c.is_ascii_digit() || "[]() ".contains(c))
                .to_lowercase();
            if !word.is_empty() && PREFIXES.contains(&word.as_str()) {
                let colon_len = s[colon..].chars().next().map(char::len_utf8).unwrap_or(1);
                s = s[colon + colon_len..].trim_start();
            }
        }
        if s == before {
            break;
        }
    }
    s.to_string()
}

/// The ticket number in a subject tag such as `[#123]`, wherever it stands.
pub fn ticket_tag(subject: &str) -> Option<u64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_reply_prefixes_in_many_languages() {
        for (input, want) in [
            ("Re: Printer", "Printer"),
            ("RE: Re: Fwd: Printer", "Printer"),
            ("AW: WG: Drucker", "Drucker"),
            ("回复: 打印机", "打印机"),
            ("回复：打印机", "打印机"),
            ("Re[2]: Printer", "Printer"),
            ("[#12] Re: Printer", "Printer"),
            ("Re: [#12] Printer", "Printer"),
            ("SV: Skrivare", "Skrivare"),
            ("Meeting: tomorrow", "Meeting: tomorrow"),
            ("", ""),
        ] {
            assert_eq!(base_subject(input), want, "{input}");
        }
    }

    #[test]
    fn finds_the_ticket_tag() {
        assert_eq!(ticket_tag("Re: [#123] Printer"), Some(123));
        assert_eq!(ticket_tag("[#x] [#7]"), Some(7));
        assert_eq!(ticket_tag("#123 no brackets"), None);
        assert_eq!(ticket_tag("[#12 unclosed"), None);
    }

    #[test]
    fn parses_headers_charsets_and_parts() {
        let raw = concat!(
            "From: =?UTF-8?B?SsO8cmdlbg==?= <Juergen@Example.DE>\r\n",
            "To: support@desk.example\r\n",
            "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n",
            "Message-ID: <abc@mail.example>\r\n",
            "In-Reply-To: <x1@desk.example>\r\n",
            "References: <root@desk.example> <x1@desk.example>\r\n",
            "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hallo <b>Welt</b></p>\r\n",
            "--b\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n"
        );
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.from, "juergen@example.de");
        assert_eq!(m.from_name, "Jürgen");
        assert_eq!(m.subject, "Grüße");
        assert_eq!(m.message_id.as_deref(), Some("abc@mail.example"));
        assert_eq!(m.in_reply_to, vec!["x1@desk.example"]);
        assert_eq!(m.references, vec!["root@desk.example", "x1@desk.example"]);
        assert!(
            m.text.contains("Hallo") && m.text.contains("Welt") && !m.text.contains("<p>"),
            "{}",
            m.text
        );
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "r.pdf");
        assert_eq!(m.attachments[0].content_type, "application/pdf");
        assert_eq!(m.attachments[0].bytes, b"%PDF");
        assert!(!m.noise.is_automatic());
        assert!(m.bounce.is_none());
    }

    #[test]
    fn flags_machine_mail_and_bounces() {
        let auto = "From: a@example.com\r\nAuto-Submitted: auto-replied\r\nSubject: away\r\n\r\nx";
        assert!(parse(auto.as_bytes()).unwrap().noise.auto_submitted);
        let bulk = "From: a@example.com\r\nPrecedence: bulk\r\nSubject: news\r\n\r\nx";
        assert!(parse(bulk.as_bytes()).unwrap().noise.bulk);
        let dsn = concat!(
            "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/plain\r\n\r\n550 5.1.1 user unknown\r\n",
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n",
            "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <out1@desk.example>\r\nSubject: hi\r\n\r\n",
            "--r--\r\n"
        );
        let b = parse(dsn.as_bytes()).unwrap().bounce.expect("a bounce");
        assert!(
            b.original_ids.contains(&"out1@desk.example".to_string()),
            "{b:?}"
        );
        assert!(b.diagnostic.contains("user unknown"));
        assert_eq!(
            parse(b"Subject: no sender\r\n\r\nbody"),
            Err(ParseError::NoSender)
        );
        assert_eq!(parse(b""), Err(ParseError::Unreadable));
    }

    #[test]
    fn reads_to_cc_and_reply_to_with_names() {
        let raw = concat!(
            "From: Ann <ann@example.com>\r\n",
            "To: \"Support\" <Support@Desk.Example>, bob@example.com\r\n",
            "Cc: =?UTF-8?Q?Cl=C3=A9o?= <cleo@example.com>, not-an-address, team: dan@example.com;\r\n",
            "Reply-To: Ann at home <ann@home.example>\r\n",
            "Subject: hi\r\n\r\nbody\r\n"
        );
        let m = parse(raw.as_bytes()).unwrap();
        let to: Vec<String> = m.to_mailboxes.iter().map(Mailbox::written).collect();
        assert_eq!(
            to,
            vec!["Support <support@desk.example>", "bob@example.com"]
        );
        let cc: Vec<String> = m.cc.iter().map(Mailbox::written).collect();
        assert_eq!(cc, vec!["Cléo <cleo@example.com>", "dan@example.com"]);
        assert_eq!(
            m.reply_to.map(|r| r.written()).as_deref(),
            Some("Ann at home <ann@home.example>")
        );
        let plain = parse(b"From: a@example.com\r\nSubject: x\r\n\r\nx").unwrap();
        assert!(plain.cc.is_empty() && plain.reply_to.is_none() && plain.to_mailboxes.is_empty());
    }
}
