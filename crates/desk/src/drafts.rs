//! Drafts: the reply or note an agent is writing, kept sealed per agent and ticket
//! until it is sent or discarded, with the files attached to it; and who a reply goes
//! to by default.

use super::triage::{load_ticket, Compose};
use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    sanitize, Attachment, AttachmentId, Author, Draft, Message, MessageKind, OutboxEntry, Parties,
    Ticket, TicketNo, Timestamp,
};

/// Largest file an agent may attach to a reply (what most relays accept in one mail).
pub const ATTACHMENT_MAX: usize = 20 * 1024 * 1024;
/// Most files on one draft.
pub const ATTACHMENTS_PER_DRAFT: usize = 20;

impl Desk {
    /// Who a reply on this ticket goes to unless the agent changes it: To the
    /// requester (or the Reply-To of their latest mail), Cc the other participants;
    /// never a support address (see `participants`).
    pub(crate) fn default_parties(&self, ticket: &Ticket) -> Result<Parties> {
        self.participant_parties(ticket)
    }

    /// The To/Cc lines a reply on `number` starts with.
    pub fn reply_parties(&self, _actor: &Actor, number: TicketNo) -> Result<Parties> {
        let ticket = self
            .store
            .ticket(number)?
            .ok_or_else(|| no_ticket(number))?;
        self.default_parties(&ticket)
    }

    /// The draft `actor` keeps on `number`, if any.
    pub fn draft(&self, actor: &Actor, number: TicketNo) -> Result<Option<Draft>> {
        Ok(self.store.draft(number, &actor.name)?)
    }

    /// The other agents who keep a draft on `number` (someone else is replying).
    pub fn drafting_on(&self, actor: &Actor, number: TicketNo) -> Result<Vec<String>> {
        Ok(self
            .store
            .draft_owners()?
            .into_iter()
            .filter(|(n, agent)| *n == number && *agent != actor.name)
            .map(|(_, agent)| agent)
            .collect())
    }

    /// The tickets on which `actor` keeps a draft (the queue's marker).
    pub fn tickets_with_drafts(&self, actor: &Actor) -> Result<Vec<TicketNo>> {
        Ok(self
            .store
            .draft_owners()?
            .into_iter()
            .filter(|(_, agent)| *agent == actor.name)
            .map(|(n, _)| n)
            .collect())
    }

