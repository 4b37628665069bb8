//! Customer data keys, one per customer, and record keys, one per deletable record,
//! for crypto-shredding.
//!
//! The keyring is a file in the keys dir, never in sled: destroying a key then means
//! rewriting one small file, and a copy of the data dir holds no key at all. Each key is
//! wrapped (XChaCha20-Poly1305) with a key derived from the master key and bound to the
//! desk id, its kind and its id.
//!
//! File layout (v2): `MAGIC (8) | desk id (16)`, then fixed-size records
//! `kind (1: 1 = customer, 2 = record) | id (16) | nonce (24) | wrapped key (32) | tag (16)`.
//! A v1 file (`SDKRING1`, customer records without the kind byte) is upgraded in place
//! when it is loaded: rewritten as v2 atomically, as a destroy rewrites it.
//!
//! Adding a customer appends one record and fsyncs. Record keys are appended in
//! batches into a reservoir that ingest draws from, so a message costs no fsync for
//! its key: the first batch of a process is small ([`FIRST_BATCH`], a one-shot CLI
//! command needs a handful), each next one twice the last, up to [`RESERVOIR_BATCH`]. A record key seals nothing
//! until a value's header names it, and its sealing key is derived together with its
//! customer's key ([`record_cipher`]), so an unused reservoir key left by a crash is
//! harmless: it opens nothing. A torn record at the end (a crash mid-append, never
//! acknowledged) is ignored and overwritten. Destroying keys rewrites the whole file
//! without them: temp file, fsync, rename over the live file, fsync the directory, so
//! the live file never holds the old keys again.

use super::envelope::{KeySlot, RecordKeyId, SealKey};
use super::error::{Result, StoreError};
use super::keys::sync_dir;
use super::record_keys::RecordKeys;
use hkdf::Hkdf;
use sealdesk_model::CustomerId;
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use zeroize::Zeroizing;

const MAGIC_V1: &[u8; 8] = b"SDKRING1";
const MAGIC: &[u8; 8] = b"SDKRING2";
const HEADER_LEN: usize = 8 + 16;
const V1_RECORD_LEN: usize = 16 + 24 + 32 + 16;
const RECORD_LEN: usize = 1 + 16 + 24 + 32 + 16;
const KIND_CUSTOMER: u8 = 1;
const KIND_RECORD: u8 = 2;
/// The most record keys made per append (and fsync) when the reservoir runs dry.
pub(crate) const RESERVOIR_BATCH: usize = 256;
/// The first batch of a process.
pub(crate) const FIRST_BATCH: usize = 8;

pub(crate) type RawKey = Zeroizing<[u8; 32]>;
/// A record key as the file holds it: nonce, wrapped key, tag. Record keys stay
/// wrapped in memory and are unwrapped when used, so opening a desk with a million
/// of them does not pay a million unwraps.
pub(crate) type WrappedKey = [u8; WRAPPED_LEN];
const WRAPPED_LEN: usize = 24 + 32 + 16;

pub(crate) struct Keyring {
    path: PathBuf,
    desk_id: [u8; 16],
    wrap: SealKey,
    customers: HashMap<CustomerId, RawKey>,
    records: RecordKeys,
    /// Record keys appended by this process and not handed out yet. Keys from an
    /// earlier run are never handed out again: which of them seal something is known
    /// only to the data dir.
    reservoir: Vec<RecordKeyId>,
    /// How many record keys the next refill makes.
    next_batch: usize,
    /// Whole records in the live file: where the next append goes. Atomic so that a
    /// batch can be appended under shared access (see [`Keyring::append_batch`]).
    records_on_disk: AtomicUsize,
}

/// The key that seals a record: HKDF over its customer's key and its own, bound to
/// both ids. Without either key it cannot be made again.
fn record_cipher(
    customer: &CustomerId,
    customer_key: &[u8; 32],
    key_id: &RecordKeyId,
    record_key: &[u8; 32],
) -> SealKey {
    let mut ikm = Zeroizing::new([0u8; 64]);
    ikm[..32].copy_from_slice(customer_key);
    ikm[32..].copy_from_slice(record_key);
    let mut info = b"sealdesk v1 record key\0".to_vec();
    info.extend_from_slice(customer.as_bytes());
    info.extend_from_slice(key_id);
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(b"sealdesk"), ikm.as_ref())
        .expand(&info, out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    SealKey::new(&out)
}

