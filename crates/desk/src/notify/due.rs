//! Due soon and breached: a ticket's due time (`Ticket::due`, set by SLA policies or
//! by hand) compared with the clock. Each is told once per due value: a new due time
//! (a reply, a policy, a hand) can cause both again. Solved, closed and pending tickets
//! are left alone (pending pauses the clock).

use super::super::write::Hold;
use super::super::{Actor, Desk, Result};
use super::{Event, Why};
use sealdesk_model::{Status, TicketNo, Timestamp};
use sealdesk_store::DueMark;

impl Desk {
    /// Notifies of every due time that came near or passed by `now`; returns how many
    /// events that made.
    pub fn check_due_times(&self, now: Timestamp) -> Result<usize> {
        let soon = self.config().notify.due_soon_minutes as i64 * 60;
        let rows = self.queue(&Default::default())?;
        let mut events: Vec<(TicketNo, DueMark, Why)> = Vec::new();
        for row in rows {
            let t = &row.ticket;
            let Some(due) = t.due else { continue };
            if matches!(t.status, Status::Solved | Status::Closed | Status::Pending) {
                continue;
            }
            let mark = match self.store.due_mark(t.number)? {
                Some(m) if m.due == due => m,
                _ => DueMark {
                    due,
                    soon: false,
                    breached: false,
                },
            };
            if now.0 >= due.0 && !mark.breached {
                let next = DueMark {
                    due,
                    soon: true,
                    breached: true,
                };
                events.push((t.number, next, Why::Breached));
            } else if now.0 < due.0 && now.0 >= due.0 - soon && !mark.soon {
                let next = DueMark { soon: true, ..mark };
                events.push((t.number, next, Why::DueSoon));
            }
        }
        if events.is_empty() {
            return Ok(0);
        }
        self.write(&Actor::system("due times"), &[Hold::Settings], |u| {
            for (number, mark, _) in &events {
                u.tx.put_due_mark(*number, mark)?;
            }
            Ok(())
        })?;
        for (number, _, why) in &events {
            self.notify(Event::new(*number, *why, None));
        }
        Ok(events.len())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{self, public_key_line};
    use crate::write::Hold;
    use crate::{Actor, Desk, NewTicket};
    use sealdesk_model::{AgentRole, NotifyWhy, TicketNo, Timestamp};

    fn set_due(desk: &Desk, n: TicketNo, due: Option<Timestamp>) {
        desk.write(&Actor::local_admin(), &[Hold::Ticket(n)], |u| {
            let mut t = crate::triage::load_ticket(u, n)?;
            t.due = due;
            u.tx.put_workflow(&t)?;
            u.touch(n);
            Ok(())
        })
        .unwrap();
    }

    fn whys(desk: &Desk, name: &str) -> Vec<NotifyWhy> {
        let actor = Actor::agent(name, None, "test");
        desk.notifications(&actor)
            .unwrap()
            .into_iter()
            .map(|n| n.why)
            .collect()
    }

    #[test]
    fn due_soon_and_breached_reach_the_assignee_once_per_due_value() {
        let dir = tempfile::tempdir().unwrap();
        let desk = testing::desk(dir.path());
        let admin = Actor::local_admin();
        for (i, (name, role)) in [("alice", AgentRole::Agent), ("bob", AgentRole::Agent)]
            .into_iter()
            .enumerate()
        {
            desk.add_agent(&admin, name, role, &[public_key_line(i as u8 + 1)])
                .unwrap();
        }
        // Bob watches unassigned tickets.
        desk.set_notify_prefs(&admin, "bob", "+new").unwrap();
        let new = |subject: &str| {
            desk.create_ticket(
                &admin,
                NewTicket {
                    from: "ada@example.com",
                    name: "Ada",
                    subject,
                    body: "hello",
                    message_id: None,
                },
            )
            .unwrap()
            .0
            .number
        };
        let mine = new("one");
        let nobodys = new("two");
        assert_eq!(whys(&desk, "bob"), vec![NotifyWhy::NewTicket; 2]);
        desk.assign(&admin, mine, Some("alice")).unwrap();
        let now = Timestamp::now();
        set_due(&desk, mine, Some(Timestamp(now.0 + 1800)));
        set_due(&desk, nobodys, Some(Timestamp(now.0 + 1800)));

        assert_eq!(desk.check_due_times(Timestamp(now.0 - 3600)).unwrap(), 0);
        assert_eq!(desk.check_due_times(now).unwrap(), 2);
        assert_eq!(desk.check_due_times(now).unwrap(), 0, "once per due value");
        assert_eq!(
            whys(&desk, "alice"),
            vec![NotifyWhy::DueSoon, NotifyWhy::Assigned]
        );
        assert_eq!(
            whys(&desk, "bob")[0],
            NotifyWhy::DueSoon,
            "unassigned: the watchers"
        );
        assert_eq!(desk.check_due_times(Timestamp(now.0 + 1801)).unwrap(), 2);
        assert_eq!(desk.check_due_times(Timestamp(now.0 + 1900)).unwrap(), 0);
        assert_eq!(whys(&desk, "alice")[0], NotifyWhy::Breached);

        // A new due value starts over; "sla" off silences it.
        set_due(&desk, mine, Some(Timestamp(now.0 + 7200)));
        desk.set_notify_prefs(&admin, "bob", "-sla").unwrap();
        set_due(&desk, nobodys, Some(Timestamp(now.0 + 7200)));
        assert_eq!(desk.check_due_times(Timestamp(now.0 + 7300)).unwrap(), 2);
        assert_eq!(whys(&desk, "alice")[0], NotifyWhy::Breached);
        assert_eq!(whys(&desk, "alice").len(), 4);
        assert_eq!(whys(&desk, "bob").len(), 4, "bob heard nothing more");
    }
}
