//! Made-up but realistic helpdesk content: people, subjects, bodies, and whole RFC 5322
//! messages (plain text, multipart/alternative, and multipart/mixed with an attachment;
//! some replies with In-Reply-To), deterministic for a given seed.

use super::Rng;
use base64::Engine;
use std::collections::HashMap;
use std::fmt::Write as _;

const FIRST: &[&str] = &[
    "Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Mateo", "Nora", "Oskar", "Priya", "Quinn", "Rosa", "Søren", "Tomás", "Uma", "Viktor",
    "Wen", "Xenia", "Yusuf", "Zoë", "Łukasz", "Amélie", "Björn", "Chen",
];
const LAST: &[&str] = &[
    "Müller",
    "Smith",
    "García",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Okafor",
    "Tanaka",
    "Larsen",
    "Dubois",
    "Novak",
    "Silva",
    "Fischer",
    "Jensen",
    "Moreau",
    "Petrov",
    "Haddad",
    "Kim",
    "O'Brien",
    "Schneider",
    "Yılmaz",
    "Andersson",
    "Costa",
    "Weber",
    "Lindqvist",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example.de",
    "post.example.at",
    "inbox.example.fr",
];
const SUBJECTS: &[&str] = &[
    "Invoice {n} charged twice",
    "Cannot log in after password reset",
    "Refund for order #{n}",
    "Printer on fire",
    "Shipping to Graz delayed",
    "Parcel {n} never arrived",
    "Feature request: dark mode for the app",
    "Question about my subscription",
    "Error 500 when uploading a file",
    "Please change my billing address",
    "Account locked after too many attempts",
    "Wrong size delivered – can I exchange it?",
    "Datenschutzauskunft nach Art. 15 DSGVO",
    "Two-factor codes do not arrive",
    "Discount code {n} not accepted",
    "Cancel my newsletter",
    "App crashes on start (version 4.{n})",
    "Invoice copy for tax return",
    "Password reset link expired",
    "Damaged item in order {n}",
];
const SENTENCES: &[&str] = &[
    "I have been a customer for several years and this never happened before.",
    "Could you please look into this as soon as possible?",
    "The order number should be in the attached document.",
    "I already tried logging out and in again, and clearing the browser cache.",
    "My colleague has the same problem since yesterday's update.",
    "Please find the details below.",
    "The payment was taken from my card twice, on the 3rd and on the 4th.",
    "Nothing happens when I click the button; the page just reloads.",
    "Der Kundendienst hat mir am Telefon gesagt, ich solle eine E-Mail schreiben.",
    "Merci de me répondre rapidement, c'est assez urgent pour nous.",
    "I would like to know which personal data you store about me.",
    "Thank you for your help, it is much appreciated.",
    "The tracking page says the parcel was delivered, but it was not.",
    "Is there a way to export my data before I cancel?",
    "We are a small team of five and rely on this every day.",
    "Screenshots are attached if they help.",
];

/// Sentences in Japanese, Chinese and Korean, for some of the bodies body search reads.
const CJK_SENTENCES: &[&str] = &[
    "東京都の倉庫から発送してください。",
    "請求書の金額が間違っています。",
    "我的订单还没有到，请帮我查一下。",
    "비밀번호를 재설정할 수 없습니다.",
    "パスワードをリセットできません。",
];

/// Text for tickets and mail.
pub(crate) struct Words;

impl Words {
    pub(crate) fn person(rng: &mut Rng, i: usize) -> (String, String) {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let domain = rng.pick(DOMAINS);
        let local: String = format!("{first}.{last}")
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        (format!("{first} {last}"), format!("{local}{i}@{domain}"))
    }

    pub(crate) fn subject(rng: &mut Rng) -> String {
        let n = 1000 + rng.below(90_000);
        rng.pick(SUBJECTS).replace("{n}", &n.to_string())
    }

