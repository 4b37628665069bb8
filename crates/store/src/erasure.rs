//! Erasure: everything sealed for one customer is deleted or turned into a placeholder,
//! their key is destroyed, and the erasure is journalled in the keys dir so a restore
//! of an older backup re-applies it.

use super::envelope::{self, KeySlot};
use super::keys::{check_private, sync_dir};
use super::{Result, Store, StoreError, Table, Tx};
use sealdesk_api::ErasureCounts;
use sealdesk_model::{Author, CustomerId, Message, Timestamp, ERASED};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// One entry of the erasure journal (keys dir): enough to re-apply an erasure to a
/// restored backup, and nothing readable about the person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErasureRecord {
    pub customer: CustomerId,
    /// Keyed hashes of their addresses (for suppression), never the addresses.
    pub email_keys: Vec<[u8; 32]>,
    pub at: Timestamp,
    /// Whether their addresses stay suppressed ("previously erased"), as
    /// `privacy.suppress_after_erasure` said when the erasure was decided; re-applying
    /// the erasure to a restored backup honours it.
    pub suppress: bool,
}

/// A journal record as Part 4 wrote it (no `suppress`: they were all suppressed).
#[derive(Deserialize)]
struct ErasureRecordV1 {
    customer: CustomerId,
    email_keys: Vec<[u8; 32]>,
    at: Timestamp,
}

const JOURNAL_AAD_V1: &[u8] = b"sealdesk erasure journal v1";
const JOURNAL_AAD: &[u8] = b"sealdesk erasure journal v2";

impl Store {
    /// Whether a later mail from this address must open a "previously erased" customer.
    pub fn is_suppressed(&self, email: &str) -> Result<bool> {
        Ok(self.t.suppressed.tree.contains_key(self.email_key(email))?)
    }

    /// Writes the decision to erase a customer to the journal in the keys dir, durably,
    /// before anything is erased: a crash part way is then finished at the next start
    /// (see [`Store::unfinished_erasures`]), and a restore of an older backup re-applies
    /// it.
    pub fn journal_erasure(&self, id: &CustomerId, emails: &[String]) -> Result<ErasureRecord> {
        let record = ErasureRecord {
            customer: *id,
            email_keys: emails.iter().map(|e| self.email_key(e)).collect(),
            at: Timestamp::now(),
            suppress: self
                .suppress_after_erasure
                .load(std::sync::atomic::Ordering::Acquire),
        };
        self.append_erasure_journal(&record)?;
        Ok(record)
    }

