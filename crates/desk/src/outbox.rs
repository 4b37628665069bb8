//! The outbox: replies (and acknowledgements) waiting to go out through the relay. The
//! sending itself is the mail layer's job; here the desk composes each mail from the
//! thread and records what became of it, so the ticket shows queued / sent / failed.

use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    Author, ComposedMail, Delivery, MailAttachment, Message, MessageKind, OutboxEntry,
    OutgoingMail, Ticket, TicketNo, Timestamp,
};

/// A mail due to go out, and the outbox entry (ticket, sequence number) to report
/// its fate to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueMail {
    pub ticket: TicketNo,
    pub seq: u32,
    pub mail: OutgoingMail,
}

/// Lines of the previous message quoted under a reply.
const QUOTE_LINES: usize = 40;

impl Desk {
    /// Outbox entries whose time has come, composed as mail. An entry that cannot be
    /// composed (customer erased, no `mail.from`) is failed on the ticket right away.
    pub(crate) fn due_replies(&self, now: Timestamp) -> Result<Vec<DueMail>> {
        let mut out = Vec::new();
        for entry in self.store.outbox()? {
            if entry.next_attempt > now {
                continue;
            }
            match self.compose(&entry) {
                Ok(mail) => out.push(DueMail {
                    ticket: entry.ticket,
                    seq: entry.seq,
                    mail,
                }),
                Err(reason) => self.reply_failed(entry.ticket, entry.seq, true, &reason, now)?,
            }
        }
        Ok(out)
    }

    fn compose(&self, entry: &OutboxEntry) -> std::result::Result<OutgoingMail, String> {
        let config = self.config().mail;
        const NO_FROM: &str = "mail.from is not set: `sealdesk config set mail.from \"Support <support@example.com>\"`";
        // Our own address against mail loops; automatic mail (acknowledgements) is
        // marked so autoresponders stay quiet.
        let mut extra_headers = vec![(
            "X-Loop".to_string(),
            config.sender_address().unwrap_or_default(),
        )];
        if entry.automatic {
            extra_headers.push(("Auto-Submitted".into(), "auto-replied".into()));
        }
        if let Some(c) = &entry.composed {
            self.notice_still_allowed(entry.seq)
                .map_err(|held| held.to_string())?;
            let mut attachments = Vec::new();
            if let Some(a) = &c.attachment {
                let bytes = self
                    .store
                    .attachment(&a.id)
                    .ok()
                    .flatten()
                    .ok_or("the attachment is gone (erased or expired)")?;
                attachments.push(MailAttachment {
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    bytes,
                });
            }
            return Ok(OutgoingMail {
                from: config.from.clone().ok_or(NO_FROM)?,
                to: c.to.clone(),
                cc: Vec::new(),
                bcc: Vec::new(),
                subject: c.subject.clone(),
                message_id: c.message_id.clone(),
                in_reply_to: None,
                references: Vec::new(),
                body: c.body.clone(),
                date: Timestamp::now(),
                extra_headers,
                attachments,
            });
        }
        let ticket = self
            .store
            .ticket(entry.ticket)
            .map_err(|e| e.to_string())?
            .ok_or("the ticket is gone")?;
        // From the support address the customer wrote to; else the default.
        let from = config.from_for(ticket.address.as_deref()).ok_or(NO_FROM)?;
        if let Some(loop_mark) = extra_headers.first_mut().filter(|h| h.1.is_empty()) {
            // No mail.from: the address this goes out from marks it.
            loop_mark.1 = super::participants::bare_address(&from);
        }
        let customer = match self.store.customer(&ticket.customer) {
            Ok(Some(c)) => c,
            _ => {
                return Err(
                    "the customer's data was erased or is missing; nothing to send to".into(),
                )
            }
        };
        let thread: Vec<Message> = self
            .store
            .messages(entry.ticket)
            .map_err(|e| e.to_string())?
            .into_iter()
            .flatten()
            .collect();
        let message = thread
            .iter()
            .find(|m| m.seq == entry.seq)
            .ok_or("the reply is no longer readable")?;
        let previous = quotable(&thread, message, customer.primary_email());
        // Addressed when it was written (Part 9); a reply stored before went to the
        // customer alone.
        let (to, cc, bcc) = match message.parties.to.split_first() {
            Some((first, more)) => (
                first.clone(),
                more.iter().chain(&message.parties.cc).cloned().collect(),
                message.parties.bcc.clone(),
            ),
            None => (customer.primary_email().to_string(), Vec::new(), Vec::new()),
        };
        // The files the agent attached, read back from their sealed blobs.
        let mut attachments = Vec::new();
        for a in &message.attachments {
            let bytes = self
                .store
                .attachment(&a.id)
                .ok()
                .flatten()
                .ok_or("an attached file is gone (erased or redacted)")?;
            attachments.push(MailAttachment {
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                bytes,
            });
        }
        Ok(OutgoingMail {
            from,
            to,
            cc,
            bcc,
            subject: reply_subject(&ticket),
            message_id: message
                .message_id
                .clone()
                .ok_or("the reply has no Message-ID")?,
            in_reply_to: message.in_reply_to.clone(),
            references: message.references.clone(),
            body: quote_body(&message.text, previous),
            date: Timestamp::now(),
            extra_headers,
            attachments,
        })
    }

