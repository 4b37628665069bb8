//! What `sealdesk import` filed already, so an import run again (after Ctrl-C, a crash,
//! or on purpose) skips it. The key is a keyed hash of the message's Message-ID, or of
//! its bytes when it has none: no id or address is ever a sled key. The value (sealed
//! with the master key) is the ticket the message went to, `None` for quarantine.
//! A mark is staged in the same unit as the message, so both are there or neither.

use super::envelope::KeySlot;
use super::{hmac32, Result, Store, Tx};
use sealdesk_model::{CustomerId, TicketNo};

impl Store {
    /// The import key of a message: by its Message-ID when it has one (the same mail
    /// in two mailboxes is one message), else by its exact bytes.
    pub fn import_key(&self, message_id: Option<&str>, raw: &[u8]) -> [u8; 32] {
        match message_id.map(str::trim).filter(|id| !id.is_empty()) {
            Some(id) => hmac32(
                &self.index_key,
                format!("import-id\0{}", id.to_lowercase()).as_bytes(),
            ),
            None => {
                let mut text = b"import-raw\0".to_vec();
                text.extend_from_slice(raw);
                hmac32(&self.index_key, &text)
            }
        }
    }

    /// Makes customer keys ahead for those of `emails` who are no customer yet (one
    /// keyring append and fsync instead of one per new customer); creating the
    /// customer then takes the key made for the address ([`Store::premade_customer_id`]).
    pub fn premake_customer_keys(&self, emails: &[&str]) -> Result<()> {
        let mut ids = Vec::new();
        {
            let mut premade = self.premade.lock();
            for email in emails {
                let key = self.email_key(email);
                if premade.contains_key(&key) || self.customer_by_email(email)?.is_some() {
                    continue;
                }
                let id = CustomerId::random();
                premade.insert(key, id);
                ids.push(id);
            }
        }
        let _appends = self.key_appends.lock();
        self.keyring.write().add_many(&ids)
    }

    /// The id whose key was made ahead for a new customer with address `email`.
    pub fn premade_customer_id(&self, email: &str) -> Option<CustomerId> {
        self.premade.lock().get(&self.email_key(email)).copied()
    }

    /// Forgets the keys made ahead (the batch is filed; unused ones open nothing).
    pub fn forget_premade_keys(&self) {
        self.premade.lock().clear();
    }

    /// Where an earlier import put this message: `Some(None)` quarantined it,
    /// `None` never imported it.
    pub fn imported(&self, key: &[u8; 32]) -> Result<Option<Option<TicketNo>>> {
        self.get(&self.t.imports, key)
    }
}

impl Tx<'_> {
    /// Records that the message with import key `key` was imported (into `ticket`).
    pub fn mark_imported(&mut self, key: &[u8; 32], ticket: Option<TicketNo>) -> Result<()> {
        let store = self.store;
        self.put(&store.t.imports, key, KeySlot::Master, &ticket)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{new_store, scratch};
    use sealdesk_model::TicketNo;

    #[test]
    fn an_import_mark_is_found_by_id_or_bytes() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let by_id = store.import_key(Some("<A@x>"), b"one");
        assert_eq!(by_id, store.import_key(Some(" <a@x> "), b"other bytes"));
        let by_raw = store.import_key(None, b"one");
        assert_ne!(by_raw, store.import_key(None, b"two"));
        assert_eq!(store.imported(&by_id).unwrap(), None);
        let mut tx = store.begin();
        tx.mark_imported(&by_id, Some(TicketNo(7))).unwrap();
        tx.mark_imported(&by_raw, None).unwrap();
        store.commit(tx).unwrap();
        assert_eq!(store.imported(&by_id).unwrap(), Some(Some(TicketNo(7))));
        assert_eq!(store.imported(&by_raw).unwrap(), Some(None));
    }
}
