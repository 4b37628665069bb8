//! Part 11: `[mail.imap.NAME]`, the hosted mailboxes `serve` fetches from, and the
//! relay's password file / OAuth2 command. Checked at load with one-line errors naming
//! the key; turned into `sealdesk_mail::imap::ImapAccount` for the fetcher.

use super::MailConfig;
use sealdesk_mail::imap::{After, Credentials, ImapAccount, Tls};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// One `[mail.imap.NAME]` table.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ImapAccountConfig {
    pub host: String,
    /// Default: 993 with `tls = "tls"`, else 143.
    pub port: Option<u16>,
    /// `tls` (implicit, the default), `starttls`, or `none` (loopback only).
    pub tls: Option<String>,
    pub user: String,
    /// A file whose first line is the password or app password.
    pub password_file: Option<PathBuf>,
    /// A command whose output is an OAuth2 access token (XOAUTH2).
    pub oauth2_command: Option<String>,
    /// Default INBOX.
    pub folder: Option<String>,
    /// `seen` (the default), `move` (to `move_to`) or `delete`, once stored.
    pub after: Option<String>,
    pub move_to: Option<String>,
    /// Seconds between looks when the server offers no IDLE (default 60).
    pub poll_seconds: Option<u64>,
    /// Extra CA certificates (PEM) for a self-hosted or self-signed server.
    pub ca_file: Option<PathBuf>,
}

