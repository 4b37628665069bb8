//! Account cancellation with real erasure (crypto-shredding): everything sealed for the
//! customer is deleted or turned into "[erased]" placeholders (so ticket counts and
//! statistics survive) and their confirmation mail is queued, in one unit of work; then
//! their key is destroyed. Journalled first, so a crash part way is finished at the next
//! start.

use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use crate::model::{ComposedMail, TicketNo};
use crate::store::{ErasureCounts, ErasureRecord};

impl Desk {
    /// What cancelling this customer will do, in words, for the confirmation prompt.
    pub fn erasure_preview(&self, actor: &Actor, email: &str) -> Result<String> {
        let c = self.find_customer(actor, email)?;
        let tickets = self.store.customer_tickets(&c.id)?.len();
        let consents = self.store.consents(&c.id)?.len();
        Ok(format!(
            "This erases the customer {} for good: their data key is destroyed, their profile, {} address(es), {consents} consent record(s), attachments and original mails are deleted, and the messages in their {tickets} ticket(s) become \"[erased]\" (counts and statistics stay). Backups taken before now will not be able to show their data either. A confirmation mail goes to their address first.",
            c.id,
            c.emails.len(),
        ))
    }

    /// Cancels the account of the customer with this address. `typed` must repeat the
    /// address (the confirmation), and only admins may do it.
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
    ) -> Result<ErasureCounts> {
        self.require_admin(actor, "erase a customer")?;
        let customer = self.find_customer(actor, email)?;
        if crate::model::normalize_email(typed) != crate::model::normalize_email(email) {
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
        self.erase(actor, &record, "customer.erase")
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
            self.erase(&system, record, "customer.erase.resumed")?;
        }
        Ok(unfinished.len())
    }

    /// The erasure as one unit of work holding the whole desk. The confirmation mail
    /// is part of it: composed while the address can still be read, queued in the same
    /// commit, so the customer is told exactly when the erasure happened (and, when a
    /// resumed erasure finds the record already gone, not a second time).
    fn erase(&self, actor: &Actor, record: &ErasureRecord, action: &str) -> Result<ErasureCounts> {
        let id = record.customer;
        let mail = self.config().mail;
        self.write(actor, &[Hold::Everything], |u| {
            let tickets: Vec<TicketNo> = self.store.customer_tickets(&id)?;
            let still_here = self.store.customer(&id).ok().flatten();
            if let (Some(customer), Some(_)) = (still_here, &mail.from) {
                self.queue_composed(
                    u,
                    ComposedMail {
                        to: customer.primary_email().to_string(),
                        subject: "Your account has been cancelled".into(),
                        message_id: crate::mail::new_message_id(&mail.message_id_domain()),
                        attachment: None,
                        body: "As you asked, we have cancelled your account and erased the personal data we held about you, including our copies in backups.\n\nThis is the last message you will receive from us about it.\n".into(),
                    },
                )?;
            }
            let counts = u.tx.erase_customer(record)?;
            u.tx.remove_notice_copies(&id)?;
            u.audit(
                action,
                vec![
                    format!("tickets={}", tickets.len()),
                    format!("messages={}", counts.messages),
                    format!("attachments={}", counts.attachments),
                    format!("consents={}", counts.consents),
                ],
                Some(&id),
            );
            for &n in &tickets {
                u.touch(n);
            }
            u.after_commit(move |desk| {
                desk.store.destroy_customer_key(&id)?;
                Ok(())
            });
            Ok(counts)
        })
    }
}
