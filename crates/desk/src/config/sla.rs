//! `[sla]`: the business calendar and the SLA policies (see `sealdesk_model::sla`).
//!
//! ```toml
//! [sla]
//! zone = "Europe/Berlin"
//! holidays = ["2026-12-25", "2026-12-26"]
//! [sla.hours]
//! mon = "09:00-17:00"           # several spans: "09:00-12:00,13:00-17:00"
//! [sla.policy.urgent]
//! priority = "urgent"           # what it matches: priority, address, tag (all given must match)
//! first_response = "1h"
//! next_response = "4h"
//! resolution = "16h"
//! ```
//! Which policy applies: of those whose every criterion matches the ticket, the one
//! with the most criteria; among equals, the first by name. A policy without criteria
//! is the default. No `sla.hours` at all: round the clock. No policy: no SLA.

use sealdesk_model::sla::{parse_target, Calendar, Targets, WEEKDAYS};
use sealdesk_model::{Priority, Ticket};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// IANA time zone of the business hours; empty: UTC.
    pub zone: String,
    /// Weekday (`mon` … `sun`) → spans such as `09:00-17:00`; a day not named is closed.
    pub hours: BTreeMap<String, String>,
    /// Dates without business hours, e.g. `2026-12-25`.
    pub holidays: Vec<String>,
    /// Policies by name.
    pub policy: BTreeMap<String, SlaPolicy>,
}

/// One SLA policy: its targets (business time, e.g. `1h`, `30m`, `16h`) and what it
/// applies to.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    pub first_response: Option<String>,
    pub next_response: Option<String>,
    pub resolution: Option<String>,
    pub priority: Option<String>,
    pub address: Option<String>,
    pub tag: Option<String>,
}

/// The fields of a policy, as `config set sla.policy.NAME.FIELD` names them.
pub const POLICY_FIELDS: &[&str] = &[
    "first_response",
    "next_response",
    "resolution",
    "priority",
    "address",
    "tag",
];

impl SlaPolicy {
    fn targets(&self) -> Targets {
        let t = |v: &Option<String>| v.as_deref().and_then(|v| parse_target(v).ok());
        Targets {
            first_response: t(&self.first_response),
            next_response: t(&self.next_response),
            resolution: t(&self.resolution),
        }
    }

    /// How many criteria it has, or None when one does not match `ticket`.
    fn specificity(&self, ticket: &Ticket) -> Option<usize> {
        let mut n = 0;
        if let Some(p) = &self.priority {
            (p.parse::<Priority>().ok()? == ticket.priority).then_some(())?;
            n += 1;
        }
        if let Some(a) = &self.address {
            let a = sealdesk_model::normalize_email(a);
            (ticket.address.as_deref() == Some(a.as_str())).then_some(())?;
            n += 1;
        }
        if let Some(tag) = &self.tag {
            ticket
                .tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(tag.trim()))
                .then_some(())?;
            n += 1;
        }
        Some(n)
    }
}

impl SlaConfig {
    /// Whether any policy is configured (without one there is no SLA).
    pub fn is_on(&self) -> bool {
        !self.policy.is_empty()
    }

    /// The business calendar (checked by [`SlaConfig::validate`]; round the clock in
    /// UTC if it somehow does not build).
    pub fn calendar(&self) -> Calendar {
        self.try_calendar().unwrap_or_else(|_| Calendar::always())
    }

    fn try_calendar(&self) -> Result<Calendar, String> {
        if self.hours.is_empty() {
            return Calendar::new(&self.zone, ["00:00-24:00"; 7], &self.holidays);
        }
        let week = WEEKDAYS.map(|d| self.hours.get(d).map(String::as_str).unwrap_or(""));
        Calendar::new(&self.zone, week, &self.holidays)
    }

    /// The policy that applies to `ticket` (see the module doc), with its name.
    pub fn policy_for(&self, ticket: &Ticket) -> Option<(&str, Targets)> {
        let mut best: Option<(&str, &SlaPolicy, usize)> = None;
        for (name, policy) in &self.policy {
            if let Some(n) = policy.specificity(ticket) {
                if best.is_none_or(|(_, _, m)| n > m) {
                    best = Some((name, policy, n));
                }
            }
        }
        best.map(|(name, policy, _)| (name, policy.targets()))
    }

