//! Every privacy request, the most urgent open one first (as the desk sorts them):
//! overdue and due-within-three-days rows carry the words "OVERDUE" and "due soon" as
//! well as their colour, so they stand out on a monochrome terminal too.
//!
//! Requests are few next to tickets; the list is read whole and drawn a window at a time.

use super::{Ctx, Look};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::privacy::{due_text, urgency_marker};
use crate::theme::Role;
use crate::widgets::list::{self, ScrollList, Words};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row};
use ratatui::Frame;
use sealdesk_api::{urgency, Change, DeskError, RequestRow};
use sealdesk_model::sanitize;

#[derive(Clone, Copy)]
enum RequestsKey {
    Open,
    Back,
}

const MOVES: Words = Words {
    down: "next request",
    up: "previous request",
    top: "first request",
    bottom: "last request",
};

const KEYS: &[Binding<RequestsKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        RequestsKey::Open,
        "open the request: verify, extend, complete, deny, export",
        Some("open"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        RequestsKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![list::help_section("Privacy requests", &MOVES, KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct RequestsScreen {
    rows: Vec<RequestRow>,
    list: ScrollList,
}

impl RequestsScreen {
    pub(crate) fn open(ctx: &Ctx) -> Result<RequestsScreen, DeskError> {
        Ok(RequestsScreen {
            rows: ctx.desk.request_rows()?,
            list: ScrollList::default(),
        })
    }

    pub(crate) fn handle_key(&mut self, pressed: KeyEvent) -> Option<Action> {
        if self.list.handle_key(pressed, self.rows.len()).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            RequestsKey::Open => self
                .rows
                .get(self.list.selected())
                .map(|row| Action::OpenRequest(row.request.id)),
            RequestsKey::Back => Some(Action::Back),
        }
    }

    /// Re-reads the list, keeping the selected request selected.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let before = self.rows.get(self.list.selected()).map(|r| r.request.id);
        match ctx.desk.request_rows() {
            Ok(rows) => self.rows = rows,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        let found = before.and_then(|id| self.rows.iter().position(|r| r.request.id == id));
        let at = found.unwrap_or(self.list.selected());
        self.list.select(at, self.rows.len());
        None
    }

    /// A ticket changed: a request on it may have moved on, or a customer been erased.
    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Ticket(_) => self.refresh(ctx),
            Change::Agents | Change::Presence(_) | Change::Notified(_) => None,
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let overdue = self
            .rows
            .iter()
            .filter(|r| urgency(&r.request, look.now) == sealdesk_api::Urgency::Overdue)
            .count();
        let mut title = format!(" Privacy requests ({}) ", self.rows.len());
        if overdue > 0 {
            title.push_str(&format!("· {overdue} OVERDUE "));
        }
        let title_role = if overdue > 0 {
            Role::Overdue
        } else {
            Role::Title
        };
        let block = Block::bordered()
            .title(title)
            .title_style(theme.style(title_role))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.rows.is_empty() {
            let text = Line::styled(
                "No privacy requests. Open one from a ticket or a customer with P.",
                theme.style(Role::Muted),
            );
            frame.render_widget(Paragraph::new(text), inner);
            return;
        }
        // One line goes to the header row.
        let window = self
            .list
            .keep_in_view((inner.height as usize).saturating_sub(1), self.rows.len());
        let rows = self.rows[window].iter().map(|row| {
            let r = &row.request;
            let (marker, role) = urgency_marker(urgency(r, look.now));
            let ticket = match r.ticket {
                Some(n) => n.to_string(),
                None => "-".into(),
            };
            Row::new([
                Cell::from(marker).style(theme.style(role)),
                Cell::from(r.kind.as_str()),
                Cell::from(r.status.as_str()),
                Cell::from(sanitize::line(row.customer_label.as_str()).into_owned()),
                Cell::from(ticket),
                Cell::from(due_text(r.due, look.now)).style(theme.style(role)),
            ])
        });
        let widths = [
            Constraint::Length(8),
            Constraint::Length(19),
            Constraint::Length(11),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(20),
        ];
        let header = Row::new(["", "kind", "status", "customer", "ticket", "due"]);
        self.list
            .render_table(frame, inner, theme, header, rows, widths);
    }
}
