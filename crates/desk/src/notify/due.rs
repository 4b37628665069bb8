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
