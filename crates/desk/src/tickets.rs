use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    is_plausible_email, Author, Customer, Message, Status, Ticket, TicketNo, Timestamp,
};
use sealdesk_store::StoreError;

pub use sealdesk_api::ThreadEntry;
use sealdesk_api::{OutboxState, ThreadMessage};

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
    /// Only tickets assigned to this agent, or (`Some(None)`) to nobody.
    pub assignee: Option<Option<String>>,
    /// Only tickets carrying this tag.
    pub tag: Option<String>,
    /// Only tickets of the customer with this address (none known: no tickets).
    pub customer: Option<String>,
    /// Only tickets updated at or after this time.
    pub updated_since: Option<Timestamp>,
}

impl TicketFilter {
    /// The filter as audit targets: which filters were used, never the address.
    fn audit_words(&self) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(s) = self.status {
            words.push(format!("status={s}"));
        }
        match &self.assignee {
            Some(Some(name)) => words.push(format!("assignee={name}")),
            Some(None) => words.push("assignee=-".into()),
            None => {}
        }
        if let Some(tag) = &self.tag {
            words.push(format!("tag={tag}"));
        }
        if self.customer.is_some() {
            words.push("customer=given".into());
        }
        if let Some(at) = self.updated_since {
            words.push(format!("since={at}"));
        }
        if words.is_empty() {
            words.push("all".into());
        }
        words
    }
}

impl Desk {
    pub fn create_ticket(&self, actor: &Actor, new: NewTicket<'_>) -> Result<(Ticket, Customer)> {
        if !is_plausible_email(new.from) {
            return Err(DeskError::Invalid(format!(
                "{:?} is not an email address: give --from someone@example.com",
                sealdesk_model::sanitize::line(new.from)
            )));
        }
        if new.subject.trim().is_empty() {
            return Err(DeskError::Invalid(
                "the subject is empty: give --subject TEXT".into(),
            ));
        }
        let address = self.store.email_key(new.from);
        self.write(actor, &[Hold::Address(address)], |u| {
            let customer = find_or_create_customer(u, new.from, new.name)?;
            let now = Timestamp::now();
            let mut ticket = Ticket::new(
                u.tx.next_ticket_number(),
                new.subject.trim().to_string(),
                customer.id,
                now,
            );
            self.settle_sla(&mut ticket, Status::New, now);
            u.tx.put_ticket(&ticket)?;
            let mut message = Message::inbound(
                ticket.number,
                Author::Customer {
                    id: customer.id,
                    address: customer.primary_email().to_string(),
                    name: customer.name.clone(),
                },
                new.body.to_string(),
                now,
                new.message_id.clone(),
            );
            u.tx.append_message(&customer.id, &mut message)?;
            u.ticket_webhook(sealdesk_model::WebhookEvent::TicketCreated, &ticket)?;
            u.audit(
                "ticket.create",
                vec![ticket.number.to_string()],
                Some(&customer.id),
            );
            u.touch(ticket.number);
            u.activity(ticket.number, sealdesk_model::ActivityKind::Inbound);
            u.notify(crate::notify::Event::new(
                ticket.number,
                crate::notify::Why::NewTicket,
                Some(u.actor_name()),
            ));
            Ok((ticket, customer))
        })
    }

    /// The tickets the filter lets through (every one without filters); audited.
    /// An unknown assignee is refused; an unknown customer address lists nothing.
    pub fn list_tickets(&self, actor: &Actor, filter: &TicketFilter) -> Result<Vec<Ticket>> {
        if let Some(Some(name)) = &filter.assignee {
            if self.store.agent_by_name(name)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "no agent named {}: see `sealdesk agent list`",
                    sealdesk_model::sanitize::line(name)
                )));
            }
        }
        let customer = match &filter.customer {
            Some(email) => match self.store.customer_by_email(email)? {
                Some(c) => Some(c.id),
                None => {
                    self.audit_only(actor, "ticket.list", filter.audit_words(), None)?;
                    return Ok(Vec::new());
                }
            },
            None => None,
        };
        let tag = filter.tag.as_deref().map(|t| t.trim().to_lowercase());
        let tickets: Vec<Ticket> = self
            .store
            .tickets()?
            .into_iter()
            .filter(|t| filter.status.is_none_or(|s| t.status == s))
            .filter(|t| {
                filter
                    .assignee
                    .as_ref()
                    .is_none_or(|a| t.assignee.as_deref() == a.as_deref())
            })
            .filter(|t| tag.as_ref().is_none_or(|tag| t.tags.contains(tag)))
            .filter(|t| customer.is_none_or(|c| t.customer == c))
            .filter(|t| filter.updated_since.is_none_or(|at| t.updated >= at))
            .collect();
        self.audit_only(actor, "ticket.list", filter.audit_words(), None)?;
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
        let outbox = self.store.outbox_of(number)?;
        let thread = self
            .store
            .messages(number)?
            .into_iter()
            .map(|m| match m {
                Ok(message) => Ok(ThreadEntry::Message(Box::new(ThreadMessage {
                    outbox: outbox
                        .iter()
                        .find(|e| e.seq == message.seq)
                        .map(|e| OutboxState {
                            attempts: e.attempts,
                            next_attempt: e.next_attempt,
                            last_error: e.last_error.clone(),
                        }),
                    message,
                }))),
                Err(StoreError::Erased) => Ok(ThreadEntry::Erased),
                Err(e) => Err(DeskError::from(e)),
            })
            .collect::<Result<Vec<_>>>()?;
        self.audit_only(
            actor,
            "ticket.view",
            vec![number.to_string()],
            Some(&ticket.customer),
        )?;
        Ok((ticket, thread))
    }
}

/// The customer with this address, created (with a fresh data key) if new. The unit
/// holds the address, so one address is one customer however many arrive at once.
pub(super) fn find_or_create_customer(
    u: &mut Unit<'_>,
    email: &str,
    name: &str,
) -> Result<Customer> {
    let store = u.tx.store();
    let address = store.email_key(email);
    u.hold(Hold::Address(address))?;
    if let Some(c) = store.customer_by_email(email)? {
        return Ok(c);
    }
    let mut customer = Customer::new(email, name.trim());
    // An import made this sender's key ahead with the rest of its batch's.
    if let Some(id) = store.premade_customer_id(email) {
        customer.id = id;
    }
    // Someone who was erased before starts afresh, flagged, without anything old.
    customer.flags.previously_erased = store.is_suppressed(email)?;
    u.tx.insert_customer(&customer)?;
    Ok(customer)
}
