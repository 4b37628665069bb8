//! Keys backups that cannot undo an erasure or a redaction.
//!
//! `sealdesk keys backup` writes the keyring as it is once every condemned key is gone
//! (the shred list and both erasure journals applied first), together with the
//! erasure journal and the shred list, all sealed with a key derived from the master
//! key: `MAGIC (8) | desk id (16) | nonce | sealed(bincode(KeysBackup)) | tag`, the
//! magic and desk id authenticated as associated data. It never holds a destroyed key.
//!
//! `sealdesk keys restore` (server stopped; `master.key` in the keys dir) installs the
//! backup's keyring in place of the live one and adds its journal entries to the keys
//! dir's journal; the next open of the data dir then destroys whatever the data dir's
//! own journal and shred list condemn, so an old keys backup next to a newer data dir
//! brings back no erased customer and no redacted text.

use super::envelope::{RecordKeyId, SealKey};
use super::erasure::{append_journal, journal_path, read_journal};
use super::keyring::Keyring;
use super::keys::{sync_dir, write_secret_file, KeyPurpose, MasterKey};
use super::{ErasureRecord, Paths, Result, Store, StoreError};
use sealdesk_model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use zeroize::Zeroizing;

const MAGIC: &[u8; 8] = b"SDKEYBK1";
const HEADER_LEN: usize = 8 + 16;

#[derive(Serialize, Deserialize)]
struct KeysBackup {
    /// A whole keyring file (format v2).
    keyring: Vec<u8>,
    erasures: Vec<ErasureRecord>,
    shredded: Vec<RecordKeyId>,
    made: Timestamp,
}

/// What a keys backup holds, or what a restore put back.
#[derive(Debug, Clone, Default)]
pub struct KeysBackupSummary {
    pub customer_keys: usize,
    pub record_keys: usize,
    pub erasures: usize,
    pub shredded: usize,
    /// Record key ids the backup's shred list names (for the data dir, at restore).
    pub shred_list: Vec<RecordKeyId>,
}

fn header(desk_id: &[u8; 16]) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(desk_id);
    h
}

impl Store {
    /// Writes a keys backup to `out` (a new file, 0600). Everything committed is made
    /// durable and every condemned key destroyed first, so it holds no such key.
    pub fn backup_keys(&self, out: &Path) -> Result<KeysBackupSummary> {
        if out.exists() {
            return Err(StoreError::OutExists(out.into()));
        }
        self.flush()?;
        self.shred_durable()?;
        self.meet_journals()?;
        let mut erasures = self.read_erasure_journal()?;
        let mut seen: HashSet<_> = erasures.iter().map(|r| r.customer).collect();
        for record in self.erasures_in_data()? {
            if seen.insert(record.customer) {
                erasures.push(record);
            }
        }
        let shredded = self.shred_list()?;
        let (keyring, (customer_keys, record_keys)) = {
            let ring = self.keyring.read();
            (ring.to_file_bytes(), ring.counts())
        };
        let summary = KeysBackupSummary {
            customer_keys,
            record_keys,
            erasures: erasures.len(),
            shredded: shredded.len(),
            shred_list: Vec::new(),
        };
        let backup = KeysBackup {
            keyring: keyring.to_vec(),
            erasures,
            shredded,
            made: Timestamp::now(),
        };
        let plain = Zeroizing::new(
            bincode::serde::encode_to_vec(&backup, bincode::config::standard())
                .map_err(|e| StoreError::Db(format!("cannot encode the keys backup: {e}")))?,
        );
        drop(Zeroizing::new(backup.keyring));
        let head = header(&self.desk_id);
        let mut file = head.clone();
        file.extend_from_slice(&self.keys_backup_key.seal_raw(&head, &plain));
        // Whole under its name or not at all.
        let partial = super::backup::partial_path(out);
        let _ = std::fs::remove_file(&partial);
        write_secret_file(&partial, &file)?;
        std::fs::rename(&partial, out).map_err(StoreError::io(format!(
            "cannot write the keys backup {}",
            out.display()
        )))?;
        sync_dir(
            out.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )?;
        Ok(summary)
    }

    /// Adds record key ids to the shred list (a keys backup's, at restore) and destroys
    /// those keys; returns how many were new to the list.
    pub fn condemn_record_keys(&self, ids: &[RecordKeyId]) -> Result<usize> {
        let listed: HashSet<RecordKeyId> = self.shred_list()?.into_iter().collect();
        let mut tx = self.begin();
        let mut added = 0;
        for id in ids.iter().filter(|id| !listed.contains(*id)) {
            tx.shred(*id)?;
            added += 1;
        }
        if added > 0 {
            let (commit, _) = self.commit(tx)?;
            self.wait_durable(commit)?;
        }
        Ok(added)
    }
}

/// Installs a keys backup into the keys dir of `paths` (which must hold this desk's
/// `master.key`; the server must be stopped): its keyring replaces the live one, its
/// erasures join the keys dir's journal. The data dir is not touched: opening it next
/// applies its journal and shred list (and the caller adds the backup's shred list).
pub fn restore_keys(
    paths: &Paths,
    passphrase: Option<&str>,
    file: &Path,
) -> Result<KeysBackupSummary> {
    let kp = paths.key_paths();
    let master = MasterKey::read(&kp.master(), passphrase)?;
    let bytes = std::fs::read(file).map_err(StoreError::io(format!(
        "cannot read the keys backup {}",
        file.display()
    )))?;
    let not_ours = || {
        StoreError::KeyFile {
        path: file.into(),
        problem: "not a keys backup of this desk, or damaged (it opens only with the master key it was made with)".into(),
    }
    };
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(not_ours());
    }
    let desk_id: [u8; 16] = bytes[8..HEADER_LEN].try_into().expect("length checked");
    let cipher: SealKey = master.seal_key(KeyPurpose::KeysBackup);
    let plain = Zeroizing::new(
        cipher
            .open_raw(&bytes[..HEADER_LEN], &bytes[HEADER_LEN..])
            .ok_or_else(not_ours)?,
    );
    let (backup, _): (KeysBackup, usize) =
        bincode::serde::decode_from_slice(&plain, bincode::config::standard())
            .map_err(|_| not_ours())?;
    let keyring = Zeroizing::new(backup.keyring);
    let (customer_keys, record_keys) = Keyring::install(
        &kp.keyring(),
        desk_id,
        master.seal_key(KeyPurpose::KeyringWrap),
        &keyring,
    )?;
    let seal = master.seal_key(KeyPurpose::Seal);
    let journalled: HashSet<_> = read_journal(&journal_path(&paths.keys), &seal)?
        .into_iter()
        .map(|r| r.customer)
        .collect();
    for record in backup
        .erasures
        .iter()
        .filter(|r| !journalled.contains(&r.customer))
    {
        append_journal(&paths.keys, &seal, record)?;
    }
    Ok(KeysBackupSummary {
        customer_keys,
        record_keys,
        erasures: backup.erasures.len(),
        shredded: backup.shredded.len(),
        shred_list: backup.shredded,
    })
}
