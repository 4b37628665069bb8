//! The sealed store: sled underneath, and nothing else in sealdesk touches sled.
//!
//! Every value is `bincode(serde)` then sealed (see [`envelope`]); sled keys are opaque
//! ids or keyed hashes, never personal data. Records holding a customer's personal data
//! are sealed with that customer's key from the [`keyring`]; workflow records with a key
//! derived from the master key.
//!
//! Writes go through units of work ([`Tx`], see `tx`): a whole operation is applied at
//! once and made durable with [`Store::wait_durable`] before anyone is told it
//! succeeded.

mod backup;
mod drafts;
mod envelope;
mod erasure;
mod error;
mod exports;
mod health;
// Part 11 (imap)
mod imap_state;
mod imports;
mod keyring;
mod keys;
mod keys_backup;
mod live;
mod mail;
mod notices;
mod notifications;
mod record_keys;
mod records;
mod retention;
mod seen;
mod shred;
mod templates;
mod tx;
mod upgrade;
mod views;
// Part 11
mod webhooks;

pub use backup::{BackupSummary, OpGuard};
pub use envelope::{RecordKeyId, FORMAT_VERSION};
pub use erasure::ErasureRecord;
pub use error::{Result, StoreError};
pub use health::{Failure, HealthReport, Recovery};
pub use imap_state::ImapProgress;
pub use keys::{create_private_dir, demo_public_key, tighten_modes, write_user_key, KeyPaths};
pub use keys_backup::{restore_keys, KeysBackupSummary};
pub use notifications::{DueMark, NOTIFICATIONS_KEPT};
/// What one erasure removed (defined in `sealdesk_api`: the desk returns it to its front ends).
pub use sealdesk_api::ErasureCounts;
pub use shred::Redaction;
pub use tx::{CommitNo, Tx};
pub use webhooks::WEBHOOK_LOG_KEPT;

use envelope::{KeySlot, SealKey};
use hmac::{Hmac, KeyInit, Mac};
use keyring::Keyring;
use keys::{KeyPurpose, MasterKey};
use live::{Open, Slot, TreeRef};
use parking_lot::{Mutex, RwLock};
use sealdesk_model::{AuditEvent, CustomerId, EventHash, Pseudonym};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Where a desk lives: the data dir (sled) and the keys dir, kept apart.
#[derive(Clone, Debug)]
pub struct Paths {
    pub data: PathBuf,
    pub keys: PathBuf,
}

impl Paths {
    pub fn db(&self) -> PathBuf {
        self.data.join("db")
    }
    pub fn key_paths(&self) -> KeyPaths {
        KeyPaths::new(&self.keys)
    }
}

/// What `init` made, for the admin to note down.
pub struct InitReport {
    pub host_key_fingerprint: String,
    pub passphrase_protected: bool,
}

/// A sled tree together with its name, which goes into every value's associated data.
struct Table {
    name: &'static str,
    tree: TreeRef,
    /// Position in [`Tables::trees`], which a unit of work's transaction spans.
    idx: usize,
}

struct Tables {
    meta: Table,
    customers: Table,
    email_index: Table,
    erased: Table,
    tickets: Table,
    subjects: Table,
    customer_tickets: Table,
    messages: Table,
    attachments: Table,
    agents: Table,
    consents: Table,
    requests: Table,
    audit: Table,
    message_ids: Table,
    seen_mail: Table,
    raw_mail: Table,
    quarantine: Table,
    outbox: Table,
    suppressed: Table,
    /// The last unit of work's write set: a crash between its first and last write is
    /// repaired from it at the next open (see `tx`).
    units: Table,
    /// Export archives (sealed for their customer) and their index (master-sealed).
    exports: Table,
    /// Notices to customers, each customer's copy and the outbox links (see `notices`).
    notices: Table,
    /// Record keys whose destruction a unit decided (ids only, see `shred`).
    shredded: Table,
    /// The erasure journal's copy in the data dir (ids and keyed hashes only).
    erasures: Table,
    /// A customer's flags and creation time, sealed with the master key: what a
    /// profile whose record key was shredded since (a correction) falls back to.
    customer_meta: Table,
    /// Drafts, one per (ticket, agent), sealed with the ticket's customer's key.
    drafts: Table,
    /// Each message's To/Cc/Bcc, at the message's key, sealed for the message's owner
    /// under a record key of its own (see `records::put_message`).
    message_parties: Table,
    /// Saved replies and macros, sealed with the master key (no customer data).
    templates: Table,
    /// Notifications to agents (Part 10): each agent's list and the mail batch queue,
    /// sealed with the master key; they hold ticket numbers and reasons, no customer text.
    notifications: Table,
    /// When each agent last opened each ticket (Part 10 unread markers), master-sealed.
    ticket_seen: Table,
    /// Saved queue views, per agent or shared (Part 10), master-sealed.
    views: Table,
    /// Part 11: webhook definitions (master-sealed).
    webhooks: Table,
    /// Part 11: the durable webhook delivery queue.
    webhook_queue: Table,
    /// Part 11: each hook's delivery log.
    webhook_log: Table,
    /// Part 11: what `sealdesk import` filed already (resumable imports).
    imports: Table,
    /// Part 11: per IMAP account and folder, UIDVALIDITY and progress.
    imap_state: Table,
    /// Every tree above, in `idx` order.
    trees: Vec<TreeRef>,
}

