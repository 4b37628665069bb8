//! The SSH front end. For now: turning the raw bytes a terminal sends into our own
//! [`crate::tui::event::Event`]s.

pub mod input;