    /// The relay took the mail, `mime` as it was sent: kept sealed with the ticket's
    /// customer's key at the reply's place, so their export holds the mail as sent —
    /// unless it was composed in advance (see `OutboxEntry::composed`).
    pub(crate) fn reply_sent_as(
        &self,
        ticket: TicketNo,
        seq: u32,
        at: Timestamp,
        mime: Option<&[u8]>,
    ) -> Result<()> {
        self.write(&Actor::system("outbox"), &[Hold::Ticket(ticket)], |u| {
            self.drop_composed_attachment(u, ticket, seq)?;
            // A mail composed in advance (a verification code, an erasure confirmation)
            // is deleted once sent: its bytes as sent are not kept either.
            let composed = self
                .store
                .outbox_entry(ticket, seq)?
                .is_some_and(|e| e.composed.is_some());
            if let (Some(mime), true, false) = (mime, ticket.0 != 0, composed) {
                if let Some(t) = self.store.ticket(ticket)? {
                    match u.tx.put_raw_mail(&t.customer, ticket, seq, mime) {
                        // Erased meanwhile: nothing of theirs is kept.
                        Ok(()) | Err(sealdesk_store::StoreError::Erased) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            set_delivery(u, ticket, seq, Delivery::Sent { at })?;
            u.tx.remove_outbox(ticket, seq);
            Ok(())
        })
    }

    /// Sending failed: retried at `retry_at` unless `permanent`, when it is given up.
    pub(crate) fn reply_failed(
        &self,
        ticket: TicketNo,
        seq: u32,
        permanent: bool,
        reason: &str,
        retry_at: Timestamp,
    ) -> Result<()> {
        let reason = sealdesk_model::sanitize::line(reason).into_owned();
        self.write(&Actor::system("outbox"), &[Hold::Ticket(ticket)], |u| {
            let entry = self.store.outbox_entry(ticket, seq)?;
            let entry = entry.as_ref();
            if permanent || entry.is_none() {
                self.drop_composed_attachment(u, ticket, seq)?;
                set_delivery(
                    u,
                    ticket,
                    seq,
                    Delivery::Failed {
                        at: Timestamp::now(),
                        reason: reason.clone(),
                    },
                )?;
                u.tx.remove_outbox(ticket, seq);
            } else if let Some(e) = entry {
                let mut next = e.clone();
                next.attempts += 1;
                next.next_attempt = retry_at;
                next.last_error = Some(reason.clone());
                u.tx.put_outbox(&next)?;
                set_delivery(
                    u,
                    ticket,
                    seq,
                    Delivery::Queued {
                        since: Timestamp::now(),
                    },
                )?;
            }
            Ok(())
        })
    }

    /// A mailed export's archive is deleted once the mail is sent or given up.
    /// Queues a mail composed whole, outside any ticket (a confirmation, an export):
    /// ticket 0 and a random sequence number, sealed with the master key in the outbox
    /// only until it is sent.
    pub(super) fn queue_composed(&self, u: &mut Unit<'_>, mail: ComposedMail) -> Result<()> {
        let mut n = [0u8; 4];
        getrandom::fill(&mut n).expect("the OS random source failed");
        u.tx.put_outbox(&OutboxEntry::new(
            TicketNo(0),
            u32::from_be_bytes(n),
            Timestamp::now(),
            true,
            Some(mail),
        ))?;
        Ok(())
    }

    fn drop_composed_attachment(&self, u: &mut Unit<'_>, ticket: TicketNo, seq: u32) -> Result<()> {
        let entry = self.store.outbox_entry(ticket, seq)?;
        if let Some(a) = entry.and_then(|e| e.composed).and_then(|c| c.attachment) {
            u.tx.remove_attachment(&a.id);
        }
        Ok(())
    }

    /// Sends the replies of ticket `number` that failed for good again, at once, and
    /// moves those waiting for a retry to now: after the cause is fixed (a bad
    /// `mail.from`, a relay that refused us). Audited as `ticket.retry`; returns how
    /// many replies are due now.
    pub fn retry_replies(&self, actor: &Actor, number: TicketNo) -> Result<usize> {
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let ticket = super::triage::load_ticket(u, number)?;
            u.hold(Hold::Customer(ticket.customer))?;
            if let Some(c) = self.store.customer(&ticket.customer)? {
                self.mail_allowed(&c, super::MailPurpose::Reply)?;
            }
            let now = Timestamp::now();
            let waiting: Vec<OutboxEntry> = self.store.outbox_of(number)?;
            for entry in &waiting {
                let mut due = entry.clone();
                due.next_attempt = now;
                u.tx.put_outbox(&due)?;
            }
            let mut count = waiting.len();
            for m in self.store.messages(number)?.into_iter().flatten() {
                let failed = matches!(m.delivery, Some(Delivery::Failed { .. }));
                if m.kind != MessageKind::Outbound
                    || !failed
                    || waiting.iter().any(|e| e.seq == m.seq)
                {
                    continue;
                }
                let automatic = matches!(m.author, Author::System);
                u.tx.put_outbox(&OutboxEntry::new(number, m.seq, now, automatic, None))?;
                set_delivery(u, number, m.seq, Delivery::Queued { since: now })?;
                count += 1;
            }
            if count == 0 {
                return Err(DeskError::Invalid(format!(
                    "ticket {number} has no failed or queued reply to retry: see `sealdesk ticket show {number}`"
                )));
            }
            u.audit(
                "ticket.retry",
                vec![number.to_string(), count.to_string()],
                Some(&ticket.customer),
            );
            u.touch(number);
            Ok(count)
        })
    }

    /// How many times an outbox entry was tried, for the backoff.
    pub(crate) fn reply_attempts(&self, ticket: TicketNo, seq: u32) -> Result<u32> {
        Ok(self
            .store
            .outbox_entry(ticket, seq)?
            .map(|e| e.attempts)
            .unwrap_or(0))
    }
}

/// Records where a reply is on its way out, on its message in the thread.
fn set_delivery(u: &mut Unit<'_>, ticket: TicketNo, seq: u32, delivery: Delivery) -> Result<()> {
    if ticket.0 == 0 {
        // A composed mail: no ticket message to update, maybe a notice copy.
        return super::notices::record_delivery(u, seq, delivery);
    }
    if let Some(mut m) = u.tx.store().message(ticket, seq).ok().flatten() {
        m.delivery = Some(delivery);
        u.tx.rewrite_message(&m)?;
        u.touch(ticket);
    }
    Ok(())
}

/// The latest mail before `reply` that every recipient of the reply already saw (see
/// [`super::participants::saw`]): quoting anything else would show one person what
/// another wrote to the desk alone. A reply stored before Part 9 has no parties: it
/// goes to the customer at `fallback` alone.
fn quotable<'t>(thread: &'t [Message], reply: &Message, fallback: &str) -> Option<&'t Message> {
    let mut recipients: Vec<String> = reply
        .parties
        .all()
        .map(|p| super::participants::bare_address(p))
        .collect();
    if recipients.is_empty() {
        recipients.push(sealdesk_model::normalize_email(fallback));
    }
    thread.iter().rev().find(|m| {
        m.seq < reply.seq && m.kind == MessageKind::Inbound && {
            let saw = super::participants::saw(m);
            recipients.iter().all(|r| saw.contains(r))
        }
    })
}

