//! Demo data: a desk that looks lived-in, for `sealdesk demo`. Eight weeks of history:
//! customer mail comes in through the import path (the same parsing and threading as
//! live mail, each message at its own Date:), and what agents did back then is recorded
//! at its own time through `Desk::record_past` (replies at realistic delays, triage,
//! solving and closing), so every screen and every report has something real to show:
//! tickets in every status and of every age, several agents, tags, two support
//! addresses, SLA policies with tickets due soon and breached, Cc participants, an
//! attachment, a draft, a snoozed ticket, consents, and privacy requests (one open near
//! its deadline, one completed).

use anyhow::Context;
use sealdesk_desk::{Actor, Desk, ImportMessage, Imported, NewConsent, PastRequest, PastStep};
use sealdesk_model::{
    ConsentState, MessageKind, Parties, Priority, RequestKind, Status, TicketNo, Timestamp,
};

/// Tickets the demo desk starts with.
pub(super) const MAIL_COUNT: usize = 12 + 30;

/// The demo's agents besides the user (none of them can log in: their keys are thrown
/// away), so assignment, "mine" and the per-agent reports have several names.
pub(super) const AGENTS: &[&str] = &["alice", "bob", "chen"];

/// The second support address (the first is `mail.ingest`, support@desk.example).
pub(super) const BILLING: &str = "billing@desk.example";

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

struct DemoMail {
    name: &'static str,
    email: &'static str,
    subject: &'static str,
    body: &'static str,
}

/// The topics' customers.
const PEOPLE: &[(&str, &str)] = &[
    ("Ann Lee", "ann.lee@example.com"),
    ("Olivia Brown", "olivia@example.co.uk"),
    ("Piotr Nowak", "piotr@przyklad.pl"),
    ("Emma Johansson", "emma@exempel.se"),
    ("Lucas Silva", "lucas@exemplo.com.br"),
    ("Noah Fischer", "noah.fischer@example.ch"),
    ("Aisha Khan", "aisha@example.pk"),
];

const MAILS: &[DemoMail] = &[
    DemoMail { name: "Ann Lee", email: "ann.lee@example.com", subject: "Printer on fire", body: "Hello,\n\nour office printer (model X200) started smoking this morning.\nIs this covered by the warranty?\n\nThanks,\nAnn" },
    DemoMail { name: "Jürgen Weiß", email: "juergen@beispiel.de", subject: "Rechnung doppelt abgebucht", body: "Guten Tag,\n\nmir wurde die Rechnung 2026-1142 zweimal abgebucht. Bitte erstatten Sie den doppelten Betrag.\n\nMit freundlichen Grüßen\nJürgen Weiß" },
    DemoMail { name: "王小明", email: "xiaoming@example.cn", subject: "无法登录账户", body: "您好，\n\n我从昨天开始无法登录我的账户，系统提示密码错误，但我确定密码是正确的。\n\n谢谢！" },
    DemoMail { name: "María García", email: "maria@ejemplo.es", subject: "Cambio de dirección de envío", body: "Hola,\n\n¿puedo cambiar la dirección de envío del pedido 88123? Me mudo la semana que viene.\n\nGracias,\nMaría" },
    DemoMail { name: "Camille Martin", email: "camille@exemple.fr", subject: "Demande de suppression de mes données", body: "Bonjour,\n\nje souhaite que vous supprimiez toutes mes données personnelles et que vous fermiez mon compte.\n\nCordialement,\nCamille Martin" },
    DemoMail { name: "佐藤 花子", email: "hanako@example.jp", subject: "商品が届きません", body: "お世話になっております。\n\n先週注文した商品がまだ届いていません。追跡番号を教えていただけますか。\n\nよろしくお願いいたします。" },
    DemoMail { name: "Piotr Nowak", email: "piotr@przyklad.pl", subject: "Faktura VAT", body: "Dzień dobry,\n\nproszę o fakturę VAT za zamówienie 55120 na firmę.\n\nPozdrawiam,\nPiotr" },
    DemoMail { name: "Lucas Silva", email: "lucas@exemplo.com.br", subject: "Cancelar assinatura", body: "Olá,\n\ngostaria de cancelar a minha assinatura no fim do mês.\n\nObrigado,\nLucas" },
    DemoMail { name: "Emma Johansson", email: "emma@exempel.se", subject: "Fel storlek på skor", body: "Hej!\n\nJag fick skor i storlek 39 men beställde 40. Hur byter jag?\n\nMvh Emma" },
    DemoMail { name: "Ahmed Hassan", email: "ahmed@example.eg", subject: "Export of my data", body: "Hi,\n\nunder the data protection law I would like a copy of all personal data you hold about me.\n\nBest regards,\nAhmed" },
    DemoMail { name: "陳美玲", email: "meiling@example.tw", subject: "請取消行銷郵件", body: "您好：\n\n請不要再寄送行銷電子郵件給我，謝謝。\n\n陳美玲" },
    DemoMail { name: "Olivia Brown", email: "olivia@example.co.uk", subject: "Password reset link expired", body: "Hello,\n\nthe reset link in your email says it has expired, every time I click it.\n\nOlivia" },
];

