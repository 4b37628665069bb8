//! Mail to the person behind a privacy request: the one-time code, and written notices
//! of an extension, a denial and the completion. Templated per locale (the customer's
//! `locale`, else English), sent as composed mail (quoting nothing), and recorded in the
//! request's own thread as an outbound message — the code masked there: only its hash
//! is kept anywhere ([`sealdesk_model::PrivacyRequest::pending_code`]).
//!
//! A request without a ticket gets a new ticket of its own on its first mail, never the
//! customer's newest unrelated one. A reply on that thread that contains the code
//! verifies the request ([`Desk::take_emailed_code`]); the message is stored with the
//! code masked.

use super::write::Unit;
use super::{DeskError, Result};
use sealdesk_model::{
    Author, ComposedMail, Customer, CustomerId, Message, OutboxEntry, PrivacyRequest,
    RequestStatus, Ticket, TicketNo, Timestamp, Verification,
};

/// What stands in the thread (and in stored mail) where a code was.
pub const CODE_MASK: &str = "[code hidden]";

/// Which mail about a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RequestMail {
    Code,
    Extended,
    Denied,
    Completed,
}

/// (subject, body) per locale; `{kind}`, `{request}`, `{due}`, `{reason}`, `{code}` are
/// filled in. The first language is the fallback.
#[rustfmt::skip]
const TEMPLATES: &[(&str, RequestMail, &str, &str)] = &[
    ("en", RequestMail::Code, "Your privacy request: confirmation code",
     "To confirm that this privacy request ({kind}, {request}) comes from you, reply to this message with this code, or give it to our agent:\n\n    {code}\n\nThe code is valid for 24 hours. If you did not ask for this, ignore this message.\n"),
    ("en", RequestMail::Extended, "Your privacy request: we need more time",
     "We need more time to answer your privacy request ({kind}, {request}). The new due date is {due}.\n\nThe reason: {reason}\n"),
    ("en", RequestMail::Denied, "Your privacy request was refused",
     "We cannot carry out your privacy request ({kind}, {request}).\n\nThe reason: {reason}\n\nYou may complain to the data protection authority.\n"),
    ("en", RequestMail::Completed, "Your privacy request is done",
     "We have carried out your privacy request ({kind}, {request}).\n{reason}\n"),
    ("de", RequestMail::Code, "Ihre Datenschutzanfrage: Bestätigungscode",
     "Um zu bestätigen, dass diese Datenschutzanfrage ({kind}, {request}) von Ihnen stammt, antworten Sie auf diese Nachricht mit diesem Code oder nennen Sie ihn unserem Mitarbeiter:\n\n    {code}\n\nDer Code gilt 24 Stunden. Wenn Sie nichts angefragt haben, ignorieren Sie diese Nachricht.\n"),
    ("de", RequestMail::Extended, "Ihre Datenschutzanfrage: wir brauchen mehr Zeit",
     "Für die Antwort auf Ihre Datenschutzanfrage ({kind}, {request}) brauchen wir mehr Zeit. Die neue Frist ist der {due}.\n\nDer Grund: {reason}\n"),
    ("de", RequestMail::Denied, "Ihre Datenschutzanfrage wurde abgelehnt",
     "Wir können Ihre Datenschutzanfrage ({kind}, {request}) nicht ausführen.\n\nDer Grund: {reason}\n\nSie können sich bei der Datenschutzbehörde beschweren.\n"),
    ("de", RequestMail::Completed, "Ihre Datenschutzanfrage ist erledigt",
     "Wir haben Ihre Datenschutzanfrage ({kind}, {request}) ausgeführt.\n{reason}\n"),
    ("zh", RequestMail::Code, "您的個資請求：確認碼",
     "為確認此個資請求（{kind}，{request}）由您本人提出，請以此確認碼回覆本信，或告知我們的客服人員：\n\n    {code}\n\n確認碼 24 小時內有效。若您未提出請求，請忽略本信。\n"),
    ("zh", RequestMail::Extended, "您的個資請求：需要延長處理時間",
     "我們需要更多時間處理您的個資請求（{kind}，{request}）。新的期限為 {due}。\n\n原因：{reason}\n"),
    ("zh", RequestMail::Denied, "您的個資請求未獲同意",
     "我們無法執行您的個資請求（{kind}，{request}）。\n\n原因：{reason}\n\n您可向個資保護主管機關申訴。\n"),
    ("zh", RequestMail::Completed, "您的個資請求已完成",
     "我們已執行您的個資請求（{kind}，{request}）。\n{reason}\n"),
];

