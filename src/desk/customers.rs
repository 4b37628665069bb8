use super::{Actor, Desk, DeskError, Result};
use crate::model::{Customer, Ticket};

impl Desk {
    /// A customer's profile and tickets, looked up by address; the view is audited.
    pub fn customer_by_email(&self, actor: &Actor, email: &str) -> Result<(Customer, Vec<Ticket>)> {
        let found = self.store.customer_by_email(email)?;
        let Some(customer) = found else {
            // The address itself is never logged: only that a look-up found nothing.
            self.audit_only(actor, "customer.search", vec!["no match".into()], None)?;
            return Err(DeskError::NotFound(format!(
                "no customer with address {}: check the spelling, or see `sealdesk ticket list`",
                crate::sanitize::line(email)
            )));
        };
        let mut tickets = Vec::new();
        for number in self.store.customer_tickets(&customer.id)? {
            if let Some(t) = self.store.ticket(number)? {
                tickets.push(t);
            }
        }
        self.audit_only(
            actor,
            "customer.view",
            vec![customer.id.to_string()],
            Some(&customer.id),
        )?;
        Ok((customer, tickets))
    }
}
