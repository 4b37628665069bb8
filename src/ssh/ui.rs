//! The contract between the SSH server and whatever a session shows.
//!
//! The server owns the terminal, the input parser and the timing; the UI only reacts to
//! plain values and draws into a ratatui [`Frame`](ratatui::Frame). That keeps the UI
//! testable without SSH, and the server testable with a tiny fake UI.

use sealdesk_desk::{Actor, Change, Desk};
use sealdesk_model::Agent;
use sealdesk_tui::event::Event;
use std::sync::Arc;

/// What a session shows. The TUI's App implements it; tests use a tiny fake.
pub trait SessionUi: Send {
    /// A key, paste or resize from the agent's terminal.
    fn handle(&mut self, event: Event);
    /// Something on the desk changed (another session, mail, the CLI).
    fn on_change(&mut self, change: Change);
    /// Several changes arrived together (a burst of mail): the App handles them in one
    /// pass. The default takes them one at a time.
    fn on_changes(&mut self, changes: &[Change]) {
        for change in changes {
            self.on_change(change.clone());
        }
    }
    /// Called once a second, for clocks, "due in" countdowns and expiring messages.
    fn tick(&mut self);
    fn draw(&mut self, frame: &mut ratatui::Frame);
    /// Checked after every event; `true` ends the session cleanly.
    fn should_quit(&self) -> bool;
    /// The session fell behind the desk's change announcements and missed some, so
    /// anything shown may be stale: reload it all. The default does nothing, which
    /// leaves stale data on screen until the next change; the App should override it.
    fn reload(&mut self) {}
    /// The session is ending, however (quit, the client gone, shutdown, idle): keep
    /// what must not be lost, such as the draft being written. Called once, before the
    /// terminal is restored.
    fn end(&mut self) {}
}

/// Builds the UI for a logged-in agent.
pub type UiFactory = Arc<dyn Fn(UiContext) -> Box<dyn SessionUi> + Send + Sync>;

/// Everything a UI needs to know about the session it serves.
pub struct UiContext {
    pub desk: Arc<Desk>,
    /// Unique while the server runs; the key for [`Desk::set_presence`].
    pub session_id: u64,
    pub agent: Agent,
    /// Who acts in this session, for every desk operation (goes into the audit log).
    pub actor: Actor,
    /// The agent's client asked for no colour (NO_COLOR sent with `SetEnv`/`SendEnv`).
    pub no_color: bool,
    /// The address the agent connected to (for the `sftp` command the TUI shows).
    pub connected_to: Option<std::net::SocketAddr>,
    /// Where to start (`ssh -t … open N`, `… queue VIEW`), if asked.
    pub start: Option<sealdesk_tui::StartAt>,
}

/// The agents' TUI as a session's UI.
impl SessionUi for sealdesk_tui::App {
    fn handle(&mut self, event: Event) {
        sealdesk_tui::App::handle(self, event)
    }
    fn on_change(&mut self, change: Change) {
        sealdesk_tui::App::on_change(self, change)
    }
    fn on_changes(&mut self, changes: &[Change]) {
        sealdesk_tui::App::on_changes(self, changes)
    }
    fn tick(&mut self) {
        sealdesk_tui::App::tick(self)
    }
    fn draw(&mut self, frame: &mut ratatui::Frame) {
        sealdesk_tui::App::draw(self, frame)
    }
    fn should_quit(&self) -> bool {
        sealdesk_tui::App::should_quit(self)
    }
    fn reload(&mut self) {
        self.resync()
    }
    fn end(&mut self) {
        self.end_session()
    }
}

/// Builds the real TUI for each session, with the agent's theme from `themes_dir`
/// (shipped themes are built in, so a missing dir still works).
pub fn app_factory(themes_dir: std::path::PathBuf) -> UiFactory {
    Arc::new(move |ctx: UiContext| {
        let name = ctx
            .agent
            .theme
            .clone()
            .unwrap_or_else(|| sealdesk_tui::theme::DEFAULT_THEME.to_string());
        let (theme, warning) = sealdesk_tui::theme::load_theme(&themes_dir, &name, ctx.no_color);
        if let Some(w) = warning {
            tracing::warn!("{}", sealdesk_model::sanitize::line(&w));
        }
        let sftp = ctx.connected_to.map(|addr| {
            let host = match addr.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            format!("sftp -P {} {}@{host}:", addr.port(), ctx.agent.name)
        });
        let session = sealdesk_tui::SessionInfo {
            id: ctx.session_id,
            agent: ctx.agent,
            actor: ctx.actor,
            sftp,
        };
        let mut app =
            sealdesk_tui::App::new(ctx.desk, session, theme, themes_dir.clone(), ctx.no_color);
        if let Some(at) = ctx.start {
            app.start_at(at);
        }
        Box::new(app) as Box<dyn SessionUi>
    })
}
