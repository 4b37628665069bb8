//! Queue markers (Part 10): each ticket's activity and when each agent last opened it.
//!
//! Operations that make activity call [`Unit::activity`](crate::write::Unit) (messages
//! in `triage` and `inbound`, changes in `triage`); the unit stages the ticket's new
//! [`TicketActivity`] before it commits, and the queue row carries it. The rule of
//! what counts is in `sealdesk_model::marks`. Opening a ticket in the TUI calls
//! [`Desk::mark_seen`]; each agent's seen counts are kept in memory here once read, so
//! a session asks for them without reading the store.

use super::{Actor, ActorKind, Desk, Result};
use crate::write::Hold;
use sealdesk_model::{ActivityKind, SeenMark, TicketNo, Timestamp};
use sealdesk_store::Tx;
use std::collections::HashMap;
use std::sync::Arc;

/// One agent's seen counts, by ticket.
pub type SeenCounts = Arc<HashMap<TicketNo, u64>>;

/// Stages the new activity of every ticket in `activity` (one bump per ticket and
/// unit, with all its kinds).
pub(crate) fn stage_activity(
    tx: &mut Tx<'_>,
    actor: &str,
    activity: &[(TicketNo, ActivityKind)],
) -> Result<()> {
    let mut tickets: Vec<TicketNo> = activity.iter().map(|(n, _)| *n).collect();
    tickets.sort_unstable();
    tickets.dedup();
    let now = Timestamp::now();
    for n in tickets {
        let kinds: Vec<ActivityKind> = activity
            .iter()
            .filter(|(t, _)| *t == n)
            .map(|(_, k)| *k)
            .collect();
        let mut a = tx.store().ticket_activity(n)?;
        a.bump(actor, &kinds, now);
        tx.put_ticket_activity(n, &a)?;
    }
    Ok(())
}

impl Desk {
    /// `actor` opened ticket `number` and saw all there is: their seen count becomes
    /// the ticket's activity count (audited as `ticket.seen`). Nothing is written when
    /// nothing is new to them. Returns the count seen. Only agents have markers.
    pub fn mark_seen(&self, actor: &Actor, number: TicketNo) -> Result<u64> {
        if actor.kind != ActorKind::Agent {
            return Ok(0);
        }
        let activity = self.store.ticket_activity(number)?;
        let known = self.seen_counts(actor)?;
        let seen = known.get(&number).copied().unwrap_or(0);
        if !activity.unread_for(&actor.name, seen) {
            return Ok(seen);
        }
        let count = self.write(actor, &[Hold::Ticket(number)], |u| {
            let count = u.tx.store().ticket_activity(number)?.count;
            let mark = SeenMark {
                count,
                at: Timestamp::now(),
            };
            u.tx.put_seen_mark(&actor.name, number, &mark)?;
            u.audit("ticket.seen", vec![number.to_string()], None);
            Ok(count)
        })?;
        let mut cache = self.seen.lock();
        if let Some(counts) = cache.get_mut(&actor.name) {
            Arc::make_mut(counts).insert(number, count);
        }
        Ok(count)
    }

    /// The activity count `actor` saw on each ticket they opened (read once from the
    /// store, then kept current by [`Desk::mark_seen`]).
    pub fn seen_counts(&self, actor: &Actor) -> Result<SeenCounts> {
        if let Some(counts) = self.seen.lock().get(&actor.name) {
            return Ok(Arc::clone(counts));
        }
        let read: HashMap<TicketNo, u64> = self
            .store
            .seen_marks(&actor.name)?
            .into_iter()
            .map(|(n, m)| (n, m.count))
            .collect();
        let mut cache = self.seen.lock();
        let counts = cache
            .entry(actor.name.clone())
            .or_insert_with(|| Arc::new(read));
        Ok(Arc::clone(counts))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::desk;
    use crate::{Actor, NewTicket};

    #[test]
    fn a_ticket_is_unread_until_opened_and_own_changes_are_not_news() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let alice = Actor::agent("alice", None, "test");
        let bob = Actor::agent("bob", None, "test");
        let n = desk
            .create_ticket(
                &Actor::local_admin(),
                NewTicket {
                    from: "ann@example.com",
                    name: "Ann",
                    subject: "Printer",
                    body: "It smokes.",
                    message_id: None,
                },
            )
            .unwrap()
            .0
            .number;
        let row = || desk.queue_row(n).unwrap().unwrap();
        let seen = |who: &Actor| desk.seen_counts(who).unwrap().get(&n).copied().unwrap_or(0);
        assert!(row().activity.unread_for("alice", seen(&alice)));
        desk.mark_seen(&alice, n).unwrap();
        assert!(!row().activity.unread_for("alice", seen(&alice)));
        desk.add_note(&alice, n, "on it").unwrap();
        assert!(
            !row().activity.unread_for("alice", seen(&alice)),
            "own note"
        );
        assert!(row().activity.unread_for("bob", seen(&bob)));
        let before = crate::testing::audit_events(&desk).len();
        desk.mark_seen(&alice, n).unwrap();
        assert_eq!(
            crate::testing::audit_events(&desk).len(),
            before,
            "nothing new: nothing written"
        );
        assert!(!row().customer_replied());
        desk.add_reply(&alice, n, "Unplug it.").unwrap();
        assert!(!row().customer_replied());
    }
}