    /// Journalled erasures that did not finish (the process died part way): the
    /// customer's record or key is still here.
    pub fn unfinished_erasures(&self) -> Result<Vec<ErasureRecord>> {
        let mut out: Vec<ErasureRecord> = Vec::new();
        for record in self.read_erasure_journal()? {
            let id = record.customer;
            let left = self.t.customers.tree.contains_key(id.as_bytes())?
                || self.keyring.read().contains(&id);
            if left && !out.iter().any(|r| r.customer == id) {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// Re-applies journalled erasures to this data dir (after a restore): removes what
    /// is left of each erased customer and restores their suppression entries. Their
    /// keys are already gone, so whatever stays behind is unreadable.
    pub(crate) fn reapply_erasures(&self) -> Result<usize> {
        let mut applied = 0;
        for record in self.read_erasure_journal()? {
            let id = record.customer;
            self.remove_sealed_for(&self.t.attachments, &id)?;
            self.remove_sealed_for(&self.t.raw_mail, &id)?;
            self.remove_sealed_for(&self.t.quarantine, &id)?;
            self.remove_sealed_for(&self.t.drafts, &id)?;
            self.remove_sealed_for(&self.t.message_parties, &id)?;
            self.reapply_export_erasure(&id)?;
            self.remove_prefix(&self.t.consents, id.as_bytes())?;
            self.remove_prefix(&self.t.customer_tickets, id.as_bytes())?;
            for k in &record.email_keys {
                self.t.email_index.tree.remove(k)?;
                if record.suppress {
                    self.put(&self.t.suppressed, k, KeySlot::Master, &record.at)?;
                }
            }
            self.t.customer_meta.tree.remove(id.as_bytes())?;
            if self.t.customers.tree.remove(id.as_bytes())?.is_some() {
                applied += 1;
            }
            self.put(&self.t.erased, id.as_bytes(), KeySlot::Master, &record.at)?;
        }
        self.flush()?;
        Ok(applied)
    }

    /// (key, sealed value) of every value in `table` sealed for `id`.
    pub(super) fn sealed_for(
        &self,
        table: &Table,
        id: &CustomerId,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in table.tree.iter() {
            let (k, v) = item?;
            let owner = match envelope::slot_of(table.name, &v) {
                Ok(KeySlot::Customer(c)) | Ok(KeySlot::Record { customer: c, .. }) => Some(c),
                _ => None,
            };
            if owner == Some(*id) {
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

    fn keys_under(&self, table: &Table, prefix: &[u8]) -> Result<Vec<sled::IVec>> {
        Ok(table
            .tree
            .scan_prefix(prefix)
            .keys()
            .collect::<std::result::Result<_, _>>()?)
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
        journal_path(&self.paths.keys)
    }

    pub(super) fn append_erasure_journal(&self, record: &ErasureRecord) -> Result<()> {
        append_journal(&self.paths.keys, &self.master, record)
    }

    pub(crate) fn read_erasure_journal(&self) -> Result<Vec<ErasureRecord>> {
        read_journal(&self.journal_path(), &self.master)
    }
}

pub(super) fn journal_path(keys_dir: &std::path::Path) -> std::path::PathBuf {
    keys_dir.join("erasures")
}

/// Cuts a torn last record (a process killed inside [`append_journal`]) off the journal
/// at `path`, durably. Such a record was never acknowledged, so the erasure it began
/// never started; left in place, the next record appended after it would be misread.
pub(super) fn drop_torn_tail(path: &std::path::Path) -> Result<()> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(()); // no journal yet (or unreadable: `read_journal` says so)
    };
    let (_, whole) = journal_records(&bytes);
    if whole == bytes.len() {
        return Ok(());
    }
    tracing::warn!("the erasure journal ends in a record that was never completed; dropping it");
    let ctx = || format!("cannot repair the erasure journal {}", path.display());
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(StoreError::io(ctx()))?;
    f.set_len(whole as u64).map_err(StoreError::io(ctx()))?;
    f.sync_all().map_err(StoreError::io(ctx()))
}

/// The journal's framing, read once for both its readers: each record is a 4-byte
/// big-endian length and that many sealed bytes. Returns the whole records and how many
/// bytes they span (less than `bytes.len()` after a torn last record).
fn journal_records(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut records = Vec::new();
    let mut whole = 0;
    while bytes.len() >= whole + 4 {
        let len = u32::from_be_bytes(bytes[whole..whole + 4].try_into().expect("4 bytes")) as usize;
        if bytes.len() < whole + 4 + len {
            break;
        }
        records.push(&bytes[whole + 4..whole + 4 + len]);
        whole += 4 + len;
    }
    (records, whole)
}

/// Appends one record to the erasure journal in `keys_dir`, durably.
pub(super) fn append_journal(
    keys_dir: &std::path::Path,
    master: &super::envelope::SealKey,
    record: &ErasureRecord,
) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = journal_path(keys_dir);
    drop_torn_tail(&path)?;
    let plain = bincode::serde::encode_to_vec(record, bincode::config::standard())
        .map_err(|e| StoreError::Db(format!("cannot encode the erasure journal: {e}")))?;
    let sealed = master.seal_raw(JOURNAL_AAD, &plain);
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
    sync_dir(keys_dir)
}

/// Reads the erasure journal at `path` (empty if there is none).
pub(super) fn read_journal(
    path: &std::path::Path,
    master: &super::envelope::SealKey,
) -> Result<Vec<ErasureRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    check_private(path)?;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(StoreError::io(format!("cannot read {}", path.display())))?;
    let damaged = |p: &str| StoreError::KeyFile {
        path: path.into(),
        problem: p.into(),
    };
    let mut out = Vec::new();
    // A torn last record was never acknowledged: `journal_records` leaves it out.
    for sealed in journal_records(&bytes).0 {
        let undecodable = || damaged("a record cannot be decoded");
        let record = if let Some(plain) = master.open_raw(JOURNAL_AAD, sealed) {
            bincode::serde::decode_from_slice(&plain, bincode::config::standard())
                .map_err(|_| undecodable())?
                .0
        } else {
            let plain = master
                .open_raw(JOURNAL_AAD_V1, sealed)
                .ok_or_else(|| damaged("a record fails its integrity check"))?;
            let (old, _): (ErasureRecordV1, usize) =
                bincode::serde::decode_from_slice(&plain, bincode::config::standard())
                    .map_err(|_| undecodable())?;
            ErasureRecord {
                customer: old.customer,
                email_keys: old.email_keys,
                at: old.at,
                suppress: true,
            }
        };
        out.push(record);
    }
    Ok(out)
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
        parties: sealdesk_model::Parties::default(),
        delivery: m.delivery.map(|d| match d {
            sealdesk_model::Delivery::Failed { at, .. } => sealdesk_model::Delivery::Failed {
                at,
                reason: ERASED.into(),
            },
            other => other,
        }),
        ..m
    }
}

impl Tx<'_> {
    /// Stages the erasure of one customer: every message sealed for them becomes a
    /// placeholder (kind, time and place kept for statistics) and everything else
    /// sealed for them is deleted, with their addresses suppressed and a tombstone.
    /// After this unit is durable their key is destroyed
    /// ([`Store::destroy_customer_key`]). Safe to run again on a half-erased customer.
    pub fn erase_customer(&mut self, record: &ErasureRecord) -> Result<ErasureCounts> {
        let store = self.store;
        let t = &store.t;
        let id = &record.customer;
        let mut counts = ErasureCounts::default();
        for (key, sealed) in store.sealed_for(&t.messages, id)? {
            let placeholder = match store.decode::<Message>(&t.messages, &key, &sealed) {
                Ok(m) => {
                    for a in &m.attachments {
                        if self.contains(&t.attachments, a.id.as_bytes())? {
                            self.remove(&t.attachments, a.id.as_bytes());
                            counts.attachments += 1;
                        }
                    }
                    erased_message(m)
                }
                Err(StoreError::Erased) => continue,
                Err(e) => return Err(e),
            };
            self.put(&t.messages, &key, KeySlot::Master, &placeholder)?;
            counts.messages += 1;
        }
        for (key, _) in store.sealed_for(&t.subjects, id)? {
            self.put(&t.subjects, &key, KeySlot::Master, ERASED)?;
            counts.subjects += 1;
        }
        for (key, _) in store.sealed_for(&t.attachments, id)? {
            if self.contains(&t.attachments, &key)? {
                self.remove(&t.attachments, &key);
                counts.attachments += 1;
            }
        }
        for (key, _) in store.sealed_for(&t.raw_mail, id)? {
            self.remove(&t.raw_mail, &key);
            counts.raw_mails += 1;
        }
        for key in store.keys_under(&t.consents, id.as_bytes())? {
            self.remove(&t.consents, &key);
            counts.consents += 1;
        }
        for (key, _) in store.sealed_for(&t.quarantine, id)? {
            self.remove(&t.quarantine, &key);
            counts.quarantined += 1;
        }
        for (key, _) in store.sealed_for(&t.drafts, id)? {
            self.remove(&t.drafts, &key);
        }
        for (key, _) in store.sealed_for(&t.message_parties, id)? {
            self.remove(&t.message_parties, &key);
        }
        self.scrub_participant(record)?;
        counts.exports = self.erase_exports(id)?;
        for key in store.keys_under(&t.customer_tickets, id.as_bytes())? {
            self.remove(&t.customer_tickets, &key);
        }
        for k in &record.email_keys {
            self.remove(&t.email_index, k);
            if record.suppress {
                self.put(&t.suppressed, k, KeySlot::Master, &record.at)?;
            }
        }
        // Their record keys go with their customer key, so no key of theirs is left in
        // the keyring (nor in a keys backup taken after this).
        self.shred_records_of(id)?;
        self.remove(&t.customers, id.as_bytes());
        self.remove(&t.customer_meta, id.as_bytes());
        self.put(&t.erased, id.as_bytes(), KeySlot::Master, &record.at)?;
        // The journal's copy in the data dir, so every data backup carries it.
        self.put(&t.erasures, id.as_bytes(), KeySlot::Master, record)?;
        Ok(counts)
    }

