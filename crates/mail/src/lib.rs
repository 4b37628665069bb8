//! Mail in and out, knowing nothing of the desk. [`parse`] turns raw RFC 5322 bytes into
//! plain values for the desk, which decides where they go (`desk::inbound`). [`smtp`]
//! receives customers' mail over SMTP or LMTP and hands each message to a
//! [`smtp::MailSink`] (the desk's is `desk::DeskSink`); [`send`] delivers an
//! `OutgoingMail` through an SMTP relay (the desk's outbox worker drives it:
//! `desk::run_outbox`). The transports move bytes and report outcomes, so each side is
//! testable without the other.

// Part 11: hosted mailboxes over IMAP.
pub mod imap;
pub mod mbox;
pub mod parse;
// Part 11: password files and OAuth2 token commands.
pub mod secret;
pub mod send;
pub mod smtp;

pub use send::new_message_id;
