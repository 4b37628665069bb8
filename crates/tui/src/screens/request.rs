//! One privacy request and the steps of its life: verify the requester (by a method the
//! agent records, or by a code mailed to the known address), start, extend once with a
//! reason, complete, or deny with a reason; for access and export requests, write the
//! export archive.
//!
//! The desk enforces the order of the steps and says why one is not possible now; that
//! reason goes to the status line as it is.

use super::{Ctx, Look};
use crate::action::{Action, Choice};
use crate::display::when;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::popups::{Confirm, Popup, Prompt};
use crate::privacy::{due_text, export, exported, urgency_marker};
use crate::theme::Role;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;
use sealdesk_api::{urgency, Change, DeskError, RequestRow};
use sealdesk_model::sanitize;
use sealdesk_model::{DecisionOutcome, RequestId, RequestKind};

/// A step that changes the request, once its text (if any) is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestStep {
    /// Text: how the identity was verified.
    Verify,
    SendCode,
    /// Text: the code the customer gave back.
    ConfirmCode,
    Start,
    /// Text: why more time is needed.
    Extend,
    /// Text: an optional note.
    Complete,
    /// Text: the reason, required.
    Deny,
}

#[derive(Clone, Copy)]
enum RequestKey {
    Step(RequestStep),
    Export,
    MailExport,
    Ticket,
    Customer,
    Back,
}

