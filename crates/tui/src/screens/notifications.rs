//! The agent's notification list (global key `N`, Part 10): newest first, unread in
//! bold; Enter opens the ticket and marks the notification read.

use super::{Ctx, Look};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::theme::Role;
use crate::widgets::list::{self, ScrollList, Words};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row};
use ratatui::Frame;
use sealdesk_api::{Change, DeskError};
use sealdesk_model::{sanitize, Notification};

#[derive(Clone, Copy)]
enum NotificationKey {
    Open,
    Back,
}

const MOVES: Words = Words {
    down: "next notification",
    up: "previous notification",
    top: "newest",
    bottom: "oldest",
};

const KEYS: &[Binding<NotificationKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        NotificationKey::Open,
        "open the ticket (marks it read)",
        Some("open"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        NotificationKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![list::help_section("Notifications", &MOVES, KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct NotificationsScreen {
    items: Vec<Notification>,
    list: ScrollList,
}

impl NotificationsScreen {
    pub(crate) fn open(ctx: &Ctx) -> Result<NotificationsScreen, DeskError> {
        Ok(NotificationsScreen {
            items: ctx.desk.notifications(&ctx.session.actor)?,
            list: ScrollList::default(),
        })
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        if self.list.handle_key(pressed, self.items.len()).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            NotificationKey::Open => {
                let n = self.items.get(self.list.selected())?.clone();
                if !n.read {
                    if let Err(e) = ctx.desk.mark_notification_read(&ctx.session.actor, n.seq) {
                        return Some(Action::Error(e.to_string()));
                    }
                    if let Some(item) = self.items.get_mut(self.list.selected()) {
                        item.read = true;
                    }
                }
                if n.ticket.0 == 0 {
                    // About the desk, not a ticket (a webhook disabled).
                    return Some(Action::Info(n.why.describe().to_string()));
                }
                Some(Action::OpenTicket(n.ticket))
            }
            NotificationKey::Back => Some(Action::Back),
        }
    }

    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        match ctx.desk.notifications(&ctx.session.actor) {
            Ok(items) => self.items = items,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        self.list.clamp(self.items.len());
        None
    }

    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Notified(name) if *name == ctx.session.agent.name => self.refresh(ctx),
            _ => None,
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let unread = self.items.iter().filter(|n| !n.read).count();
        let block = Block::bordered()
            .title(format!(
                " Notifications ({} unread of {}) ",
                unread,
                self.items.len()
            ))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.items.is_empty() {
            let text = Line::styled(
                "No notifications yet. Choose what you are told about with O.",
                theme.style(Role::Muted),
            );
            frame.render_widget(Paragraph::new(text), inner);
            return;
        }
        let window = self
            .list
            .keep_in_view((inner.height as usize).saturating_sub(1), self.items.len());
        let rows = self.items[window].iter().map(|n| {
            let by = n
                .cause
                .as_deref()
                .map(|c| sanitize::line(c).into_owned())
                .unwrap_or_else(|| "-".into());
            let row = Row::new([
                Cell::from(if n.read { " " } else { "●" }),
                Cell::from(n.at.age_at(look.now)),
                Cell::from(if n.ticket.0 == 0 {
                    "-".to_string()
                } else {
                    n.ticket.to_string()
                }),
                Cell::from(n.why.describe()),
                Cell::from(by),
            ]);
            if n.read {
                row
            } else {
                row.style(theme.style(Role::Base).add_modifier(Modifier::BOLD))
            }
        });
        let widths = [
            Constraint::Length(1),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(30),
            Constraint::Fill(1),
        ];
        let header = Row::new(["", "age", "ticket", "why", "by"]);
        self.list
            .render_table(frame, inner, theme, header, rows, widths);
    }
}