/// `[#12] Printer on fire`: the tag lets replies thread even if a client drops headers.
pub(crate) fn reply_subject(ticket: &Ticket) -> String {
    let base = sealdesk_mail::parse::base_subject(ticket.subject.as_str());
    format!("Re: [#{}] {}", ticket.number.0, base)
}

/// The reply, then the customer's last message quoted below it, as mail clients do.
pub(crate) fn quote_body(text: &str, previous: Option<&Message>) -> String {
    let mut body = text.trim_end().to_string();
    body.push('\n');
    if let Some(prev) = previous {
        let who = match &prev.author {
            Author::Customer { name, address, .. } if !name.is_empty() => {
                format!("{name} <{address}>")
            }
            other => other.display(),
        };
        body.push_str(&format!("\nOn {}, {} wrote:\n", prev.at.rfc3339(), who));
        let lines: Vec<&str> = prev.text.lines().collect();
        for line in lines.iter().take(QUOTE_LINES) {
            body.push_str(if line.is_empty() { ">" } else { "> " });
            body.push_str(line);
            body.push('\n');
        }
        if lines.len() > QUOTE_LINES {
            body.push_str("> […]\n");
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{CustomerId, Priority, Status};

    #[test]
    fn subjects_and_quotes() {
        let t = Ticket {
            number: TicketNo(12),
            subject: "Re: Printer on fire".into(),
            status: Status::Open,
            priority: Priority::Normal,
            assignee: None,
            tags: vec![],
            customer: CustomerId([0; 16]),
            created: Timestamp(0),
            updated: Timestamp(0),
            due: None,
            address: None,
            participants: Vec::new(),
            links: Vec::new(),
            snoozed_until: None,
            due_by_hand: false,
            sla: Default::default(),
        };
        assert_eq!(reply_subject(&t), "Re: [#12] Printer on fire");
        let prev = Message {
            seq: 1,
            ..Message::inbound(
                TicketNo(12),
                Author::Customer {
                    id: CustomerId([0; 16]),
                    address: "ann@example.com".into(),
                    name: "Ann".into(),
                },
                "It burns.\n\nHelp!".into(),
                Timestamp(0),
                None,
            )
        };
        let body = quote_body("Unplug it.\n", Some(&prev));
        assert_eq!(body, "Unplug it.\n\nOn 1970-01-01T00:00:00Z, Ann <ann@example.com> wrote:\n> It burns.\n>\n> Help!\n");
    }

    #[test]
    fn the_quote_is_a_mail_every_recipient_saw() {
        let who = |address: &str| Author::Customer {
            id: CustomerId([1; 16]),
            address: address.into(),
            name: String::new(),
        };
        let parties = |to: &[&str], cc: &[&str], bcc: &[&str]| sealdesk_model::Parties {
            to: to.iter().map(|s| s.to_string()).collect(),
            cc: cc.iter().map(|s| s.to_string()).collect(),
            bcc: bcc.iter().map(|s| s.to_string()).collect(),
        };
        let inbound = |seq, author: &str, p| Message {
            seq,
            ..Message::inbound(
                TicketNo(1),
                who(author),
                format!("text {seq}"),
                Timestamp(0),
                None,
            )
            .addressed(p)
        };
        let thread = vec![
            inbound(
                1,
                "ann@example.com",
                parties(&["support@desk.example"], &["Bob <bob@example.com>"], &[]),
            ),
            inbound(
                2,
                "bob@example.com",
                parties(&["support@desk.example"], &[], &[]),
            ),
        ];
        let reply = |p| Message {
            seq: 3,
            ..Message::outbound(
                TicketNo(1),
                Author::Agent {
                    name: "alice".into(),
                },
                "ok".into(),
                Timestamp(0),
                "r@d".into(),
            )
            .addressed(p)
        };
        let seq = |r: &Message| quotable(&thread, r, "ann@example.com").map(|m| m.seq);
        assert_eq!(
            seq(&reply(parties(
                &["ann@example.com"],
                &["bob@example.com"],
                &[]
            ))),
            Some(1)
        );
        assert_eq!(
            seq(&reply(parties(&["bob@example.com"], &[], &[]))),
            Some(2)
        );
        assert_eq!(
            seq(&reply(parties(
                &["ann@example.com"],
                &[],
                &["carol@example.com"]
            ))),
            None
        );
        // Stored before Part 9: to the customer alone.
        assert_eq!(seq(&reply(parties(&[], &[], &[]))), Some(1));
    }
}