impl Keyring {
    /// Creates an empty keyring file (refuses to overwrite one).
    pub(crate) fn create(path: &Path, desk_id: [u8; 16]) -> Result<()> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&desk_id);
        super::keys::write_secret_file(path, &header)
    }

    /// Reads the keyring. A `keyring.tmp` left by a rewrite that was killed before its
    /// rename is removed: the live file is still the whole truth then (an interrupted
    /// erasure or shredding is finished from its journal). A v1 file is upgraded.
    pub(crate) fn load(path: &Path, desk_id: [u8; 16], wrap: SealKey) -> Result<Self> {
        super::keys::check_private(path)?;
        let stale = path.with_extension("tmp");
        if stale.exists() {
            fs::remove_file(&stale).map_err(StoreError::io(format!(
                "cannot remove the stale {}",
                stale.display()
            )))?;
            tracing::info!(file = %stale.display(), "removed a keyring rewrite left by an interrupted run");
        }
        let bytes = Zeroizing::new(fs::read(path).map_err(StoreError::io(format!(
            "cannot read the keyring {}",
            path.display()
        )))?);
        let parsed = parse(path, &desk_id, &wrap, &bytes)?;
        let mut ring = Keyring {
            path: path.into(),
            desk_id,
            wrap,
            records_on_disk: AtomicUsize::new(parsed.customers.len() + parsed.records.len()),
            customers: parsed.customers,
            records: parsed.records,
            reservoir: Vec::new(),
            next_batch: FIRST_BATCH,
        };
        if parsed.v1 {
            ring.rewrite()?;
            tracing::info!(file = %path.display(), "upgraded the keyring to format v2");
        }
        Ok(ring)
    }

    /// The cipher for a slot, if its keys exist (`None` for the master slot).
    pub(crate) fn cipher(&self, slot: KeySlot) -> Option<SealKey> {
        match slot {
            KeySlot::Master => None,
            KeySlot::Customer(id) => self.customers.get(&id).map(|k| SealKey::new(k)),
            KeySlot::Record { customer, key_id } => {
                let ck = self.customers.get(&customer)?;
                let wrapped = self.records.get(&key_id)?;
                // A damaged record key opens nothing, as a destroyed one.
                let rk = Zeroizing::new(
                    self.wrap
                        .open_raw(&wrap_aad(&self.desk_id, KIND_RECORD, &key_id), wrapped)?,
                );
                let rk: &[u8; 32] = rk.as_slice().try_into().ok()?;
                Some(record_cipher(&customer, ck, &key_id, rk))
            }
        }
    }

    pub(crate) fn contains(&self, id: &CustomerId) -> bool {
        self.customers.contains_key(id)
    }

    pub(crate) fn has_record_key(&self, id: &RecordKeyId) -> bool {
        self.records.contains_key(id)
    }

    /// How many customer and record keys it holds.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.customers.len(), self.records.len())
    }

    /// Creates a fresh random key for `id` and appends it durably.
    pub(crate) fn add(&mut self, id: CustomerId) -> Result<()> {
        if self.customers.contains_key(&id) {
            return Ok(());
        }
        let raw = random_key();
        let record = self.record(KIND_CUSTOMER, id.as_bytes(), &raw);
        self.append(&record, 1)?;
        self.customers.insert(id, raw);
        Ok(())
    }

    /// Creates fresh keys for the `ids` that have none, appended with one write and one
    /// fsync (a customer key that ends up unused opens nothing).
    pub(crate) fn add_many(&mut self, ids: &[CustomerId]) -> Result<()> {
        let mut records = Vec::new();
        let mut fresh = Vec::new();
        for id in ids {
            if self.customers.contains_key(id) || fresh.iter().any(|(f, _)| f == id) {
                continue;
            }
            let raw = random_key();
            records.extend(self.record(KIND_CUSTOMER, id.as_bytes(), &raw));
            fresh.push((*id, raw));
        }
        if fresh.is_empty() {
            return Ok(());
        }
        self.append(&records, fresh.len())?;
        self.customers.extend(fresh);
        Ok(())
    }

    /// Hands out an unused record key, appending a batch of fresh ones (one write, one
    /// fsync) when the reservoir is empty (the store does the same in steps, see
    /// `Store::take_record_key`).
    #[cfg(test)]
    pub(crate) fn take_record_key(&mut self) -> Result<RecordKeyId> {
        if self.reserved() == 0 {
            let appended = self.batch_job().run()?;
            self.accept_batch(appended);
        }
        Ok(self.pop_reserved().expect("the reservoir was just filled"))
    }

    /// How many record keys the next batch makes (it grows with demand).
    pub(crate) fn next_batch(&self) -> usize {
        self.next_batch
    }

    /// How many record keys the reservoir holds.
    pub(crate) fn reserved(&self) -> usize {
        self.reservoir.len()
    }

    pub(crate) fn pop_reserved(&mut self) -> Option<RecordKeyId> {
        self.reservoir.pop()
    }

    /// The next batch of record keys to append, to be written without holding the
    /// keyring ([`BatchJob::run`]) and then accepted ([`Keyring::accept_batch`]). The
    /// caller keeps every other append and rewrite out until then (the store's key
    /// appends lock).
    pub(crate) fn batch_job(&self) -> BatchJob {
        BatchJob {
            path: self.path.clone(),
            desk_id: self.desk_id,
            wrap: self.wrap.clone(),
            on_disk: self.records_on_disk.load(Ordering::Acquire),
            n: self.next_batch,
        }
    }

    /// Puts an appended batch into the reservoir.
    pub(crate) fn accept_batch(&mut self, appended: Appended) {
        self.next_batch = (appended.fresh.len() * 2).min(RESERVOIR_BATCH);
        self.records_on_disk
            .store(appended.on_disk, Ordering::Release);
        for (id, wrapped) in appended.fresh {
            self.records.insert(id, wrapped);
            self.reservoir.push(id);
        }
    }

    /// Appends whole records at the end of the last whole one, durably.
    fn append(&self, records: &[u8], count: usize) -> Result<()> {
        let on_disk = self.records_on_disk.load(Ordering::Acquire);
        append_at(&self.path, on_disk, records)?;
        self.records_on_disk
            .store(on_disk + count, Ordering::Release);
        Ok(())
    }

    /// Destroys the key of `id`: rewrites the keyring without it, atomically.
    /// Returns false if there was no such key.
    #[cfg(test)]
    pub(crate) fn destroy(&mut self, id: &CustomerId) -> Result<bool> {
        Ok(self.destroy_many(&[*id], &[])? > 0)
    }

    /// Destroys customer and record keys in one atomic rewrite; returns how many of
    /// them existed. Nothing is rewritten when none did.
    pub(crate) fn destroy_many(
        &mut self,
        customers: &[CustomerId],
        records: &[RecordKeyId],
    ) -> Result<usize> {
        let gone_customers: HashSet<&CustomerId> = customers
            .iter()
            .filter(|c| self.customers.contains_key(c))
            .collect();
        let gone_records: HashSet<&RecordKeyId> = records
            .iter()
            .filter(|r| self.records.contains_key(r))
            .collect();
        let n = gone_customers.len() + gone_records.len();
        if n == 0 {
            return Ok(0);
        }
        let mut customers_left = self.customers.clone();
        customers_left.retain(|c, _| !gone_customers.contains(c));
        let mut records_left = self.records.clone();
        records_left.retain(|r| !gone_records.contains(r));
        let bytes = self.file_bytes(&customers_left, &records_left);
        replace_file(&self.path, &bytes)?;
        self.records_on_disk = AtomicUsize::new(customers_left.len() + records_left.len());
        self.customers = customers_left;
        self.records = records_left;
        self.reservoir.retain(|r| self.records.contains_key(r));
        Ok(n)
    }

    /// The whole keyring as file bytes (format v2), for a keys backup.
    pub(crate) fn to_file_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.file_bytes(&self.customers, &self.records)
    }

    /// Installs keyring `bytes` (a keys backup's) as the live file at `path`, checked
    /// first: every record intact, the same desk as the live file if there is one.
    /// Returns (customer keys, record keys).
    pub(crate) fn install(
        path: &Path,
        desk_id: [u8; 16],
        wrap: SealKey,
        bytes: &[u8],
    ) -> Result<(usize, usize)> {
        let parsed = parse(path, &desk_id, &wrap, bytes)?;
        if let Ok(live) = fs::read(path) {
            if live.len() >= HEADER_LEN && live[8..HEADER_LEN] != desk_id {
                return Err(StoreError::KeyringMismatch(
                    path.parent().unwrap_or(path).into(),
                ));
            }
        }
        let mut ring = Keyring {
            path: path.into(),
            desk_id,
            wrap,
            records_on_disk: AtomicUsize::new(0),
            customers: parsed.customers,
            records: parsed.records,
            reservoir: Vec::new(),
            next_batch: FIRST_BATCH,
        };
        ring.rewrite()?;
        Ok(ring.counts())
    }

    /// Rewrites the live file from memory (the v1 upgrade).
    fn rewrite(&mut self) -> Result<()> {
        let bytes = self.to_file_bytes();
        replace_file(&self.path, &bytes)?;
        self.records_on_disk = AtomicUsize::new(self.customers.len() + self.records.len());
        Ok(())
    }

    fn file_bytes(
        &self,
        customers: &HashMap<CustomerId, RawKey>,
        records: &RecordKeys,
    ) -> Zeroizing<Vec<u8>> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            HEADER_LEN + (customers.len() + records.len()) * RECORD_LEN,
        ));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.desk_id);
        for (id, raw) in customers {
            bytes.extend_from_slice(&self.record(KIND_CUSTOMER, id.as_bytes(), raw));
        }
        for (id, wrapped) in records.iter() {
            bytes.push(KIND_RECORD);
            bytes.extend_from_slice(id);
            bytes.extend_from_slice(wrapped);
        }
        bytes
    }

    fn record(&self, kind: u8, id: &[u8; 16], raw: &[u8; 32]) -> Vec<u8> {
        make_record(&self.wrap, &self.desk_id, kind, id, raw)
    }
}

