//! Arriving mail: parsed, checked, threaded and filed, or quarantined with the reason.
//! Nothing that arrives is dropped; a message is acknowledged (250, exit 0) only after
//! this returns, and everything it wrote is flushed by then.

use super::{Actor, Change, Desk, DeskError, Result};
use crate::mail::parse::{self, ParsedMail};
use crate::model::{
    Attachment, AttachmentId, Author, Customer, Delivery, Message, MessageKind, OutboxEntry,
    QuarantineId, QuarantineItem, Status, Ticket, TicketNo, Timestamp,
};
use std::collections::{HashMap, VecDeque};

/// One message as it arrived.
pub struct Incoming<'a> {
    pub raw: &'a [u8],
    /// The SMTP envelope sender, if there was one (`<>` for bounces).
    pub envelope_from: Option<&'a str>,
    /// `smtp 203.0.113.5:4711`, `ingest` …
    pub source: &'a str,
}

/// Where a message ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    NewTicket(TicketNo),
    Appended(TicketNo),
    /// The same Message-ID from the same sender was filed before; stored once.
    Duplicate(TicketNo),
    /// A delivery failure report, attached to the ticket whose reply bounced.
    BounceNoted(TicketNo),
    Quarantined(QuarantineId, String),
}

impl std::fmt::Display for Filed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filed::NewTicket(n) => write!(f, "filed as new ticket {n}"),
            Filed::Appended(n) => write!(f, "filed into ticket {n}"),
            Filed::Duplicate(n) => write!(
                f,
                "already filed in ticket {n} (same Message-ID from the same sender)"
            ),
            Filed::BounceNoted(n) => write!(f, "delivery failure noted on ticket {n}"),
            Filed::Quarantined(id, reason) => {
                write!(f, "quarantined as {id}: {}", crate::sanitize::line(reason))
            }
        }
    }
}

/// Per-sender sliding window of arrival times.
#[derive(Default)]
pub(super) struct SenderLimiter {
    seen: HashMap<[u8; 32], VecDeque<i64>>,
}

