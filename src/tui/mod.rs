//! The agents' terminal UI: our own input events, themes, and (to come) the screens.
//! Nothing here depends on russh or crossterm types.

pub mod event;
pub mod theme;
