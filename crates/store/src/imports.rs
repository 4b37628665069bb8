//! What `sealdesk import` filed already, so an import run again (after Ctrl-C, a crash,
//! or on purpose) skips it. The key is a keyed hash of the message's Message-ID, or of
//! its bytes when it has none: no id or address is ever a sled key. The value (sealed
//! with the master key) is the ticket the message went to, `None` for quarantine.
//! A mark is staged in the same unit as the message, so both are there or neither.

use super::envelope::KeySlot;
use super::{hmac32, Result, Store, Tx};
use sealdesk_model::TicketNo;

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
