//! What agents do to tickets: status, priority, assignment, tags, replies, notes, merges.
//! Each operation is durable before it returns, audited, reflected in the queue index
//! and announced to every open session.

use super::notify::{Event, Why};
use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::WebhookEvent;
use sealdesk_model::{
    ActivityKind, Attachment, Author, Message, MessageKind, Parties, Priority, Status, Ticket,
    TicketNo, Timestamp,
};

/// An agent's reply or note as it is about to be stored: what a draft becomes.
#[derive(Clone, Debug)]
pub(crate) struct Compose {
    pub(crate) kind: MessageKind,
    pub(crate) text: String,
    /// Empty To: the ticket's defaults ([`Desk::reply_parties`]).
    pub(crate) parties: Parties,
    /// Blobs already stored, sealed with the ticket's customer's key.
    pub(crate) attachments: Vec<Attachment>,
}

/// The ticket, read inside a unit that holds it.
/// What a reply on `number` threads under: In-Reply-To the latest message with an id,
/// References the thread's ids (the last 20).
pub(super) fn thread_references(
    u: &mut Unit<'_>,
    number: TicketNo,
) -> Result<(Option<String>, Vec<String>)> {
    let ids: Vec<String> =
        u.tx.store()
            .messages(number)?
            .into_iter()
            .flatten()
            .filter_map(|m| m.message_id)
            .collect();
    let references = ids[ids.len().saturating_sub(20)..].to_vec();
    Ok((ids.last().cloned(), references))
}

pub(super) fn load_ticket(u: &mut Unit<'_>, number: TicketNo) -> Result<Ticket> {
    u.hold(Hold::Ticket(number))?;
    u.tx.store().ticket(number)?.ok_or_else(|| {
        DeskError::NotFound(format!("there is no ticket {number}: check the number"))
    })
}

/// Tags as stored: trimmed, lower-cased, deduplicated; one that cannot be a tag is
/// refused.
pub(crate) fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        let tag = sealdesk_model::sanitize::line(tag).trim().to_lowercase();
        if tag.is_empty() || clean.contains(&tag) {
            continue;
        }
        if tag.chars().count() > 40 || tag.contains(char::is_whitespace) || tag.contains(',') {
            return Err(DeskError::Invalid(format!(
                "tag {tag:?} is not allowed: use up to 40 characters without spaces or commas"
            )));
        }
        clean.push(tag);
    }
    Ok(clean)
}

