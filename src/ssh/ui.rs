//! The contract between the SSH server and whatever a session shows.
//!
//! The server owns the terminal, the input parser and the timing; the UI only reacts to
//! plain values and draws into a ratatui [`Frame`](ratatui::Frame). That keeps the UI
//! testable without SSH, and the server testable with a tiny fake UI.

use crate::desk::{Actor, Change, Desk};
use crate::model::Agent;
use crate::tui::event::Event;
use std::sync::Arc;

/// What a session shows. The TUI's App implements it; tests use a tiny fake.
pub trait SessionUi: Send {
    /// A key, paste or resize from the agent's terminal.
    fn handle(&mut self, event: Event);
    /// Something on the desk changed (another session, mail, the CLI).
    fn on_change(&mut self, change: Change);
    /// Called once a second, for clocks, "due in" countdowns and expiring messages.
    fn tick(&mut self);
    fn draw(&mut self, frame: &mut ratatui::Frame);
    /// Checked after every event; `true` ends the session cleanly.
    fn should_quit(&self) -> bool;
    /// The session fell behind the desk's change announcements and missed some, so
    /// anything shown may be stale: reload it all. The default does nothing, which
    /// leaves stale data on screen until the next change; the App should override it.
    fn reload(&mut self) {}
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
}
