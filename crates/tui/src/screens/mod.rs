//! The full-size screens of the stack: the queue at the bottom, tickets, customers and
//! the privacy screens (consent, requests, audit log) and reports opened on top. Each screen handles keys (through its key table), reacts to desk
//! changes, and draws itself; the app only routes to the one on top.

pub(crate) mod audit;
mod body_lines;
pub(crate) mod consent;
pub(crate) mod customer;
pub(crate) mod notifications;
pub(crate) mod notify_settings;
pub(crate) mod quarantine;
pub(crate) mod queue;
pub(crate) mod reports;
pub(crate) mod request;
pub(crate) mod requests;
pub(crate) mod ticket;

use super::action::{Action, Choice};
use super::app::SessionInfo;
use super::event::KeyEvent;
use super::keymap::HelpSection;
use super::theme::Theme;
/// Customer and consent still keep their own selection and call this directly.
pub(crate) use super::widgets::list::scroll_window;
use ratatui::layout::Rect;
use ratatui::Frame;
use sealdesk_api::{Change, DeskPort};
use sealdesk_model::{TicketNo, Timestamp};

/// What a screen may use while handling an event: the desk and who is acting.
pub(crate) struct Ctx<'a> {
    pub desk: &'a dyn DeskPort,
    pub session: &'a SessionInfo,
}

/// What a screen needs to draw: the theme and the time ages are measured against.
pub(crate) struct Look<'a> {
    pub theme: &'a Theme,
    pub now: Timestamp,
}

pub(crate) enum Screen {
    Queue(Box<queue::QueueScreen>),
    Ticket(Box<ticket::TicketScreen>),
    Customer(customer::CustomerScreen),
    Consent(consent::ConsentScreen),
    Requests(requests::RequestsScreen),
    Request(request::RequestScreen),
    Audit(audit::AuditScreen),
    Quarantine(quarantine::QuarantineScreen),
    Notifications(notifications::NotificationsScreen),
    NotifySettings(notify_settings::NotifySettingsScreen),
    /// Boxed: it holds the report on screen.
    Reports(Box<reports::ReportsScreen>),
}

impl Screen {
    pub(crate) fn handle_key(&mut self, ctx: &Ctx, key: KeyEvent) -> Option<Action> {
        match self {
            Screen::Queue(s) => s.handle_key(ctx, key),
            Screen::Ticket(s) => s.handle_key(ctx, key),
            Screen::Customer(s) => s.handle_key(ctx, key),
            Screen::Consent(s) => s.handle_key(ctx, key),
            Screen::Requests(s) => s.handle_key(key),
            Screen::Request(s) => s.handle_key(ctx, key),
            Screen::Audit(s) => s.handle_key(ctx, key),
            Screen::Quarantine(s) => s.handle_key(key),
            Screen::Notifications(s) => s.handle_key(ctx, key),
            Screen::NotifySettings(s) => s.handle_key(ctx, key),
            Screen::Reports(s) => s.handle_key(ctx, key),
        }
    }

    pub(crate) fn paste(&mut self, ctx: &Ctx, text: &str) -> Option<Action> {
        match self {
            Screen::Queue(s) => s.paste(ctx, text),
            Screen::Ticket(s) => s.paste(ctx, text),
            _ => None,
        }
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        match self {
            Screen::Queue(s) => s.choose(ctx, choice),
            Screen::Ticket(s) => s.choose(ctx, choice),
            Screen::Customer(s) => s.choose(ctx, choice),
            Screen::Consent(s) => s.choose(ctx, choice),
            Screen::Requests(_) => None,
            Screen::Request(s) => s.choose(ctx, choice),
            Screen::Audit(s) => s.choose(ctx, choice),
            Screen::Quarantine(s) => s.choose(ctx, choice),
            Screen::Notifications(_) | Screen::NotifySettings(_) | Screen::Reports(_) => None,
        }
    }

