//! Notices to customers, in one tree with three kinds of record:
//! - `N` + notice id: the notice itself (desk text, master key);
//! - `C` + notice id + customer id: that customer's copy as sent, sealed with their key;
//! - `O` + outbox sequence number: which copy an outbox entry delivers (master key),
//!   until the mail is sent or given up.

use super::envelope::KeySlot;
use super::{Result, Store, StoreError, Tx};
use sealdesk_model::{CustomerId, Notice, NoticeCopy, NoticeId};

fn notice_key(id: &NoticeId) -> Vec<u8> {
    let mut k = vec![b'N'];
    k.extend_from_slice(id.as_bytes());
    k
}

fn copy_key(notice: &NoticeId, customer: &CustomerId) -> Vec<u8> {
    let mut k = vec![b'C'];
    k.extend_from_slice(notice.as_bytes());
    k.extend_from_slice(customer.as_bytes());
    k
}

fn link_key(seq: u32) -> Vec<u8> {
    let mut k = vec![b'O'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

impl Store {
    pub fn notice(&self, id: &NoticeId) -> Result<Option<Notice>> {
        self.get(&self.t.notices, &notice_key(id))
    }

    /// Every notice, oldest first.
    pub fn notices(&self) -> Result<Vec<Notice>> {
        let mut out: Vec<Notice> = self
            .scan::<Notice>(&self.t.notices, b"N")?
            .into_iter()
            .map(|(_, n)| n)
            .collect::<Result<_>>()?;
        out.sort_by_key(|n| n.created);
        Ok(out)
    }

    /// One customer's copy of a notice: `Err(Erased)` once their key is gone.
    pub fn notice_copy(
        &self,
        notice: &NoticeId,
        customer: &CustomerId,
    ) -> Result<Option<NoticeCopy>> {
        self.get(&self.t.notices, &copy_key(notice, customer))
    }

    /// Whether a copy was made for this customer (readable or not): they were mailed.
    pub fn notice_copy_exists(&self, notice: &NoticeId, customer: &CustomerId) -> Result<bool> {
        Ok(self
            .t
            .notices
            .tree
            .contains_key(copy_key(notice, customer))?)
    }

    /// Every readable copy of one notice (copies of erased customers are skipped).
    pub fn notice_copies(&self, notice: &NoticeId) -> Result<Vec<NoticeCopy>> {
        let mut prefix = vec![b'C'];
        prefix.extend_from_slice(notice.as_bytes());
        let mut out = Vec::new();
        for (_, copy) in self.scan::<NoticeCopy>(&self.t.notices, &prefix)? {
            match copy {
                Ok(c) => out.push(c),
                Err(StoreError::Erased) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The copy an outbox entry (ticket 0, `seq`) delivers, if it is a notice.
    pub fn notice_link(&self, seq: u32) -> Result<Option<(NoticeId, CustomerId)>> {
        self.get(&self.t.notices, &link_key(seq))
    }
}

impl Tx<'_> {
    pub fn put_notice(&mut self, notice: &Notice) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.notices,
            &notice_key(&notice.id),
            KeySlot::Master,
            notice,
        )
    }

    pub fn put_notice_copy(&mut self, copy: &NoticeCopy) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.notices,
            &copy_key(&copy.notice, &copy.customer),
            KeySlot::Customer(copy.customer),
            copy,
        )
    }

    pub fn put_notice_link(
        &mut self,
        seq: u32,
        notice: &NoticeId,
        customer: &CustomerId,
    ) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.notices,
            &link_key(seq),
            KeySlot::Master,
            &(*notice, *customer),
        )
    }

    pub fn remove_notice_link(&mut self, seq: u32) {
        let store = self.store;
        self.remove(&store.t.notices, &link_key(seq));
    }

    /// Removes every copy held for this customer and every notice mail to them still
    /// waiting in the outbox (erasure: the waiting mail holds their address and name
    /// under the master key); returns how many copies.
    pub fn remove_notice_copies(&mut self, customer: &CustomerId) -> Result<usize> {
        let store = self.store;
        let t = &store.t.notices;
        let mut removed = 0;
        for key in t.tree.scan_prefix(b"C").keys() {
            let key = key?;
            if key.len() == 33 && &key[17..33] == customer.as_bytes() {
                self.remove(t, &key);
                removed += 1;
            }
        }
        for (key, link) in store.scan::<(NoticeId, CustomerId)>(t, b"O")? {
            if link?.1 == *customer {
                if let Ok(seq) = <[u8; 4]>::try_from(&key[1..]) {
                    self.remove_outbox(sealdesk_model::TicketNo(0), u32::from_be_bytes(seq));
                }
                self.remove(t, &key);
            }
        }
        Ok(removed)
    }
}