const KEYS: &[Binding<RequestKey>] = &[
    bind(
        &[ch('v')],
        RequestKey::Step(RequestStep::Verify),
        "verify the identity: say how",
        Some("verify"),
    ),
    bind(
        &[ch('s')],
        RequestKey::Step(RequestStep::SendCode),
        "send a one-time code to the customer's known address",
        Some("send code"),
    ),
    bind(
        &[ch('o')],
        RequestKey::Step(RequestStep::ConfirmCode),
        "confirm the code the customer gave back",
        None,
    ),
    bind(
        &[ch('p')],
        RequestKey::Step(RequestStep::Start),
        "start working on it (in progress)",
        None,
    ),
    bind(
        &[ch('x')],
        RequestKey::Step(RequestStep::Extend),
        "extend the deadline once, with a reason",
        Some("extend"),
    ),
    bind(
        &[ch('c')],
        RequestKey::Step(RequestStep::Complete),
        "complete it, with an optional note",
        Some("complete"),
    ),
    bind(
        &[ch('d')],
        RequestKey::Step(RequestStep::Deny),
        "deny it, with the reason",
        Some("deny"),
    ),
    bind(
        &[ch('e')],
        RequestKey::Export,
        "export now (access and export requests)",
        Some("export"),
    ),
    bind(
        &[ch('M')],
        RequestKey::MailExport,
        "mail the export to the customer",
        None,
    ),
    bind(&[ch('t')], RequestKey::Ticket, "open its ticket", None),
    bind(&[ch('u')], RequestKey::Customer, "open the customer", None),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        RequestKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![keymap::help_section("Privacy request", KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct RequestScreen {
    row: RequestRow,
}

impl RequestScreen {
    pub(crate) fn open(ctx: &Ctx, id: RequestId) -> Result<RequestScreen, DeskError> {
        Ok(RequestScreen {
            row: ctx.desk.request_row(&id)?,
        })
    }

    pub(crate) fn crumb(&self) -> String {
        format!("{} request", self.row.request.kind)
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        let r = &self.row.request;
        let prompt = |title: &str, submit: fn(String) -> Action| {
            Some(Action::popup(Popup::Prompt(Prompt::new(title, "", submit))))
        };
        match lookup(KEYS, pressed)? {
            RequestKey::Step(RequestStep::Verify) => prompt(
                "How was the identity verified? (e.g. called back on the known number)",
                |t| Action::Choice(Choice::RequestStep(RequestStep::Verify, t)),
            ),
            RequestKey::Step(RequestStep::SendCode) => Some(Action::popup(Popup::Confirm(
                Confirm::new(
                    "Mail a one-time code to the customer's known address, as a reply on the request's ticket?",
                    Action::Choice(Choice::RequestStep(RequestStep::SendCode, String::new())),
                ),
            ))),
            RequestKey::Step(RequestStep::ConfirmCode) => prompt(
                "The code the customer gave back",
                |t| Action::Choice(Choice::RequestStep(RequestStep::ConfirmCode, t)),
            ),
            RequestKey::Step(RequestStep::Start) => self.step(ctx, RequestStep::Start, ""),
            RequestKey::Step(RequestStep::Extend) => prompt(
                "Why more time is needed (the requester gets it in a written notice)",
                |t| Action::Choice(Choice::RequestStep(RequestStep::Extend, t)),
            ),
            RequestKey::Step(RequestStep::Complete) => prompt(
                "Complete the request: a note (optional)",
                |t| Action::Choice(Choice::RequestStep(RequestStep::Complete, t)),
            ),
            RequestKey::Step(RequestStep::Deny) => prompt(
                "Deny the request: the reason (required, recorded)",
                |t| Action::Choice(Choice::RequestStep(RequestStep::Deny, t)),
            ),
            RequestKey::Export => Some(self.export(ctx)),
            RequestKey::MailExport => Some(self.mail_export(ctx)),
            RequestKey::Ticket => r.ticket.map(Action::OpenTicket).or_else(|| {
                Some(Action::Error(
                    "this request has no ticket: u opens the customer".into(),
                ))
            }),
            RequestKey::Customer => Some(Action::OpenCustomer(r.customer)),
            RequestKey::Back => Some(Action::Back),
        }
    }

    fn export(&self, ctx: &Ctx) -> Action {
        let r = &self.row.request;
        if !matches!(r.kind, RequestKind::Access | RequestKind::Export) {
            return Action::Error(format!(
                "a {} request is not answered with an export: only access and export requests are",
                r.kind
            ));
        }
        match ctx.desk.customer_view(&ctx.session.actor, r.customer) {
            Ok((customer, _)) => exported(
                export(ctx, &customer, &sealdesk_api::Authority::Request(r.id)),
                &customer,
            ),
            Err(e) => Action::Error(e.to_string()),
        }
    }

    /// Asks before mailing the request's newest export (made now if there is none) to
    /// the customer's known address; an archive already mailed is not mailed again.
    fn mail_export(&self, ctx: &Ctx) -> Action {
        let r = &self.row.request;
        if !matches!(r.kind, RequestKind::Access | RequestKind::Export) {
            return Action::Error(format!(
                "a {} request is not answered with an export",
                r.kind
            ));
        }
        let customer = match ctx.desk.customer_view(&ctx.session.actor, r.customer) {
            Ok((c, _)) => c,
            Err(e) => return Action::Error(e.to_string()),
        };
        let to = sanitize::line(customer.primary_email()).into_owned();
        let (question, choice) = match ctx.desk.export_for_request(&r.id) {
            Ok(Some(rec)) => {
                if let Some(done) = ctx.desk.already_mailed(&rec) {
                    return Action::Error(done);
                }
                (
                    format!(
                        "Mail export {} ({} bytes, made {}) to {to}? Each archive is mailed once.",
                        rec.id, rec.size, rec.created
                    ),
                    Choice::MailExport(Some(rec.id)),
                )
            }
            Ok(None) => (
                format!("Make an export for this request and mail it to {to}? Each archive is mailed once."),
                Choice::MailExport(None),
            ),
            Err(e) => return Action::Error(e.to_string()),
        };
        Action::popup(Popup::Confirm(Confirm::new(
            question,
            Action::Choice(choice),
        )))
    }

    /// Confirmed: mails the export (made now if `id` is `None`).
    fn mail_confirmed(&self, ctx: &Ctx, id: Option<sealdesk_model::ExportId>) -> Action {
        let r = &self.row.request;
        let id = match id {
            Some(id) => id,
            None => {
                let customer = match ctx.desk.customer_view(&ctx.session.actor, r.customer) {
                    Ok((c, _)) => c,
                    Err(e) => return Action::Error(e.to_string()),
                };
                match export(ctx, &customer, &sealdesk_api::Authority::Request(r.id)) {
                    Ok(rec) => rec.id,
                    Err(e) => return Action::Error(format!("not mailed: {e}")),
                }
            }
        };
        match ctx.desk.mail_export(&ctx.session.actor, &id, &r.id) {
            Ok(to) => Action::Info(format!(
                "export {id} queued by mail to {}",
                sanitize::line(&to)
            )),
            Err(e) => Action::Error(format!("export {id} not mailed: {e}")),
        }
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        match choice {
            Choice::RequestStep(step, text) => self.step(ctx, step, &text),
            Choice::MailExport(id) => Some(self.mail_confirmed(ctx, id)),
            _ => None,
        }
    }

    /// Carries out one step in the desk; reloads and says what happened, or why not.
    fn step(&mut self, ctx: &Ctx, step: RequestStep, text: &str) -> Option<Action> {
        let (desk, actor, id) = (ctx.desk, &ctx.session.actor, &self.row.request.id);
        let (result, done) = match step {
            RequestStep::Verify => (desk.verify_request(actor, id, text), "identity verified"),
            RequestStep::SendCode => (
                desk.send_verification_code(actor, id),
                "code queued for the customer's known address; o confirms it",
            ),
            RequestStep::ConfirmCode => (
                desk.confirm_code(actor, id, text),
                "code matches: identity verified",
            ),
            RequestStep::Start => (desk.start_request(actor, id), "request in progress"),
            RequestStep::Extend => (desk.extend_request(actor, id, text), "deadline extended"),
            RequestStep::Complete => (desk.complete_request(actor, id, text), "request completed"),
            RequestStep::Deny => (
                desk.deny_request(actor, id, text),
                "request denied, reason recorded",
            ),
        };
        match result {
            Ok(request) => {
                self.row.request = request;
                Some(Action::Info(done.into()))
            }
            Err(e) => Some(Action::Error(e.to_string())),
        }
    }

    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        match ctx.desk.request_row(&self.row.request.id) {
            Ok(row) => {
                self.row = row;
                None
            }
            Err(e) => Some(Action::Error(e.to_string())),
        }
    }

    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Ticket(_) => self.refresh(ctx),
            Change::Agents | Change::Presence(_) | Change::Notified(_) => None,
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let r = &self.row.request;
        let muted = theme.style(Role::Muted);
        let label = |text: &'static str| Span::styled(text, muted);
        let (marker, role) = urgency_marker(urgency(r, look.now));
        let mut due = vec![
            label("due:        "),
            Span::styled(due_text(r.due, look.now), theme.style(role)),
        ];
        if !marker.is_empty() {
            due.push(Span::raw(" "));
            due.push(Span::styled(marker, theme.style(role)));
        }
        let ticket = match r.ticket {
            Some(n) => n.to_string(),
            None => "-".into(),
        };
        let mut lines = vec![
            Line::from(vec![
                label("kind:       "),
                Span::styled(r.kind.as_str(), theme.style(Role::Title)),
                label("   status: "),
                Span::raw(r.status.as_str()),
            ]),
            Line::from(vec![
                label("customer:   "),
                Span::raw(sanitize::line(self.row.customer_label.as_str()).into_owned()),
                label("   ticket: "),
                Span::raw(ticket),
            ]),
            Line::from(vec![
                label("received:   "),
                Span::raw(when(r.received, look.now)),
            ]),
            Line::from(due),
            Line::from(vec![
                label("id:         "),
                Span::styled(r.id.to_string(), muted),
            ]),
            Line::default(),
        ];
        let verification = match (&r.verification, r.pending_code) {
            (Some(v), _) => format!(
                "{} (by {}, {})",
                sanitize::line(&v.method),
                sanitize::line(&v.by),
                when(v.at, look.now)
            ),
            (None, Some((_, sent))) => format!(
                "not yet: a code was sent {}; o confirms it",
                when(sent, look.now)
            ),
            (None, None) => "not yet: v records how, s mails a code".into(),
        };
        lines.push(Line::from(vec![
            label("identity:   "),
            Span::raw(verification),
        ]));
        let extension = match &r.extension {
            Some(e) => format!(
                "once, by {} {}: {}",
                sanitize::line(&e.by),
                when(e.at, look.now),
                sanitize::line(&e.reason)
            ),
            None => "no (one extension is allowed)".into(),
        };
        lines.push(Line::from(vec![
            label("extended:   "),
            Span::raw(extension),
        ]));
        let decision = match &r.decision {
            Some(d) => {
                let outcome = match d.outcome {
                    DecisionOutcome::Completed => "completed",
                    DecisionOutcome::Denied => "denied",
                };
                let reason = match d.reason.is_empty() {
                    true => String::new(),
                    false => format!(": {}", sanitize::line(&d.reason)),
                };
                format!(
                    "{outcome} by {} {}{reason}",
                    sanitize::line(&d.by),
                    when(d.at, look.now)
                )
            }
            None => "open".into(),
        };
        lines.push(Line::from(vec![label("decision:   "), Span::raw(decision)]));
        let block = Block::bordered()
            .title(format!(" Privacy request: {} ", r.kind))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}