/// The template for `mail` in the customer's language (`de-AT` → `de`), else English.
pub(super) fn template(mail: RequestMail, locale: Option<&str>) -> (&'static str, &'static str) {
    let lang = locale
        .and_then(|l| l.split(['-', '_']).next())
        .map(str::to_lowercase)
        .unwrap_or_default();
    let pick = |l: &str| {
        TEMPLATES
            .iter()
            .find(|(tl, m, _, _)| *tl == l && *m == mail)
            .map(|(_, _, s, b)| (*s, *b))
    };
    pick(&lang)
        .or_else(|| pick("en"))
        .expect("every mail has an English template")
}

/// Fills a template's placeholders.
pub(super) fn render(text: &str, r: &PrivacyRequest, reason: &str, code: &str) -> String {
    text.replace("{kind}", r.kind.as_str())
        .replace("{request}", &r.id.to_string())
        .replace("{due}", &r.due.rfc3339()[..10])
        .replace("{reason}", reason.trim())
        .replace("{code}", code)
}

/// Queues `mail` to the requester, inside the request's unit (which holds the
/// customer): composed whole (quoting nothing) in the outbox until sent, and recorded
/// in the request's thread as an outbound message — with `{code}` masked there. A
/// request without a ticket gets a new one first (`r.ticket` is set).
pub(super) fn stage_request_mail(
    u: &mut Unit<'_>,
    r: &mut PrivacyRequest,
    mail: RequestMail,
    reason: &str,
    code: &str,
    domain: &str,
) -> Result<()> {
    let customer: Customer = u.tx.store().customer(&r.customer)?.ok_or_else(|| {
        DeskError::NotFound("the customer's data is gone (erased): nobody to write to".into())
    })?;
    let (subject, body) = template(mail, customer.locale.as_deref());
    let now = Timestamp::now();
    let ticket = match r.ticket {
        Some(n) => super::triage::load_ticket(u, n)?,
        None => {
            let t = Ticket::new(
                u.tx.next_ticket_number(),
                format!("{subject} ({})", r.kind),
                customer.id,
                now,
            );
            u.tx.put_ticket(&t)?;
            r.ticket = Some(t.number);
            t
        }
    };
    let message_id = sealdesk_mail::new_message_id(domain);
    let mut message = Message::outbound(
        ticket.number,
        Author::Agent {
            name: u.actor_name().to_string(),
        },
        render(body, r, reason, CODE_MASK),
        now,
        message_id.clone(),
    );
    // Sealed like every agent message on the thread: with the ticket's customer's key.
    let seq = u.tx.append_message(&ticket.customer, &mut message)?;
    u.tx.index_message_id(&message_id, ticket.number)?;
    u.tx.put_outbox(&OutboxEntry::new(
        ticket.number,
        seq,
        now,
        true,
        Some(ComposedMail {
            to: customer.primary_email().to_string(),
            subject: format!("[#{}] {subject}", ticket.number.0),
            message_id,
            body: render(body, r, reason, code),
            attachment: None,
        }),
    ))?;
    u.audit(
        "request.notice",
        vec![
            r.id.to_string(),
            format!("mail={mail:?}").to_lowercase(),
            format!("ticket={}", ticket.number),
        ],
        Some(&customer.id),
    );
    u.touch(ticket.number);
    Ok(())
}

/// Drops the mail composed for a customer that is still waiting in the outbox (inside
/// an erasure's unit): request mail on their tickets (the address, maybe a code) and a
/// mailed export (its archive is theirs), so none goes out to someone erased or outlives
/// them. The erasure's own confirmation (no attachment, staged in the same unit) stays.
pub(super) fn drop_unsent_mail_of(
    u: &mut Unit<'_>,
    customer: &CustomerId,
    tickets: &[TicketNo],
) -> Result<()> {
    for e in u.tx.store().outbox()? {
        let Some(composed) = &e.composed else {
            continue;
        };
        let their_attachment = composed
            .attachment
            .as_ref()
            .filter(|a| a.owner == *customer);
        if tickets.contains(&e.ticket) || their_attachment.is_some() {
            if let Some(a) = their_attachment {
                u.tx.remove_attachment(&a.id);
            }
            u.tx.remove_outbox(e.ticket, e.seq);
        }
    }
    Ok(())
}

