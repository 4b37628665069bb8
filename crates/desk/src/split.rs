//! Splitting a message off into a ticket of its own (the ticket screen's `X`, `ticket
//! split N --message SEQ`).
//!
//! The whole split is one unit of work: the new ticket (same customer, support address
//! and participants), the message moved to it, a note on each, and a `related` link
//! between them, or nothing. The message moves the way a merge moves a thread
//! (`Tx::move_message`): messages are sealed under a key bound to their place, so it is
//! re-sealed at its new place under the key that sealed it before (its customer's, or
//! its own record key), with its parties and original mail; its attachments are blobs
//! of their own, sealed with the customer's key and named by id, and stay where they
//! are. So the customer's erasure still reaches the moved message, and a backup holds
//! it wherever it was when the backup was made.

use super::notify::{Event, Why};
use super::triage::load_ticket;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{Author, LinkKind, Message, Ticket, TicketLink, TicketNo, Timestamp};

impl Desk {
    /// Splits message `seq` off ticket `number` into a new ticket; returns it (its
    /// first message is the moved one).
    pub fn split(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Ticket> {
        let split = self.split_unit(actor, number, seq)?;
        self.notify(Event {
            ticket: split.number,
            why: Why::NewTicket,
            cause: Some(actor.name.clone()),
            mentioned: Vec::new(),
        });
        Ok(split)
    }

    fn split_unit(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Ticket> {
        self.write(actor, &[], |u| {
            let mut source = load_ticket(u, number)?;
            let store = u.tx.store();
            let thread = store.messages(number)?;
            let readable = |m: &Result<Message, _>| {
                matches!(m, Ok(m) if !matches!(m.author, Author::System | Author::Erased))
            };
            let message = match store.message(number, seq) {
                Ok(Some(m)) => m,
                Ok(None) => {
                    return Err(DeskError::NotFound(format!(
                        "{number} has no message {seq}: see the positions with `sealdesk ticket show {}`",
                        number.0
                    )))
                }
                Err(sealdesk_store::StoreError::Erased) => {
                    return Err(DeskError::Invalid(format!(
                        "message {seq} of {number} is erased: there is nothing to split off"
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            if matches!(message.author, Author::System | Author::Erased) {
                return Err(DeskError::Invalid(format!(
                    "message {seq} of {number} is the desk's own note or erased: pick a message someone wrote"
                )));
            }
            if thread.iter().filter(|m| readable(m)).count() < 2 {
                return Err(DeskError::Invalid(format!(
                    "{number} has only this message: there is nothing left to split it from"
                )));
            }
            if store.outbox_entry(number, seq)?.is_some() {
                return Err(DeskError::Conflict(format!(
                    "message {seq} of {number} is still on its way out: split it once it is sent (or take it back with u)"
                )));
            }
            let subject = store
                .raw_mail(number, seq)?
                .and_then(|raw| sealdesk_mail::parse::parse(&raw).ok())
                .map(|mail| mail.subject.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("Split from {number}"));
            let now = Timestamp::now();
            let mut split = Ticket::new(u.tx.next_ticket_number(), subject, source.customer, now);
            split.address = source.address.clone();
            split.participants = source.participants.clone();
            split.priority = source.priority;
            split.links.push(TicketLink {
                kind: LinkKind::Related,
                other: number,
            });
            source.links.retain(|l| l.other != split.number);
            source.links.push(TicketLink {
                kind: LinkKind::Related,
                other: split.number,
            });
            u.tx.put_ticket(&split)?;
            let moved = u.tx.move_message(number, seq, split.number)?;
            // A reply to the moved mail threads into the new ticket.
            if let Some(id) = &message.message_id {
                u.tx.index_message_id(id, split.number)?;
            }
            for (ticket, text) in [
                (number, format!("Message {seq} was split off into {}.", split.number)),
                (split.number, format!("Split off from {number} (its message {seq}).")),
            ] {
                let mut note = Message::note(ticket, Author::System, text, now);
                u.tx.append_system_note(&mut note)?;
            }
            source.updated = now;
            u.tx.put_workflow(&source)?;
            // Part 11: the new ticket is a new ticket to webhooks too.
            u.ticket_webhook(sealdesk_model::WebhookEvent::TicketCreated, &split)?;
            u.audit(
                "ticket.split",
                vec![
                    number.to_string(),
                    format!("message={seq}"),
                    format!("into={}", split.number),
                    format!("now={moved}"),
                ],
                Some(&source.customer),
            );
            u.touch(number);
            u.touch(split.number);
            u.activity(number, sealdesk_model::ActivityKind::Change);
            u.activity(split.number, sealdesk_model::ActivityKind::Change);
            Ok(split)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Filed, Incoming};

    fn receive(desk: &Desk, raw: &str) -> TicketNo {
        let filed = desk
            .receive_mail(Incoming {
                raw: raw.as_bytes(),
                envelope_from: None,
                source: "test",
            })
            .unwrap();
        match filed {
            Filed::NewTicket(n) | Filed::Appended(n) => n,
            other => panic!("not filed: {other:?}"),
        }
    }

    fn mail(id: &str, subject: &str, parent: Option<&str>, body: &str) -> String {
        let parent = parent
            .map(|p| format!("In-Reply-To: <{p}>\r\n"))
            .unwrap_or_default();
        format!("From: ann@example.com\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{parent}\r\n{body}\r\n")
    }

    fn texts(desk: &Desk, t: TicketNo) -> Vec<String> {
        let thread = desk.store.messages(t).unwrap();
        thread.into_iter().map(|m| m.unwrap().text).collect()
    }

    #[test]
    fn a_split_moves_the_message_and_links_both_tickets() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let admin = Actor::local_admin();
        let n = receive(&desk, &mail("a1@x", "First thing", None, "first body"));
        let again = receive(
            &desk,
            &mail("a2@x", "Other thing", Some("a1@x"), "another matter"),
        );
        assert_eq!(again, n);
        assert!(matches!(
            desk.split(&admin, n, 9),
            Err(DeskError::NotFound(_))
        ));

        let split = desk.split(&admin, n, 2).unwrap();
        assert_eq!(split.subject.as_str(), "Other thing");
        assert_eq!(
            split.customer,
            desk.store.ticket(n).unwrap().unwrap().customer
        );
        assert!(texts(&desk, split.number)[0].contains("another matter"));
        assert!(!texts(&desk, n).iter().any(|t| t.contains("another matter")));
        assert!(desk.store.raw_mail(split.number, 1).unwrap().is_some());
        assert!(desk.store.raw_mail(n, 2).unwrap().is_none());
        let source = desk.store.ticket(n).unwrap().unwrap();
        assert_eq!(
            sealdesk_api::links_line(&source.links),
            format!("related {}", split.number)
        );
        assert_eq!(
            sealdesk_api::links_line(&split.links),
            format!("related {n}")
        );

        // What is left is one message (and the desk's note): not split off alone.
        assert!(matches!(
            desk.split(&admin, n, 1),
            Err(DeskError::Invalid(_))
        ));
        // A reply to the moved mail threads into the new ticket.
        let reply = receive(
            &desk,
            &mail("a3@x", "Re: Other thing", Some("a2@x"), "more"),
        );
        assert_eq!(reply, split.number);
    }
}
