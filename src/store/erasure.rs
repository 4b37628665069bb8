//! Erasure: everything sealed for one customer is deleted or turned into a placeholder,
//! their key is destroyed, and the erasure is journalled in the keys dir so a restore
//! of an older backup re-applies it.

use super::envelope::{self, KeySlot};
use super::keys::{check_private, sync_dir};
use super::{Result, Store, StoreError, Table};
use crate::model::{Author, CustomerId, Message, Timestamp, ERASED};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// What one erasure removed, for the confirmation and the audit log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErasureCounts {
    pub messages: usize,
    pub subjects: usize,
    pub attachments: usize,
    pub raw_mails: usize,
    pub consents: usize,
}

/// One entry of the erasure journal (keys dir): enough to re-apply an erasure to a
/// restored backup, and nothing readable about the person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErasureRecord {
    pub customer: CustomerId,
    /// Keyed hashes of their addresses (for suppression), never the addresses.
    pub email_keys: Vec<[u8; 32]>,
    pub at: Timestamp,
}

const JOURNAL_AAD: &[u8] = b"sealdesk erasure journal v1";

impl Store {
    /// Whether a later mail from this address must open a "previously erased" customer.
    pub fn is_suppressed(&self, email: &str) -> Result<bool> {
        Ok(self.t.suppressed.tree.contains_key(self.email_key(email))?)
    }

    /// Erases one customer completely. Their key must still exist (so messages can be
    /// turned into placeholders that keep kind and time for statistics); afterwards it
    /// does not.
    pub fn erase_customer(&self, id: &CustomerId, emails: &[String]) -> Result<ErasureCounts> {
        let mut counts = ErasureCounts::default();
        // Messages: placeholders sealed with the master key; their files deleted.
        for (key, sealed) in self.sealed_for(&self.t.messages, id)? {
            let placeholder = match self.decode::<Message>(&self.t.messages, &key, &sealed) {
                Ok(m) => {
                    for a in &m.attachments {
                        if self.t.attachments.tree.remove(a.id.as_bytes())?.is_some() {
                            counts.attachments += 1;
                        }
                    }
                    erased_message(m)
                }
                Err(StoreError::Erased) => continue,
                Err(e) => return Err(e),
            };
            self.put(&self.t.messages, &key, KeySlot::Master, &placeholder)?;
            counts.messages += 1;
        }
        for (key, _) in self.sealed_for(&self.t.subjects, id)? {
            self.put(&self.t.subjects, &key, KeySlot::Master, ERASED)?;
            counts.subjects += 1;
        }
        counts.attachments += self.remove_sealed_for(&self.t.attachments, id)?;
        counts.raw_mails = self.remove_sealed_for(&self.t.raw_mail, id)?;
        counts.consents = self.remove_prefix(&self.t.consents, id.as_bytes())?;
        self.remove_prefix(&self.t.customer_tickets, id.as_bytes())?;
        let email_keys: Vec<[u8; 32]> = emails.iter().map(|e| self.email_key(e)).collect();
        for k in &email_keys {
            self.t.email_index.tree.remove(k)?;
            self.put(&self.t.suppressed, k, KeySlot::Master, &Timestamp::now())?;
        }
        self.t.customers.tree.remove(id.as_bytes())?;
        self.append_erasure_journal(&ErasureRecord {
            customer: *id,
            email_keys,
            at: Timestamp::now(),
        })?;
        self.flush()?;
        self.destroy_customer_key(id)?;
        Ok(counts)
    }

    /// Re-applies journalled erasures to this data dir (after a restore): removes what
    /// is left of each erased customer and restores their suppression entries. Their
    /// keys are already gone, so whatever stays behind is unreadable.
    pub fn reapply_erasures(&self) -> Result<usize> {
        let mut applied = 0;
        for record in self.read_erasure_journal()? {
            let id = record.customer;
            self.remove_sealed_for(&self.t.attachments, &id)?;
            self.remove_sealed_for(&self.t.raw_mail, &id)?;
            self.remove_prefix(&self.t.consents, id.as_bytes())?;
            self.remove_prefix(&self.t.customer_tickets, id.as_bytes())?;
            for k in &record.email_keys {
                self.t.email_index.tree.remove(k)?;
                self.put(&self.t.suppressed, k, KeySlot::Master, &record.at)?;
            }
            if self.t.customers.tree.remove(id.as_bytes())?.is_some() {
                applied += 1;
            }
            self.put(&self.t.erased, id.as_bytes(), KeySlot::Master, &record.at)?;
        }
        self.flush()?;
        Ok(applied)
    }