    /// Refreshes what the screen shows after `change`. The app shows the returned
    /// message only for the screen on top.
    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match self {
            Screen::Queue(s) => s.on_change(ctx, change),
            Screen::Ticket(s) => s.on_change(ctx, change),
            Screen::Customer(s) => s.on_change(ctx, change),
            Screen::Requests(s) => s.on_change(ctx, change),
            Screen::Request(s) => s.on_change(ctx, change),
            // Consent changes are not announced; the audit log is re-read on `r` only.
            Screen::Consent(_) | Screen::Audit(_) => None,
            Screen::Quarantine(s) => s.on_change(ctx, change),
            Screen::Notifications(s) => s.on_change(ctx, change),
            Screen::NotifySettings(_) => None,
            Screen::Reports(s) => s.on_change(change),
        }
    }

    /// The screen above this one was closed: catch up on what may have changed there
    /// without an announcement (cheap, unaudited reads only).
    pub(crate) fn revealed(&mut self, ctx: &Ctx) -> Option<Action> {
        match self {
            Screen::Queue(s) => s.reload_markers(ctx),
            Screen::Requests(s) => s.refresh(ctx),
            Screen::Request(s) => s.refresh(ctx),
            _ => None,
        }
    }

    /// Re-reads everything the screen shows.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        match self {
            Screen::Queue(s) => s.refresh(ctx),
            Screen::Ticket(s) => s.refresh(ctx),
            Screen::Customer(s) => s.refresh(ctx),
            Screen::Consent(s) => s.refresh(ctx),
            Screen::Requests(s) => s.refresh(ctx),
            Screen::Request(s) => s.refresh(ctx),
            Screen::Audit(s) => s.refresh(ctx),
            Screen::Quarantine(s) => s.refresh(ctx),
            Screen::Notifications(s) => s.refresh(ctx),
            Screen::NotifySettings(s) => s.refresh(ctx),
            Screen::Reports(s) => s.refresh(ctx),
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        match self {
            Screen::Queue(s) => s.draw(frame, area, look),
            Screen::Ticket(s) => s.draw(frame, area, look),
            Screen::Customer(s) => s.draw(frame, area, look),
            Screen::Consent(s) => s.draw(frame, area, look),
            Screen::Requests(s) => s.draw(frame, area, look),
            Screen::Request(s) => s.draw(frame, area, look),
            Screen::Audit(s) => s.draw(frame, area, look),
            Screen::Quarantine(s) => s.draw(frame, area, look),
            Screen::Notifications(s) => s.draw(frame, area, look),
            Screen::NotifySettings(s) => s.draw(frame, area, look),
            Screen::Reports(s) => s.draw(frame, area, look),
        }
    }

    pub(crate) fn help(&self) -> Vec<HelpSection> {
        match self {
            Screen::Queue(s) => s.help(),
            Screen::Ticket(_) => ticket::help(),
            Screen::Customer(_) => customer::help(),
            Screen::Consent(_) => consent::help(),
            Screen::Requests(_) => requests::help(),
            Screen::Request(_) => request::help(),
            Screen::Audit(_) => audit::help(),
            Screen::Quarantine(_) => quarantine::help(),
            Screen::Notifications(_) => notifications::help(),
            Screen::NotifySettings(_) => notify_settings::help(),
            Screen::Reports(_) => reports::help(),
        }
    }

    pub(crate) fn hints(&self) -> Vec<(String, &'static str)> {
        match self {
            Screen::Queue(s) => s.hints(),
            Screen::Ticket(s) => s.hints(),
            Screen::Customer(_) => customer::hints(),
            Screen::Consent(_) => consent::hints(),
            Screen::Requests(_) => requests::hints(),
            Screen::Request(_) => request::hints(),
            Screen::Audit(_) => audit::hints(),
            Screen::Quarantine(_) => quarantine::hints(),
            Screen::Notifications(_) => notifications::hints(),
            Screen::NotifySettings(_) => notify_settings::hints(),
            Screen::Reports(_) => reports::hints(),
        }
    }

    /// This screen's part of the breadcrumb ("Queue", "#12", a customer's name).
    pub(crate) fn crumb(&self) -> String {
        match self {
            Screen::Queue(_) => "Queue".into(),
            Screen::Ticket(s) => s.number().to_string(),
            Screen::Customer(s) => s.crumb(),
            Screen::Consent(s) => s.crumb(),
            Screen::Requests(_) => "Requests".into(),
            Screen::Request(s) => s.crumb(),
            Screen::Audit(_) => "Audit log".into(),
            Screen::Quarantine(_) => "Quarantine".into(),
            Screen::Notifications(_) => "Notifications".into(),
            Screen::NotifySettings(_) => "Notification settings".into(),
            Screen::Reports(_) => "Reports".into(),
        }
    }

    /// True while the screen is taking typed text (queue search, the reply editor), so
    /// global keys such as `T` and `?` are typed rather than acted on.
    pub(crate) fn captures_text(&self) -> bool {
        match self {
            Screen::Queue(s) => s.searching(),
            Screen::Ticket(s) => s.editing(),
            _ => false,
        }
    }

    /// True while the agent is writing a reply or note here (presence says "replying").
    pub(crate) fn replying(&self) -> bool {
        matches!(self, Screen::Ticket(s) if s.editing())
    }

    /// Once a second, for the screen on top: a draft typed into is saved.
    pub(crate) fn tick(&mut self, ctx: &Ctx) -> Option<Action> {
        match self {
            Screen::Ticket(s) => s.tick(ctx),
            Screen::Queue(s) => s.tick(ctx),
            Screen::Reports(s) => s.tick(ctx),
            _ => None,
        }
    }

    /// Just before drawing: reads what the frame will show that is read per frame
    /// (the queue's matching body lines).
    pub(crate) fn prepare(&mut self, ctx: &Ctx) {
        if let Screen::Queue(s) = self {
            s.prepare(ctx);
        }
    }

    /// The session is ending: whatever is being written is saved.
    pub(crate) fn end(&mut self, ctx: &Ctx) {
        if let Screen::Ticket(s) = self {
            s.end(ctx);
        }
    }

    /// The ticket this screen shows, for presence.
    pub(crate) fn ticket(&self) -> Option<TicketNo> {
        match self {
            Screen::Ticket(s) => Some(s.number()),
            _ => None,
        }
    }
}
