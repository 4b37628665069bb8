//! One SMTP/LMTP connection: reading lines, the command state machine, DATA, replies.
//!
//! Pipelining comes from the buffering: commands are read from a buffered reader and
//! replies collected in a buffered writer, which is flushed only when the reader has
//! nothing left, i.e. right before we would wait for the client. Replies therefore go
//! out in order, in as few packets as the client's pipelined groups allow.
//!
//! Between messages the client gets the short `idle_before_mail` per line; a message
//! gets `idle_timeout` per line and `message_deadline` as a whole, from MAIL to the
//! final dot, so a trickle of bytes cannot hold a connection for ever.

use super::admission::Seat;
use super::command::{self, Command, ParseError};
use super::{DeliveryOutcome, Envelope, LmtpMode, MailSink, SmtpOptions};
use sealdesk_model::sanitize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// RFC 5321 allows 512 octets; extensions push real clients past that, so be generous.
const MAX_COMMAND_LINE: usize = 4096;
/// DATA is read in pieces of at most this size. Lines longer than RFC 5321's 1000
/// octets are common in real mail and are accepted: only `max_size` bounds a message.
const DATA_CHUNK: usize = 64 * 1024;
/// Syntax and sequence errors before we decide the peer is not a mail client.
const MAX_ERRORS: u32 = 10;
/// Longest sink-supplied reason we put in a reply.
const MAX_REASON: usize = 200;

/// Why a session stopped reading.
enum End {
    Eof,
    Timeout,
    /// The message under way was not complete within `message_deadline`.
    TooSlow,
    /// A newcomer needed the place while this connection had no message under way.
    PushedOut,
    /// The client stopped reading our replies (its window stayed full).
    Stalled,
    Shutdown,
    Io(std::io::Error),
}

enum Flow {
    Continue,
    Close,
}

enum CommandLine {
    Text(String),
    TooLong,
    NotUtf8,
}

struct Transaction {
    from: String,
    rcpts: Vec<String>,
    /// The size limit in force when MAIL was accepted.
    max_size: usize,
}

struct Session<R, W> {
    reader: BufReader<R>,
    writer: BufWriter<W>,
    options: Arc<SmtpOptions>,
    sink: Arc<dyn MailSink>,
    stopped: watch::Receiver<bool>,
    peer: SocketAddr,
    helo: Option<String>,
    lmtp: bool,
    transaction: Option<Transaction>,
    /// When the message under way must be complete; `None` between messages.
    deadline: Option<Instant>,
    seat: Seat,
    errors: u32,
}

