//! sealdesk: a self-hosted helpdesk for small teams in one binary, with privacy built in.
//!
//! Data flows one way: adapters (the CLI here; SSH and mail later) call operations in
//! [`desk`], which go through the sealed [`store`]. [`model`] holds the plain types.

pub mod archive;
pub mod cli;
pub mod config;
pub mod control;
pub mod demo;
pub mod desk;
pub mod harden;
pub mod mail;
pub mod model;
pub mod sanitize;
pub mod ssh;
pub mod store;
pub mod totp;
pub mod tui;
