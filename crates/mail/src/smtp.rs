//! The inbound listener: speaks SMTP (RFC 5321) and LMTP (RFC 2033) on one TCP port and
//! hands each complete message to a [`MailSink`].
//!
//! sealdesk sits behind the organisation's MTA (Postfix, Exim, …) or a forwarding
//! service, which does TLS, spam filtering and queueing; the MTA hands mail over on
//! loopback or a private link. So there is no STARTTLS here (put TLS in front if the
//! port must face the internet) and no queue: we answer 250 only after the sink has
//! stored the message, and 4xx otherwise, so the sending MTA keeps its copy and retries.

mod admission;
mod command;
mod session;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A setting that may change while serving, read where it is used (the desk's config
/// after `sealdesk config set`).
#[derive(Clone)]
pub struct Live<T>(Arc<dyn Fn() -> T + Send + Sync>);

impl<T> Live<T> {
    pub fn new(read: impl Fn() -> T + Send + Sync + 'static) -> Live<T> {
        Live(Arc::new(read))
    }

    pub fn get(&self) -> T {
        (self.0)()
    }
}

impl<T> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Live(..)")
    }
}

/// How the listener behaves; [`SmtpOptions::default`] suits a loopback hand-off.
#[derive(Clone, Debug)]
pub struct SmtpOptions {
    /// Our name in the greeting and in replies (e.g. `desk.example.com`).
    pub hostname: String,
    /// Largest message accepted, in octets, after dot-unstuffing. Advertised as SIZE.
    pub max_size: usize,
    /// If set, read instead of `max_size` at each EHLO/LHLO and MAIL, so a change
    /// while serving applies to the next transaction.
    pub live_max_size: Option<Live<usize>>,
    /// Concurrent connections. One more pushes out the oldest connection that has no
    /// message under way (and is not brand new); failing that, it is told 421.
    pub max_connections: usize,
    /// Concurrent connections from one address; one more is told 421 and closed.
    pub max_connections_per_address: usize,
    /// Recipients per transaction; one more is told 452 (the client sends it later).
    pub max_recipients: usize,
    /// How long we wait for the client's next line during a transaction (after MAIL)
    /// before 421 and closing.
    pub idle_timeout: Duration,
    /// The same between messages (before MAIL), where an idle client only holds a
    /// place; the shorter of the two applies.
    pub idle_before_mail: Duration,
    /// A message must be complete (final dot) within this time of its MAIL command,
    /// however steadily its bytes trickle in; else 421 and closing.
    pub message_deadline: Duration,
    pub lmtp: LmtpMode,
}

impl SmtpOptions {
    /// The size limit in force now.
    pub(crate) fn current_max_size(&self) -> usize {
        self.live_max_size.as_ref().map_or(self.max_size, Live::get)
    }
}

impl Default for SmtpOptions {
    fn default() -> Self {
        SmtpOptions {
            hostname: "localhost".into(),
            max_size: 25 * 1024 * 1024,
            live_max_size: None,
            max_connections: 100,
            // Postfix's LMTP/SMTP clients open up to 20 per destination by default.
            max_connections_per_address: 20,
            // RFC 5321 §4.5.3.1.8: a server must accept at least 100.
            max_recipients: 100,
            // RFC 5321 §4.5.3.2.7 asks servers to wait at least five minutes.
            idle_timeout: Duration::from_secs(300),
            // Postfix under stress waits 10 s; our client is an MTA that speaks at once.
            idle_before_mail: Duration::from_secs(20),
            message_deadline: Duration::from_secs(600),
            lmtp: LmtpMode::Auto,
        }
    }
}

/// Which greeting commands the port accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LmtpMode {
    /// SMTP only: HELO/EHLO; LHLO is an unknown command.
    Off,
    /// Both: HELO/EHLO start an SMTP session, LHLO an LMTP one. Convenient for a
    /// loopback port that Postfix may use either way.
    Auto,
    /// LMTP only: LHLO; HELO/EHLO are refused, as RFC 2033 asks.
    Only,
}