pub(super) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    options: Arc<SmtpOptions>,
    sink: Arc<dyn MailSink>,
    stopped: watch::Receiver<bool>,
    seat: Seat,
) {
    let (read, write) = stream.into_split();
    let mut session = Session {
        reader: BufReader::new(read),
        writer: BufWriter::new(write),
        options,
        sink,
        stopped,
        peer,
        helo: None,
        lmtp: false,
        transaction: None,
        deadline: None,
        seat,
        errors: 0,
    };
    tracing::debug!(%peer, "smtp connection opened");
    match session.converse().await {
        Ok(()) | Err(End::Eof) => tracing::debug!(%peer, "smtp connection closed"),
        Err(End::Io(e)) => tracing::debug!(%peer, "smtp connection failed: {e}"),
        Err(End::Stalled) => tracing::debug!(%peer, "smtp client stopped reading, closed"),
        Err(End::Timeout | End::TooSlow | End::PushedOut | End::Shutdown) => {}
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Session<R, W> {
    async fn converse(&mut self) -> Result<(), End> {
        let kind = if self.options.lmtp == LmtpMode::Only {
            "LMTP"
        } else {
            "ESMTP"
        };
        let greeting = format!("220 {} {kind} sealdesk ready", self.options.hostname);
        self.reply(&greeting).await?;
        let result = self.command_loop().await;
        let goodbye = match &result {
            Err(End::Timeout) => Some(("4.4.2", "Idle timeout, closing connection")),
            Err(End::TooSlow) => Some(("4.4.2", "Message took too long, closing connection")),
            Err(End::PushedOut) => Some(("4.3.2", "Too busy, closing idle connection")),
            Err(End::Shutdown) => Some(("4.3.2", "Service shutting down, try again later")),
            _ => None,
        };
        // After a stall there is no point in a goodbye: nobody reads it.
        if let Some((status, text)) = goodbye {
            tracing::debug!(peer = %self.peer, "smtp: {text}");
            let line = format!("421 {status} {} {text}", self.options.hostname);
            let _ = self.reply(&line).await;
        }
        if !matches!(result, Err(End::Stalled | End::Io(_))) {
            let _ = self.flush().await;
        }
        result
    }

    async fn command_loop(&mut self) -> Result<(), End> {
        loop {
            let flow = match self.read_command().await? {
                CommandLine::TooLong => self.error("500 5.5.6 Line too long").await?,
                CommandLine::NotUtf8 => self.error(command::UNRECOGNIZED.0).await?,
                CommandLine::Text(line) => match command::parse(&line) {
                    Ok(command) => self.handle(command).await?,
                    Err(ParseError(reply)) => self.error(reply).await?,
                },
            };
            if let Flow::Close = flow {
                return Ok(());
            }
        }
    }

    async fn handle(&mut self, command: Command) -> Result<Flow, End> {
        let host = self.options.hostname.clone();
        match command {
            Command::Helo(_) | Command::Ehlo(_) if self.options.lmtp == LmtpMode::Only => {
                self.error("500 5.5.1 This is an LMTP port: greet with LHLO")
                    .await
            }
            Command::Lhlo(_) if self.options.lmtp == LmtpMode::Off => {
                self.error(command::UNRECOGNIZED.0).await
            }
            Command::Helo(name) => {
                self.greeted(name, false);
                self.answer(&format!("250 {host}")).await
            }
            Command::Ehlo(name) => {
                self.greeted(name, false);
                self.capabilities().await
            }
            Command::Lhlo(name) => {
                self.greeted(name, true);
                self.capabilities().await
            }
            Command::Mail { from, size } => self.mail(from, size).await,
            Command::Rcpt { to } => self.rcpt(to).await,
            Command::Data => self.data().await,
            Command::Rset => {
                self.end_transaction();
                self.answer("250 2.0.0 OK").await
            }
            Command::Noop => self.answer("250 2.0.0 OK").await,
            Command::Vrfy => {
                self.answer(
                    "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery",
                )
                .await
            }
            Command::Help => {
                let lhlo = if self.options.lmtp == LmtpMode::Off {
                    ""
                } else {
                    " LHLO"
                };
                let help = format!(
                    "214 2.0.0 Commands: HELO EHLO{lhlo} MAIL RCPT DATA RSET NOOP VRFY QUIT"
                );
                self.answer(&help).await
            }
            Command::Quit => {
                self.reply(&format!("221 2.0.0 {host} closing connection"))
                    .await?;
                Ok(Flow::Close)
            }
            Command::NotImplemented => self.error("502 5.5.1 Command not implemented").await,
        }
    }

    /// HELO/EHLO/LHLO start over (RFC 5321 §4.1.4): any transaction is dropped.
    fn greeted(&mut self, name: String, lmtp: bool) {
        self.helo = Some(name);
        self.lmtp = lmtp;
        self.end_transaction();
    }

    fn end_transaction(&mut self) {
        self.transaction = None;
        self.deadline = None;
    }

    async fn capabilities(&mut self) -> Result<Flow, End> {
        let lines = [
            self.options.hostname.clone(),
            format!("SIZE {}", self.options.current_max_size()),
            "8BITMIME".into(),
            "PIPELINING".into(),
            "ENHANCEDSTATUSCODES".into(),
            "SMTPUTF8".into(),
        ];
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            self.reply(&format!("250{sep}{line}")).await?;
        }
        Ok(Flow::Continue)
    }

    async fn mail(&mut self, from: String, size: Option<u64>) -> Result<Flow, End> {
        if self.helo.is_none() {
            return self
                .error("503 5.5.1 Say hello first (EHLO, HELO or LHLO)")
                .await;
        }
        if self.transaction.is_some() {
            return self
                .error("503 5.5.1 Sender already given (RSET to start over)")
                .await;
        }
        let max_size = self.options.current_max_size();
        if size.is_some_and(|n| n > max_size as u64) {
            let reply = format!(
                "552 5.3.4 Message size exceeds fixed maximum message size ({max_size} octets)"
            );
            return self.answer(&reply).await;
        }
        self.transaction = Some(Transaction {
            from,
            rcpts: Vec::new(),
            max_size,
        });
        self.deadline = Some(Instant::now() + self.options.message_deadline);
        self.answer("250 2.1.0 Sender OK").await
    }

    async fn rcpt(&mut self, to: String) -> Result<Flow, End> {
        let Some(transaction) = &mut self.transaction else {
            return self.error("503 5.5.1 Send MAIL FROM first").await;
        };
        if transaction.rcpts.len() >= self.options.max_recipients {
            return self.answer("452 4.5.3 Too many recipients").await;
        }
        if !self.sink.accepts_recipient(&to) {
            return self.answer("550 5.1.1 No such mailbox here").await;
        }
        transaction.rcpts.push(to);
        self.answer("250 2.1.5 Recipient OK").await
    }

    async fn data(&mut self) -> Result<Flow, End> {
        match &self.transaction {
            None => return self.error("503 5.5.1 Send MAIL FROM first").await,
            // With pipelining the client sends DATA before it learns every RCPT failed.
            // The transaction stays open: the client may still add a recipient.
            Some(t) if t.rcpts.is_empty() => {
                return self.error("554 5.5.1 No valid recipients").await
            }
            Some(_) => {}
        }
        let transaction = self.transaction.take().expect("checked above");
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        let data = self.read_data(transaction.max_size).await?;
        let replies = transaction.rcpts.len();
        let reply = match data {
            Some(data) => self.deliver(transaction, data).await,
            None => {
                tracing::info!(
                    peer = %self.peer,
                    rcpts = replies,
                    max_size = transaction.max_size,
                    outcome = "too-big",
                    "inbound mail refused"
                );
                "552 5.3.4 Message exceeds fixed maximum message size".to_string()
            }
        };
        self.deadline = None;
        // LMTP (RFC 2033 §4.2): one reply per accepted recipient.
        for _ in 0..if self.lmtp { replies } else { 1 } {
            self.reply(&reply).await?;
        }
        Ok(Flow::Continue)
    }

    async fn deliver(&mut self, transaction: Transaction, data: Vec<u8>) -> String {
        let envelope = Envelope {
            peer: self.peer,
            helo: self.helo.clone().unwrap_or_default(),
            mail_from: transaction.from,
            rcpt_to: transaction.rcpts,
            data,
            lmtp: self.lmtp,
        };
        let (size, rcpts) = (envelope.data.len(), envelope.rcpt_to.len());
        let helo = sanitize::line(&envelope.helo).into_owned();
        let sink = self.sink.clone();
        let outcome = tokio::task::spawn_blocking(move || sink.deliver(envelope)).await;
        let (label, reason, reply) = match outcome {
            Ok(DeliveryOutcome::Stored) => (
                "stored",
                String::new(),
                "250 2.0.0 Message accepted for delivery".to_string(),
            ),
            Ok(DeliveryOutcome::TempFail(reason)) => {
                let reason = one_line(&reason, "Temporary failure, try again later");
                let reply = format!("451 4.3.0 {reason}");
                ("tempfail", reason, reply)
            }
            Ok(DeliveryOutcome::Rejected(reason)) => {
                let reason = one_line(&reason, "Message refused");
                let reply = format!("550 5.7.1 {reason}");
                ("rejected", reason, reply)
            }
            Err(e) => (
                "sink-panicked",
                sanitize::line(&e.to_string()).into_owned(),
                "451 4.3.0 Local error in processing, try again later".to_string(),
            ),
        };
        tracing::info!(
            peer = %self.peer,
            helo = %helo,
            rcpts,
            size,
            lmtp = self.lmtp,
            outcome = label,
            reason = %reason,
            "inbound mail"
        );
        reply
    }

    /// Reads DATA up to the terminating dot line. `None` when the message was larger
    /// than `max_size`: the rest is read and discarded so the session can go on.
    ///
    /// Only `<CRLF>.<CRLF>` ends the message. Bare LF is tolerated as a line ending
    /// inside it, but `<LF>.<LF>` and friends are plain data: accepting them as the end
    /// would let a message smuggle a second one past an MTA that reads them differently
    /// ("SMTP smuggling").
    async fn read_data(&mut self, max: usize) -> Result<Option<Vec<u8>>, End> {
        let mut data = Vec::new();
        let mut size = 0usize;
        let mut chunk = Vec::new();
        let mut line_start = true;
        let mut after_crlf = true;
        let mut pending_cr = false;
        loop {
            let complete = self.read_chunk(&mut chunk, DATA_CHUNK).await?;
            let mut bytes = &chunk[..];
            if line_start {
                if after_crlf && bytes == b".\r\n" {
                    break;
                }
                if bytes.first() == Some(&b'.') {
                    bytes = &bytes[1..];
                }
            }
            size = size.saturating_add(bytes.len());
            if size <= max {
                data.extend_from_slice(bytes);
            } else if !data.is_empty() {
                data = Vec::new();
            }
            if complete {
                after_crlf = chunk.ends_with(b"\r\n") || (chunk.len() == 1 && pending_cr);
            }
            pending_cr = chunk.last() == Some(&b'\r');
            line_start = complete;
        }
        Ok((size <= max).then_some(data))
    }

    /// A reply that is not the client's mistake (success, or a refusal on our side).
    async fn answer(&mut self, line: &str) -> Result<Flow, End> {
        self.reply(line).await?;
        Ok(Flow::Continue)
    }

    /// A reply to a client mistake; too many of them and we hang up.
    async fn error(&mut self, line: &str) -> Result<Flow, End> {
        self.reply(line).await?;
        self.errors += 1;
        if self.errors < MAX_ERRORS {
            return Ok(Flow::Continue);
        }
        tracing::info!(peer = %self.peer, "smtp: too many errors, closing");
        let host = self.options.hostname.clone();
        self.reply(&format!(
            "421 4.7.0 {host} Too many errors, closing connection"
        ))
        .await?;
        Ok(Flow::Close)
    }

    /// Queues a reply line; it goes out at the next flush (or when the buffer fills).
    async fn reply(&mut self, line: &str) -> Result<(), End> {
        let idle = self.options.idle_timeout;
        let writer = &mut self.writer;
        let write = async {
            writer.write_all(line.as_bytes()).await?;
            writer.write_all(b"\r\n").await
        };
        stall_guard(idle, write).await
    }

    async fn flush(&mut self) -> Result<(), End> {
        stall_guard(self.options.idle_timeout, self.writer.flush()).await
    }

    async fn read_command(&mut self) -> Result<CommandLine, End> {
        let mut line = Vec::new();
        if !self.read_chunk(&mut line, MAX_COMMAND_LINE).await? {
            // Skip to the end of the oversized line so the next command parses.
            let mut rest = Vec::new();
            while !self.read_chunk(&mut rest, DATA_CHUNK).await? {}
            return Ok(CommandLine::TooLong);
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(String::from_utf8(line).map_or(CommandLine::NotUtf8, CommandLine::Text))
    }

    /// Reads into `buf` up to and including the next LF, or `max` bytes if the line is
    /// longer. Returns whether the line is complete (ends with LF).
    async fn read_chunk(&mut self, buf: &mut Vec<u8>, max: usize) -> Result<bool, End> {
        buf.clear();
        loop {
            self.fill().await?;
            let available = self.reader.buffer();
            let room = max - buf.len();
            let (take, complete) = match available.iter().position(|&b| b == b'\n') {
                Some(i) if i < room => (i + 1, true),
                _ => (available.len().min(room), false),
            };
            buf.extend_from_slice(&available[..take]);
            self.reader.consume(take);
            if complete {
                return Ok(true);
            }
            if buf.len() == max {
                return Ok(false);
            }
        }
    }

    /// Makes sure the read buffer holds something. Before waiting on the client, sends
    /// the replies collected so far: that is what makes pipelining work.
    async fn fill(&mut self) -> Result<(), End> {
        if !self.reader.buffer().is_empty() {
            return Ok(());
        }
        self.flush().await?;
        let (wait, expired) = self.patience();
        // Published right before waiting: only a connection between messages may be
        // pushed out to make room.
        self.seat.set_busy(self.deadline.is_some());
        let read = tokio::time::timeout(wait, self.reader.fill_buf());
        tokio::select! {
            read = read => match read {
                Err(_) => Err(expired),
                Ok(Err(e)) => Err(End::Io(e)),
                Ok(Ok([])) => Err(End::Eof),
                Ok(Ok(_)) => Ok(()),
            },
            // Also fires when serve() is gone (the sender dropped).
            _ = self.stopped.wait_for(|stop| *stop) => Err(End::Shutdown),
            () = self.seat.pushed_out() => Err(End::PushedOut),
        }
    }

    /// How long to wait for the client's next bytes, and why we stop if none come.
    fn patience(&self) -> (Duration, End) {
        let idle = self.options.idle_timeout;
        match self.deadline {
            None => (idle.min(self.options.idle_before_mail), End::Timeout),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left < idle {
                    (left, End::TooSlow)
                } else {
                    (idle, End::Timeout)
                }
            }
        }
    }
}

/// A write that the client does not drain within the idle timeout ends the session,
/// so a client that pipelines without reading cannot hold a connection slot forever.
async fn stall_guard(
    idle: std::time::Duration,
    write: impl std::future::Future<Output = std::io::Result<()>>,
) -> Result<(), End> {
    match tokio::time::timeout(idle, write).await {
        Err(_) => Err(End::Stalled),
        Ok(result) => result.map_err(End::Io),
    }
}

/// A sink's reason as one short, safe reply line.
fn one_line(reason: &str, fallback: &str) -> String {
    let clean = sanitize::line(reason);
    let clean = clean.trim();
    if clean.is_empty() {
        return fallback.to_string();
    }
    clean.chars().take(MAX_REASON).collect()
}
