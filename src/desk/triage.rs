//! What agents do to tickets: status, priority, assignment, tags, replies, notes, merges.
//! Each operation is durable before it returns, audited, reflected in the queue index
//! and announced to every open session.

use super::{Actor, Change, Desk, DeskError, Result};
use crate::model::{Author, Message, MessageKind, Priority, Status, Ticket, TicketNo, Timestamp};

impl Desk {
    fn load_ticket(&self, number: TicketNo) -> Result<Ticket> {
        self.store.ticket(number)?.ok_or_else(|| {
            DeskError::NotFound(format!("there is no ticket {number}: check the number"))
        })
    }

    /// Saves a changed ticket, audits, flushes, updates the queue and tells sessions.
    fn commit_ticket(
        &self,
        actor: &Actor,
        mut ticket: Ticket,
        action: &str,
        detail: Vec<String>,
    ) -> Result<Ticket> {
        let _op = self.store.op();
        ticket.updated = Timestamp::now();
        self.store.put_ticket(&ticket)?;
        let mut targets = vec![ticket.number.to_string()];
        targets.extend(detail);
        self.audit(actor, action, targets, Some(&ticket.customer))?;
        self.store.flush()?;
        self.refresh_queue_row(ticket.number)?;
        self.announce(Change::Ticket(ticket.number));
        Ok(ticket)
    }

    pub fn set_status(&self, actor: &Actor, number: TicketNo, status: Status) -> Result<Ticket> {
        let mut t = self.load_ticket(number)?;
        t.status = status;
        self.commit_ticket(actor, t, "ticket.status", vec![format!("status={status}")])
    }

    pub fn set_priority(
        &self,
        actor: &Actor,
        number: TicketNo,
        priority: Priority,
    ) -> Result<Ticket> {
        let mut t = self.load_ticket(number)?;
        t.priority = priority;
        self.commit_ticket(
            actor,
            t,
            "ticket.priority",
            vec![format!("priority={priority}")],
        )
    }

    /// Assigns to an agent by name, or unassigns with `None`.
    pub fn assign(&self, actor: &Actor, number: TicketNo, agent: Option<&str>) -> Result<Ticket> {
        if let Some(name) = agent {
            if self.store.agent_by_name(name)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "no agent named {}: pick one from the agent list",
                    crate::sanitize::line(name)
                )));
            }
        }
        let mut t = self.load_ticket(number)?;
        t.assignee = agent.map(String::from);
        if t.status == Status::New && agent.is_some() {
            t.status = Status::Open;
        }
        let detail = format!("assignee={}", agent.unwrap_or("-"));
        self.commit_ticket(actor, t, "ticket.assign", vec![detail])
    }

    /// Replaces the tags. Tags are workflow labels: trimmed, lower-cased, deduplicated.
    pub fn set_tags(&self, actor: &Actor, number: TicketNo, tags: &[String]) -> Result<Ticket> {
        let mut clean: Vec<String> = Vec::new();
        for tag in tags {
            let tag = crate::sanitize::line(tag).trim().to_lowercase();
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
        let mut t = self.load_ticket(number)?;
        t.tags = clean;
        self.commit_ticket(actor, t, "ticket.tags", vec![])
    }

    /// Adds a reply to the customer (queued for sending) and returns it. A new ticket
    /// becomes open.
    pub fn add_reply(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message> {
        self.add_agent_message(actor, number, text, MessageKind::Outbound)
    }

    /// Adds an internal note, never sent to the customer.
    pub fn add_note(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message> {
        self.add_agent_message(actor, number, text, MessageKind::Note)
    }

    fn add_agent_message(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        kind: MessageKind,
    ) -> Result<Message> {
        let _op = self.store.op();
        if text.trim().is_empty() {
            return Err(DeskError::Invalid(
                "the text is empty: write something first".into(),
            ));
        }
        let mut t = self.load_ticket(number)?;
        let now = Timestamp::now();
        let outbound = kind == MessageKind::Outbound;
        // A reply threads in the customer's mail client: its own Message-ID, In-Reply-To
        // the latest message with an id, References the thread's ids (the last 20).
        let (message_id, in_reply_to, references) = if outbound {
            let ids: Vec<String> = self
                .store
                .messages(number)?
                .into_iter()
                .flatten()
                .filter_map(|m| m.message_id)
                .collect();
            let refs = ids[ids.len().saturating_sub(20)..].to_vec();
            (
                Some(crate::mail::new_message_id(
                    &self.config().mail.message_id_domain(),
                )),
                ids.last().cloned(),
                refs,
            )
        } else {
            (None, None, Vec::new())
        };
        let mut message = Message {
            ticket: number,
            seq: 0,
            kind,
            author: Author::Agent {
                name: actor.name.clone(),
            },
            at: now,
            text: text.to_string(),
            message_id,
            in_reply_to,
            references,
            attachments: Vec::new(),
            delivery: outbound.then_some(crate::model::Delivery::Queued { since: now }),
        };
        let seq = self.store.append_message(&t.customer, &mut message)?;
        if outbound {
            if let Some(id) = &message.message_id {
                self.store.index_message_id(id, number)?;
            }
            self.store.put_outbox(&crate::model::OutboxEntry {
                ticket: number,
                seq,
                attempts: 0,
                next_attempt: now,
                last_error: None,
                automatic: false,
                composed: None,
            })?;
        }
        if kind == MessageKind::Outbound && t.status == Status::New {
            t.status = Status::Open;
        }
        let action = if kind == MessageKind::Note {
            "ticket.note"
        } else {
            "ticket.reply"
        };
        self.commit_ticket(actor, t, action, vec![format!("message={}", message.seq)])?;
        Ok(message)
    }

    /// Moves the whole thread of `from` to the end of `into`, closes `from` with a note
    /// pointing to `into`. Messages stay sealed with the key of whoever they belong to.
    pub fn merge(&self, actor: &Actor, from: TicketNo, into: TicketNo) -> Result<Ticket> {
        let _op = self.store.op();
        if from == into {
            return Err(DeskError::Invalid(
                "a ticket cannot be merged into itself: pick another ticket".into(),
            ));
        }
        let mut source = self.load_ticket(from)?;
        let target = self.load_ticket(into)?;
        let moved = self.store.move_thread(from, into)?;
        let now = Timestamp::now();
        for (ticket, text) in [
            (&source, format!("Merged into {into}.")),
            (
                &target,
                format!("Ticket {from} was merged into this one ({moved} messages)."),
            ),
        ] {
            let mut note = Message {
                ticket: ticket.number,
                seq: 0,
                kind: MessageKind::Note,
                author: Author::System,
                at: now,
                text,
                message_id: None,
                in_reply_to: None,
                references: Vec::new(),
                attachments: Vec::new(),
                delivery: None,
            };
            self.store.append_message(&ticket.customer, &mut note)?;
        }
        source.status = Status::Closed;
        if !source.tags.iter().any(|t| t == "merged") {
            source.tags.push("merged".into());
        }
        self.commit_ticket(actor, source, "ticket.merge", vec![format!("into={into}")])?;
        self.commit_ticket(
            actor,
            target,
            "ticket.merged-into",
            vec![format!("from={from}")],
        )
    }
}
