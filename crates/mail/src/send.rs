//! Outbound mail: agents' replies and acknowledgements leave through an SMTP relay
//! (the organisation's mail server or a provider), never directly to the recipient's
//! MX: a relay has the reputation, SPF/DKIM and queue that a helpdesk should not.
//!
//! [`Sender::send`] makes one attempt and says whether a failure is worth retrying;
//! the caller keeps the outbox and asks [`retry_delay`] when to try again.

mod message;
mod relay;

use message::{build_message, fold_headers};
pub use relay::{RelayConfig, RelayError, Security};

/// Part 11: a relay secret kept out of the URL (see [`Sender::with_secret`]).
pub enum RelaySecret {
    Password(zeroize::Zeroizing<String>),
    OAuth2Token(zeroize::Zeroizing<String>),
}

use lettre::transport::smtp::authentication::{Credentials, Mechanism, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sealdesk_model::sanitize;
use sealdesk_model::OutgoingMail;
use std::time::Duration;

/// Per-command timeout towards the relay (connect, each reply).
const RELAY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest reason kept, so a chatty relay cannot flood the log or the UI.
const MAX_REASON: usize = 300;

/// A send that failed. `permanent` means retrying the same mail cannot help (a 5xx
/// reply, or a mail we could not even build); otherwise (4xx, network, TLS, timeouts)
/// try again later.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    pub permanent: bool,
    /// One line, sanitized, never containing the relay password.
    pub reason: String,
}

impl SendError {
    pub(crate) fn permanent(reason: String) -> SendError {
        SendError::new(true, &reason)
    }

    fn new(permanent: bool, reason: &str) -> SendError {
        let reason = sanitize::line(reason).chars().take(MAX_REASON).collect();
        SendError { permanent, reason }
    }
}

/// Sends mail through one relay. Cheap to share behind an `Arc`; each send opens its
/// own connection (no pool: a helpdesk sends a handful of mails a minute).
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    relay: String,
}

impl Sender {
    /// `hello_name` is our name in EHLO, e.g. `desk.example.com`; many relays refuse
    /// `localhost`.
    pub fn new(relay: &RelayConfig, hello_name: &str) -> Result<Sender, SendError> {
        let mut builder = Sender::builder(relay, hello_name)?;
        if let Some((user, password)) = &relay.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Sender {
            transport: builder.build(),
            relay: relay.to_string(),
        })
    }

    /// Part 11: [`Sender::new`] for a relay whose secret is not in its URL: `user`
    /// with a password (from `mail.relay_password_file`) or an OAuth2 access token
    /// (from `mail.relay_oauth2_command`, sent with SASL XOAUTH2).
    pub fn with_secret(
        relay: &RelayConfig,
        hello_name: &str,
        user: &str,
        secret: RelaySecret,
    ) -> Result<Sender, SendError> {
        let (password, mechanisms) = match secret {
            RelaySecret::Password(p) => (p, DEFAULT_MECHANISMS.to_vec()),
            RelaySecret::OAuth2Token(t) => (t, vec![Mechanism::Xoauth2]),
        };
        let builder = Sender::builder(relay, hello_name)?
            .credentials(Credentials::new(user.to_string(), password.to_string()))
            .authentication(mechanisms);
        Ok(Sender {
            transport: builder.build(),
            relay: format!("{relay} as {}", sanitize::line(user)),
        })
    }

    fn builder(
        relay: &RelayConfig,
        hello_name: &str,
    ) -> Result<AsyncSmtpTransportBuilder, SendError> {
        if !is_host_name(hello_name) {
            return Err(SendError::permanent(format!(
                "the hello name {:?} is not a host name: set it to this host's name, e.g. desk.example.com",
                sanitize::line(hello_name)
            )));
        }
        let tls = || {
            TlsParameters::new(relay.host.clone()).map_err(|e| {
                SendError::permanent(format!("cannot set up TLS towards {relay}: {e}"))
            })
        };
        let tls = match relay.security {
            Security::None => Tls::None,
            Security::StartTls => Tls::Required(tls()?),
            Security::Tls => Tls::Wrapper(tls()?),
        };
        Ok(
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
                .port(relay.port)
                .tls(tls)
                .timeout(Some(RELAY_TIMEOUT))
                .hello_name(ClientId::Domain(hello_name.to_string())),
        )
    }

    /// One delivery attempt. Ok means the relay accepted the mail (250 after DATA).
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        self.send_keeping(mail).await.map(drop)
    }

    /// One delivery attempt; on success, the message exactly as it went to the relay
    /// (the desk keeps it, sealed, so an export holds the mail as sent).
    pub async fn send_keeping(&self, mail: &OutgoingMail) -> Result<Vec<u8>, SendError> {
        let message = build_message(mail)?;
        let formatted = fold_headers(&message.formatted());
        match self
            .transport
            .send_raw(message.envelope(), &formatted)
            .await
        {
            Ok(_) => Ok(formatted),
            Err(e) => Err(self.classify(&e)),
        }
    }

    /// Part 12 (doctor): connects as a send would (TLS, EHLO, AUTH with the configured
    /// credentials), then says QUIT: no mail is sent.
    pub async fn probe(&self) -> Result<(), SendError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::new(
                false,
                &format!("{} did not answer NOOP: check the relay's log", self.relay),
            )),
            Err(e) => Err(self.classify(&e)),
        }
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> SendError {
        let relay = &self.relay;
        // lettre's Display carries the relay's reply text, never our credentials.
        if e.is_permanent() {
            let fix = match e.status().map(|c| c.to_string()) {
                Some(code) if code.starts_with("53") => "check the relay user and password",
                Some(code) if code.starts_with("55") => "check the addresses",
                _ => "check the relay's log",
            };
            SendError::new(true, &format!("{relay} refused the mail ({e}): {fix}"))
        } else if e.is_transient() {
            SendError::new(
                false,
                &format!("{relay} deferred the mail ({e}): will retry"),
            )
        } else if e.is_tls() {
            SendError::new(
                false,
                &format!(
                    "TLS with {relay} failed ({e}): check the relay URL's port and tls= setting"
                ),
            )
        } else {
            SendError::new(
                false,
                &format!(
                    "cannot talk to {relay} ({e}): check that the relay is up and the URL is right"
                ),
            )
        }
    }
}

