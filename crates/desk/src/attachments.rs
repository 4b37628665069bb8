//! Reading files out of the desk: a ticket's attachments and the export archives, as
//! the SFTP tree serves them. Roles and the privacy rules are checked here, and every
//! download is audited here, so the SFTP layer only translates.
//!
//! The rules: any agent who exists now may list and download a ticket's files; a
//! restricted customer's files (restriction of processing) are only for admins, as
//! handing a copy out is processing; an erased customer's files are gone (their key is).
//! Export archives are for admins only, as writing one to a file is (Part 7). Audit
//! events name tickets, message positions, sizes and export ids, never a file name
//! (customer text): the customer is the log's pseudonym.

use super::write::Hold;
use super::{Actor, Desk, DeskError, Result, ATTACHMENTS_PER_DRAFT, ATTACHMENT_MAX};
use sealdesk_api::{ticket_files, TicketFile};
use sealdesk_model::{
    AgentRole, Attachment, Customer, ExportDelivery, ExportRecord, ExportWay, Ticket, TicketNo,
    Timestamp,
};
use sealdesk_store::StoreError;

/// How an export archive is named in the SFTP tree (`/exports/NAME`).
pub fn export_file_name(record: &ExportRecord) -> String {
    format!("export-{}.tar.gz", record.id)
}

impl Desk {
    /// Refuses an agent who no longer exists (a session outliving its agent); returns
    /// the role otherwise.
    fn require_agent(&self, actor: &Actor) -> Result<AgentRole> {
        self.current_role(actor)?.ok_or_else(|| {
            DeskError::Forbidden(format!(
                "agent {} no longer exists: ask an admin",
                sealdesk_model::sanitize::line(&actor.name)
            ))
        })
    }

    /// Up to `limit` ticket numbers after `after`, in order: the SFTP tree lists
    /// `/tickets/` in batches from the queue index, never all at once.
    pub fn ticket_numbers_after(
        &self,
        actor: &Actor,
        after: TicketNo,
        limit: usize,
    ) -> Result<Vec<TicketNo>> {
        self.require_agent(actor)?;
        self.ensure_queue_index()?;
        let slot = self.queue.read();
        Ok(slot
            .built
            .as_ref()
            .map(|idx| idx.numbers_after(after, limit))
            .unwrap_or_default())
    }

