//! For the crate's unit tests: a real desk on disk with two agents, alice (agent) and
//! bob (admin). The whole-app tests in `tests/` have their own, richer fixture.

use crate::app::SessionInfo;
use sealdesk_desk::{Actor, Desk, NewTicket};
use sealdesk_model::{AgentRole, TicketNo};
use std::sync::Arc;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) desk: Arc<Desk>,
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let desk = sealdesk_desk::testing::desk(dir.path());
    for (seed, name, role) in [(1, "alice", AgentRole::Agent), (2, "bob", AgentRole::Admin)] {
        let line = sealdesk_desk::testing::public_key_line(seed);
        desk.add_agent(&Actor::local_admin(), name, role, &[line])
            .unwrap();
    }
    Fixture {
        _dir: dir,
        desk: Arc::new(desk),
    }
}

pub(crate) fn actor(name: &str) -> Actor {
    Actor::agent(name, None, "test")
}

impl Fixture {
    pub(crate) fn ticket(&self, from: &str, name: &str, subject: &str, body: &str) -> TicketNo {
        let new = NewTicket {
            from,
            name,
            subject,
            body,
            message_id: None,
        };
        self.desk
            .create_ticket(&actor("mail"), new)
            .unwrap()
            .0
            .number
    }

    pub(crate) fn session(&self, name: &str, id: u64) -> SessionInfo {
        SessionInfo {
            id,
            agent: self.desk.find_agent(name).unwrap().unwrap(),
            actor: actor(name),
            sftp: Some(format!("sftp -P 2222 {name}@desk.example:")),
        }
    }
}
