//! The desk's TOML config file: `--config PATH`, or `sealdesk.toml` in the data dir.
//! Absent means defaults. Unknown keys are errors, so a typo never silently does nothing.

pub mod edit;
// Part 11: `[mail.imap.NAME]` accounts.
pub mod imap;
pub mod sla;

use sealdesk_model::{Catalogue, CatalogueEntry};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use imap::ImapAccountConfig;

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub mail: MailConfig,
    pub server: ServerConfig,
    pub privacy: PrivacyConfig,
    /// Agent name → the address their alarm mail goes to (admins only get it); set with
    /// `sealdesk agent set NAME --email ADDR`.
    pub agent_email: std::collections::BTreeMap<String, String>,
    pub notice: NoticeConfig,
    pub retention: RetentionConfig,
    pub sla: sla::SlaConfig,
    pub notify: NotifyConfig,
    pub ssh: SshConfig,
    pub search: SearchConfig,
    // Part 11: webhooks
    pub webhook: WebhookConfig,
}

/// `[webhook]`: delivery of webhooks (see `desk::webhooks`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Failed tries in a row after which a hook is disabled (admins are told).
    pub max_failures: u32,
    /// The first retry's wait in seconds; later ones wait 6, 30, 180, 720, 2160 times
    /// as long (10 s, 1 min, 5 min, 30 min, 2 h, 6 h at the default 10).
    pub retry_base_seconds: u64,
    /// Seconds one POST may take, connecting included.
    pub timeout_seconds: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            max_failures: 10,
            retry_base_seconds: 10,
            timeout_seconds: 10,
        }
    }
}

/// `[search]`: the queue search and `F`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Search message bodies too, from an index in memory built at start; off: subjects,
    /// names and tags only, and the index's memory is saved (read at start).
    pub bodies: bool,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig { bodies: true }
    }
}

/// `[notify]`: notifications to agents (see `desk::notify`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Seconds between two notification mails to one agent at most one of; what
    /// happens meanwhile waits and goes in one mail.
    pub batch_window: u64,
    /// Put the ticket's subject (sanitized) in notification mail; off: no customer
    /// text at all.
    pub include_subject: bool,
    /// Minutes before a ticket's due time that "due soon" is sent.
    pub due_soon_minutes: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            batch_window: 60,
            include_subject: false,
            due_soon_minutes: 60,
        }
    }
}

/// `[ssh]`: how agents reach this desk from outside, for the deep links in
/// notification mail (`ssh -t -p PORT NAME@HOST open N`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    /// The host name agents use; default: `mail.hostname`, else this machine's name.
    pub public_host: Option<String>,
    /// The port agents use; default: the port `serve` listens on.
    pub public_port: Option<u16>,
    // Part 11 api
    /// Commands one key may run per minute over `ssh NAME@desk COMMAND`; default
    /// [`SshConfig::EXEC_PER_MINUTE`] (read at start).
    pub exec_per_minute: Option<u32>,
}

impl SshConfig {
    pub const EXEC_PER_MINUTE: u32 = 120;

    /// `exec_per_minute`, or its default.
    pub fn exec_rate(&self) -> u32 {
        self.exec_per_minute.unwrap_or(Self::EXEC_PER_MINUTE).max(1)
    }
}

/// `[notice]`: notices to chosen customers (see `desk::notices`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeConfig {
    /// Notice mails due per minute at most (the outbox sends them at that pace).
    pub rate_per_minute: u32,
}

impl Default for NoticeConfig {
    fn default() -> Self {
        NoticeConfig {
            rate_per_minute: 60,
        }
    }
}

