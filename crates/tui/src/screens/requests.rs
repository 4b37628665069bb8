//! Every privacy request, the most urgent open one first (as the desk sorts them):
//! overdue and due-within-three-days rows carry the words "OVERDUE" and "due soon" as
//! well as their colour, so they stand out on a monochrome terminal too.
//!
//! Requests are few next to tickets; the list is read whole and drawn a window at a time.

use super::{scroll_window, Ctx, Look};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::privacy::{due_text, urgency_marker};
use crate::theme::Role;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use sealdesk_desk::{urgency, Change, DeskError, RequestRow};
use sealdesk_model::sanitize;

#[derive(Clone, Copy)]
enum RequestsKey {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Back,
}

const KEYS: &[Binding<RequestsKey>] = &[
    bind(
        &[ch('j'), key(KeyCode::Down)],
        RequestsKey::Down,
        "next request",
        None,
    ),
    bind(
        &[ch('k'), key(KeyCode::Up)],
        RequestsKey::Up,
        "previous request",
        None,
    ),
    bind(
        &[key(KeyCode::PageDown)],
        RequestsKey::PageDown,
        "page down",
        None,
    ),
    bind(
        &[key(KeyCode::PageUp)],
        RequestsKey::PageUp,
        "page up",
        None,
    ),
    bind(
        &[ch('g'), key(KeyCode::Home)],
        RequestsKey::Top,
        "first request",
        None,
    ),
    bind(
        &[ch('G'), key(KeyCode::End)],
        RequestsKey::Bottom,
        "last request",
        None,
    ),
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
    vec![keymap::help_section("Privacy requests", KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct RequestsScreen {
    rows: Vec<RequestRow>,
    selected: usize,
    offset: usize,
    page: usize,
}

impl RequestsScreen {
    pub fn open(ctx: &Ctx) -> Result<RequestsScreen, DeskError> {
        Ok(RequestsScreen {
            rows: ctx.desk.request_rows()?,
            selected: 0,
            offset: 0,
            page: 10,
        })
    }

    pub fn handle_key(&mut self, pressed: KeyEvent) -> Option<Action> {
        let last = self.rows.len().saturating_sub(1);
        match lookup(KEYS, pressed)? {
            RequestsKey::Down => self.selected = (self.selected + 1).min(last),
            RequestsKey::Up => self.selected = self.selected.saturating_sub(1),
            RequestsKey::PageDown => self.selected = (self.selected + self.page).min(last),
            RequestsKey::PageUp => self.selected = self.selected.saturating_sub(self.page),
            RequestsKey::Top => self.selected = 0,
            RequestsKey::Bottom => self.selected = last,
            RequestsKey::Open => {
                return self
                    .rows
                    .get(self.selected)
                    .map(|row| Action::OpenRequest(row.request.id))
            }
            RequestsKey::Back => return Some(Action::Back),
        }
        None
    }

    /// Re-reads the list, keeping the selected request selected.
    pub fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let before = self.rows.get(self.selected).map(|r| r.request.id);
        match ctx.desk.request_rows() {
            Ok(rows) => self.rows = rows,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        let found = before.and_then(|id| self.rows.iter().position(|r| r.request.id == id));
        self.selected = found.unwrap_or(self.selected.min(self.rows.len().saturating_sub(1)));
        None
    }

    /// A ticket changed: a request on it may have moved on, or a customer been erased.
    pub fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Ticket(_) => self.refresh(ctx),
            Change::Agents | Change::Presence(_) => None,
        }
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let overdue = self
            .rows
            .iter()
            .filter(|r| urgency(&r.request, look.now) == sealdesk_desk::Urgency::Overdue)
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
        self.page = (inner.height as usize).saturating_sub(1).max(1);
        self.offset = scroll_window(self.selected, self.offset, self.page, self.rows.len());
        let rows = self
            .rows
            .iter()
            .skip(self.offset)
            .take(self.page)
            .map(|row| {
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
                    Cell::from(sanitize::line(&row.customer_label).into_owned()),
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
        let header = Row::new(["", "kind", "status", "customer", "ticket", "due"])
            .style(theme.style(Role::Header));
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(theme.style(Role::Selected));
        let mut state = TableState::default().with_selected(Some(self.selected - self.offset));
        frame.render_stateful_widget(table, inner, &mut state);
    }
}
