//! The queue markers' records (Part 10), in the `ticket_seen` tree, master-sealed (they
//! hold ticket numbers, agent names and counts, no customer text):
//!
//! - `a` + ticket number: the ticket's [`TicketActivity`];
//! - `s` + agent name length + agent name + ticket number: when that agent last opened
//!   the ticket ([`SeenMark`]). One agent's marks are one prefix.

use super::{Result, Store, Tx};
use crate::envelope::KeySlot;
use sealdesk_model::{SeenMark, TicketActivity, TicketNo};
use std::collections::HashMap;

const ACTIVITY: u8 = b'a';
const SEEN: u8 = b's';

fn activity_key(ticket: TicketNo) -> Vec<u8> {
    let mut k = vec![ACTIVITY];
    k.extend_from_slice(&ticket.0.to_be_bytes());
    k
}

fn seen_prefix(agent: &str) -> Vec<u8> {
    // Agent names are at most 32 bytes (`is_valid_agent_name`).
    let mut k = vec![SEEN, agent.len().min(255) as u8];
    k.extend_from_slice(agent.as_bytes());
    k
}

fn seen_key(agent: &str, ticket: TicketNo) -> Vec<u8> {
    let mut k = seen_prefix(agent);
    k.extend_from_slice(&ticket.0.to_be_bytes());
    k
}

fn ticket_of(key: &[u8], prefix_len: usize) -> Option<TicketNo> {
    let bytes: [u8; 8] = key.get(prefix_len..prefix_len + 8)?.try_into().ok()?;
    Some(TicketNo(u64::from_be_bytes(bytes)))
}

impl Store {
    /// The activity on `ticket` (none recorded: the default, count 0).
    pub fn ticket_activity(&self, ticket: TicketNo) -> Result<TicketActivity> {
        Ok(self
            .get(&self.t.ticket_seen, &activity_key(ticket))?
            .unwrap_or_default())
    }

    /// Every ticket's recorded activity, in one pass (for building the queue index).
    pub fn all_ticket_activity(&self) -> Result<HashMap<TicketNo, TicketActivity>> {
        let mut out = HashMap::new();
        for (k, v) in self.scan::<TicketActivity>(&self.t.ticket_seen, &[ACTIVITY])? {
            if let Some(n) = ticket_of(&k, 1) {
                out.insert(n, v?);
            }
        }
        Ok(out)
    }

    /// When `agent` last opened each ticket they opened.
    pub fn seen_marks(&self, agent: &str) -> Result<HashMap<TicketNo, SeenMark>> {
        let prefix = seen_prefix(agent);
        let mut out = HashMap::new();
        for (k, v) in self.scan::<SeenMark>(&self.t.ticket_seen, &prefix)? {
            if let Some(n) = ticket_of(&k, prefix.len()) {
                out.insert(n, v?);
            }
        }
        Ok(out)
    }

    pub fn seen_mark(&self, agent: &str, ticket: TicketNo) -> Result<Option<SeenMark>> {
        self.get(&self.t.ticket_seen, &seen_key(agent, ticket))
    }
}

impl Tx<'_> {
    pub fn put_ticket_activity(&mut self, ticket: TicketNo, a: &TicketActivity) -> Result<()> {
        let store = self.store;
        let key = activity_key(ticket);
        self.put(&store.t.ticket_seen, &key, KeySlot::Master, a)
    }

    pub fn put_seen_mark(&mut self, agent: &str, ticket: TicketNo, mark: &SeenMark) -> Result<()> {
        let store = self.store;
        let key = seen_key(agent, ticket);
        self.put(&store.t.ticket_seen, &key, KeySlot::Master, mark)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{new_store, open, scratch};
    use sealdesk_model::{ActivityKind, SeenMark, TicketActivity, TicketNo, Timestamp};

    #[test]
    fn activity_and_seen_marks_survive_a_reopen_per_agent() {
        let (_dir, paths) = scratch();
        let mut a = TicketActivity::default();
        a.bump("system", &[ActivityKind::Inbound], Timestamp(5));
        {
            let store = new_store(&paths);
            let mut tx = store.begin();
            tx.put_ticket_activity(TicketNo(7), &a).unwrap();
            let mark = SeenMark {
                count: 1,
                at: Timestamp(6),
            };
            tx.put_seen_mark("al", TicketNo(7), &mark).unwrap();
            tx.put_seen_mark("alice", TicketNo(8), &mark).unwrap();
            let commit = store.commit(tx).unwrap().0;
            store.wait_durable(commit).unwrap();
        }
        let store = open(&paths);
        assert_eq!(store.ticket_activity(TicketNo(7)).unwrap(), a);
        assert_eq!(store.ticket_activity(TicketNo(8)).unwrap().count, 0);
        assert_eq!(store.all_ticket_activity().unwrap().len(), 1);
        let al = store.seen_marks("al").unwrap();
        assert_eq!(al.keys().copied().collect::<Vec<_>>(), vec![TicketNo(7)]);
        let alice = store.seen_marks("alice").unwrap();
        assert_eq!(alice.keys().copied().collect::<Vec<_>>(), vec![TicketNo(8)]);
        assert!(store.seen_mark("bob", TicketNo(7)).unwrap().is_none());
    }
}
