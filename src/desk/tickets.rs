use super::{Actor, Change, Desk, DeskError, Result};
use crate::model::{
    is_plausible_email, Author, Customer, Message, MessageKind, Status, Ticket, TicketNo, Timestamp,
};
use crate::store::StoreError;

/// A ticket opened on a customer's behalf (from the CLI now; from mail later).
pub struct NewTicket<'a> {
    pub from: &'a str,
    pub name: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: Option<String>,
}

#[derive(Default, Clone, Debug)]
pub struct TicketFilter {
    pub status: Option<Status>,
}

/// One entry of a thread as shown: a message, or the placeholder for an erased one.
#[derive(Debug, Clone)]
pub enum ThreadEntry {
    Message(Box<Message>),
    Erased,
}

impl Desk {
    pub fn create_ticket(&self, actor: &Actor, new: NewTicket<'_>) -> Result<(Ticket, Customer)> {
        let _op = self.store.op();
        if !is_plausible_email(new.from) {
            return Err(DeskError::Invalid(format!(
                "{:?} is not an email address: give --from someone@example.com",
                crate::sanitize::line(new.from)
            )));
        }
        if new.subject.trim().is_empty() {
            return Err(DeskError::Invalid(
                "the subject is empty: give --subject TEXT".into(),
            ));
        }
        let customer = self.find_or_create_customer(new.from, new.name)?;
        let now = Timestamp::now();
        let ticket = Ticket::new(
            self.store.next_ticket_number()?,
            new.subject.trim().to_string(),
            customer.id,
            now,
        );
        self.store.put_ticket(&ticket)?;
        let mut message = Message {
            ticket: ticket.number,
            seq: 0,
            kind: MessageKind::Inbound,
            author: Author::Customer {
                id: customer.id,
                address: customer.primary_email().to_string(),
                name: customer.name.clone(),
            },
            at: now,
            text: new.body.to_string(),
            message_id: new.message_id,
            in_reply_to: None,
            references: Vec::new(),
            attachments: Vec::new(),
            delivery: None,
        };
        self.store.append_message(&customer.id, &mut message)?;
        self.audit(
            actor,
            "ticket.create",
            vec![ticket.number.to_string()],
            Some(&customer.id),
        )?;
        self.store.flush()?;
        self.refresh_queue_row(ticket.number)?;
        self.announce(Change::Ticket(ticket.number));
        Ok((ticket, customer))
    }

    /// The customer with this address, created (with a fresh data key) if new.
    pub(crate) fn find_or_create_customer(&self, email: &str, name: &str) -> Result<Customer> {
        if let Some(c) = self.store.customer_by_email(email)? {
            return Ok(c);
        }
        let mut customer = Customer::new(email, name.trim());
        // Someone who was erased before starts afresh, flagged, without anything old.
        customer.flags.previously_erased = self.store.is_suppressed(email)?;
        self.store.insert_customer(&customer)?;
        Ok(customer)
    }

    pub fn list_tickets(&self, actor: &Actor, filter: &TicketFilter) -> Result<Vec<Ticket>> {
        let tickets: Vec<Ticket> = self
            .store
            .tickets()?
            .into_iter()
            .filter(|t| filter.status.is_none_or(|s| t.status == s))
            .collect();
        let what = filter
            .status
            .map(|s| format!("status={s}"))
            .unwrap_or_else(|| "all".into());
        self.audit(actor, "ticket.list", vec![what], None)?;
        self.store.flush()?;
        Ok(tickets)
    }

    /// A ticket with its whole thread; the view is audited.
    pub fn ticket_thread(
        &self,
        actor: &Actor,
        number: TicketNo,
    ) -> Result<(Ticket, Vec<ThreadEntry>)> {
        let ticket = self.store.ticket(number)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "there is no ticket {number}: see `sealdesk ticket list`"
            ))
        })?;
        let thread = self
            .store
            .messages(number)?
            .into_iter()
            .map(|m| match m {
                Ok(m) => Ok(ThreadEntry::Message(Box::new(m))),
                Err(StoreError::Erased) => Ok(ThreadEntry::Erased),
                Err(e) => Err(DeskError::from(e)),
            })
            .collect::<Result<Vec<_>>>()?;
        self.audit(
            actor,
            "ticket.view",
            vec![number.to_string()],
            Some(&ticket.customer),
        )?;
        self.store.flush()?;
        Ok((ticket, thread))
    }
}
