//! Part 11 (imap): how far the desk has filed each IMAP account's folder, in the
//! `imap_state` tree, master-sealed. The key is a keyed hash of the account name and
//! folder (a folder name may be a person's), the value the folder's UIDVALIDITY and the
//! highest UID stored. A message at or below that UID is filed already: after a crash
//! between storing it and flagging it on the server, it is only flagged, not fetched.

use super::{hmac32, Result, Store, Tx};
use crate::envelope::KeySlot;
use serde::{Deserialize, Serialize};

/// Where filing stands in one account's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImapProgress {
    /// The folder's UIDVALIDITY when `last_uid` was stored; another value means the
    /// server renumbered the folder and `last_uid` says nothing.
    pub uid_validity: u32,
    /// The highest UID filed (stored durably) so far.
    pub last_uid: u32,
}

impl Store {
    fn imap_key(&self, account: &str, folder: &str) -> [u8; 32] {
        hmac32(
            &self.index_key,
            format!("imap\0{account}\0{folder}").as_bytes(),
        )
    }

    /// The progress stored for `account`'s `folder`, if any.
    pub fn imap_progress(&self, account: &str, folder: &str) -> Result<Option<ImapProgress>> {
        self.get(&self.t.imap_state, &self.imap_key(account, folder))
    }
}

impl Tx<'_> {
    pub fn put_imap_progress(
        &mut self,
        account: &str,
        folder: &str,
        progress: &ImapProgress,
    ) -> Result<()> {
        let store = self.store;
        let key = store.imap_key(account, folder);
        self.put(&store.t.imap_state, &key, KeySlot::Master, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::ImapProgress;
    use crate::testing::{new_store, scratch};

    #[test]
    fn progress_is_kept_per_account_and_folder() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        assert_eq!(store.imap_progress("work", "INBOX").unwrap(), None);
        let p = ImapProgress {
            uid_validity: 7,
            last_uid: 42,
        };
        let mut tx = store.begin();
        tx.put_imap_progress("work", "INBOX", &p).unwrap();
        store.commit(tx).unwrap();
        assert_eq!(store.imap_progress("work", "INBOX").unwrap(), Some(p));
        assert_eq!(store.imap_progress("work", "Archive").unwrap(), None);
        assert_eq!(store.imap_progress("home", "INBOX").unwrap(), None);
    }
}
