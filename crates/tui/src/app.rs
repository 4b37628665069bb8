//! One agent's session: the screen stack, the popup over it, the status line, and the
//! loop-facing API the SSH session drives (`handle`, `on_change`, `tick`, `draw`).
//!
//! Screens and popups never change the stack themselves; they return [`Action`]s and
//! [`App::perform`] carries them out, so every transition happens in one place.

use super::action::Action;
use super::event::{Event, KeyEvent};
use super::keymap::{self, bind, ch, ctrl, lookup, Binding, HelpSection};
use super::popups::{
    template_manager, templates, HelpPopup, MessagesPopup, Outcome, Picker, Popup, Prompt,
};
use super::screens::audit::AuditScreen;
use super::screens::consent::ConsentScreen;
use super::screens::customer::CustomerScreen;
use super::screens::notifications::NotificationsScreen;
use super::screens::notify_settings::NotifySettingsScreen;
use super::screens::quarantine::QuarantineScreen;
use super::screens::queue::QueueScreen;
use super::screens::reports::ReportsScreen;
use super::screens::request::RequestScreen;
use super::screens::requests::RequestsScreen;
use super::screens::ticket::TicketScreen;
use super::screens::{Ctx, Look, Screen};
use super::status::{StatusLine, StatusView};
use super::theme::{self, Role, Theme};
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::Block;
use ratatui::Frame;
use sealdesk_api::{Activity, Actor, Change, DeskPort, Found};
use sealdesk_model::{Agent, AgentRole, TicketNo, Timestamp};
use std::path::PathBuf;
use std::sync::Arc;

/// Who this session is: set once at login by the SSH server.
pub struct SessionInfo {
    /// Unique per connection; presence is tracked by it.
    pub id: u64,
    pub agent: Agent,
    pub actor: Actor,
    /// How this agent reaches the desk's files, `sftp -P PORT NAME@HOST:` as they
    /// connected; the ticket screen prints it before a file's path.
    pub sftp: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum GlobalKey {
    Help,
    Find,
    Theme,
    Signature,
    Notifications,
    NotifySettings,
    Messages,
    Quit,
}

/// Keys that work on every screen (unless a popup or a text field has them).
const GLOBAL_KEYS: &[Binding<GlobalKey>] = &[
    bind(
        &[ch('?')],
        GlobalKey::Help,
        "show the keys of this screen",
        Some("help"),
    ),
    bind(
        &[ch('F')],
        GlobalKey::Find,
        "find a customer or ticket (address, name, number, words)",
        None,
    ),
    bind(&[ch('T')], GlobalKey::Theme, "choose a colour theme", None),
    bind(
        &[ch('W')],
        GlobalKey::Signature,
        "write the signature under your replies",
        None,
    ),
    bind(
        &[ch('N')],
        GlobalKey::Notifications,
        "your notifications, newest first",
        None,
    ),
    bind(
        &[ch('O')],
        GlobalKey::NotifySettings,
        "choose what you are notified of",
        None,
    ),
    bind(
        &[ch('H')],
        GlobalKey::Messages,
        "the last messages of the status line, whole",
        None,
    ),
    bind(
        &[ctrl('c')],
        GlobalKey::Quit,
        "quit sealdesk, from anywhere",
        None,
    ),
];

/// What screens may use, borrowed field by field so the screen stack stays free to
/// borrow mutably alongside it.
macro_rules! ctx {
    ($app:expr) => {
        Ctx {
            desk: &*$app.desk,
            session: &$app.session,
        }
    };
}

/// More distinct changes than this arriving together reload the screens instead of
/// being applied one by one: at 100,000 tickets a row move costs ~20–40 µs and a
/// reload ~10 ms (`sealdesk-bench queue`), so past a few hundred the reload is cheaper.
pub const BURST: usize = 256;

pub struct App {
    desk: Arc<dyn DeskPort>,
    session: SessionInfo,
    theme: Theme,
    themes_dir: PathBuf,
    no_color: bool,
    /// Never empty: the queue is at the bottom.
    screens: Vec<Screen>,
    popup: Option<Popup>,
    status: StatusLine,
    now: Timestamp,
    /// The highest ticket number seen, to tell new tickets from changed ones.
    newest: TicketNo,
    /// New tickets since the agent last pressed a key, for "3 new tickets".
    new_tickets: usize,
    /// Where this session last told the desk it is, so a key that moves nothing does not
    /// take the desk's presence lock (a flood of keys would take it for every one).
    presence: Option<(TicketNo, Activity)>,
    /// The agent's unread notifications, for the status line.
    unread: usize,
    quit: bool,
}

impl App {
    pub fn new(
        desk: Arc<dyn DeskPort>,
        session: SessionInfo,
        theme: Theme,
        themes_dir: PathBuf,
        no_color: bool,
    ) -> App {
        let now = Timestamp::now();
        let ctx = Ctx {
            desk: &*desk,
            session: &session,
        };
        let (queue, problem) = QueueScreen::open(&ctx);
        let newest = desk.newest_ticket().unwrap_or(TicketNo(0));
        let mut app = App {
            desk,
            session,
            theme,
            themes_dir,
            no_color,
            screens: vec![Screen::Queue(Box::new(queue))],
            popup: None,
            status: StatusLine::default(),
            now,
            newest,
            new_tickets: 0,
            presence: None,
            unread: 0,
            quit: false,
        };
        app.count_unread();
        app.run(problem);
        app
    }

