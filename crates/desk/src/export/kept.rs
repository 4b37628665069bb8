//! Export archives kept sealed in the store, and the only ways they leave the desk:
//! by mail to the verified requester (once per archive), or written to a file the
//! admin names (recorded, audited, and listed again by the erasure preview so the copy
//! can be deleted). Nothing is written to the data dir in plaintext.

use crate::gate::{audit_override, Authority, Gated};
use crate::write::Hold;
use crate::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    Customer, ExportDelivery, ExportId, ExportRecord, ExportWay, RequestId, Timestamp,
};
use std::path::{Path, PathBuf};

impl Desk {
    /// Builds everything about `customer` into one .tar.gz and keeps it sealed with
    /// their key, once `authority` allows it (a verified request of theirs, or an
    /// admin's override, audited with the export in one unit). Audited as
    /// `customer.export`. The way every adapter exports.
    pub fn create_export(
        &self,
        actor: &Actor,
        customer: &Customer,
        authority: &Authority,
    ) -> Result<ExportRecord> {
        self.check_authority(actor, &customer.id, Gated::Export, authority)?;
        let request = authority.request();
        let files = self.export_files(customer, request)?;
        let id = ExportId::random();
        let archive = crate::export::archive::tar_gz_bytes(&files, &format!("export-{id}"))
            .map_err(|e| DeskError::Invalid(format!("cannot pack the export ({e})")))?;
        let record = ExportRecord {
            id,
            customer: customer.id,
            created: Timestamp::now(),
            by: actor.name.clone(),
            size: archive.len() as u64,
            files: files.len() as u32,
            request,
            deliveries: Vec::new(),
            content_deleted: None,
        };
        self.write(actor, &[Hold::Customer(customer.id)], |u| {
            u.tx.put_export_archive(&customer.id, &id, &archive)?;
            u.tx.put_export_record(&record)?;
            let mut targets = vec![id.to_string(), format!("files={}", files.len())];
            targets.extend(request.map(|r| r.to_string()));
            u.audit("customer.export", targets, Some(&customer.id));
            if let Authority::Override(reason) = authority {
                audit_override(u, &customer.id, Gated::Export, reason);
            }
            Ok(())
        })?;
        Ok(record)
    }

    /// A customer's exports, oldest first (index entries only; no content is read).
    pub fn exports_of(&self, customer: &Customer) -> Result<Vec<ExportRecord>> {
        Ok(self
            .store
            .export_records()?
            .into_iter()
            .filter(|r| r.customer == customer.id)
            .collect())
    }

    /// The newest export made for a request, if any.
    pub fn export_for_request(&self, request: &RequestId) -> Result<Option<ExportRecord>> {
        Ok(self
            .store
            .export_records()?
            .into_iter()
            .rev()
            .find(|r| r.request.as_ref() == Some(request)))
    }