impl SenderLimiter {
    /// Records one arrival; false if the sender is over `per_hour`.
    fn admit(&mut self, sender: [u8; 32], now: i64, per_hour: u32) -> bool {
        if self.seen.len() > 100_000 {
            self.seen
                .retain(|_, q| q.back().is_some_and(|t| now - t < 3600));
        }
        let q = self.seen.entry(sender).or_default();
        while q.front().is_some_and(|t| now - t >= 3600) {
            q.pop_front();
        }
        if q.len() as u32 >= per_hour {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// What "system" actions look like in the audit log.
fn system_actor(source: &str) -> Actor {
    Actor {
        name: "system".into(),
        key_fingerprint: None,
        source: crate::sanitize::line(source).into_owned(),
    }
}

impl Desk {
    /// Files one arriving message. Errors mean nothing was stored (the caller answers
    /// 451 / exits 75 so the sender retries).
    pub fn receive_mail(&self, incoming: Incoming<'_>) -> Result<Filed> {
        self.file_mail(incoming, true)
    }

    fn file_mail(&self, incoming: Incoming<'_>, apply_rules: bool) -> Result<Filed> {
        let _op = self.store.op();
        let config = self.config().mail;
        if apply_rules && incoming.raw.len() > config.max_size {
            let reason = format!(
                "over the size limit ({} bytes > mail.max_size {})",
                incoming.raw.len(),
                config.max_size
            );
            return self.quarantine_mail(&incoming, reason);
        }
        let mail = match parse::parse(incoming.raw) {
            Ok(m) => m,
            Err(e) => return self.quarantine_mail(&incoming, format!("cannot be filed: {e}")),
        };
        if apply_rules {
            if let Some(own) = config.from_address() {
                if mail.from == own || mail.noise.x_loop.iter().any(|l| l.contains(&own)) {
                    return self.quarantine_mail(
                        &incoming,
                        "a loop: this is the desk's own mail coming back".into(),
                    );
                }
            }
            let now = Timestamp::now().0;
            let key = self.store.email_key(&mail.from);
            if !self.senders.lock().admit(key, now, config.rate_limit) {
                let reason = format!("rate limit: more than {} messages in an hour from this sender (mail.rate_limit)", config.rate_limit);
                return self.quarantine_mail(&incoming, reason);
            }
        }
        if let Some(id) = &mail.message_id {
            if let Some((ticket, _)) = self.store.seen_mail(&mail.from, id)? {
                return Ok(Filed::Duplicate(ticket));
            }
        }
        if let Some(bounce) = &mail.bounce {
            return self.note_bounce(&incoming, &mail, bounce);
        }
        self.file_parsed(&incoming, &mail, &config)
    }

    fn file_parsed(
        &self,
        incoming: &Incoming<'_>,
        mail: &ParsedMail,
        config: &crate::config::MailConfig,
    ) -> Result<Filed> {
        let actor = system_actor(incoming.source);
        let customer = self.find_or_create_customer(&mail.from, &mail.from_name)?;
        let existing = self.thread_target(mail, &customer)?;
        let now = Timestamp::now();
        let (mut ticket, is_new) = match existing {
            Some(t) => (t, false),
            None => {
                let subject = match parse::base_subject(&mail.subject) {
                    s if s.is_empty() => "(no subject)".to_string(),
                    s => s,
                };
                let ticket =
                    Ticket::new(self.store.next_ticket_number()?, subject, customer.id, now);
                (ticket, true)
            }
        };
        if !is_new && matches!(ticket.status, Status::Pending | Status::Solved) {
            ticket.status = Status::Open;
        }
        ticket.updated = now;
        self.store.put_ticket(&ticket)?;

        let mut attachments = Vec::new();
        for a in &mail.attachments {
            let id = AttachmentId::random();
            self.store.put_attachment(&customer.id, &id, &a.bytes)?;
            attachments.push(Attachment {
                id,
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.bytes.len() as u64,
            });
        }
        let mut message = Message {
            ticket: ticket.number,
            seq: 0,
            kind: MessageKind::Inbound,
            author: Author::Customer {
                id: customer.id,
                address: mail.from.clone(),
                name: mail.from_name.clone(),
            },
            at: now,
            text: mail.text.clone(),
            message_id: mail.message_id.clone(),
            in_reply_to: mail.in_reply_to.first().cloned(),
            references: mail.references.clone(),
            attachments,
            delivery: None,
        };
        // Sealed with the author's key: their words are their personal data.
        let seq = self.store.append_message(&customer.id, &mut message)?;
        self.store
            .put_raw_mail(&customer.id, ticket.number, seq, incoming.raw)?;
        if let Some(id) = &mail.message_id {
            self.store.index_message_id(id, ticket.number)?;
            self.store
                .mark_mail_seen(&mail.from, id, (ticket.number, seq))?;
        }
        let action = if is_new {
            "mail.new-ticket"
        } else {
            "mail.reply"
        };
        self.audit(
            &actor,
            action,
            vec![ticket.number.to_string()],
            Some(&customer.id),
        )?;
        if is_new && !mail.noise.is_automatic() {
            if let (Some(template), Some(_)) = (&config.ack_template, &config.from) {
                self.queue_acknowledgement(&ticket, template, &mail.message_id)?;
            }
        }
        self.store.flush()?;
        self.refresh_queue_row(ticket.number)?;
        self.announce(Change::Ticket(ticket.number));
        Ok(if is_new {
            Filed::NewTicket(ticket.number)
        } else {
            Filed::Appended(ticket.number)
        })
    }

    /// Which existing ticket a message belongs to: by In-Reply-To / References against
    /// every Message-ID the desk received or sent; else by a `[#N]` subject tag, but only
    /// when the sender already takes part in that ticket (anyone can type `[#N]`). A
    /// reply to a closed ticket opens a new one.
    fn thread_target(&self, mail: &ParsedMail, sender: &Customer) -> Result<Option<Ticket>> {
        let ids = mail.in_reply_to.iter().chain(mail.references.iter().rev());
        for id in ids {
            if let Some(n) = self.store.ticket_for_message_id(id)? {
                if let Some(t) = self.store.ticket(n)? {
                    return Ok((t.status != Status::Closed).then_some(t));
                }
            }
        }
        if let Some(n) = parse::ticket_tag(&mail.subject) {
            if let Some(t) = self.store.ticket(TicketNo(n))? {
                if t.status != Status::Closed && self.is_participant(&t, sender)? {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }

    /// The ticket's customer, or anyone who has written on it.
    fn is_participant(&self, ticket: &Ticket, who: &Customer) -> Result<bool> {
        if ticket.customer == who.id {
            return Ok(true);
        }
        Ok(self
            .store
            .messages(ticket.number)?
            .into_iter()
            .flatten()
            .any(|m| match m.author {
                Author::Customer { id, .. } => id == who.id,
                _ => false,
            }))
    }

    fn note_bounce(
        &self,
        incoming: &Incoming<'_>,
        mail: &ParsedMail,
        bounce: &parse::Bounce,
    ) -> Result<Filed> {
        let mut target = None;
        for id in &bounce.original_ids {
            if let Some(n) = self.store.ticket_for_message_id(id)? {
                target = Some((n, id.clone()));
                break;
            }
        }
        let Some((number, bounced_id)) = target else {
            return self.quarantine_mail(
                incoming,
                "a delivery failure report for a message this desk did not send".into(),
            );
        };
        let ticket = self
            .store
            .ticket(number)?
            .ok_or_else(|| DeskError::NotFound(format!("ticket {number}")))?;
        let now = Timestamp::now();
        // Mark the reply that bounced.
        for m in self.store.messages(number)?.into_iter().flatten() {
            if m.kind == MessageKind::Outbound
                && m.message_id.as_deref() == Some(bounced_id.as_str())
            {
                let mut failed = m.clone();
                failed.delivery = Some(Delivery::Failed {
                    at: now,
                    reason: format!("bounced: {}", bounce.diagnostic),
                });
                self.store.put_message(&ticket.customer, &failed)?;
            }
        }
        let mut note = Message {
            ticket: number,
            seq: 0,
            kind: MessageKind::Note,
            author: Author::System,
            at: now,
            text: format!(
                "Delivery failed (report from {}):\n{}",
                mail.from, bounce.diagnostic
            ),
            message_id: mail.message_id.clone(),
            in_reply_to: None,
            references: Vec::new(),
            attachments: Vec::new(),
            delivery: None,
        };
        let seq = self.store.append_message(&ticket.customer, &mut note)?;
        if let Some(id) = &mail.message_id {
            self.store.mark_mail_seen(&mail.from, id, (number, seq))?;
        }
        self.audit(
            &system_actor(incoming.source),
            "mail.bounce",
            vec![number.to_string()],
            Some(&ticket.customer),
        )?;
        self.store.flush()?;
        self.refresh_queue_row(number)?;
        self.announce(Change::Ticket(number));
        Ok(Filed::BounceNoted(number))
    }

    fn quarantine_mail(&self, incoming: &Incoming<'_>, reason: String) -> Result<Filed> {
        let item = QuarantineItem {
            id: QuarantineId::random(),
            received: Timestamp::now(),
            reason: reason.clone(),
            source: incoming.source.to_string(),
            envelope_from: incoming.envelope_from.unwrap_or("").to_string(),
            raw: incoming.raw.to_vec(),
        };
        self.store.put_quarantine(&item)?;
        self.audit(
            &system_actor(incoming.source),
            "mail.quarantine",
            vec![item.id.to_string()],
            None,
        )?;
        self.store.flush()?;
        Ok(Filed::Quarantined(item.id, reason))
    }

    /// An automatic acknowledgement for a new ticket, queued like a reply.
    fn queue_acknowledgement(
        &self,
        ticket: &Ticket,
        template: &str,
        in_reply_to: &Option<String>,
    ) -> Result<()> {
        let text = template
            .replace("{ticket}", &ticket.number.to_string())
            .replace("{subject}", &ticket.subject);
        let mut message = Message {
            ticket: ticket.number,
            seq: 0,
            kind: MessageKind::Outbound,
            author: Author::System,
            at: Timestamp::now(),
            text,
            message_id: Some(crate::mail::new_message_id(
                &self.config().mail.message_id_domain(),
            )),
            in_reply_to: in_reply_to.clone(),
            references: in_reply_to.iter().cloned().collect(),
            attachments: Vec::new(),
            delivery: Some(Delivery::Queued {
                since: Timestamp::now(),
            }),
        };
        let seq = self.store.append_message(&ticket.customer, &mut message)?;
        if let Some(id) = &message.message_id {
            self.store.index_message_id(id, ticket.number)?;
        }
        self.store.put_outbox(&OutboxEntry {
            ticket: ticket.number,
            seq,
            attempts: 0,
            next_attempt: Timestamp::now(),
            last_error: None,
            automatic: true,
            composed: None,
        })?;
        Ok(())
    }

    // ---- quarantine administration ----

    pub fn quarantine(&self) -> Result<Vec<QuarantineItem>> {
        Ok(self.store.quarantine()?)
    }

    pub fn quarantine_item(&self, actor: &Actor, id: &QuarantineId) -> Result<QuarantineItem> {
        let item = self.store.quarantine_item(id)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "nothing in quarantine with id {id}: see `sealdesk quarantine list`"
            ))
        })?;
        self.audit(actor, "quarantine.view", vec![id.to_string()], None)?;
        self.store.flush()?;
        Ok(item)
    }

    /// Files a quarantined message after all, skipping the size, loop and rate rules.
    pub fn release_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<Filed> {
        let _op = self.store.op();
        let item = self.quarantine_item(actor, id)?;
        let filed = self.file_mail(
            Incoming {
                raw: &item.raw,
                envelope_from: Some(&item.envelope_from),
                source: &item.source,
            },
            false,
        )?;
        if let Filed::Quarantined(copy, reason) = &filed {
            // Still not fileable: keep the original, drop the new copy.
            self.store.remove_quarantine(copy)?;
            return Err(DeskError::Invalid(format!(
                "{id} still cannot be filed ({reason}): inspect it with `sealdesk quarantine show {id} --raw`, or delete it"
            )));
        }
        self.store.remove_quarantine(id)?;
        self.audit(actor, "quarantine.release", vec![id.to_string()], None)?;
        self.store.flush()?;
        Ok(filed)
    }

    pub fn delete_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<()> {
        let _op = self.store.op();
        if !self.store.remove_quarantine(id)? {
            return Err(DeskError::NotFound(format!(
                "nothing in quarantine with id {id}: see `sealdesk quarantine list`"
            )));
        }
        self.audit(actor, "quarantine.delete", vec![id.to_string()], None)?;
        self.store.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_slides() {
        let mut l = SenderLimiter::default();
        let k = [1; 32];
        assert!(l.admit(k, 0, 2));
        assert!(l.admit(k, 10, 2));
        assert!(!l.admit(k, 20, 2));
        assert!(l.admit(k, 3_601, 2), "the first arrival left the window");
        assert!(l.admit([2; 32], 20, 2), "other senders are independent");
    }
}
