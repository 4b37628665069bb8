//! `sealdesk config get/set/list`: reading and changing single keys of the TOML file
//! like `git config`, keeping the admin's comments and layout (toml_edit), refusing a
//! value the desk could not load.

use super::{Config, ConfigError};
use std::path::Path;

/// The keys `config get/set` know, with their kind and what they mean.
#[rustfmt::skip]
pub const KEYS: &[(&str, Kind, &str)] = &[
    ("mail.ingest", Kind::List, "the desk's support addresses, comma-separated"),
    ("mail.from", Kind::Text, "From of replies, e.g. \"Support <support@example.com>\""),
    ("mail.relay", Kind::Text, "relay URL: smtp://host:25, smtp://host:587?tls=starttls, smtps://user:pass@host:465"),
    ("mail.max_size", Kind::Number, "largest accepted message in bytes"),
    ("mail.rate_limit", Kind::Number, "messages per sender per hour before quarantine"),
    ("mail.ack_template", Kind::Text, "acknowledgement text for new tickets ({ticket}, {subject})"),
    ("mail.hostname", Kind::Text, "our name in EHLO towards the relay, e.g. desk.example.com (default: this machine's host name)"),
    ("mail.max_connections", Kind::Number, "concurrent SMTP/LMTP connections (read at start)"),
    ("mail.max_connections_per_address", Kind::Number, "concurrent SMTP/LMTP connections from one address (read at start)"),
    ("mail.idle_timeout_seconds", Kind::Number, "seconds an SMTP client may stay silent between messages (read at start)"),
    ("mail.message_timeout_seconds", Kind::Number, "seconds from MAIL to the final dot of one message (read at start)"),
    ("mail.addresses", Kind::Table, "more support addresses: set mail.addresses.ADDR.name|signature|tags|assignee; mail.addresses.ADDR \"\" removes one"),
    ("mail.send_delay", Kind::Number, "seconds a reply waits before it is sent, in which `u` takes it back (0 = at once)"),
    ("server.ssh", Kind::Text, "SSH listen address, e.g. 0.0.0.0:2222"),
    ("server.smtp", Kind::Text, "SMTP/LMTP listen address, e.g. 127.0.0.1:2525"),
    ("server.idle_timeout_minutes", Kind::Number, "minutes before an idle SSH session is closed"),
    ("server.login_timeout_seconds", Kind::Number, "seconds a new SSH connection has to log in (read at start)"),
    ("server.max_unauthenticated", Kind::Number, "SSH connections not logged in yet; more push out the oldest (read at start)"),
    ("server.max_unauthenticated_per_address", Kind::Number, "SSH connections not logged in yet from one address (read at start)"),
    ("privacy.minor_age", Kind::Number, "below this age consent needs a guardian"),
    ("privacy.access_days", Kind::Number, "days to answer access and export requests"),
    ("privacy.correction_days", Kind::Number, "days to answer correction and erasure requests"),
    ("privacy.objection_days", Kind::Number, "days to answer consent withdrawals and marketing objections"),
    ("privacy.extension_days", Kind::Number, "days one extension adds"),
    ("privacy.export_retention_days", Kind::Number, "days before an export archive's content is deleted"),
    ("privacy.quarantine_days", Kind::Number, "days before quarantined mail without a known sender is deleted"),
    ("privacy.anonymise_closed_after_days", Kind::Number, "anonymise closed tickets after this many days (0 = never)"),
    ("privacy.suppress_after_erasure", Kind::Bool, "keep a keyed hash of erased addresses to mark later mail \"previously erased\" (true/false)"),
    ("privacy.controller", Kind::Text, "who is responsible for the data, named in exports"),
    ("privacy.recipients", Kind::List, "who else receives customer data, comma-separated"),
    ("notice.rate_per_minute", Kind::Number, "notice mails handed to the outbox per minute at most"),
    ("notify.batch_window", Kind::Number, "seconds: one notification mail per agent in this time at most (default 60)"),
    ("notify.include_subject", Kind::Bool, "put the ticket's subject in notification mail (true/false; default false: no customer text)"),
    ("notify.due_soon_minutes", Kind::Number, "minutes before a ticket's due time that \"due soon\" is sent (default 60)"),
    ("ssh.public_host", Kind::Text, "the host agents ssh to, for deep links in notification mail (default: mail.hostname, else this machine's name)"),
    ("search.bodies", Kind::Bool, "search message bodies too, from an index in memory (true/false; default true; read at start; false saves its memory)"),
    ("ssh.public_port", Kind::Number, "the port agents ssh to, for deep links (default: the port serve listens on)"),
    ("ssh.exec_per_minute", Kind::Number, "commands one key may run per minute over `ssh NAME@desk COMMAND` (default 120; read at start)"),
    ("retention.inactive_customer_days", Kind::Number, "erase customers without activity for this many days (0 = never)"),
    ("retention.consent_evidence_days", Kind::Number, "delete superseded consent records after this many days (0 = never)"),
    ("retention.request_days", Kind::Number, "delete finished privacy requests after this many days (0 = never)"),
    ("sla.zone", Kind::Text, "time zone of the business hours (IANA name, e.g. Europe/Berlin; default UTC)"),
    ("sla.holidays", Kind::List, "dates without business hours, comma-separated, e.g. 2026-12-25,2026-12-26"),
    ("sla.hours", Kind::Table, "business hours per weekday: set sla.hours.mon|tue|…|sun \"09:00-17:00\" (several spans comma-separated; none set: round the clock)"),
    ("sla.policy", Kind::Table, "SLA policies: set sla.policy.NAME.first_response|next_response|resolution (e.g. 1h, 30m) and .priority|.address|.tag to match; sla.policy.NAME \"\" removes one"),
    // Part 11: webhooks
    ("webhook.max_failures", Kind::Number, "failed tries in a row after which a webhook is disabled and admins are told (default 10)"),
    ("webhook.retry_base_seconds", Kind::Number, "seconds before a webhook's first retry; later ones wait 6, 30, 180, 720, 2160 times as long (default 10)"),
    ("webhook.timeout_seconds", Kind::Number, "seconds one webhook POST may take (default 10)"),
    ("retention.quarantine_days", Kind::Number, "delete quarantined mail of a known sender after this many days (0 = with the customer)"),
    // Part 11 (imap): the relay's secret beside its URL. IMAP accounts are
    // `[mail.imap.NAME]` tables in the file (docs/imap.md), read at start.
    ("mail.relay_password_file", Kind::Text, "file whose first line is the relay password; the user stays in mail.relay (smtp://user%40example.com@host:587?tls=starttls)"),
    ("mail.relay_oauth2_command", Kind::Text, "command printing an OAuth2 access token for the relay (XOAUTH2); the user stays in mail.relay"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    List,
    Bool,
    /// Entries set one field at a time (`mail.addresses.ADDR.FIELD`).
    Table,
}

/// Why `config get` cannot answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown key {key:?}: use one of {known}")]
    Unknown { key: String, known: String },
    /// The loaded config did not turn back into TOML (its message).
    #[error("{0}")]
    NotToml(String),
}