    fn find_export(&self, id: &ExportId) -> Result<ExportRecord> {
        self.store.export_record(id)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "there is no export {id}: see `sealdesk customer exports EMAIL`"
            ))
        })
    }

    pub(crate) fn export_content(&self, record: &ExportRecord) -> Result<Vec<u8>> {
        let gone = || {
            DeskError::NotFound(format!(
                "the content of export {} was deleted (erased or expired): make a new one with `sealdesk customer export EMAIL`",
                record.id
            ))
        };
        match self.store.export_archive(&record.id) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) | Err(sealdesk_store::StoreError::Erased) => Err(gone()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a stored archive to `out` (a new file, mode 0600), the admin's choice of
    /// a copy outside the desk: its path, time and who are recorded in the index and
    /// audited. If the record cannot be stored the file is removed again, so every
    /// copy written is one the erasure preview lists. Returns the absolute path.
    pub fn write_export_file(&self, actor: &Actor, id: &ExportId, out: &Path) -> Result<PathBuf> {
        self.require_admin(actor, "write an export to a file")?;
        let record = self.find_export(id)?;
        let bytes = self.export_content(&record)?;
        let path = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
        crate::export::archive::write_new_file(&path, &bytes).map_err(|e| {
            DeskError::Invalid(format!(
                "cannot write {} ({e}): pick another --out (an existing file is never overwritten)",
                path.display()
            ))
        })?;
        let shown = path.to_string_lossy().into_owned();
        let recorded = self.write(actor, &[Hold::Customer(record.customer)], |u| {
            let mut r = self.find_export(id)?;
            r.deliveries.push(ExportDelivery {
                at: Timestamp::now(),
                by: actor.name.clone(),
                way: ExportWay::File {
                    path: Some(shown.clone()),
                },
            });
            u.tx.put_export_record(&r)?;
            u.audit(
                "customer.export-written",
                vec![id.to_string(), format!("bytes={}", bytes.len())],
                Some(&r.customer),
            );
            Ok(())
        });
        if let Err(e) = recorded {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(path)
    }

    /// Queues a stored archive by mail to the customer's known address. Only for a
    /// request of that customer whose requester's identity was verified, within
    /// `mail.max_size`, and once per archive: a second time says when and to whom it
    /// went. The copy in the outbox is sealed with the customer's key and deleted once
    /// sent. Returns the address it goes to.
    pub fn mail_export(&self, actor: &Actor, id: &ExportId, request: &RequestId) -> Result<String> {
        use sealdesk_model::{ComposedAttachment, ComposedMail};
        let record = self.find_export(id)?;
        let customer = self.store.customer(&record.customer)?.ok_or_else(|| {
            DeskError::NotFound("the customer of this export was erased: nothing to mail".into())
        })?;
        if let Some(done) = self.already_mailed(&record) {
            return Err(DeskError::Conflict(done));
        }
        self.check_mailable(&customer, request)?;
        let config = self.config().mail;
        let archive = self.export_content(&record)?;
        if archive.len() > config.max_size {
            return Err(DeskError::Invalid(format!(
                "the archive is {} bytes, over mail.max_size ({}): hand it over another way (`sealdesk customer exports EMAIL --save {id} --out FILE`)",
                archive.len(),
                config.max_size
            )));
        }
        let to = customer.primary_email().to_string();
        self.write(actor, &[Hold::Customer(customer.id)], |u| {
            let mut rec = self.find_export(id)?;
            if let Some(done) = self.already_mailed(&rec) {
                return Err(DeskError::Conflict(done));
            }
            let attachment = sealdesk_model::AttachmentId::random();
            u.tx.put_attachment(&customer.id, &attachment, &archive)?;
            self.queue_composed(
                u,
                ComposedMail {
                    to: to.clone(),
                    subject: "Your data export".into(),
                    message_id: sealdesk_mail::new_message_id(&config.message_id_domain()),
                    body: "As you asked, attached is a copy of the personal data we hold about you: open index.html inside the archive for a readable overview; the JSON files are machine-readable, and SHA256SUMS lets you check that nothing was changed.\n".into(),
                    attachment: Some(ComposedAttachment {
                        id: attachment,
                        owner: customer.id,
                        name: format!("{id}.tar.gz"),
                        content_type: "application/gzip".into(),
                    }),
                },
            )?;
            rec.deliveries.push(ExportDelivery {
                at: Timestamp::now(),
                by: actor.name.clone(),
                way: ExportWay::Mail {
                    request: *request,
                    to_key: self.store.email_key(&to),
                },
            });
            u.tx.put_export_record(&rec)?;
            u.audit(
                "customer.export-mailed",
                vec![
                    id.to_string(),
                    request.to_string(),
                    format!("bytes={}", archive.len()),
                ],
                Some(&customer.id),
            );
            Ok(())
        })?;
        Ok(to)
    }

    /// Whether an export for `request` may be mailed to `customer` now: a request of
    /// theirs whose requester's identity was verified, and `mail.from` set.
    pub fn check_mailable(&self, customer: &Customer, request: &RequestId) -> Result<()> {
        use sealdesk_model::RequestStatus;
        let r = self.request(request)?;
        if r.customer != customer.id {
            return Err(DeskError::Invalid(
                "that request belongs to another customer".into(),
            ));
        }
        if !matches!(
            r.status,
            RequestStatus::Verified | RequestStatus::InProgress | RequestStatus::Completed
        ) {
            return Err(DeskError::Invalid(format!(
                "the requester's identity is not verified (request is {}): verify it first, then mail the export",
                r.status
            )));
        }
        if self.config().mail.from.is_none() {
            return Err(DeskError::Invalid(
                "mail.from is not set, so nothing can be mailed: `sealdesk config set mail.from …`"
                    .into(),
            ));
        }
        Ok(())
    }

    /// "export … was already mailed on … to …" if this archive went out by mail before.
    pub fn already_mailed(&self, record: &ExportRecord) -> Option<String> {
        let d = record.mailed()?;
        let to = match self.store.customer(&record.customer) {
            Ok(Some(c)) => self.delivery_target(d, &c),
            _ => "an address no longer on file".into(),
        };
        Some(format!(
            "export {} was already mailed on {} to {to} (by {}): each archive is mailed once; make a new export to send a fresh copy",
            record.id,
            d.at,
            sealdesk_model::sanitize::line(&d.by)
        ))
    }

    /// Where one delivery went, in words: the path, or the address (found again by
    /// its keyed hash among the customer's addresses).
    pub fn delivery_target(&self, d: &ExportDelivery, customer: &Customer) -> String {
        match &d.way {
            ExportWay::File { path: Some(p) } => sealdesk_model::sanitize::line(p).into_owned(),
            ExportWay::File { path: None } => "a file (path no longer kept)".into(),
            ExportWay::Mail { to_key, .. } => customer
                .emails
                .iter()
                .find(|e| self.store.email_key(e) == *to_key)
                .map(|e| sealdesk_model::sanitize::line(e).into_owned())
                .unwrap_or_else(|| "an address no longer on file".into()),
        }
    }

    /// Lines for the erasure preview: every copy of an export written outside the desk
    /// (path, time, who), and plaintext archives an older version left in DATA/exports.
    pub(crate) fn exports_outside(&self, customer: &Customer) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for r in self.exports_of(customer)? {
            for d in r.files_outside() {
                lines.push(format!(
                    "{} written on {} by {} (export {})",
                    self.delivery_target(d, customer),
                    d.at,
                    sealdesk_model::sanitize::line(&d.by),
                    r.id
                ));
            }
        }
        for p in crate::export::archive::legacy_exports_of(&self.store.paths().data, &customer.id) {
            lines.push(format!(
                "{} (plaintext, from an older version: deleted by the erasure)",
                p.display()
            ));
        }
        Ok(lines)
    }

    /// Run when the server starts: plaintext archives an older version wrote to
    /// DATA/exports are named in the log (they are deleted when their customer is
    /// erased, or by retention after `privacy.export_retention_days`).
    pub fn warn_about_legacy_exports(&self) {
        let old = crate::export::archive::legacy_exports(&self.store.paths().data);
        if !old.is_empty() {
            tracing::warn!(
                "{} plaintext export archive(s) from an older version are in {}: delete them once handed over; they are deleted when their customer is erased, or after privacy.export_retention_days",
                old.len(),
                crate::export::archive::exports_dir(&self.store.paths().data).display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::desk;
    use crate::{Actor, Desk, Filed, Incoming, NewTicket};
    use sealdesk_model::{ExportWay, Timestamp};

    fn receive(desk: &Desk, raw: &str, envelope: Option<&str>) -> Filed {
        desk.receive_mail(Incoming {
            raw: raw.as_bytes(),
            envelope_from: envelope,
            source: "test",
        })
        .unwrap()
    }

    fn ticket_for(desk: &Desk, email: &str) -> sealdesk_model::Customer {
        let new = NewTicket {
            from: email,
            name: "Ann",
            subject: "s",
            body: "b",
            message_id: None,
        };
        desk.create_ticket(&Actor::local_admin(), new).unwrap().1
    }

    #[test]
    fn quarantine_is_sealed_for_its_sender_and_goes_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        desk.set_config_key(&admin, "mail.rate_limit", "1").unwrap();
        desk.set_config_key(&admin, "mail.from", "Support <support@desk.example>")
            .unwrap();
        let mail = |id: &str| {
            format!("From: Ann <ann@example.com>\r\nSubject: hi\r\nMessage-ID: <{id}@x>\r\n\r\nhello\r\n")
        };
        assert!(matches!(
            receive(&desk, &mail("1"), None),
            Filed::NewTicket(_)
        ));
        // A new sender whose first mail is held back gets a customer record too.
        desk.set_config_key(&admin, "mail.max_size", "10").unwrap();
        let first = "From: Cy <cy@example.com>\r\nSubject: big\r\n\r\nlong enough\r\n";
        assert!(matches!(
            receive(&desk, first, None),
            Filed::Quarantined(..)
        ));
        desk.set_config_key(&admin, "mail.max_size", "1000000")
            .unwrap();
        assert!(matches!(
            receive(&desk, &mail("2"), None),
            Filed::Quarantined(..)
        ));
        // Unowned: the desk's own address (a loop), an unparsable message without an
        // envelope sender, and a delivery report.
        let own = "From: support@desk.example\r\nSubject: loop\r\n\r\nx\r\n";
        assert!(matches!(receive(&desk, own, None), Filed::Quarantined(..)));
        assert!(matches!(
            receive(&desk, "\u{0}garbage", None),
            Filed::Quarantined(..)
        ));
        let bounce = "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <unknown@desk.example>\r\n--R--\r\n";
        receive(&desk, bounce, None);

        let store = desk.store();
        let ann = store.customer_by_email("ann@example.com").unwrap().unwrap();
        let cy = store.customer_by_email("cy@example.com").unwrap().unwrap();
        assert_eq!(store.quarantine_of(&ann.id).unwrap().len(), 1);
        assert_eq!(store.quarantine_of(&cy.id).unwrap().len(), 1);
        let unowned = store.unowned_quarantine().unwrap().len();
        assert_eq!(
            unowned, 3,
            "loop, unparsable mail and the report stay master-sealed"
        );
        let all = store.quarantine().unwrap().len();
        assert_eq!(all, 2 + unowned);

        // One an older version kept master-sealed: found by its sender and erased too.
        let old = sealdesk_model::QuarantineItem {
            id: sealdesk_model::QuarantineId::random(),
            received: Timestamp::now(),
            reason: "older version".into(),
            source: "test".into(),
            envelope_from: String::new(),
            raw: mail("old").into_bytes(),
        };
        let mut tx = store.begin();
        tx.put_quarantine(&old, None).unwrap();
        store.commit(tx).unwrap();
        assert_eq!(store.unowned_quarantine().unwrap().len(), unowned + 1);

        let counts = desk
            .cancel_customer(
                &admin,
                "ann@example.com",
                "ann@example.com",
                &crate::Authority::Override("test".into()),
            )
            .unwrap();
        assert_eq!(counts.quarantined, 2);
        assert_eq!(store.quarantine().unwrap().len(), all - 1);
        assert!(store.quarantine_item(&old.id).unwrap().is_none());
        assert_eq!(store.quarantine_of(&cy.id).unwrap().len(), 1, "Cy's stays");

        // Retention deletes the unowned ones after privacy.quarantine_days, not Cy's.
        let later = Timestamp::now().plus_days(31);
        let report = desk.run_retention(&admin, false, later).unwrap();
        assert_eq!(report.quarantine_removed.len(), unowned);
        assert_eq!(store.quarantine().unwrap().len(), 1);
    }

    /// Two agents press `M` for the same archive at the same moment: it is mailed once,
    /// and the other hears when and to whom it went.
    #[test]
    fn an_archive_mailed_by_two_at_once_goes_out_once() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        desk.set_config_key(&admin, "mail.from", "Support <support@desk.example>")
            .unwrap();
        let ann = ticket_for(&desk, "ann@example.com");
        let request = desk
            .open_request(&admin, &ann, sealdesk_model::RequestKind::Export, None)
            .unwrap();
        desk.verify_request(&admin, &request.id, "called back")
            .unwrap();
        let rec = desk
            .create_export(&admin, &ann, &crate::Authority::Request(request.id))
            .unwrap();
        let start = std::sync::Barrier::new(4);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        desk.mail_export(&admin, &rec.id, &request.id)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                refused.to_string().contains("already mailed on"),
                "{refused}"
            );
        }
        let queued = desk
            .store()
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|e| e.composed.is_some())
            .count();
        assert_eq!(queued, 1);
        let after = desk.store().export_record(&rec.id).unwrap().unwrap();
        assert_eq!(after.deliveries.len(), 1);
    }

    #[test]
    fn an_archive_leaves_by_file_and_mail_once_and_erasure_keeps_only_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        desk.set_config_key(&admin, "mail.from", "Support <support@desk.example>")
            .unwrap();
        let ann = ticket_for(&desk, "ann@example.com");
        let request = desk
            .open_request(&admin, &ann, sealdesk_model::RequestKind::Export, None)
            .unwrap();
        desk.verify_request(&admin, &request.id, "called back")
            .unwrap();
        let rec = desk
            .create_export(&admin, &ann, &crate::Authority::Request(request.id))
            .unwrap();
        let stored = desk.store().export_archive(&rec.id).unwrap().unwrap();
        assert_eq!(stored.len() as u64, rec.size);

        let out = dir.path().join("copy.tar.gz");
        let path = desk.write_export_file(&admin, &rec.id, &out).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), stored);
        let again = desk.write_export_file(&admin, &rec.id, &out).unwrap_err();
        assert!(again.to_string().contains("pick another --out"), "{again}");

        assert_eq!(
            desk.mail_export(&admin, &rec.id, &request.id).unwrap(),
            "ann@example.com"
        );
        let twice = desk.mail_export(&admin, &rec.id, &request.id).unwrap_err();
        let twice = twice.to_string();
        assert!(
            twice.contains("already mailed on") && twice.contains("to ann@example.com"),
            "{twice}"
        );
        let composed = desk
            .store()
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|e| e.composed.is_some())
            .count();
        assert_eq!(composed, 1);

        let preview = desk.erasure_preview(&admin, "ann@example.com").unwrap();
        assert!(preview.contains(&path.display().to_string()), "{preview}");
        desk.cancel_customer(
            &admin,
            "ann@example.com",
            "ann@example.com",
            &crate::Authority::Override("test".into()),
        )
        .unwrap();
        // The mailed copy still waiting in the outbox (no relay here) goes with her; the
        // erasure's confirmation is what waits now.
        let waiting: Vec<_> = desk
            .store()
            .outbox()
            .unwrap()
            .into_iter()
            .filter_map(|e| e.composed)
            .collect();
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        assert!(waiting[0].attachment.is_none(), "{waiting:?}");
        assert_eq!(waiting[0].subject, "Your account has been cancelled");
        let after = desk.store().export_record(&rec.id).unwrap().unwrap();
        assert!(after.content_deleted.is_some());
        assert!(desk.store().export_archive(&rec.id).unwrap().is_none());
        assert!(after
            .deliveries
            .iter()
            .all(|d| !matches!(d.way, ExportWay::File { path: Some(_) })));
        assert_eq!(after.deliveries.len(), 2, "how and when stay");
    }

    #[test]
    fn retention_expires_a_stored_archive_and_keeps_its_index_entry() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let ann = ticket_for(&desk, "ann@example.com");
        let rec = desk
            .create_export(&admin, &ann, &crate::Authority::Override("test".into()))
            .unwrap();
        let soon = desk.run_retention(&admin, true, Timestamp::now()).unwrap();
        assert!(soon.exports_expired.is_empty());
        let later = Timestamp::now().plus_days(8);
        let dry = desk.run_retention(&admin, true, later).unwrap();
        assert_eq!(dry.exports_expired, vec![rec.id]);
        assert!(desk.store().export_archive(&rec.id).unwrap().is_some());
        desk.run_retention(&admin, false, later).unwrap();
        assert!(desk.store().export_archive(&rec.id).unwrap().is_none());
        let kept = desk.store().export_record(&rec.id).unwrap().unwrap();
        assert!(kept.content_deleted.is_some());
        let out = dir.path().join("late.tar.gz");
        let gone = desk.write_export_file(&admin, &rec.id, &out).unwrap_err();
        assert!(gone.to_string().contains("was deleted"), "{gone}");
        assert!(!out.exists());
    }

    #[test]
    fn suppression_after_erasure_can_be_turned_off() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        ticket_for(&desk, "ann@example.com");
        ticket_for(&desk, "bo@example.com");
        desk.cancel_customer(
            &admin,
            "ann@example.com",
            "ann@example.com",
            &crate::Authority::Override("test".into()),
        )
        .unwrap();
        assert!(desk.store().is_suppressed("ann@example.com").unwrap());
        desk.set_config_key(&admin, "privacy.suppress_after_erasure", "false")
            .unwrap();
        let preview = desk.erasure_preview(&admin, "bo@example.com").unwrap();
        assert!(!preview.contains("keyed hash"), "{preview}");
        desk.cancel_customer(
            &admin,
            "bo@example.com",
            "bo@example.com",
            &crate::Authority::Override("test".into()),
        )
        .unwrap();
        assert!(!desk.store().is_suppressed("bo@example.com").unwrap());
    }
}
