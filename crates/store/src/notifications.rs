//! Notifications to agents (Part 10), one tree sealed with the master key: ticket
//! numbers, reasons, agent names and times, never customer text. Keys start with a
//! kind byte:
//!
//! - `p` NAME: the topics the agent chose ([`NotifyPrefs`]);
//! - `n` NAME 0 SEQ: the agent's list, SEQ a big-endian u64 (newest highest);
//! - `q` NAME 0 SEQ: the same entry, waiting for the agent's next notification mail;
//! - `l` NAME: when the agent's last notification mail was queued;
//! - `d` TICKET: the due time a ticket was last told about, and how far ([`DueMark`]).

use super::{Result, Store, Tx};
use crate::envelope::KeySlot;
use sealdesk_model::{Notification, NotifyPrefs, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

const PREFS: u8 = b'p';
const LIST: u8 = b'n';
const PENDING: u8 = b'q';
const LAST_MAIL: u8 = b'l';
const DUE: u8 = b'd';

/// An agent keeps this many notifications; older ones go as new ones come.
pub const NOTIFICATIONS_KEPT: u64 = 500;

/// Which notifications a ticket's due time has caused (so each is sent once per due
/// value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueMark {
    pub due: Timestamp,
    pub soon: bool,
    pub breached: bool,
}

fn name_key(kind: u8, name: &str) -> Vec<u8> {
    let mut k = vec![kind];
    k.extend_from_slice(name.as_bytes());
    k
}

fn list_prefix(kind: u8, name: &str) -> Vec<u8> {
    let mut k = name_key(kind, name);
    k.push(0);
    k
}

