//! Typed accessors: one place that knows which tree, which key layout and which sealing
//! key each model type uses.

use super::envelope::KeySlot;
use super::{Result, Store, StoreError, META_NEXT_TICKET};
use crate::model::*;
use serde::{Deserialize, Serialize};

/// A ticket's workflow fields, sealed with the master key. The subject is stored apart,
/// sealed with the customer's key, so erasure takes it while statistics survive.
#[derive(Serialize, Deserialize)]
struct TicketWorkflow {
    number: TicketNo,
    status: Status,
    priority: Priority,
    assignee: Option<String>,
    tags: Vec<String>,
    customer: CustomerId,
    created: Timestamp,
    updated: Timestamp,
    due: Option<Timestamp>,
}

/// Shown in place of personal data whose key has been destroyed.
pub const ERASED_PLACEHOLDER: &str = crate::model::ERASED;

/// The highest key that starts with `prefix`: the last record of a sequence.
fn last_key_under(tree: &sled::Tree, prefix: &[u8]) -> Result<Option<sled::IVec>> {
    Ok(tree.scan_prefix(prefix).keys().next_back().transpose()?)
}

fn message_key(ticket: TicketNo, seq: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&ticket.0.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn customer_ticket_key(customer: &CustomerId, ticket: TicketNo) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(customer.as_bytes());
    k[16..].copy_from_slice(&ticket.0.to_be_bytes());
    k
}

impl Store {
    // ---- customers ----

    /// Creates the customer's data key (durably, in the keyring), then their record and
    /// one email-index entry per address.
    pub fn insert_customer(&self, customer: &Customer) -> Result<()> {
        self.keyring.write().add(customer.id)?;
        self.put_customer(customer)
    }

    /// Rewrites a customer record and indexes any new address.
    pub fn put_customer(&self, customer: &Customer) -> Result<()> {
        let slot = KeySlot::Customer(customer.id);
        self.put(&self.t.customers, customer.id.as_bytes(), slot, customer)?;
        for email in &customer.emails {
            self.put(
                &self.t.email_index,
                &self.email_key(email),
                KeySlot::Master,
                &customer.id,
            )?;
        }
        Ok(())
    }

    pub fn customer(&self, id: &CustomerId) -> Result<Option<Customer>> {
        self.get(&self.t.customers, id.as_bytes())
    }

    /// Looks a customer up by address through the keyed-hash index.
    pub fn customer_by_email(&self, email: &str) -> Result<Option<Customer>> {
        let id: Option<CustomerId> = self.get(&self.t.email_index, &self.email_key(email))?;
        match id {
            Some(id) => self.customer(&id),
            None => Ok(None),
        }
    }

