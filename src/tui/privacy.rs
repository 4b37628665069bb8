//! What several privacy screens share: opening a request (from a ticket or a customer),
//! writing an export archive, and how a request's urgency and due date read.
//! Kept here once so the ticket, customer and request screens cannot drift apart.

use super::action::{Action, Choice};
use super::display::day;
use super::popups::{Picker, Popup};
use super::screens::Ctx;
use super::theme::Role;
use crate::desk::{Authority, DeskError, Urgency};
use crate::model::{Customer, RequestId, RequestKind, RequestStatus, TicketNo, Timestamp};
use std::path::PathBuf;

/// The kinds of request, to pick one for a new request.
pub(crate) fn kind_picker(title: String) -> Action {
    let items = RequestKind::ALL
        .iter()
        .map(|&kind| {
            let label = format!("{kind}: {}", kind_help(kind));
            (label, Action::Choice(Choice::NewRequest(kind)))
        })
        .collect();
    Action::popup(Popup::Picker(Picker::new(title, items, 0)))
}

fn kind_help(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Access => "see what we hold",
        RequestKind::Export => "a copy to take elsewhere",
        RequestKind::Correction => "correct or complete data",
        RequestKind::Erasure => "delete, cancel the account",
        RequestKind::ConsentWithdrawal => "withdraw a consent",
        RequestKind::MarketingObjection => "stop marketing",
        RequestKind::Restriction => "stop use of their data",
    }
}

/// Opens a request of `kind` for `customer` (audited in the desk) and tells every
/// session; the answer names its due date and where to work on it.
pub(crate) fn open_request(
    ctx: &Ctx,
    customer: &Customer,
    kind: RequestKind,
    ticket: Option<TicketNo>,
) -> Action {
    match ctx
        .desk
        .open_request(&ctx.session.actor, customer, kind, ticket)
    {
        Ok(request) => Action::Info(format!(
            "{kind} request opened, due {}: R on the queue lists requests",
            day(request.due)
        )),
        Err(e) => Action::Error(e.to_string()),
    }
}

/// A request of this customer of one of `kinds` whose requester was verified (in one
/// of `statuses`): what lets an export or an erasure go ahead without an override.
pub(crate) fn verified_request(
    ctx: &Ctx,
    customer: &Customer,
    kinds: &[RequestKind],
    statuses: &[RequestStatus],
) -> Option<RequestId> {
    ctx.desk.requests().ok()?.into_iter().find_map(|r| {
        (r.customer == customer.id && kinds.contains(&r.kind) && statuses.contains(&r.status))
            .then_some(r.id)
    })
}

/// Exports everything about `customer` into a new archive in the exports directory,
/// if `authority` allows it (see `desk::Authority`); returns its path.
pub(crate) fn export(
    ctx: &Ctx,
    customer: &Customer,
    authority: &Authority,
) -> Result<PathBuf, String> {
    let files = ctx
        .desk
        .export_authorized(&ctx.session.actor, customer, authority)
        .map_err(|e: DeskError| e.to_string())?;
    let dir = crate::archive::exports_dir(&ctx.desk.store().paths().data);
    crate::store::create_private_dir(&dir).map_err(|e| e.to_string())?;
    let stem = format!("{}-{}", customer.id, Timestamp::now().0);
    // Two exports in the same second get their own files: archives are never overwritten.
    for n in 1..100 {
        let name = match n {
            1 => format!("{stem}.tar.gz"),
            n => format!("{stem}-{n}.tar.gz"),
        };
        let path = dir.join(name);
        match crate::archive::write_tar_gz(&files, &path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "the export could not be written to {} ({e}): check the disk",
                    path.display()
                ))
            }
        }
    }
    Err(format!(
        "too many exports of this customer in {}: wait a second and try again",
        dir.display()
    ))
}

/// The export archive's path as a status message.
pub(crate) fn exported(result: Result<PathBuf, String>) -> Action {
    match result {
        Ok(path) => Action::Info(format!("export written to {}", path.display())),
        Err(e) => Action::Error(e),
    }
}

/// A word for the urgency that survives a monochrome terminal, and its role.
pub(crate) fn urgency_marker(urgency: Urgency) -> (&'static str, Role) {
    match urgency {
        Urgency::Overdue => ("OVERDUE", Role::Overdue),
        Urgency::DueSoon => ("due soon", Role::DueSoon),
        Urgency::OnTime => ("", Role::Base),
        Urgency::Finished => ("done", Role::Muted),
    }
}

/// "2026-03-01 (in 4d)" or "2026-03-01 (2d late)".
pub(crate) fn due_text(due: Timestamp, now: Timestamp) -> String {
    if due < now {
        format!("{} ({} late)", day(due), due.age_at(now))
    } else {
        format!("{} (in {})", day(due), now.age_at(due))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_read_both_ways() {
        let now = Timestamp(10 * 86_400);
        assert_eq!(due_text(Timestamp(8 * 86_400), now), "1970-01-09 (2d late)");
        assert_eq!(due_text(now.plus_days(4), now), "1970-01-15 (in 4d)");
        assert_eq!(urgency_marker(Urgency::Overdue).0, "OVERDUE");
    }
}
