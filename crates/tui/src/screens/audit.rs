//! The audit log, for admins: who did what, from where, to whom (by pseudonym), newest
//! first, with the verdict of the hash chain on top.
//!
//! The log may hold a million events, so the screen never holds them all. Opening it,
//! changing the filter, or `r` make one pass over the log (in the desk) that keeps only
//! the newest [`WINDOW`] matching events; a note says when there are more, and the filter
//! (agent, customer pseudonym, action prefix, day) is how to reach older ones. Drawing
//! builds lines only for the events in view. The chain is verified (a second pass) when
//! the screen opens and on `r`, not on every filter change. Desk changes do not reload
//! the screen: the log grows with every action, and re-reading it each time would cost a
//! pass per keystroke of every agent.

use super::{Ctx, Look};
use crate::action::{Action, Choice};
use crate::display::day;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::popups::{Form, FormAnswer};
use crate::theme::{Role, Theme};
use crate::widgets::list::{self, ScrollList, Words};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use sealdesk_api::{AuditFilter, AuditPage, AuditReport, DeskError};
use sealdesk_model::sanitize;
use sealdesk_model::{AuditEvent, Timestamp};

/// The most events the screen holds: the newest that match the filter.
pub const WINDOW: usize = 5_000;

#[derive(Clone, Copy)]
enum AuditKey {
    Filter,
    ClearFilter,
    Reload,
    Back,
}

const MOVES: Words = Words {
    down: "older event",
    up: "newer event",
    top: "newest event",
    bottom: "oldest event shown",
};

