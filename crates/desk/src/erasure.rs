//! Account cancellation with real erasure (crypto-shredding): everything sealed for the
//! customer is deleted or turned into "[erased]" placeholders (so ticket counts and
//! statistics survive) and their confirmation mail is queued, in one unit of work; then
//! their key is destroyed. Journalled first, so a crash part way is finished at the next
//! start.

use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{ComposedMail, TicketNo};
use sealdesk_store::{ErasureCounts, ErasureRecord};

impl Desk {
    /// What cancelling this customer will do, in words, for the confirmation prompt:
    /// what is erased, every copy of an export written outside the desk (which the
    /// admin must delete), and what is kept and why.
    pub fn erasure_preview(&self, actor: &Actor, email: &str) -> Result<String> {
        let c = self.find_customer(actor, email)?;
        let tickets = self.store.customer_tickets(&c.id)?.len();
        let consents = self.store.consents(&c.id)?.len();
        let quarantined = self.store.quarantine_of(&c.id)?.len();
        let exports = self.exports_of(&c)?.len();
        let mut text = format!(
            "This erases the customer {} for good: their data key is destroyed, their profile, {} address(es), {consents} consent record(s), attachments, original mails, {quarantined} quarantined mail(s) and the content of {exports} stored export(s) are deleted, and the messages in their {tickets} ticket(s) become \"[erased]\" (counts and statistics stay). Backups taken before now will not be able to show their data either. A confirmation mail goes to their address first.",
            c.id,
            c.emails.len(),
        );
        let outside = self.exports_outside(&c)?;
        if outside.is_empty() {
            text.push_str("\nNo export of theirs was written outside the desk.");
        } else {
            text.push_str("\nCopies of their exports outside the desk, which the erasure cannot reach: delete them yourself:");
            for line in outside {
                text.push_str(&format!("\n  - {line}"));
            }
        }
        text.push_str("\nWhat is kept, and why:");
        for line in self.kept_after_erasure(exports) {
            text.push_str(&format!("\n  - {line}"));
        }
        Ok(text)
    }

    /// What an erasure leaves behind, and why: told in the preview and in the
    /// confirmation mail.
    fn kept_after_erasure(&self, exports: usize) -> Vec<String> {
        let mut kept = Vec::new();
        if self.config().privacy.suppress_after_erasure {
            kept.push("a keyed hash of each of their addresses (not the address), so that mail from them later opens a new customer marked \"previously erased\" and nothing old comes back (privacy.suppress_after_erasure)".to_string());
        }
        kept.push("the audit log's events about them, under a pseudonym and with ids and times only, because the tamper-evident log must stay whole to show who did what, including this erasure".into());
        kept.push("the records of their privacy requests (kind, dates, status, decision), as evidence that each request was answered in time".into());
        if exports > 0 {
            kept.push(format!("the index entries of {exports} export(s) (id, time, who, size, how it was handed over), without content or file paths, as the record of what was disclosed"));
        }
        kept.push("ticket numbers, status and times, with \"[erased]\" in place of subjects and messages, so counts and statistics stay right".into());
        kept
    }

    /// Cancels the account of the customer with this address. `typed` must repeat the
    /// address (the confirmation), only admins may do it, and `authority` must be a
    /// verified erasure request or an override with a reason (see `gate`).
    ///
    /// All or nothing across a crash: the decision is journalled (durably, in the keys
    /// dir) before anything is erased; the erasure itself is one unit of work holding
    /// the whole desk; the key is destroyed once that unit is durable. A crash at any
    /// point is finished at the next start ([`Desk::resume_erasures`]).
    pub fn cancel_customer(
        &self,
        actor: &Actor,
        email: &str,
        typed: &str,
        authority: &super::gate::Authority,
    ) -> Result<ErasureCounts> {
        self.require_admin(actor, "erase a customer")?;
        let customer = self.find_customer(actor, email)?;
        self.check_authority(actor, &customer.id, super::gate::Gated::Erasure, authority)?;
        if sealdesk_model::normalize_email(typed) != sealdesk_model::normalize_email(email) {
            return Err(DeskError::Invalid(
                "the address typed does not match: nothing was erased".into(),
            ));
        }
        if customer.flags.legal_hold {
            return Err(DeskError::Invalid(
                "refused: this customer is under legal hold; lift it first (`sealdesk customer set EMAIL --legal-hold false`) once the hold ends".into(),
            ));
        }
        let record = self.store.journal_erasure(&customer.id, &customer.emails)?;
        let override_reason = match authority {
            super::gate::Authority::Override(reason) => Some(reason.as_str()),
            _ => None,
        };
        self.erase(actor, &record, "customer.erase", override_reason)
    }

