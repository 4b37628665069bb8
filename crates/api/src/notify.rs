//! What the TUI shows of an agent's notification settings (Part 10).

use sealdesk_model::NotifyPrefs;

/// An agent's notification topics and where their notification mail goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifySettings {
    pub prefs: NotifyPrefs,
    /// Where their notification mail goes (`agent set NAME --email`); None: the list
    /// in the TUI only.
    pub email: Option<String>,
}
