use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{Customer, Ticket};

impl Desk {
    /// A customer's profile and tickets, looked up by address; the view is audited.
    pub fn customer_by_email(&self, actor: &Actor, email: &str) -> Result<(Customer, Vec<Ticket>)> {
        let found = self.store.customer_by_email(email)?;
        let Some(customer) = found else {
            // The address itself is never logged: only that a look-up found nothing.
            self.audit_only(actor, "customer.search", vec!["no match".into()], None)?;
            return Err(DeskError::NotFound(format!(
                "no customer with address {}: check the spelling, or see `sealdesk ticket list`",
                sealdesk_model::sanitize::line(email)
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

/// One line of `customer list`.
pub struct CustomerRow {
    pub customer: Customer,
    pub tickets: usize,
}

impl Desk {
    /// Every customer there is, oldest first (erased customers are gone from the list:
    /// only their tombstone id remains, which names nobody). Open to agents as
    /// `customer show` is; audited as one view of the list.
    pub fn customer_list(&self, actor: &Actor) -> Result<Vec<CustomerRow>> {
        if self.current_role(actor)?.is_none() {
            return Err(DeskError::Forbidden(format!(
                "agent {} no longer exists",
                sealdesk_model::sanitize::line(&actor.name)
            )));
        }
        let mut rows = Vec::new();
        for id in self.store.customer_ids()? {
            let Some(customer) = self.store.customer(&id).ok().flatten() else {
                continue;
            };
            let tickets = self.store.customer_tickets(&id)?.len();
            rows.push(CustomerRow { customer, tickets });
        }
        rows.sort_by(|a, b| {
            (a.customer.created, a.customer.primary_email())
                .cmp(&(b.customer.created, b.customer.primary_email()))
        });
        self.audit_only(
            actor,
            "customer.list",
            vec![format!("customers={}", rows.len())],
            None,
        )?;
        Ok(rows)
    }
}
