//! Quarantine, for admins: mail that could not (or must not) become a ticket, with the
//! reason. Admins look at the headers, release a message (it is filed, skipping the
//! size, loop and rate rules) or delete it for good. Nothing that arrives is dropped
//! without someone deciding so here or with `sealdesk quarantine`.

use super::{Ctx, Look};
use crate::action::{Action, Choice};
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::popups::{Confirm, Popup};
use crate::theme::Role;
use crate::widgets::list::{self, ScrollList, Words};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Wrap};
use ratatui::Frame;
use sealdesk_api::{Change, DeskError};
use sealdesk_model::sanitize;
use sealdesk_model::{AgentRole, QuarantineId, QuarantineItem};

#[derive(Clone, Copy)]
enum QuarantineKey {
    Release,
    Delete,
    Back,
}

const MOVES: Words = Words {
    down: "next message",
    up: "previous message",
    top: "first message",
    bottom: "last message",
};

const KEYS: &[Binding<QuarantineKey>] = &[
    bind(
        &[ch('r')],
        QuarantineKey::Release,
        "release: file it as a ticket message after all",
        Some("release"),
    ),
    bind(
        &[ch('d')],
        QuarantineKey::Delete,
        "delete it for good",
        Some("delete"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        QuarantineKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![list::help_section("Quarantine", &MOVES, KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct QuarantineScreen {
    items: Vec<QuarantineItem>,
    list: ScrollList,
}

impl QuarantineScreen {
    /// Admins only: quarantined mail is unfiltered personal data of unknown senders.
    pub(crate) fn open(ctx: &Ctx) -> Result<QuarantineScreen, DeskError> {
        if ctx.session.agent.role != AgentRole::Admin {
            return Err(DeskError::Invalid(
                "only an admin can look at the quarantine".into(),
            ));
        }
        Ok(QuarantineScreen {
            items: ctx.desk.quarantine()?,
            list: ScrollList::default(),
        })
    }

    fn current(&self) -> Option<QuarantineId> {
        self.items.get(self.list.selected()).map(|i| i.id)
    }

    pub(crate) fn handle_key(&mut self, pressed: KeyEvent) -> Option<Action> {
        if self.list.handle_key(pressed, self.items.len()).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            QuarantineKey::Release => {
                let id = self.current()?;
                Some(Action::Choice(Choice::QuarantineRelease(id)))
            }
            QuarantineKey::Delete => {
                let id = self.current()?;
                Some(Action::popup(Popup::Confirm(Confirm::new(
                    format!("Delete {id} for good? It cannot be released afterwards."),
                    Action::Choice(Choice::QuarantineDelete(id)),
                ))))
            }
            QuarantineKey::Back => Some(Action::Back),
        }
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        let actor = &ctx.session.actor;
        let done = match choice {
            Choice::QuarantineRelease(id) => ctx
                .desk
                .release_quarantine(actor, &id)
                .map(|filed| format!("released {id}: {}", filed)),
            Choice::QuarantineDelete(id) => ctx
                .desk
                .delete_quarantine(actor, &id)
                .map(|()| format!("deleted {id}")),
            _ => return None,
        };
        let refreshed = self.refresh(ctx);
        Some(match done {
            Ok(message) => refreshed.unwrap_or(Action::Info(message)),
            Err(e) => Action::Error(e.to_string()),
        })
    }

    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        match ctx.desk.quarantine() {
            Ok(items) => self.items = items,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        self.list.clamp(self.items.len());
        None
    }

    /// New mail may have been quarantined meanwhile.
    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Ticket(_) => self.refresh(ctx),
            Change::Agents | Change::Presence(_) | Change::Notified(_) => None,
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let block = Block::bordered()
            .title(format!(" Quarantine ({}) ", self.items.len()))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.items.is_empty() {
            let text = Line::styled(
                "Quarantine is empty: every message became a ticket message.",
                theme.style(Role::Muted),
            );
            frame.render_widget(Paragraph::new(text), inner);
            return;
        }
        let [list_area, detail_area] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Fill(1)]).areas(inner);
        // One line goes to the header row.
        let window = self.list.keep_in_view(
            (list_area.height as usize).saturating_sub(1),
            self.items.len(),
        );
        let rows = self.items[window].iter().map(|i| {
            Row::new([
                Cell::from(i.received.age_at(look.now)),
                Cell::from(format!("{} B", i.raw.len())),
                Cell::from(sanitize::line(&i.envelope_from).into_owned()),
                Cell::from(sanitize::line(&i.reason).into_owned()),
            ])
        });
        let widths = [
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(24),
            Constraint::Fill(1),
        ];
        let header = Row::new(["age", "size", "envelope from", "reason"]);
        self.list
            .render_table(frame, list_area, theme, header, rows, widths);

        if let Some(item) = self.items.get(self.list.selected()) {
            let text = String::from_utf8_lossy(&item.raw);
            let headers = text
                .split("\r\n\r\n")
                .next()
                .unwrap_or("")
                .split("\n\n")
                .next()
                .unwrap_or("");
            let mut lines = vec![
                Line::styled(
                    format!(
                        "{} · {} · from {}",
                        item.id,
                        item.received,
                        sanitize::line(&item.source)
                    ),
                    theme.style(Role::Muted),
                ),
                Line::styled(
                    format!("reason: {}", sanitize::line(&item.reason)),
                    theme.style(Role::MessageError),
                ),
            ];
            lines.extend(
                sanitize::multiline(headers)
                    .lines()
                    .map(|l| Line::raw(l.to_string())),
            );
            let detail = Paragraph::new(lines)
                .block(
                    Block::bordered()
                        .title(" headers ")
                        .border_style(theme.style(Role::Border)),
                )
                .wrap(Wrap { trim: false });
            frame.render_widget(detail, detail_area);
        }
    }
}
