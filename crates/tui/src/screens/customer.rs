//! One customer: who they are, every ticket they opened, and the privacy tools for
//! them: their consent ledger (`C`), a new privacy request (`P`), an export of
//! everything held about them (`E`), and cancelling their account with erasure (`X`,
//! admins only, after typing their address).

use super::{scroll_window, Ctx, Look};
use crate::action::{Action, Choice};
use crate::display::{priority_role, status_role};
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::popups::{Popup, Prompt};
use crate::privacy;
use crate::theme::Role;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use sealdesk_api::{is_finished, Authority, Change, DeskError};
use sealdesk_model::sanitize;
use sealdesk_model::{AgentRole, Customer, CustomerId, RequestKind, RequestStatus, Ticket};

#[derive(Clone, Copy)]
enum CustomerKey {
    Down,
    Up,
    Top,
    Bottom,
    Open,
    Consent,
    Request,
    Export,
    Cancel,
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
        &[ch('C')],
        CustomerKey::Consent,
        "consent: per purpose, since when, and the history",
        Some("consent"),
    ),
    bind(
        &[ch('P')],
        CustomerKey::Request,
        "open a privacy request for this customer",
        Some("request"),
    ),
    bind(
        &[ch('E')],
        CustomerKey::Export,
        "export all their data into an archive",
        Some("export"),
    ),
    bind(
        &[ch('X')],
        CustomerKey::Cancel,
        "cancel the account and erase the customer (admins only)",
        Some("erase"),
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
    /// Their privacy requests not yet completed or denied.
    open_requests: usize,
    /// Notices the desk sent them (outbound), oldest first.
    notices: Vec<sealdesk_model::NoticeCopy>,
    selected: usize,
    offset: usize,
    /// What lets the erasure being confirmed go ahead (a request or an override).
    erase_authority: Option<Authority>,
}

impl CustomerScreen {
    /// Loads the customer's page (an audited view).
    pub(crate) fn open(ctx: &Ctx, id: CustomerId) -> Result<CustomerScreen, DeskError> {
        let (customer, tickets) = ctx.desk.customer_view(&ctx.session.actor, id)?;
        let open_requests = count_open_requests(ctx, id)?;
        let notices = ctx.desk.notices_of(&id)?;
        Ok(CustomerScreen {
            customer,
            tickets,
            open_requests,
            notices,
            selected: 0,
            offset: 0,
            erase_authority: None,
        })
    }