/// What a keyring file holds.
struct Parsed {
    customers: HashMap<CustomerId, RawKey>,
    records: RecordKeys,
    v1: bool,
}

/// Reads keyring bytes (v1 or v2); a torn last record is ignored.
fn parse(path: &Path, desk_id: &[u8; 16], wrap: &SealKey, bytes: &[u8]) -> Result<Parsed> {
    let damaged = |problem: &str| StoreError::KeyFile {
        path: path.into(),
        problem: problem.into(),
    };
    if bytes.len() < HEADER_LEN || (&bytes[..8] != MAGIC && &bytes[..8] != MAGIC_V1) {
        return Err(damaged("not a sealdesk keyring"));
    }
    if bytes[8..HEADER_LEN] != *desk_id {
        return Err(StoreError::KeyringMismatch(
            path.parent().unwrap_or(path).into(),
        ));
    }
    let v1 = &bytes[..8] == MAGIC_V1;
    let len = if v1 { V1_RECORD_LEN } else { RECORD_LEN };
    let mut out = Parsed {
        customers: HashMap::new(),
        records: RecordKeys::default(),
        v1,
    };
    let mut records = Vec::new();
    for record in bytes[HEADER_LEN..].chunks_exact(len) {
        let (kind, rest) = if v1 {
            (KIND_CUSTOMER, record)
        } else {
            (record[0], &record[1..])
        };
        let id: [u8; 16] = rest[..16].try_into().expect("record length is fixed");
        if kind == KIND_RECORD {
            // Checked below, all at once.
            let wrapped: WrappedKey = rest[16..].try_into().expect("record length is fixed");
            records.push((id, wrapped));
            continue;
        }
        let aad = if v1 {
            wrap_aad_v1(desk_id, &id)
        } else {
            wrap_aad(desk_id, kind, &id)
        };
        let key = Zeroizing::new(
            wrap.open_raw(&aad, &rest[16..])
                .ok_or_else(|| damaged("a key fails its integrity check"))?,
        );
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| damaged("bad key size"))?;
        match kind {
            KIND_CUSTOMER => out.customers.insert(CustomerId(id), Zeroizing::new(key)),
            _ => return Err(damaged("unknown key kind")),
        };
    }
    if customer_key_among(&records, desk_id, wrap) {
        return Err(damaged("a customer key's kind byte is damaged"));
    }
    out.records = RecordKeys::from_unsorted(records);
    Ok(out)
}