/// `mail.addresses.ADDR.FIELD` (or `mail.addresses.ADDR`) split into the address and
/// the field; None for any other key.
fn address_key(key: &str) -> Option<(&str, Option<&str>)> {
    let rest = key.strip_prefix("mail.addresses.")?;
    match rest.rsplit_once('.') {
        Some((address, field)) if super::SUPPORT_ADDRESS_FIELDS.contains(&field) => {
            Some((address, Some(field)))
        }
        _ => Some((rest, None)),
    }
}

/// Every `mail.addresses.ADDR.FIELD` key of `config`, as `config list` shows them.
pub fn address_keys(config: &Config) -> Vec<String> {
    config
        .mail
        .addresses
        .keys()
        .flat_map(|a| {
            super::SUPPORT_ADDRESS_FIELDS
                .iter()
                .map(move |f| format!("mail.addresses.{a}.{f}"))
        })
        .collect()
}

fn kind_of(key: &str) -> Result<Kind, KeyError> {
    if address_key(key).is_some() || super::sla::is_table_key(key) {
        return Ok(Kind::Table);
    }
    KEYS.iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, kind, _)| *kind)
        .ok_or_else(|| {
            let known: Vec<&str> = KEYS.iter().map(|(k, _, _)| *k).collect();
            KeyError::Unknown {
                key: key.to_string(),
                known: known.join(", "),
            }
        })
}

