//! The outbox worker: sends due replies through the relay (`mail::send`), with retries
//! and backoff, and records queued / sent / failed on each reply.

use super::Desk;
use sealdesk_mail::send::{retry_delay, RelayConfig, RelaySecret, Sender};
use sealdesk_model::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// About two days of retries at `retry_delay`'s pace.
const MAX_ATTEMPTS: u32 = 55;

/// Runs until `shutdown` resolves, checking the outbox every `every` and whenever a
/// change is announced (a new reply).
pub async fn run_outbox(
    desk: Arc<Desk>,
    every: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut changes = desk.subscribe();
    loop {
        if let Err(e) = send_due(&desk).await {
            tracing::warn!("outbox: {e}");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(every) => {}
            _ = changes.recv() => {}
        }
    }
}

/// Sends everything due now; returns how many were handed to the relay.
async fn send_due(desk: &Arc<Desk>) -> anyhow::Result<usize> {
    let config = desk.config().mail;
    let Some(relay_url) = config.relay.clone() else {
        return Ok(0);
    };
    // A bad URL is reported at every look, not only when a reply is due.
    if config.relay_password_file.is_some() || config.relay_oauth2_command.is_some() {
        RelayConfig::parse_user_only(&relay_url)?;
    } else {
        RelayConfig::parse(&relay_url)?;
    }
    let hello = config.hello_name();
    let d = Arc::clone(desk);
    let due = tokio::task::spawn_blocking(move || d.due_replies(Timestamp::now())).await??;
    if due.is_empty() {
        return Ok(0);
    }
    let sender = relay_sender(&config, &relay_url, &hello).await?;
    let mut sent = 0;
    for reply in due {
        // Re-read under the ticket's hold: a reply taken back (`unsend`) is never sent.
        let (d, ticket, seq) = (Arc::clone(desk), reply.ticket, reply.seq);
        if !tokio::task::spawn_blocking(move || d.claim_for_sending(ticket, seq)).await?? {
            continue;
        }
        let result = sender.send_keeping(&reply.mail).await;
        let d = Arc::clone(desk);
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let _claim = Claim(&d, ticket, seq);
            match result {
                Ok(mime) => {
                    d.reply_sent_as(reply.ticket, reply.seq, Timestamp::now(), Some(&mime))?
                }
                Err(e) => {
                    let attempts = d.reply_attempts(reply.ticket, reply.seq)? + 1;
                    let give_up = e.permanent || attempts >= MAX_ATTEMPTS;
                    let retry_at = Timestamp::now().0 + retry_delay(attempts).as_secs() as i64;
                    tracing::warn!(ticket = %reply.ticket, attempts, permanent = give_up, "reply not sent: {}", e.reason);
                    d.reply_failed(reply.ticket, reply.seq, give_up, &e.reason, Timestamp(retry_at))?;
                }
            }
            Ok(())
        })
        .await??;
        sent += 1;
    }
    Ok(sent)
}

/// The sender for `mail.relay`: its URL's own credentials, or (Part 11) the user in
/// the URL with the password of `mail.relay_password_file` or the token printed by
/// `mail.relay_oauth2_command`, read anew for each batch (tokens expire).
async fn relay_sender(
    config: &crate::config::MailConfig,
    url: &str,
    hello: &str,
) -> anyhow::Result<Sender> {
    let secret = match (&config.relay_password_file, &config.relay_oauth2_command) {
        (Some(file), _) => RelaySecret::Password(sealdesk_mail::secret::password_from_file(
            "mail.relay_password_file",
            file,
        )?),
        (None, Some(command)) => RelaySecret::OAuth2Token(
            sealdesk_mail::secret::token_from_command("mail.relay_oauth2_command", command).await?,
        ),
        (None, None) => return Ok(Sender::new(&RelayConfig::parse(url)?, hello)?),
    };
    let (relay, user) = RelayConfig::parse_user_only(url)?;
    Ok(Sender::with_secret(&relay, hello, &user, secret)?)
}

/// Part 12 (doctor): the relay's sender, connected and authenticated, then QUIT.
pub(crate) async fn probe_relay(
    config: &crate::config::MailConfig,
    url: &str,
) -> anyhow::Result<()> {
    let sender = relay_sender(config, url, &config.hello_name()).await?;
    Ok(sender.probe().await?)
}

/// Lets go of a reply claimed for sending once its fate is recorded (or that failed).
struct Claim<'a>(&'a Desk, sealdesk_model::TicketNo, u32);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.sent_or_failed(self.1, self.2);
    }
}
