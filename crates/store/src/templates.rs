//! Saved replies and macros, one tree, sealed with the master key: they hold no
//! customer data (placeholders are filled when one is used). The sled key is a kind
//! byte and the name, so one name is one saved reply (and one macro) desk-wide.

use super::{Result, Store, Tx};
use crate::envelope::KeySlot;
use sealdesk_model::{Macro, ReplyTemplate};
use serde::de::DeserializeOwned;

const REPLY: u8 = b'r';
const MACRO: u8 = b'm';

fn key(kind: u8, name: &str) -> Vec<u8> {
    let mut k = vec![kind];
    k.extend_from_slice(name.as_bytes());
    k
}

impl Store {
    /// Every saved reply, by name.
    pub fn reply_templates(&self) -> Result<Vec<ReplyTemplate>> {
        self.all_of(REPLY)
    }

    pub fn reply_template(&self, name: &str) -> Result<Option<ReplyTemplate>> {
        self.get(&self.t.templates, &key(REPLY, name))
    }

    /// Every macro, by name.
    pub fn macros(&self) -> Result<Vec<Macro>> {
        self.all_of(MACRO)
    }

    pub fn macro_named(&self, name: &str) -> Result<Option<Macro>> {
        self.get(&self.t.templates, &key(MACRO, name))
    }

    fn all_of<T: DeserializeOwned>(&self, kind: u8) -> Result<Vec<T>> {
        // Keys sort by name already.
        self.scan::<T>(&self.t.templates, &[kind])?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }
}

impl Tx<'_> {
    /// Stores `template` under its name (replacing one of that name).
    pub fn put_reply_template(&mut self, template: &ReplyTemplate) -> Result<()> {
        let store = self.store;
        let k = key(REPLY, &template.name);
        self.put(&store.t.templates, &k, KeySlot::Master, template)
    }

    pub fn remove_reply_template(&mut self, name: &str) {
        let store = self.store;
        self.remove(&store.t.templates, &key(REPLY, name));
    }

    /// Stores `m` under its name (replacing one of that name).
    pub fn put_macro(&mut self, m: &Macro) -> Result<()> {
        let store = self.store;
        let k = key(MACRO, &m.name);
        self.put(&store.t.templates, &k, KeySlot::Master, m)
    }

    pub fn remove_macro(&mut self, name: &str) {
        let store = self.store;
        self.remove(&store.t.templates, &key(MACRO, name));
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{new_store, open, scratch};
    use sealdesk_model::{Macro, ReplyTemplate, Status, TagChange, Timestamp, Visibility};

    #[test]
    fn templates_and_macros_survive_a_reopen_sealed() {
        let (_dir, paths) = scratch();
        let now = Timestamp::now();
        let template = ReplyTemplate {
            name: "refund".into(),
            text: "Dear {customer.name}, your refund is on its way.".into(),
            visibility: Visibility::Shared,
            created_by: "alice".into(),
            created: now,
            updated: now,
        };
        let m = Macro {
            name: "refund".into(),
            reply: Some(template.text.clone()),
            status: Some(Status::Solved),
            tags: vec![TagChange::Add("refund".into())],
            assignee: None,
            priority: None,
            visibility: Visibility::Shared,
            created_by: "alice".into(),
            created: now,
            updated: now,
        };
        {
            let store = new_store(&paths);
            let mut tx = store.begin();
            tx.put_reply_template(&template).unwrap();
            tx.put_macro(&m).unwrap();
            let commit = store.commit(tx).unwrap().0;
            store.wait_durable(commit).unwrap();
        }
        let store = open(&paths);
        assert_eq!(store.reply_templates().unwrap(), vec![template]);
        assert_eq!(store.macros().unwrap(), vec![m.clone()]);
        assert_eq!(store.macro_named("refund").unwrap(), Some(m));
        assert_eq!(store.reply_template("nope").unwrap(), None);
        let mut tx = store.begin();
        tx.remove_reply_template("refund");
        store.commit(tx).unwrap();
        assert!(store.reply_templates().unwrap().is_empty());
        assert_eq!(
            store.macros().unwrap().len(),
            1,
            "the macro of that name stays"
        );
        drop(store);
        // Sealed: the text is nowhere in the files in clear.
        let mut found = false;
        for entry in walk(&paths.db()) {
            let bytes = std::fs::read(entry).unwrap();
            found |= bytes
                .windows(b"refund is on its way".len())
                .any(|w| w == b"refund is on its way");
        }
        assert!(!found, "a saved reply is stored sealed");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
