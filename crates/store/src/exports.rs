//! Export archives kept inside the store: the .tar.gz sealed with its customer's key
//! (so erasure, which destroys the key, destroys every copy of it, backups included),
//! and a master-sealed index entry without personal data that outlives the archive.

use super::envelope::KeySlot;
use super::{Result, Store, Tx};
use sealdesk_model::{CustomerId, ExportId, ExportRecord, ExportWay, Timestamp};

const ARCHIVE: u8 = b'a';
const INDEX: u8 = b'i';

fn key(kind: u8, id: &ExportId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = kind;
    k[1..].copy_from_slice(id.as_bytes());
    k
}

impl Store {
    pub fn export_record(&self, id: &ExportId) -> Result<Option<ExportRecord>> {
        self.get(&self.t.exports, &key(INDEX, id))
    }

    /// Every export index entry, oldest first.
    pub fn export_records(&self) -> Result<Vec<ExportRecord>> {
        let mut out: Vec<ExportRecord> = self
            .scan::<ExportRecord>(&self.t.exports, &[INDEX])?
            .into_iter()
            .map(|(_, r)| r)
            .collect::<Result<_>>()?;
        out.sort_by_key(|r| r.created);
        Ok(out)
    }

    /// The archive's bytes; `None` once erased or expired.
    pub fn export_archive(&self, id: &ExportId) -> Result<Option<Vec<u8>>> {
        self.get(&self.t.exports, &key(ARCHIVE, id))
    }

    /// Erasure re-applied to a restored data dir: the archives go, the index entries
    /// lose their paths (see [`Tx::erase_exports`]).
    pub(super) fn reapply_export_erasure(&self, customer: &CustomerId) -> Result<()> {
        for mut r in self.export_records()? {
            if r.customer != *customer {
                continue;
            }
            self.t.exports.tree.remove(key(ARCHIVE, &r.id))?;
            if strip(&mut r) {
                self.put(&self.t.exports, &key(INDEX, &r.id), KeySlot::Master, &r)?;
            }
        }
        Ok(())
    }
}

/// The index entry as it stays after erasure: content gone, no paths (a path the
/// admin chose may name the person). True if it changed.
fn strip(r: &mut ExportRecord) -> bool {
    let before = r.clone();
    r.content_deleted.get_or_insert(Timestamp::now());
    for d in &mut r.deliveries {
        if let ExportWay::File { path } = &mut d.way {
            *path = None;
        }
    }
    *r != before
}

impl Tx<'_> {
    /// A new archive under a new id, sealed with its customer's key.
    pub fn put_export_archive(
        &mut self,
        customer: &CustomerId,
        id: &ExportId,
        archive: &[u8],
    ) -> Result<()> {
        let store = self.store;
        self.put_blob(
            &store.t.exports,
            &key(ARCHIVE, id),
            KeySlot::Customer(*customer),
            archive,
        )
    }

    pub fn put_export_record(&mut self, record: &ExportRecord) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.exports,
            &key(INDEX, &record.id),
            KeySlot::Master,
            record,
        )
    }

    /// Deletes one archive's content (retention), keeping its index entry.
    pub fn expire_export(&mut self, record: &ExportRecord) -> Result<()> {
        let store = self.store;
        self.remove(&store.t.exports, &key(ARCHIVE, &record.id));
        let mut r = record.clone();
        r.content_deleted = Some(Timestamp::now());
        self.put_export_record(&r)
    }

    /// Part of an erasure: the customer's archives are deleted, their index entries
    /// stay without paths. Returns how many archives were deleted.
    pub(crate) fn erase_exports(&mut self, customer: &CustomerId) -> Result<usize> {
        let store = self.store;
        let mut deleted = 0;
        for mut r in store.export_records()? {
            if r.customer != *customer {
                continue;
            }
            if self.contains(&store.t.exports, &key(ARCHIVE, &r.id))? {
                self.remove(&store.t.exports, &key(ARCHIVE, &r.id));
                deleted += 1;
            }
            if strip(&mut r) {
                self.put_export_record(&r)?;
            }
        }
        Ok(deleted)
    }

    /// Part of a redaction, a correction or an anonymisation: the customer's archives
    /// held by the desk still hold the old text, so their content goes (keys shredded,
    /// so backups lose it too) and their index entries say so. Returns how many.
    pub(super) fn expire_archives_of(&mut self, customer: &CustomerId) -> Result<usize> {
        let store = self.store;
        let mut deleted = 0;
        for r in store.export_records()? {
            if r.customer != *customer || !self.contains(&store.t.exports, &key(ARCHIVE, &r.id))? {
                continue;
            }
            self.remove_shredding(&store.t.exports, &key(ARCHIVE, &r.id))?;
            let mut r = r.clone();
            r.content_deleted.get_or_insert(Timestamp::now());
            self.put_export_record(&r)?;
            deleted += 1;
        }
        Ok(deleted)
    }
}