/// A name fit for EHLO (RFC 5321 §4.1.1.1): a domain of letters, digits, dashes and
/// dots, or an address literal such as `[192.0.2.1]`.
pub fn is_host_name(name: &str) -> bool {
    if let Some(literal) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let literal = literal.strip_prefix("IPv6:").unwrap_or(literal);
        return literal.parse::<std::net::IpAddr>().is_ok();
    }
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// This machine's host name for EHLO, as lettre would find it (`localhost` if it has
/// none that is usable).
pub fn system_hello_name() -> String {
    let name = ClientId::default().to_string();
    if is_host_name(&name) {
        name
    } else {
        "localhost".into()
    }
}

/// Checks that `text` is a mailbox the sender can put in a From header (`Support
/// <support@example.com>`), with the same parser it uses, so a `mail.from` that every
/// reply would fail on is refused when it is set. The error names the fix.
pub fn check_mailbox(text: &str) -> Result<(), String> {
    message::mailbox("From", text)
        .map(drop)
        .map_err(|e| e.reason)
}

/// How long to wait after the `attempt`-th failed try (1-based): 1 min, 2, 4, … doubling
/// up to 1 h, then hourly until the outbox worker gives up (about two days of tries). Doubling spares a relay that is
/// struggling; the cap keeps a reply from waiting hours after the relay is back.
pub fn retry_delay(attempt: u32) -> Duration {
    const FIRST: u64 = 60;
    const CAP: u64 = 60 * 60;
    let doublings = attempt.saturating_sub(1).min(16);
    Duration::from_secs((FIRST << doublings).min(CAP))
}

/// A fresh Message-ID (without angle brackets): 128 random bits in hex, `@domain`.
/// Random rather than counter-based so ids reveal nothing about volume or order.
pub fn new_message_id(domain: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    let domain = if domain.is_empty() {
        "sealdesk.invalid"
    } else {
        domain
    };
    format!("{}@{domain}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_then_caps() {
        let minutes: Vec<u64> = (1..=9).map(|a| retry_delay(a).as_secs() / 60).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(retry_delay(0), Duration::from_secs(60));
        assert_eq!(retry_delay(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let a = new_message_id("desk.example.com");
        let b = new_message_id("desk.example.com");
        assert_ne!(a, b);
        let (local, domain) = a.split_once('@').unwrap();
        assert_eq!(domain, "desk.example.com");
        assert_eq!(local.len(), 32);
        assert!(local.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(new_message_id("").ends_with("@sealdesk.invalid"));
    }

    #[test]
    fn mailboxes_are_checked_as_the_sender_parses_them() {
        for good in [
            "Support <support@example.com>",
            "support@example.com",
            "\"Example, Inc. Support\" <support@example.com>",
            "Støtte <support@example.com>",
        ] {
            assert_eq!(check_mailbox(good), Ok(()), "{good}");
        }
        for bad in [
            "Support support@example.com",
            "Example, Inc. <support@example.com>",
            "Support <support@example.com",
            "Support <support@example.com> extra",
            "",
        ] {
            let err = check_mailbox(bad).expect_err(bad);
            assert!(
                err.contains("Support <support@example.com>"),
                "{bad}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }

    #[test]
    fn sender_refuses_a_bad_hello_name() {
        let relay = RelayConfig::parse("smtp://127.0.0.1:2525").unwrap();
        let err = Sender::new(&relay, "two words").err().expect("refused");
        assert!(
            err.permanent && err.reason.contains("desk.example.com"),
            "{err}"
        );
        assert!(Sender::new(&relay, "desk.example.com").is_ok());
        for good in ["desk.example.com", "mail-1", "[192.0.2.1]", "[IPv6:::1]"] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in [
            "",
            "two words",
            "a..b",
            "-x.example",
            "desk_1.example",
            "[nope]",
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
        assert!(is_host_name(&system_hello_name()));
    }
}
