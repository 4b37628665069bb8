//! Saved queue views (Part 10), in the `views` tree, master-sealed (a filter holds no
//! customer data). Shared views are keyed `s` + name, an agent's own `o` + name length +
//! agent name + view name, so both list in name order.

use super::{Result, Store, Tx};
use crate::envelope::KeySlot;
use sealdesk_model::SavedView;

fn own_prefix(owner: &str) -> Vec<u8> {
    let mut k = vec![b'o', owner.len().min(255) as u8];
    k.extend_from_slice(owner.as_bytes());
    k
}

fn view_key(owner: Option<&str>, name: &str) -> Vec<u8> {
    let mut k = match owner {
        None => vec![b's'],
        Some(owner) => own_prefix(owner),
    };
    k.extend_from_slice(name.as_bytes());
    k
}

impl Store {
    /// The shared views, by name.
    pub fn shared_views(&self) -> Result<Vec<SavedView>> {
        self.views_under(b"s")
    }

    /// `owner`'s own views, by name.
    pub fn own_views(&self, owner: &str) -> Result<Vec<SavedView>> {
        self.views_under(&own_prefix(owner))
    }

    /// One view: shared (`owner` None) or an agent's own.
    pub fn saved_view(&self, owner: Option<&str>, name: &str) -> Result<Option<SavedView>> {
        self.get(&self.t.views, &view_key(owner, name))
    }

    fn views_under(&self, prefix: &[u8]) -> Result<Vec<SavedView>> {
        self.scan::<SavedView>(&self.t.views, prefix)?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }
}

impl Tx<'_> {
    /// Stores `view` under its owner and name (replacing one of that name).
    pub fn put_saved_view(&mut self, view: &SavedView) -> Result<()> {
        let store = self.store;
        let key = view_key(view.owner.as_deref(), &view.name);
        self.put(&store.t.views, &key, KeySlot::Master, view)
    }

    pub fn remove_saved_view(&mut self, owner: Option<&str>, name: &str) {
        let store = self.store;
        self.remove(&store.t.views, &view_key(owner, name));
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{new_store, scratch};
    use sealdesk_model::{SavedView, Timestamp, ViewQuery};

    fn view(name: &str, owner: Option<&str>) -> SavedView {
        SavedView {
            name: name.into(),
            owner: owner.map(String::from),
            query: ViewQuery {
                text: "invoice".into(),
                ..Default::default()
            },
            created_by: "alice".into(),
            updated: Timestamp(1),
        }
    }

    #[test]
    fn shared_and_own_views_list_apart_in_name_order() {
        let (_dir, paths) = scratch();
        let store = new_store(&paths);
        let mut tx = store.begin();
        for v in [
            view("b", None),
            view("a", None),
            view("mine", Some("al")),
            view("x", Some("alice")),
        ] {
            tx.put_saved_view(&v).unwrap();
        }
        store.commit(tx).unwrap();
        let names = |vs: Vec<SavedView>| vs.into_iter().map(|v| v.name).collect::<Vec<_>>();
        assert_eq!(names(store.shared_views().unwrap()), vec!["a", "b"]);
        assert_eq!(names(store.own_views("al").unwrap()), vec!["mine"]);
        assert_eq!(names(store.own_views("alice").unwrap()), vec!["x"]);
        assert_eq!(
            store.saved_view(Some("al"), "mine").unwrap(),
            Some(view("mine", Some("al")))
        );
        let mut tx = store.begin();
        tx.remove_saved_view(None, "a");
        store.commit(tx).unwrap();
        assert_eq!(names(store.shared_views().unwrap()), vec!["b"]);
    }
}