    /// Finishes every journalled erasure that a crash interrupted; reported in the log
    /// and the audit. Run when the desk opens.
    pub fn resume_erasures(&self) -> Result<usize> {
        let unfinished = self.store.unfinished_erasures()?;
        let system = Actor::system("start-up: an erasure was interrupted");
        for record in &unfinished {
            tracing::warn!(
                "finishing the erasure of {} that was interrupted",
                self.store.pseudonym(&record.customer)
            );
            self.erase(&system, record, "customer.erase.resumed", None)?;
        }
        Ok(unfinished.len())
    }

    /// The erasure as one unit of work holding the whole desk. The confirmation mail
    /// is part of it: composed while the address can still be read, queued in the same
    /// commit, so the customer is told exactly when the erasure happened (and, when a
    /// resumed erasure finds the record already gone, not a second time).
    fn erase(
        &self,
        actor: &Actor,
        record: &ErasureRecord,
        action: &str,
        override_reason: Option<&str>,
    ) -> Result<ErasureCounts> {
        let id = record.customer;
        let mail = self.config().mail;
        let erased = self.write(actor, &[Hold::Everything], |u| {
            if let Some(reason) = override_reason {
                super::gate::audit_override(u, &id, super::gate::Gated::Erasure, reason);
            }
            let still_here = self.store.customer(&id).ok().flatten();
            if let (Some(customer), Some(_)) = (still_here, &mail.from) {
                self.queue_composed(
                    u,
                    ComposedMail {
                        to: customer.primary_email().to_string(),
                        subject: "Your account has been cancelled".into(),
                        message_id: sealdesk_mail::new_message_id(&mail.message_id_domain()),
                        attachment: None,
                        body: confirmation_body(
                            &self.kept_after_erasure(self.exports_of(&customer)?.len()),
                        ),
                    },
                )?;
            }
            self.erase_in(u, record, action)
        })?;
        self.requests_changed();
        Ok(erased)
    }

    /// Everything an erasure does inside its unit but the confirmation mail (shared with
    /// retention, which erases inactive customers without one): the customer's data
    /// deleted or turned into placeholders, audited as `action`, and their key destroyed
    /// once the unit is durable.
    pub(super) fn erase_in(
        &self,
        u: &mut super::write::Unit<'_>,
        record: &ErasureRecord,
        action: &str,
    ) -> Result<ErasureCounts> {
        let id = record.customer;
        super::gate::complete_open_requests(u, &id)?;
        let tickets: Vec<TicketNo> = self.store.customer_tickets(&id)?;
        super::request_mail::drop_unsent_mail_of(u, &id, &tickets)?;
        let mut counts = u.tx.erase_customer(record)?;
        u.tx.remove_notice_copies(&id)?;
        counts.quarantined += self.remove_unsealed_quarantine(u, record)?;
        if !self.config().privacy.suppress_after_erasure {
            u.tx.lift_suppression(record);
        }
        for old in crate::export::archive::legacy_exports_of(&self.store.paths().data, &id) {
            // Plaintext from an older version: it goes with the customer.
            if let Err(e) = std::fs::remove_file(&old) {
                tracing::warn!("cannot delete the old export {}: {e}", old.display());
            }
        }
        u.audit(
            action,
            vec![
                format!("tickets={}", tickets.len()),
                format!("messages={}", counts.messages),
                format!("attachments={}", counts.attachments),
                format!("consents={}", counts.consents),
                format!("quarantined={}", counts.quarantined),
                format!("exports={}", counts.exports),
            ],
            Some(&id),
        );
        for &n in &tickets {
            u.touch(n);
        }
        u.after_commit(move |desk| {
            desk.forget_bodies_of(&id);
            desk.store.destroy_customer_key(&id)?;
            Ok(())
        });
        Ok(counts)
    }
}

impl Desk {
    /// Quarantined mail from the customer that an older version kept master-sealed:
    /// found by its sender's keyed hash, removed in the erasure's unit.
    fn remove_unsealed_quarantine(
        &self,
        u: &mut super::write::Unit<'_>,
        record: &ErasureRecord,
    ) -> Result<usize> {
        let mut removed = 0;
        for q in self.store.unowned_quarantine()? {
            let incoming = super::Incoming {
                raw: &q.raw,
                envelope_from: Some(&q.envelope_from),
                source: &q.source,
            };
            let theirs = self
                .quarantine_owner(&incoming)
                .is_some_and(|(address, _)| {
                    record.email_keys.contains(&self.store.email_key(&address))
                });
            if theirs && u.tx.remove_quarantine(&q.id)? {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The confirmation mail: what was erased, and what is kept and why.
fn confirmation_body(kept: &[String]) -> String {
    let mut body = String::from("As you asked, we have cancelled your account and erased the personal data we held about you, including our copies in backups.\n\nWhat we keep, and why:\n");
    for line in kept {
        body.push_str(&format!("- {line}\n"));
    }
    body.push_str("\nNone of it can be read back as your data. This is the last message you will receive from us about it.\n");
    body
}