    /// Goes where the session was asked to start (a deep link): a ticket, or the queue
    /// with a saved view; an unknown one leaves the queue, with a one-line message.
    pub fn start_at(&mut self, at: crate::StartAt) {
        let action = match at {
            crate::StartAt::Ticket(n) => Some(Action::OpenTicket(n)),
            crate::StartAt::View(name) => {
                let ctx = ctx!(self);
                match self.screens.first_mut() {
                    Some(Screen::Queue(queue)) => queue.switch_to_view_named(&ctx, &name),
                    _ => None,
                }
            }
        };
        self.run(action);
        self.sync_presence();
    }

    /// The agent's role, for actions only admins may take.
    pub fn role(&self) -> AgentRole {
        self.session.agent.role
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Keys, pastes and resizes from the agent's terminal.
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Key(key) => self.on_key(key),
            Event::Paste(text) => self.on_paste(&text),
            // The next draw uses the new size; nothing is cached per size.
            Event::Resize { .. } => {}
        }
        self.sync_presence();
    }

    fn on_key(&mut self, key: KeyEvent) {
        self.new_tickets = 0;
        let global = lookup(GLOBAL_KEYS, key);
        if global == Some(GlobalKey::Quit) {
            self.quit = true;
            return;
        }
        let action = if let Some(popup) = &mut self.popup {
            match popup.handle(key) {
                Outcome::Stay => None,
                Outcome::Close => {
                    self.popup = None;
                    None
                }
                Outcome::Done(action) => {
                    self.popup = None;
                    Some(action)
                }
            }
        } else if global.is_some() && !self.top().captures_text() {
            match global {
                Some(GlobalKey::Help) => Some(Action::Help),
                Some(GlobalKey::Find) => Some(Action::popup(Popup::Prompt(Prompt::new(
                    "Find: an address, part of a name, or a ticket number",
                    "",
                    Action::Find,
                )))),
                Some(GlobalKey::Signature) => Some(self.signature_prompt()),
                Some(GlobalKey::Notifications) => Some(Action::OpenNotifications),
                Some(GlobalKey::NotifySettings) => Some(Action::OpenNotifySettings),
                Some(GlobalKey::Messages) => Some(Action::ShowMessages),
                _ => Some(Action::PickTheme),
            }
        } else {
            let ctx = ctx!(self);
            let top = self.screens.last_mut().expect("the queue is always there");
            top.handle_key(&ctx, key)
        };
        self.run(action);
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(popup) = &mut self.popup {
            popup.paste(text);
            return;
        }
        let ctx = ctx!(self);
        let top = self.screens.last_mut().expect("the queue is always there");
        let action = top.paste(&ctx, text);
        self.run(action);
    }

    /// Something changed in the desk (another session, arriving mail): every screen
    /// reloads what it shows; only the top screen's message reaches the status line.
    pub fn on_change(&mut self, change: Change) {
        self.count_new_ticket(&change);
        if matches!(&change, Change::Notified(name) if *name == self.session.agent.name) {
            self.count_unread();
        }
        if change == Change::Agents {
            self.follow_own_record();
        }
        let ctx = ctx!(self);
        let top = self.screens.len() - 1;
        let mut action = None;
        for (i, screen) in self.screens.iter_mut().enumerate() {
            let said = screen.on_change(&ctx, &change);
            if i == top {
                action = said;
            }
        }
        self.run(action);
        self.sync_presence();
    }