    /// Where the erased customer took part in other people's tickets (in Cc, a
    /// colleague who wrote in): they leave the participants, and their address leaves
    /// the To/Cc/Bcc lists of the messages and drafts there that others own (rewritten
    /// under fresh record keys, the old ones shredded, so earlier backups lose it too);
    /// the original mails of those messages, whose headers name them, are deleted the
    /// same way. What others wrote in their text stays theirs. Matched by keyed hash, so
    /// re-applying this to a restored backup needs no plaintext address.
    fn scrub_participant(&mut self, record: &ErasureRecord) -> Result<()> {
        let store = self.store;
        let t = &store.t;
        let id = &record.customer;
        let named = |mailbox: &String| {
            let key = store.email_key(&sealdesk_model::mailbox_address(mailbox));
            record.email_keys.contains(&key)
        };
        let scrub = |parties: &mut sealdesk_model::Parties| {
            let before = parties.all().count();
            for list in [&mut parties.to, &mut parties.cc, &mut parties.bcc] {
                list.retain(|m| !named(m));
            }
            before != parties.all().count()
        };
        for number in store.participant_tickets(id)? {
            if let Some(mut ticket) = store.ticket(number)? {
                ticket.participants.retain(|p| p != id);
                self.put_workflow(&ticket)?;
            }
            let prefix = number.0.to_be_bytes();
            let parties: Vec<_> = t
                .message_parties
                .tree
                .scan_prefix(prefix)
                .collect::<std::result::Result<_, _>>()?;
            for (k, sealed) in parties {
                let owner = match envelope::slot_of(t.message_parties.name, &sealed)? {
                    KeySlot::Customer(c) | KeySlot::Record { customer: c, .. } => c,
                    KeySlot::Master => continue,
                };
                if owner == *id {
                    continue; // their own: removed above
                }
                let Ok(mut p) =
                    store.decode::<sealdesk_model::Parties>(&t.message_parties, &k, &sealed)
                else {
                    continue;
                };
                if scrub(&mut p) {
                    // The message stays as it is (and readable in earlier backups);
                    // only its recipients' record key is rotated, and the original
                    // mail, whose headers name them, goes.
                    self.put_rotating(&t.message_parties, &k, KeySlot::Customer(owner), &p)?;
                    self.remove_shredding(&t.raw_mail, &k)?;
                }
            }
            for item in t.drafts.tree.scan_prefix(prefix) {
                let (k, sealed) = item?;
                let Ok(
                    KeySlot::Customer(owner)
                    | KeySlot::Record {
                        customer: owner, ..
                    },
                ) = envelope::slot_of(t.drafts.name, &sealed)
                else {
                    continue;
                };
                let Ok(mut d) = store.decode::<sealdesk_model::Draft>(&t.drafts, &k, &sealed)
                else {
                    continue;
                };
                if scrub(&mut d.parties) {
                    self.put_rotating(&t.drafts, &k, KeySlot::Customer(owner), &d)?;
                }
            }
        }
        Ok(())
    }