/// The current value of `key` in `config`, as `config get` prints it.
pub fn get(config: &Config, key: &str) -> Result<String, KeyError> {
    kind_of(key)?;
    if key == "mail.addresses" {
        return Ok(config
            .mail
            .addresses
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(","));
    }
    match key {
        "sla.hours" => {
            return Ok(config
                .sla
                .hours
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(","))
        }
        "sla.policy" => {
            return Ok(config
                .sla
                .policy
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(","))
        }
        _ => {}
    }
    if let Some((address, field)) = address_key(key) {
        let Some((_, entry)) = config.mail.support_address(address) else {
            return Ok(String::new());
        };
        return Ok(match field {
            Some("name") => entry.name.clone(),
            Some("signature") => entry.signature.clone().unwrap_or_default(),
            Some("tags") => entry.tags.join(","),
            Some("assignee") => entry.assignee.clone().unwrap_or_default(),
            _ => address.to_string(),
        });
    }
    let value = toml::Value::try_from(config).map_err(|e| KeyError::NotToml(e.to_string()))?;
    let mut node = &value;
    for part in key.split('.') {
        match node.get(part) {
            Some(v) => node = v,
            None => return Ok(String::new()),
        }
    }
    Ok(match node {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    })
}

/// Sets `key` to `value` in the file at `path` (created if missing), after checking
/// that the result loads. Returns the new config.
pub fn set(path: &Path, key: &str, value: &str) -> Result<Config, ConfigError> {
    let err = |problem: String| ConfigError {
        path: path.into(),
        problem,
    };
    let kind = kind_of(key).map_err(|e| err(e.to_string()))?;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(err(format!("cannot read it ({e})"))),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| err(one_line(&e.to_string())))?;
    if kind == Kind::Table && key.starts_with("sla.") {
        super::sla::set_field(&mut doc, key, value).map_err(err)?;
        return finish(path, &doc);
    }
    if kind == Kind::Table {
        set_address_field(&mut doc, key, value).map_err(err)?;
        return finish(path, &doc);
    }
    let item = match kind {
        Kind::Text => toml_edit::value(value),
        Kind::Number => toml_edit::value(
            value
                .trim()
                .replace('_', "")
                .parse::<i64>()
                .map_err(|_| err(format!("{key} must be a whole number, not {value:?}")))?,
        ),
        Kind::Bool => toml_edit::value(match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => true,
            "false" | "no" | "off" => false,
            _ => return Err(err(format!("{key} must be true or false, not {value:?}"))),
        }),
        Kind::List => {
            let mut array = toml_edit::Array::new();
            for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                array.push(v);
            }
            toml_edit::value(array)
        }
        Kind::Table => unreachable!("handled above"),
    };
    let (section, name) = key.split_once('.').expect("every key has a section");
    if !doc.contains_table(section) {
        doc[section] = toml_edit::table();
    }
    doc[section][name] = item;
    finish(path, &doc)
}

/// Checks that `doc` loads, then writes it; returns the new config.
fn finish(path: &Path, doc: &toml_edit::DocumentMut) -> Result<Config, ConfigError> {
    let err = |problem: String| ConfigError {
        path: path.into(),
        problem,
    };
    let new_text = doc.to_string();
    let config: Config = toml::from_str(&new_text).map_err(|e| err(one_line(&e.to_string())))?;
    config.validate().map_err(err)?;
    write_atomically(path, new_text.as_bytes())
        .map_err(|e| err(format!("cannot write it ({e})")))?;
    Ok(config)
}

