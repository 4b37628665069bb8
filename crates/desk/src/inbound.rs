//! Arriving mail: parsed, checked, threaded and filed, or quarantined with the reason.
//! Nothing that arrives is dropped; a message is acknowledged (250, exit 0) only after
//! this returns, and everything it wrote is flushed by then.

use super::notify::{Event, Why};
use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_mail::parse::{self, ParsedMail};
use sealdesk_model::{
    Attachment, AttachmentId, Author, Customer, Delivery, Message, MessageKind, OutboxEntry,
    QuarantineId, QuarantineItem, Status, Ticket, TicketNo, Timestamp,
};
use std::collections::{HashMap, VecDeque};

pub use sealdesk_api::Filed;

/// One message as it arrived.
pub struct Incoming<'a> {
    pub raw: &'a [u8],
    /// The SMTP envelope sender, if there was one (`<>` for bounces).
    pub envelope_from: Option<&'a str>,
    /// `smtp 203.0.113.5:4711`, `ingest` …
    pub source: &'a str,
}

/// How a message is filed beyond the live defaults (imports, `ingest --keep-date`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Filing {
    /// The message's own time (its Date:, see [`message_time`]) for the message and a
    /// new ticket, instead of now.
    pub at: Option<Timestamp>,
    /// `ingest --keep-date`: `at` is read from the Date: header once parsed.
    pub keep_date: bool,
    /// An import: the status of the tickets it creates (else new, as live mail).
    pub status: Option<Status>,
    /// An import of old mail: a reply joins its thread even when that ticket is
    /// closed (it is history, not a new request), and an imported ticket whose SLA
    /// due time passed long ago is marked as told (no breach notice for old mail).
    pub import: bool,
}

/// Where a message's time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DateFrom {
    /// Its Date: header.
    Header,
    /// The mailbox's own record (an mbox `From ` line, a Maildir file name).
    Mailbox,
    /// Neither was usable: the time of filing.
    Now,
}