/// Every tree's name, in `Table::idx` order.
const TREE_NAMES: [&str; 36] = [
    "meta",
    "customers",
    "email_index",
    "erased",
    "tickets",
    "ticket_subjects",
    "customer_tickets",
    "messages",
    "attachments",
    "agents",
    "consents",
    "requests",
    "audit",
    "message_ids",
    "seen_mail",
    "raw_mail",
    "quarantine",
    "outbox",
    "suppressed",
    "units",
    "exports",
    "notices",
    "shredded",
    "erasures",
    "customer_meta",
    "drafts",
    "templates",
    "message_parties",
    "notifications",
    "ticket_seen",
    "views",
    "webhooks",
    "webhook_queue",
    "webhook_log",
    "imports",
    "imap_state",
];

impl Tables {
    /// The tables of whatever database is open in `slot`.
    fn new(slot: &Slot) -> Self {
        let t = |idx: usize| Table {
            name: TREE_NAMES[idx],
            tree: TreeRef::new(idx, slot.clone()),
            idx,
        };
        Tables {
            meta: t(0),
            customers: t(1),
            email_index: t(2),
            erased: t(3),
            tickets: t(4),
            subjects: t(5),
            customer_tickets: t(6),
            messages: t(7),
            attachments: t(8),
            agents: t(9),
            consents: t(10),
            requests: t(11),
            audit: t(12),
            message_ids: t(13),
            seen_mail: t(14),
            raw_mail: t(15),
            quarantine: t(16),
            outbox: t(17),
            suppressed: t(18),
            units: t(19),
            exports: t(20),
            notices: t(21),
            shredded: t(22),
            erasures: t(23),
            customer_meta: t(24),
            drafts: t(25),
            templates: t(26),
            message_parties: t(27),
            notifications: t(28),
            ticket_seen: t(29),
            views: t(30),
            webhooks: t(31),
            webhook_queue: t(32),
            webhook_log: t(33),
            imports: t(34),
            imap_state: t(35),
            trees: (0..TREE_NAMES.len())
                .map(|idx| TreeRef::new(idx, slot.clone()))
                .collect(),
        }
    }
}

/// Opens the database at `paths` with every tree the store uses.
fn open_live(paths: &Paths) -> Result<Open> {
    let db = open_db(paths)?;
    let trees = TREE_NAMES
        .iter()
        .map(|name| db.open_tree(name))
        .collect::<sled::Result<Vec<_>>>()?;
    Ok(Open { db, trees })
}

const META_DESK_ID: &[u8] = b"desk_id";
const META_KEY_CHECK: &[u8] = b"key_check";
const META_NEXT_TICKET: &[u8] = b"next_ticket";
const META_AUDIT_HEAD: &[u8] = b"audit_head";
const KEY_CHECK: &[u8] = b"sealdesk key check v1";