    /// Changes that arrived together (a burst of mail). Each ticket is handled once;
    /// past [`BURST`] distinct changes every screen reloads once instead, which costs
    /// one query rather than thousands of row moves.
    pub fn on_changes(&mut self, changes: &[Change]) {
        let mut seen = std::collections::HashSet::new();
        let distinct: Vec<&Change> = changes.iter().filter(|c| seen.insert(*c)).collect();
        if distinct.len() <= BURST {
            for change in distinct {
                self.on_change(change.clone());
            }
            return;
        }
        for change in distinct {
            self.count_new_ticket(change);
        }
        self.resync();
    }

    /// Agents changed: if it was this agent's role, the session follows at once (the
    /// desk checks the role on every operation anyway); admin-only screens close, and
    /// the status line says why. A removed agent's session ends.
    fn follow_own_record(&mut self) {
        let current = match self.desk.agents() {
            Ok(agents) => agents.into_iter().find(|a| a.id == self.session.agent.id),
            Err(_) => return,
        };
        let Some(current) = current else {
            self.status
                .error("your agent account was removed: this session ends");
            self.quit = true;
            return;
        };
        if current.role == self.session.agent.role {
            return;
        }
        self.session.agent.role = current.role;
        if current.role != AgentRole::Admin {
            self.screens
                .retain(|s| !matches!(s, Screen::Audit(_) | Screen::Quarantine(_)));
            self.popup = None;
        }
        let text = format!(
            "an admin changed your role to {}: it applies from now on",
            current.role.as_str()
        );
        self.status.info(&text);
    }

    fn count_unread(&mut self) {
        if let Ok(n) = self.desk.unread_notifications(&self.session.actor) {
            self.unread = n;
        }
    }

    /// "3 new tickets" on the status line when a ticket above the newest one known
    /// appears.
    fn count_new_ticket(&mut self, change: &Change) {
        let Change::Ticket(n) = *change else { return };
        if n > self.newest {
            self.newest = n;
            self.new_tickets += 1;
            let s = if self.new_tickets == 1 { "" } else { "s" };
            let text = format!("{} new ticket{s}", self.new_tickets);
            self.status.count(&text);
        }
    }

    /// Reloads every screen. For when changes were missed: the desk's change channel
    /// drops the oldest for a session that falls behind (`RecvError::Lagged`).
    pub fn resync(&mut self) {
        let ctx = ctx!(self);
        let top = self.screens.len() - 1;
        let mut action = None;
        for (i, screen) in self.screens.iter_mut().enumerate() {
            let said = screen.refresh(&ctx);
            if i == top {
                action = said;
            }
        }
        self.run(action);
        self.count_unread();
        self.sync_presence();
    }

    /// About once a second: ages move on and messages expire.
    pub fn tick(&mut self) {
        self.now = Timestamp::now();
        if self.status.tick() {
            self.new_tickets = 0;
        }
        let ctx = ctx!(self);
        let top = self.screens.last_mut().expect("the queue is always there");
        let action = top.tick(&ctx);
        self.run(action);
    }

    /// The session ends (the agent quit, the client went away, the server is stopping):
    /// the draft being written is saved. Safe to call more than once.
    pub fn end_session(&mut self) {
        let ctx = ctx!(self);
        for screen in &mut self.screens {
            screen.end(&ctx);
        }
    }