    pub(crate) fn crumb(&self) -> String {
        let name = match self.customer.name.is_empty() {
            true => self.customer.primary_email(),
            false => self.customer.name.as_str(),
        };
        sanitize::line(name).chars().take(24).collect()
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
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
            CustomerKey::Consent => return Some(Action::OpenConsent(self.customer.id)),
            CustomerKey::Request => {
                return Some(privacy::kind_picker(format!(
                    "New privacy request from {}",
                    self.crumb()
                )))
            }
            CustomerKey::Export => return Some(self.export(ctx)),
            CustomerKey::Cancel => return Some(self.authorize_cancel(ctx)),
            CustomerKey::Back => return Some(Action::Back),
        }
        None
    }

    /// Exports under their verified access or export request; without one, an admin
    /// is asked for the reason of the override.
    fn export(&self, ctx: &Ctx) -> Action {
        let kinds = [RequestKind::Access, RequestKind::Export];
        let statuses = [
            RequestStatus::Verified,
            RequestStatus::InProgress,
            RequestStatus::Completed,
        ];
        if let Some(id) = privacy::verified_request(ctx, &self.customer, &kinds, &statuses) {
            return privacy::exported(
                privacy::export(ctx, &self.customer, &Authority::Request(id)),
                &self.customer,
            );
        }
        if ctx.session.agent.role != AgentRole::Admin {
            return Action::Error(
                "an export needs a verified access or export request (P, then verify it), or an admin's override".into(),
            );
        }
        Action::popup(Popup::Prompt(Prompt::new(
            "No verified request: why export anyway (audited as an override)",
            "",
            |reason| Action::Choice(Choice::ExportOverride(reason)),
        )))
    }

    /// Erases under their verified erasure request; without one, an admin is asked
    /// for the reason of the override first.
    fn authorize_cancel(&mut self, ctx: &Ctx) -> Action {
        if ctx.session.agent.role != AgentRole::Admin {
            return Action::Error("only an admin can erase a customer: ask an admin".into());
        }
        let statuses = [RequestStatus::Verified, RequestStatus::InProgress];
        match privacy::verified_request(ctx, &self.customer, &[RequestKind::Erasure], &statuses) {
            Some(id) => {
                self.erase_authority = Some(Authority::Request(id));
                self.confirm_cancel(ctx)
            }
            None => Action::popup(Popup::Prompt(Prompt::new(
                "No verified erasure request: why erase anyway (audited as an override)",
                "",
                |reason| Action::Choice(Choice::EraseOverride(reason)),
            ))),
        }
    }

    /// Shows what erasure will do and asks for the customer's address to be typed.
    fn confirm_cancel(&self, ctx: &Ctx) -> Action {
        let email = self.customer.primary_email();
        let preview = match ctx.desk.erasure_preview(&ctx.session.actor, email) {
            Ok(preview) => preview,
            Err(e) => return Action::Error(e.to_string()),
        };
        let prompt = Prompt::new(
            format!("Type {} to erase this customer", sanitize::line(email)),
            "",
            |typed| Action::Choice(Choice::Erase(typed)),
        )
        .with_detail(preview);
        Action::popup(Popup::Prompt(prompt))
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        match choice {
            Choice::NewRequest(kind) => {
                let done = privacy::open_request(ctx, &self.customer, kind, None);
                self.open_requests = count_open_requests(ctx, self.customer.id).unwrap_or(0);
                Some(done)
            }
            Choice::ExportOverride(reason) => Some(privacy::exported(
                privacy::export(ctx, &self.customer, &Authority::Override(reason)),
                &self.customer,
            )),
            Choice::EraseOverride(reason) => {
                self.erase_authority = Some(Authority::Override(reason));
                Some(self.confirm_cancel(ctx))
            }
            Choice::Erase(typed) => {
                let authority = self.erase_authority.take().unwrap_or(Authority::Nothing);
                let erased = ctx.desk.cancel_customer(
                    &ctx.session.actor,
                    self.customer.primary_email(),
                    &typed,
                    &authority,
                );
                Some(match erased {
                    // The customer is gone: so is their page.
                    Ok(counts) => Action::Many(vec![
                        Action::Back,
                        Action::Info(format!(
                            "customer erased: {} messages now \"[erased]\", {} consent records and {} attachments deleted, their key destroyed",
                            counts.messages, counts.consents, counts.attachments
                        )),
                    ]),
                    Err(e) => Action::Error(e.to_string()),
                })
            }
            _ => None,
        }
    }

    /// Re-reads the page (an audited view), after changes may have been missed.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let selected = self.tickets.get(self.selected).map(|t| t.number);
        match ctx.desk.customer_view(&ctx.session.actor, self.customer.id) {
            Ok((customer, tickets)) => {
                self.customer = customer;
                self.tickets = tickets;
            }
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        match count_open_requests(ctx, self.customer.id) {
            Ok(n) => self.open_requests = n,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        match ctx.desk.notices_of(&self.customer.id) {
            Ok(n) => self.notices = n,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        let found = selected.and_then(|n| self.tickets.iter().position(|t| t.number == n));
        self.selected = found.unwrap_or(0);
        None
    }

    /// Keeps the ticket list current from the queue index, which needs no audited
    /// re-read of the customer.
    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        let Change::Ticket(number) = change else {
            return None;
        };
        let row = match ctx.desk.queue_row(*number) {
            Ok(row) => row,
            Err(e) => return Some(Action::Error(e.to_string())),
        };
        let listed = self.tickets.iter().position(|t| t.number == *number);
        match (row, listed) {
            (Some(row), Some(i)) => self.tickets[i] = row.ticket.clone(),
            (Some(row), None) if row.ticket.customer == self.customer.id => {
                self.tickets.push(row.ticket.clone());
                self.tickets.sort_by_key(|t| std::cmp::Reverse(t.number));
            }
            _ => {}
        }
        None
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
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
                    Cell::from(sanitize::line(t.subject.as_str()).into_owned()),
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
        let flags = c.flags.labels();
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
            self.notices_line(look),
            self.privacy_line(look),
        ]
    }

    /// Notices the desk sent them: outbound mail, never something they wrote.
    fn notices_line(&self, look: &Look) -> Line<'static> {
        let muted = look.theme.style(Role::Muted);
        let Some(last) = self.notices.last() else {
            return Line::from(vec![
                Span::styled("notices:   ", muted),
                Span::styled("none sent", muted),
            ]);
        };
        let state = match &last.delivery {
            sealdesk_model::Delivery::Queued { .. } => "queued",
            sealdesk_model::Delivery::Sent { .. } => "sent",
            sealdesk_model::Delivery::Failed { .. } => "failed",
        };
        Line::from(vec![
            Span::styled("notices:   ", muted),
            Span::raw(format!(
                "{} sent by the desk · latest: ",
                self.notices.len()
            )),
            Span::raw(format!(
                "{} \"{}\" ({state}, {} ago)",
                last.kind,
                sanitize::line(&last.subject),
                last.queued.age_at(look.now)
            )),
        ])
    }

    /// Open requests, and the keys of the privacy tools.
    fn privacy_line(&self, look: &Look) -> Line<'static> {
        let theme = look.theme;
        let requests = match self.open_requests {
            0 => Span::styled("no open requests", theme.style(Role::Muted)),
            1 => Span::styled("1 open request", theme.style(Role::DueSoon)),
            n => Span::styled(format!("{n} open requests"), theme.style(Role::DueSoon)),
        };
        let muted = theme.style(Role::Muted);
        let mut spans = vec![
            Span::styled("privacy:   ", muted),
            requests,
            Span::styled(" ·", muted),
        ];
        // From the key table, so the line cannot promise a key that does something else.
        let tools = KEYS.iter().filter(|b| {
            matches!(
                b.action,
                CustomerKey::Consent
                    | CustomerKey::Request
                    | CustomerKey::Export
                    | CustomerKey::Cancel
            )
        });
        for binding in tools {
            if let (Some(first), Some(hint)) = (binding.keys.first(), binding.hint) {
                spans.push(Span::styled(format!(" {first}"), theme.style(Role::Header)));
                spans.push(Span::styled(format!(" {hint} "), muted));
            }
        }
        Line::from(spans)
    }
}

/// How many of the customer's privacy requests are still open.
fn count_open_requests(ctx: &Ctx, id: CustomerId) -> Result<usize, DeskError> {
    let requests = ctx.desk.requests()?;
    Ok(requests
        .iter()
        .filter(|r| r.customer == id && !is_finished(r))
        .count())
}
