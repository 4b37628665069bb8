//! What several privacy screens share: opening a request (from a ticket or a customer),
//! making an export archive (kept sealed in the desk), and how a request's urgency and due date read.
//! Kept here once so the ticket, customer and request screens cannot drift apart.

use super::action::{Action, Choice};
use super::display::day;
use super::popups::{Picker, Popup};
use super::screens::Ctx;
use super::theme::Role;
use sealdesk_api::{Authority, DeskError, Urgency};
use sealdesk_model::{
    Customer, ExportRecord, RequestId, RequestKind, RequestStatus, TicketNo, Timestamp,
};

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

/// Exports everything about `customer` into a new archive kept sealed in the desk, if
/// `authority` allows it (see `desk::Authority`).
pub(crate) fn export(
    ctx: &Ctx,
    customer: &Customer,
    authority: &Authority,
) -> Result<ExportRecord, DeskError> {
    ctx.desk
        .create_export(&ctx.session.actor, customer, authority)
}

/// The stored export as a status message: where it is and how it gets out.
pub(crate) fn exported(result: Result<ExportRecord, DeskError>, customer: &Customer) -> Action {
    match result {
        Ok(r) => Action::Info(format!(
            "export {} kept sealed in the desk ({} bytes): `sealdesk customer exports {} --save {} --out FILE` writes it out",
            r.id,
            r.size,
            sealdesk_model::sanitize::line(customer.primary_email()),
            r.id
        )),
        Err(e) => Action::Error(e.to_string()),
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