/// `[retention]`: how long what is kept beyond tickets and exports (those are under
/// `[privacy]`). 0 keeps forever.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Erase a customer this many days after their last activity (0 = never).
    pub inactive_customer_days: u32,
    /// Delete consent records superseded this many days ago (the current record of a
    /// purpose is always kept).
    pub consent_evidence_days: u32,
    /// Delete privacy requests this many days after they were finished.
    pub request_days: u32,
    /// Delete quarantined mail sealed for its sender this many days after it arrived
    /// (0: it goes with that customer; mail without a known sender follows
    /// `privacy.quarantine_days`).
    pub quarantine_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            inactive_customer_days: 0,
            consent_evidence_days: 1095,
            request_days: 1095,
            quarantine_days: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The desk's support addresses: mail to any other recipient is refused.
    pub ingest: Vec<String>,
    /// The From of replies, e.g. `Support <support@example.com>`.
    pub from: Option<String>,
    /// The relay replies go through: `smtp://host:port`, `smtps://user:pass@host:465`,
    /// `smtp://host:587?tls=starttls`.
    pub relay: Option<String>,
    /// Largest message accepted, in bytes.
    pub max_size: usize,
    /// Messages per sender per hour before further mail is quarantined.
    pub rate_limit: u32,
    /// Acknowledgement for new tickets; `{ticket}` and `{subject}` are filled in. None:
    /// no acknowledgement.
    pub ack_template: Option<String>,
    /// Concurrent SMTP/LMTP connections (read at start).
    pub max_connections: usize,
    /// Concurrent SMTP/LMTP connections from one address (read at start).
    pub max_connections_per_address: usize,
    /// Seconds a client may stay silent between messages (read at start).
    pub idle_timeout_seconds: u64,
    /// Seconds from MAIL to the final dot of one message (read at start).
    pub message_timeout_seconds: u64,
    /// More support addresses, keyed by address (`[mail.addresses."billing@example.com"]`):
    /// mail to each is taken, and replies on its tickets go out from it.
    pub addresses: std::collections::BTreeMap<String, SupportAddress>,
    /// Our name in the EHLO greeting towards the relay, e.g. `desk.example.com`; None:
    /// this machine's host name.
    pub hostname: Option<String>,
    /// Seconds a reply waits before the outbox may send it, in which the agent can take
    /// it back (`u` on the ticket); 0: sent at once, no undo.
    pub send_delay: u64,
    // ---- Part 11 (imap) ----
    /// Hosted mailboxes to fetch from (`[mail.imap.NAME]`), each filed like SMTP mail.
    pub imap: std::collections::BTreeMap<String, ImapAccountConfig>,
    /// A file whose first line is the relay's password (instead of one in `relay`).
    pub relay_password_file: Option<PathBuf>,
    /// A command printing an OAuth2 access token for the relay (SASL XOAUTH2).
    pub relay_oauth2_command: Option<String>,
}

/// One support address of `mail.addresses`: how replies from it look, and what a new
/// ticket written to it starts with.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SupportAddress {
    /// The display name in From, e.g. "Billing".
    pub name: String,
    /// Put under every reply sent from this address (after the agent's), placeholders
    /// filled.
    pub signature: Option<String>,
    /// Tags a new ticket to this address gets.
    pub tags: Vec<String>,
    /// The agent a new ticket to this address is assigned to.
    pub assignee: Option<String>,
}

/// The fields of a `mail.addresses` entry, as `config set mail.addresses.ADDR.FIELD` names them.
pub const SUPPORT_ADDRESS_FIELDS: &[&str] = &["name", "signature", "tags", "assignee"];

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            ingest: Vec::new(),
            from: None,
            relay: None,
            max_size: 25 * 1024 * 1024,
            rate_limit: 60,
            ack_template: None,
            max_connections: 100,
            max_connections_per_address: 20,
            idle_timeout_seconds: 20,
            message_timeout_seconds: 600,
            addresses: std::collections::BTreeMap::new(),
            hostname: None,
            send_delay: 10,
            imap: std::collections::BTreeMap::new(),
            relay_password_file: None,
            relay_oauth2_command: None,
        }
    }
}

impl MailConfig {
    /// The bare address of `from`, lower-cased (`support@example.com`).
    pub(crate) fn sender_address(&self) -> Option<String> {
        Some(sealdesk_model::mailbox_address(self.from.as_deref()?))
    }