/// A message's time: its Date: header, else the mailbox's date, else now. A date more
/// than a day ahead of now is garbled (a wrong clock) and not used.
pub fn message_time(
    header: Option<Timestamp>,
    mailbox: Option<Timestamp>,
) -> (Timestamp, DateFrom) {
    let now = Timestamp::now();
    let usable = |t: &Timestamp| t.0 > 0 && t.0 <= now.0 + 86_400;
    match (header.filter(usable), mailbox.filter(usable)) {
        (Some(t), _) => (t, DateFrom::Header),
        (None, Some(t)) => (t, DateFrom::Mailbox),
        (None, None) => (now, DateFrom::Now),
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

impl Desk {
    /// Files one arriving message. Errors mean nothing was stored (the caller answers
    /// 451 / exits 75 so the sender retries).
    pub fn receive_mail(&self, incoming: Incoming<'_>) -> Result<Filed> {
        self.receive_mail_to(incoming, &[])
    }

    /// Like [`Desk::receive_mail`], with the envelope recipients (RCPT TO): a new
    /// ticket belongs to the first support address among them.
    pub fn receive_mail_to(&self, incoming: Incoming<'_>, envelope_to: &[String]) -> Result<Filed> {
        self.file_mail(incoming, true, envelope_to, Filing::default())
    }

    /// Like [`Desk::receive_mail_to`], keeping the message's Date: as its time (and a
    /// new ticket's): `sealdesk ingest --keep-date` for old mail.
    pub fn receive_mail_keeping_date(
        &self,
        incoming: Incoming<'_>,
        envelope_to: &[String],
    ) -> Result<Filed> {
        let filing = Filing {
            keep_date: true,
            ..Filing::default()
        };
        self.file_mail(incoming, true, envelope_to, filing)
    }

    fn file_mail(
        &self,
        incoming: Incoming<'_>,
        apply_rules: bool,
        envelope_to: &[String],
        mut filing: Filing,
    ) -> Result<Filed> {
        // Refused before the rules see it: a sender retrying while the disk is full
        // must not run into the rate limit.
        self.ensure_writable()?;
        let actor = Actor::system(incoming.source);
        let mail = match self.check_mail(&incoming, apply_rules) {
            Ok(mail) => mail,
            Err(reason) => {
                let sender = self.quarantine_owner(&incoming);
                let holds: Vec<Hold> = sender
                    .iter()
                    .map(|(address, _)| Hold::Address(self.store.email_key(address)))
                    .collect();
                return self.write(&actor, &holds, |u| {
                    let owner = match &sender {
                        Some((address, name)) => {
                            Some(super::tickets::find_or_create_customer(u, address, name)?.id)
                        }
                        None => None,
                    };
                    quarantine_mail(u, &incoming, reason.to_string(), owner.as_ref())
                });
            }
        };
        if filing.keep_date {
            filing.at = Some(message_time(mail.date, None).0);
        }
        let holds = self.holds_for(&mail)?;
        self.write(&actor, &holds, |u| {
            self.file_checked(u, &incoming, &mail, envelope_to, &filing)
        })
    }

    /// Parses a message and applies the rules that quarantine it (size, loop, rate);
    /// `Err` is the reason to quarantine it.
    pub(super) fn check_mail(
        &self,
        incoming: &Incoming<'_>,
        apply_rules: bool,
    ) -> std::result::Result<ParsedMail, Unfileable> {
        let config = self.config().mail;
        if apply_rules && incoming.raw.len() > config.max_size {
            return Err(Unfileable::TooBig {
                size: incoming.raw.len(),
                max: config.max_size,
            });
        }
        let mail =
            parse::parse(incoming.raw).map_err(|e| Unfileable::Unparseable(e.to_string()))?;
        if apply_rules {
            if let Some(own) = config.sender_address() {
                if mail.from == own || mail.noise.x_loop.iter().any(|l| l.contains(&own)) {
                    return Err(Unfileable::Loop);
                }
            }
            if super::participants::is_our_own_mail(&config, &mail) {
                return Err(Unfileable::Loop);
            }
            let now = Timestamp::now().0;
            let key = self.store.email_key(&mail.from);
            if !self.senders.lock().admit(key, now, config.rate_limit) {
                return Err(Unfileable::RateLimited {
                    limit: config.rate_limit,
                });
            }
        }
        Ok(mail)
    }

    /// Whose quarantined mail this is: the From address if the message parses (else
    /// the envelope sender), unless it is a delivery report or the desk's own address.
    /// That customer's key seals it (their record is created if new), so erasing them
    /// reaches it; `None` keeps it master-sealed until retention deletes it.
    pub(super) fn quarantine_owner(&self, incoming: &Incoming<'_>) -> Option<(String, String)> {
        let own = self.config().mail.sender_address();
        let (address, name) = match parse::parse(incoming.raw) {
            Ok(mail) if mail.bounce.is_some() => return None,
            Ok(mail) => (mail.from, mail.from_name),
            Err(_) => (incoming.envelope_from?.to_string(), String::new()),
        };
        let address = sealdesk_model::normalize_email(&address);
        let usable = sealdesk_model::is_plausible_email(&address)
            && own.is_none_or(|own| sealdesk_model::normalize_email(&own) != address);
        usable.then_some((address, name))
    }

    /// What filing `mail` will hold: the sender's address, and every ticket it may
    /// thread into (looked up now, checked again once held).
    pub(super) fn holds_for(&self, mail: &ParsedMail) -> Result<Vec<Hold>> {
        let mut holds = vec![Hold::Address(self.store.email_key(&mail.from))];
        holds.extend(self.participant_holds(mail));
        let ids = mail.in_reply_to.iter().chain(mail.references.iter().rev());
        let bounced = mail.bounce.iter().flat_map(|b| b.original_ids.iter());
        let receipted = mail.receipt.iter().flat_map(|r| r.original_ids.iter());
        for id in ids.chain(bounced).chain(receipted).take(64) {
            if let Some(n) = self.store.ticket_for_message_id(id)? {
                holds.push(Hold::Ticket(n));
            }
        }
        if let Some(n) = parse::ticket_tag(&mail.subject) {
            holds.push(Hold::Ticket(TicketNo(n)));
        }
        Ok(holds)
    }

    /// Files a parsed message that passed the rules, inside its unit of work.
    pub(super) fn file_checked(
        &self,
        u: &mut Unit<'_>,
        incoming: &Incoming<'_>,
        mail: &ParsedMail,
        envelope_to: &[String],
        filing: &Filing,
    ) -> Result<Filed> {
        u.hold(Hold::Address(self.store.email_key(&mail.from)))?;
        if let Some(id) = &mail.message_id {
            if let Some((ticket, seq)) = self.store.seen_mail(&mail.from, id)? {
                if self.is_redelivery(ticket, seq, incoming.raw, mail)? {
                    return Ok(Filed::Duplicate(ticket));
                }
            }
        }
        if let Some(bounce) = &mail.bounce {
            return self.note_bounce(u, incoming, mail, bounce);
        }
        if let Some(receipt) = &mail.receipt {
            return self.note_receipt(u, incoming, mail, receipt);
        }
        self.file_parsed(u, incoming, mail, envelope_to, filing)
    }

    /// Whether a message whose sender and Message-ID were seen before (filed as `seq`
    /// of `ticket`) is that message again — an SMTP/LMTP retry, the same mail through a
    /// second route — rather than another message reusing the id (some mail programs
    /// and scripts send a fixed one). The same bytes, or the same From, Date and text,
    /// are the same message. When the first copy cannot be read back (a report noted
    /// without its mail, redacted, erased) it counts as the same, as before.
    fn is_redelivery(
        &self,
        ticket: TicketNo,
        seq: u32,
        raw: &[u8],
        mail: &ParsedMail,
    ) -> Result<bool> {
        let first = match self.store.raw_mail(ticket, seq) {
            Ok(Some(first)) => first,
            Ok(None) | Err(sealdesk_store::StoreError::Erased) => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        if first == raw {
            return Ok(true);
        }
        Ok(match parse::parse(&first) {
            Ok(before) => {
                before.from == mail.from && before.date == mail.date && before.text == mail.text
            }
            Err(_) => true,
        })
    }

    fn file_parsed(
        &self,
        u: &mut Unit<'_>,
        incoming: &Incoming<'_>,
        mail: &ParsedMail,
        envelope_to: &[String],
        filing: &Filing,
    ) -> Result<Filed> {
        let config = self.config().mail;
        // Threading first (it may ask for tickets not held yet, which runs the unit
        // again), and only then a new customer's key.
        let known = self.store.customer_by_email(&mail.from)?;
        let existing = self.thread_target(u, mail, known.as_ref(), filing)?;
        let customer = match known {
            Some(c) => c,
            None => super::tickets::find_or_create_customer(u, &mail.from, &mail.from_name)?,
        };
        let now = filing.at.unwrap_or_else(Timestamp::now);
        let (mut ticket, is_new) = match existing {
            Some(t) => (t, false),
            None => {
                let subject = match parse::base_subject(&mail.subject) {
                    s if s.is_empty() => "(no subject)".to_string(),
                    s => s,
                };
                let mut ticket = Ticket::new(u.tx.next_ticket_number(), subject, customer.id, now);
                let address = super::participants::ticket_address(&config, mail, envelope_to);
                self.start_on_address(&mut ticket, address.as_deref())?;
                (ticket, true)
            }
        };
        let before = if is_new { Status::New } else { ticket.status };
        // An out-of-office answer or other automatic mail is filed, but it is no sign
        // that the customer needs anything: the status stays.
        // An import leaves the status of a thread it files into as it is, and gives
        // the tickets it makes its own (`import --status`).
        if !is_new
            && !filing.import
            && !mail.noise.is_automatic()
            && matches!(ticket.status, Status::Pending | Status::Solved)
        {
            ticket.status = Status::Open;
        }
        if let (true, Some(status)) = (is_new, filing.status) {
            ticket.status = status;
        }
        // Old mail filed into a thread does not make it look touched earlier.
        ticket.updated = ticket.updated.max(now);
        if !mail.noise.is_automatic() {
            ticket.sla.customer_wrote(now);
        }
        // A snoozed ticket the customer wrote to is awake again (open, see above).
        let was_snoozed = ticket.snoozed_until.is_some();
        self.settle_sla(&mut ticket, before, now);
        if filing.import {
            super::import::mark_old_due_told(u, &ticket)?;
        }
        if was_snoozed && ticket.snoozed_until.is_none() {
            u.audit(
                "ticket.woke",
                vec![ticket.number.to_string(), "by=customer".into()],
                Some(&customer.id),
            );
        }
        self.note_participants(u, &mut ticket, &customer, mail)?;
        if is_new {
            u.tx.put_ticket(&ticket)?;
        } else {
            u.tx.put_workflow(&ticket)?;
        }

        let mut attachments = Vec::new();
        for a in &mail.attachments {
            let id = AttachmentId::random();
            u.tx.put_attachment(&customer.id, &id, &a.bytes)?;
            attachments.push(Attachment {
                id,
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.bytes.len() as u64,
            });
        }
        // A reply carrying a request's one-time code verifies it; the code is masked.
        let masked = if is_new {
            None
        } else {
            u.hold(Hold::Customer(customer.id))?;
            self.take_emailed_code(u, ticket.number, &customer, &mail.text, incoming.raw)?
        };
        let mut message = Message::inbound(
            ticket.number,
            Author::Customer {
                id: customer.id,
                address: mail.from.clone(),
                name: mail.from_name.clone(),
            },
            masked
                .as_ref()
                .map_or_else(|| mail.text.clone(), |m| m.text.clone()),
            now,
            mail.message_id.clone(),
        )
        .threaded(mail.in_reply_to.first().cloned(), mail.references.clone())
        .addressed(super::participants::parties_of(mail))
        .with_attachments(attachments);
        // Sealed with the author's key: their words are their personal data.
        let seq = u.tx.append_message(&customer.id, &mut message)?;
        match &masked {
            None => {
                u.tx.put_raw_mail(&customer.id, ticket.number, seq, incoming.raw)?
            }
            Some(m) => {
                if let Some(raw) = &m.raw {
                    u.tx.put_raw_mail(&customer.id, ticket.number, seq, raw)?;
                }
            }
        }
        if let Some(id) = &mail.message_id {
            u.tx.index_message_id(id, ticket.number)?;
            u.tx.mark_mail_seen(&mail.from, id, (ticket.number, seq))?;
        }
        let action = if is_new {
            "mail.new-ticket"
        } else {
            "mail.reply"
        };
        u.audit(action, vec![ticket.number.to_string()], Some(&customer.id));
        // An acknowledgement is optional mail: not to a restricted customer.
        let ack_allowed = self
            .mail_allowed(&customer, super::MailPurpose::Optional)
            .is_ok();
        if is_new && !mail.noise.is_automatic() && ack_allowed && !u.is_quiet() {
            if let (Some(template), Some(_)) = (&config.ack_template, &config.from) {
                self.queue_acknowledgement(u, &ticket, template, &mail.message_id)?;
            }
        }
        u.touch(ticket.number);
        u.activity(ticket.number, sealdesk_model::ActivityKind::Inbound);
        if is_new {
            u.notify(Event::new(ticket.number, Why::NewTicket, None));
            if ticket.assignee.is_some() {
                u.notify(Event::new(ticket.number, Why::Assigned, None));
            }
        } else if !mail.noise.is_automatic() {
            u.notify(Event::new(ticket.number, Why::CustomerReplied, None));
        }
        // Part 11: webhooks (a quiet unit, an import, queues none)
        if is_new {
            u.ticket_webhook(sealdesk_model::WebhookEvent::TicketCreated, &ticket)?;
        } else {
            if !mail.noise.is_automatic() {
                u.ticket_webhook(sealdesk_model::WebhookEvent::CustomerReplied, &ticket)?;
            }
            if ticket.status != before {
                u.ticket_webhook(sealdesk_model::WebhookEvent::TicketStatus, &ticket)?;
            }
        }
        Ok(if is_new {
            Filed::NewTicket(ticket.number)
        } else {
            Filed::Appended(ticket.number)
        })
    }

    /// Which existing ticket a message belongs to: by In-Reply-To / References against
    /// every Message-ID the desk received or sent; else by a `[#N]` subject tag, but only
    /// when the sender already takes part in that ticket (anyone can type `[#N]`). A
    /// reply to a closed ticket opens a new one — unless it is automatic mail (an
    /// out-of-office answer), which joins the closed ticket and leaves it closed.
    fn thread_target(
        &self,
        u: &mut Unit<'_>,
        mail: &ParsedMail,
        sender: Option<&Customer>,
        filing: &Filing,
    ) -> Result<Option<Ticket>> {
        let joins =
            |t: &Ticket| t.status != Status::Closed || mail.noise.is_automatic() || filing.import;
        let ids = mail.in_reply_to.iter().chain(mail.references.iter().rev());
        for id in ids {
            if let Some(n) = self.store.ticket_for_message_id(id)? {
                u.hold(Hold::Ticket(n))?;
                if let Some(t) = self.store.ticket(n)? {
                    return Ok(joins(&t).then_some(t));
                }
            }
        }
        if let (Some(n), Some(sender)) = (parse::ticket_tag(&mail.subject), sender) {
            u.hold(Hold::Ticket(TicketNo(n)))?;
            if let Some(t) = self.store.ticket(TicketNo(n))? {
                if joins(&t) && self.is_participant(&t, sender)? {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }

    /// The ticket's customer, a participant, or anyone who has written on it.
    fn is_participant(&self, ticket: &Ticket, who: &Customer) -> Result<bool> {
        if ticket.customer == who.id || ticket.participants.contains(&who.id) {
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

    /// The ticket one of `ids` (Message-IDs the desk sent or received) belongs to, and
    /// that id.
    fn ticket_of_ids(&self, ids: &[String]) -> Result<Option<(TicketNo, String)>> {
        for id in ids {
            if let Some(n) = self.store.ticket_for_message_id(id)? {
                return Ok(Some((n, id.clone())));
            }
        }
        Ok(None)
    }

    /// A delivery status report on a reply we sent. Only `Action: failed` fails the
    /// reply; a delay warning (the relay is still trying, and usually delivers later)
    /// is only noted, the reply stays queued or sent.
    fn note_bounce(
        &self,
        u: &mut Unit<'_>,
        incoming: &Incoming<'_>,
        mail: &ParsedMail,
        bounce: &parse::Bounce,
    ) -> Result<Filed> {
        let Some((number, bounced_id)) = self.ticket_of_ids(&bounce.original_ids)? else {
            return quarantine_mail(
                u,
                incoming,
                "a delivery failure report for a message this desk did not send".into(),
                None,
            );
        };
        let ticket = super::triage::load_ticket(u, number)?;
        let now = Timestamp::now();
        let why = sealdesk_model::sanitize::line(
            [bounce.status.as_str(), bounce.diagnostic.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
        )
        .into_owned();
        let (headline, failed) = match bounce.action {
            parse::DsnAction::Failed => ("Delivery failed", true),
            parse::DsnAction::Delayed => ("Delivery delayed, the relay keeps trying", false),
            parse::DsnAction::Delivered => ("Delivered", false),
        };
        if failed {
            // Mark the reply that bounced.
            for m in self.store.messages(number)?.into_iter().flatten() {
                if m.kind == MessageKind::Outbound
                    && m.message_id.as_deref() == Some(bounced_id.as_str())
                {
                    let mut failed = m.clone();
                    failed.delivery = Some(Delivery::Failed {
                        at: now,
                        reason: format!("bounced: {why}"),
                    });
                    u.tx.rewrite_message(&failed)?;
                }
            }
        }
        let text = format!("{headline} (report from {}):\n{why}", mail.from);
        self.note_report(u, mail, &ticket, text, "mail.bounce")?;
        Ok(Filed::BounceNoted(number))
    }

    /// A read receipt for a message of a ticket: noted on that ticket, never a ticket
    /// of its own.
    fn note_receipt(
        &self,
        u: &mut Unit<'_>,
        incoming: &Incoming<'_>,
        mail: &ParsedMail,
        receipt: &parse::Receipt,
    ) -> Result<Filed> {
        let Some((number, _)) = self.ticket_of_ids(&receipt.original_ids)? else {
            return quarantine_mail(
                u,
                incoming,
                "a read receipt for a message this desk does not know".into(),
                None,
            );
        };
        let ticket = super::triage::load_ticket(u, number)?;
        let disposition = match receipt.disposition.rsplit(';').next().map(str::trim) {
            Some(d) if !d.is_empty() => d.to_string(),
            _ => "displayed".to_string(),
        };
        let text = format!(
            "Read receipt from {}: {}",
            mail.from,
            sealdesk_model::sanitize::line(&disposition)
        );
        self.note_report(u, mail, &ticket, text, "mail.receipt")?;
        Ok(Filed::Appended(number))
    }

    /// A system note on `ticket` about a report that arrived (a bounce, a receipt).
    fn note_report(
        &self,
        u: &mut Unit<'_>,
        mail: &ParsedMail,
        ticket: &Ticket,
        text: String,
        action: &str,
    ) -> Result<()> {
        let number = ticket.number;
        let mut note = Message::note(number, Author::System, text, Timestamp::now());
        // Its Message-ID marks the report as seen, so a resent report is not noted twice.
        note.message_id = mail.message_id.clone();
        // The report may quote the customer's address: sealed with their key.
        let seq = u.tx.append_message(&ticket.customer, &mut note)?;
        if let Some(id) = &mail.message_id {
            u.tx.mark_mail_seen(&mail.from, id, (number, seq))?;
        }
        u.audit(action, vec![number.to_string()], Some(&ticket.customer));
        u.touch(number);
        u.activity(number, sealdesk_model::ActivityKind::Note);
        Ok(())
    }

    /// An automatic acknowledgement for a new ticket, queued like a reply.
    fn queue_acknowledgement(
        &self,
        u: &mut Unit<'_>,
        ticket: &Ticket,
        template: &str,
        in_reply_to: &Option<String>,
    ) -> Result<()> {
        let text = template
            .replace("{ticket}", &ticket.number.to_string())
            .replace("{subject}", ticket.subject.as_str());
        let mut message = Message::outbound(
            ticket.number,
            Author::System,
            text,
            Timestamp::now(),
            sealdesk_mail::new_message_id(&self.config().mail.message_id_domain()),
        )
        .threaded(in_reply_to.clone(), in_reply_to.iter().cloned().collect());
        let seq = u.tx.append_message(&ticket.customer, &mut message)?;
        if let Some(id) = &message.message_id {
            u.tx.index_message_id(id, ticket.number)?;
        }
        u.tx.put_outbox(&OutboxEntry::new(
            ticket.number,
            seq,
            Timestamp::now(),
            true,
            None,
        ))?;
        Ok(())
    }

    // ---- quarantine administration ----

    pub fn quarantine(&self) -> Result<Vec<QuarantineItem>> {
        Ok(self.store.quarantine()?)
    }

    pub fn quarantine_item(&self, actor: &Actor, id: &QuarantineId) -> Result<QuarantineItem> {
        self.require_admin(actor, "read quarantined mail")?;
        let item = self.find_quarantined(id)?;
        self.audit_only(actor, "quarantine.view", vec![id.to_string()], None)?;
        Ok(item)
    }

    fn find_quarantined(&self, id: &QuarantineId) -> Result<QuarantineItem> {
        self.store.quarantine_item(id)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "nothing in quarantine with id {id}: see `sealdesk quarantine list`"
            ))
        })
    }

    /// Files a quarantined message after all, skipping the size, loop and rate rules.
    /// One unit: the message is filed and leaves the quarantine together, or neither.
    pub fn release_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<Filed> {
        self.require_admin(actor, "release quarantined mail")?;
        let item = self.find_quarantined(id)?;
        let incoming = Incoming {
            raw: &item.raw,
            envelope_from: Some(&item.envelope_from),
            source: &item.source,
        };
        let mail = self
            .check_mail(&incoming, false)
            .map_err(|reason| still_unfileable(id, &reason.to_string()))?;
        let mut holds = self.holds_for(&mail)?;
        holds.push(Hold::Settings);
        self.write(actor, &holds, |u| {
            u.hold(Hold::Settings)?;
            if !u.tx.remove_quarantine(id)? {
                return Err(DeskError::NotFound(format!(
                    "nothing in quarantine with id {id}: it was released or deleted meanwhile"
                )));
            }
            u.audit("quarantine.view", vec![id.to_string()], None);
            let filed = self.file_checked(u, &incoming, &mail, &[], &Filing::default())?;
            if let Filed::Quarantined(_, reason) = &filed {
                // Still not fileable (a bounce for mail the desk never sent): the
                // whole unit is dropped, so the original stays where it was.
                return Err(still_unfileable(id, reason));
            }
            u.audit("quarantine.release", vec![id.to_string()], None);
            Ok(filed)
        })
    }

    pub fn delete_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<()> {
        self.require_admin(actor, "delete quarantined mail")?;
        self.write(actor, &[Hold::Settings], |u| {
            if !u.tx.remove_quarantine(id)? {
                return Err(DeskError::NotFound(format!(
                    "nothing in quarantine with id {id}: see `sealdesk quarantine list`"
                )));
            }
            u.audit("quarantine.delete", vec![id.to_string()], None);
            Ok(())
        })
    }
}

/// A released message that still cannot be filed: the original stays in quarantine.
/// Why arriving mail is quarantined instead of filed; the message is the reason stored
/// with it and shown by `quarantine list`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum Unfileable {
    #[error("over the size limit ({size} bytes > mail.max_size {max})")]
    TooBig { size: usize, max: usize },
    /// The parser's reason.
    #[error("cannot be filed: {0}")]
    Unparseable(String),
    #[error("a loop: this is the desk's own mail coming back")]
    Loop,
    #[error(
        "rate limit: more than {limit} messages in an hour from this sender (mail.rate_limit)"
    )]
    RateLimited { limit: u32 },
}

fn still_unfileable(id: &QuarantineId, reason: &str) -> DeskError {
    DeskError::Invalid(format!(
        "{id} still cannot be filed ({}): inspect it with `sealdesk quarantine show {id} --raw`, or delete it",
        sealdesk_model::sanitize::line(reason)
    ))
}

/// Stages a message in quarantine with the reason.
pub(super) fn quarantine_mail(
    u: &mut Unit<'_>,
    incoming: &Incoming<'_>,
    reason: String,
    owner: Option<&sealdesk_model::CustomerId>,
) -> Result<Filed> {
    let item = QuarantineItem {
        id: QuarantineId::random(),
        received: Timestamp::now(),
        reason: reason.clone(),
        source: incoming.source.to_string(),
        envelope_from: incoming.envelope_from.unwrap_or("").to_string(),
        raw: incoming.raw.to_vec(),
    };
    u.tx.put_quarantine(&item, owner)?;
    u.audit("mail.quarantine", vec![item.id.to_string()], owner);
    Ok(Filed::Quarantined(item.id, reason))
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