    pub fn draw(&mut self, frame: &mut Frame) {
        let area = frame.area();
        frame.render_widget(Block::new().style(self.theme.style(Role::Base)), area);
        if area.width == 0 || area.height == 0 {
            return;
        }
        let hints = match &self.popup {
            Some(popup) => popup.hints(),
            None if self.top().captures_text() => self.top().hints(),
            None => {
                // "? help" first: the screen's own hints may not all fit.
                let mut hints = keymap::hints(GLOBAL_KEYS);
                hints.extend(self.top().hints());
                hints
            }
        };
        let crumbs: Vec<String> = self.screens.iter().map(Screen::crumb).collect();
        let mut who = format!(
            "{} ({})",
            self.session.agent.name,
            self.session.agent.role.as_str()
        );
        if self.unread > 0 {
            who.push_str(&format!(" · {} unread (N)", self.unread));
        }
        let crumbs = crumbs.join(" › ");
        let view = StatusView {
            who: &who,
            crumbs: &crumbs,
            hints: &hints,
        };
        // A long message takes more lines while it shows; the screen keeps at least half.
        let lines = self
            .status
            .height(area.width, &view)
            .min(area.height / 2)
            .max(1);
        let [main, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(lines)]).areas(area);
        let look = Look {
            theme: &self.theme,
            now: self.now,
        };
        let top = self.screens.last_mut().expect("the queue is always there");
        top.prepare(&ctx!(self));
        top.draw(frame, main, &look);
        if let Some(popup) = &mut self.popup {
            popup.draw(frame, main, &self.theme);
        }
        self.status.draw(frame, status, &self.theme, &view);
    }

    fn top(&self) -> &Screen {
        self.screens.last().expect("the queue is always there")
    }

    /// Carries out `action` and whatever it leads to.
    fn run(&mut self, mut action: Option<Action>) {
        while let Some(next) = action {
            action = self.perform(next);
        }
    }

    fn perform(&mut self, action: Action) -> Option<Action> {
        match action {
            Action::Quit => self.quit = true,
            Action::Back => {
                if self.screens.len() > 1 {
                    self.screens.pop();
                    let ctx = ctx!(self);
                    let top = self.screens.last_mut().expect("the queue is always there");
                    return top.revealed(&ctx);
                }
            }
            Action::OpenTicket(n) => match TicketScreen::open(&ctx!(self), n) {
                Ok(screen) => self.screens.push(Screen::Ticket(Box::new(screen))),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenTicketFound(n, text) => match TicketScreen::open(&ctx!(self), n) {
                Ok(mut screen) => {
                    screen.jump_to_words(&text);
                    self.screens.push(Screen::Ticket(Box::new(screen)));
                }
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenCustomer(id) => match CustomerScreen::open(&ctx!(self), id) {
                Ok(screen) => self.screens.push(Screen::Customer(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenConsent(id) => match ConsentScreen::open(&ctx!(self), id) {
                Ok(screen) => self.screens.push(Screen::Consent(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenRequests => match RequestsScreen::open(&ctx!(self)) {
                Ok(screen) => self.screens.push(Screen::Requests(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenRequest(id) => match RequestScreen::open(&ctx!(self), id) {
                Ok(screen) => self.screens.push(Screen::Request(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            // The desk refuses agents, with the reason, and audits each look.
            Action::OpenAudit => match AuditScreen::open(&ctx!(self)) {
                Ok(screen) => self.screens.push(Screen::Audit(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenQuarantine => match QuarantineScreen::open(&ctx!(self)) {
                Ok(screen) => self.screens.push(Screen::Quarantine(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenNotifications => match NotificationsScreen::open(&ctx!(self)) {
                Ok(screen) => self.screens.push(Screen::Notifications(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenNotifySettings => match NotifySettingsScreen::open(&ctx!(self)) {
                Ok(screen) => self.screens.push(Screen::NotifySettings(screen)),
                Err(e) => return Some(Action::Error(e.to_string())),
            },
            Action::OpenReports => {
                let screen = ReportsScreen::open(&ctx!(self));
                self.screens.push(Screen::Reports(Box::new(screen)));
            }
            Action::Find(text) => return Some(self.find(&text)),
            Action::Many(actions) => {
                for action in actions {
                    self.run(Some(action));
                }
            }
            Action::Popup(popup) => self.popup = Some(*popup),
            Action::Help => {
                let sections = self.help_sections();
                let title = format!("Keys: {}", self.top().crumb());
                self.popup = Some(Popup::Help(HelpPopup::new(title, sections)));
            }
            Action::ShowMessages => {
                let messages = MessagesPopup::new(self.status.history());
                self.popup = Some(Popup::Messages(messages));
            }
            Action::PickTheme => self.popup = Some(Popup::Picker(self.theme_picker())),
            Action::SetTheme(name) => return self.set_theme(&name),
            Action::SetSignature(text) => return Some(self.set_signature(&text)),
            Action::Info(text) => self.status.info(&text),
            Action::Error(text) => self.status.error(&text),
            Action::PickMacro(tickets) => {
                return Some(templates::macro_picker(&ctx!(self), tickets))
            }
            Action::ApplyMacro { name, tickets } => {
                return Some(templates::apply_macro(&ctx!(self), &name, &tickets))
            }
            Action::ManageTemplates => {
                return Some(template_manager::manager(&ctx!(self), None, None))
            }
            Action::ChangeTemplate(change) => {
                return Some(template_manager::change(&ctx!(self), change))
            }
            Action::Choice(choice) => {
                let ctx = ctx!(self);
                let top = self.screens.last_mut().expect("the queue is always there");
                return top.choose(&ctx, choice);
            }
        }
        None
    }

    /// The global search (audited in the desk): one match opens, several are listed;
    /// tickets whose bodies hold the words are listed with the matching line.
    fn find(&self, text: &str) -> Action {
        let actor = &self.session.actor;
        let found = self.desk.search(actor, text);
        if let Ok(Found::Ticket(n)) = found {
            return Action::OpenTicket(n);
        }
        let tickets = match self.desk.find_in_bodies(actor, text) {
            Ok(tickets) => tickets,
            Err(e) if found.is_err() => return Action::Error(e.to_string()),
            Err(_) => Vec::new(),
        };
        let customers = match found {
            Ok(Found::Customers(found)) => found,
            Ok(Found::Ticket(_)) => Vec::new(),
            Err(e) if tickets.is_empty() => return Action::Error(e.to_string()),
            Err(_) => Vec::new(),
        };
        if tickets.is_empty() && customers.len() == 1 {
            return Action::OpenCustomer(customers[0].0);
        }
        let title = match (customers.len(), tickets.len()) {
            (0, t) => format!("{t} tickets match"),
            (c, 0) => format!("{c} customers match"),
            (c, t) => format!("{c} customers and {t} tickets match"),
        };
        let items = customers
            .into_iter()
            .map(|(id, label)| (label, Action::OpenCustomer(id)))
            .chain(
                tickets
                    .into_iter()
                    .map(|(n, label)| (label, Action::OpenTicketFound(n, text.to_string()))),
            )
            .collect();
        Action::popup(Popup::Picker(Picker::new(title, items, 0)))
    }

    fn theme_picker(&self) -> Picker {
        let names = theme::available_themes(&self.themes_dir);
        let current = names.iter().position(|n| *n == self.theme.name);
        let items = names
            .into_iter()
            .map(|name| (name.clone(), Action::SetTheme(name)))
            .collect();
        Picker::new("Theme", items, current.unwrap_or(0))
    }

    /// Applies a theme at once and remembers it for the agent's next session; a theme
    /// that fails to load is reported and not remembered.
    fn set_theme(&mut self, name: &str) -> Option<Action> {
        let (theme, warning) = theme::load_theme(&self.themes_dir, name, self.no_color);
        self.theme = theme;
        if let Some(warning) = warning {
            return Some(Action::Error(warning));
        }
        let agent = self.session.agent.name.clone();
        match self.desk.set_agent_theme(&self.session.actor, &agent, name) {
            Ok(()) => {
                self.session.agent.theme = Some(name.to_string());
                Some(Action::Info(format!("theme {name} (saved for next time)")))
            }
            Err(e) => Some(Action::Error(format!(
                "theme {name} applied but not saved: {e}"
            ))),
        }
    }

    /// The signature in one line: `\n` stands for a line break.
    fn signature_prompt(&self) -> Action {
        let current = self
            .session
            .agent
            .signature
            .as_deref()
            .unwrap_or("")
            .replace('\n', "\\n");
        Action::popup(Popup::Prompt(
            Prompt::new("Your signature", &current, Action::SetSignature).with_detail(
                "Put under every reply you send, above the support address's. Type \\n for a new line; {customer.name}, {ticket}, {agent}, {address.name} are filled in. Empty removes it.",
            ),
        ))
    }

    fn set_signature(&mut self, typed: &str) -> Action {
        let text = typed.replace("\\n", "\n");
        let me = self.session.agent.name.clone();
        let signature = Some(text.as_str()).filter(|t| !t.trim().is_empty());
        match self.desk.set_signature(&self.session.actor, &me, signature) {
            Ok(agent) => {
                let said = if agent.signature.is_some() {
                    "signature saved: it goes under your replies"
                } else {
                    "no signature under your replies"
                };
                self.session.agent.signature = agent.signature;
                Action::Info(said.into())
            }
            Err(e) => Action::Error(e.to_string()),
        }
    }

    /// Tells the desk which ticket this session is on, and whether it is replying.
    fn sync_presence(&mut self) {
        let replying = self.top().replying();
        let at = self.top().ticket().map(|n| {
            let activity = if replying {
                Activity::Replying
            } else {
                Activity::Viewing
            };
            (n, activity)
        });
        if at == self.presence {
            return;
        }
        self.presence = at;
        self.desk
            .set_presence(self.session.id, &self.session.agent.name, at);
    }

    /// The top screen's keys, then the global ones: the `?` page.
    pub fn help_sections(&self) -> Vec<HelpSection> {
        let mut sections = self.top().help();
        sections.push(keymap::help_section("Everywhere", GLOBAL_KEYS));
        sections
    }
}

/// A session that ends keeps its draft and leaves every ticket.
impl Drop for App {
    fn drop(&mut self) {
        self.end_session();
        self.desk
            .set_presence(self.session.id, &self.session.agent.name, None);
    }
}
