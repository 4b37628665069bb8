//! The agents' terminal UI: our own input events, themes, and the screens.
//! Nothing here depends on russh or crossterm types, and nothing here touches the
//! store: screens call the desk through [`sealdesk_api::DeskPort`] only (this crate
//! depends on `sealdesk-api` and the model, not on the desk, the store or sled).
//!
//! Layout: [`app`] owns the screen stack and is what the SSH session drives;
//! `screens/` are the full-size views (one file each), `popups/` the dialogs over them,
//! `widgets/` what several screens share (the list and scroll helper);
//! `keymap` holds the key tables that drive both key handling and help; `privacy` what
//! the privacy screens share (opening requests, writing exports, due-date wording).

mod action;
pub mod app;
mod display;
pub mod event;
mod field;
pub mod input;
mod keymap;
mod popups;
mod privacy;
mod screens;
mod sla;
mod start;
mod status;
#[cfg(test)]
mod test_desk;
pub mod theme;
mod widgets;

pub use app::{App, SessionInfo};
pub use keymap::HelpSection;
/// How many audit events the audit screen holds at once (older ones page in).
pub use screens::audit::WINDOW as AUDIT_WINDOW;
pub use start::StartAt;