    /// A message of a ticket's thread for body search: [`Words::body`] with what makes
    /// real bodies' vocabularies large (an order reference and a tracking code unique to
    /// the message) and, in one message in ten, a CJK sentence.
    pub(crate) fn thread_body(rng: &mut Rng, len: usize) -> String {
        let mut out = Words::body(rng, len);
        let _ = write!(
            out,
            "Order R{:06}, tracking {:010x}.\r\n",
            rng.below(1_000_000),
            rng.next_u64() & 0xff_ffff_ffff
        );
        if rng.chance(10) {
            let sentence: &&str = rng.pick(CJK_SENTENCES);
            out.push_str(sentence);
            out.push_str("\r\n");
        }
        out
    }

    /// Paragraphs of sentences, about `len` bytes.
    pub(crate) fn body(rng: &mut Rng, len: usize) -> String {
        let mut out = String::from("Hello,\r\n\r\n");
        while out.len() < len {
            for _ in 0..3 {
                let sentence = *rng.pick(SENTENCES);
                out.push_str(sentence);
                out.push(' ');
            }
            out.push_str("\r\n\r\n");
        }
        out.push_str("Kind regards\r\n");
        out
    }
}

/// How large the generated messages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MailSize {
    /// About 4 KiB: plain text, or text plus HTML.
    Small,
    /// About 100 KiB: text plus a base64 attachment.
    Large,
}

impl MailSize {
    pub(crate) fn parse(s: &str) -> Result<MailSize, String> {
        match s.to_ascii_lowercase().as_str() {
            "4k" => Ok(MailSize::Small),
            "100k" => Ok(MailSize::Large),
            _ => Err(format!("unknown size {s:?}: use 4k or 100k")),
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            MailSize::Small => "4k",
            MailSize::Large => "100k",
        }
    }

    fn target(self) -> usize {
        match self {
            MailSize::Small => 4 * 1024,
            MailSize::Large => 100 * 1024,
        }
    }
}

/// The desk's support address, which the benchmark desks accept mail for.
pub(crate) const SUPPORT: &str = "support@desk.example";

/// One generated message, with its envelope sender.
pub(crate) struct Mail {
    pub from: String,
    pub raw: Vec<u8>,
}

/// Generates `n` messages of `size` from `n / 8` (at least 200) senders, so no sender
/// comes near the per-sender rate limit; about one in five replies to the sender's
/// previous message (In-Reply-To, References, `Re:`).
pub(crate) fn messages(n: usize, size: MailSize, seed: u64) -> Vec<Mail> {
    let mut rng = Rng::new(seed);
    let senders: Vec<(String, String)> = (0..(n / 8).max(200))
        .map(|i| Words::person(&mut rng, i))
        .collect();
    let mut last_by_sender: HashMap<usize, (String, String)> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let who = rng.below(senders.len() as u64) as usize;
        let (name, address) = &senders[who];
        let message_id = format!("{i}.{:x}@{}", rng.next_u64(), domain_of(address));
        let reply_to = match last_by_sender.get(&who) {
            Some(prev) if rng.chance(20) => Some(prev.clone()),
            _ => None,
        };
        let subject = match &reply_to {
            Some((_, subject)) => format!("Re: {subject}"),
            None => Words::subject(&mut rng),
        };
        let raw = compose(
            &mut rng,
            &Header {
                name,
                address,
                subject: &subject,
                message_id: &message_id,
                in_reply_to: reply_to.as_ref().map(|(id, _)| id.as_str()),
            },
            size,
        );
        last_by_sender.insert(who, (message_id, subject.trim_start_matches("Re: ").into()));
        out.push(Mail {
            from: address.clone(),
            raw,
        });
    }
    out
}

/// A plain message with a given subject (for latency probes), never a duplicate of
/// an earlier one.
pub(crate) fn probe(i: usize, subject: &str) -> Mail {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("the OS random source failed");
    let mut rng = Rng::new(u64::from_le_bytes(seed));
    let address = format!("probe{i}@example.net");
    let message_id = format!("probe.{i}.{:x}@example.net", rng.next_u64());
    let raw = compose(
        &mut rng,
        &Header {
            name: "Latency Probe",
            address: &address,
            subject,
            message_id: &message_id,
            in_reply_to: None,
        },
        MailSize::Small,
    );
    Mail { from: address, raw }
}

fn domain_of(address: &str) -> &str {
    address.rsplit('@').next().unwrap_or("example.com")
}