/// A record key that does not open is damaged: it opens nothing later, as a destroyed
/// key, and spoils no other. Unless it opens as a customer's key: then its kind byte was
/// damaged (customer and record are one bit pattern apart), and taking it for a record
/// key would make that customer's records read as erased without a word. Every record
/// key is opened once for this, on all cores: `agent list` on a 10,000-ticket desk
/// (62,700 record keys, 2 cores) went from 0.05 to 0.15 s, 0.22 s on one core.
fn customer_key_among(
    records: &[(RecordKeyId, WrappedKey)],
    desk_id: &[u8; 16],
    wrap: &SealKey,
) -> bool {
    let opens = |kind, id: &RecordKeyId, wrapped: &WrappedKey| {
        wrap.open_raw(&wrap_aad(desk_id, kind, id), wrapped)
            .map(Zeroizing::new)
            .is_some()
    };
    let any = |part: &[(RecordKeyId, WrappedKey)]| {
        part.iter()
            .any(|(id, w)| !opens(KIND_RECORD, id, w) && opens(KIND_CUSTOMER, id, w))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || records.len() < 4096 {
        return any(records);
    }
    let part = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = records
            .chunks(part)
            .map(|chunk| scope.spawn(move || any(chunk)))
            .collect();
        // A panic in a part is this thread's panic (the scope joins the parts not asked).
        parts
            .into_iter()
            .any(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// A batch of record keys being made and appended (see [`Keyring::batch_job`]).
pub(crate) struct BatchJob {
    path: PathBuf,
    desk_id: [u8; 16],
    wrap: SealKey,
    on_disk: usize,
    n: usize,
}

/// What [`BatchJob::run`] appended.
pub(crate) struct Appended {
    fresh: Vec<(RecordKeyId, WrappedKey)>,
    on_disk: usize,
}

impl BatchJob {
    /// Makes the keys and appends them after the last whole record, durably.
    pub(crate) fn run(self) -> Result<Appended> {
        let mut batch = Vec::with_capacity(self.n * RECORD_LEN);
        let mut fresh = Vec::with_capacity(self.n);
        for _ in 0..self.n {
            let mut id = [0u8; 16];
            getrandom::fill(&mut id).expect("the OS random source failed");
            let record = make_record(&self.wrap, &self.desk_id, KIND_RECORD, &id, &random_key());
            let wrapped: WrappedKey = record[17..].try_into().expect("record length is fixed");
            batch.extend_from_slice(&record);
            fresh.push((id, wrapped));
        }
        append_at(&self.path, self.on_disk, &batch)?;
        Ok(Appended {
            fresh,
            on_disk: self.on_disk + self.n,
        })
    }
}

/// Appends whole records after the first `on_disk` ones, durably (a torn tail left by
/// a crash mid-append is cut off first).
fn append_at(path: &Path, on_disk: usize, records: &[u8]) -> Result<()> {
    let ctx = || format!("cannot append to the keyring {}", path.display());
    let mut f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(StoreError::io(ctx()))?;
    let end = (HEADER_LEN + on_disk * RECORD_LEN) as u64;
    f.set_len(end).map_err(StoreError::io(ctx()))?;
    f.seek(SeekFrom::Start(end))
        .map_err(StoreError::io(ctx()))?;
    f.write_all(records).map_err(StoreError::io(ctx()))?;
    f.sync_data().map_err(StoreError::io(ctx()))
}

fn make_record(
    wrap: &SealKey,
    desk_id: &[u8; 16],
    kind: u8,
    id: &[u8; 16],
    raw: &[u8; 32],
) -> Vec<u8> {
    let mut record = Vec::with_capacity(RECORD_LEN);
    record.push(kind);
    record.extend_from_slice(id);
    record.extend_from_slice(&wrap.seal_raw(&wrap_aad(desk_id, kind, id), raw));
    debug_assert_eq!(record.len(), RECORD_LEN);
    record
}

fn random_key() -> RawKey {
    let mut raw = Zeroizing::new([0u8; 32]);
    getrandom::fill(raw.as_mut()).expect("the OS random source failed");
    raw
}

/// Replaces `path` with `bytes` atomically: temp file, fsync, rename, fsync the dir.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let ctx = || format!("cannot rewrite the keyring {}", path.display());
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(StoreError::io(ctx()))?;
    f.write_all(bytes).map_err(StoreError::io(ctx()))?;
    f.sync_all().map_err(StoreError::io(ctx()))?;
    drop(f);
    fs::rename(&tmp, path).map_err(StoreError::io(ctx()))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn wrap_aad_v1(desk_id: &[u8; 16], id: &[u8; 16]) -> Vec<u8> {
    let mut a = b"sealdesk keyring v1\0".to_vec();
    a.extend_from_slice(desk_id);
    a.extend_from_slice(id);
    a
}

fn wrap_aad(desk_id: &[u8; 16], kind: u8, id: &[u8; 16]) -> Vec<u8> {
    let mut a = b"sealdesk keyring v2\0".to_vec();
    a.extend_from_slice(desk_id);
    a.push(kind);
    a.extend_from_slice(id);
    a
}

/// A keyring file is read from disk at every start: random files, mutated and truncated
/// keyrings give an error or the intact records, never a panic or a wrong key.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::fs::PermissionsExt;

    const DESK: [u8; 16] = [5; 16];

    fn wrap() -> SealKey {
        SealKey::new(&[9; 32])
    }

    fn write(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join("keyring");
        let _ = fs::remove_file(&path);
        fs::write(&path, bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// A keyring with three customers' keys, as bytes.
    fn three_keys(dir: &Path) -> Vec<u8> {
        let path = dir.join("keyring");
        let _ = fs::remove_file(&path);
        Keyring::create(&path, DESK).unwrap();
        let mut ring = Keyring::load(&path, DESK, wrap()).unwrap();
        for i in 1..=3u8 {
            ring.add(CustomerId([i; 16])).unwrap();
        }
        fs::read(&path).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn random_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), &bytes);
            prop_assert!(Keyring::load(&path, DESK, wrap()).is_err() || bytes.starts_with(MAGIC));
        }

        #[test]
        fn mutated_keyrings_fail_or_keep_intact_records(
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            cut in any::<prop::sample::Index>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let good = three_keys(dir.path());

            let mut mutated = good.clone();
            mutated[at.index(good.len())] ^= flip;
            let path = write(dir.path(), &mutated);
            // Every byte is either the header or a sealed record: a flip is detected.
            prop_assert!(Keyring::load(&path, DESK, wrap()).is_err());

            // A torn tail (a kill during `add`) keeps the whole records before it.
            let len = cut.index(good.len());
            let path = write(dir.path(), &good[..len]);
            match Keyring::load(&path, DESK, wrap()) {
                Ok(ring) => {
                    prop_assert!(len >= HEADER_LEN);
                    prop_assert_eq!(ring.customers.len(), (len - HEADER_LEN) / RECORD_LEN);
                }
                Err(_) => prop_assert!(len < HEADER_LEN),
            }
        }
    }

    /// Found by the property above: customer (1) and record (2) kinds are one flip of
    /// `3` apart, and a record key was only checked when used.
    #[test]
    fn a_customer_key_damaged_into_a_record_key_is_an_error_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = three_keys(dir.path());
        assert_eq!(bytes[HEADER_LEN + RECORD_LEN], KIND_CUSTOMER);
        bytes[HEADER_LEN + RECORD_LEN] = KIND_RECORD;
        let path = write(dir.path(), &bytes);
        assert!(Keyring::load(&path, DESK, wrap()).is_err());
    }

    /// The same with enough record keys that they are checked on several threads.
    #[test]
    fn a_customer_key_among_many_record_keys_is_found_on_every_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring");
        Keyring::create(&path, DESK).unwrap();
        let mut ring = Keyring::load(&path, DESK, wrap()).unwrap();
        ring.add(CustomerId([1; 16])).unwrap();
        while ring.records.len() < 5000 {
            ring.take_record_key().unwrap();
        }
        ring.add(CustomerId([2; 16])).unwrap();
        drop(ring);
        let good = fs::read(&path).unwrap();
        assert!(Keyring::load(&path, DESK, wrap()).is_ok());
        // The first customer sits in the first thread's part, the second in the last's.
        for at in [HEADER_LEN, good.len() - RECORD_LEN] {
            let mut bytes = good.clone();
            assert_eq!(bytes[at], KIND_CUSTOMER);
            bytes[at] = KIND_RECORD;
            let path = write(dir.path(), &bytes);
            assert!(Keyring::load(&path, DESK, wrap()).is_err(), "at {at}");
        }
    }

    #[test]
    fn a_stale_rewrite_is_removed_at_load_and_the_live_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let good = three_keys(dir.path());
        let path = write(dir.path(), &good);
        // A destroy killed between writing the new file and the rename.
        fs::write(path.with_extension("tmp"), &good[..HEADER_LEN]).unwrap();
        let ring = Keyring::load(&path, DESK, wrap()).unwrap();
        assert_eq!(ring.customers.len(), 3);
        assert!(!path.with_extension("tmp").exists());
    }
}