/// The topics' tags and our first answer to each (same order as `TOPICS`).
const TOPIC_TAGS: &[&str] = &["shipping", "billing", "sales", "account", "billing", "api"];
const TOPIC_REPLIES: &[&str] = &[
    "Sorry about that! We are sending a replacement today; no need to return the broken one.",
    "You are right, the VAT line was wrong. A corrected invoice is attached to your account.",
    "Happy to hear you are growing! The switch keeps all data; I have started it for you.",
    "Done: SMS codes are off and you can scan the authenticator QR code at your next login.",
    "The refund was issued this morning; your bank may take 3 to 5 working days.",
    "Yes, 50 requests per minute is the limit of your plan; the team plan allows 500.",
];

const TOPICS: &[(&str, &str)] = &[
    (
        "Order {n} arrived damaged",
        "The box was crushed and the contents are broken. Photos attached in my next mail.",
    ),
    (
        "Question about invoice {n}",
        "The VAT amount on invoice {n} looks wrong to me. Could you check?",
    ),
    (
        "Upgrade to the team plan",
        "We are now 8 people. How do we move to the team plan without losing data?",
    ),
    (
        "Two-factor codes not arriving",
        "Since yesterday I get no SMS codes. Can you switch me to an authenticator app?",
    ),
    (
        "Refund for order {n}",
        "I returned the parcel two weeks ago and have not seen the refund yet.",
    ),
    (
        "API rate limit",
        "We hit HTTP 429 at about 50 requests per minute. Is that the documented limit?",
    ),
];

/// One first mail of a demo ticket, before it is imported.
struct First {
    key: String,
    name: String,
    email: String,
    subject: String,
    body: String,
    at: Timestamp,
    /// The support address it was written to.
    to: &'static str,
    cc: Option<&'static str>,
    attachment: Option<(&'static str, &'static str)>,
}

/// What happens to a ticket after its first mail: (seconds after it, step).
enum Then<'a> {
    Past(PastStep<'a>),
    /// The customer writes again (imported, threaded by In-Reply-To).
    Writes(&'static str),
}

/// Writes one message in RFC 5322 form, dated `at`.
fn raw_mail(m: &First, id: &str, reply_to: Option<&str>, body: &str, at: Timestamp) -> String {
    let date = rfc2822(at);
    let subject = match reply_to {
        Some(_) => format!("Re: {}", m.subject),
        None => m.subject.clone(),
    };
    let mut raw = format!(
        "From: {} <{}>\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n",
        m.name, m.email, m.to
    );
    if let (Some(cc), None) = (m.cc, reply_to) {
        raw.push_str(&format!("Cc: {cc}\r\n"));
    }
    if let Some(r) = reply_to {
        raw.push_str(&format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"));
    }
    let text = body.replace('\n', "\r\n");
    match (m.attachment, reply_to) {
        (Some((name, content)), None) => {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(content);
            raw.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"demo-part\"\r\n\r\n\
                 --demo-part\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
                 --demo-part\r\nContent-Type: text/plain; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n\
                 --demo-part--\r\n"
            ));
        }
        _ => raw.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n"
        )),
    }
    raw
}

/// `at` as a Date: header writes it.
fn rfc2822(at: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default()
}

/// Midnight (UTC) `days` ago, plus `hour`:`minute`, but at least `margin` before now.
fn day_at(now: Timestamp, days: i64, hour: i64, minute: i64, margin: i64) -> Timestamp {
    let mut at = now.0 - now.0.rem_euclid(DAY) - days * DAY + hour * HOUR + minute * MINUTE;
    while at > now.0 - margin {
        at -= DAY;
    }
    Timestamp(at)
}

