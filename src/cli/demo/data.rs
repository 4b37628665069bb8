//! Demo data: a desk that looks lived-in, for `sealdesk demo`. Tickets arrive as real
//! mail through the same path as production mail (parsing, threading), in several
//! languages, with replies, notes, consents and a privacy request.

use sealdesk_desk::{Actor, Desk, Incoming, NewConsent};
use sealdesk_model::{ConsentState, Priority, RequestKind, Status, TicketNo};

/// Tickets the demo desk starts with.
pub(super) const MAIL_COUNT: usize = 12 + 30;

struct DemoMail {
    name: &'static str,
    email: &'static str,
    subject: &'static str,
    body: &'static str,
}

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

/// Fills a fresh desk; returns how many tickets it holds.
pub(super) fn populate(desk: &Desk) -> anyhow::Result<usize> {
    let system = Actor {
        name: "demo".into(),
        key_fingerprint: None,
        source: "sealdesk demo".into(),
        kind: sealdesk_desk::ActorKind::System,
    };
    let mut n = 0;
    let mut send = |name: &str,
                    email: &str,
                    subject: &str,
                    body: &str,
                    id: String,
                    reply_to: Option<&str>|
     -> anyhow::Result<()> {
        let mut raw = format!(
            "From: {name} <{email}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Sun, 22 Nov 2026 09:{:02}:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
            n % 60
        );
        if let Some(r) = reply_to {
            raw.push_str(&format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"));
        }
        raw.push_str("\r\n");
        raw.push_str(&body.replace('\n', "\r\n"));
        raw.push_str("\r\n");
        desk.receive_mail(Incoming {
            raw: raw.as_bytes(),
            envelope_from: Some(email),
            source: "demo",
        })?;
        n += 1;
        Ok(())
    };
    for (i, m) in MAILS.iter().enumerate() {
        send(
            m.name,
            m.email,
            m.subject,
            m.body,
            format!("demo{i}@mail.example"),
            None,
        )?;
    }
    let people = [
        "ann.lee@example.com",
        "olivia@example.co.uk",
        "piotr@przyklad.pl",
        "emma@exempel.se",
        "lucas@exemplo.com.br",
    ];
    for i in 0..30 {
        let (subject, body) = TOPICS[i % TOPICS.len()];
        let order = (40_000 + i * 37).to_string();
        let who = people[i % people.len()];
        let name = who.split('@').next().unwrap_or("customer");
        send(
            name,
            who,
            &subject.replace("{n}", &order),
            &body.replace("{n}", &order),
            format!("topic{i}@mail.example"),
            None,
        )?;
    }
    // A customer follow-up that threads by In-Reply-To.
    send(
        "Ann Lee",
        "ann.lee@example.com",
        "Re: Printer on fire",
        "Update: it stopped smoking after we unplugged it. Still want a repair.",
        "demo-follow@mail.example".into(),
        Some("demo0@mail.example"),
    )?;

    let agent = Actor::agent("alice", None, "sealdesk demo");
    let t = |k: u64| TicketNo(k);
    desk.add_reply(&agent, t(1), "Hi Ann,\n\nplease keep it unplugged; we will send a technician tomorrow between 9 and 12.\n\nAlice")?;
    desk.add_note(
        &agent,
        t(1),
        "Warranty valid until 2027-03. Technician booked.",
    )?;
    desk.set_status(&agent, t(1), Status::Pending)?;
    desk.set_priority(&agent, t(1), Priority::Urgent)?;
    desk.set_tags(&agent, t(1), &["hardware".into(), "warranty".into()])?;
    desk.set_priority(&agent, t(2), Priority::High)?;
    desk.set_tags(&agent, t(2), &["billing".into()])?;
    desk.set_status(&agent, t(4), Status::Solved)?;
    desk.add_reply(
        &agent,
        t(4),
        "Hola María, hemos cambiado la dirección. ¡Buena mudanza!",
    )?;
    desk.set_status(&agent, t(8), Status::Closed)?;
    desk.set_tags(&agent, t(7), &["billing".into()])?;

    if let Ok(camille) = desk.find_customer(&system, "camille@exemple.fr") {
        desk.open_request(&system, &camille, RequestKind::Erasure, Some(t(5)))?;
    }
    if let Ok(ahmed) = desk.find_customer(&system, "ahmed@example.eg") {
        desk.open_request(&system, &ahmed, RequestKind::Access, Some(t(10)))?;
    }
    if let Ok(meiling) = desk.find_customer(&system, "meiling@example.tw") {
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
    }
    Ok(n)
}
