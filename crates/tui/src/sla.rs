//! Snooze (`z`) and due time by hand (`D`), the same on the queue and the ticket
//! screen: the prompts, what the answer does, and how a ticket's due time reads in
//! the ticket header.

use crate::action::{Action, Choice};
use crate::display::minute;
use crate::popups::{Popup, Prompt};
use crate::screens::Ctx;
use sealdesk_api::DeskError;
use sealdesk_model::sla::{due_words, time_left};
use sealdesk_model::{Ticket, TicketNo, Timestamp};

/// `z`: asks until when to snooze `ticket`.
pub(crate) fn snooze_prompt(ticket: &Ticket) -> Action {
    let title = match ticket.snoozed_until {
        Some(_) => format!("Snooze {} until (empty: wake it now)", ticket.number),
        None => format!(
            "Snooze {} until (2d, 4h, mon 9:00, 2026-12-03 10:00)",
            ticket.number
        ),
    };
    Action::popup(Popup::Prompt(Prompt::new(title, "", |text| {
        Action::Choice(Choice::Snooze(text))
    })))
}

/// `D`: asks for the due time of `ticket`.
pub(crate) fn due_prompt(ticket: &Ticket) -> Action {
    let title = format!(
        "Due time of {} (4h, 2d, 2026-12-03 10:00; empty: the SLA policy's)",
        ticket.number
    );
    Action::popup(Popup::Prompt(Prompt::new(title, "", |text| {
        Action::Choice(Choice::Due(text))
    })))
}

/// Carries out a snooze or due answer on `number`; None for any other choice.
pub(crate) fn apply(
    ctx: &Ctx,
    number: TicketNo,
    choice: &Choice,
) -> Option<Result<String, DeskError>> {
    let (desk, actor) = (ctx.desk, &ctx.session.actor);
    Some(match choice {
        Choice::Snooze(text) => desk
            .snooze(actor, number, text)
            .map(|t| match t.snoozed_until {
                Some(at) => format!(
                    "{number} snoozed until {} (in {})",
                    minute(at),
                    time_left(Timestamp::now(), at)
                ),
                None => format!("{number} is awake (open)"),
            }),
        Choice::Due(text) => {
            desk.set_due(actor, number, text)
                .map(|t| match (t.due_by_hand, t.due) {
                    (true, Some(due)) => format!("{number} is due {} (by hand)", minute(due)),
                    (_, Some(due)) => {
                        format!("{number}: the SLA policy's due time, {}", minute(due))
                    }
                    (_, None) => format!("{number}: no due time"),
                })
        }
        _ => return None,
    })
}

/// The snooze and due time for the ticket header: `snoozed until 2026-12-03 09:00
/// (in 2d)`, `due 2h`, `breached 15m (by hand)`; None when there is neither.
pub(crate) fn header_words(ticket: &Ticket, now: Timestamp) -> Option<(String, bool)> {
    if let Some(at) = ticket.snoozed_until {
        return Some((
            format!("snoozed until {} (in {})", minute(at), time_left(now, at)),
            false,
        ));
    }
    let due = ticket.due?;
    let by_hand = if ticket.due_by_hand { " (by hand)" } else { "" };
    Some((format!("{}{by_hand}", due_words(due, now)), due <= now))
}
