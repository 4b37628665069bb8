//! Who is looking at which ticket right now, so agents don't answer the same mail twice.

use super::{Change, Desk};
pub use sealdesk_api::{Activity, Viewer};
use sealdesk_model::TicketNo;
use std::collections::HashMap;

/// Session id → (agent, ticket, activity).
#[derive(Default)]
pub(super) struct Presence {
    sessions: HashMap<u64, (String, TicketNo, Activity)>,
}

impl Desk {
    /// Records where a session is; `None` when it left every ticket (or disconnected).
    pub fn set_presence(&self, session: u64, agent: &str, at: Option<(TicketNo, Activity)>) {
        let mut p = self.presence.lock();
        let before = p.sessions.get(&session).map(|(_, n, a)| (*n, *a));
        if before == at {
            return;
        }
        match at {
            Some((n, a)) => p.sessions.insert(session, (agent.to_string(), n, a)),
            None => p.sessions.remove(&session),
        };
        drop(p);
        for n in [before.map(|b| b.0), at.map(|a| a.0)].into_iter().flatten() {
            self.announce(Change::Presence(n));
        }
    }

    /// Everyone on a ticket except `session` itself.
    pub fn viewers(&self, number: TicketNo, except_session: u64) -> Vec<Viewer> {
        let p = self.presence.lock();
        let mut v: Vec<Viewer> = p
            .sessions
            .iter()
            .filter(|(s, (_, n, _))| **s != except_session && *n == number)
            .map(|(_, (agent, _, activity))| Viewer {
                agent: agent.clone(),
                activity: *activity,
            })
            .collect();
        v.sort_by(|a, b| a.agent.cmp(&b.agent));
        v.dedup();
        v
    }
}
