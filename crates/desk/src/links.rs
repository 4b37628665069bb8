//! Links between tickets: related, or one a duplicate of the other. Each end is held by
//! its own ticket (`Ticket::links`); both are written in one unit, so a link is never
//! seen from one side only. A merge moves the merged ticket's links to the target.

use super::triage::load_ticket;
use super::write::Unit;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_api::reverse_link;
use sealdesk_model::{LinkKind, Ticket, TicketLink, TicketNo, Timestamp};

/// Sets (or replaces) this ticket's link to `other`.
fn set_link(ticket: &mut Ticket, other: TicketNo, kind: LinkKind) {
    ticket.links.retain(|l| l.other != other);
    ticket.links.push(TicketLink { kind, other });
}

impl Desk {
    /// Links `number` to `other`; `kind` is as seen from `number` (`duplicate-of`: it
    /// is the duplicate), `other` holds the reverse. A link between the two is
    /// replaced. Returns both tickets.
    pub fn link(
        &self,
        actor: &Actor,
        number: TicketNo,
        other: TicketNo,
        kind: LinkKind,
    ) -> Result<(Ticket, Ticket)> {
        if number == other {
            return Err(DeskError::Invalid(
                "a ticket cannot be linked to itself: give another ticket number".into(),
            ));
        }
        self.write(actor, &[], |u| {
            let (mut here, mut there) = (load_ticket(u, number)?, load_ticket(u, other)?);
            set_link(&mut here, other, kind);
            set_link(&mut there, number, reverse_link(kind));
            store_both(u, &mut here, &mut there)?;
            for (t, o, k) in [(&here, other, kind), (&there, number, reverse_link(kind))] {
                let targets = vec![t.number.to_string(), format!("to={o}"), format!("as={k}")];
                u.audit("ticket.link", targets, Some(&t.customer));
            }
            Ok((here, there))
        })
    }

    /// Takes away the link between `number` and `other`, at both ends.
    pub fn unlink(
        &self,
        actor: &Actor,
        number: TicketNo,
        other: TicketNo,
    ) -> Result<(Ticket, Ticket)> {
        self.write(actor, &[], |u| {
            let (mut here, mut there) = (load_ticket(u, number)?, load_ticket(u, other)?);
            if !here.links.iter().any(|l| l.other == other) {
                return Err(DeskError::NotFound(format!(
                    "{number} is not linked to {other}: see its links with `sealdesk ticket show {}`",
                    number.0
                )));
            }
            here.links.retain(|l| l.other != other);
            there.links.retain(|l| l.other != number);
            store_both(u, &mut here, &mut there)?;
            for (t, o) in [(&here, other), (&there, number)] {
                let targets = vec![t.number.to_string(), format!("from={o}")];
                u.audit("ticket.unlink", targets, Some(&t.customer));
            }
            Ok((here, there))
        })
    }
}

fn store_both(u: &mut Unit<'_>, here: &mut Ticket, there: &mut Ticket) -> Result<()> {
    let now = Timestamp::now();
    for t in [here, there] {
        u.activity(t.number, sealdesk_model::ActivityKind::Change);
        t.updated = now;
        u.tx.put_workflow(t)?;
        u.touch(t.number);
    }
    Ok(())
}

/// Inside a merge of `source` into `target` (both held, stored by the caller): the
/// links of `source` move to `target`, and the tickets at their other ends point to
/// `target` instead (a link `target` already has to one of them is kept as it is). A
/// link between the two goes.
pub(super) fn move_links(u: &mut Unit<'_>, source: &mut Ticket, target: &mut Ticket) -> Result<()> {
    let (from, into) = (source.number, target.number);
    target.links.retain(|l| l.other != from);
    for link in std::mem::take(&mut source.links) {
        if link.other == into {
            continue;
        }
        let mut other = load_ticket(u, link.other)?;
        other.links.retain(|l| l.other != from);
        if !target.links.iter().any(|l| l.other == link.other) {
            target.links.push(link);
            other.links.push(TicketLink {
                kind: reverse_link(link.kind),
                other: into,
            });
        }
        u.tx.put_workflow(&other)?;
        u.touch(other.number);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(desk: &Desk, from: &str) -> TicketNo {
        crate::testing::new_ticket(desk, from, "s", "b")
    }

    fn links(desk: &Desk, n: TicketNo) -> String {
        sealdesk_api::links_line(&desk.store.ticket(n).unwrap().unwrap().links)
    }

    #[test]
    fn a_link_is_held_at_both_ends_and_follows_a_merge() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let admin = Actor::local_admin();
        let [a, b, c, d] = ["a", "b", "c", "d"].map(|x| ticket(&desk, &format!("{x}@example.com")));
        desk.link(&admin, b, a, LinkKind::DuplicateOf).unwrap();
        assert_eq!(links(&desk, b), "duplicate of #1");
        assert_eq!(links(&desk, a), "duplicated by #2");
        // Linking again replaces the link.
        desk.link(&admin, a, b, LinkKind::Related).unwrap();
        assert_eq!(
            (links(&desk, a), links(&desk, b)),
            ("related #2".into(), "related #1".into())
        );
        assert!(desk.link(&admin, a, a, LinkKind::Related).is_err());
        assert!(desk
            .link(&admin, a, TicketNo(99), LinkKind::Related)
            .is_err());
        assert_eq!(links(&desk, a), "related #2", "nothing half-done");

        // #3 is related to #1; #1 merged into #4: #3 is related to #4 now, and so is #2.
        desk.link(&admin, c, a, LinkKind::Related).unwrap();
        desk.link(&admin, a, d, LinkKind::Related).unwrap();
        desk.merge(&admin, a, d).unwrap();
        assert_eq!(links(&desk, a), "");
        assert_eq!(links(&desk, d), "related #2 · related #3");
        assert_eq!(links(&desk, c), "related #4");
        assert_eq!(links(&desk, b), "related #4");

        desk.unlink(&admin, d, c).unwrap();
        assert_eq!(
            (links(&desk, d), links(&desk, c)),
            ("related #2".into(), String::new())
        );
        assert!(matches!(
            desk.unlink(&admin, d, c),
            Err(DeskError::NotFound(_))
        ));
    }
}
