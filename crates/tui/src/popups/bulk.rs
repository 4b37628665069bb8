//! Bulk actions in the queue (`B`): a menu of what to change on the marked tickets
//! (status, priority, assignee, tags, a macro, a merge), the value, one confirmation for
//! the lot, then the desk changes each ticket in its own unit and the status line says
//! how it went ("3 closed; #7 failed: …").
//!
//! The steps travel as [`Choice::Bulk`] to the queue, which holds the tickets the action
//! is for and calls [`step`] with them; the popups never call the desk.

use super::{Confirm, Picker, Popup, Prompt};
use crate::action::{Action, Choice};
use crate::screens::Ctx;
use sealdesk_api::{bulk_summary, BulkChange};
use sealdesk_model::{sanitize, Priority, Status, TagChange, TicketNo};

/// What the bulk menu offers to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BulkField {
    Status,
    Priority,
    Assignee,
    Tags,
    Macro,
    Merge,
}

/// One step of a bulk action, answered by a popup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BulkStep {
    /// The menu's choice: ask for its value.
    Ask(BulkField),
    /// The tag changes as typed (`+vip -old`).
    Tags(String),
    /// The change chosen: ask once for the lot.
    Confirm(BulkChange),
    /// Confirmed: carry it out.
    Run(BulkChange),
}

fn choice(step: BulkStep) -> Action {
    Action::Choice(Choice::Bulk(step))
}

/// The menu for a bulk action on `count` tickets.
pub(crate) fn menu(count: usize) -> Action {
    let items = [
        ("status…", BulkField::Status),
        ("priority…", BulkField::Priority),
        ("assignee (or unassign)…", BulkField::Assignee),
        ("tags (+add -remove)…", BulkField::Tags),
        ("apply a macro…", BulkField::Macro),
        ("merge all into one of them…", BulkField::Merge),
    ]
    .into_iter()
    .map(|(label, field)| (label.to_string(), choice(BulkStep::Ask(field))))
    .collect();
    let title = match count {
        1 => "Change 1 ticket".to_string(),
        n => format!("Change {n} tickets"),
    };
    Action::popup(Popup::Picker(Picker::new(title, items, 0)))
}

/// Carries out one step for `tickets` (the marked ones, or the one selected).
pub(crate) fn step(ctx: &Ctx, tickets: &[TicketNo], step: BulkStep) -> Action {
    match step {
        BulkStep::Ask(field) => ask(ctx, tickets, field),
        BulkStep::Tags(typed) => {
            let changes: Vec<TagChange> = typed
                .split([' ', ','])
                .filter_map(TagChange::parse)
                .collect();
            if changes.is_empty() {
                return Action::Error(
                    "no tag change typed: +tag adds it, -tag takes it off".into(),
                );
            }
            confirm(tickets, BulkChange::Tags(changes))
        }
        BulkStep::Confirm(change) => confirm(tickets, change),
        BulkStep::Run(change) => run(ctx, tickets, &change),
    }
}

fn pick(title: String, items: Vec<(String, BulkChange)>) -> Action {
    let items = items
        .into_iter()
        .map(|(label, change)| (label, choice(BulkStep::Confirm(change))))
        .collect();
    Action::popup(Popup::Picker(Picker::new(title, items, 0)))
}

fn ask(ctx: &Ctx, tickets: &[TicketNo], field: BulkField) -> Action {
    match field {
        BulkField::Status => pick(
            "Set status".into(),
            Status::ALL
                .iter()
                .map(|&s| (s.to_string(), BulkChange::Status(s)))
                .collect(),
        ),
        BulkField::Priority => pick(
            "Set priority".into(),
            Priority::ALL
                .iter()
                .map(|&p| (p.to_string(), BulkChange::Priority(p)))
                .collect(),
        ),
        BulkField::Assignee => {
            let agents = match ctx.desk.agents() {
                Ok(agents) => agents,
                Err(e) => return Action::Error(e.to_string()),
            };
            let mut items = vec![("(unassign)".to_string(), BulkChange::Assign(None))];
            items.extend(agents.into_iter().map(|a| {
                let label = sanitize::line(&a.name).into_owned();
                (label, BulkChange::Assign(Some(a.name)))
            }));
            pick("Assign to".into(), items)
        }
        BulkField::Tags => Action::popup(Popup::Prompt(
            Prompt::new("Tags: +add -remove", "", |typed| {
                choice(BulkStep::Tags(typed))
            })
            .with_detail(
                "Words with + (or none) are added, words with - taken off; the other tags stay.",
            ),
        )),
        BulkField::Macro => {
            let macros = match ctx.desk.macros(&ctx.session.actor) {
                Ok(macros) => macros,
                Err(e) => return Action::Error(e.to_string()),
            };
            if macros.is_empty() {
                return Action::Error(
                    "there are no macros yet: add one with `sealdesk macro add`".into(),
                );
            }
            pick(
                "Apply a macro".into(),
                macros
                    .into_iter()
                    .map(|m| {
                        let label = format!("{} — {}", sanitize::line(&m.name), m.summary());
                        (label, BulkChange::Macro(m.name))
                    })
                    .collect(),
            )
        }
        BulkField::Merge if tickets.len() < 2 => {
            Action::Error("mark the tickets to merge first (Space), then B".into())
        }
        BulkField::Merge => pick(
            "Merge the others into".into(),
            tickets
                .iter()
                .map(|&n| (n.to_string(), BulkChange::MergeInto(n)))
                .collect(),
        ),
    }
}

fn confirm(tickets: &[TicketNo], change: BulkChange) -> Action {
    let count = match change {
        BulkChange::MergeInto(into) => tickets.iter().filter(|&&n| n != into).count(),
        _ => tickets.len(),
    };
    let question = change.question(count);
    Action::popup(Popup::Confirm(Confirm::new(
        question,
        choice(BulkStep::Run(change)),
    )))
}

/// Applies the change and says how it went; the queue clears its marks
/// ([`Choice::MacroApplied`]).
fn run(ctx: &Ctx, tickets: &[TicketNo], change: &BulkChange) -> Action {
    let outcome = match ctx.desk.bulk(&ctx.session.actor, tickets, change) {
        Ok(outcome) => outcome,
        Err(e) => return Action::Error(e.to_string()),
    };
    let summary = bulk_summary(change, &outcome);
    let said = match outcome.iter().all(|(_, r)| r.is_ok()) {
        true => Action::Info(summary),
        false => Action::Error(summary),
    };
    Action::Many(vec![Action::Choice(Choice::MacroApplied), said])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_question_counts_what_the_change_reaches() {
        let tickets = [TicketNo(1), TicketNo(2), TicketNo(3)];
        let Action::Popup(popup) = confirm(&tickets, BulkChange::MergeInto(TicketNo(2))) else {
            panic!("a confirmation");
        };
        assert!(matches!(*popup, Popup::Confirm(_)));
        assert_eq!(
            BulkChange::Status(Status::Closed).question(3),
            "close 3 tickets?"
        );
        assert_eq!(
            BulkChange::MergeInto(TicketNo(2)).question(2),
            "merge 2 tickets into #2?"
        );
    }
}