struct Header<'a> {
    name: &'a str,
    address: &'a str,
    subject: &'a str,
    message_id: &'a str,
    in_reply_to: Option<&'a str>,
}

fn compose(rng: &mut Rng, h: &Header<'_>, size: MailSize) -> Vec<u8> {
    let mut m = String::new();
    let domain = domain_of(h.address);
    let _ = write!(
        m,
        "Return-Path: <{addr}>\r\n\
         Received: from mx.{domain} (mx.{domain} [192.0.2.{a}])\r\n\tby mx.desk.example with ESMTPS id {id:x}\r\n\tfor <{SUPPORT}>; Tue, 10 Mar 2026 09:{mm:02}:{ss:02} +0000\r\n\
         DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=mail;\r\n\tbh={bh}=;\r\n\tb={b}\r\n\
         From: {name} <{addr}>\r\n\
         To: Support <{SUPPORT}>\r\n\
         Subject: {subject}\r\n\
         Date: Tue, 10 Mar 2026 09:{mm:02}:{ss:02} +0000\r\n\
         Message-ID: <{mid}>\r\n",
        addr = h.address,
        a = rng.below(250) + 1,
        id = rng.next_u64(),
        mm = rng.below(60),
        ss = rng.below(60),
        bh = random_base64(rng, 32),
        b = random_base64(rng, 128),
        name = encode_name(h.name),
        subject = encode_name(h.subject),
        mid = h.message_id,
    );
    if let Some(parent) = h.in_reply_to {
        let _ = write!(m, "In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n");
    }
    m.push_str("MIME-Version: 1.0\r\nUser-Agent: Thunderbird/128.4\r\n");
    let room = size.target().saturating_sub(m.len() + 200);
    match size {
        MailSize::Small if rng.chance(70) => {
            m.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
            m.push_str(&Words::body(rng, room));
        }
        MailSize::Small => {
            let boundary = format!("alt-{:x}", rng.next_u64());
            let text = Words::body(rng, room * 2 / 5);
            let html = format!(
                "<html><body><p>{}</p></body></html>\r\n",
                text.replace("\r\n\r\n", "</p><p>")
            );
            let _ = write!(
                m,
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
                 --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
                 --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n\
                 --{boundary}--\r\n"
            );
        }
        MailSize::Large => {
            let boundary = format!("mix-{:x}", rng.next_u64());
            let text = Words::body(rng, 1500);
            // Base64 grows 4/3 plus line ends: size the file to fill the message.
            let file_len = room.saturating_sub(text.len()) * 3 / 4 * 76 / 78;
            let mut file = vec![0u8; file_len];
            rng.fill(&mut file);
            let (ctype, name) = if rng.chance(50) {
                ("application/pdf", "invoice.pdf")
            } else {
                ("image/png", "screenshot.png")
            };
            let _ = write!(
                m,
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
                 --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
                 --{boundary}\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(&file);
            for line in encoded.as_bytes().chunks(76) {
                m.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
                m.push_str("\r\n");
            }
            let _ = write!(m, "--{boundary}--\r\n");
        }
    }
    m.into_bytes()
}

/// RFC 2047 for non-ASCII header text, as mail clients send it.
fn encode_name(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    format!(
        "=?utf-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

fn random_base64(rng: &mut Rng, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rng.fill(&mut raw);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_mail::parse::parse;

    #[test]
    fn generated_mail_parses_at_about_the_asked_size() {
        for size in [MailSize::Small, MailSize::Large] {
            let mails = messages(60, size, 7);
            let mut replies = 0;
            for m in &mails {
                let parsed = parse(&m.raw).expect("parses");
                assert_eq!(parsed.from, m.from);
                replies += usize::from(!parsed.in_reply_to.is_empty());
                let len = m.raw.len() as f64;
                let target = size.target() as f64;
                assert!(len > target * 0.8 && len < target * 1.2, "{size:?}: {len}");
                if size == MailSize::Large {
                    assert_eq!(parsed.attachments.len(), 1);
                }
            }
            assert!(replies > 0, "some replies");
        }
    }
}
