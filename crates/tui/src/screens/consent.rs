//! One customer's consent ledger: "may we use this person's data for purpose X, and
//! since when?" at a glance, then the full append-only history.
//!
//! The top table has one row per purpose of the catalogue with the entry in force;
//! below it the selected purpose in full, then every entry ever recorded, newest
//! first. `g`, `w` and `r` open the consent form (given, withdrawn, refused) for the
//! selected purpose; the desk refuses what the law does not allow (a minor's consent
//! without a guardian) and the reason lands in the status line, with the form reopened
//! as it was typed.

use super::{scroll_window, Ctx, Look};
use crate::action::{Action, Choice};
use crate::display::{minute, when};
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::popups::{Form, FormAnswer};
use crate::theme::{Role, Theme};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use sealdesk_api::{ConsentPage, DeskError, NewConsent};
use sealdesk_model::sanitize;
use sealdesk_model::{ConsentActor, ConsentRecord, ConsentState, CustomerId};

#[derive(Clone, Copy)]
enum ConsentKey {
    Down,
    Up,
    HistoryDown,
    HistoryUp,
    Given,
    Withdrawn,
    Refused,
    Back,
}

const KEYS: &[Binding<ConsentKey>] = &[
    bind(
        &[ch('j'), key(KeyCode::Down)],
        ConsentKey::Down,
        "next purpose",
        None,
    ),
    bind(
        &[ch('k'), key(KeyCode::Up)],
        ConsentKey::Up,
        "previous purpose",
        None,
    ),
    bind(
        &[ch('J'), key(KeyCode::PageDown)],
        ConsentKey::HistoryDown,
        "scroll the history down",
        None,
    ),
    bind(
        &[ch('K'), key(KeyCode::PageUp)],
        ConsentKey::HistoryUp,
        "scroll the history up",
        None,
    ),
    bind(
        &[ch('g')],
        ConsentKey::Given,
        "record consent given (for the selected purpose)",
        Some("given"),
    ),
    bind(
        &[ch('w')],
        ConsentKey::Withdrawn,
        "record a withdrawal",
        Some("withdrawn"),
    ),
    bind(
        &[ch('r')],
        ConsentKey::Refused,
        "record a refusal",
        Some("refused"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        ConsentKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![keymap::help_section("Consent", KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

/// Ways consent is commonly given or withdrawn, offered as quick picks.
const METHODS: &[&str] = &["email", "phone", "web form", "paper", "in person"];

pub(crate) struct ConsentScreen {
    page: ConsentPage,
    /// The selected purpose row.
    selected: usize,
    offset: usize,
    /// History entries scrolled past (newest first).
    history_scroll: usize,
}

impl ConsentScreen {
    /// Loads the customer's consent page (an audited view).
    pub(crate) fn open(ctx: &Ctx, id: CustomerId) -> Result<ConsentScreen, DeskError> {
        Ok(ConsentScreen {
            page: ctx.desk.consent_page(&ctx.session.actor, id)?,
            selected: 0,
            offset: 0,
            history_scroll: 0,
        })
    }

    pub(crate) fn crumb(&self) -> String {
        "Consent".into()
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        let last = self.page.states.len().saturating_sub(1);
        let history_last = self.page.ledger.len().saturating_sub(1);
        match lookup(KEYS, pressed)? {
            ConsentKey::Down => self.selected = (self.selected + 1).min(last),
            ConsentKey::Up => self.selected = self.selected.saturating_sub(1),
            ConsentKey::HistoryDown => {
                self.history_scroll = (self.history_scroll + 5).min(history_last)
            }
            ConsentKey::HistoryUp => self.history_scroll = self.history_scroll.saturating_sub(5),
            ConsentKey::Given => return Some(self.form(ctx, ConsentState::Given).open()),
            ConsentKey::Withdrawn => return Some(self.form(ctx, ConsentState::Withdrawn).open()),
            ConsentKey::Refused => return Some(self.form(ctx, ConsentState::Refused).open()),
            ConsentKey::Back => return Some(Action::Back),
        }
        None
    }

    /// The consent form for the selected purpose, starting on `state`.
    fn form(&self, ctx: &Ctx, state: ConsentState) -> Form {
        let catalogue = ctx.desk.catalogue();
        let entry = |code: &str, name: &str| (code.to_string(), format!("{code} {name}"));
        let purposes = catalogue
            .purposes
            .iter()
            .map(|p| entry(&p.code, &p.name))
            .collect();
        let categories = catalogue
            .categories
            .iter()
            .map(|c| entry(&c.code, &c.name))
            .collect();
        let states = ConsentState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.as_str().to_string()))
            .collect();
        let selected = self.page.states.get(self.selected);
        let purpose = selected.map(|s| s.purpose.code.as_str()).unwrap_or("");
        // Withdrawing or refusing is usually about what was given: start from that.
        let ticked: Vec<String> = selected
            .and_then(|s| s.current.as_ref())
            .map(|r| r.categories.clone())
            .unwrap_or_default();
        let policy = self
            .page
            .ledger
            .iter()
            .rev()
            .map(|r| r.policy_version.as_str())
            .find(|p| !p.is_empty())
            .unwrap_or("");
        let methods = METHODS.iter().map(|m| m.to_string()).collect();
        let mut form = Form::new(format!("Record consent: {state}"), |answer| {
            Action::Choice(Choice::Consent(answer))
        })
        .one("state", "state", states, state.as_str())
        .one("purpose", "purpose", purposes, purpose)
        .many("categories", "categories", categories, &ticked)
        .text("method", "method", "email", methods)
        .text("evidence", "evidence", "", self.page.evidence.clone())
        .text("policy", "policy version", policy, Vec::new());
        if self.page.customer.flags.minor {
            form = form.text("guardian", "guardian (minor)", "", Vec::new());
        }
        form.focus("categories")
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        let Choice::Consent(answer) = choice else {
            return None;
        };
        match self.record(ctx, &answer) {
            Ok(record) => {
                let done = format!(
                    "recorded: purpose {} {} ({})",
                    record.purpose, record.state, record.method
                );
                Some(match self.refresh(ctx) {
                    Some(problem) => problem,
                    None => Action::Info(done),
                })
            }
            Err(refused) => {
                let reason = refused.to_string();
                let state = answer.get("state").parse().unwrap_or(ConsentState::Given);
                let form = self.form(ctx, state).refill(&answer, Some(reason.clone()));
                Some(Action::Many(vec![Action::Error(reason), form.open()]))
            }
        }
    }

    fn record(&self, ctx: &Ctx, answer: &FormAnswer) -> Result<ConsentRecord, DeskError> {
        let state: ConsentState = answer.get("state").parse()?;
        let categories: Vec<String> = answer
            .get("categories")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        let guardian = Some(answer.get("guardian")).filter(|g| !g.trim().is_empty());
        let new = NewConsent {
            purpose: answer.get("purpose"),
            state,
            categories: &categories,
            method: answer.get("method"),
            evidence: answer.get("evidence"),
            policy_version: answer.get("policy"),
            guardian,
        };
        ctx.desk
            .record_consent(&ctx.session.actor, &self.page.customer, new)
    }

    /// Re-reads the page (an audited view).
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        match ctx
            .desk
            .consent_page(&ctx.session.actor, self.page.customer.id)
        {
            Ok(page) => {
                self.page = page;
                self.selected = self.selected.min(self.page.states.len().saturating_sub(1));
                None
            }
            Err(e) => Some(Action::Error(e.to_string())),
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let wanted = self.page.states.len() as u16 + 4;
        let [top, detail, history] = Layout::vertical([
            Constraint::Max(wanted),
            Constraint::Length(2),
            Constraint::Fill(1),
        ])
        .areas(area);
        self.draw_purposes(frame, top, look);
        frame.render_widget(Paragraph::new(self.detail_lines(look)), detail);
        self.draw_history(frame, history, look);
    }

    fn draw_purposes(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let c = &self.page.customer;
        let name = match c.name.is_empty() {
            true => c.primary_email(),
            false => c.name.as_str(),
        };
        let mut title = vec![Span::styled(
            format!(" Consent: {} ", sanitize::line(name)),
            theme.style(Role::Title),
        )];
        if c.flags.minor {
            title.push(Span::styled(
                " minor: consent needs a guardian ",
                theme.style(Role::DueSoon),
            ));
        }
        let block = Block::bordered()
            .title(Line::from(title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let height = (inner.height as usize).saturating_sub(1);
        let len = self.page.states.len();
        self.offset = scroll_window(self.selected, self.offset, height, len);
        let rows = self
            .page
            .states
            .iter()
            .skip(self.offset)
            .take(height.max(1))
            .map(|s| {
                let mut cells = vec![
                    Cell::from(sanitize::line(&s.purpose.code).into_owned()),
                    Cell::from(sanitize::line(&s.purpose.name).into_owned()),
                ];
                match &s.current {
                    Some(r) => cells.extend([
                        Cell::from(r.state.as_str()).style(theme.style(state_role(r.state))),
                        Cell::from(minute(r.at)),
                        Cell::from(by(&r.actor)),
                        Cell::from(sanitize::line(&r.method).into_owned()),
                        Cell::from(sanitize::line(&r.policy_version).into_owned()),
                    ]),
                    None => cells.push(Cell::from("never asked").style(theme.style(Role::Muted))),
                }
                Row::new(cells)
            });
        let widths = [
            Constraint::Length(4),
            Constraint::Fill(3),
            Constraint::Length(11),
            Constraint::Length(16),
            Constraint::Fill(2),
            Constraint::Length(8),
            Constraint::Length(6),
        ];
        let header = Row::new(["code", "purpose", "state", "since", "by", "how", "policy"])
            .style(theme.style(Role::Header));
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(theme.style(Role::Selected));
        let selected = (len > 0).then(|| self.selected - self.offset);
        let mut state = TableState::default().with_selected(selected);
        frame.render_stateful_widget(table, inner, &mut state);
    }

    /// The selected purpose in words, in full: what the narrow table cuts.
    fn detail_lines(&self, look: &Look) -> Vec<Line<'static>> {
        let theme = look.theme;
        let muted = theme.style(Role::Muted);
        let Some(s) = self.page.states.get(self.selected) else {
            return vec![Line::styled("The catalogue has no purposes.", muted)];
        };
        let purpose = format!(
            " {} {}: ",
            sanitize::line(&s.purpose.code),
            sanitize::line(&s.purpose.name)
        );
        let Some(r) = &s.current else {
            return vec![Line::from(vec![
                Span::styled(purpose, theme.style(Role::Title)),
                Span::styled("never asked: no consent on record", muted),
            ])];
        };
        let first = Line::from(vec![
            Span::styled(purpose, theme.style(Role::Title)),
            Span::styled(r.state.as_str(), theme.style(state_role(r.state))),
            Span::raw(format!(
                " since {} by {} via {}",
                when(r.at, look.now),
                by(&r.actor),
                sanitize::line(&r.method)
            )),
        ]);
        let categories = match r.categories.is_empty() {
            true => "-".into(),
            false => sanitize::line(&r.categories.join(", ")).into_owned(),
        };
        let evidence = match r.evidence.is_empty() {
            true => "-".into(),
            false => sanitize::line(&r.evidence).into_owned(),
        };
        let second = Line::styled(
            format!(
                " categories {categories} · evidence {evidence} · policy {}",
                or_dash(&r.policy_version)
            ),
            muted,
        );
        vec![first, second]
    }

    fn draw_history(&self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let block = Block::bordered()
            .title(format!(
                " History ({}, newest first) ",
                self.page.ledger.len()
            ))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::Border));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.page.ledger.is_empty() {
            let text = Line::styled("Nothing recorded yet.", theme.style(Role::Muted));
            frame.render_widget(Paragraph::new(text), inner);
            return;
        }
        let height = (inner.height as usize).saturating_sub(1).max(1);
        let rows = self
            .page
            .ledger
            .iter()
            .rev()
            .skip(self.history_scroll)
            .take(height)
            .map(|r| history_row(r, theme));
        let widths = [
            Constraint::Length(4),
            Constraint::Length(16),
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Fill(2),
            Constraint::Length(8),
        ];
        let header = Row::new([
            "#",
            "when",
            "code",
            "state",
            "categories",
            "by",
            "how",
            "evidence",
            "policy",
        ])
        .style(theme.style(Role::Header));
        frame.render_widget(Table::new(rows, widths).header(header), inner);
    }
}

fn history_row(r: &ConsentRecord, theme: &Theme) -> Row<'static> {
    Row::new([
        Cell::from(r.seq.to_string()),
        Cell::from(minute(r.at)),
        Cell::from(sanitize::line(&r.purpose).into_owned()),
        Cell::from(r.state.as_str()).style(theme.style(state_role(r.state))),
        Cell::from(sanitize::line(&r.categories.join(",")).into_owned()),
        Cell::from(by(&r.actor)),
        Cell::from(sanitize::line(&r.method).into_owned()),
        Cell::from(sanitize::line(&r.evidence).into_owned()),
        Cell::from(sanitize::line(&r.policy_version).into_owned()),
    ])
}

/// Given reads as permission, refused and withdrawn as its absence.
fn state_role(state: ConsentState) -> Role {
    match state {
        ConsentState::Given => Role::StatusSolved,
        ConsentState::Refused | ConsentState::Withdrawn => Role::Overdue,
        ConsentState::Expired => Role::DueSoon,
    }
}

/// Who gave or recorded it: "agent alice", "customer", "guardian Mary (by alice)".
fn by(actor: &ConsentActor) -> String {
    let text = match actor {
        ConsentActor::Customer => "customer".to_string(),
        ConsentActor::Agent { name } => format!("agent {name}"),
        ConsentActor::Guardian { name, recorded_by } => {
            format!("guardian {name} (by {recorded_by})")
        }
    };
    sanitize::line(&text).into_owned()
}

fn or_dash(text: &str) -> String {
    match text.is_empty() {
        true => "-".into(),
        false => sanitize::line(text).into_owned(),
    }
}