/// `mail.addresses.ADDR.FIELD VALUE` sets one field of an entry (created if new; an
/// empty signature or assignee removes it); `mail.addresses.ADDR ""` removes the entry.
fn set_address_field(
    doc: &mut toml_edit::DocumentMut,
    key: &str,
    value: &str,
) -> Result<(), String> {
    let usage = "set one field at a time: mail.addresses.ADDR.name|signature|tags|assignee VALUE, or mail.addresses.ADDR \"\" to remove an address";
    let Some((address, field)) = address_key(key) else {
        return Err(usage.into());
    };
    let address = sealdesk_model::normalize_email(address);
    if !sealdesk_model::is_plausible_email(&address) {
        return Err(format!(
            "{key}: {address:?} is not an email address; {usage}"
        ));
    }
    if !doc.contains_table("mail") {
        doc["mail"] = toml_edit::table();
    }
    let mail = doc["mail"].as_table_mut().ok_or("[mail] is not a table")?;
    if !mail.contains_key("addresses") {
        let mut t = toml_edit::Table::new();
        t.set_implicit(true);
        mail.insert("addresses", toml_edit::Item::Table(t));
    }
    let addresses = mail["addresses"]
        .as_table_mut()
        .ok_or("mail.addresses is not a table")?;
    let Some(field) = field else {
        if !value.trim().is_empty() {
            return Err(usage.into());
        }
        if addresses.remove(&address).is_none() {
            return Err(format!(
                "{address} is not in mail.addresses: nothing to remove"
            ));
        }
        return Ok(());
    };
    if !addresses.contains_key(&address) {
        addresses.insert(&address, toml_edit::table());
    }
    let entry = addresses[address.as_str()]
        .as_table_mut()
        .ok_or("the entry is not a table")?;
    let value = value.trim();
    match field {
        "tags" => {
            let mut array = toml_edit::Array::new();
            for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                array.push(t.to_lowercase());
            }
            entry.insert("tags", toml_edit::value(array));
        }
        "signature" | "assignee" if value.is_empty() => {
            entry.remove(field);
        }
        _ => {
            entry.insert(field, toml_edit::value(value));
        }
    }
    Ok(())
}