    /// The domain for Message-IDs we create.
    pub fn message_id_domain(&self) -> String {
        self.sender_address()
            .and_then(|a| a.split_once('@').map(|(_, d)| d.to_string()))
            .unwrap_or_else(|| "sealdesk.invalid".into())
    }

    /// What the desk says in EHLO to the relay: `mail.hostname`, else this machine's
    /// host name (never the domain of `mail.from`, which names another machine).
    pub fn hello_name(&self) -> String {
        match &self.hostname {
            Some(name) if !name.trim().is_empty() => name.trim().to_string(),
            _ => sealdesk_mail::send::system_hello_name(),
        }
    }

    /// Whether mail to `recipient` is taken: an ingest address or one of `addresses`.
    pub fn accepts(&self, recipient: &str) -> bool {
        let r = sealdesk_model::normalize_email(recipient);
        self.ingest
            .iter()
            .chain(self.addresses.keys())
            .any(|a| sealdesk_model::normalize_email(a) == r)
    }

    /// Whether `address` is the desk's own: `from`, an ingest address or one of
    /// `addresses`. Such an address is never a participant nor a recipient of a reply.
    pub fn is_support_address(&self, address: &str) -> bool {
        let a = sealdesk_model::normalize_email(address);
        self.accepts(&a) || self.sender_address().is_some_and(|own| own == a)
    }

    /// Whether any of the desk's own addresses is configured (`from`, `ingest`,
    /// `addresses`).
    pub fn knows_own_address(&self) -> bool {
        self.from.is_some() || !self.ingest.is_empty() || !self.addresses.is_empty()
    }

    /// The `addresses` entry for `address`, with its key normalised.
    pub fn support_address(&self, address: &str) -> Option<(String, &SupportAddress)> {
        let a = sealdesk_model::normalize_email(address);
        self.addresses
            .iter()
            .find(|(k, _)| sealdesk_model::normalize_email(k) == a)
            .map(|(_, entry)| (a, entry))
    }

    /// The From of a reply on a ticket written to `address`: that entry's name and
    /// address; else (none, or no longer configured) `from`.
    pub fn from_for(&self, address: Option<&str>) -> Option<String> {
        match address.and_then(|a| self.support_address(a)) {
            Some((a, entry)) if entry.name.trim().is_empty() => Some(a),
            Some((a, entry)) => Some(format!("{} <{a}>", entry.name.trim())),
            None => self.from.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Where agents connect with ssh.
    pub ssh: String,
    /// Where the SMTP/LMTP listener accepts mail (loopback by default: the MTA hands over).
    pub smtp: String,
    /// Minutes without input before an SSH session is closed.
    pub idle_timeout_minutes: u64,
    /// Seconds a new SSH connection has to log in (60 once it names an agent's key).
    pub login_timeout_seconds: u64,
    /// SSH connections not logged in yet, in total; more push out the oldest.
    pub max_unauthenticated: usize,
    /// SSH connections not logged in yet from one address (IPv6: one /64).
    pub max_unauthenticated_per_address: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            ssh: "127.0.0.1:2222".into(),
            smtp: "127.0.0.1:2525".into(),
            idle_timeout_minutes: 30,
            login_timeout_seconds: 10,
            max_unauthenticated: 64,
            max_unauthenticated_per_address: 8,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Below this age a customer is a minor whose consent needs a guardian.
    pub minor_age: u8,
    /// Days to answer access and export requests (Taiwan PDPA art. 13: 15).
    pub access_days: u32,
    /// Days to answer correction and erasure requests (PDPA: 30).
    pub correction_days: u32,
    /// Days to answer consent withdrawals and marketing objections.
    pub objection_days: u32,
    /// Days one extension adds.
    pub extension_days: u32,
    /// Days an export archive's content is kept (sealed in the desk; an older
    /// version's plaintext DATA/exports files too) before it is deleted.
    pub export_retention_days: u32,
    /// Days quarantined mail without a known sender (kept master-sealed) is kept.
    pub quarantine_days: u32,
    /// Anonymise closed tickets this many days after their last update; 0 = never.
    pub anonymise_closed_after_days: u32,
    /// Keep a keyed hash of an erased customer's addresses, so that later mail from
    /// them opens a new customer marked "previously erased".
    pub suppress_after_erasure: bool,
    /// Who is responsible for the data (named in every export).
    pub controller: String,
    /// Who else receives customers' data (processors, e.g. the mail relay's operator).
    pub recipients: Vec<String>,
    /// Replace the shipped purpose catalogue.
    pub purposes: Option<Vec<CatalogueEntry>>,
    /// Replace the shipped category catalogue.
    pub categories: Option<Vec<CatalogueEntry>>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            minor_age: 14,
            access_days: 15,
            correction_days: 30,
            objection_days: 15,
            extension_days: 30,
            export_retention_days: 7,
            quarantine_days: 30,
            anonymise_closed_after_days: 0,
            suppress_after_erasure: true,
            controller: String::new(),
            recipients: Vec::new(),
            purposes: None,
            categories: None,
        }
    }
}

