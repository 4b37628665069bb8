//! Part 11: mail fetched from a hosted mailbox over IMAP (Google Workspace, Microsoft
//! 365, Fastmail, Dovecot), knowing nothing of the desk: each message's bytes go to an
//! [`ImapSink`] (the desk's is `desk::DeskSink`), and only once the sink says it is
//! stored is the message flagged, moved or deleted on the server — the same rule as
//! SMTP's 250. New mail arrives through IDLE (re-issued every 25 minutes, under the
//! 29 RFC 2177 allows); a server without IDLE is polled.
//!
//! Progress is the highest UID stored under the folder's UIDVALIDITY, kept by the sink:
//! a message at or below it is only flagged again (a crash came between storing and
//! flagging), never fetched twice. A crash between storing and recording progress
//! refetches the message, and the desk's Message-ID dedupe files it once.

mod conn;

use crate::smtp::DeliveryOutcome;
use anyhow::anyhow;
use futures::TryStreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use conn::Secret;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain, then STARTTLS before login (port 143).
    StartTls,
    /// No TLS at all: only for a server on loopback.
    None,
}

/// What happens to a message on the server once the desk stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// Flag it \Seen (only unseen mail is fetched).
    Seen,
    /// Move it to this folder (the folder is drained).
    Move(String),
    /// Delete and expunge it (the folder is drained).
    Delete,
}

/// Where the login secret comes from; read again for every connection.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A file whose first line is the password (or app password).
    PasswordFile(PathBuf),
    /// A command (run by `sh -c`) whose standard output is an OAuth2 bearer token,
    /// sent with SASL XOAUTH2.
    OAuth2Command(String),
}

impl Credentials {
    pub(crate) async fn secret(&self) -> anyhow::Result<Secret> {
        match self {
            Credentials::PasswordFile(path) => {
                crate::secret::password_from_file("password_file", path).map(Secret::Password)
            }
            Credentials::OAuth2Command(command) => {
                crate::secret::token_from_command("oauth2_command", command)
                    .await
                    .map(Secret::Bearer)
            }
        }
    }
}

/// One mailbox to fetch from.
#[derive(Debug, Clone)]
pub struct ImapAccount {
    /// The account's name in the config (`mail.imap.NAME`), in logs and progress keys.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: String,
    pub credentials: Credentials,
    pub folder: String,
    pub after: After,
    /// How often to look when the server offers no IDLE.
    pub poll: Duration,
    /// Extra CA certificates (PEM) besides the webpki roots.
    pub ca_file: Option<PathBuf>,
}

/// The highest UID stored and the UIDVALIDITY it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// Where fetched mail goes. Every method is called on a blocking thread.
pub trait ImapSink: Send + Sync + 'static {
    /// Store one message durably (Stored only once it is on disk).
    fn deliver(&self, account: &str, raw: &[u8]) -> DeliveryOutcome;
    /// The progress stored for `account`'s `folder`.
    fn progress(&self, account: &str, folder: &str) -> anyhow::Result<Option<Progress>>;
    /// Records progress, after `deliver` said Stored and before the message is flagged.
    fn set_progress(&self, account: &str, folder: &str, progress: Progress) -> anyhow::Result<()>;
}

