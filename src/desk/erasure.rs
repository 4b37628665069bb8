//! Account cancellation with real erasure (crypto-shredding): the customer is told by
//! mail first, then their key is destroyed and everything sealed for them is deleted or
//! turned into "[erased]" placeholders, so ticket counts and statistics survive.

use super::{Actor, Change, Desk, DeskError, Result};
use crate::model::{AgentRole, ComposedMail, TicketNo};
use crate::store::ErasureCounts;

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
    pub fn cancel_customer(
        &self,
        actor: &Actor,
        role: AgentRole,
        email: &str,
        typed: &str,
    ) -> Result<ErasureCounts> {
        let _op = self.store.op();
        if role != AgentRole::Admin {
            return Err(DeskError::Invalid(
                "only an admin can erase a customer: ask an admin".into(),
            ));
        }
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
        let tickets: Vec<TicketNo> = self.store.customer_tickets(&customer.id)?;
        // The confirmation goes first: composed now, while the address can still be read,
        // and kept in the outbox (master-sealed) only until it is sent.
        if self.config().mail.from.is_some() {
            self.queue_composed(ComposedMail {
                to: customer.primary_email().to_string(),
                subject: "Your account has been cancelled".into(),
                message_id: crate::mail::new_message_id(&self.config().mail.message_id_domain()),
                attachment: None,
                body: "As you asked, we have cancelled your account and erased the personal data we held about you, including our copies in backups.\n\nThis is the last message you will receive from us about it.\n".into(),
            })?;
            self.store.flush()?;
        }
        let pseudonym_target = customer.id;
        self.audit(
            actor,
            "customer.erase.start",
            vec![format!("tickets={}", tickets.len())],
            Some(&pseudonym_target),
        )?;
        let counts = self.store.erase_customer(&customer.id, &customer.emails)?;
        self.audit(
            actor,
            "customer.erase",
            vec![
                format!("messages={}", counts.messages),
                format!("attachments={}", counts.attachments),
                format!("consents={}", counts.consents),
            ],
            Some(&pseudonym_target),
        )?;
        self.store.flush()?;
        for n in tickets {
            self.refresh_queue_row(n)?;
            self.announce(Change::Ticket(n));
        }
        Ok(counts)
    }
}
