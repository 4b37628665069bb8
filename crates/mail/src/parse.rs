//! Raw RFC 5322 / MIME → [`ParsedMail`], with mail-parser doing the decoding: every
//! charset, RFC 2047 encoded words, transfer encodings, nested parts. Plain text is
//! preferred; HTML-only mail is turned into readable text by mail-parser.

use mail_parser::{HeaderName, MessageParser, MimeHeaders, PartType};
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
    /// Set for delivery status notifications (bounces and delay warnings).
    pub bounce: Option<Bounce>,
    /// Set for read receipts (message disposition notifications, RFC 8098).
    pub receipt: Option<Receipt>,
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
    /// An out-of-office or other automatic answer: `X-Autoreply`, `X-Autorespond`,
    /// `Precedence: auto_reply`, or a vacation subject ("Out of office", "Automatic
    /// reply", "Abwesenheitsnotiz", "Réponse automatique", …).
    pub auto_reply: bool,
}

impl Noise {
    pub fn is_automatic(&self) -> bool {
        self.auto_submitted || self.bulk || self.auto_reply || !self.x_loop.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// Message-IDs of the mail that bounced, from the returned headers.
    pub original_ids: Vec<String>,
    /// What the report says happened: only [`DsnAction::Failed`] means the mail is lost.
    pub action: DsnAction,
    /// The status code of the recipient that fared worst, e.g. "5.1.1" (RFC 3463);
    /// empty when the report has none (a classic bounce).
    pub status: String,
    /// Why, e.g. "550 5.1.1 <ann@example.com>: Recipient address rejected: User
    /// unknown" (the `Diagnostic-Code` of the delivery-status part, else the first lines
    /// of the human-readable part).
    pub diagnostic: String,
}

/// The `Action` of a delivery status notification (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnAction {
    /// The mail could not be delivered and will not be tried again.
    Failed,
    /// A warning: the relay is still trying.
    Delayed,
    /// Delivered, relayed or expanded: a success report.
    Delivered,
}