impl Desk {
    /// Changes one ticket's workflow as a unit of work: the ticket is read while held,
    /// `change` applied, the workflow stored (the subject is left alone, so this works
    /// on an erased customer's ticket too) and the change audited.
    pub(super) fn change_ticket(
        &self,
        actor: &Actor,
        number: TicketNo,
        action: &str,
        change: impl Fn(&mut Ticket) -> Result<Vec<String>>,
    ) -> Result<Ticket> {
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let mut ticket = load_ticket(u, number)?;
            let before = ticket.status;
            let assignee_before = ticket.assignee.clone();
            let detail = change(&mut ticket)?;
            let now = Timestamp::now();
            ticket.updated = now;
            self.settle_sla(&mut ticket, before, now);
            u.tx.put_workflow(&ticket)?;
            // Part 11: webhooks
            if ticket.status != before {
                u.ticket_webhook(WebhookEvent::TicketStatus, &ticket)?;
            }
            if ticket.assignee != assignee_before {
                u.ticket_webhook(WebhookEvent::TicketAssigned, &ticket)?;
            }
            let mut targets = vec![number.to_string()];
            targets.extend(detail);
            u.audit(action, targets, Some(&ticket.customer));
            u.touch(number);
            u.activity(number, ActivityKind::Change);
            Ok(ticket)
        })
    }

    pub fn set_status(&self, actor: &Actor, number: TicketNo, status: Status) -> Result<Ticket> {
        self.change_ticket(actor, number, "ticket.status", |t| {
            t.status = status;
            Ok(vec![format!("status={status}")])
        })
    }

    pub fn set_priority(
        &self,
        actor: &Actor,
        number: TicketNo,
        priority: Priority,
    ) -> Result<Ticket> {
        self.change_ticket(actor, number, "ticket.priority", |t| {
            t.priority = priority;
            Ok(vec![format!("priority={priority}")])
        })
    }

    /// Assigns to an agent by name, or unassigns with `None`.
    pub fn assign(&self, actor: &Actor, number: TicketNo, agent: Option<&str>) -> Result<Ticket> {
        if let Some(name) = agent {
            if self.store.agent_by_name(name)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "no agent named {}: pick one from the agent list",
                    sealdesk_model::sanitize::line(name)
                )));
            }
        }
        let before = std::cell::RefCell::new(None);
        let ticket = self.change_ticket(actor, number, "ticket.assign", |t| {
            *before.borrow_mut() = Some(t.assignee.clone());
            t.assignee = agent.map(String::from);
            if t.status == Status::New && agent.is_some() {
                t.status = Status::Open;
            }
            Ok(vec![format!("assignee={}", agent.unwrap_or("-"))])
        })?;
        if agent.is_some() && before.into_inner().flatten().as_deref() != agent {
            self.notify(Event::new(number, Why::Assigned, Some(&actor.name)));
        }
        Ok(ticket)
    }

    /// Replaces the tags. Tags are workflow labels: trimmed, lower-cased, deduplicated.
    pub fn set_tags(&self, actor: &Actor, number: TicketNo, tags: &[String]) -> Result<Ticket> {
        let clean = clean_tags(tags)?;
        self.change_ticket(actor, number, "ticket.tags", |t| {
            t.tags = clean.clone();
            Ok(vec![])
        })
    }

    /// Adds a reply to the customer (queued for sending) and returns it. A new ticket
    /// becomes open.
    pub fn add_reply(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message> {
        self.add_agent_message(actor, number, text, MessageKind::Outbound, None)
    }

    /// Like [`Desk::add_reply`]; when the customer's processing is restricted, an
    /// admin's `override_reason` lets the reply through (audited as an override).
    pub fn add_reply_overriding(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        self.add_agent_message(actor, number, text, MessageKind::Outbound, override_reason)
    }

    /// A reply to the recipients the agent gave (checked, see
    /// `participants::reply_recipients`); empty parties: the ticket's defaults.
    pub fn add_reply_addressed(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        parties: &Parties,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        let compose = Compose {
            kind: MessageKind::Outbound,
            text: text.to_string(),
            parties: parties.clone(),
            attachments: Vec::new(),
        };
        self.write(actor, &[Hold::Ticket(number)], |u| {
            self.stage_checked(u, actor, number, &compose, override_reason)
        })
    }

    /// Adds an internal note, never sent to the customer.
    pub fn add_note(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message> {
        self.add_agent_message(actor, number, text, MessageKind::Note, None)
    }

    fn add_agent_message(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        kind: MessageKind,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        let compose = Compose {
            kind,
            text: text.to_string(),
            parties: Parties::default(),
            attachments: Vec::new(),
        };
        self.write(actor, &[Hold::Ticket(number)], |u| {
            self.stage_checked(u, actor, number, &compose, override_reason)
        })
    }

    /// Checks and stages an agent's reply or note inside a unit that may do more (send
    /// a draft, apply a macro): an empty text is refused; a reply to a customer whose
    /// processing is restricted needs an admin's `override_reason`.
    pub(crate) fn stage_checked(
        &self,
        u: &mut Unit<'_>,
        actor: &Actor,
        number: TicketNo,
        compose: &Compose,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        let (text, kind) = (compose.text.as_str(), compose.kind);
        if text.trim().is_empty() && compose.attachments.is_empty() {
            return Err(DeskError::Invalid(
                "the text is empty: write something first".into(),
            ));
        }
        let domain = self.config().mail.message_id_domain();
        if kind == MessageKind::Outbound {
            let t = load_ticket(u, number)?;
            u.hold(Hold::Customer(t.customer))?;
            if let Some(c) = self.store.customer(&t.customer)? {
                if let Err(refusal) = self.mail_allowed(&c, super::MailPurpose::Reply) {
                    let what = format!("reply on {number}");
                    self.override_restriction(u, actor, &c.id, &refusal, override_reason, &what)?;
                }
            }
        }
        self.stage_agent_message(u, number, compose, &domain)
    }

    /// Stages an agent's reply or note on a ticket (see [`Desk::add_reply`]).
    pub(super) fn stage_agent_message(
        &self,
        u: &mut Unit<'_>,
        number: TicketNo,
        compose: &Compose,
        domain: &str,
    ) -> Result<Message> {
        let (text, kind) = (compose.text.as_str(), compose.kind);
        let outbound = kind == MessageKind::Outbound;
        {
            let mut t = load_ticket(u, number)?;
            let now = Timestamp::now();
            // A reply threads in the customer's mail client: its own Message-ID,
            // In-Reply-To the latest message with an id, References the thread's ids
            // (the last 20).
            let (message_id, in_reply_to, references) = if outbound {
                let (in_reply_to, refs) = thread_references(u, number)?;
                (
                    Some(sealdesk_mail::new_message_id(domain)),
                    in_reply_to,
                    refs,
                )
            } else {
                (None, None, Vec::new())
            };
            let author = Author::Agent {
                name: u.actor_name().to_string(),
            };
            let mut message = match message_id {
                Some(id) => {
                    let parties = self.reply_recipients(u, &mut t, &compose.parties)?;
                    let signed = self.signed_text(text, &t, u.actor_name())?;
                    Message::outbound(number, author, signed, now, id)
                        .threaded(in_reply_to, references)
                        .addressed(parties)
                }
                None => Message::note(number, author, text.to_string(), now),
            }
            .with_attachments(compose.attachments.clone());
            let seq = u.tx.append_message(&t.customer, &mut message)?;
            if outbound {
                if let Some(id) = &message.message_id {
                    u.tx.index_message_id(id, number)?;
                }
                // Not before `mail.send_delay`: until then `Desk::unsend` takes it back.
                let due = Timestamp(now.0 + self.config().mail.send_delay as i64);
                u.tx.put_outbox(&sealdesk_model::OutboxEntry::new(
                    number, seq, due, false, None,
                ))?;
            }
            let before = t.status;
            if outbound && t.status == Status::New {
                t.status = Status::Open;
            }
            if outbound {
                t.sla.agent_replied(now);
            }
            t.updated = now;
            self.settle_sla(&mut t, before, now);
            u.tx.put_workflow(&t)?;
            if t.status != before {
                u.ticket_webhook(WebhookEvent::TicketStatus, &t)?;
            }
            let action = if kind == MessageKind::Note {
                "ticket.note"
            } else {
                "ticket.reply"
            };
            u.audit(
                action,
                vec![number.to_string(), format!("message={seq}")],
                Some(&t.customer),
            );
            if kind == MessageKind::Note {
                let agents = u.tx.store().agents()?;
                let mentioned = super::notify::mentions(text, &agents);
                if !mentioned.is_empty() {
                    u.notify(Event {
                        mentioned,
                        ..Event::new(number, Why::Mentioned, Some(u.actor_name()))
                    });
                }
            }
            u.touch(number);
            u.activity(
                number,
                match kind {
                    MessageKind::Outbound => ActivityKind::Reply,
                    _ => ActivityKind::Note,
                },
            );
            Ok(message)
        }
    }

    /// Moves the whole thread of `from` to the end of `into`, closes `from` with a note
    /// pointing to `into`. Messages stay sealed with the key of whoever they belong to.
    pub fn merge(&self, actor: &Actor, from: TicketNo, into: TicketNo) -> Result<Ticket> {
        if from == into {
            return Err(DeskError::Invalid(
                "a ticket cannot be merged into itself: pick another ticket".into(),
            ));
        }
        self.write(actor, &[Hold::Ticket(from), Hold::Ticket(into)], |u| {
            let mut source = load_ticket(u, from)?;
            let mut target = load_ticket(u, into)?;
            let moved = u.tx.move_thread(from, into)?;
            let now = Timestamp::now();
            for (ticket, text) in [
                (&source, format!("Merged into {into}.")),
                (
                    &target,
                    format!("Ticket {from} was merged into this one ({moved} messages)."),
                ),
            ] {
                // System notes hold nobody's personal data: sealed with the desk's
                // key, so a merge works whoever was erased.
                let mut note = Message::note(ticket.number, Author::System, text, now);
                u.tx.append_system_note(&mut note)?;
            }
            let before = source.status;
            source.status = Status::Closed;
            self.settle_sla(&mut source, before, now);
            if !source.tags.iter().any(|t| t == "merged") {
                source.tags.push("merged".into());
            }
            super::links::move_links(u, &mut source, &mut target)?;
            // Whoever took part in the merged ticket takes part in the target.
            for id in std::iter::once(source.customer).chain(source.participants.clone()) {
                if id != target.customer && !target.participants.contains(&id) {
                    target.participants.push(id);
                }
            }
            source.updated = now;
            target.updated = now;
            u.tx.put_workflow(&source)?;
            u.tx.put_workflow(&target)?;
            if source.status != before {
                u.ticket_webhook(WebhookEvent::TicketStatus, &source)?;
            }
            u.audit(
                "ticket.merge",
                vec![
                    from.to_string(),
                    format!("into={into}"),
                    format!("moved={moved}"),
                ],
                Some(&source.customer),
            );
            u.audit(
                "ticket.merged-into",
                vec![into.to_string(), format!("from={from}")],
                Some(&target.customer),
            );
            u.touch(from);
            u.touch(into);
            u.activity(from, ActivityKind::Change);
            u.activity(into, ActivityKind::Change);
            Ok(target)
        })
    }
}