/// Re-IDLE this often: servers may drop an IDLE after 30 minutes (RFC 2177).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Fetches `account` until `shutdown` turns true: connect, file what is there, IDLE
/// (or poll), again; after an error, reconnect with backoff (1 s doubling to 5 min).
/// Errors go to the log as one line naming the account, never the secret.
pub async fn run(
    account: ImapAccount,
    sink: Arc<dyn ImapSink>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let tls = match conn::tls_config(account.ca_file.as_deref()) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::error!(
                "imap {}: {e}; fix mail.imap.{}.ca_file",
                account.name,
                account.name
            );
            return;
        }
    };
    let mut backoff = BACKOFF_FIRST;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let outcome = tokio::select! {
            r = session(&account, &tls, &sink, &mut backoff) => r,
            _ = shutdown.changed() => return,
        };
        match outcome {
            Ok(()) => return,
            Err(e) => tracing::warn!(
                "imap {}: {}; retrying in {} s",
                account.name,
                conn::one_line(&format!("{e:#}")),
                backoff.as_secs()
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection's life: returns only with an error (the caller reconnects).
async fn session(
    account: &ImapAccount,
    tls: &Arc<tokio_rustls::rustls::ClientConfig>,
    sink: &Arc<dyn ImapSink>,
    backoff: &mut Duration,
) -> anyhow::Result<()> {
    let mut session = conn::open(
        &account.host,
        account.port,
        account.tls,
        tls,
        &account.user,
        &account.credentials,
    )
    .await?;
    let caps = session.capabilities().await?;
    let can_idle = caps.has_str("IDLE");
    let can_move = caps.has_str("MOVE");
    let mailbox = session
        .select(&account.folder)
        .await
        .map_err(|e| anyhow!("cannot open folder {:?}: {e}", account.folder))?;
    let uid_validity = mailbox
        .uid_validity
        .ok_or_else(|| anyhow!("the server gives no UIDVALIDITY for {:?}", account.folder))?;
    tracing::info!(
        "imap {}: connected to {}:{}, folder {:?}{}",
        account.name,
        account.host,
        account.port,
        account.folder,
        if can_idle { ", IDLE" } else { ", polling" }
    );
    loop {
        file_pass(account, &mut session, sink, uid_validity, can_move).await?;
        // A pass that worked means the account works: the next failure starts over.
        *backoff = BACKOFF_FIRST;
        // Mail that arrived while we were busy (an EXISTS among the replies to our own
        // commands) is filed now, not after the next IDLE wakes up.
        let mut arrived = false;
        while let Ok(response) = session.unsolicited_responses.try_recv() {
            arrived |= matches!(response, async_imap::types::UnsolicitedResponse::Exists(_));
        }
        if arrived {
            continue;
        }
        if can_idle {
            let mut idle = session.idle();
            idle.init().await?;
            let (wait, _stop) = idle.wait_with_timeout(IDLE_RENEW);
            wait.await?;
            session = idle.done().await?;
        } else {
            tokio::time::sleep(account.poll).await;
            session.noop().await?;
        }
    }
}

/// Files every message waiting in the folder, oldest first, then flags it.
async fn file_pass(
    account: &ImapAccount,
    session: &mut conn::ImapSession,
    sink: &Arc<dyn ImapSink>,
    uid_validity: u32,
    can_move: bool,
) -> anyhow::Result<()> {
    let stored = blocking({
        let sink = sink.clone();
        let (name, folder) = (account.name.clone(), account.folder.clone());
        move || sink.progress(&name, &folder)
    })
    .await?;
    let mut last_uid = match stored {
        Some(p) if p.uid_validity == uid_validity => p.last_uid,
        _ => 0,
    };
    let query = match account.after {
        After::Seen => "UNSEEN",
        After::Move(_) | After::Delete => "UNDELETED",
    };
    let mut uids: Vec<u32> = session.uid_search(query).await?.into_iter().collect();
    uids.sort_unstable();
    for uid in uids {
        if uid > last_uid {
            let raw = fetch_one(session, uid).await?;
            let Some(raw) = raw else { continue };
            let outcome = blocking({
                let sink = sink.clone();
                let name = account.name.clone();
                move || Ok(sink.deliver(&name, &raw))
            })
            .await?;
            match outcome {
                DeliveryOutcome::Stored => {}
                DeliveryOutcome::TempFail(why) => {
                    return Err(anyhow!("the desk cannot store mail now ({why})"));
                }
                DeliveryOutcome::Rejected(why) => {
                    // Left on the server, untouched, for a person to look at.
                    tracing::warn!(
                        "imap {}: message UID {uid} refused ({}); left in {:?}",
                        account.name,
                        conn::one_line(&why),
                        account.folder
                    );
                    continue;
                }
            }
            last_uid = uid;
            blocking({
                let sink = sink.clone();
                let (name, folder) = (account.name.clone(), account.folder.clone());
                move || {
                    sink.set_progress(
                        &name,
                        &folder,
                        Progress {
                            uid_validity,
                            last_uid: uid,
                        },
                    )
                }
            })
            .await?;
        }
        flag(session, &account.after, uid, can_move)
            .await
            .map_err(|e| match &account.after {
                After::Move(to) => anyhow!(
                    "cannot move UID {uid} to {to:?} ({e:#}); check mail.imap.{}.move_to names an existing folder",
                    account.name
                ),
                _ => anyhow!("cannot flag UID {uid} ({e:#})"),
            })?;
    }
    Ok(())
}

/// The message's bytes, without setting \Seen (BODY.PEEK); None if it vanished.
async fn fetch_one(session: &mut conn::ImapSession, uid: u32) -> anyhow::Result<Option<Vec<u8>>> {
    let fetches: Vec<_> = session
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await?
        .try_collect()
        .await?;
    Ok(fetches
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.body().map(<[u8]>::to_vec)))
}

async fn flag(
    session: &mut conn::ImapSession,
    after: &After,
    uid: u32,
    can_move: bool,
) -> anyhow::Result<()> {
    let set = uid.to_string();
    match after {
        After::Seen => {
            let _: Vec<_> = session
                .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .await?
                .try_collect()
                .await?;
        }
        After::Move(folder) if can_move => session.uid_mv(&set, folder).await?,
        After::Move(folder) => {
            session.uid_copy(&set, folder).await?;
            delete(session, &set).await?;
        }
        After::Delete => delete(session, &set).await?,
    }
    Ok(())
}

async fn delete(session: &mut conn::ImapSession, set: &str) -> anyhow::Result<()> {
    let _: Vec<_> = session
        .uid_store(set, "+FLAGS.SILENT (\\Deleted)")
        .await?
        .try_collect()
        .await?;
    let _: Vec<_> = session.uid_expunge(set).await?.try_collect().await?;
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow!("the desk's worker failed: {e}"))?
}