/// Candidate codes in a text: every run of exactly six ASCII digits.
fn six_digit_runs(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                out.push(&text[start..i]);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// What filing an inbound message on a request's thread found: the text and raw mail
/// to store (the code masked), and whether the raw mail may be stored at all.
pub(super) struct Masked {
    pub text: String,
    /// `None`: the code could not be masked in the raw mail (an encoded body), so the
    /// original is not kept.
    pub raw: Option<Vec<u8>>,
}

impl super::Desk {
    /// For an inbound message from `customer` on `ticket`: if it contains the
    /// outstanding code of one of the unverified requests on that thread, masks the code
    /// and, when `customer` is the requester, verifies the request (audited as verified
    /// by emailed code). The unit must hold the customer. `None`: no code in it, store as it came.
    pub(super) fn take_emailed_code(
        &self,
        u: &mut Unit<'_>,
        ticket: TicketNo,
        customer: &Customer,
        text: &str,
        raw: &[u8],
    ) -> Result<Option<Masked>> {
        let candidates = six_digit_runs(text);
        if candidates.is_empty() {
            return Ok(None);
        }
        let now = Timestamp::now();
        let pending: Vec<PrivacyRequest> =
            u.tx.store()
                .requests()?
                .into_iter()
                .filter(|r| {
                    r.ticket == Some(ticket)
                        && r.status == RequestStatus::Unverified
                        && r.pending_code.is_some()
                })
                .collect();
        for mut r in pending {
            let Some((hash, sent)) = r.pending_code else {
                continue;
            };
            if now.0 - sent.0 > super::requests::CODE_VALID_SECS {
                continue;
            }
            let Some(code) = candidates
                .iter()
                .find(|c| super::requests::hash_code(&r.id, c) == hash)
            else {
                continue;
            };
            if r.customer == customer.id {
                r.status = RequestStatus::Verified;
                r.pending_code = None;
                r.verification = Some(Verification {
                    method: "emailed one-time code (replied by mail)".into(),
                    by: "system".into(),
                    at: now,
                });
                u.tx.put_request(&r)?;
                u.audit(
                    "request.verify",
                    vec![r.id.to_string(), "method=emailed-code".into()],
                    Some(&customer.id),
                );
            } else {
                // Someone else has the code: it proves nothing, and is masked all the same.
                u.audit(
                    "request.code-from-another-address",
                    vec![r.id.to_string()],
                    Some(&r.customer),
                );
            }
            let masked_text = text.replace(code, CODE_MASK);
            let masked_raw = replace_bytes(raw, code.as_bytes(), CODE_MASK.as_bytes());
            // A body in base64 (or anything else) that still shows the code once
            // parsed: the original is not kept.
            let raw_ok = sealdesk_mail::parse::parse(&masked_raw)
                .map(|m| !m.text.contains(code))
                .unwrap_or(false);
            u.after_commit(|desk| {
                desk.requests_changed();
                Ok(())
            });
            return Ok(Some(Masked {
                text: masked_text,
                raw: raw_ok.then_some(masked_raw),
            }));
        }
        Ok(None)
    }
}

fn replace_bytes(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_six_digit_runs_only() {
        assert_eq!(
            six_digit_runs("code 123456, not 1234567 or 12345; 654321."),
            ["123456", "654321"]
        );
    }

    #[test]
    fn every_mail_has_a_template_in_every_language() {
        for lang in ["en", "de", "zh"] {
            for mail in [
                RequestMail::Code,
                RequestMail::Extended,
                RequestMail::Denied,
                RequestMail::Completed,
            ] {
                assert!(TEMPLATES
                    .iter()
                    .any(|(l, m, _, _)| *l == lang && *m == mail));
            }
        }
        assert_eq!(
            template(RequestMail::Denied, Some("de-AT")).0,
            "Ihre Datenschutzanfrage wurde abgelehnt"
        );
        assert_eq!(
            template(RequestMail::Denied, Some("fr")).0,
            "Your privacy request was refused"
        );
    }
}
