//! Where outbound mail goes: the relay URL from the config, parsed once at start-up so a
//! typo is reported before the first reply is written, not when it fails to leave.

use percent_encoding::percent_decode_str;
use sealdesk_model::sanitize;
use std::fmt;
use url::{Host, Url};

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain text: only for a relay on loopback or a trusted private link.
    None,
    /// Plain connect, then STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465, "SMTPS").
    Tls,
}

/// An SMTP relay: `smtp://host:port`, `smtp://host?tls=starttls`,
/// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=starttls`.
///
/// Debug and Display never show the password, so the value can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password, percent-decoded.
    pub credentials: Option<(String, String)>,
}

/// A relay URL that cannot be used. Messages name the part at fault and show a URL that
/// works; they never repeat the password.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("the relay URL is not a URL ({0}): write it like {EXAMPLE}")]
    NotAUrl(String),
    #[error("the relay URL scheme {0:?} is not supported: use smtp:// (plain, or ?tls=starttls) or smtps:// (TLS), e.g. {EXAMPLE}")]
    Scheme(String),
    #[error("the relay URL has no host name: write it like {EXAMPLE}")]
    NoHost,
    #[error("the relay URL has a user name but no password (or a password but no user name): give both, e.g. {EXAMPLE}; percent-encode @ : / in them (%40 %3A %2F)")]
    HalfCredentials,
    #[error("the relay URL's user name or password is not valid UTF-8 once percent-decoded: percent-encode only UTF-8 text, e.g. {EXAMPLE}")]
    Encoding,
    #[error("the relay URL's tls={0:?} is not known: use tls=starttls (port 587), tls=tls (port 465) or tls=none, e.g. {EXAMPLE}")]
    TlsMode(String),
    #[error("the relay URL says smtps:// (TLS from the start) but also tls={0}: use smtps://host or smtp://host:587?tls=starttls")]
    Conflict(String),
    #[error("the relay URL has {0}, which sealdesk does not use: only ?tls=… may follow the host, e.g. {EXAMPLE}")]
    Unexpected(String),
    // Part 11: a password file or an OAuth2 command beside the URL.
    #[error("the relay URL has a password while mail.relay_password_file or mail.relay_oauth2_command is set: keep only the user name in the URL, e.g. smtp://support%40example.com@smtp.example.com:587?tls=starttls")]
    PasswordTwice,
    #[error("mail.relay_password_file / mail.relay_oauth2_command need the user name in the relay URL, e.g. smtp://support%40example.com@smtp.example.com:587?tls=starttls")]
    NoUser,
}

const EXAMPLE: &str = "smtp://user:password@mail.example.com:587?tls=starttls";

impl RelayConfig {
    pub fn parse(url: &str) -> Result<RelayConfig, RelayError> {
        Self::parse_inner(url, false).map(|(relay, _)| relay)
    }

    /// Part 11: the URL when the secret comes from `mail.relay_password_file` or
    /// `mail.relay_oauth2_command`: it names the user and no password. Returns the
    /// relay (without credentials) and the user name.
    pub fn parse_user_only(url: &str) -> Result<(RelayConfig, String), RelayError> {
        let (relay, user) = Self::parse_inner(url, true)?;
        Ok((relay, user.ok_or(RelayError::NoUser)?))
    }

    fn parse_inner(
        url: &str,
        user_only: bool,
    ) -> Result<(RelayConfig, Option<String>), RelayError> {
        let parsed = Url::parse(url.trim()).map_err(|e| RelayError::NotAUrl(e.to_string()))?;
        let implicit_tls = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(RelayError::Scheme(sanitize::line(other).into_owned())),
        };
        let host = match parsed.host() {
            Some(Host::Domain("")) | None => return Err(RelayError::NoHost),
            Some(Host::Domain(name)) => name.to_string(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            // Without brackets: lettre hands the host to the resolver as it is.
            Some(Host::Ipv6(ip)) => ip.to_string(),
        };
        if !matches!(parsed.path(), "" | "/") {
            return Err(unexpected("a path", parsed.path()));
        }
        if let Some(fragment) = parsed.fragment() {
            return Err(unexpected("a #fragment", fragment));
        }
        let mut security = if implicit_tls {
            Security::Tls
        } else {
            Security::None
        };
        for (key, value) in parsed.query_pairs() {
            if key != "tls" {
                return Err(unexpected("the parameter", &key));
            }
            let asked = match value.to_ascii_lowercase().as_str() {
                "none" => Security::None,
                "starttls" => Security::StartTls,
                "tls" => Security::Tls,
                _ => return Err(RelayError::TlsMode(sanitize::line(&value).into_owned())),
            };
            if implicit_tls && asked != Security::Tls {
                return Err(RelayError::Conflict(sanitize::line(&value).into_owned()));
            }
            security = asked;
        }
        let port = parsed.port().unwrap_or(match security {
            Security::None => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        });
        if user_only {
            return match (parsed.username(), parsed.password()) {
                (_, Some(_)) => Err(RelayError::PasswordTwice),
                ("", None) => Err(RelayError::NoUser),
                (user, None) => Ok((
                    RelayConfig {
                        host,
                        port,
                        security,
                        credentials: None,
                    },
                    Some(decode(user)?),
                )),
            };
        }
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() && !password.is_empty() => {
                Some((decode(user)?, decode(password)?))
            }
            _ => return Err(RelayError::HalfCredentials),
        };
        Ok((
            RelayConfig {
                host,
                port,
                security,
                credentials,
            },
            None,
        ))
    }
}

fn unexpected(what: &str, text: &str) -> RelayError {
    RelayError::Unexpected(format!("{what} {:?}", sanitize::line(text)))
}