fn entry_key(kind: u8, name: &str, seq: u64) -> Vec<u8> {
    let mut k = list_prefix(kind, name);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn due_key(ticket: TicketNo) -> Vec<u8> {
    let mut k = vec![DUE];
    k.extend_from_slice(&ticket.0.to_be_bytes());
    k
}

impl Store {
    /// The topics `name` chose; None: never chose (their role's defaults apply).
    pub fn notify_prefs(&self, name: &str) -> Result<Option<NotifyPrefs>> {
        self.get(&self.t.notifications, &name_key(PREFS, name))
    }

    /// `name`'s notifications, newest first.
    pub fn notifications(&self, name: &str) -> Result<Vec<Notification>> {
        let mut out: Vec<Notification> = self
            .scan::<Notification>(&self.t.notifications, &list_prefix(LIST, name))?
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Result<_>>()?;
        out.reverse();
        Ok(out)
    }

    /// How many of `name`'s notifications are unread.
    pub fn unread_notifications(&self, name: &str) -> Result<usize> {
        Ok(self.notifications(name)?.iter().filter(|n| !n.read).count())
    }

    /// Every notification waiting for a mail, as (agent, entry), by agent then age.
    pub fn pending_notifications(&self) -> Result<Vec<(String, Notification)>> {
        let mut out = Vec::new();
        for (key, value) in self.scan::<Notification>(&self.t.notifications, &[PENDING])? {
            let name = key[1..key.len() - 9].to_vec();
            out.push((String::from_utf8_lossy(&name).into_owned(), value?));
        }
        Ok(out)
    }

    /// When `name`'s last notification mail was queued.
    pub fn last_notification_mail(&self, name: &str) -> Result<Option<Timestamp>> {
        self.get(&self.t.notifications, &name_key(LAST_MAIL, name))
    }

    /// What `ticket`'s due time has caused so far.
    pub fn due_mark(&self, ticket: TicketNo) -> Result<Option<DueMark>> {
        self.get(&self.t.notifications, &due_key(ticket))
    }
}

impl Tx<'_> {
    pub fn put_notify_prefs(&mut self, name: &str, prefs: &NotifyPrefs) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.notifications,
            &name_key(PREFS, name),
            KeySlot::Master,
            prefs,
        )
    }

    /// Appends `n` to `name`'s list (its `seq` is set here) and, with `mail`, queues it
    /// for their next notification mail. The oldest beyond [`NOTIFICATIONS_KEPT`] goes.
    pub fn add_notification(&mut self, name: &str, n: &mut Notification, mail: bool) -> Result<()> {
        let store = self.store;
        let t = &store.t.notifications;
        let prefix = list_prefix(LIST, name);
        let last = self
            .last_key_under(t, &prefix)?
            .and_then(|k| k[prefix.len()..].try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0);
        n.seq = last + 1;
        self.put(t, &entry_key(LIST, name, n.seq), KeySlot::Master, n)?;
        if mail {
            self.put(t, &entry_key(PENDING, name, n.seq), KeySlot::Master, n)?;
        }
        if n.seq > NOTIFICATIONS_KEPT {
            self.remove(t, &entry_key(LIST, name, n.seq - NOTIFICATIONS_KEPT));
        }
        Ok(())
    }

    /// Marks `name`'s notification `seq` read; false if there is none.
    pub fn mark_notification_read(&mut self, name: &str, seq: u64) -> Result<bool> {
        let store = self.store;
        let t = &store.t.notifications;
        let key = entry_key(LIST, name, seq);
        let Some(mut n) = store.get::<Notification>(t, &key)? else {
            return Ok(false);
        };
        if !n.read {
            n.read = true;
            self.put(t, &key, KeySlot::Master, &n)?;
        }
        Ok(true)
    }

    /// Takes `name`'s entry `seq` off the mail queue (mailed, or not to be).
    pub fn remove_pending_notification(&mut self, name: &str, seq: u64) {
        let store = self.store;
        self.remove(&store.t.notifications, &entry_key(PENDING, name, seq));
    }

    pub fn put_last_notification_mail(&mut self, name: &str, at: Timestamp) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.notifications,
            &name_key(LAST_MAIL, name),
            KeySlot::Master,
            &at,
        )
    }

    /// Removes everything kept for agent `name`: topics, list, mail queue, last mail.
    pub fn forget_agent_notifications(&mut self, name: &str) -> Result<()> {
        let store = self.store;
        let t = &store.t.notifications;
        let mut keys = vec![name_key(PREFS, name), name_key(LAST_MAIL, name)];
        for kind in [LIST, PENDING] {
            for item in t.tree.scan_prefix(list_prefix(kind, name)) {
                keys.push(item?.0.to_vec());
            }
        }
        for k in keys {
            self.remove(t, &k);
        }
        Ok(())
    }

    pub fn put_due_mark(&mut self, ticket: TicketNo, mark: &DueMark) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.notifications,
            &due_key(ticket),
            KeySlot::Master,
            mark,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{new_store, open, scratch};
    use sealdesk_model::{Notification, NotifyPrefs, NotifyTopic, NotifyWhy, TicketNo, Timestamp};

    fn entry(ticket: u64) -> Notification {
        Notification {
            seq: 0,
            ticket: TicketNo(ticket),
            why: NotifyWhy::Assigned,
            cause: Some("bob".into()),
            at: Timestamp(1_800_000_000),
            read: false,
        }
    }

    #[test]
    fn lists_queues_and_prefs_survive_a_reopen() {
        let (_dir, paths) = scratch();
        {
            let store = new_store(&paths);
            let mut tx = store.begin();
            tx.add_notification("alice", &mut entry(1), true).unwrap();
            tx.add_notification("alice", &mut entry(2), false).unwrap();
            tx.add_notification("al", &mut entry(3), true).unwrap();
            let mut prefs = NotifyPrefs::default();
            prefs.set(NotifyTopic::New, true);
            tx.put_notify_prefs("alice", &prefs).unwrap();
            let commit = store.commit(tx).unwrap().0;
            store.wait_durable(commit).unwrap();
        }
        let store = open(&paths);
        let list = store.notifications("alice").unwrap();
        assert_eq!(
            list.iter().map(|n| (n.seq, n.ticket.0)).collect::<Vec<_>>(),
            vec![(2, 2), (1, 1)]
        );
        assert_eq!(store.notifications("al").unwrap().len(), 1);
        let pending = store.pending_notifications().unwrap();
        assert_eq!(
            pending
                .iter()
                .map(|(a, n)| (a.as_str(), n.ticket.0))
                .collect::<Vec<_>>(),
            vec![("al", 3), ("alice", 1)]
        );
        assert_eq!(store.notify_prefs("alice").unwrap().unwrap().list(), "new");
        assert_eq!(store.notify_prefs("al").unwrap(), None);
        let mut tx = store.begin();
        assert!(tx.mark_notification_read("alice", 1).unwrap());
        assert!(!tx.mark_notification_read("alice", 9).unwrap());
        tx.remove_pending_notification("alice", 1);
        store.commit(tx).unwrap();
        assert_eq!(store.unread_notifications("alice").unwrap(), 1);
        assert_eq!(store.pending_notifications().unwrap().len(), 1);

        let mut tx = store.begin();
        tx.forget_agent_notifications("al").unwrap();
        store.commit(tx).unwrap();
        assert!(store.notifications("al").unwrap().is_empty());
        assert!(store.pending_notifications().unwrap().is_empty());
        assert_eq!(store.notifications("alice").unwrap().len(), 2, "only al's");
        assert!(store.notify_prefs("alice").unwrap().is_some());
    }
}
