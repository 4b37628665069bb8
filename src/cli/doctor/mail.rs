//! Mail settings: the support addresses, the From of replies, and the relay, which is
//! connected to as the outbox would (TLS and AUTH as configured) without sending.

use super::Finding;
use sealdesk_desk::config::Config;
use sealdesk_mail::send::RelayConfig;
use std::time::Duration;

/// How long the relay may take to connect, greet, TLS and AUTH.
const RELAY_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn check(config: &Config) -> Vec<Finding> {
    let mail = &config.mail;
    let mut out = Vec::new();
    let addresses = mail.ingest.len() + mail.addresses.len();
    out.push(if addresses == 0 {
        Finding::warn(
            "mail.ingest",
            "no support address yet: the SMTP listener and `ingest` refuse all mail",
            "`sealdesk config set mail.ingest support@example.com`",
        )
    } else {
        // Config::load checked each address already.
        Finding::ok(
            "mail.ingest",
            format!("{addresses} support address(es) take mail"),
        )
    });
    out.push(match &mail.from {
        None => Finding::warn(
            "mail.from",
            "not set: replies and acknowledgements have no From and cannot leave",
            "`sealdesk config set mail.from 'Support <support@example.com>'`",
        ),
        Some(from) => {
            let address = sealdesk_model::mailbox_address(from);
            if sealdesk_model::is_plausible_email(&address) {
                Finding::ok("mail.from", format!("replies leave as {address}"))
            } else {
                Finding::fail(
                    "mail.from",
                    format!("{from:?} holds no email address"),
                    "`sealdesk config set mail.from 'Support <support@example.com>'`",
                )
            }
        }
    });
    out.push(relay(config));
    out
}

fn relay(config: &Config) -> Finding {
    let mail = &config.mail;
    let Some(url) = &mail.relay else {
        return Finding::warn(
            "mail.relay",
            "not set: replies wait in the outbox, nothing is sent",
            "`sealdesk config set mail.relay smtp://user:password@mail.example.com:587?tls=starttls` (or an MTA on this machine: smtp://127.0.0.1:25)",
        );
    };
    let secret_apart = mail.relay_password_file.is_some() || mail.relay_oauth2_command.is_some();
    let parsed = if secret_apart {
        RelayConfig::parse_user_only(url).map(|(relay, _)| relay)
    } else {
        RelayConfig::parse(url)
    };
    let relay = match parsed {
        Ok(relay) => relay,
        Err(e) => {
            return Finding::fail(
                "mail.relay",
                e.to_string(),
                "`sealdesk config set mail.relay URL` with the URL the error shows",
            )
        }
    };
    let how = match relay.security {
        sealdesk_mail::send::Security::None => "plain",
        sealdesk_mail::send::Security::StartTls => "STARTTLS",
        sealdesk_mail::send::Security::Tls => "TLS",
    };
    let auth = if relay.credentials.is_some() || secret_apart {
        ", AUTH"
    } else {
        ""
    };
    let probe = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                match tokio::time::timeout(RELAY_PROBE_TIMEOUT, async {
                    sealdesk_desk::Desk::probe_relay(mail).await
                })
                .await
                {
                    Ok(Some(result)) => result,
                    Ok(None) => Ok(()),
                    Err(_) => Err(anyhow::anyhow!(
                        "no answer within {} s",
                        RELAY_PROBE_TIMEOUT.as_secs()
                    )),
                }
            })
        });
    match probe {
        Ok(()) => Finding::ok(
            "mail.relay",
            format!("{relay} accepts the connection ({how}{auth}); no mail was sent"),
        ),
        Err(e) => Finding::fail(
            "mail.relay",
            format!(
                "{relay} ({how}{auth}): {}",
                without_secrets(&format!("{e:#}"))
            ),
            "check that the relay is up and reachable from here, its port and tls= in mail.relay, and the user and password",
        ),
    }
}

/// Hides the password of any `scheme://user:password@host` in a message (a config
/// parse error quotes the line it stopped at, which may be the relay URL).
pub(super) fn without_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(amp) if authority[..amp].contains(':') => {
                let user = &authority[..authority[..amp].find(':').unwrap_or(amp)];
                out.push_str(user);
                out.push_str(":…");
                out.push_str(&authority[amp..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    sealdesk_model::sanitize::line(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_hidden() {
        let shown = without_secrets(
            "config x: TOML parse error | 2 | relay = \"smtps://me:s3cret@mail.example.com:465 | ^",
        );
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("smtps://me:…@mail.example.com:465"),
            "{shown}"
        );
        assert_eq!(without_secrets("smtp://host:25 ok"), "smtp://host:25 ok");
    }
}