#[cfg(test)]
mod format {
    use super::*;

    const DESK: [u8; 16] = [6; 16];

    fn wrap() -> SealKey {
        SealKey::new(&[9; 32])
    }

    /// A v1 keyring (customer records without a kind byte), as Part 4 wrote it.
    fn v1_file(path: &Path, ids: &[CustomerId]) -> Vec<[u8; 32]> {
        let mut bytes = MAGIC_V1.to_vec();
        bytes.extend_from_slice(&DESK);
        let mut raws = Vec::new();
        for id in ids {
            let raw = [id.as_bytes()[0]; 32];
            bytes.extend_from_slice(id.as_bytes());
            bytes.extend_from_slice(&wrap().seal_raw(&wrap_aad_v1(&DESK, id.as_bytes()), &raw));
            raws.push(raw);
        }
        super::super::keys::write_secret_file(path, &bytes).unwrap();
        raws
    }

    #[test]
    fn a_v1_keyring_loads_and_is_upgraded_in_place_with_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring");
        let ids = [CustomerId([1; 16]), CustomerId([2; 16])];
        let raws = v1_file(&path, &ids);
        let ring = Keyring::load(&path, DESK, wrap()).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], MAGIC, "rewritten as v2");
        assert_eq!(bytes.len(), HEADER_LEN + 2 * RECORD_LEN);
        // The same keys open what they sealed before.
        for (id, raw) in ids.iter().zip(&raws) {
            let sealed = SealKey::new(raw).seal_raw(b"aad", b"text");
            let cipher = ring.cipher(KeySlot::Customer(*id)).unwrap();
            assert_eq!(cipher.open_raw(b"aad", &sealed).unwrap(), b"text");
        }
        drop(ring);
        let again = Keyring::load(&path, DESK, wrap()).unwrap();
        assert_eq!(again.counts(), (2, 0));
    }

    #[test]
    fn record_keys_come_in_batches_need_their_customer_and_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring");
        Keyring::create(&path, DESK).unwrap();
        let mut ring = Keyring::load(&path, DESK, wrap()).unwrap();
        let ann = CustomerId([1; 16]);
        ring.add(ann).unwrap();
        let len = || fs::metadata(&path).unwrap().len() as usize;
        let first = ring.take_record_key().unwrap();
        assert_eq!(
            len(),
            HEADER_LEN + (1 + FIRST_BATCH) * RECORD_LEN,
            "a process starts with a small batch"
        );
        // Batches double up to the cap; each is one append.
        let mut taken = vec![first];
        let mut appends = 1;
        let mut last_len = len();
        while taken.len() < 2000 {
            taken.push(ring.take_record_key().unwrap());
            if len() != last_len {
                appends += 1;
                last_len = len();
            }
        }
        let on_disk = (len() - HEADER_LEN) / RECORD_LEN - 1;
        assert!(
            (2000..2000 + RESERVOIR_BATCH).contains(&on_disk),
            "{on_disk}"
        );
        // 8+16+32+64+128 = 248, then 256 each: 1,752 more in 7 appends.
        assert_eq!(appends, 5 + 7, "batches grow to {RESERVOIR_BATCH}");
        let mut unique = taken.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), taken.len(), "no key handed out twice");

        let slot = KeySlot::Record {
            customer: ann,
            key_id: first,
        };
        let sealed = ring.cipher(slot).unwrap().seal_raw(b"a", b"secret");
        // The record key alone, or another customer's key with it, opens nothing.
        let other = KeySlot::Record {
            customer: CustomerId([2; 16]),
            key_id: first,
        };
        assert!(ring.cipher(other).is_none());
        assert!(ring
            .cipher(KeySlot::Customer(ann))
            .unwrap()
            .open_raw(b"a", &sealed)
            .is_none());

        drop(ring);
        let mut ring = Keyring::load(&path, DESK, wrap()).unwrap();
        assert_eq!(
            ring.cipher(slot).unwrap().open_raw(b"a", &sealed).unwrap(),
            b"secret"
        );
        assert!(
            !ring.reservoir.contains(&first),
            "keys of an earlier run are never handed out again"
        );
        let fresh = ring.take_record_key().unwrap();
        assert!(!taken.contains(&fresh));

        // A damaged record key (a flipped bit in its wrapped bytes) opens nothing,
        // and spoils no other key.
        let bytes = fs::read(&path).unwrap();
        let at = bytes[HEADER_LEN..]
            .chunks_exact(RECORD_LEN)
            .position(|r| r[0] == KIND_RECORD && r[1..17] == taken[5])
            .unwrap();
        let mut damaged = bytes.clone();
        damaged[HEADER_LEN + at * RECORD_LEN + 40] ^= 1;
        fs::write(&path, &damaged).unwrap();
        let hurt = Keyring::load(&path, DESK, wrap()).unwrap();
        let fifth = KeySlot::Record {
            customer: ann,
            key_id: taken[5],
        };
        assert!(hurt.cipher(fifth).is_none());
        assert!(hurt.cipher(slot).is_some());
        drop(hurt);
        fs::write(&path, &bytes).unwrap();

        // Destroying the record key kills just that record; the customer key stays.
        assert_eq!(ring.destroy_many(&[], &[first]).unwrap(), 1);
        assert!(ring.cipher(slot).is_none());
        assert!(ring.contains(&ann));
        drop(ring);
        let ring = Keyring::load(&path, DESK, wrap()).unwrap();
        assert!(ring.cipher(slot).is_none());
        assert!(ring.has_record_key(&taken[1]));
        // Destroying the customer key kills every record of theirs.
        let mut ring = ring;
        ring.destroy(&ann).unwrap();
        let second = KeySlot::Record {
            customer: ann,
            key_id: taken[1],
        };
        assert!(ring.cipher(second).is_none());
    }

    #[test]
    fn installing_a_backup_checks_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring");
        Keyring::create(&path, DESK).unwrap();
        let mut ring = Keyring::load(&path, DESK, wrap()).unwrap();
        ring.add(CustomerId([1; 16])).unwrap();
        let saved = ring.to_file_bytes();
        ring.add(CustomerId([2; 16])).unwrap();
        drop(ring);
        let mut bad = saved.to_vec();
        *bad.last_mut().unwrap() ^= 1;
        assert!(Keyring::install(&path, DESK, wrap(), &bad).is_err());
        assert!(Keyring::install(&path, [7; 16], wrap(), &saved).is_err());
        assert_eq!(
            Keyring::load(&path, DESK, wrap()).unwrap().counts(),
            (2, 0),
            "a damaged or foreign backup changes nothing"
        );
        assert_eq!(
            Keyring::install(&path, DESK, wrap(), &saved).unwrap(),
            (1, 0)
        );
        assert_eq!(Keyring::load(&path, DESK, wrap()).unwrap().counts(), (1, 0));
    }
}