/// One received message with its SMTP envelope. Every string came from the peer:
/// sanitize before logging or displaying it.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub peer: SocketAddr,
    /// The HELO/EHLO/LHLO argument, unverified.
    pub helo: String,
    /// The reverse path without brackets; empty for the null sender (a bounce).
    pub mail_from: String,
    /// Accepted recipients only, as the client wrote them (case kept).
    pub rcpt_to: Vec<String>,
    /// The message (headers and body) as sent, dot-unstuffed, without the final
    /// `.` line. Line endings are the client's (CRLF from any conforming client).
    pub data: Vec<u8>,
    /// Received over LMTP (LHLO) rather than SMTP.
    pub lmtp: bool,
}

/// What the sink did with a message; decides the reply after DATA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Durably stored: the client may forget the message (250).
    Stored,
    /// Could not store now; the client keeps it and retries (451 4.3.0 + reason).
    TempFail(String),
    /// Will never be accepted; the client bounces it (550 5.7.1 + reason).
    Rejected(String),
}

/// Where received mail goes: the desk's ingest side implements this.
pub trait MailSink: Send + Sync + 'static {
    /// Is this recipient one of the desk's ingest addresses? (RCPT TO check → 250 or
    /// 550 5.1.1.) Called on the async runtime, so it must be quick and not block.
    fn accepts_recipient(&self, address: &str) -> bool;
    /// Store the message durably; called on a blocking thread (spawn_blocking). Only
    /// after it returns Stored is 250 sent.
    fn deliver(&self, envelope: Envelope) -> DeliveryOutcome;
}

/// How long shutdown waits for sessions to finish a delivery already under way.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves SMTP/LMTP on `listener` until `shutdown` resolves. Then it stops accepting,
/// tells idle sessions 421 and waits (up to 30 s) for deliveries under way, so a
/// message the sink stored is also acknowledged.
pub async fn serve(
    listener: TcpListener,
    options: SmtpOptions,
    sink: Arc<dyn MailSink>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    check_options(&options)?;
    let options = Arc::new(options);
    let admission =
        admission::Admission::new(options.max_connections_per_address, options.max_connections);
    let mut sessions = JoinSet::new();
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!("smtp accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => continue,
            _ = &mut shutdown => break,
        };
        let seat = match admission.admit(peer.ip(), Instant::now()) {
            Ok((seat, pushed_out)) => {
                if let Some(address) = pushed_out {
                    tracing::info!(%peer, pushed_out = %address, "smtp: full; an idle connection makes room");
                }
                seat
            }
            Err(full) => {
                let (status, why) = match full {
                    admission::Full::Address => ("4.7.0", "Too many connections from your address"),
                    admission::Full::Everyone => ("4.3.2", "Too many connections"),
                };
                tracing::warn!(%peer, ?full, "smtp: too many connections, refusing one");
                // try_write never waits: a slow peer cannot hold up the accept loop.
                let reply = format!(
                    "421 {status} {} {why}, try again later\r\n",
                    options.hostname
                );
                let _ = stream.try_write(reply.as_bytes());
                continue;
            }
        };
        sessions.spawn(session::run(
            stream,
            peer,
            Arc::clone(&options),
            Arc::clone(&sink),
            stopped.clone(),
            seat,
        ));
    }
    let _ = stop.send(true);
    let all_done = async { while sessions.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, all_done)
        .await
        .is_err()
    {
        tracing::warn!(
            open = admission.open(),
            "smtp: sessions still busy after the shutdown grace period"
        );
    }
    Ok(())
}

fn check_options(options: &SmtpOptions) -> anyhow::Result<()> {
    let name = &options.hostname;
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        anyhow::bail!(
            "the SMTP hostname {:?} is not a single word: set it to this host's name, e.g. desk.example.com",
            sealdesk_model::sanitize::line(name)
        );
    }
    if options.max_connections == 0 || options.max_connections_per_address == 0 {
        anyhow::bail!("the SMTP max_connections and max_connections_per_address must be above 0: e.g. 100 and 20");
    }
    if [
        options.idle_timeout,
        options.idle_before_mail,
        options.message_deadline,
    ]
    .contains(&Duration::ZERO)
    {
        anyhow::bail!("the SMTP timeouts must be above 0 seconds: e.g. 300, 20 and 600");
    }
    if options.max_size == 0 || options.max_recipients == 0 {
        anyhow::bail!(
            "the SMTP max_size and max_recipients must be above 0: e.g. 26214400 and 100"
        );
    }
    Ok(())
}
