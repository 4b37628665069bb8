//! Mail in and out. [`parse`] turns raw RFC 5322 bytes into plain values for the desk,
//! which decides where they go (`desk::inbound`). [`smtp`] receives customers' mail over
//! SMTP or LMTP and hands each message to a [`smtp::MailSink`]; [`send`] delivers agents'
//! replies through an SMTP relay; [`outbox`] drives the desk's outbox through it. The
//! transports move bytes and report outcomes, so each side is testable without the other.

pub mod parse;
pub mod send;
pub mod smtp;

pub use send::new_message_id;