    /// Keeps what `actor` has written on `number` (kind, text, recipients); its
    /// attachments stay. A blank draft without files is removed instead.
    pub fn save_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        kind: MessageKind,
        body: &str,
        parties: &Parties,
    ) -> Result<Option<Draft>> {
        if body.len() > sealdesk_api::DRAFT_BYTES_MAX {
            return Err(DeskError::Invalid(format!(
                "the draft is over {} KiB: shorten it or attach the text as a file",
                sealdesk_api::DRAFT_BYTES_MAX / 1024
            )));
        }
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let me = u.actor_name().to_string();
            let ticket = load_ticket(u, number)?;
            let now = Timestamp::now();
            let mut draft = own_draft(u, number, &me, now)?;
            draft.kind = kind;
            draft.body = body.to_string();
            draft.parties = parties.clone();
            draft.updated = now;
            if draft.is_blank() {
                u.tx.remove_draft(number, &me)?;
                u.touch(number);
                return Ok(None);
            }
            u.tx.put_draft(&ticket.customer, &draft)?;
            u.touch(number);
            Ok(Some(draft))
        })
    }

    /// Attaches a file to `actor`'s draft reply on `number` (creating the draft),
    /// sealed with the ticket's customer's key. A file of the same name is replaced.
    pub fn attach_to_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let name = attachment_name(name)?;
        if bytes.len() > ATTACHMENT_MAX {
            return Err(DeskError::Invalid(format!(
                "{name} is over {} MiB: send a link instead",
                ATTACHMENT_MAX / (1024 * 1024)
            )));
        }
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let me = u.actor_name().to_string();
            let ticket = load_ticket(u, number)?;
            let now = Timestamp::now();
            let mut draft = own_draft(u, number, &me, now)?;
            if let Some(old) = draft.attachments.iter().position(|a| a.name == name) {
                let old = draft.attachments.remove(old);
                u.tx.remove_attachment(&old.id);
            }
            if draft.attachments.len() >= ATTACHMENTS_PER_DRAFT {
                return Err(DeskError::Invalid(format!(
                    "a reply carries at most {ATTACHMENTS_PER_DRAFT} files: remove one first"
                )));
            }
            let attachment = Attachment {
                id: AttachmentId::random(),
                name: name.clone(),
                content_type: content_type.to_string(),
                size: bytes.len() as u64,
            };
            u.tx.put_attachment(&ticket.customer, &attachment.id, bytes)?;
            draft.attachments.push(attachment.clone());
            draft.updated = now;
            u.tx.put_draft(&ticket.customer, &draft)?;
            u.audit(
                "draft.attach",
                vec![number.to_string(), format!("size={}", bytes.len())],
                Some(&ticket.customer),
            );
            u.touch(number);
            Ok(attachment)
        })
    }

    /// Takes a file off `actor`'s draft on `number`.
    pub fn detach_from_draft(&self, actor: &Actor, number: TicketNo, name: &str) -> Result<()> {
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let me = u.actor_name().to_string();
            let ticket = load_ticket(u, number)?;
            let Some(mut draft) = u.tx.store().draft(number, &me)? else {
                return Err(DeskError::NotFound(format!(
                    "there is no draft on ticket {number}: nothing to detach"
                )));
            };
            let Some(at) = draft.attachments.iter().position(|a| a.name == name) else {
                return Err(DeskError::NotFound(format!(
                    "the draft on ticket {number} has no file {:?}: see its list of files",
                    sanitize::line(name)
                )));
            };
            let gone = draft.attachments.remove(at);
            u.tx.remove_attachment(&gone.id);
            if draft.is_blank() {
                u.tx.remove_draft(number, &me)?;
            } else {
                u.tx.put_draft(&ticket.customer, &draft)?;
            }
            u.touch(number);
            Ok(())
        })
    }

    /// Throws `actor`'s draft on `number` away, with its files.
    pub fn discard_draft(&self, actor: &Actor, number: TicketNo) -> Result<()> {
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let me = u.actor_name().to_string();
            u.hold(Hold::Ticket(number))?;
            if let Some(draft) = u.tx.store().draft(number, &me)? {
                for a in &draft.attachments {
                    u.tx.remove_attachment(&a.id);
                }
                u.tx.remove_draft(number, &me)?;
                u.touch(number);
            }
            Ok(())
        })
    }

    /// Sends `actor`'s draft on `number` — a reply (to its To/Cc/Bcc, or the ticket's
    /// defaults) with its files, or a note — and removes the draft, in one unit.
    pub fn send_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let me = u.actor_name().to_string();
            u.hold(Hold::Ticket(number))?;
            let Some(draft) = u.tx.store().draft(number, &me)? else {
                return Err(DeskError::NotFound(format!(
                    "there is no draft on ticket {number}: write one first"
                )));
            };
            let compose = Compose {
                kind: draft.kind,
                text: draft.body.clone(),
                parties: draft.parties.clone(),
                attachments: draft.attachments.clone(),
            };
            let message = self.stage_checked(u, actor, number, &compose, override_reason)?;
            u.tx.remove_draft(number, &me)?;
            Ok(message)
        })
    }

    /// The replies by `actor` on `number` that can still be taken back, with the time
    /// each may go out (oldest first).
    pub fn undoable_replies(
        &self,
        actor: &Actor,
        number: TicketNo,
    ) -> Result<Vec<(u32, Timestamp)>> {
        let now = Timestamp::now();
        let mut out = Vec::new();
        for e in self.store.outbox_of(number)? {
            if !self.may_unsend(&e, now) {
                continue;
            }
            let mine = self.store.message(number, e.seq)?.is_some_and(
                |m| matches!(&m.author, Author::Agent { name } if *name == actor.name),
            );
            if mine {
                out.push((e.seq, e.next_attempt));
            }
        }
        out.sort_by_key(|&(seq, _)| seq);
        Ok(out)
    }

    /// Takes back `actor`'s reply `seq` on `number` while it waits out `mail.send_delay`:
    /// the reply leaves the thread (and the outbox, and the Message-ID index) and is
    /// the agent's draft again, text, recipients and files. Refused once the outbox
    /// has picked it up or its time has come.
    pub fn unsend(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Draft> {
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let me = u.actor_name().to_string();
            let ticket = load_ticket(u, number)?;
            let now = Timestamp::now();
            let entry = u
                .tx
                .store()
                .outbox_entry(number, seq)?
                .filter(|e| e.composed.is_none());
            let too_late = || {
                DeskError::Invalid(format!(
                    "the reply on ticket {number} has already gone to the relay: it cannot be taken back"
                ))
            };
            let Some(entry) = entry else {
                return Err(too_late());
            };
            if !self.may_unsend(&entry, now) {
                return Err(too_late());
            }
            let Some(message) = u.tx.store().message(number, seq)? else {
                return Err(too_late());
            };
            if !matches!(&message.author, Author::Agent { name } if *name == me) {
                return Err(DeskError::Forbidden(format!(
                    "reply {seq} on ticket {number} is another agent's: only they can take it back"
                )));
            }
            // A draft begun meanwhile stays, after the reply taken back. The signatures
            // put on when it was staged come off: sending again puts them on again.
            let text = self.unsigned_text(&message.text, &ticket, &me)?;
            let mut draft = own_draft(u, number, &me, now)?;
            draft.body = if draft.body.trim().is_empty() {
                text
            } else {
                format!("{text}\n\n{}", draft.body)
            };
            draft.kind = MessageKind::Outbound;
            draft.parties = message.parties.clone();
            let mut files = message.attachments.clone();
            files.append(&mut draft.attachments);
            draft.attachments = files;
            draft.updated = now;
            u.tx.remove_outbox(number, seq);
            u.tx.remove_message(number, seq)?;
            if let Some(id) = &message.message_id {
                u.tx.unindex_message_id(id);
            }
            u.tx.put_draft(&ticket.customer, &draft)?;
            u.audit(
                "ticket.unsend",
                vec![number.to_string(), format!("message={seq}")],
                Some(&ticket.customer),
            );
            u.touch(number);
            Ok(draft)
        })
    }

    /// A reply may be taken back while it was never tried, its time has not come and
    /// the outbox worker is not handing it to the relay.
    fn may_unsend(&self, entry: &OutboxEntry, now: Timestamp) -> bool {
        entry.composed.is_none()
            && entry.attempts == 0
            && entry.last_error.is_none()
            && now < entry.next_attempt
            && !self.sending.lock().contains(&(entry.ticket, entry.seq))
    }

    /// For the outbox worker, just before it hands a reply to the relay: re-reads the
    /// entry under its ticket's hold and, if it is still there and due, marks it as
    /// being sent so [`Desk::unsend`] refuses it from then on. False: taken back, or
    /// not due (never send it). Release with [`Desk::sent_or_failed`].
    pub(crate) fn claim_for_sending(&self, ticket: TicketNo, seq: u32) -> Result<bool> {
        if ticket.0 == 0 {
            return Ok(true);
        }
        self.write(&Actor::system("outbox"), &[Hold::Ticket(ticket)], |u| {
            let now = Timestamp::now();
            let due =
                u.tx.store()
                    .outbox_entry(ticket, seq)?
                    .is_some_and(|e| e.next_attempt <= now);
            if due {
                self.sending.lock().insert((ticket, seq));
            }
            Ok(due)
        })
    }

    /// The outbox worker is done with a claimed reply (its fate is recorded).
    pub(crate) fn sent_or_failed(&self, ticket: TicketNo, seq: u32) {
        self.sending.lock().remove(&(ticket, seq));
    }
}