/// The first mails of the twelve hand-written tickets, each with its story.
fn stories(now: Timestamp, me: &str, request_days: i64) -> Vec<(First, Vec<(i64, Then<'_>)>)> {
    use PastStep::{Assign, Note, Priority as Prio, Reply, Status as St};
    use Then::{Past, Writes};
    let ago = |secs: i64| Timestamp(now.0 - secs);
    let at: [Timestamp; 12] = [
        day_at(now, 2, 9, 14, HOUR),
        ago(3 * HOUR + 10 * MINUTE),
        ago(25 * MINUTE),
        day_at(now, 10, 11, 2, HOUR),
        ago(request_days * DAY - 3 * DAY + 2 * HOUR),
        day_at(now, 3, 16, 45, HOUR),
        day_at(now, 12, 10, 20, HOUR),
        day_at(now, 30, 15, 5, HOUR),
        ago(6 * HOUR),
        day_at(now, 20, 9, 40, HOUR),
        day_at(now, 9, 13, 30, HOUR),
        day_at(now, 2, 17, 55, HOUR),
    ];
    let lives: [Vec<(i64, Then<'_>)>; 12] = [
        vec![
            (10 * MINUTE, Past(Prio(Priority::Urgent))),
            (10 * MINUTE, Past(PastStep::Tags(&["hardware", "warranty"]))),
            (12 * MINUTE, Past(Assign("alice"))),
            (25 * MINUTE, Past(Reply { agent: "alice", text: "Hi Ann,\n\nplease keep it unplugged; we will send a technician tomorrow between 9 and 12.\n\nAlice" })),
            (30 * MINUTE, Past(Note { agent: "alice", text: "Warranty valid until 2027-03. Technician booked." })),
            (31 * MINUTE, Past(St(Status::Pending))),
            (26 * HOUR, Writes("Update: it stopped smoking after we unplugged it. Still want a repair.")),
            (26 * HOUR, Past(St(Status::Open))),
        ],
        vec![
            (2 * MINUTE, Past(Prio(Priority::High))),
            (5 * MINUTE, Past(Assign("bob"))),
        ],
        vec![(2 * MINUTE, Past(Prio(Priority::Urgent)))],
        vec![
            (30 * MINUTE, Past(Assign("chen"))),
            (40 * MINUTE, Past(Reply { agent: "chen", text: "Hola María, hemos cambiado la dirección. ¡Buena mudanza!" })),
            (41 * MINUTE, Past(St(Status::Solved))),
        ],
        vec![
            (HOUR, Past(Assign(me))),
            (2 * HOUR, Past(Reply { agent: me, text: "Bonjour Camille,\n\nnous avons bien reçu votre demande. Pour vérifier votre identité, merci de répondre avec le code que vous allez recevoir." })),
            (2 * HOUR, Past(St(Status::Pending))),
        ],
        vec![(HOUR, Past(Assign("chen")))],
        vec![
            (HOUR, Past(Assign("bob"))),
            (3 * HOUR, Past(Reply { agent: "bob", text: "Dzień dobry,\n\nfaktura VAT jest już w Pana koncie.\n\nBob" })),
            (3 * HOUR + 5 * MINUTE, Past(St(Status::Solved))),
        ],
        vec![
            (20 * MINUTE, Past(Assign("alice"))),
            (HOUR, Past(Reply { agent: "alice", text: "Olá Lucas, a assinatura termina no fim do mês. Obrigado por ter sido nosso cliente!" })),
            (HOUR + MINUTE, Past(St(Status::Solved))),
            (4 * DAY, Past(St(Status::Closed))),
        ],
        vec![(20 * MINUTE, Past(Assign(me)))],
        vec![
            (5 * MINUTE, Past(Assign("alice"))),
            (HOUR, Past(Reply { agent: "alice", text: "Hi Ahmed,\n\nwe will send you a one-time code to confirm it is you; the export follows once it is confirmed." })),
            (6 * DAY, Past(Reply { agent: "alice", text: "Your data export is ready: you can download it with the link we sent you." })),
            (6 * DAY + MINUTE, Past(St(Status::Solved))),
        ],
        vec![
            (2 * HOUR, Past(Reply { agent: "bob", text: "您好，我们已停止向您发送营销邮件。" })),
            (2 * HOUR + MINUTE, Past(St(Status::Solved))),
        ],
        vec![
            (30 * MINUTE, Past(Assign("bob"))),
            (HOUR, Past(Reply { agent: "bob", text: "Hi Olivia,\n\nwe have fixed the link expiry; please try again the day after tomorrow and tell us if it works.\n\nBob" })),
        ],
    ];
    MAILS
        .iter()
        .zip(at)
        .zip(lives)
        .enumerate()
        .map(|(i, ((m, at), life))| {
            let first = First {
                key: format!("demo{i}@mail.example"),
                name: m.name.into(),
                email: m.email.into(),
                subject: m.subject.into(),
                body: m.body.into(),
                at,
                to: match i {
                    1 | 6 => BILLING,
                    _ => "support@desk.example",
                },
                cc: (i == 0).then_some("Tom Lee <tom.lee@example.com>"),
                attachment: (i == 8).then_some((
                    "order-88412-receipt.txt",
                    "Order 88412\nShoes, model Trail, size 40 (ordered)\nPaid: 89.00 EUR\n",
                )),
            };
            (first, life)
        })
        .collect()
}

/// The thirty everyday tickets: spread over the last eight weeks, mostly in business
/// hours; the older ones answered, solved and closed, the recent ones still open.
fn everyday(now: Timestamp, me: &str) -> Vec<(First, Vec<(i64, Then<'_>)>)> {
    use Then::{Past, Writes};
    let agents = [AGENTS[0], AGENTS[1], AGENTS[2], me];
    (0..30usize)
        .map(|i| {
            let (subject, body) = TOPICS[i % TOPICS.len()];
            let order = (40_000 + i * 37).to_string();
            let (name, email) = PEOPLE[i % PEOPLE.len()];
            let days = (i as i64 * 56) / 30;
            let at = day_at(now, days, 8 + (i as i64 * 7) % 10, (i as i64 * 17) % 60, 30 * MINUTE);
            let age = now.0 - at.0;
            let agent = agents[i % agents.len()];
            let reply = TOPIC_REPLIES[i % TOPIC_REPLIES.len()];
            // Mostly within hours; every fifth one waited overnight.
            let delay = 15 * MINUTE
                + (i as i64 * 37 % 10) * 25 * MINUTE
                + if i % 5 == 0 { 14 * HOUR } else { 0 };
            let mut life = vec![(5 * MINUTE, Then::Past(PastStep::Assign(agent)))];
            if i % 7 == 0 {
                life.push((5 * MINUTE, Past(PastStep::Priority(Priority::High))));
            } else if i % 11 == 3 {
                life.push((5 * MINUTE, Past(PastStep::Priority(Priority::Low))));
            }
            let answer = |at| (at, Past(PastStep::Reply { agent, text: reply }));
            let status = |at, s| (at, Past(PastStep::Status(s)));
            if age > 21 * DAY {
                let solved = delay + (1 + i as i64 % 3) * 6 * HOUR;
                life.extend([answer(delay), status(solved, Status::Solved)]);
                if age > 28 * DAY {
                    life.push(status(solved + 3 * DAY, Status::Closed));
                }
            } else if age > 7 * DAY {
                life.push(answer(delay));
                match i % 3 {
                    0 => life.push(status(delay + 20 * HOUR, Status::Solved)),
                    1 => life.extend([
                        (delay + 2 * HOUR, Writes("Thanks! One more question: does this also apply to my older orders?")),
                        (delay + 2 * HOUR, Past(PastStep::Status(Status::Open))),
                        (delay + 5 * HOUR, Past(PastStep::Reply { agent, text: "Yes, it applies to every order of the last twelve months." })),
                        status(delay + DAY, Status::Solved),
                    ]),
                    _ => life.push(status(delay, Status::Pending)),
                }
            } else if age > 2 * DAY {
                life.push(answer(delay));
                if i % 2 == 0 {
                    life.extend([
                        (delay + 3 * HOUR, Writes("That did not help, unfortunately. What else can I try?")),
                        (delay + 3 * HOUR, Past(PastStep::Status(Status::Open))),
                    ]);
                } else {
                    life.push(status(delay, Status::Pending));
                }
            } else if i % 2 == 0 {
                // New and nobody's yet.
                life.clear();
            }
            life.push((6 * MINUTE, Past(PastStep::Tags(std::slice::from_ref(&TOPIC_TAGS[i % TOPIC_TAGS.len()])))));
            life.sort_by_key(|(after, _)| *after);
            let first = First {
                key: format!("topic{i}@mail.example"),
                name: name.into(),
                email: email.into(),
                subject: subject.replace("{n}", &order),
                body: body.replace("{n}", &order),
                at,
                to: if TOPIC_TAGS[i % TOPIC_TAGS.len()] == "billing" && i % 2 == 0 {
                    BILLING
                } else {
                    "support@desk.example"
                },
                cc: None,
                attachment: None,
            };
            (first, life)
        })
        .collect()
}

/// Fills a fresh desk (its agents `AGENTS` and `me` exist); returns how many tickets
/// it holds.
pub(super) fn populate(desk: &Desk, me: &str) -> anyhow::Result<usize> {
    let admin = Actor::local_admin();
    let now = Timestamp::now();
    let request_days = desk.config().privacy.correction_days as i64;
    let mut all = stories(now, me, request_days);
    all.extend(everyday(now, me));
    // Numbers grow with time, as on a real desk.
    all.sort_by_key(|(first, _)| first.at);
    let import = |raw: &str| -> anyhow::Result<TicketNo> {
        let outcome = desk.import_batch(
            &admin,
            &[ImportMessage {
                raw: raw.as_bytes(),
                mailbox_date: None,
            }],
            None,
        )?;
        match outcome.first().map(|o| &o.imported) {
            Some(Imported::Filed(n) | Imported::Threaded(n)) => Ok(*n),
            other => anyhow::bail!("the demo mail was not filed: {other:?}"),
        }
    };
    let mut numbers = std::collections::HashMap::new();
    for (first, _) in &all {
        let raw = raw_mail(first, &first.key, None, &first.body, first.at);
        numbers.insert(first.key.clone(), import(&raw)?);
    }
    for (first, life) in &all {
        let n = numbers[&first.key];
        for (k, (after, then)) in life.iter().enumerate() {
            // Never in the future, whatever the story says.
            let at = Timestamp((first.at.0 + after).min(now.0 - MINUTE));
            match then {
                Then::Past(step) => {
                    desk.record_past(&admin, n, at, step.clone())
                        .with_context(|| format!("demo history of ticket {n}"))?;
                }
                Then::Writes(text) => {
                    let id = format!("{}-{k}", first.key);
                    import(&raw_mail(first, &id, Some(&first.key), text, at))?;
                }
            }
        }
    }
    let ticket = |key: &str| numbers[key];
    // Mail without a sender cannot become a ticket: one for the quarantine screen.
    let stray = format!(
        "To: support@desk.example\r\nSubject: Fwd: scanned invoice\r\nMessage-ID: <stray@mail.example>\r\nDate: {}\r\n\r\nSee the attached scan.\r\n",
        rfc2822(Timestamp(now.0 - 5 * HOUR))
    );
    desk.import_batch(
        &admin,
        &[ImportMessage {
            raw: stray.as_bytes(),
            mailbox_date: None,
        }],
        None,
    )?;
    let system = Actor {
        name: "demo".into(),
        key_fingerprint: None,
        source: "sealdesk demo".into(),
        kind: sealdesk_desk::ActorKind::System,
    };
    let user = Actor::agent(me, None, "sealdesk demo");

    // Live now: a saved draft, a snoozed ticket.
    desk.save_draft(
        &user,
        ticket("demo8@mail.example"),
        MessageKind::Outbound,
        "Hej Emma,\n\nsorry for the mix-up! A pair in size 40 is on its way; ",
        &Parties::default(),
    )?;
    desk.snooze(
        &Actor::agent("bob", None, "sealdesk demo"),
        ticket("demo11@mail.example"),
        "2d",
    )?;

    // Privacy: an erasure request near its deadline, a completed access request, and
    // a consent given and withdrawn.
    let camille = desk.find_customer(&system, "camille@exemple.fr")?;
    let camille_at = all
        .iter()
        .find(|(f, _)| f.key == "demo4@mail.example")
        .map_or(now, |(f, _)| f.at);
    desk.record_past_request(
        &admin,
        &camille,
        &PastRequest {
            kind: RequestKind::Erasure,
            ticket: Some(ticket("demo4@mail.example")),
            received: Timestamp(camille_at.0 + 2 * HOUR),
            completed: None,
        },
    )?;
    let ahmed = desk.find_customer(&system, "ahmed@example.eg")?;
    let ahmed_at = all
        .iter()
        .find(|(f, _)| f.key == "demo9@mail.example")
        .map_or(now, |(f, _)| f.at);
    desk.record_past_request(
        &admin,
        &ahmed,
        &PastRequest {
            kind: RequestKind::Access,
            ticket: Some(ticket("demo9@mail.example")),
            received: Timestamp(ahmed_at.0 + 5 * MINUTE),
            completed: Some((
                Timestamp(ahmed_at.0 + 6 * DAY),
                "export sent to the verified address",
            )),
        },
    )?;
    let meiling = desk.find_customer(&system, "meiling@example.tw")?;
    let consent = |state| NewConsent {
        purpose: "040",
        state,
        categories: &[],
        method: "email",
        evidence: "Message-ID <demo10@mail.example>",
        policy_version: "2026-01",
        guardian: None,
    };
    desk.record_consent(&system, &meiling, consent(ConsentState::Given))?;
    desk.record_consent(&system, &meiling, consent(ConsentState::Withdrawn))?;
    Ok(numbers.len())
}