    /// The ticket and its customer, once `actor` may read its files.
    fn files_gate(&self, actor: &Actor, number: TicketNo) -> Result<(Ticket, Customer)> {
        let role = self.require_agent(actor)?;
        let ticket = self.store.ticket(number)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "there is no ticket {number}: see `sealdesk ticket list`"
            ))
        })?;
        let erased = || {
            DeskError::NotFound(format!(
                "the customer of ticket {number} was erased: their files are gone"
            ))
        };
        let customer = match self.store.customer(&ticket.customer) {
            Ok(Some(c)) => c,
            Ok(None) | Err(StoreError::Erased) => return Err(erased()),
            Err(e) => return Err(e.into()),
        };
        if customer.flags.restricted && role != AgentRole::Admin {
            return Err(DeskError::Forbidden(format!(
                "the customer of ticket {number} is restricted (restriction of processing): only an admin can take their files out"
            )));
        }
        Ok((ticket, customer))
    }

    /// The files of ticket `number`'s thread, with their unique names (see
    /// [`sealdesk_api::ticket_files`]); erased messages have none. Audited as one
    /// `attachment.list`.
    pub fn ticket_attachments(&self, actor: &Actor, number: TicketNo) -> Result<Vec<TicketFile>> {
        let (ticket, _) = self.files_gate(actor, number)?;
        let messages: Vec<_> = self
            .store
            .messages(number)?
            .into_iter()
            .filter_map(|m| m.ok())
            .collect();
        let files = ticket_files(&messages);
        self.audit_only(
            actor,
            "attachment.list",
            vec![number.to_string(), format!("files={}", files.len())],
            Some(&ticket.customer),
        )?;
        Ok(files)
    }

    /// The bytes of the file of ticket `number` listed as `name` (its unique name),
    /// audited as `attachment.download` with ticket, message position and size.
    pub fn read_attachment(
        &self,
        actor: &Actor,
        number: TicketNo,
        name: &str,
    ) -> Result<(TicketFile, Vec<u8>)> {
        let (ticket, _) = self.files_gate(actor, number)?;
        let messages: Vec<_> = self
            .store
            .messages(number)?
            .into_iter()
            .filter_map(|m| m.ok())
            .collect();
        let file = ticket_files(&messages)
            .into_iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                DeskError::NotFound(format!(
                    "ticket {number} has no file of that name: list /tickets/{}/attachments",
                    number.0
                ))
            })?;
        let bytes = match self.store.attachment(&file.attachment.id) {
            Ok(Some(bytes)) => bytes,
            Ok(None) | Err(StoreError::Erased) => {
                return Err(DeskError::NotFound(format!(
                    "that file of ticket {number} is gone (erased or never stored)"
                )))
            }
            Err(e) => return Err(e.into()),
        };
        self.audit_only(
            actor,
            "attachment.download",
            vec![
                number.to_string(),
                format!("seq={}", file.seq),
                format!("size={}", bytes.len()),
            ],
            Some(&ticket.customer),
        )?;
        Ok((file, bytes))
    }

    /// The files on `actor`'s draft reply on `number` (`/tickets/N/outgoing/`).
    pub fn draft_files(&self, actor: &Actor, number: TicketNo) -> Result<Vec<Attachment>> {
        self.require_agent(actor)?;
        Ok(self
            .draft(actor, number)?
            .map(|d| d.attachments)
            .unwrap_or_default())
    }

    /// The export archives whose content is still kept, oldest first (admins only).
    pub fn export_archives(&self, actor: &Actor) -> Result<Vec<ExportRecord>> {
        self.require_admin(actor, "read export archives")?;
        Ok(self
            .store
            .export_records()?
            .into_iter()
            .filter(|r| r.content_deleted.is_none())
            .collect())
    }

    /// The bytes of the export archive named `name` in `/exports/` (admins only). The
    /// copy leaving the desk is recorded on the export, so the erasure preview lists it,
    /// and audited as `customer.export-downloaded`.
    pub fn read_export_archive(&self, actor: &Actor, name: &str) -> Result<Vec<u8>> {
        let record = self
            .export_archives(actor)?
            .into_iter()
            .find(|r| export_file_name(r) == name)
            .ok_or_else(|| {
                DeskError::NotFound("there is no export archive of that name: list exports/".into())
            })?;
        let bytes = self.export_content(&record)?;
        self.write(actor, &[Hold::Customer(record.customer)], |u| {
            let Some(mut r) = u.tx.store().export_record(&record.id)? else {
                return Err(DeskError::NotFound("that export is gone".into()));
            };
            r.deliveries.push(ExportDelivery {
                at: Timestamp::now(),
                by: actor.name.clone(),
                way: ExportWay::File {
                    path: Some(format!("an SFTP download to {}", actor.source)),
                },
            });
            u.tx.put_export_record(&r)?;
            u.audit(
                "customer.export-downloaded",
                vec![record.id.to_string(), format!("bytes={}", bytes.len())],
                Some(&record.customer),
            );
            Ok(())
        })?;
        Ok(bytes)
    }
}

impl Desk {
    /// Attaches an uploaded file to `actor`'s draft reply on `number` (as
    /// [`Desk::attach_to_draft`], for an agent who still exists).
    pub fn upload_to_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        self.require_agent(actor)?;
        self.attach_to_draft(actor, number, name, content_type, bytes)
    }

    /// Takes the file shown as `name` in `outgoing/` off `actor`'s draft on `number`.
    pub fn remove_from_draft(&self, actor: &Actor, number: TicketNo, name: &str) -> Result<()> {
        let file = self
            .draft_files(actor, number)?
            .into_iter()
            .find(|a| sealdesk_api::path_safe_name(&a.name) == name)
            .ok_or_else(|| {
                DeskError::NotFound(format!(
                    "the draft on ticket {number} has no file of that name: list /tickets/{}/outgoing",
                    number.0
                ))
            })?;
        self.detach_from_draft(actor, number, &file.name)
    }
}