    /// Checks what serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        for day in self.hours.keys() {
            if !WEEKDAYS.contains(&day.as_str()) {
                return Err(format!(
                    "sla.hours.{day}: not a weekday; use mon, tue, wed, thu, fri, sat or sun"
                ));
            }
        }
        let calendar = self.try_calendar()?;
        if !calendar.has_hours() {
            return Err(
                "sla.hours: no day has business hours; set e.g. sla.hours.mon 09:00-17:00".into(),
            );
        }
        for (name, p) in &self.policy {
            if !is_policy_name(name) {
                return Err(format!(
                    "sla.policy.{name}: name a policy with letters, digits, - and _ only"
                ));
            }
            for (field, value) in [
                ("first_response", &p.first_response),
                ("next_response", &p.next_response),
                ("resolution", &p.resolution),
            ] {
                if let Some(v) = value {
                    parse_target(v).map_err(|e| format!("sla.policy.{name}.{field}: {e}"))?;
                }
            }
            if let Some(prio) = &p.priority {
                prio.parse::<Priority>()
                    .map_err(|e| format!("sla.policy.{name}.priority: {e}"))?;
            }
            if let Some(a) = &p.address {
                if !sealdesk_model::is_plausible_email(a) {
                    return Err(format!(
                        "sla.policy.{name}.address: {a:?} is not an email address"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn is_policy_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether `key` is one of `sla.hours.DAY` or `sla.policy.NAME[.FIELD]`.
pub(super) fn is_table_key(key: &str) -> bool {
    key.starts_with("sla.hours.") || key.starts_with("sla.policy.")
}

/// Every `sla.hours.DAY` and `sla.policy.NAME.FIELD` key that is set, as `config list`
/// shows them.
pub fn keys(config: &super::Config) -> Vec<String> {
    let sla = &config.sla;
    let mut out: Vec<String> = sla.hours.keys().map(|d| format!("sla.hours.{d}")).collect();
    for (name, p) in &sla.policy {
        for (field, value) in [
            ("first_response", &p.first_response),
            ("next_response", &p.next_response),
            ("resolution", &p.resolution),
            ("priority", &p.priority),
            ("address", &p.address),
            ("tag", &p.tag),
        ] {
            if value.is_some() {
                out.push(format!("sla.policy.{name}.{field}"));
            }
        }
    }
    out
}

/// `sla.hours.DAY SPANS` (empty: closed) and `sla.policy.NAME.FIELD VALUE` (empty
/// removes the field); `sla.policy.NAME ""` removes the policy.
pub(super) fn set_field(
    doc: &mut toml_edit::DocumentMut,
    key: &str,
    value: &str,
) -> Result<(), String> {
    let usage = "use sla.hours.DAY \"09:00-17:00\", sla.policy.NAME.FIELD VALUE (FIELD: first_response, next_response, resolution, priority, address, tag) or sla.policy.NAME \"\" to remove a policy";
    if !doc.contains_table("sla") {
        doc["sla"] = toml_edit::table();
    }
    let sla = doc["sla"].as_table_mut().ok_or("[sla] is not a table")?;
    let value = value.trim();
    let table = |parent: &mut toml_edit::Table, name: &str| {
        if !parent.contains_key(name) {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            parent.insert(name, toml_edit::Item::Table(t));
        }
    };
    if let Some(day) = key.strip_prefix("sla.hours.") {
        table(sla, "hours");
        let hours = sla["hours"]
            .as_table_mut()
            .ok_or("sla.hours is not a table")?;
        hours.insert(day, toml_edit::value(value));
        return Ok(());
    }
    let rest = key.strip_prefix("sla.policy.").ok_or(usage)?;
    let (name, field) = match rest.rsplit_once('.') {
        Some((name, field)) if POLICY_FIELDS.contains(&field) => (name, Some(field)),
        _ => (rest, None),
    };
    table(sla, "policy");
    let policies = sla["policy"]
        .as_table_mut()
        .ok_or("sla.policy is not a table")?;
    let Some(field) = field else {
        if !value.is_empty() {
            return Err(usage.into());
        }
        if policies.remove(name).is_none() {
            return Err(format!(
                "there is no SLA policy {name:?}: nothing to remove"
            ));
        }
        return Ok(());
    };
    if !policies.contains_key(name) {
        policies.insert(name, toml_edit::table());
    }
    let policy = policies[name]
        .as_table_mut()
        .ok_or("the policy is not a table")?;
    if value.is_empty() {
        policy.remove(field);
    } else {
        policy.insert(field, toml_edit::value(value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{CustomerId, TicketNo, Timestamp};

    fn policy(priority: Option<&str>, tag: Option<&str>, first: &str) -> SlaPolicy {
        SlaPolicy {
            first_response: Some(first.into()),
            priority: priority.map(String::from),
            tag: tag.map(String::from),
            ..SlaPolicy::default()
        }
    }

    #[test]
    fn the_most_specific_matching_policy_wins() {
        let mut sla = SlaConfig::default();
        sla.policy
            .insert("default".into(), policy(None, None, "8h"));
        sla.policy
            .insert("urgent".into(), policy(Some("urgent"), None, "1h"));
        sla.policy.insert(
            "urgent-vip".into(),
            policy(Some("urgent"), Some("vip"), "30m"),
        );
        sla.validate().unwrap();
        let mut t = Ticket::new(TicketNo(1), "s".into(), CustomerId([1; 16]), Timestamp(0));
        let name = |sla: &SlaConfig, t: &Ticket| sla.policy_for(t).map(|(n, _)| n.to_string());
        assert_eq!(name(&sla, &t).as_deref(), Some("default"));
        t.priority = Priority::Urgent;
        assert_eq!(name(&sla, &t).as_deref(), Some("urgent"));
        t.tags = vec!["vip".into()];
        assert_eq!(sla.policy_for(&t).unwrap().1.first_response, Some(1800));
        assert!(SlaConfig::default().policy_for(&t).is_none());
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut sla = SlaConfig::default();
        sla.hours.insert("monday".into(), "09:00-17:00".into());
        assert!(sla.validate().unwrap_err().contains("sla.hours.monday"));
        let mut sla = SlaConfig::default();
        sla.policy
            .insert("p".into(), policy(Some("asap"), None, "1h"));
        assert!(sla
            .validate()
            .unwrap_err()
            .contains("sla.policy.p.priority"));
        sla.policy.insert("p".into(), policy(None, None, "1 day"));
        assert!(sla
            .validate()
            .unwrap_err()
            .contains("sla.policy.p.first_response"));
    }
}