/// A read receipt: someone's mail program says what became of a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The message it is about: `Original-Message-ID`, then In-Reply-To and References.
    pub original_ids: Vec<String>,
    /// The `Disposition` field, e.g. "manual-action/MDN-sent-manually; displayed".
    pub disposition: String,
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
    // A UTF-8 byte-order mark some Windows tools write before the first header would
    // otherwise become part of the first header's name, hiding a `From` there.
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::Unreadable)?;
    if msg.headers().is_empty() {
        return Err(ParseError::Unreadable);
    }
    let bounce = bounce_of(&msg);
    // With two From (or Sender) headers the first counts, as mail programs show it and
    // DMARC checks it; mail-parser's `from()` would give the last.
    let sender = [HeaderName::From, HeaderName::Sender]
        .into_iter()
        .filter_map(|name| msg.header_values(name).next())
        .filter_map(|v| v.as_address())
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

    let subject = msg.subject().unwrap_or_default().trim().to_string();
    let receipt = receipt_of(&msg);
    Ok(ParsedMail {
        from,
        from_name,
        to,
        subject: subject.clone(),
        message_id: msg.message_id().map(clean_id).filter(|s| !s.is_empty()),
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        date: msg.date().map(|d| Timestamp(d.to_timestamp())),
        text,
        attachments,
        noise: noise_of(&msg, &subject),
        bounce,
        to_mailboxes: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        reply_to: mailboxes(msg.reply_to()).into_iter().next(),
        receipt,
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

fn noise_of(msg: &mail_parser::Message<'_>, subject: &str) -> Noise {
    let auto_submitted = header_text(msg, "Auto-Submitted")
        .iter()
        .any(|v| !v.is_empty() && !v.starts_with("no"));
    let precedence = header_text(msg, "Precedence");
    let bulk = precedence
        .iter()
        .any(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
        || !msg.list_id().is_empty();
    let auto_reply = precedence.iter().any(|v| v == "auto_reply")
        || ["X-Autoreply", "X-Autorespond"].iter().any(|h| {
            header_text(msg, h)
                .iter()
                .any(|v| v != "no" && v != "false")
        })
        || is_vacation_subject(subject);
    Noise {
        auto_submitted,
        bulk,
        x_loop: header_text(msg, "X-Loop"),
        auto_reply,
    }
}

/// Subjects that out-of-office and vacation programs put in front (Outlook, Exchange,
/// Gmail, Thunderbird, Apple Mail, in the languages our customers write in).
fn is_vacation_subject(subject: &str) -> bool {
    const STARTS: &[&str] = &[
        "out of office",
        "out of the office",
        "automatic reply",
        "auto reply",
        "autoreply",
        "auto-reply",
        "auto response",
        "autoresponse",
        "vacation reply",
        "away from the office",
        "abwesenheitsnotiz",
        "automatische antwort",
        "abwesend",
        "réponse automatique",
        "reponse automatique",
        "absence du bureau",
        "respuesta automática",
        "respuesta automatica",
        "fuera de la oficina",
        "risposta automatica",
        "fuori sede",
        "automatisch antwoord",
        "afwezig",
        "autosvar",
        "frånvaro",
        "automaattinen vastaus",
        "odpowiedź automatyczna",
        "自动回复",
        "自動回覆",
        "自動返信",
    ];
    let s = subject.trim().to_lowercase();
    // Outlook's "Automatic reply: …" and "Auto: …" keep the original subject after.
    STARTS.iter().any(|p| s.starts_with(p)) || s.starts_with("auto:")
}

/// A DSN (`multipart/report; report-type=delivery-status`), or a classic bounce from a
/// mailer daemon with the original message attached. The `message/delivery-status`
/// part decides what happened; a classic bounce has none and counts as failed.
fn bounce_of(msg: &mail_parser::Message<'_>) -> Option<Bounce> {
    let is_report = report_type(msg).is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    let from_daemon = msg
        .header_values(HeaderName::From)
        .next()
        .and_then(|v| v.as_address())
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .is_some_and(|a| {
            a.to_lowercase().starts_with("mailer-daemon@")
                || a.to_lowercase().starts_with("postmaster@")
        });
    let status_part = msg
        .parts
        .iter()
        .find(|p| has_type(p, "message", "delivery-status"));
    if !is_report && !from_daemon && status_part.is_none() {
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
    let report = status_part.map(|p| delivery_status(p.contents()));
    let human = msg
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
    let (action, status, diagnostic) = match report {
        Some(r) => {
            let diagnostic = if r.diagnostic.is_empty() {
                human
            } else {
                r.diagnostic
            };
            (r.action, r.status, diagnostic)
        }
        None => (DsnAction::Failed, String::new(), human),
    };
    Some(Bounce {
        original_ids,
        action,
        status,
        diagnostic,
    })
}

/// What one `message/delivery-status` part says, for the recipient that fared worst.
struct DeliveryStatus {
    action: DsnAction,
    status: String,
    diagnostic: String,
}

/// Reads the per-recipient groups of a delivery-status body (RFC 3464 §2.3): a failed
/// recipient outweighs a delayed one, which outweighs a delivered one.
fn delivery_status(body: &[u8]) -> DeliveryStatus {
    let text = String::from_utf8_lossy(body);
    let mut worst = DeliveryStatus {
        action: DsnAction::Delivered,
        status: String::new(),
        diagnostic: String::new(),
    };
    let mut found_action = false;
    for group in fields_groups(&text) {
        let field = |name: &str| {
            group
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let Some(action) = field("Action") else {
            continue;
        };
        let action = match action.to_ascii_lowercase().as_str() {
            "failed" => DsnAction::Failed,
            "delayed" => DsnAction::Delayed,
            _ => DsnAction::Delivered,
        };
        let rank = |a: DsnAction| match a {
            DsnAction::Failed => 2,
            DsnAction::Delayed => 1,
            DsnAction::Delivered => 0,
        };
        if found_action && rank(action) <= rank(worst.action) {
            continue;
        }
        found_action = true;
        // "smtp; 550 5.1.1 …": the type before the semicolon is not for people.
        let diagnostic = field("Diagnostic-Code")
            .map(|d| match d.split_once(';') {
                Some((_, rest)) => rest.trim().to_string(),
                None => d,
            })
            .unwrap_or_default();
        worst = DeliveryStatus {
            action,
            status: field("Status").unwrap_or_default(),
            diagnostic,
        };
    }
    if !found_action {
        // A report without any Action is a failure report of some older kind.
        worst.action = DsnAction::Failed;
    }
    worst
}

/// `Name: value` groups separated by blank lines, continuation lines unfolded.
fn fields_groups(text: &str) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut group: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

/// A read receipt: `multipart/report; report-type=disposition-notification`, or any
/// message with a `message/disposition-notification` part.
fn receipt_of(msg: &mail_parser::Message<'_>) -> Option<Receipt> {
    let is_report =
        report_type(msg).is_some_and(|t| t.eq_ignore_ascii_case("disposition-notification"));
    let part = msg
        .parts
        .iter()
        .find(|p| has_type(p, "message", "disposition-notification"));
    if !is_report && part.is_none() {
        return None;
    }
    let fields: Vec<(String, String)> = part
        .map(|p| {
            fields_groups(&String::from_utf8_lossy(p.contents()))
                .into_iter()
                .flatten()
                .collect()
        })
        .unwrap_or_default();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut original_ids: Vec<String> = field("Original-Message-ID")
        .map(|ids| ids.split_whitespace().map(clean_id).collect())
        .unwrap_or_default();
    original_ids.extend(id_list(msg.in_reply_to()));
    original_ids.extend(id_list(msg.references()).into_iter().rev());
    original_ids.retain(|id| !id.is_empty());
    original_ids.dedup();
    Some(Receipt {
        original_ids,
        disposition: field("Disposition").unwrap_or_default(),
    })
}

/// The `report-type` of a `multipart/report` message.
fn report_type<'a>(msg: &'a mail_parser::Message<'_>) -> Option<&'a str> {
    let ct = msg.root_part().content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    // A report without a type was taken for a delivery report before; it still is.
    is_report.then(|| ct.attribute("report-type").unwrap_or("delivery-status"))
}

fn has_type(part: &mail_parser::MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

/// The subject without reply/forward prefixes in the languages our customers write in
/// ("Re:", "Fwd:", "AW:", "WG:", "SV:", "RE[2]:", "回复:", …) and without our `[#N]`
/// tag; other bracketed prefixes stay (`[URGENT] Server down`).
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
        // A leading [#123] tag (ours); any other bracketed prefix ("[URGENT]", a list's
        // name) is part of what the customer wrote.
        if let Some(rest) = s.strip_prefix("[#") {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && rest[digits..].starts_with(']') {
                s = rest[digits + 1..].trim_start();
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
            ("VS: Tulostin", "Tulostin"),
            ("Antw: Printer", "Printer"),
            ("RE[2]: Printer", "Printer"),
            ("Meeting: tomorrow", "Meeting: tomorrow"),
            ("[URGENT] Server down", "[URGENT] Server down"),
            ("Re: [URGENT] Server down", "[URGENT] Server down"),
            ("[#7] [URGENT] Server down", "[URGENT] Server down"),
            ("AW: [#7] Re: [ext] Drucker", "[ext] Drucker"),
            ("[#x] Printer", "[#x] Printer"),
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

    #[test]
    fn the_first_from_counts_and_a_byte_order_mark_is_tolerated() {
        let two =
            "From: Ann <ann@example.com>\r\nFrom: mallory@evil.example\r\nSubject: x\r\n\r\nbody";
        let m = parse(two.as_bytes()).unwrap();
        assert_eq!(
            (m.from.as_str(), m.from_name.as_str()),
            ("ann@example.com", "Ann")
        );
        let bom = "\u{feff}From: Bob <bob@example.com>\r\nSubject: hi\r\n\r\nbody";
        let m = parse(bom.as_bytes()).unwrap();
        assert_eq!(m.from, "bob@example.com");
        assert_eq!(m.subject, "hi");
    }

    #[test]
    fn out_of_office_replies_are_automatic() {
        for extra in [
            "Auto-Submitted: auto-replied\r\n",
            "Auto-Submitted: auto-generated\r\n",
            "X-Autoreply: yes\r\n",
            "Precedence: auto_reply\r\n",
        ] {
            let raw = format!("From: a@example.com\r\n{extra}Subject: Re: Printer\r\n\r\nx");
            assert!(
                parse(raw.as_bytes()).unwrap().noise.is_automatic(),
                "{extra}"
            );
        }
        for subject in [
            "Out of office: Re: Printer",
            "Automatic reply: Printer",
            "Abwesenheitsnotiz: Drucker",
            "Réponse automatique : Imprimante",
            "Auto: Printer",
        ] {
            let raw = format!("From: a@example.com\r\nSubject: {subject}\r\n\r\nx");
            let noise = parse(raw.as_bytes()).unwrap().noise;
            assert!(noise.auto_reply && noise.is_automatic(), "{subject}");
        }
        for subject in ["Re: Printer", "Office printer is out of toner", "Autos"] {
            let raw = format!("From: a@example.com\r\nSubject: {subject}\r\n\r\nx");
            assert!(
                !parse(raw.as_bytes()).unwrap().noise.is_automatic(),
                "{subject}"
            );
        }
    }

    fn dsn(action: &str, status: &str, code: &str) -> String {
        format!(
            concat!(
                "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\nSubject: Delayed Mail (still being retried)\r\n",
                "MIME-Version: 1.0\r\n",
                "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n",
                "--r\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.\r\n",
                "I'm sorry to have to inform you that your message could not\r\nbe delivered.\r\n",
                "--r\r\nContent-Type: message/delivery-status\r\n\r\n",
                "Reporting-MTA: dns; mx.example\r\nArrival-Date: Tue,  1 Dec 2026 10:00:00 +0000\r\n\r\n",
                "Final-Recipient: rfc822; ann@example.com\r\nOriginal-Recipient: rfc822;ann@example.com\r\n",
                "Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {code}\r\n",
                "  (in reply to RCPT TO command)\r\n",
                "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <out1@desk.example>\r\nSubject: hi\r\n\r\n",
                "--r--\r\n"
            ),
            action = action,
            status = status,
            code = code
        )
    }

    #[test]
    fn a_dsn_says_failed_or_delayed_with_its_status_and_diagnostic() {
        let failed = parse(
            dsn(
                "failed",
                "5.1.1",
                "550 5.1.1 <ann@example.com>: User unknown",
            )
            .as_bytes(),
        )
        .unwrap()
        .bounce
        .expect("a bounce");
        assert_eq!(failed.action, DsnAction::Failed);
        assert_eq!(failed.status, "5.1.1");
        assert_eq!(
            failed.diagnostic,
            "550 5.1.1 <ann@example.com>: User unknown (in reply to RCPT TO command)"
        );
        assert!(!failed.diagnostic.contains("sorry"), "{failed:?}");
        assert_eq!(failed.original_ids, vec!["out1@desk.example"]);
        let delayed = parse(dsn("delayed", "4.4.1", "421 4.4.1 connect timed out").as_bytes())
            .unwrap()
            .bounce
            .expect("a report");
        assert_eq!(delayed.action, DsnAction::Delayed);
        assert_eq!(delayed.status, "4.4.1");
        assert!(delayed
            .diagnostic
            .starts_with("421 4.4.1 connect timed out"));
    }

    #[test]
    fn read_receipts_name_the_original_message() {
        let mdn = concat!(
            "From: Ann <ann@example.com>\r\nSubject: Read: Printer\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=m\r\n\r\n",
            "--m\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n",
            "--m\r\nContent-Type: message/disposition-notification\r\n\r\n",
            "Reporting-UA: mail.example.com; Thunderbird\r\nFinal-Recipient: rfc822;ann@example.com\r\n",
            "Original-Message-ID: <out7@desk.example>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n",
            "--m--\r\n"
        );
        let m = parse(mdn.as_bytes()).unwrap();
        assert!(m.bounce.is_none());
        let r = m.receipt.expect("a receipt");
        assert_eq!(r.original_ids, vec!["out7@desk.example"]);
        assert_eq!(r.disposition, "manual-action/MDN-sent-manually; displayed");
        assert!(parse(b"From: a@example.com\r\nSubject: x\r\n\r\ny")
            .unwrap()
            .receipt
            .is_none());
    }
}
