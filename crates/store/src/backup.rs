//! Backups: a consistent snapshot of every tree, values still sealed, so a backup file is
//! as safe as the data dir itself. The keys are never inside: today's keys dir opens it
//! (and cannot open what was erased since; restore re-applies those erasures).
//!
//! Consistency while serving: every desk operation holds the store's operation gate
//! (shared); a backup holds it exclusively, so it sees whole operations only.

use super::error::{Result, StoreError};
use super::{open_db, Paths, Store, Tables};
use parking_lot::RwLockReadGuard;
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8] = b"SEALDESK-BACKUP v1\n";

thread_local! {
    /// Operations nest (an operation appends audit events, which is an operation too);
    /// only the outermost takes the gate, so a waiting backup cannot deadlock them.
    static OP_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Held for the length of one desk operation.
pub struct OpGuard<'a> {
    _shared: Option<RwLockReadGuard<'a, ()>>,
}

impl Drop for OpGuard<'_> {
    fn drop(&mut self) {
        OP_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// What a backup or restore covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub trees: usize,
    pub records: u64,
    pub bytes: u64,
}

impl Store {
    /// Marks the start of an operation whose writes belong together.
    pub fn op(&self) -> OpGuard<'_> {
        let depth = OP_DEPTH.with(|d| {
            let v = d.get();
            d.set(v + 1);
            v
        });
        OpGuard {
            _shared: (depth == 0).then(|| self.gate.read()),
        }
    }

    /// Writes a snapshot of every tree to `out` (created new, mode 0600). The snapshot
    /// is written to `.NAME.partial` beside it, fsynced, and only then linked to its
    /// final name, so a backup killed half way never leaves a truncated file that looks
    /// like a backup. A partial file left by an earlier killed run is removed first.
    pub fn backup(&self, out: &Path) -> Result<BackupSummary> {
        let _exclusive = self.gate.write();
        if out.exists() {
            return Err(StoreError::OutExists(out.into()));
        }
        self.flush()?;
        let partial = partial_path(out);
        let ctx = || format!("cannot write the backup {}", out.display());
        match std::fs::remove_file(&partial) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::io(ctx())(e))
            }
            _ => {}
        }
        let mut guard = RemoveOnDrop(Some(partial.clone()));
        let summary = self.write_snapshot(&partial)?;
        publish(&partial, out).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::OutExists(out.into()),
            _ => StoreError::io(ctx())(e),
        })?;
        guard.0 = None;
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        super::keys::sync_dir(&dir)?;
        Ok(summary)
    }

    fn write_snapshot(&self, path: &Path) -> Result<BackupSummary> {
        use std::os::unix::fs::OpenOptionsExt;
        let ctx = || format!("cannot write the backup {}", path.display());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(StoreError::io(ctx()))?;
        let mut w = HashingWriter {
            inner: std::io::BufWriter::new(file),
            hash: Sha256::new(),
            bytes: 0,
        };
        w.write_all(MAGIC).map_err(StoreError::io(ctx()))?;
        w.write_all(&self.desk_id).map_err(StoreError::io(ctx()))?;
        let mut records = 0;
        let tables = self.t.all();
        for table in &tables {
            let name = table.name.as_bytes();
            w.write_all(&(name.len() as u16).to_be_bytes())
                .map_err(StoreError::io(ctx()))?;
            w.write_all(name).map_err(StoreError::io(ctx()))?;
            w.write_all(&(table.tree.len() as u64).to_be_bytes())
                .map_err(StoreError::io(ctx()))?;
            let mut written = 0u64;
            for item in table.tree.iter() {
                let (k, v) = item?;
                for part in [&k[..], &v[..]] {
                    w.write_all(&(part.len() as u32).to_be_bytes())
                        .map_err(StoreError::io(ctx()))?;
                    w.write_all(part).map_err(StoreError::io(ctx()))?;
                }
                written += 1;
            }
            if written != table.tree.len() as u64 {
                return Err(StoreError::Db("a tree changed during the backup".into()));
            }
            records += written;
        }
        let digest = w.hash.clone().finalize();
        let bytes = w.bytes + 32;
        let mut inner = w.inner;
        inner.write_all(&digest).map_err(StoreError::io(ctx()))?;
        let file = inner
            .into_inner()
            .map_err(|e| StoreError::io(ctx())(e.into_error()))?;
        file.sync_all().map_err(StoreError::io(ctx()))?;
        Ok(BackupSummary {
            trees: tables.len(),
            records,
            bytes,
        })
    }

    /// Restores a backup into a new, empty data dir, with today's keys dir; then
    /// re-applies every erasure journalled since the backup was taken.
    pub fn restore(
        backup: &Path,
        paths: &Paths,
        passphrase: Option<&str>,
    ) -> Result<(BackupSummary, usize)> {
        if paths.db().exists() {
            return Err(StoreError::AlreadyInitialized(paths.data.clone()));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(backup)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(StoreError::io(format!(
                "cannot read the backup {}",
                backup.display()
            )))?;
        let bad = |what: &str| StoreError::Corrupt(format!("backup {}: {what}", backup.display()));
        if bytes.len() < MAGIC.len() + 16 + 32 || !bytes.starts_with(MAGIC) {
            return Err(bad("not a sealdesk backup"));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != digest {
            return Err(bad(
                "the checksum does not match (truncated or damaged file)",
            ));
        }
        let desk_id: [u8; 16] = body[MAGIC.len()..MAGIC.len() + 16]
            .try_into()
            .expect("length checked");
        super::keys::create_private_dir(&paths.data)?;
        let db = open_db(paths)?;
        let mut cursor = &body[MAGIC.len() + 16..];
        let mut take = |n: usize| -> Result<&[u8]> {
            if cursor.len() < n {
                return Err(bad("ends early"));
            }
            let (head, rest) = cursor.split_at(n);
            cursor = rest;
            Ok(head)
        };
        let (mut trees, mut records) = (0, 0u64);
        while let Ok(len) = take(2) {
            let name_len = u16::from_be_bytes(len.try_into().expect("2 bytes")) as usize;
            let name = std::str::from_utf8(take(name_len)?)
                .map_err(|_| bad("bad tree name"))?
                .to_string();
            let count = u64::from_be_bytes(take(8)?.try_into().expect("8 bytes"));
            let tree = db.open_tree(&name)?;
            let mut batch = sled::Batch::default();
            for _ in 0..count {
                let kl = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
                let k = take(kl)?.to_vec();
                let vl = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
                let v = take(vl)?.to_vec();
                batch.insert(k, v);
            }
            tree.apply_batch(batch)?;
            trees += 1;
            records += count;
        }
        db.flush()?;
        drop(db);
        let store = Store::open(paths, passphrase)?;
        if store.desk_id != desk_id {
            return Err(StoreError::KeyringMismatch(paths.keys.clone()));
        }
        let reapplied = store.reapply_erasures()?;
        store.flush()?;
        Ok((
            BackupSummary {
                trees,
                records,
                bytes: bytes.len() as u64,
            },
            reapplied,
        ))
    }
}

/// Where a backup to `out` is written until it is complete: `.NAME.partial` beside it.
pub(crate) fn partial_path(out: &Path) -> std::path::PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    out.with_file_name(format!(".{name}.partial"))
}

