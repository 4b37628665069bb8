//! Splitting a message off (`X`) and linking this ticket to another (`K`) on the ticket
//! screen. The steps travel as [`Choice::Links`] back to the screen, which carries them
//! out with the desk; the header shows the links ("related #7 · duplicate of #3").

use super::TicketScreen;
use crate::action::{Action, Choice};
use crate::popups::{Confirm, Picker, Popup, Prompt};
use crate::screens::Ctx;
use sealdesk_api::{link_words, ThreadEntry};
use sealdesk_model::{sanitize, Author, LinkKind, TicketNo};

/// One step of a split or a link, answered by a popup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkStep {
    /// The message (by position) picked to split off: confirm it.
    SplitPicked(u32),
    /// Confirmed: split it off.
    Split(u32),
    /// Link as this kind (seen from this ticket): ask for the other ticket's number.
    AskNumber(LinkKind),
    /// The other ticket's number as typed.
    Link(LinkKind, String),
    /// Pick which link to take away.
    AskUnlink,
    Unlink(TicketNo),
}

fn choice(step: LinkStep) -> Action {
    Action::Choice(Choice::Links(step))
}

impl TicketScreen {
    /// `X`: the thread's messages to pick the one to split off.
    pub(super) fn split_picker(&self) -> Action {
        let n = self.ticket.number;
        let items: Vec<(String, Action)> = self
            .thread
            .iter()
            .filter_map(|entry| match entry {
                ThreadEntry::Message(m) if !matches!(m.author, Author::System | Author::Erased) => {
                    Some(m)
                }
                _ => None,
            })
            .map(|m| {
                let first =
                    sanitize::line(m.text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""))
                        .chars()
                        .take(40)
                        .collect::<String>();
                let label = format!(
                    "{} · {} · {} · {first}",
                    m.seq,
                    m.kind.as_str(),
                    sanitize::line(&m.author.display())
                );
                (label, choice(LinkStep::SplitPicked(m.seq)))
            })
            .collect();
        if items.len() < 2 {
            return Action::Error(format!(
                "{n} has only one message: there is nothing to split it from"
            ));
        }
        Action::popup(Popup::Picker(Picker::new(
            format!("Split a message off {n} into a new ticket"),
            items,
            0,
        )))
    }

    /// `K`: link to another ticket, or take a link away.
    pub(super) fn link_menu(&self) -> Action {
        let n = self.ticket.number;
        let mut items = vec![
            (
                "related to…".to_string(),
                choice(LinkStep::AskNumber(LinkKind::Related)),
            ),
            (
                format!("{n} is a duplicate of…"),
                choice(LinkStep::AskNumber(LinkKind::DuplicateOf)),
            ),
        ];
        if !self.ticket.links.is_empty() {
            items.push(("unlink…".to_string(), choice(LinkStep::AskUnlink)));
        }
        Action::popup(Popup::Picker(Picker::new(format!("Link {n}"), items, 0)))
    }

    pub(super) fn link_step(&mut self, ctx: &Ctx, step: LinkStep) -> Option<Action> {
        let (desk, actor, n) = (ctx.desk, &ctx.session.actor, self.ticket.number);
        match step {
            LinkStep::SplitPicked(seq) => Some(Action::popup(Popup::Confirm(Confirm::new(
                format!("Split message {seq} off {n} into a new ticket for the same customer?"),
                choice(LinkStep::Split(seq)),
            )))),
            LinkStep::Split(seq) => match desk.split(actor, n, seq) {
                Ok(split) => {
                    let done = format!(
                        "message {seq} split off into {} (linked as related)",
                        split.number
                    );
                    self.after(ctx, Ok(()), done)
                }
                Err(e) => Some(Action::Error(e.to_string())),
            },
            LinkStep::AskNumber(kind) => {
                let submit: fn(String) -> Action = match kind {
                    LinkKind::DuplicateOf => |t| choice(LinkStep::Link(LinkKind::DuplicateOf, t)),
                    _ => |t| choice(LinkStep::Link(LinkKind::Related, t)),
                };
                let title = match kind {
                    LinkKind::DuplicateOf => format!("{n} is a duplicate of ticket number"),
                    _ => format!("Link {n} as related to ticket number"),
                };
                Some(Action::popup(Popup::Prompt(Prompt::new(title, "", submit))))
            }
            LinkStep::Link(kind, typed) => {
                let other: TicketNo = match typed.trim().parse() {
                    Ok(other) => other,
                    Err(problem) => return Some(Action::Error(problem.to_string())),
                };
                let done = link_words(&sealdesk_model::TicketLink { kind, other });
                let result = desk.link(actor, n, other, kind);
                self.after(ctx, result, format!("{n} is {done} now"))
            }
            LinkStep::AskUnlink => {
                let items = self
                    .ticket
                    .links
                    .iter()
                    .map(|l| (link_words(l), choice(LinkStep::Unlink(l.other))))
                    .collect();
                Some(Action::popup(Popup::Picker(Picker::new(
                    format!("Unlink {n} from"),
                    items,
                    0,
                ))))
            }
            LinkStep::Unlink(other) => {
                let result = desk.unlink(actor, n, other);
                self.after(ctx, result, format!("{n} and {other} are no longer linked"))
            }
        }
    }
}