/// The media type of a file an agent attaches, from its name's extension.
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// A file the CLI read for `ticket reply --attach`.
#[derive(Clone, Debug)]
pub struct ReplyFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Desk {
    /// A reply with files (`ticket reply N --attach FILE`): the files are sealed with
    /// the ticket's customer's key and staged with the reply in one unit, within the
    /// caps of a draft ([`ATTACHMENT_MAX`], [`ATTACHMENTS_PER_DRAFT`]). `parties` as
    /// for [`Desk::add_reply_addressed`] (empty: the ticket's defaults).
    pub fn reply_with_files(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        parties: &sealdesk_model::Parties,
        files: &[ReplyFile],
        override_reason: Option<&str>,
    ) -> Result<sealdesk_model::Message> {
        if files.len() > ATTACHMENTS_PER_DRAFT {
            return Err(DeskError::Invalid(format!(
                "a reply carries at most {ATTACHMENTS_PER_DRAFT} files: attach fewer"
            )));
        }
        let mut named = Vec::with_capacity(files.len());
        for f in files {
            let name = crate::drafts::attachment_name(&f.name)?;
            if f.bytes.len() > ATTACHMENT_MAX {
                return Err(DeskError::Invalid(format!(
                    "{name} is over {} MiB: send a link instead",
                    ATTACHMENT_MAX / (1024 * 1024)
                )));
            }
            named.push((name, f));
        }
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let ticket = crate::triage::load_ticket(u, number)?;
            let mut attachments = Vec::with_capacity(named.len());
            for (name, f) in &named {
                let attachment = Attachment {
                    id: sealdesk_model::AttachmentId::random(),
                    name: name.clone(),
                    content_type: content_type_for(name).to_string(),
                    size: f.bytes.len() as u64,
                };
                u.tx.put_attachment(&ticket.customer, &attachment.id, &f.bytes)?;
                u.audit(
                    "reply.attach",
                    vec![number.to_string(), format!("size={}", f.bytes.len())],
                    Some(&ticket.customer),
                );
                attachments.push(attachment);
            }
            let compose = crate::triage::Compose {
                kind: sealdesk_model::MessageKind::Outbound,
                text: text.to_string(),
                parties: parties.clone(),
                attachments,
            };
            self.stage_checked(u, actor, number, &compose, override_reason)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{desk, public_key_line};
    use crate::{Authority, Incoming};

    const MAIL: &[u8] = b"From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Scan\r\nMessage-ID: <a1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\n\r\n%PDF\r\n--B--\r\n";

    fn agent(desk: &Desk, name: &str, role: AgentRole, seed: u8) -> Actor {
        desk.add_agent(&Actor::local_admin(), name, role, &[public_key_line(seed)])
            .unwrap();
        Actor {
            name: name.into(),
            key_fingerprint: None,
            source: "ssh test".into(),
            kind: sealdesk_api::ActorKind::Agent,
        }
    }

    fn filed(desk: &Desk) -> TicketNo {
        desk.receive_mail(Incoming {
            raw: MAIL,
            envelope_from: None,
            source: "test",
        })
        .unwrap();
        TicketNo(1)
    }

    #[test]
    fn agents_read_files_audited_until_restricted_erased_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = agent(&desk, "alice", AgentRole::Agent, 1);
        let boss = agent(&desk, "boss", AgentRole::Admin, 2);
        let t = filed(&desk);
        assert_eq!(
            desk.ticket_numbers_after(&alice, TicketNo(0), 10).unwrap(),
            [t]
        );
        let files = desk.ticket_attachments(&alice, t).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "scan.pdf");
        let (_, bytes) = desk.read_attachment(&alice, t, "scan.pdf").unwrap();
        assert_eq!(bytes.len() as u64, files[0].attachment.size);
        let events = crate::testing::audit_events(&desk);
        let download = events
            .iter()
            .find(|e| e.action == "attachment.download")
            .unwrap();
        assert_eq!(download.targets[1], "seq=1");
        assert!(download.customer.is_some());

        // Restricted: admins only.
        let ann = desk.find_customer(&boss, "ann@example.com").unwrap();
        desk.set_restricted(&boss, &ann, true).unwrap();
        assert!(matches!(
            desk.read_attachment(&alice, t, "scan.pdf"),
            Err(DeskError::Forbidden(_))
        ));
        assert!(desk.read_attachment(&boss, t, "scan.pdf").is_ok());
        desk.set_restricted(&boss, &ann, false).unwrap();

        // Exports: admins only.
        assert!(matches!(
            desk.export_archives(&alice),
            Err(DeskError::Forbidden(_))
        ));
        let record = desk
            .create_export(&boss, &ann, &Authority::Override("test".into()))
            .unwrap();
        let name = export_file_name(&record);
        assert!(desk.read_export_archive(&alice, &name).is_err());
        assert_eq!(
            desk.read_export_archive(&boss, &name).unwrap().len() as u64,
            record.size
        );

        // A removed agent's open session gets nothing more.
        desk.remove_agent(&Actor::local_admin(), "alice").unwrap();
        for refused in [
            desk.ticket_numbers_after(&alice, TicketNo(0), 10).err(),
            desk.read_attachment(&alice, t, "scan.pdf").err(),
            desk.draft_files(&alice, t).err(),
            desk.upload_to_draft(&alice, t, "a.txt", "text/plain", b"x")
                .err(),
        ] {
            assert!(
                matches!(refused, Some(DeskError::Forbidden(_))),
                "{refused:?}"
            );
        }

        // Erased: the files are gone, never bytes.
        desk.cancel_customer(
            &boss,
            "ann@example.com",
            "ann@example.com",
            &Authority::Override("test".into()),
        )
        .unwrap();
        assert!(matches!(
            desk.read_attachment(&boss, t, "scan.pdf"),
            Err(DeskError::NotFound(_))
        ));
        assert!(desk.read_export_archive(&boss, &name).is_err());
    }
}