/// Gives the complete file its final name without replacing an existing file: a hard
/// link (atomic, refuses to overwrite), or where the filesystem has none, a rename after
/// checking the name is free.
fn publish(partial: &Path, out: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(partial, out) {
        Ok(()) => std::fs::remove_file(partial),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if out.exists() => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(partial, out),
    }
}

/// Removes a partial backup when writing it fails part way.
struct RemoveOnDrop(Option<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Tables {
    pub(super) fn all(&self) -> Vec<&super::Table> {
        vec![
            &self.meta,
            &self.customers,
            &self.email_index,
            &self.erased,
            &self.tickets,
            &self.subjects,
            &self.customer_tickets,
            &self.messages,
            &self.attachments,
            &self.agents,
            &self.consents,
            &self.requests,
            &self.audit,
            &self.message_ids,
            &self.seen_mail,
            &self.raw_mail,
            &self.quarantine,
            &self.outbox,
            &self.suppressed,
            &self.units,
            &self.exports,
            &self.notices,
            &self.shredded,
            &self.erasures,
            &self.customer_meta,
            &self.drafts,
            &self.templates,
            &self.message_parties,
            &self.notifications,
            &self.ticket_seen,
            &self.views,
            &self.webhooks,
            &self.webhook_queue,
            &self.webhook_log,
            &self.imports,
            &self.imap_state,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A tree left out of `all` would be left out of every backup.
    #[test]
    fn backups_cover_every_tree() {
        let (_dir, paths) = crate::testing::scratch();
        let store = crate::testing::new_store(&paths);
        let mut names: Vec<&str> = store.t.all().iter().map(|t| t.name).collect();
        names.sort_unstable();
        let mut every: Vec<&str> = super::super::TREE_NAMES.to_vec();
        every.sort_unstable();
        assert_eq!(names, every);
    }

    fn paths(root: &Path, data: &str) -> Paths {
        Paths {
            data: root.join(data),
            keys: root.join("keys"),
        }
    }

    /// A desk with one backup of it, as bytes.
    fn desk_with_backup(root: &Path) -> Vec<u8> {
        let p = paths(root, "data");
        Store::init(&p, None).unwrap();
        let store = Store::open(&p, None).unwrap();
        let out = root.join("desk.backup");
        store.backup(&out).unwrap();
        std::fs::read(&out).unwrap()
    }

    #[test]
    fn a_backup_appears_whole_under_its_name_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path(), "data");
        Store::init(&p, None).unwrap();
        let store = Store::open(&p, None).unwrap();
        let out = dir.path().join("b.backup");
        // What a backup killed half way leaves: only the partial file.
        std::fs::write(partial_path(&out), b"SEALDESK-BACKUP v1\ntrunc").unwrap();
        store.backup(&out).unwrap();
        assert!(
            !partial_path(&out).exists(),
            "the stale partial file is gone"
        );
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.starts_with(MAGIC));
        // Never overwritten, and a refused backup leaves no partial file behind.
        assert!(matches!(store.backup(&out), Err(StoreError::OutExists(_))));
        assert_eq!(std::fs::read(&out).unwrap(), bytes);
        assert!(!partial_path(&out).exists());
        // A backup into a directory that does not exist fails and leaves nothing.
        let nowhere = dir.path().join("missing").join("b.backup");
        assert!(store.backup(&nowhere).is_err());
        assert!(!nowhere.exists() && !partial_path(&nowhere).exists());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// A backup file is untrusted input to `restore`: damaged files (with a checksum
        /// that matches, so the parser itself is reached) give an error, never a panic.
        #[test]
        fn damaged_backups_never_panic_restore(
            at in any::<prop::sample::Index>(),
            bytes in proptest::collection::vec(any::<u8>(), 1..24),
            cut in any::<prop::sample::Index>(),
            how in 0u8..3,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let good = desk_with_backup(dir.path());
            let body = &good[..good.len() - 32];
            let mut damaged = body.to_vec();
            let i = at.index(body.len());
            match how {
                0 => {
                    for (j, b) in bytes.iter().enumerate() {
                        if let Some(slot) = damaged.get_mut(i + j) {
                            *slot ^= b | 1;
                        }
                    }
                }
                1 => damaged.splice(i..i, bytes.iter().copied()).for_each(drop),
                _ => damaged.truncate(cut.index(body.len())),
            }
            let digest = Sha256::digest(&damaged);
            damaged.extend_from_slice(&digest);
            let file = dir.path().join("damaged.backup");
            std::fs::write(&file, &damaged).unwrap();
            let target = paths(dir.path(), "restored");
            if let Ok((summary, _)) = Store::restore(&file, &target, None) {
                // What restored opens.
                prop_assert!(summary.trees > 0);
                prop_assert!(Store::open(&target, None).is_ok());
            }
        }
    }
}
