//! Customer data keys, one per customer, for crypto-shredding.
//!
//! The keyring is a file in the keys dir, never in sled: destroying a key then means
//! rewriting one small file, and a copy of the data dir holds no key at all. Each key is
//! wrapped (XChaCha20-Poly1305) with a key derived from the master key and bound to the
//! desk id and the customer id.
//!
//! File layout: `MAGIC (8) | desk id (16)`, then fixed-size records
//! `customer id (16) | nonce (24) | wrapped key (32) | tag (16)`. Adding a customer
//! appends one record and fsyncs; a torn record at the end (a crash mid-append, never
//! acknowledged) is ignored and overwritten. Destroying a key rewrites the whole file
//! without it: temp file, fsync, rename over the live file, fsync the directory, so the
//! live file never holds the old key again.

use super::envelope::SealKey;
use super::error::{Result, StoreError};
use super::keys::sync_dir;
use crate::model::CustomerId;
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 8] = b"SDKRING1";
const HEADER_LEN: usize = 8 + 16;
const RECORD_LEN: usize = 16 + 24 + 32 + 16;

pub struct Keyring {
    path: PathBuf,
    desk_id: [u8; 16],
    wrap: SealKey,
    keys: HashMap<CustomerId, SealKey>,
    /// Whole records in the live file: where the next append goes.
    records_on_disk: usize,
}

impl Keyring {
    /// Creates an empty keyring file (refuses to overwrite one).
    pub fn create(path: &Path, desk_id: [u8; 16]) -> Result<()> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&desk_id);
        super::keys::write_secret_file(path, &header)
    }

    /// Reads the keyring. A `keyring.tmp` left by a rewrite that was killed before its
    /// rename is removed: the live file is still the whole truth then (an interrupted
    /// erasure is finished from its journal).
    pub fn load(path: &Path, desk_id: [u8; 16], wrap: SealKey) -> Result<Self> {
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
        let damaged = |problem: &str| StoreError::KeyFile {
            path: path.into(),
            problem: problem.into(),
        };
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(damaged("not a sealdesk keyring"));
        }
        if bytes[8..HEADER_LEN] != desk_id {
            return Err(StoreError::KeyringMismatch(
                path.parent().unwrap_or(path).into(),
            ));
        }
        let mut keys = HashMap::new();
        let mut records_on_disk = 0;
        for record in bytes[HEADER_LEN..].chunks_exact(RECORD_LEN) {
            let id = CustomerId(record[..16].try_into().expect("record length is fixed"));
            let key = Zeroizing::new(
                wrap.open_raw(&wrap_aad(&desk_id, &id), &record[16..])
                    .ok_or_else(|| damaged("a customer key fails its integrity check"))?,
            );
            let key: &[u8; 32] = key
                .as_slice()
                .try_into()
                .map_err(|_| damaged("bad key size"))?;
            keys.insert(id, SealKey::new(key));
            records_on_disk += 1;
        }
        Ok(Keyring {
            path: path.into(),
            desk_id,
            wrap,
            keys,
            records_on_disk,
        })
    }

    pub fn key(&self, id: &CustomerId) -> Option<&SealKey> {
        self.keys.get(id)
    }

    pub fn contains(&self, id: &CustomerId) -> bool {
        self.keys.contains_key(id)
    }

    /// Creates a fresh random key for `id` and appends it durably.
    pub fn add(&mut self, id: CustomerId) -> Result<()> {
        if self.keys.contains_key(&id) {
            return Ok(());
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        getrandom::fill(raw.as_mut()).expect("the OS random source failed");
        let record = self.record(&id, &raw);
        let ctx = || format!("cannot append to the keyring {}", self.path.display());
        let mut f = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(StoreError::io(ctx()))?;
        let end = (HEADER_LEN + self.records_on_disk * RECORD_LEN) as u64;
        f.set_len(end).map_err(StoreError::io(ctx()))?; // drop a torn tail, if any
        f.seek(SeekFrom::Start(end))
            .map_err(StoreError::io(ctx()))?;
        f.write_all(&record).map_err(StoreError::io(ctx()))?;
        f.sync_data().map_err(StoreError::io(ctx()))?;
        self.keys.insert(id, SealKey::new(&raw));
        self.records_on_disk += 1;
        Ok(())
    }

    /// Destroys the key of `id`: rewrites the keyring without it, atomically.
    /// Returns false if there was no such key.
    pub fn destroy(&mut self, id: &CustomerId) -> Result<bool> {
        if !self.keys.contains_key(id) {
            return Ok(false);
        }
        let remaining: Vec<(CustomerId, Zeroizing<[u8; 32]>)> = self
            .raw_keys()?
            .into_iter()
            .filter(|(other, _)| other != id)
            .collect();
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            HEADER_LEN + remaining.len() * RECORD_LEN,
        ));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.desk_id);
        for (cid, raw) in &remaining {
            bytes.extend_from_slice(&self.record(cid, raw));
        }
        let tmp = self.path.with_extension("tmp");
        let ctx = || format!("cannot rewrite the keyring {}", self.path.display());
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(StoreError::io(ctx()))?;
        f.write_all(&bytes).map_err(StoreError::io(ctx()))?;
        f.sync_all().map_err(StoreError::io(ctx()))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(StoreError::io(ctx()))?;
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))?;
        self.keys.remove(id);
        self.records_on_disk = remaining.len();
        Ok(true)
    }

    fn record(&self, id: &CustomerId, raw: &[u8; 32]) -> Vec<u8> {
        let mut record = Vec::with_capacity(RECORD_LEN);
        record.extend_from_slice(id.as_bytes());
        record.extend_from_slice(&self.wrap.seal_raw(&wrap_aad(&self.desk_id, id), raw));
        debug_assert_eq!(record.len(), RECORD_LEN);
        record
    }

    /// The raw keys, re-read from the live file (we keep only ciphers in memory).
    fn raw_keys(&self) -> Result<Vec<(CustomerId, Zeroizing<[u8; 32]>)>> {
        let bytes = Zeroizing::new(fs::read(&self.path).map_err(StoreError::io(format!(
            "cannot read the keyring {}",
            self.path.display()
        )))?);
        let mut out = Vec::new();
        for record in bytes[HEADER_LEN.min(bytes.len())..].chunks_exact(RECORD_LEN) {
            let id = CustomerId(record[..16].try_into().expect("record length is fixed"));
            if let Some(raw) = self
                .wrap
                .open_raw(&wrap_aad(&self.desk_id, &id), &record[16..])
            {
                let raw = Zeroizing::new(raw);
                if let Ok(key) = <[u8; 32]>::try_from(raw.as_slice()) {
                    out.push((id, Zeroizing::new(key)));
                }
            }
        }
        Ok(out)
    }
}

fn wrap_aad(desk_id: &[u8; 16], id: &CustomerId) -> Vec<u8> {
    let mut a = b"sealdesk keyring v1\0".to_vec();
    a.extend_from_slice(desk_id);
    a.extend_from_slice(id.as_bytes());
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
                    prop_assert_eq!(ring.keys.len(), (len - HEADER_LEN) / RECORD_LEN);
                }
                Err(_) => prop_assert!(len < HEADER_LEN),
            }
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
        assert_eq!(ring.keys.len(), 3);
        assert!(!path.with_extension("tmp").exists());
    }
}
