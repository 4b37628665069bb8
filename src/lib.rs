//! sealdesk: a self-hosted helpdesk for small teams in one binary, with privacy built in.
//!
//! This crate is the binary's adapters: the CLI ([`cli`]), the SSH server (`ssh`), the
//! control socket (`control`) and the demo. They call operations in `sealdesk_desk`, which
//! go through the sealed `sealdesk_store`; `sealdesk_tui` draws the screens and
//! `sealdesk_mail` speaks SMTP. See docs/architecture.md for the map.

pub mod cli;
pub mod control;

pub mod harden;
pub mod memory;
pub mod ssh;
