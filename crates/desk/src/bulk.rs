//! Bulk actions: one change applied to several tickets (the queue's marked ones).
//!
//! Each ticket is changed in its own unit of work by the same operation a single
//! change uses (so the same role rules, and one audit event per ticket of the same
//! kind, `ticket.status` and so on): a ticket that fails (gone, refused) does not undo
//! or stop the others, and the outcome says what happened to each.

use super::triage::clean_tags;
use super::{Actor, BulkChange, BulkOutcome, Desk, DeskError, Result};
use sealdesk_model::{sanitize, TagChange, Ticket, TicketNo};

/// The most tickets one bulk action takes: more is surely a slip of the finger.
pub const BULK_MAX: usize = 10_000;

impl Desk {
    /// Applies `change` to each of `tickets` (duplicates once, in the order given).
    /// What would fail on every ticket (an agent who does not exist, a macro that
    /// cannot be applied) fails before any is changed.
    pub fn bulk(
        &self,
        actor: &Actor,
        tickets: &[TicketNo],
        change: &BulkChange,
    ) -> Result<BulkOutcome> {
        let mut numbers: Vec<TicketNo> = Vec::with_capacity(tickets.len());
        for &n in tickets {
            if !numbers.contains(&n) {
                numbers.push(n);
            }
        }
        if numbers.is_empty() {
            return Err(DeskError::Invalid(
                "no ticket given: mark tickets first (Space, or * for all)".into(),
            ));
        }
        if numbers.len() > BULK_MAX {
            return Err(DeskError::Invalid(format!(
                "{} tickets are more than one bulk action takes ({BULK_MAX}): narrow the filter",
                numbers.len()
            )));
        }
        if let BulkChange::MergeInto(into) = change {
            if self.store.ticket(*into)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "there is no ticket {into} to merge into: check the number"
                )));
            }
            numbers.retain(|n| n != into);
            if numbers.is_empty() {
                return Err(DeskError::Invalid(format!(
                    "only {into} is marked: mark the tickets to merge into it too"
                )));
            }
        }
        let each = |f: &dyn Fn(TicketNo) -> Result<Ticket>| -> BulkOutcome {
            numbers
                .iter()
                .map(|&n| (n, f(n).map(|_| change.done())))
                .collect()
        };
        Ok(match change {
            BulkChange::Status(status) => each(&|n| self.set_status(actor, n, *status)),
            BulkChange::Priority(priority) => each(&|n| self.set_priority(actor, n, *priority)),
            BulkChange::Assign(agent) => {
                if let Some(name) = agent {
                    if self.store.agent_by_name(name)?.is_none() {
                        return Err(DeskError::NotFound(format!(
                            "no agent named {}: pick one from the agent list",
                            sanitize::line(name)
                        )));
                    }
                }
                each(&|n| self.assign(actor, n, agent.as_deref()))
            }
            BulkChange::Tags(changes) => {
                if changes.is_empty() {
                    return Err(DeskError::Invalid(
                        "no tag change given: type +tag to add, -tag to take off".into(),
                    ));
                }
                // Refused at once rather than on every ticket.
                clean_tags(&TagChange::added(changes))?;
                each(&|n| self.change_tags(actor, n, changes))
            }
            BulkChange::Macro(name) => self.apply_macro(actor, name, &numbers)?,
            BulkChange::MergeInto(into) => each(&|n| self.merge(actor, n, *into)),
        })
    }

    /// Adds and takes off tags, leaving the others: read and written in one unit, so
    /// a change made meanwhile by someone else is kept. Audited as `ticket.tags`.
    pub fn change_tags(
        &self,
        actor: &Actor,
        number: TicketNo,
        changes: &[TagChange],
    ) -> Result<Ticket> {
        self.change_ticket(actor, number, "ticket.tags", |t| {
            let mut tags = t.tags.clone();
            for change in changes {
                change.apply(&mut tags);
            }
            t.tags = clean_tags(&tags)?;
            Ok(vec![format!("tags={}", sealdesk_api::tag_words(changes))])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::audit_events;
    use sealdesk_model::Status;

    fn desk() -> (tempfile::TempDir, Desk) {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        (dir, desk)
    }

    fn admin() -> Actor {
        Actor::local_admin()
    }

    fn ticket(desk: &Desk, from: &str) -> TicketNo {
        crate::testing::new_ticket(desk, from, "s", "b")
    }

    fn count_actions(desk: &Desk, action: &str) -> usize {
        audit_events(desk)
            .iter()
            .filter(|e| e.action == action)
            .count()
    }

    #[test]
    fn a_bulk_close_changes_each_ticket_in_its_own_audited_unit() {
        let (_dir, desk) = desk();
        let admin = admin();
        let a = ticket(&desk, "a@example.com");
        let b = ticket(&desk, "b@example.com");
        let outcome = desk
            .bulk(
                &admin,
                &[a, b, a, TicketNo(999)],
                &BulkChange::Status(Status::Closed),
            )
            .unwrap();
        assert_eq!(outcome.len(), 3);
        assert!(outcome[0].1.is_ok() && outcome[1].1.is_ok());
        assert!(matches!(outcome[2].1, Err(DeskError::NotFound(_))));
        for n in [a, b] {
            assert_eq!(
                desk.store.ticket(n).unwrap().unwrap().status,
                Status::Closed
            );
        }
        assert_eq!(count_actions(&desk, "ticket.status"), 2);
        assert_eq!(
            sealdesk_api::bulk_summary(&BulkChange::Status(Status::Closed), &outcome),
            "2 closed; #999 failed: there is no ticket #999: check the number"
        );
    }

    #[test]
    fn bulk_tags_add_and_take_off_leaving_the_others() {
        let (_dir, desk) = desk();
        let admin = admin();
        let a = ticket(&desk, "a@example.com");
        desk.set_tags(&admin, a, &["keep".into(), "old".into()])
            .unwrap();
        let change = BulkChange::Tags(vec![
            TagChange::Add("vip".into()),
            TagChange::Remove("old".into()),
        ]);
        desk.bulk(&admin, &[a], &change).unwrap();
        assert_eq!(desk.store.ticket(a).unwrap().unwrap().tags, ["keep", "vip"]);
        let bad = BulkChange::Tags(vec![TagChange::Add("a,b".into())]);
        assert!(desk.bulk(&admin, &[a], &bad).is_err());
        let nobody = BulkChange::Assign(Some("nobody".into()));
        assert!(matches!(
            desk.bulk(&admin, &[a], &nobody),
            Err(DeskError::NotFound(_))
        ));
    }

    #[test]
    fn a_bulk_merge_moves_every_other_ticket_into_the_chosen_one() {
        let (_dir, desk) = desk();
        let admin = admin();
        let a = ticket(&desk, "a@example.com");
        let b = ticket(&desk, "b@example.com");
        let c = ticket(&desk, "c@example.com");
        let outcome = desk
            .bulk(&admin, &[a, b, c], &BulkChange::MergeInto(b))
            .unwrap();
        assert_eq!(outcome.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [a, c]);
        assert!(outcome.iter().all(|(_, r)| r.is_ok()));
        assert_eq!(
            desk.store.ticket(a).unwrap().unwrap().status,
            Status::Closed
        );
        assert_eq!(count_actions(&desk, "ticket.merge"), 2);
        assert!(desk.bulk(&admin, &[b], &BulkChange::MergeInto(b)).is_err());
    }
}