fn decode(text: &str) -> Result<String, RelayError> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| RelayError::Encoding)
}

/// The URL again, with the user name but without the password.
impl fmt::Display for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.security == Security::Tls {
            "smtps"
        } else {
            "smtp"
        };
        write!(f, "{scheme}://")?;
        if let Some((user, _)) = &self.credentials {
            write!(f, "{}:***@", sanitize::line(user))?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        if self.security == Security::StartTls {
            f.write_str("?tls=starttls")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(user, _)| (user, "***")),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(
        host: &str,
        port: u16,
        security: Security,
        creds: Option<(&str, &str)>,
    ) -> RelayConfig {
        RelayConfig {
            host: host.into(),
            port,
            security,
            credentials: creds.map(|(u, p)| (u.into(), p.into())),
        }
    }

    #[test]
    fn a_user_only_url_for_a_password_file_or_token_command() {
        let (r, user) = RelayConfig::parse_user_only(
            "smtp://support%40example.com@smtp.example.com:587?tls=starttls",
        )
        .unwrap();
        assert_eq!(user, "support@example.com");
        assert_eq!(r, relay("smtp.example.com", 587, Security::StartTls, None));
        assert_eq!(
            RelayConfig::parse_user_only("smtps://u:p@smtp.example.com"),
            Err(RelayError::PasswordTwice)
        );
        assert_eq!(
            RelayConfig::parse_user_only("smtps://smtp.example.com"),
            Err(RelayError::NoUser)
        );
        // Without a file or command, a user alone is still half the credentials.
        assert_eq!(
            RelayConfig::parse("smtps://u@smtp.example.com"),
            Err(RelayError::HalfCredentials)
        );
    }

    #[test]
    fn every_url_form() {
        let cases = [
            (
                "smtp://mail.example.com",
                relay("mail.example.com", 25, Security::None, None),
            ),
            (
                "smtp://127.0.0.1:2525",
                relay("127.0.0.1", 2525, Security::None, None),
            ),
            ("smtp://[::1]:25", relay("::1", 25, Security::None, None)),
            (
                "smtp://mail.example.com?tls=starttls",
                relay("mail.example.com", 587, Security::StartTls, None),
            ),
            (
                "smtp://mail.example.com:25?tls=STARTTLS",
                relay("mail.example.com", 25, Security::StartTls, None),
            ),
            (
                "smtp://mail.example.com?tls=tls",
                relay("mail.example.com", 465, Security::Tls, None),
            ),
            (
                "smtps://user:pass@mail.example.com:465",
                relay(
                    "mail.example.com",
                    465,
                    Security::Tls,
                    Some(("user", "pass")),
                ),
            ),
            (
                "smtps://user:pass@mail.example.com",
                relay(
                    "mail.example.com",
                    465,
                    Security::Tls,
                    Some(("user", "pass")),
                ),
            ),
            (
                "smtp://user:pass@mail.example.com:587?tls=starttls",
                relay(
                    "mail.example.com",
                    587,
                    Security::StartTls,
                    Some(("user", "pass")),
                ),
            ),
            (
                "smtp://desk%40example.com:p%40ss%3Aw%2Fo%20rd%C3%A9@mail.example.com/?tls=none",
                relay(
                    "mail.example.com",
                    25,
                    Security::None,
                    Some(("desk@example.com", "p@ss:w/o rdé")),
                ),
            ),
        ];
        for (url, want) in cases {
            assert_eq!(RelayConfig::parse(url).as_ref(), Ok(&want), "{url}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            ("mail.example.com", "not a URL"),
            ("http://mail.example.com", "scheme \"http\""),
            ("smtp://", "no host"),
            ("smtp://user@mail.example.com", "no password"),
            ("smtp://:secret@mail.example.com", "no password"),
            ("smtp://mail.example.com?tls=maybe", "tls=\"maybe\""),
            ("smtps://mail.example.com?tls=starttls", "smtps://"),
            ("smtp://mail.example.com?port=25", "the parameter \"port\""),
            ("smtp://mail.example.com/inbox", "a path"),
            ("smtp://mail.example.com:99999", "not a URL"),
            ("smtp://u:%FF@mail.example.com", "UTF-8"),
        ];
        for (url, needle) in cases {
            let err = RelayConfig::parse(url).expect_err(url).to_string();
            assert!(err.contains(needle), "{url}: {err}");
            assert!(err.contains("smtp"), "{url}: no example in {err}");
        }
    }

    #[test]
    fn errors_do_not_repeat_the_password() {
        for url in [
            "smtp://user:hunter2@mail.example.com?tls=hunter2x",
            "smtp://user:hunter2@mail.example.com/hunter2x",
            "smtps://user:hunter2@mail.example.com?tls=starttls",
        ] {
            let err = RelayConfig::parse(url).expect_err(url).to_string();
            assert!(
                !err.contains("hunter2@") && !err.contains(":hunter2"),
                "{err}"
            );
        }
    }

    #[test]
    fn display_and_debug_hide_the_password() {
        let config = RelayConfig::parse("smtp://agent:s3cr%3At@mail.example.com?tls=starttls")
            .expect("valid");
        let shown = config.to_string();
        let debug = format!("{config:?}");
        assert_eq!(shown, "smtp://agent:***@mail.example.com:587?tls=starttls");
        for text in [&shown, &debug] {
            assert!(!text.contains("s3cr"), "{text}");
        }
        assert!(debug.contains("agent") && debug.contains("***"), "{debug}");
        assert_eq!(
            RelayConfig::parse("smtps://[::1]").unwrap().to_string(),
            "smtps://[::1]:465"
        );
    }
}
