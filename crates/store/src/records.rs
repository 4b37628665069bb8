//! Typed accessors: one place that knows which tree, which key layout and which sealing
//! key each model type uses.

use super::envelope::KeySlot;
use super::{Result, Store, StoreError, Tx};
use sealdesk_model::*;
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
    // Part 9 (read as empty from older records, see `upgrade`):
    address: Option<String>,
    participants: Vec<CustomerId>,
    // Part 10:
    links: Vec<TicketLink>,
    snoozed_until: Option<Timestamp>,
    due_by_hand: bool,
    sla: SlaClock,
}

/// What of a profile is not personal: kept under the master key beside it.
#[derive(Serialize, Deserialize)]
struct CustomerMeta {
    flags: CustomerFlags,
    created: Timestamp,
}

/// The highest key that starts with `prefix`: the last record of a sequence.
pub(super) fn last_key_under(
    tree: &super::live::TreeRef,
    prefix: &[u8],
) -> Result<Option<sled::IVec>> {
    Ok(tree.scan_prefix(prefix).keys().next_back().transpose()?)
}

/// A message's place (ticket, then sequence number, big-endian so they sort): the key of
/// its message, its original MIME and its outbox entry.
pub(super) fn message_key(ticket: TicketNo, seq: u32) -> [u8; 12] {
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

    pub fn customer(&self, id: &CustomerId) -> Result<Option<Customer>> {
        match self.get(&self.t.customers, id.as_bytes()) {
            Err(StoreError::Erased) if self.has_customer_key(id) => self.corrected_since(id, None),
            other => other,
        }
    }

    /// A profile whose record key was shredded after this copy of the data was made
    /// (a correction, then an older backup restored): its name and addresses are
    /// gone, its flags and creation time are kept apart under the master key, so the
    /// customer keeps working (mail threads, legal hold and restriction hold).
    fn corrected_since(&self, id: &CustomerId, email: Option<&str>) -> Result<Option<Customer>> {
        let Some(meta) = self.get::<CustomerMeta>(&self.t.customer_meta, id.as_bytes())? else {
            return Err(StoreError::Erased);
        };
        Ok(Some(Customer {
            id: *id,
            emails: email
                .map(sealdesk_model::normalize_email)
                .into_iter()
                .collect(),
            name: String::new(),
            locale: None,
            flags: meta.flags,
            created: meta.created,
        }))
    }

    /// Looks a customer up by address through the keyed-hash index.
    pub fn customer_by_email(&self, email: &str) -> Result<Option<Customer>> {
        let id: Option<CustomerId> = self.get(&self.t.email_index, &self.email_key(email))?;
        match id {
            Some(id) => match self.get(&self.t.customers, id.as_bytes()) {
                Err(StoreError::Erased) if self.has_customer_key(&id) => {
                    self.corrected_since(&id, Some(email))
                }
                other => other,
            },
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
    /// atomically), so everything sealed for them reads as erased from now on, in this
    /// data dir and in any copy of it. The erasure's unit of work has stored the
    /// tombstone before (see `Tx::erase_customer`).
    pub fn destroy_customer_key(&self, id: &CustomerId) -> Result<bool> {
        Ok(self.destroy_keys(&[*id], &[])? > 0)
    }

    pub fn ticket(&self, number: TicketNo) -> Result<Option<Ticket>> {
        let key = number.0.to_be_bytes();
        match self.get::<TicketWorkflow>(&self.t.tickets, &key)? {
            Some(w) => Ok(Some(self.assemble_ticket(w)?)),
            None => Ok(None),
        }
    }

    /// Whether any ticket is stored (without reading one).
    pub fn has_tickets(&self) -> Result<bool> {
        Ok(!self.t.tickets.tree.tree()?.is_empty())
    }

    /// Every ticket's number, in order, from the keys alone (nothing decrypted).
    pub fn ticket_numbers(&self) -> Result<Vec<TicketNo>> {
        let mut out = Vec::new();
        for key in self.t.tickets.tree.scan_prefix([]).keys() {
            let key = key?;
            if let Ok(bytes) = <[u8; 8]>::try_from(key.as_ref()) {
                out.push(TicketNo(u64::from_be_bytes(bytes)));
            }
        }
        Ok(out)
    }

    /// All tickets in number order.
    pub fn tickets(&self) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for (_, w) in self.scan::<TicketWorkflow>(&self.t.tickets, &[])? {
            out.push(self.assemble_ticket(w?)?);
        }
        Ok(out)
    }

    /// The tickets in which `customer` takes part besides their own (in Cc, say), read
    /// from the workflow alone.
    pub fn participant_tickets(&self, customer: &CustomerId) -> Result<Vec<TicketNo>> {
        let mut out = Vec::new();
        for (_, w) in self.scan::<TicketWorkflow>(&self.t.tickets, &[])? {
            let w = w?;
            if w.participants.contains(customer) {
                out.push(w.number);
            }
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
        // Reading it as `Personal` turns the stored placeholder text into `Erased`.
        let subject = match self.get::<Personal>(&self.t.subjects, &w.number.0.to_be_bytes()) {
            Ok(Some(s)) => s,
            Ok(None) | Err(StoreError::Erased) => Personal::Erased,
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
            address: w.address,
            participants: w.participants,
            links: w.links,
            snoozed_until: w.snoozed_until,
            due_by_hand: w.due_by_hand,
            sla: w.sla,
        })
    }

    /// The thread of a ticket, in order; an erased message reads as `Err(Erased)`.
    pub fn messages(&self, ticket: TicketNo) -> Result<Vec<Result<Message>>> {
        let mut out = Vec::new();
        for (key, m) in self.scan::<Message>(&self.t.messages, &ticket.0.to_be_bytes())? {
            out.push(match m {
                Ok(m) => self.with_parties(&key, m),
                Err(e) => Err(e),
            });
        }
        Ok(out)
    }

    /// `message` with its To/Cc/Bcc, which are stored apart (see [`Tx::put_message`]).
    /// Parties whose record key is gone (their rewrite after an erasure shredded it)
    /// read as none.
    pub(super) fn with_parties(&self, key: &[u8], mut message: Message) -> Result<Message> {
        match self.get::<Parties>(&self.t.message_parties, key) {
            Ok(Some(parties)) => message.parties = parties,
            Ok(None) => {} // none, or a message written before they were stored apart
            Err(StoreError::Erased) => message.parties = Parties::default(),
            Err(e) => return Err(e),
        }
        Ok(message)
    }

    pub fn attachment(&self, id: &AttachmentId) -> Result<Option<Vec<u8>>> {
        self.get(&self.t.attachments, id.as_bytes())
    }

    // ---- agents ----

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

    pub fn consents(&self, customer: &CustomerId) -> Result<Vec<ConsentRecord>> {
        self.scan::<ConsentRecord>(&self.t.consents, customer.as_bytes())?
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    // ---- privacy requests ----

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

impl Tx<'_> {
    // ---- customers ----

    /// Creates the customer's data key (durably, in the keyring), then stages their
    /// record and one email-index entry per address. A unit that is then dropped
    /// leaves an unused key behind, which seals nothing.
    pub fn insert_customer(&mut self, customer: &Customer) -> Result<()> {
        {
            let _appends = self.store.key_appends.lock();
            self.store.keyring.write().add(customer.id)?;
        }
        self.put_customer(customer)
    }

    /// Rewrites a customer record and indexes any new address. A change of what the
    /// customer is (name, addresses, locale) is a correction: the profile is sealed
    /// under a fresh record key and the old one shredded, so the old profile is
    /// unreadable in earlier backups too. Flags alone keep the key.
    pub fn put_customer(&mut self, customer: &Customer) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        let slot = KeySlot::Customer(customer.id);
        let corrected = match store.customer(&customer.id) {
            Ok(Some(old)) => {
                old.name != customer.name
                    || old.emails != customer.emails
                    || old.locale != customer.locale
            }
            _ => false,
        };
        if corrected {
            self.put_rotating(&t.customers, customer.id.as_bytes(), slot, customer)?;
            // Archives made before hold the old profile.
            self.expire_archives_of(&customer.id)?;
        } else {
            self.put(&t.customers, customer.id.as_bytes(), slot, customer)?;
        }
        let meta = CustomerMeta {
            flags: customer.flags.clone(),
            created: customer.created,
        };
        self.put(
            &t.customer_meta,
            customer.id.as_bytes(),
            KeySlot::Master,
            &meta,
        )?;
        for email in &customer.emails {
            let key = self.store.email_key(email);
            self.put(&t.email_index, &key, KeySlot::Master, &customer.id)?;
        }
        Ok(())
    }

    // ---- tickets ----

    /// Stores a ticket: its workflow, and its subject sealed with the customer's key.
    pub fn put_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        self.put_workflow(ticket)?;
        let store = self.store;
        let t = &store.t;
        self.put(
            &t.subjects,
            &ticket.number.0.to_be_bytes(),
            KeySlot::Customer(ticket.customer),
            &ticket.subject,
        )?;
        // A ticket's customer never changes: the index entry is written once, here.
        self.put(
            &t.customer_tickets,
            &customer_ticket_key(&ticket.customer, ticket.number),
            KeySlot::Master,
            &ticket.number,
        )
    }

    /// Stores a ticket's workflow fields (status, priority, assignee, tags, times)
    /// and leaves its subject and its customer's index entry as they are: what every
    /// change by an agent writes, so it works the same on a ticket whose customer was
    /// erased (and does not bring back their index entry).
    pub fn put_workflow(&mut self, ticket: &Ticket) -> Result<()> {
        let store = self.store;
        let t = &store.t;
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
            address: ticket.address.clone(),
            participants: ticket.participants.clone(),
            links: ticket.links.clone(),
            snoozed_until: ticket.snoozed_until,
            due_by_hand: ticket.due_by_hand,
            sla: ticket.sla.clone(),
        };
        self.put(&t.tickets, &key, KeySlot::Master, &workflow)
    }

    // ---- messages and attachments ----

    /// Appends a message to its ticket's thread, sealed with `customer`'s key; sets and
    /// returns its position. The caller holds the ticket (see `desk::write`).
    pub fn append_message(&mut self, customer: &CustomerId, message: &mut Message) -> Result<u32> {
        message.seq = self.next_message_seq(message.ticket)?;
        self.clear_stale_original(message.ticket, message.seq)?;
        self.put_message(customer, message)?;
        Ok(message.seq)
    }

    /// An original mail left at this place by a unit that never completed (a crash
    /// after its blobs, see `Tx::put_blob`) must not pass for this message's.
    fn clear_stale_original(&mut self, ticket: TicketNo, seq: u32) -> Result<()> {
        let store = self.store;
        let key = message_key(ticket, seq);
        if store.t.raw_mail.tree.contains_key(key)? {
            self.remove(&store.t.raw_mail, &key);
        }
        Ok(())
    }

    fn next_message_seq(&self, ticket: TicketNo) -> Result<u32> {
        let store = self.store;
        let t = &store.t;
        Ok(
            match self.last_key_under(&t.messages, &ticket.0.to_be_bytes())? {
                Some(k) if k.len() == 12 => {
                    u32::from_be_bytes(k[8..12].try_into().expect("checked length")) + 1
                }
                _ => 1,
            },
        )
    }

    /// Appends a note by the desk itself that holds nobody's personal data (a merge
    /// note), sealed with the desk's key, so it can be written on any ticket, also one
    /// whose customer was erased.
    pub fn append_system_note(&mut self, note: &mut Message) -> Result<u32> {
        note.seq = self.next_message_seq(note.ticket)?;
        self.clear_stale_original(note.ticket, note.seq)?;
        let store = self.store;
        let key = message_key(note.ticket, note.seq);
        self.put(&store.t.messages, &key, KeySlot::Master, note)?;
        Ok(note.seq)
    }

    /// Rewrites a stored message (delivery state, erasure placeholder).
    ///
    /// Its To/Cc/Bcc are sealed apart, at the same key in `message_parties`, under a
    /// record key of their own: an erased participant's address can then be taken out of
    /// someone else's message, and out of that message's copies in earlier backups
    /// (the parties' old key shredded), while the message itself stays readable there.
    pub(crate) fn put_message(&mut self, customer: &CustomerId, message: &Message) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        let key = message_key(message.ticket, message.seq);
        self.put_parties(&key, KeySlot::Customer(*customer), &message.parties)?;
        let bare = Message {
            parties: Parties::default(),
            ..message.clone()
        };
        self.put(&t.messages, &key, KeySlot::Customer(*customer), &bare)
    }

    /// Stores (or, when empty, removes) the parties of the message at `key`, sealed for
    /// the owner `slot` names.
    fn put_parties(&mut self, key: &[u8], slot: KeySlot, parties: &Parties) -> Result<()> {
        let store = self.store;
        let table = &store.t.message_parties;
        let owner = match slot {
            KeySlot::Customer(c) | KeySlot::Record { customer: c, .. } => c,
            KeySlot::Master => {
                // A placeholder or a system note has no recipients of its own.
                if self.current_slot(table, key)?.is_some() {
                    self.remove_shredding(table, key)?;
                }
                return Ok(());
            }
        };
        if parties.is_empty() {
            if self.current_slot(table, key)?.is_some() {
                self.remove_shredding(table, key)?;
            }
            return Ok(());
        }
        self.put(table, key, KeySlot::Customer(owner), parties)
    }

    /// Rewrites a stored message under the key that sealed it (its author's, or the
    /// desk's for a placeholder or a system note): delivery state, a bounce.
    pub fn rewrite_message(&mut self, message: &Message) -> Result<()> {
        let store = self.store;
        let table = &store.t.messages;
        let key = message_key(message.ticket, message.seq);
        let slot = match table.tree.get(key)? {
            Some(sealed) => super::envelope::slot_of(table.name, &sealed)?,
            None => {
                return Err(StoreError::Corrupt(format!(
                    "message {} vanished",
                    hex::encode(key)
                )))
            }
        };
        self.put_parties(&key, slot, &message.parties)?;
        let bare = Message {
            parties: Parties::default(),
            ..message.clone()
        };
        self.put(table, &key, slot, &bare)
    }

    /// Moves the whole thread of `from` to the end of `into`: each readable message
    /// re-sealed with the key that sealed it before (with its original mail), and each
    /// placeholder (an erased or anonymised message) moved as a placeholder. Returns how
    /// many entries moved.
    pub fn move_thread(&mut self, from: TicketNo, into: TicketNo) -> Result<u32> {
        let store = self.store;
        let mut moved = 0;
        for item in store.t.messages.tree.scan_prefix(from.0.to_be_bytes()) {
            let (key, sealed) = item?;
            self.move_entry(from, &key, &sealed, into)?;
            moved += 1;
        }
        Ok(moved)
    }

    /// Moves message `seq` of `from` to the end of `into` (a split), as
    /// [`Tx::move_thread`] moves each: re-sealed under the key that sealed it, with its
    /// parties and original mail. Returns its new position.
    pub fn move_message(&mut self, from: TicketNo, seq: u32, into: TicketNo) -> Result<u32> {
        let store = self.store;
        let key = message_key(from, seq);
        let Some(sealed) = store.t.messages.tree.get(key)? else {
            return Err(StoreError::Corrupt(format!(
                "message {} vanished",
                hex::encode(key)
            )));
        };
        self.move_entry(from, &key, &sealed, into)
    }

    /// Moves one thread entry (stored at `key` of ticket `from`) to the end of `into`.
    fn move_entry(
        &mut self,
        from: TicketNo,
        key: &[u8],
        sealed: &[u8],
        into: TicketNo,
    ) -> Result<u32> {
        let store = self.store;
        let table = &store.t.messages;
        let seq = self.next_message_seq(into)?;
        self.clear_stale_original(into, seq)?;
        let new_key = message_key(into, seq);
        let slot = super::envelope::slot_of(table.name, sealed)?;
        let owner = match slot {
            KeySlot::Master => None,
            KeySlot::Customer(owner)
            | KeySlot::Record {
                customer: owner, ..
            } => Some(owner),
        };
        match owner {
            None => {
                // A placeholder or a system note: nobody's personal data.
                let mut entry: Message = store.decode(table, key, sealed)?;
                entry.ticket = into;
                entry.seq = seq;
                self.put(table, &new_key, KeySlot::Master, &entry)?;
            }
            Some(owner) => match store.decode::<Message>(table, key, sealed) {
                Ok(mut message) => {
                    let old_seq = message.seq;
                    message.ticket = into;
                    message.seq = seq;
                    // The record key moves with it: a later redaction reaches
                    // the copy at the old place in earlier backups too.
                    match slot {
                        KeySlot::Record { .. } => {
                            self.put_sealed(table, &new_key, slot, &message)?
                        }
                        _ => self.put_message(&owner, &message)?,
                    }
                    self.move_parties(key, &new_key)?;
                    self.move_raw_mail(&owner, from, old_seq, into, seq)?;
                }
                Err(StoreError::Erased) => {
                    // Its author's key is gone: what stays is its place in the
                    // thread, as the placeholder an erasure writes.
                    let entry = Message::erased_placeholder(into, seq);
                    self.put(table, &new_key, KeySlot::Master, &entry)?;
                }
                Err(e) => return Err(e),
            },
        }
        self.remove(table, key);
        Ok(seq)
    }

    /// Moves a message's parties to the message's new place, under the record key
    /// that sealed them (gone with it if that key is).
    fn move_parties(&mut self, old_key: &[u8], new_key: &[u8]) -> Result<()> {
        let store = self.store;
        let table = &store.t.message_parties;
        let Some(sealed) = table.tree.get(old_key)? else {
            return Ok(());
        };
        match store.decode::<Parties>(table, old_key, &sealed) {
            Ok(parties) => {
                let slot = super::envelope::slot_of(table.name, &sealed)?;
                self.put_sealed(table, new_key, slot, &parties)?;
            }
            Err(StoreError::Erased) => {}
            Err(e) => return Err(e),
        }
        self.remove(table, old_key);
        Ok(())
    }

    /// Moves a message's original mail to the message's new place, under the record
    /// key that sealed it.
    fn move_raw_mail(
        &mut self,
        owner: &CustomerId,
        from: TicketNo,
        old_seq: u32,
        into: TicketNo,
        seq: u32,
    ) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        let old_key = message_key(from, old_seq);
        let Some(sealed) = t.raw_mail.tree.get(old_key)? else {
            return Ok(());
        };
        let raw: Vec<u8> = match store.decode(&t.raw_mail, &old_key, &sealed) {
            Ok(raw) => raw,
            Err(StoreError::Erased) => return Ok(()),
            Err(e) => return Err(e),
        };
        match super::envelope::slot_of(t.raw_mail.name, &sealed)? {
            slot @ KeySlot::Record { .. } => {
                self.put_blob_sealed(&t.raw_mail, &message_key(into, seq), slot, &raw)?
            }
            _ => self.put_raw_mail(owner, into, seq, &raw)?,
        }
        self.remove(&t.raw_mail, &old_key);
        Ok(())
    }

    pub fn put_attachment(
        &mut self,
        customer: &CustomerId,
        id: &AttachmentId,
        bytes: &[u8],
    ) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        self.put_blob(
            &t.attachments,
            id.as_bytes(),
            KeySlot::Customer(*customer),
            bytes,
        )
    }

    pub fn remove_attachment(&mut self, id: &AttachmentId) {
        let store = self.store;
        let t = &store.t;
        self.remove(&t.attachments, id.as_bytes());
    }

    // ---- agents ----

    pub fn put_agent(&mut self, agent: &Agent) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        self.put(&t.agents, agent.id.as_bytes(), KeySlot::Master, agent)
    }

    pub fn remove_agent(&mut self, id: &AgentId) -> Result<bool> {
        let store = self.store;
        let t = &store.t;
        let existed = self.contains(&t.agents, id.as_bytes())?;
        self.remove(&t.agents, id.as_bytes());
        Ok(existed)
    }

    // ---- consent ledger (append-only) ----

    /// Appends to the customer's ledger; sets and returns the record's position. The
    /// caller holds the customer (see `desk::write`).
    pub fn append_consent(&mut self, record: &mut ConsentRecord) -> Result<u64> {
        let store = self.store;
        let t = &store.t;
        let prefix = *record.customer.as_bytes();
        let seq = match self.last_key_under(&t.consents, &prefix)? {
            Some(k) if k.len() == 24 => {
                u64::from_be_bytes(k[16..24].try_into().expect("checked length")) + 1
            }
            _ => 1,
        };
        record.seq = seq;
        let mut key = [0u8; 24];
        key[..16].copy_from_slice(&prefix);
        key[16..].copy_from_slice(&seq.to_be_bytes());
        self.put(
            &t.consents,
            &key,
            KeySlot::Customer(record.customer),
            record,
        )?;
        Ok(seq)
    }

    // ---- privacy requests ----

    pub fn put_request(&mut self, request: &PrivacyRequest) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        self.put(&t.requests, request.id.as_bytes(), KeySlot::Master, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workflow record as Part 10's groundwork stored it, before the SLA fields.
    #[derive(Serialize)]
    struct WorkflowBeforeSla {
        number: TicketNo,
        status: Status,
        priority: Priority,
        assignee: Option<String>,
        tags: Vec<String>,
        customer: CustomerId,
        created: Timestamp,
        updated: Timestamp,
        due: Option<Timestamp>,
        address: Option<String>,
        participants: Vec<CustomerId>,
        links: Vec<TicketLink>,
        snoozed_until: Option<Timestamp>,
    }

    #[test]
    fn a_workflow_stored_before_the_sla_fields_reads_with_an_empty_clock() {
        let old = WorkflowBeforeSla {
            number: TicketNo(4),
            status: Status::Pending,
            priority: Priority::High,
            assignee: Some("alice".into()),
            tags: vec!["vip".into()],
            customer: CustomerId([7; 16]),
            created: Timestamp(100),
            updated: Timestamp(200),
            due: Some(Timestamp(300)),
            address: None,
            participants: Vec::new(),
            links: Vec::new(),
            snoozed_until: Some(Timestamp(400)),
        };
        let bytes = bincode::serde::encode_to_vec(&old, bincode::config::standard()).unwrap();
        let new: TicketWorkflow = crate::upgrade::decode(&bytes).unwrap();
        assert_eq!(new.snoozed_until, Some(Timestamp(400)));
        assert_eq!(new.due, Some(Timestamp(300)));
        assert!(!new.due_by_hand);
        assert_eq!(new.sla, SlaClock::default());
    }
}