    /// `privacy.suppress_after_erasure = false`: the erased addresses are not kept
    /// as "previously erased" (staged after [`Tx::erase_customer`] in the same unit).
    pub fn lift_suppression(&mut self, record: &ErasureRecord) {
        let store = self.store;
        for k in &record.email_keys {
            self.remove(&store.t.suppressed, k);
        }
    }

    /// Anonymises one ticket (retention): subject and every readable message become
    /// placeholders, attachments and original mails are deleted, and the record keys
    /// of all of them are shredded, so the old text is unreadable in earlier backups
    /// too. Workflow stays. Returns the number of messages anonymised.
    pub fn anonymise_ticket(&mut self, number: sealdesk_model::TicketNo) -> Result<usize> {
        let store = self.store;
        let t = &store.t;
        let key = number.0.to_be_bytes();
        // Archives made before hold the ticket's text.
        if let Some(ticket) = store.ticket(number)? {
            self.expire_archives_of(&ticket.customer)?;
        }
        self.put_rotating(&t.subjects, &key, KeySlot::Master, ERASED)?;
        let mut count = 0;
        for item in t.messages.tree.scan_prefix(key) {
            let (k, sealed) = item?;
            if matches!(
                envelope::slot_of(t.messages.name, &sealed),
                Ok(KeySlot::Master)
            ) {
                continue; // already a placeholder, or a system note without personal data
            }
            let Ok(m) = store.decode::<Message>(&t.messages, &k, &sealed) else {
                continue;
            };
            for a in &m.attachments {
                self.remove_shredding(&t.attachments, a.id.as_bytes())?;
            }
            self.remove_shredding(&t.raw_mail, &k)?;
            if self.current_slot(&t.message_parties, &k)?.is_some() {
                self.remove_shredding(&t.message_parties, &k)?;
            }
            self.put_rotating(&t.messages, &k, KeySlot::Master, &erased_message(m))?;
            count += 1;
        }
        // Drafts quote the thread: they go, with their files.
        let drafts: Vec<_> = t
            .drafts
            .tree
            .scan_prefix(key)
            .collect::<std::result::Result<_, _>>()?;
        for (k, sealed) in drafts {
            if let Ok(d) = store.decode::<sealdesk_model::Draft>(&t.drafts, &k, &sealed) {
                for a in &d.attachments {
                    self.remove_shredding(&t.attachments, a.id.as_bytes())?;
                }
            }
            self.remove_shredding(&t.drafts, &k)?;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod torn_journal_tests {
    use crate::testing::{new_store, scratch};
    use sealdesk_model::CustomerId;
    use std::io::Write;

    /// A process killed inside an append leaves a torn record; the next append (and the
    /// next open) cut it off, so later records read back instead of failing the check.
    #[test]
    fn a_torn_journal_record_is_cut_before_the_next_append() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let (a, b) = (CustomerId::random(), CustomerId::random());
        store
            .journal_erasure(&a, &["a@example.com".into()])
            .unwrap();
        let path = super::journal_path(&paths.keys);
        let whole = std::fs::metadata(&path).unwrap().len();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&200u32.to_be_bytes()).unwrap(); // a length, then nothing
        drop(f);
        store
            .journal_erasure(&b, &["b@example.com".into()])
            .unwrap();
        let read: Vec<CustomerId> = store
            .read_erasure_journal()
            .unwrap()
            .into_iter()
            .map(|r| r.customer)
            .collect();
        assert_eq!(read, [a, b]);

        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&[0, 0]).unwrap();
        drop(f);
        super::drop_torn_tail(&path).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > whole);
        assert_eq!(store.read_erasure_journal().unwrap().len(), 2);
    }
}