/// Sets (or with `None` removes) `[agent_email] NAME = "ADDR"` in the file at `path`,
/// after checking that the result loads. Returns the new config.
pub fn set_agent_email(
    path: &Path,
    agent: &str,
    email: Option<&str>,
) -> Result<Config, ConfigError> {
    let err = |problem: String| ConfigError {
        path: path.into(),
        problem,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(err(format!("cannot read it ({e})"))),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| err(one_line(&e.to_string())))?;
    if !doc.contains_table("agent_email") {
        doc["agent_email"] = toml_edit::table();
    }
    match email {
        Some(e) => doc["agent_email"][agent] = toml_edit::value(e),
        None => {
            if let Some(t) = doc["agent_email"].as_table_mut() {
                t.remove(agent);
            }
        }
    }
    finish(path, &doc)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("toml.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_comments_and_get_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sealdesk.toml");
        std::fs::write(&p, "# my desk\n[mail]\n# the limit\nmax_size = 1000\n").unwrap();
        let c = set(&p, "mail.ingest", "Support@Example.com, help@example.com").unwrap();
        assert_eq!(
            get(&c, "mail.ingest").unwrap(),
            "Support@Example.com,help@example.com"
        );
        assert!(c.mail.accepts("support@example.com"));
        let c = set(&p, "mail.max_size", "2_000").unwrap();
        assert_eq!(get(&c, "mail.max_size").unwrap(), "2000");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("# my desk") && text.contains("# the limit"),
            "{text}"
        );
        assert!(set(&p, "mail.max_size", "big")
            .unwrap_err()
            .to_string()
            .contains("whole number"));
        assert!(set(&p, "mail.nope", "x")
            .unwrap_err()
            .to_string()
            .contains("unknown key"));
        assert!(set(&p, "mail.relay", "http://x")
            .unwrap_err()
            .to_string()
            .contains("mail.relay"));
        assert_eq!(
            get(&Config::default(), "server.ssh").unwrap(),
            "127.0.0.1:2222"
        );
    }

    #[test]
    fn sla_hours_and_policies_are_set_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sealdesk.toml");
        set(&p, "sla.zone", "Europe/Berlin").unwrap();
        set(&p, "sla.hours.mon", "09:00-12:00,13:00-17:00").unwrap();
        set(&p, "sla.holidays", "2026-12-25,2026-12-26").unwrap();
        set(&p, "sla.policy.urgent.priority", "urgent").unwrap();
        let c = set(&p, "sla.policy.urgent.first_response", "1h").unwrap();
        assert_eq!(get(&c, "sla.hours.mon").unwrap(), "09:00-12:00,13:00-17:00");
        assert_eq!(get(&c, "sla.policy").unwrap(), "urgent");
        assert_eq!(get(&c, "sla.policy.urgent.first_response").unwrap(), "1h");
        assert_eq!(get(&c, "sla.holidays").unwrap(), "2026-12-25,2026-12-26");
        assert_eq!(super::super::sla::keys(&c).len(), 3);
        assert_eq!(Config::load(&p, true).unwrap().sla.policy.len(), 1);
        for (key, value, needle) in [
            ("sla.zone", "Atlantis/Capital", "IANA"),
            ("sla.hours.mon", "9 to 5", "09:00-17:00"),
            ("sla.hours.someday", "09:00-17:00", "not a weekday"),
            ("sla.policy.urgent.resolution", "2 days", "business hours"),
            ("sla.policy.gone", "", "nothing to remove"),
        ] {
            let e = set(&p, key, value).unwrap_err().to_string();
            assert!(e.contains(needle), "{key}: {e}");
        }
        let c = set(&p, "sla.policy.urgent", "").unwrap();
        assert!(!c.sla.is_on());
    }

    #[test]
    fn support_addresses_are_set_field_by_field_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sealdesk.toml");
        set(&p, "mail.addresses.Billing@Example.com.name", "Billing").unwrap();
        set(&p, "mail.addresses.billing@example.com.tags", "Money, vip").unwrap();
        let c = set(
            &p,
            "mail.addresses.billing@example.com.signature",
            "Billing team\n{address.email}",
        )
        .unwrap();
        assert_eq!(get(&c, "mail.addresses").unwrap(), "billing@example.com");
        assert_eq!(
            get(&c, "mail.addresses.billing@example.com.tags").unwrap(),
            "money,vip"
        );
        assert!(c.mail.accepts("BILLING@example.com"));
        assert!(c.mail.is_support_address("billing@example.com"));
        assert_eq!(
            c.mail.from_for(Some("billing@example.com")).as_deref(),
            Some("Billing <billing@example.com>")
        );
        assert_eq!(c.mail.from_for(Some("other@example.com")), None);
        assert_eq!(address_keys(&c).len(), 4);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("[mail.addresses.\"billing@example.com\"]"),
            "{text}"
        );
        // It loads again from the file as written.
        assert_eq!(Config::load(&p, true).unwrap().mail.addresses.len(), 1);
        for (key, value, needle) in [
            ("mail.addresses.nobody.name", "x", "not an email address"),
            (
                "mail.addresses.billing@example.com.assignee",
                "Not An Agent",
                "not an agent name",
            ),
            (
                "mail.addresses.billing@example.com",
                "x",
                "one field at a time",
            ),
            (
                "mail.addresses.billing@example.com.name",
                "A <b>",
                "plain name",
            ),
        ] {
            let e = set(&p, key, value).unwrap_err().to_string();
            assert!(e.contains(needle), "{key}: {e}");
        }
        let c = set(&p, "mail.addresses.billing@example.com", "").unwrap();
        assert!(c.mail.addresses.is_empty());
        assert!(!c.mail.accepts("billing@example.com"));
    }
}
