//! Mail transport: [`smtp`] receives customers' mail over SMTP or LMTP and hands each
//! message to a [`smtp::MailSink`]; [`send`] delivers agents' replies through an SMTP
//! relay. Neither parses or stores mail: they move bytes and report outcomes, so the
//! parsing, threading and storage side can be tested without sockets, and these without
//! a desk.

pub mod send;
pub mod smtp;