const KEYS: &[Binding<AuditKey>] = &[
    bind(
        &[ch('/'), ch('f')],
        AuditKey::Filter,
        "filter by agent, customer pseudonym, action prefix, day",
        Some("filter"),
    ),
    bind(
        &[ch('c')],
        AuditKey::ClearFilter,
        "clear the filter",
        Some("clear"),
    ),
    bind(
        &[ch('r')],
        AuditKey::Reload,
        "read the log again and re-verify the chain",
        Some("reload"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        AuditKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![list::help_section("Audit log", &MOVES, KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

/// Action-name starts worth offering as quick picks.
const ACTION_PICKS: &[&str] = &[
    "customer.",
    "consent.",
    "request.",
    "ticket.",
    "audit.",
    "agent.",
    "customer.erase",
    "customer.search",
];

pub(crate) struct AuditScreen {
    filter: AuditFilter,
    page: AuditPage,
    /// What verifying the chain found.
    verdict: AuditReport,
    list: ScrollList,
}

impl AuditScreen {
    /// Reads the newest events and verifies the chain; refused unless the agent is an
    /// admin (the desk decides).
    pub(crate) fn open(ctx: &Ctx) -> Result<AuditScreen, DeskError> {
        let filter = AuditFilter::default();
        let page = read(ctx, &filter)?;
        let verdict = ctx.desk.verify_audit()?;
        Ok(AuditScreen {
            filter,
            page,
            verdict,
            list: ScrollList::default(),
        })
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        if self
            .list
            .handle_key(pressed, self.page.events.len())
            .is_some()
        {
            return None;
        }
        match lookup(KEYS, pressed)? {
            AuditKey::Filter => Some(self.filter_form(ctx).open()),
            AuditKey::ClearFilter => self.apply(ctx, AuditFilter::default()),
            AuditKey::Reload => self.refresh(ctx),
            AuditKey::Back => Some(Action::Back),
        }
    }

    fn filter_form(&self, ctx: &Ctx) -> Form {
        let agents = ctx
            .desk
            .agents()
            .map(|list| list.into_iter().map(|a| a.name).collect())
            .unwrap_or_default();
        let actions = ACTION_PICKS.iter().map(|a| a.to_string()).collect();
        Form::new("Filter the audit log (empty: any)", |answer| {
            Action::Choice(Choice::AuditFilter(answer))
        })
        .text("agent", "agent", &self.filter.agent, agents)
        .text(
            "pseudonym",
            "customer pseudonym",
            &self.filter.pseudonym,
            Vec::new(),
        )
        .text(
            "action",
            "action prefix",
            &self.filter.action_prefix,
            actions,
        )
        .text(
            "date",
            "day (YYYY-MM-DD)",
            &self.filter.date,
            vec![day(Timestamp::now())],
        )
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        let Choice::AuditFilter(answer) = choice else {
            return None;
        };
        let filter = AuditFilter {
            agent: answer.get("agent").trim().to_string(),
            pseudonym: answer.get("pseudonym").trim().to_string(),
            action_prefix: answer.get("action").trim().to_string(),
            date: answer.get("date").trim().to_string(),
        };
        match self.apply(ctx, filter) {
            Some(Action::Error(reason)) => Some(self.refill(ctx, &answer, reason)),
            other => other,
        }
    }

    fn refill(&self, ctx: &Ctx, answer: &FormAnswer, reason: String) -> Action {
        let form = self.filter_form(ctx).refill(answer, Some(reason.clone()));
        Action::Many(vec![Action::Error(reason), form.open()])
    }

    /// Reads the newest events matching `filter`; keeps the old view if that fails.
    fn apply(&mut self, ctx: &Ctx, filter: AuditFilter) -> Option<Action> {
        match read(ctx, &filter) {
            Ok(page) => {
                self.page = page;
                self.filter = filter;
                self.list.select(0, self.page.events.len());
                None
            }
            Err(e) => Some(Action::Error(e.to_string())),
        }
    }

    /// Reads the log again and re-verifies the chain.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let filter = self.filter.clone();
        if let Some(problem) = self.apply(ctx, filter) {
            return Some(problem);
        }
        match ctx.desk.verify_audit() {
            Ok(verdict) => self.verdict = verdict,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        None
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let block = Block::bordered()
            .title(" Audit log (newest first) ")
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines = vec![self.verdict_line(theme), self.summary_line(theme)];
        let events = &self.page.events;
        if events.is_empty() {
            lines.push(Line::styled(
                "No events match this filter.",
                theme.style(Role::Muted),
            ));
            frame.render_widget(Paragraph::new(lines), inner);
            return;
        }
        // Two lines an event, under the two header lines.
        let window = self
            .list
            .keep_in_view((inner.height as usize).saturating_sub(2) / 2, events.len());
        for (i, event) in events
            .iter()
            .enumerate()
            .take(window.end)
            .skip(window.start)
        {
            let style = match i == self.list.selected() {
                true => theme.style(Role::Selected),
                false => Style::default(),
            };
            lines.extend(event_lines(event, theme, style));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn verdict_line(&self, theme: &Theme) -> Line<'static> {
        match &self.verdict {
            AuditReport::Intact { events, .. } => Line::styled(
                format!("chain intact: {events} events verified"),
                theme.style(Role::MessageInfo),
            ),
            AuditReport::Broken { checked, reason } => Line::styled(
                format!(
                    "CHAIN BROKEN after {checked} events: {}",
                    sanitize::line(reason)
                ),
                theme.style(Role::Overdue),
            ),
        }
    }

    fn summary_line(&self, theme: &Theme) -> Line<'static> {
        let p = &self.page;
        let shown = p.events.len() as u64;
        let mut text = if shown < p.matched {
            format!(
                "showing the newest {shown} of {} matching events (of {}): filter to see older ones",
                p.matched, p.total
            )
        } else {
            format!("{} matching events (of {})", p.matched, p.total)
        };
        let f = &self.filter;
        let mut parts = Vec::new();
        for (name, value) in [
            ("agent", &f.agent),
            ("customer", &f.pseudonym),
            ("action", &f.action_prefix),
            ("day", &f.date),
        ] {
            if !value.is_empty() {
                parts.push(format!("{name}={}", sanitize::line(value)));
            }
        }
        if !parts.is_empty() {
            text.push_str(&format!(" · filter: {}", parts.join(" ")));
        }
        Line::styled(text, theme.style(Role::Muted))
    }
}

fn read(ctx: &Ctx, filter: &AuditFilter) -> Result<AuditPage, DeskError> {
    ctx.desk.audit_page(&ctx.session.actor, filter, WINDOW)
}

/// An event as two lines: what happened and by whom, then to whom (by pseudonym), to
/// what, from where and with which key.
fn event_lines(e: &AuditEvent, theme: &Theme, selected: Style) -> [Line<'static>; 2] {
    let stamp = e.at.rfc3339().replace('T', " ").replace('Z', "");
    let first = Line::from(vec![
        Span::styled(format!("{:>8}  ", e.seq), theme.style(Role::Muted)),
        Span::raw(format!("{stamp}  ")),
        Span::styled(
            format!("{:<12} ", sanitize::line(&e.actor)),
            theme.style(Role::Title),
        ),
        Span::styled(
            sanitize::line(&e.action).into_owned(),
            theme.style(Role::Header),
        ),
    ])
    .style(selected);
    let customer = match &e.customer {
        Some(p) => format!("customer {} · ", sanitize::line(&p.0)),
        None => String::new(),
    };
    let key = match &e.key_fingerprint {
        Some(k) => sanitize::line(k).into_owned(),
        None => "no key".into(),
    };
    let targets = match e.targets.is_empty() {
        true => "-".into(),
        false => sanitize::line(&e.targets.join(", ")).into_owned(),
    };
    let second = Line::styled(
        format!(
            "          {customer}targets: {targets} · from {} · key {key}",
            sanitize::line(&e.source)
        ),
        theme.style(Role::Muted),
    )
    .patch_style(selected);
    [first, second]
}