impl ImapAccountConfig {
    /// The fetcher's view of this account, or the one-line problem naming the key.
    pub fn account(&self, name: &str) -> Result<ImapAccount, String> {
        let key = |field: &str| format!("mail.imap.{name}.{field}");
        if self.host.trim().is_empty() || !sealdesk_mail::send::is_host_name(self.host.trim()) {
            return Err(format!(
                "{}: give the IMAP server's host name, e.g. imap.gmail.com",
                key("host")
            ));
        }
        let tls = match self.tls.as_deref().unwrap_or("tls") {
            "tls" => Tls::Implicit,
            "starttls" => Tls::StartTls,
            "none" => Tls::None,
            other => {
                return Err(format!(
                    "{}: {:?} is not one of tls, starttls, none",
                    key("tls"),
                    sealdesk_model::sanitize::line(other)
                ))
            }
        };
        if tls == Tls::None && !is_loopback(self.host.trim()) {
            return Err(format!(
                "{}: none sends the password in clear; it is only for a server on loopback (127.0.0.1, ::1, localhost)",
                key("tls")
            ));
        }
        let port = self
            .port
            .unwrap_or(if tls == Tls::Implicit { 993 } else { 143 });
        if port == 0 {
            return Err(format!("{} must be above 0", key("port")));
        }
        if self.user.trim().is_empty() {
            return Err(format!(
                "{}: give the login name, e.g. support@example.com",
                key("user")
            ));
        }
        let credentials = match (&self.password_file, &self.oauth2_command) {
            (Some(file), None) => Credentials::PasswordFile(file.clone()),
            (None, Some(command)) if !command.trim().is_empty() => {
                Credentials::OAuth2Command(command.clone())
            }
            (None, _) => {
                return Err(format!(
                    "{}: set password_file (a file holding the password) or oauth2_command",
                    key("password_file")
                ))
            }
            (Some(_), Some(_)) => {
                return Err(format!(
                    "mail.imap.{name}: set password_file or oauth2_command, not both"
                ))
            }
        };
        let folder = self.folder.clone().unwrap_or_else(|| "INBOX".into());
        if folder.trim().is_empty() {
            return Err(format!("{}: give a folder name, e.g. INBOX", key("folder")));
        }
        let after = match self.after.as_deref().unwrap_or("seen") {
            "seen" => After::Seen,
            "delete" => After::Delete,
            "move" => match self.move_to.as_deref().map(str::trim) {
                Some(to) if !to.is_empty() && to != folder => After::Move(to.to_string()),
                _ => {
                    return Err(format!(
                        "{}: after = \"move\" needs a folder other than {folder:?}, e.g. move_to = \"Filed\"",
                        key("move_to")
                    ))
                }
            },
            other => {
                return Err(format!(
                    "{}: {:?} is not one of seen, move, delete",
                    key("after"),
                    sealdesk_model::sanitize::line(other)
                ))
            }
        };
        let poll = self.poll_seconds.unwrap_or(60);
        if !(1..=3600).contains(&poll) {
            return Err(format!(
                "{} is in seconds, 1 to 3600: e.g. 60",
                key("poll_seconds")
            ));
        }
        Ok(ImapAccount {
            name: name.to_string(),
            host: self.host.trim().to_string(),
            port,
            tls,
            user: self.user.trim().to_string(),
            credentials,
            folder,
            after,
            poll: Duration::from_secs(poll),
            ca_file: self.ca_file.clone(),
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl MailConfig {
    /// The accounts `serve` fetches from.
    pub fn imap_accounts(&self) -> Result<Vec<ImapAccount>, String> {
        self.imap
            .iter()
            .map(|(name, account)| account.account(name))
            .collect()
    }

    pub(super) fn validate_imap(&self) -> Result<(), String> {
        for name in self.imap.keys() {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "mail.imap.{}: name an account with letters, digits, - and _",
                    sealdesk_model::sanitize::line(name)
                ));
            }
        }
        self.imap_accounts().map(|_| ())
    }

    pub(super) fn validate_relay_auth(&self) -> Result<(), String> {
        if self.relay_password_file.is_some() && self.relay_oauth2_command.is_some() {
            return Err(
                "mail.relay_password_file and mail.relay_oauth2_command: set one, not both".into(),
            );
        }
        if (self.relay_password_file.is_some() || self.relay_oauth2_command.is_some())
            && self.relay.is_none()
        {
            return Err("mail.relay_password_file / relay_oauth2_command need mail.relay, e.g. smtp://support%40example.com@smtp.example.com:587?tls=starttls".into());
        }
        if let (Some(relay), true) = (
            &self.relay,
            self.relay_password_file.is_some() || self.relay_oauth2_command.is_some(),
        ) {
            sealdesk_mail::send::RelayConfig::parse_user_only(relay)
                .map_err(|e| format!("mail.relay: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    fn load(toml: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(toml).map_err(|e| e.to_string())?;
        config.validate().map(|_| config)
    }

    #[test]
    fn an_account_takes_defaults_and_bad_values_name_their_key() {
        let c = load(
            "[mail.imap.work]\nhost = \"imap.example.com\"\nuser = \"support@example.com\"\npassword_file = \"/etc/pw\"\n",
        )
        .unwrap();
        let a = &c.mail.imap_accounts().unwrap()[0];
        assert_eq!((a.port, a.folder.as_str()), (993, "INBOX"));
        assert_eq!(a.after, sealdesk_mail::imap::After::Seen);
        for (extra, needle) in [
            ("tls = \"none\"\n", "mail.imap.work.tls"),
            ("tls = \"ssl\"\n", "mail.imap.work.tls"),
            ("after = \"move\"\n", "mail.imap.work.move_to"),
            ("after = \"archive\"\n", "mail.imap.work.after"),
            ("poll_seconds = 0\n", "mail.imap.work.poll_seconds"),
            ("oauth2_command = \"tok\"\n", "not both"),
        ] {
            let e = load(&format!(
                "[mail.imap.work]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword_file = \"/p\"\n{extra}"
            ))
            .unwrap_err();
            assert!(e.contains(needle), "{extra}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = load("[mail.imap.work]\nhost = \"imap.example.com\"\nuser = \"u\"\n").unwrap_err();
        assert!(e.contains("password_file"), "{e}");
        let ok = load(
            "[mail.imap.t]\nhost = \"127.0.0.1\"\nport = 10143\ntls = \"none\"\nuser = \"u\"\noauth2_command = \"echo t\"\nafter = \"move\"\nmove_to = \"Filed\"\n",
        )
        .unwrap();
        assert_eq!(ok.mail.imap_accounts().unwrap()[0].port, 10143);
    }

    #[test]
    fn a_relay_secret_beside_the_url_wants_the_user_in_the_url_and_no_password() {
        let relay = |url: &str, extra: &str| load(&format!("[mail]\nrelay = \"{url}\"\n{extra}"));
        relay(
            "smtp://me%40example.com@smtp.example.com:587?tls=starttls",
            "relay_password_file = \"/etc/pw\"",
        )
        .unwrap();
        for (url, extra, needle) in [
            (
                "smtps://u:p@smtp.example.com",
                "relay_password_file = \"/p\"",
                "keep only the user name",
            ),
            (
                "smtps://smtp.example.com",
                "relay_oauth2_command = \"tok\"",
                "need the user name",
            ),
            (
                "smtps://u@smtp.example.com",
                "relay_oauth2_command = \"t\"\nrelay_password_file = \"/p\"",
                "not both",
            ),
        ] {
            let e = relay(url, extra).unwrap_err();
            assert!(e.contains(needle), "{url}: {e}");
        }
        let e = load("[mail]\nrelay_password_file = \"/p\"\n").unwrap_err();
        assert!(e.contains("need mail.relay"), "{e}");
    }
}
