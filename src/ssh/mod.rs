//! The SSH front end: agents run `ssh -p 2222 NAME@desk` and get the terminal UI.
//!
//! [`server`] accepts connections within [`limits`]; each is a [`connection`] that
//! authenticates with [`auth`] and turns session channels into [`session`]s, each on a
//! thread of its own, which draw a [`ui::SessionUi`] on an in-memory [`terminal`] and
//! parse keys with `sealdesk_tui::input`.

mod auth;
mod connection;
mod exec;
mod limits;
mod server;
mod session;
mod sftp;
mod terminal;
pub mod ui;

pub use server::{serve, ServerOptions, SshServer};
pub use ui::{app_factory, SessionUi, UiContext, UiFactory};