pub struct Store {
    paths: Paths,
    /// The open database; every [`Table`] reaches it through here (see `live`).
    live: Slot,
    t: Tables,
    master: SealKey,
    /// Seals keys backups (`keys_backup`).
    keys_backup_key: SealKey,
    index_key: Zeroizing<[u8; 32]>,
    pseudonym_key: Zeroizing<[u8; 32]>,
    keyring: std::sync::Arc<RwLock<Keyring>>,
    /// Serialises appends to and rewrites of the keyring file (taken before the
    /// keyring's own lock), so a batch can be written without holding the keyring.
    key_appends: std::sync::Arc<Mutex<()>>,
    /// Part 11: customer keys made ahead for new senders of an import batch (one keyring
    /// fsync for the batch), by address key (see `imports`).
    premade: Mutex<std::collections::HashMap<[u8; 32], CustomerId>>,
    /// A refill of record keys running ahead of need (see `shred`).
    refiller: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Last ticket number handed out.
    ticket_counter: Mutex<u64>,
    /// (sequence number, hash) of the last audit event.
    audit_head: Mutex<(u64, EventHash)>,
    desk_id: [u8; 16],
    /// Operations share it; a backup takes it alone (see `backup`).
    gate: RwLock<()>,
    /// How many units of work were committed (see `tx`).
    committed: std::sync::atomic::AtomicU64,
    /// The newest commit known to be on disk.
    durable: std::sync::atomic::AtomicU64,

    /// A unit stopped part way; the next commit finishes it first.
    half_applied: std::sync::atomic::AtomicBool,
    /// Whether the disk failed us, since when, and when it came back (see `health`).
    health: health::Health,
    /// Record keys to destroy once the commit that shredded them is durable.
    pending_shreds: Mutex<Vec<(u64, Vec<envelope::RecordKeyId>)>>,
    /// `privacy.suppress_after_erasure`, as the desk's config says (see
    /// [`Store::set_suppress_after_erasure`]): recorded with each journalled erasure.
    suppress_after_erasure: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Creates a new desk: data dir, keys dir (master key, host key, empty keyring).
    /// Refuses if either already holds a setup.
    pub fn init(paths: &Paths, passphrase: Option<&str>) -> Result<InitReport> {
        let kp = paths.key_paths();
        if paths.db().exists() {
            return Err(StoreError::AlreadyInitialized(paths.data.clone()));
        }
        for existing in [kp.master(), kp.keyring(), kp.host_key()] {
            if existing.exists() {
                return Err(StoreError::AlreadyInitialized(paths.keys.clone()));
            }
        }
        create_private_dir(&paths.data)?;
        create_private_dir(&paths.keys)?;

        let master = MasterKey::generate();
        let mut desk_id = [0u8; 16];
        getrandom::fill(&mut desk_id).expect("the OS random source failed");
        master.write(&kp.master(), passphrase)?;
        let host_key_fingerprint = keys::write_host_key(&kp.host_key())?;
        Keyring::create(&kp.keyring(), desk_id)?;

        let live: Slot = std::sync::Arc::new(RwLock::new(Some(open_live(paths)?)));
        let t = Tables::new(&live);
        let seal = master.seal_key(KeyPurpose::Seal);
        let put = |key: &[u8], value: &[u8]| -> Result<()> {
            t.meta.tree.insert(
                key,
                envelope::seal(KeySlot::Master, &seal, t.meta.name, key, value),
            )?;
            Ok(())
        };
        put(META_DESK_ID, &desk_id)?;
        put(META_KEY_CHECK, KEY_CHECK)?;
        if let Some(open) = live.write().take() {
            open.db.flush()?;
        }
        Ok(InitReport {
            host_key_fingerprint,
            passphrase_protected: passphrase.is_some(),
        })
    }