    pub fn customer_ids(&self) -> Result<Vec<CustomerId>> {
        self.t
            .customers
            .tree
            .iter()
            .keys()
            .map(|k| {
                let k = k?;
                let bytes: [u8; 16] = k
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("customer key".into()))?;
                Ok(CustomerId(bytes))
            })
            .collect()
    }

    /// Whether the customer's data key still exists.
    pub fn has_customer_key(&self, id: &CustomerId) -> bool {
        self.keyring.read().contains(id)
    }

    /// Crypto-shredding: destroys the customer's data key (rewriting the keyring
    /// atomically) and records a tombstone, so everything sealed for them reads as
    /// erased from now on, in this data dir and in any copy of it.
    pub fn destroy_customer_key(&self, id: &CustomerId) -> Result<bool> {
        self.put(
            &self.t.erased,
            id.as_bytes(),
            KeySlot::Master,
            &Timestamp::now(),
        )?;
        self.flush()?;
        self.keyring.write().destroy(id)
    }

    // ---- tickets ----

    /// Hands out the next ticket number (#1, #2, …).
    pub fn next_ticket_number(&self) -> Result<TicketNo> {
        let mut counter = self.ticket_counter.lock();
        let next = *counter + 1;
        self.put(&self.t.meta, META_NEXT_TICKET, KeySlot::Master, &next)?;
        *counter = next;
        Ok(TicketNo(next))
    }

    pub fn put_ticket(&self, ticket: &Ticket) -> Result<()> {
        let key = ticket.number.0.to_be_bytes();
        let workflow = TicketWorkflow {
            number: ticket.number,
            status: ticket.status,
            priority: ticket.priority,
            assignee: ticket.assignee.clone(),
            tags: ticket.tags.clone(),
            customer: ticket.customer,
            created: ticket.created,
            updated: ticket.updated,
            due: ticket.due,
        };
        self.put(&self.t.tickets, &key, KeySlot::Master, &workflow)?;
        self.put(
            &self.t.subjects,
            &key,
            KeySlot::Customer(ticket.customer),
            &ticket.subject,
        )?;
        self.put(
            &self.t.customer_tickets,
            &customer_ticket_key(&ticket.customer, ticket.number),
            KeySlot::Master,
            &ticket.number,
        )
    }

    pub fn ticket(&self, number: TicketNo) -> Result<Option<Ticket>> {
        let key = number.0.to_be_bytes();
        match self.get::<TicketWorkflow>(&self.t.tickets, &key)? {
            Some(w) => Ok(Some(self.assemble_ticket(w)?)),
            None => Ok(None),
        }
    }

    /// All tickets in number order.
    pub fn tickets(&self) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for (_, w) in self.scan::<TicketWorkflow>(&self.t.tickets, &[])? {
            out.push(self.assemble_ticket(w?)?);
        }
        Ok(out)
    }

    /// The numbers of a customer's tickets, in order.
    pub fn customer_tickets(&self, customer: &CustomerId) -> Result<Vec<TicketNo>> {
        self.scan::<TicketNo>(&self.t.customer_tickets, customer.as_bytes())?
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    }

    fn assemble_ticket(&self, w: TicketWorkflow) -> Result<Ticket> {
        let subject = match self.get::<String>(&self.t.subjects, &w.number.0.to_be_bytes()) {
            Ok(Some(s)) => s,
            Ok(None) | Err(StoreError::Erased) => ERASED_PLACEHOLDER.to_string(),
            Err(e) => return Err(e),
        };
        Ok(Ticket {
            number: w.number,
            subject,
            status: w.status,
            priority: w.priority,
            assignee: w.assignee,
            tags: w.tags,
            customer: w.customer,
            created: w.created,
            updated: w.updated,
            due: w.due,
        })
    }

    // ---- messages and attachments ----

    /// Appends a message to its ticket's thread, sealed with the ticket customer's key;
    /// sets and returns its position.
    pub fn append_message(&self, customer: &CustomerId, message: &mut Message) -> Result<u32> {
        let prefix = message.ticket.0.to_be_bytes();
        let seq = match last_key_under(&self.t.messages.tree, &prefix)? {
            Some(k) if k.len() == 12 => {
                u32::from_be_bytes(k[8..12].try_into().expect("checked length")) + 1
            }
            _ => 1,
        };
        message.seq = seq;
        self.put_message(customer, message)?;
        Ok(seq)
    }

    /// Rewrites a stored message (delivery state, erasure placeholder).
    pub fn put_message(&self, customer: &CustomerId, message: &Message) -> Result<()> {
        let key = message_key(message.ticket, message.seq);
        self.put(
            &self.t.messages,
            &key,
            KeySlot::Customer(*customer),
            message,
        )
    }

    /// Moves every readable message of `from` to the end of `into`'s thread, each
    /// re-sealed with the key that sealed it before. Erased messages stay behind.
    pub fn move_thread(&self, from: TicketNo, into: TicketNo) -> Result<u32> {
        let table = &self.t.messages;
        let mut moved = 0;
        for item in table.tree.scan_prefix(from.0.to_be_bytes()) {
            let (key, sealed) = item?;
            let KeySlot::Customer(owner) = super::envelope::slot_of(table.name, &sealed)? else {
                return Err(StoreError::Corrupt(format!(
                    "message {} is not sealed for a customer",
                    hex::encode(&key)
                )));
            };
            let mut message: Message = match self.decode(table, &key, &sealed) {
                Ok(m) => m,
                Err(StoreError::Erased) => continue,
                Err(e) => return Err(e),
            };
            message.ticket = into;
            self.append_message(&owner, &mut message)?;
            table.tree.remove(&key)?;
            moved += 1;
        }
        Ok(moved)
    }

    /// The thread of a ticket, in order; an erased message reads as `Err(Erased)`.
    pub fn messages(&self, ticket: TicketNo) -> Result<Vec<Result<Message>>> {
        Ok(self
            .scan::<Message>(&self.t.messages, &ticket.0.to_be_bytes())?
            .into_iter()
            .map(|(_, m)| m)
            .collect())
    }

    pub fn put_attachment(
        &self,
        customer: &CustomerId,
        id: &AttachmentId,
        bytes: &[u8],
    ) -> Result<()> {
        self.put(
            &self.t.attachments,
            id.as_bytes(),
            KeySlot::Customer(*customer),
            bytes,
        )
    }

    pub fn remove_attachment(&self, id: &AttachmentId) -> Result<()> {
        self.t.attachments.tree.remove(id.as_bytes())?;
        Ok(())
    }

    pub fn attachment(&self, id: &AttachmentId) -> Result<Option<Vec<u8>>> {
        self.get(&self.t.attachments, id.as_bytes())
    }

    // ---- agents ----

    pub fn put_agent(&self, agent: &Agent) -> Result<()> {
        self.put(&self.t.agents, agent.id.as_bytes(), KeySlot::Master, agent)
    }

    pub fn agents(&self) -> Result<Vec<Agent>> {
        let mut agents: Vec<Agent> = self
            .scan::<Agent>(&self.t.agents, &[])?
            .into_iter()
            .map(|(_, a)| a)
            .collect::<Result<_>>()?;
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(agents)
    }

    pub fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        Ok(self.agents()?.into_iter().find(|a| a.name == name))
    }

    pub fn remove_agent(&self, id: &AgentId) -> Result<bool> {
        Ok(self.t.agents.tree.remove(id.as_bytes())?.is_some())
    }

    // ---- consent ledger (append-only) ----

    /// Appends to the customer's ledger; sets and returns the record's position.
    pub fn append_consent(&self, record: &mut ConsentRecord) -> Result<u64> {
        let prefix = record.customer.as_bytes();
        let seq = match last_key_under(&self.t.consents.tree, prefix)? {
            Some(k) if k.len() == 24 => {
                u64::from_be_bytes(k[16..24].try_into().expect("checked length")) + 1
            }
            _ => 1,
        };
        record.seq = seq;
        let mut key = [0u8; 24];
        key[..16].copy_from_slice(prefix);
        key[16..].copy_from_slice(&seq.to_be_bytes());
        self.put(
            &self.t.consents,
            &key,
            KeySlot::Customer(record.customer),
            record,
        )?;
        Ok(seq)
    }

    pub fn consents(&self, customer: &CustomerId) -> Result<Vec<ConsentRecord>> {
        self.scan::<ConsentRecord>(&self.t.consents, customer.as_bytes())?
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    // ---- privacy requests ----

    pub fn put_request(&self, request: &PrivacyRequest) -> Result<()> {
        self.put(
            &self.t.requests,
            request.id.as_bytes(),
            KeySlot::Master,
            request,
        )
    }

    pub fn request(&self, id: &RequestId) -> Result<Option<PrivacyRequest>> {
        self.get(&self.t.requests, id.as_bytes())
    }

    pub fn requests(&self) -> Result<Vec<PrivacyRequest>> {
        self.scan::<PrivacyRequest>(&self.t.requests, &[])?
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }
}
