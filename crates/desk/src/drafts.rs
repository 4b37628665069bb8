//! Drafts: the reply or note an agent is writing, kept sealed per agent and ticket
//! until it is sent or discarded, with the files attached to it; and who a reply goes
//! to by default.

use super::triage::{load_ticket, Compose};
use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    sanitize, Attachment, AttachmentId, Draft, Message, MessageKind, Parties, Ticket, TicketNo,
    Timestamp,
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
            let mut draft =
                u.tx.store()
                    .draft(number, &me)?
                    .unwrap_or_else(|| Draft::new(number, &me, now));
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
            let mut draft =
                u.tx.store()
                    .draft(number, &me)?
                    .unwrap_or_else(|| Draft::new(number, &me, now));
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
}