    /// Opens an existing desk. Fails with a clear error when the data dir is missing or
    /// locked by another process, or when the keys do not belong to it.
    pub fn open(paths: &Paths, passphrase: Option<&str>) -> Result<Self> {
        if !paths.db().join("conf").exists() {
            return Err(StoreError::NotInitialized(paths.data.clone()));
        }
        let kp = paths.key_paths();
        let master = MasterKey::read(&kp.master(), passphrase)?;
        let live: Slot = std::sync::Arc::new(RwLock::new(Some(open_live(paths)?)));
        let t = Tables::new(&live);
        let seal = master.seal_key(KeyPurpose::Seal);

        let check = t
            .meta
            .tree
            .get(META_KEY_CHECK)?
            .ok_or_else(|| StoreError::NotInitialized(paths.data.clone()))?;
        match envelope::open(&seal, t.meta.name, META_KEY_CHECK, &check) {
            Ok(v) if v == KEY_CHECK => {}
            _ => return Err(StoreError::WrongKey(paths.keys.clone())),
        }
        let desk_id_sealed = t
            .meta
            .tree
            .get(META_DESK_ID)?
            .ok_or_else(|| StoreError::Corrupt("desk id missing".into()))?;
        let desk_id: [u8; 16] = envelope::open(&seal, t.meta.name, META_DESK_ID, &desk_id_sealed)?
            .try_into()
            .map_err(|_| StoreError::Corrupt("desk id".into()))?;
        let keyring = Keyring::load(
            &kp.keyring(),
            desk_id,
            master.seal_key(KeyPurpose::KeyringWrap),
        )?;

        let mut store = Store {
            paths: paths.clone(),
            index_key: master.derive(KeyPurpose::EmailIndex),
            keys_backup_key: master.seal_key(KeyPurpose::KeysBackup),
            pseudonym_key: master.derive(KeyPurpose::Pseudonym),
            master: seal,
            keyring: std::sync::Arc::new(RwLock::new(keyring)),
            key_appends: std::sync::Arc::new(Mutex::new(())),
            premade: Mutex::new(std::collections::HashMap::new()),
            refiller: Mutex::new(None),
            ticket_counter: Mutex::new(0),
            audit_head: Mutex::new((0, EventHash::GENESIS)),
            desk_id,
            gate: RwLock::new(()),
            committed: std::sync::atomic::AtomicU64::new(0),
            durable: std::sync::atomic::AtomicU64::new(0),
            half_applied: std::sync::atomic::AtomicBool::new(false),
            health: health::Health::default(),
            pending_shreds: Mutex::new(Vec::new()),
            suppress_after_erasure: std::sync::atomic::AtomicBool::new(true),
            live,
            t,
        };
        // Through `failed`: a store dropped after a disk error must not flush on close.
        let repaired = store.repair_units().map_err(|e| store.failed(e))?;
        if repaired > 0 {
            tracing::warn!("completed {repaired} unit(s) of work that a crash interrupted");
        }
        let stored: u64 = store.get(&store.t.meta, META_NEXT_TICKET)?.unwrap_or(0);
        // Never below the highest ticket there is, whatever the counter says.
        let counter = stored.max(store.highest_ticket()?);
        let head: (u64, EventHash) = store
            .get(&store.t.meta, META_AUDIT_HEAD)?
            .unwrap_or((0, EventHash::GENESIS));
        store.ticket_counter = Mutex::new(counter);
        store.audit_head = Mutex::new(head);
        // Where this keyring meets the data dir's journals: every key they list goes.
        erasure::drop_torn_tail(&erasure::journal_path(&paths.keys))?;
        let destroyed = store.meet_journals()?;
        if destroyed > 0 {
            tracing::warn!(
                "destroyed {destroyed} key(s) that an erasure or a redaction had already condemned"
            );
        }
        Ok(store)
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Whether erasures journalled from now on keep their addresses suppressed
    /// (`privacy.suppress_after_erasure`); the desk sets it from its config.
    pub fn set_suppress_after_erasure(&self, on: bool) {
        self.suppress_after_erasure
            .store(on, std::sync::atomic::Ordering::Release);
    }

    /// The number of the newest ticket stored (0 if none).
    fn highest_ticket(&self) -> Result<u64> {
        Ok(self
            .t
            .tickets
            .tree
            .last()?
            .and_then(|(k, _)| <[u8; 8]>::try_from(k.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Makes every write so far durable. Call before acknowledging an operation.
    pub fn flush(&self) -> Result<()> {
        // A failed database may never finish a flush (see `health`).
        self.check_writable()?;
        self.db()?.flush().map_err(|e| self.failed(e.into()))?;
        Ok(())
    }

    /// The database open now.
    fn db(&self) -> Result<sled::Db> {
        match &*self.live.read() {
            Some(open) => Ok(open.db.clone()),
            None => Err(self.unavailable()),
        }
    }

    /// The keyed hash that stands for an email address in sled keys.
    pub fn email_key(&self, email: &str) -> [u8; 32] {
        let normalized = sealdesk_model::normalize_email(email);
        hmac32(&self.index_key, normalized.as_bytes())
    }

    /// The audit-log stand-in for a customer.
    pub fn pseudonym(&self, id: &CustomerId) -> Pseudonym {
        let h = hmac32(&self.pseudonym_key, id.as_bytes());
        Pseudonym(format!("psn_{}", hex::encode(&h[..12])))
    }

    // ---- the generic sealed put/get every typed accessor goes through ----

    /// Writes one sealed value straight to its tree, outside any unit of work: only for
    /// repairs of a data dir nobody else has open (restore) and tests.
    fn put<T: Serialize + ?Sized>(
        &self,
        table: &Table,
        key: &[u8],
        slot: KeySlot,
        value: &T,
    ) -> Result<()> {
        let sealed = self.seal_value(table, key, slot, value)?;
        table.tree.insert(key, sealed)?;
        Ok(())
    }

    fn get<T: DeserializeOwned>(&self, table: &Table, key: &[u8]) -> Result<Option<T>> {
        match table.tree.get(key)? {
            Some(sealed) => self.decode(table, key, &sealed).map(Some),
            None => Ok(None),
        }
    }

    fn decode<T: DeserializeOwned>(&self, table: &Table, key: &[u8], sealed: &[u8]) -> Result<T> {
        let plain = Zeroizing::new(match envelope::slot_of(table.name, sealed)? {
            KeySlot::Master => envelope::open(&self.master, table.name, key, sealed)?,
            slot => {
                // The cipher is made under the lock, the value opened after it.
                let cipher = self.keyring.read().cipher(slot);
                match cipher {
                    Some(cipher) => envelope::open(&cipher, table.name, key, sealed)?,
                    None => return Err(self.missing_key(table, key, slot)),
                }
            }
        });
        upgrade::decode(&plain).map_err(|_| {
            StoreError::Corrupt(format!(
                "tree {}, record {}: undecodable",
                table.name,
                hex::encode(key)
            ))
        })
    }

    /// A value sealed for a customer whose key is gone: erased if that customer existed
    /// (their record or tombstone is here), otherwise the header was tampered with. A
    /// record whose own key is gone while its customer's key exists reads as erased.
    fn missing_key(&self, table: &Table, key: &[u8], slot: KeySlot) -> StoreError {
        let id = match slot {
            KeySlot::Master => return StoreError::Corrupt(format!("tree {}", table.name)),
            KeySlot::Customer(id) => id,
            KeySlot::Record { customer, .. } => {
                if self.keyring.read().contains(&customer) {
                    // Its own key was shredded (a redaction, a correction, retention):
                    // maybe after this copy was made, so this data dir's shred list
                    // need not name it. Nothing of it can be read either way.
                    return StoreError::Erased;
                }
                customer
            }
        };
        let known = self
            .t
            .customers
            .tree
            .contains_key(id.as_bytes())
            .unwrap_or(false)
            || self
                .t
                .erased
                .tree
                .contains_key(id.as_bytes())
                .unwrap_or(false);
        if known {
            StoreError::Erased
        } else {
            StoreError::Corrupt(format!(
                "tree {}, record {}: unknown key",
                table.name,
                hex::encode(key)
            ))
        }
    }

    /// Decodes every value of a tree under `prefix`, in key order.
    fn scan<T: DeserializeOwned>(
        &self,
        table: &Table,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Result<T>)>> {
        let mut out = Vec::new();
        for item in table.tree.scan_prefix(prefix) {
            let (k, v) = item?;
            let value = self.decode(table, &k, &v);
            out.push((k.to_vec(), value));
        }
        Ok(out)
    }

    // ---- audit chain plumbing (the desk decides what to log) ----

    /// The recorded head of the audit chain: (last sequence number, its hash).
    pub fn audit_head(&self) -> Result<(u64, EventHash)> {
        Ok(self
            .get(&self.t.meta, META_AUDIT_HEAD)?
            .unwrap_or((0, EventHash::GENESIS)))
    }

    /// The audit log as of one moment between commits, for verifying the chain: visits
    /// every event up to the head, in order, and returns that head. The head is taken
    /// under the commit lock (a commit writes the head before its events, so a head read
    /// without it can be ahead of the events); events of later commits are left out. A
    /// unit that a failed write left half-applied (a full disk) is read as the next
    /// commit will finish it: its write set's events fill the gaps. Stops at the first
    /// error (a tampered value).
    pub fn audit_snapshot(
        &self,
        mut visit: impl FnMut(AuditEvent) -> Result<()>,
    ) -> Result<(u64, EventHash)> {
        let (head, mut pending) = {
            let head = self.audit_head.lock();
            let mut pending = std::collections::BTreeMap::new();
            if self.half_applied.load(std::sync::atomic::Ordering::Acquire) {
                for (tree, key, value) in self.last_unit_writes()?.unwrap_or_default() {
                    if let (true, Some(value)) = (tree as usize == self.t.audit.idx, value) {
                        pending.insert(key, value);
                    }
                }
            }
            (*head, pending)
        };
        let within =
            |key: &[u8]| <[u8; 8]>::try_from(key).is_ok_and(|k| u64::from_be_bytes(k) <= head.0);
        for item in self.t.audit.tree.iter() {
            let (k, v) = item?;
            if !within(&k) {
                break;
            }
            let value = pending.remove(k.as_ref()).unwrap_or_else(|| v.to_vec());
            visit(self.decode(&self.t.audit, &k, &value)?)?;
        }
        // Events of the half-applied unit not written yet: the newest ones.
        for (k, v) in pending {
            if within(&k) {
                visit(self.decode(&self.t.audit, &k, &v)?)?;
            }
        }
        Ok(head)
    }

    /// Part 12 (doctor): visits audit events newest first while `visit` returns true,
    /// so finding the last backup does not decrypt the whole log.
    pub fn audit_newest_first(
        &self,
        mut visit: impl FnMut(AuditEvent) -> Result<bool>,
    ) -> Result<()> {
        for item in self.t.audit.tree.iter().rev() {
            let (k, v) = item?;
            if !visit(self.decode(&self.t.audit, &k, &v)?)? {
                break;
            }
        }
        Ok(())
    }

    /// Visits audit events in order. Stops at the first error (a tampered value).
    pub fn for_each_audit(&self, mut visit: impl FnMut(AuditEvent) -> Result<()>) -> Result<()> {
        for item in self.t.audit.tree.iter() {
            let (k, v) = item?;
            visit(self.decode(&self.t.audit, &k, &v)?)?;
        }
        Ok(())
    }
}

fn hmac32(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn open_db(paths: &Paths) -> Result<sled::Db> {
    let db_path = paths.db();
    let config = sled::Config::new()
        .path(&db_path)
        // sled's page cache. The desk keeps the queue (every ticket's row) and the body
        // index in memory, so sled's cache serves opening a thread and writes; 64 MiB
        // of it filled with message pages as the body index was built (BENCHMARKS.md,
        // Part 10). 4 MiB holds the pages a session's thread and the writes touch and
        // costs no measured latency (BENCHMARKS.md, Part 10, fourth pass).
        .cache_capacity(4 * 1024 * 1024);
    // sled's background flusher can hold the lock for a moment after a `Db` in this
    // process was dropped (init, then open): retry briefly before calling it taken.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
    loop {
        // sled reports a held lock as a plain I/O error, and can panic on damaged files.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
        return match opened {
            Ok(Ok(db)) => Ok(db),
            Ok(Err(sled::Error::Io(e))) if e.to_string().contains("could not acquire lock") => {
                if std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    continue;
                }
                Err(StoreError::Locked(paths.data.clone()))
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(StoreError::Damaged(format!(
                "{} cannot be opened",
                db_path.display()
            ))),
        };
    }
}

// Sessions share one store across tasks.
const _: fn() = || {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Store>();
};

impl Drop for Store {
    fn drop(&mut self) {
        // A refill must not append to a keyring file that is replaced after we close.
        self.join_refill();
        if self.is_failing() {
            // Closing would flush, which a failed database may never finish; nothing
            // more can reach its disk anyway, and the next open recovers what did.
            std::mem::forget(self.live.write().take());
            return;
        }
        self.close_units();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data", &self.paths.data)
            .finish_non_exhaustive()
    }
}

/// For tests of the crates above that need what no operation may do (feature `testing`).
#[cfg(feature = "testing")]
impl Store {
    /// Overwrites audit event `seq` with `event`, sealed properly: what someone holding
    /// the master key could do. The hash chain must still expose it.
    pub fn reseal_audit_event(&self, seq: u64, event: &AuditEvent) -> Result<()> {
        self.put(&self.t.audit, &seq.to_be_bytes(), KeySlot::Master, event)
    }
}

/// A scratch desk's paths and a store that waits out the lock of the one just dropped:
/// shared by the store's unit tests (tx, shred).
#[cfg(test)]
pub(crate) mod testing {
    use super::{Paths, Store, StoreError};

    pub(crate) fn scratch() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        (dir, paths)
    }

    /// Makes a new store at `paths` and opens it.
    pub(crate) fn new_store(paths: &Paths) -> Store {
        Store::init(paths, None).unwrap();
        open(paths)
    }

    pub(crate) fn open(paths: &Paths) -> Store {
        for _ in 0..100 {
            match Store::open(paths, None) {
                Err(StoreError::Locked(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                opened => return opened.unwrap(),
            }
        }
        panic!("the store stayed locked")
    }
}