    /// (key, sealed value) of every value in `table` sealed for `id`.
    fn sealed_for(&self, table: &Table, id: &CustomerId) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in table.tree.iter() {
            let (k, v) = item?;
            if matches!(envelope::slot_of(table.name, &v), Ok(KeySlot::Customer(c)) if c == *id) {
                out.push((k.to_vec(), v.to_vec()));
            }
        }
        Ok(out)
    }

    fn remove_sealed_for(&self, table: &Table, id: &CustomerId) -> Result<usize> {
        let found = self.sealed_for(table, id)?;
        for (k, _) in &found {
            table.tree.remove(k)?;
        }
        Ok(found.len())
    }

    fn remove_prefix(&self, table: &Table, prefix: &[u8]) -> Result<usize> {
        let keys: Vec<_> = table
            .tree
            .scan_prefix(prefix)
            .keys()
            .collect::<std::result::Result<_, _>>()?;
        for k in &keys {
            table.tree.remove(k)?;
        }
        Ok(keys.len())
    }

    fn journal_path(&self) -> std::path::PathBuf {
        self.paths.keys.join("erasures")
    }

    fn append_erasure_journal(&self, record: &ErasureRecord) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.journal_path();
        let plain = bincode::serde::encode_to_vec(record, bincode::config::standard())
            .map_err(|e| StoreError::Db(format!("cannot encode the erasure journal: {e}")))?;
        let sealed = self.master.seal_raw(JOURNAL_AAD, &plain);
        let ctx = || format!("cannot write the erasure journal {}", path.display());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(StoreError::io(ctx()))?;
        f.write_all(&(sealed.len() as u32).to_be_bytes())
            .map_err(StoreError::io(ctx()))?;
        f.write_all(&sealed).map_err(StoreError::io(ctx()))?;
        f.sync_all().map_err(StoreError::io(ctx()))?;
        sync_dir(&self.paths.keys)
    }

    pub fn read_erasure_journal(&self) -> Result<Vec<ErasureRecord>> {
        let path = self.journal_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        check_private(&path)?;
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(StoreError::io(format!("cannot read {}", path.display())))?;
        let damaged = |p: &str| StoreError::KeyFile {
            path: path.clone(),
            problem: p.into(),
        };
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= 4 {
            let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            if rest.len() < 4 + len {
                break; // a torn last record: never acknowledged
            }
            let plain = self
                .master
                .open_raw(JOURNAL_AAD, &rest[4..4 + len])
                .ok_or_else(|| damaged("a record fails its integrity check"))?;
            let (record, _) =
                bincode::serde::decode_from_slice(&plain, bincode::config::standard())
                    .map_err(|_| damaged("a record cannot be decoded"))?;
            out.push(record);
            rest = &rest[4 + len..];
        }
        Ok(out)
    }
}

/// Keeps what statistics need (kind, time, position, delivery), drops the rest.
fn erased_message(m: Message) -> Message {
    Message {
        author: Author::Erased,
        text: ERASED.into(),
        message_id: None,
        in_reply_to: None,
        references: Vec::new(),
        attachments: Vec::new(),
        delivery: m.delivery.map(|d| match d {
            crate::model::Delivery::Failed { at, .. } => crate::model::Delivery::Failed {
                at,
                reason: ERASED.into(),
            },
            other => other,
        }),
        ..m
    }
}

impl Store {
    /// Anonymises one ticket (retention): subject and every readable message become
    /// placeholders, attachments and original mails are deleted. Workflow stays.
    /// Returns the number of messages anonymised.
    pub fn anonymise_ticket(&self, number: crate::model::TicketNo) -> Result<usize> {
        let key = number.0.to_be_bytes();
        self.put(&self.t.subjects, &key, KeySlot::Master, ERASED)?;
        let mut count = 0;
        for item in self.t.messages.tree.scan_prefix(key) {
            let (k, sealed) = item?;
            if matches!(
                envelope::slot_of(self.t.messages.name, &sealed),
                Ok(KeySlot::Master)
            ) {
                continue; // already a placeholder, or a system note without personal data
            }
            let Ok(m) = self.decode::<Message>(&self.t.messages, &k, &sealed) else {
                continue;
            };
            for a in &m.attachments {
                self.t.attachments.tree.remove(a.id.as_bytes())?;
            }
            self.t.raw_mail.tree.remove(&k)?;
            self.put(&self.t.messages, &k, KeySlot::Master, &erased_message(m))?;
            count += 1;
        }
        Ok(count)
    }
}
