//! One customer: who they are and every ticket they opened.
//!
//! The privacy tools (consent ledger, requests, export) will hook in below the
//! profile; for now a placeholder line marks the spot.

use super::{scroll_window, Ctx, Look};
use crate::desk::{Change, DeskError};
use crate::model::{Customer, CustomerId, Ticket};
use crate::sanitize;
use crate::tui::action::Action;
use crate::tui::display::{priority_role, status_role};
use crate::tui::event::{KeyCode, KeyEvent};
use crate::tui::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::tui::theme::Role;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

#[derive(Clone, Copy)]
enum CustomerKey {
    Down,
    Up,
    Top,
    Bottom,
    Open,
    Back,
}

const KEYS: &[Binding<CustomerKey>] = &[
    bind(
        &[ch('j'), key(KeyCode::Down)],
        CustomerKey::Down,
        "next ticket",
        None,
    ),
    bind(
        &[ch('k'), key(KeyCode::Up)],
        CustomerKey::Up,
        "previous ticket",
        None,
    ),
    bind(
        &[ch('g'), key(KeyCode::Home)],
        CustomerKey::Top,
        "first ticket",
        None,
    ),
    bind(
        &[ch('G'), key(KeyCode::End)],
        CustomerKey::Bottom,
        "last ticket",
        None,
    ),
    bind(
        &[key(KeyCode::Enter)],
        CustomerKey::Open,
        "open the ticket",
        Some("open"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        CustomerKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![keymap::help_section("Customer", KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct CustomerScreen {
    customer: Customer,
    /// Newest first.
    tickets: Vec<Ticket>,
    selected: usize,
    offset: usize,
}

impl CustomerScreen {
    /// Loads the customer's page (an audited view).
    pub fn open(ctx: &Ctx, id: CustomerId) -> Result<CustomerScreen, DeskError> {
        let (customer, tickets) = ctx.desk.customer_view(&ctx.session.actor, id)?;
        Ok(CustomerScreen {
            customer,
            tickets,
            selected: 0,
            offset: 0,
        })
    }

    pub fn crumb(&self) -> String {
        let name = match self.customer.name.is_empty() {
            true => self.customer.primary_email(),
            false => self.customer.name.as_str(),
        };
        sanitize::line(name).chars().take(24).collect()
    }

    pub fn handle_key(&mut self, pressed: KeyEvent) -> Option<Action> {
        let last = self.tickets.len().saturating_sub(1);
        match lookup(KEYS, pressed)? {
            CustomerKey::Down => self.selected = (self.selected + 1).min(last),
            CustomerKey::Up => self.selected = self.selected.saturating_sub(1),
            CustomerKey::Top => self.selected = 0,
            CustomerKey::Bottom => self.selected = last,
            CustomerKey::Open => {
                return self
                    .tickets
                    .get(self.selected)
                    .map(|t| Action::OpenTicket(t.number))
            }
            CustomerKey::Back => return Some(Action::Back),
        }
        None
    }

    /// Re-reads the page (an audited view), after changes may have been missed.
    pub fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let selected = self.tickets.get(self.selected).map(|t| t.number);
        match ctx.desk.customer_view(&ctx.session.actor, self.customer.id) {
            Ok((customer, tickets)) => {
                self.customer = customer;
                self.tickets = tickets;
            }
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        let found = selected.and_then(|n| self.tickets.iter().position(|t| t.number == n));
        self.selected = found.unwrap_or(0);
        None
    }

    /// Keeps the ticket list current from the queue index, which needs no audited
    /// re-read of the customer.
    pub fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        let Change::Ticket(number) = change else {
            return None;
        };
        let row = match ctx.desk.queue_row(*number) {
            Ok(row) => row,
            Err(e) => return Some(Action::Error(e.to_string())),
        };
        let listed = self.tickets.iter().position(|t| t.number == *number);
        match (row, listed) {
            (Some(row), Some(i)) => self.tickets[i] = row.ticket,
            (Some(row), None) if row.ticket.customer == self.customer.id => {
                self.tickets.push(row.ticket);
                self.tickets.sort_by_key(|t| std::cmp::Reverse(t.number));
            }
            _ => {}
        }
        None
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let profile = self.profile_lines(look);
        let [profile_area, tickets_area] = Layout::vertical([
            Constraint::Length(profile.len() as u16 + 2),
            Constraint::Fill(1),
        ])
        .areas(area);
        let block = Block::bordered()
            .title(format!(" Customer: {} ", self.crumb()))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::Border));
        frame.render_widget(Paragraph::new(profile).block(block), profile_area);

        let block = Block::bordered()
            .title(format!(" Tickets ({}) ", self.tickets.len()))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(tickets_area);
        frame.render_widget(block, tickets_area);
        let height = (inner.height as usize).saturating_sub(1);
        self.offset = scroll_window(self.selected, self.offset, height, self.tickets.len());
        let rows = self
            .tickets
            .iter()
            .skip(self.offset)
            .take(height.max(1))
            .map(|t| {
                Row::new([
                    Cell::from(t.number.to_string()),
                    Cell::from(t.status.as_str()).style(theme.style(status_role(t.status))),
                    Cell::from(t.priority.as_str()).style(theme.style(priority_role(t.priority))),
                    Cell::from(t.updated.age_at(look.now)).style(theme.style(Role::Muted)),
                    Cell::from(sanitize::line(&t.subject).into_owned()),
                ])
            });
        let widths = [
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Fill(1),
        ];
        let header = Row::new(["#", "status", "prio", "updated", "subject"])
            .style(theme.style(Role::Header));
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(theme.style(Role::Selected));
        let selected = (!self.tickets.is_empty()).then(|| self.selected - self.offset);
        let mut state = TableState::default().with_selected(selected);
        frame.render_stateful_widget(table, inner, &mut state);
    }

    fn profile_lines(&self, look: &Look) -> Vec<Line<'static>> {
        let theme = look.theme;
        let c = &self.customer;
        let label = |text: &'static str| Span::styled(text, theme.style(Role::Muted));
        let addresses: Vec<String> = c
            .emails
            .iter()
            .map(|e| sanitize::line(e).into_owned())
            .collect();
        let mut flags = Vec::new();
        if c.flags.minor {
            flags.push("minor");
        }
        if c.flags.legal_hold {
            flags.push("legal hold");
        }
        if c.flags.previously_erased {
            flags.push("previously erased");
        }
        let flags = if flags.is_empty() {
            Span::styled("none", theme.style(Role::Muted))
        } else {
            Span::styled(flags.join(", "), theme.style(Role::DueSoon))
        };
        vec![
            Line::from(vec![
                label("name:      "),
                Span::styled(
                    sanitize::line(&c.name).into_owned(),
                    theme.style(Role::Title),
                ),
            ]),
            Line::from(vec![label("addresses: "), Span::raw(addresses.join(", "))]),
            Line::from(vec![
                label("locale:    "),
                Span::raw(match &c.locale {
                    Some(locale) => sanitize::line(locale).into_owned(),
                    None => "-".into(),
                }),
                label("   first seen: "),
                Span::raw(format!("{} ago", c.created.age_at(look.now))),
            ]),
            Line::from(vec![label("flags:     "), flags]),
            Line::styled(
                "Privacy: consent, requests, export (coming)",
                theme.style(Role::Muted),
            ),
        ]
    }
}