/// The draft `agent` keeps on `number`, read inside a unit that holds the ticket, or a
/// new empty one.
fn own_draft(u: &Unit<'_>, number: TicketNo, agent: &str, now: Timestamp) -> Result<Draft> {
    Ok(u.tx
        .store()
        .draft(number, agent)?
        .unwrap_or_else(|| Draft::new(number, agent, now)))
}

fn no_ticket(number: TicketNo) -> DeskError {
    DeskError::NotFound(format!(
        "there is no ticket {number}: see `sealdesk ticket list`"
    ))
}

/// A file name as it may be attached: no path, no control characters, not empty.
pub(crate) fn attachment_name(name: &str) -> Result<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = sanitize::line(base).trim().to_string();
    if clean.is_empty() || clean == "." || clean == ".." || clean.len() > 255 {
        return Err(DeskError::Invalid(format!(
            "{:?} is not a usable file name: give the file a plain name",
            sanitize::line(name)
        )));
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::desk;
    use crate::NewTicket;
    use sealdesk_model::Status;

    fn ticket(desk: &Desk, actor: &Actor) -> TicketNo {
        let new = NewTicket {
            from: "ann@example.com",
            name: "Ann",
            subject: "Printer",
            body: "It burns.",
            message_id: None,
        };
        desk.create_ticket(actor, new).unwrap().0.number
    }

    #[test]
    fn a_draft_is_kept_sent_with_its_files_and_gone_after() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let t = ticket(&desk, &admin);
        assert!(desk.draft(&admin, t).unwrap().is_none());
        desk.save_draft(
            &admin,
            t,
            MessageKind::Outbound,
            "Unplug it.",
            &Parties::default(),
        )
        .unwrap();
        let file = desk
            .attach_to_draft(
                &admin,
                t,
                "../../etc/manual.pdf",
                "application/pdf",
                b"%PDF",
            )
            .unwrap();
        assert_eq!(file.name, "manual.pdf");
        let kept = desk.draft(&admin, t).unwrap().unwrap();
        assert_eq!(kept.body, "Unplug it.");
        assert_eq!(kept.attachments, vec![file.clone()]);
        assert_eq!(desk.tickets_with_drafts(&admin).unwrap(), vec![t]);

        let sent = desk.send_draft(&admin, t, None).unwrap();
        assert_eq!(sent.kind, MessageKind::Outbound);
        assert_eq!(sent.attachments, vec![file.clone()]);
        assert_eq!(sent.parties.to, vec!["ann@example.com".to_string()]);
        assert!(desk.draft(&admin, t).unwrap().is_none());
        assert!(desk.tickets_with_drafts(&admin).unwrap().is_empty());
        assert_eq!(desk.store().attachment(&file.id).unwrap().unwrap(), b"%PDF");
        let (ticket, _) = desk.ticket_thread(&admin, t).unwrap();
        assert_eq!(ticket.status, Status::Open);
    }

    #[test]
    fn blank_drafts_are_not_kept_and_discard_removes_files() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let t = ticket(&desk, &admin);
        let saved = desk
            .save_draft(&admin, t, MessageKind::Note, "  \n", &Parties::default())
            .unwrap();
        assert!(saved.is_none());
        assert!(desk.draft(&admin, t).unwrap().is_none());
        let file = desk
            .attach_to_draft(&admin, t, "log.txt", "text/plain", b"lines")
            .unwrap();
        assert!(desk.store().attachment(&file.id).unwrap().is_some());
        desk.discard_draft(&admin, t).unwrap();
        assert!(desk.draft(&admin, t).unwrap().is_none());
        assert!(desk.store().attachment(&file.id).unwrap().is_none());
        assert!(desk.send_draft(&admin, t, None).is_err());
        assert!(desk
            .attach_to_draft(&admin, t, "/", "text/plain", b"x")
            .is_err());
    }

    fn with_delay(desk: &Desk, seconds: u64) {
        let mut config = desk.config();
        config.mail.send_delay = seconds;
        config.mail.from = Some("Support <support@example.com>".into());
        desk.replace_config(config);
    }

    #[test]
    fn a_reply_taken_back_in_time_is_the_draft_again_and_never_due() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let t = ticket(&desk, &admin);
        with_delay(&desk, 10);
        let parties = Parties {
            to: vec!["ann@example.com".into()],
            cc: vec!["bob@example.com".into()],
            bcc: Vec::new(),
        };
        desk.save_draft(&admin, t, MessageKind::Outbound, "Unplug it.", &parties)
            .unwrap();
        let file = desk
            .attach_to_draft(&admin, t, "manual.pdf", "application/pdf", b"%PDF")
            .unwrap();
        let sent = desk.send_draft(&admin, t, None).unwrap();
        let id = sent.message_id.clone().unwrap();
        assert_eq!(desk.store().ticket_for_message_id(&id).unwrap(), Some(t));
        // Waiting out the delay: not due yet, and listed as undoable.
        assert!(desk.due_replies(Timestamp::now()).unwrap().is_empty());
        let undoable = desk.undoable_replies(&admin, t).unwrap();
        assert_eq!(undoable.len(), 1);
        assert_eq!(undoable[0].0, sent.seq);
        assert!(undoable[0].1 .0 >= Timestamp::now().0 + 9);

        let draft = desk.unsend(&admin, t, sent.seq).unwrap();
        assert_eq!(draft.body, "Unplug it.");
        assert_eq!(draft.parties, parties);
        assert_eq!(draft.attachments, vec![file.clone()]);
        assert_eq!(desk.draft(&admin, t).unwrap(), Some(draft));
        assert!(desk.store().outbox().unwrap().is_empty());
        assert_eq!(desk.store().ticket_for_message_id(&id).unwrap(), None);
        let (_, thread) = desk.ticket_thread(&admin, t).unwrap();
        assert_eq!(thread.len(), 1, "only the customer's mail is left");
        assert!(crate::testing::audit_events(&desk)
            .iter()
            .any(|e| e.action == "ticket.unsend"));
        // Taken back once: nothing left to take back.
        assert!(desk.unsend(&admin, t, sent.seq).is_err());
        // Sent again, it is due after the delay only.
        let again = desk.send_draft(&admin, t, None).unwrap();
        assert!(
            desk.due_replies(Timestamp(Timestamp::now().0 + 11))
                .unwrap()
                .len()
                == 1
        );
        assert_eq!(again.attachments, vec![file]);
    }

    /// A signed reply taken back is the text the agent wrote: sent again, it carries
    /// its signature once.
    #[test]
    fn a_reply_taken_back_loses_its_signature_until_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let t = ticket(&desk, &admin);
        with_delay(&desk, 10);
        desk.add_agent(
            &admin,
            "alice",
            sealdesk_model::AgentRole::Agent,
            &[crate::testing::public_key_line(1)],
        )
        .unwrap();
        let alice = Actor::agent("alice", None, "test");
        desk.set_signature(&alice, "alice", Some("{agent}, for {customer.name}"))
            .unwrap();
        desk.save_draft(
            &alice,
            t,
            MessageKind::Outbound,
            "Unplug it.",
            &Parties::default(),
        )
        .unwrap();
        let sent = desk.send_draft(&alice, t, None).unwrap();
        assert_eq!(sent.text, "Unplug it.\n\n-- \nalice, for Ann\n");
        let draft = desk.unsend(&alice, t, sent.seq).unwrap();
        assert_eq!(draft.body, "Unplug it.");
        let again = desk.send_draft(&alice, t, None).unwrap();
        assert_eq!(again.text, sent.text);
    }

    #[test]
    fn a_due_or_claimed_reply_cannot_be_taken_back() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let t = ticket(&desk, &admin);
        with_delay(&desk, 0);
        let sent = desk.add_reply(&admin, t, "At once.").unwrap();
        assert!(desk.undoable_replies(&admin, t).unwrap().is_empty());
        assert!(desk.unsend(&admin, t, sent.seq).is_err());
        assert_eq!(desk.due_replies(Timestamp::now()).unwrap().len(), 1);

        // Claimed by the outbox worker: refused even though its time had not come
        // by the clock unsend reads.
        with_delay(&desk, 30);
        let later = desk.add_reply(&admin, t, "Later.").unwrap();
        assert!(
            !desk.claim_for_sending(t, later.seq).unwrap(),
            "not due yet"
        );
        desk.sending.lock().insert((t, later.seq));
        assert!(desk.unsend(&admin, t, later.seq).is_err());
        desk.sent_or_failed(t, later.seq);
        assert!(desk.unsend(&admin, t, later.seq).is_ok());
        // Taken back: the worker finds nothing to claim.
        assert!(!desk.claim_for_sending(t, later.seq).unwrap());
    }

    /// Eight agents write their drafts on one ticket at once, each saving and attaching
    /// in turns, while a reply goes out: every acknowledged save is there afterwards,
    /// each agent's own, none mixed with another's.
    #[test]
    fn many_agents_drafting_on_one_ticket_at_once_keep_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let desk = std::sync::Arc::new(desk(dir.path()));
        let admin = Actor::local_admin();
        let t = ticket(&desk, &admin);
        let agents: Vec<Actor> = (0..8u8)
            .map(|i| {
                let name = format!("agent{i}");
                desk.add_agent(
                    &admin,
                    &name,
                    sealdesk_model::AgentRole::Agent,
                    &[crate::testing::public_key_line(10 + i)],
                )
                .unwrap();
                Actor::agent(&name, None, "test")
            })
            .collect();
        let threads: Vec<_> = agents
            .iter()
            .cloned()
            .map(|a| {
                let desk = std::sync::Arc::clone(&desk);
                std::thread::spawn(move || {
                    let mut last = String::new();
                    for round in 0..20 {
                        last = format!("{} round {round}", a.name);
                        desk.save_draft(&a, t, MessageKind::Outbound, &last, &Parties::default())
                            .unwrap();
                        if round % 5 == 0 {
                            let file = format!("{}-{round}.txt", a.name);
                            desk.attach_to_draft(&a, t, &file, "text/plain", last.as_bytes())
                                .unwrap();
                        }
                    }
                    last
                })
            })
            .collect();
        desk.add_reply(&admin, t, "Meanwhile: we are on it.")
            .unwrap();
        let lasts: Vec<String> = threads.into_iter().map(|h| h.join().unwrap()).collect();
        let mut owners = desk.drafting_on(&admin, t).unwrap();
        owners.sort();
        let mut expected: Vec<String> = agents.iter().map(|a| a.name.clone()).collect();
        expected.sort();
        assert_eq!(owners, expected);
        for (a, last) in agents.iter().zip(&lasts) {
            let d = desk.draft(a, t).unwrap().unwrap();
            assert_eq!(&d.body, last);
            let names: Vec<&str> = d.attachments.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names.len(), 4, "{names:?}");
            assert!(names.iter().all(|n| n.starts_with(&format!("{}-", a.name))));
            for f in &d.attachments {
                assert!(desk.store().attachment(&f.id).unwrap().is_some());
            }
        }
    }
}