/// The range a request deadline (and its one extension) may have, in days.
pub const DEADLINE_DAYS: (u32, u32) = (1, 90);

#[derive(Debug, thiserror::Error)]
#[error("config {path}: {problem}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub problem: String,
}

impl Config {
    pub fn default_path(data_dir: &Path) -> PathBuf {
        data_dir.join("sealdesk.toml")
    }

    /// Loads the file if it exists; a missing default file means defaults.
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
        let err = |problem: String| ConfigError {
            path: path.into(),
            problem,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Config::default())
            }
            Err(e) => return Err(err(format!("cannot read it ({e}); check --config"))),
        };
        let config: Config = toml::from_str(&text).map_err(|e| err(one_line(&e.to_string())))?;
        config.validate().map_err(err)?;
        Ok(config)
    }

    /// Checks values serde cannot: addresses, URLs, the catalogue. Names the key.
    pub fn validate(&self) -> Result<(), String> {
        self.catalogue()
            .validate()
            .map_err(|p| format!("privacy catalogue: {p}"))?;
        for a in &self.mail.ingest {
            if !sealdesk_model::is_plausible_email(a) {
                return Err(format!("mail.ingest: {a:?} is not an email address"));
            }
        }
        for (a, entry) in &self.mail.addresses {
            if !sealdesk_model::is_plausible_email(a) {
                return Err(format!("mail.addresses: {a:?} is not an email address"));
            }
            if entry.name.contains(['<', '>', '"', '\n', '\r']) {
                return Err(format!(
                    "mail.addresses.{a}.name: use a plain name without <, > or quotes"
                ));
            }
            if let Some(agent) = &entry.assignee {
                if !sealdesk_model::is_valid_agent_name(agent) {
                    return Err(format!(
                        "mail.addresses.{a}.assignee: {agent:?} is not an agent name"
                    ));
                }
            }
        }
        self.mail.validate_imap()?;
        self.mail.validate_relay_auth()?;
        if self.mail.send_delay > 3600 {
            return Err("mail.send_delay is in seconds, at most 3600 (an hour): e.g. 10".into());
        }
        if let Some(relay) = &self.mail.relay {
            if !(relay.starts_with("smtp://") || relay.starts_with("smtps://")) {
                return Err("mail.relay must be a URL like smtp://host:25, smtp://host:587?tls=starttls or smtps://user:pass@host:465".into());
            }
        }
        if let Some(name) = &self.mail.hostname {
            if !sealdesk_mail::send::is_host_name(name) {
                return Err(format!(
                    "mail.hostname: {:?} is not a host name: use this machine's name as the relay knows it, e.g. desk.example.com",
                    sealdesk_model::sanitize::line(name)
                ));
            }
        }
        if let Some(from) = &self.mail.from {
            if self
                .mail
                .sender_address()
                .is_none_or(|a| !sealdesk_model::is_plausible_email(&a))
            {
                return Err(
                    "mail.from must contain an address, e.g. \"Support <support@example.com>\""
                        .into(),
                );
            }
            // What the relay sender would refuse on every reply is refused here.
            sealdesk_mail::send::check_mailbox(from).map_err(|e| {
                format!("mail.from: {e}; quote a name with commas or dots in \"…\"")
            })?;
        }
        for (key, addr) in [
            ("server.ssh", &self.server.ssh),
            ("server.smtp", &self.server.smtp),
        ] {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!(
                    "{key}: {addr:?} is not an address like 127.0.0.1:2222"
                ));
            }
        }
        let p = &self.privacy;
        for (key, days) in [
            ("privacy.access_days", p.access_days),
            ("privacy.correction_days", p.correction_days),
            ("privacy.objection_days", p.objection_days),
            ("privacy.extension_days", p.extension_days),
        ] {
            if !(DEADLINE_DAYS.0..=DEADLINE_DAYS.1).contains(&days) {
                return Err(format!(
                    "{key} must be between {} and {} days, not {days}",
                    DEADLINE_DAYS.0, DEADLINE_DAYS.1
                ));
            }
        }
        for (agent, addr) in &self.agent_email {
            if !sealdesk_model::is_plausible_email(addr) {
                return Err(format!(
                    "agent_email.{agent}: {addr:?} is not an email address"
                ));
            }
        }
        self.sla.validate()?;
        if self.notify.batch_window > 86_400 {
            return Err("notify.batch_window is in seconds, at most 86400 (a day): e.g. 60".into());
        }
        if let Some(host) = &self.ssh.public_host {
            if !sealdesk_mail::send::is_host_name(host) {
                return Err(format!(
                    "ssh.public_host: {:?} is not a host name: use the name agents ssh to, e.g. desk.example.com",
                    sealdesk_model::sanitize::line(host)
                ));
            }
        }
        // Part 11: webhooks
        if self.webhook.max_failures == 0 || self.webhook.retry_base_seconds == 0 {
            return Err(
                "webhook.max_failures and webhook.retry_base_seconds must be above 0: e.g. 10"
                    .into(),
            );
        }
        if !(1..=300).contains(&self.webhook.timeout_seconds) {
            return Err("webhook.timeout_seconds must be between 1 and 300: e.g. 10".into());
        }
        if self.notice.rate_per_minute == 0 {
            return Err("notice.rate_per_minute must be above 0".into());
        }
        if self.mail.max_size == 0 {
            return Err("mail.max_size must be above 0".into());
        }
        for (key, value) in [
            ("mail.max_connections", self.mail.max_connections as u64),
            (
                "mail.max_connections_per_address",
                self.mail.max_connections_per_address as u64,
            ),
            ("mail.idle_timeout_seconds", self.mail.idle_timeout_seconds),
            (
                "mail.message_timeout_seconds",
                self.mail.message_timeout_seconds,
            ),
            (
                "server.login_timeout_seconds",
                self.server.login_timeout_seconds,
            ),
            (
                "server.max_unauthenticated",
                self.server.max_unauthenticated as u64,
            ),
            (
                "server.max_unauthenticated_per_address",
                self.server.max_unauthenticated_per_address as u64,
            ),
        ] {
            if value == 0 {
                return Err(format!("{key} must be above 0"));
            }
        }
        Ok(())
    }

    /// The purpose and category catalogue: the shipped default unless replaced here.
    pub fn catalogue(&self) -> Catalogue {
        let default = Catalogue::default();
        Catalogue {
            purposes: self.privacy.purposes.clone().unwrap_or(default.purposes),
            categories: self
                .privacy
                .categories
                .clone()
                .unwrap_or(default.categories),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_overrides_and_names_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sealdesk.toml");
        assert_eq!(Config::load(&p, false).unwrap().privacy.minor_age, 14);
        std::fs::write(
            &p,
            "[privacy]\nminor_age = 16\npurposes = [{ code = \"X1\", name = \"x\" }]\n",
        )
        .unwrap();
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.privacy.minor_age, 16);
        assert_eq!(c.catalogue().purposes.len(), 1);
        assert!(c.catalogue().category("C001").is_some());
        std::fs::write(&p, "[privacy]\nminor_agee = 16\n").unwrap();
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("minor_agee"), "{e}");
    }
}
