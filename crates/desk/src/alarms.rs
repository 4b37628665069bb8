//! Alarms that reach people: privacy requests due within three days or overdue, and
//! mail newly quarantined, as a warning line in the server log and a mail to every
//! admin with an address (`sealdesk agent set NAME --email ADDR`). The server runs it at
//! start and daily; `sealdesk request alarms [--mail]` by hand. The mail holds no
//! customer text: ids, kinds, due dates, times.

use super::write::Hold;
use super::{is_finished, urgency, Actor, Desk, DeskError, Result, Urgency};
use sealdesk_model::{
    ComposedMail, NotifyPrefs, NotifyTopic, PrivacyRequest, QuarantineItem, Timestamp,
};

/// What needs someone's attention now.
#[derive(Debug, Clone, Default)]
pub struct AlarmReport {
    pub overdue: Vec<PrivacyRequest>,
    pub due_soon: Vec<PrivacyRequest>,
    /// Quarantined since the `since` given to [`Desk::alarm_report`].
    pub new_quarantine: Vec<QuarantineItem>,
    /// Admin addresses the mail was queued to (empty: none was).
    pub mailed_to: Vec<String>,
}

impl AlarmReport {
    pub fn is_quiet(&self) -> bool {
        self.overdue.is_empty() && self.due_soon.is_empty() && self.new_quarantine.is_empty()
    }

    /// The one warning line for the log.
    pub fn summary(&self) -> String {
        format!(
            "privacy requests: {} overdue, {} due within 3 days; {} new in quarantine",
            self.overdue.len(),
            self.due_soon.len(),
            self.new_quarantine.len()
        )
    }

    /// The alarm mail's body: ids, kinds, statuses and dates only.
    pub fn body(&self) -> String {
        let mut b = format!("{}.\n", self.summary());
        let line = |r: &PrivacyRequest| {
            format!(
                "  {}  {:<19} {:<11} due {}\n",
                r.id,
                r.kind.as_str(),
                r.status.as_str(),
                r.due.rfc3339()
            )
        };
        if !self.overdue.is_empty() {
            b.push_str("\nOverdue:\n");
            self.overdue.iter().for_each(|r| b.push_str(&line(r)));
        }
        if !self.due_soon.is_empty() {
            b.push_str("\nDue within 3 days:\n");
            self.due_soon.iter().for_each(|r| b.push_str(&line(r)));
        }
        if !self.new_quarantine.is_empty() {
            b.push_str("\nNew in quarantine:\n");
            for q in &self.new_quarantine {
                b.push_str(&format!("  {}  received {}\n", q.id, q.received.rfc3339()));
            }
        }
        b.push_str("\nSee `sealdesk request list` and `sealdesk quarantine list`.\n");
        b
    }
}

impl Desk {
    /// Requests overdue or due within 3 days at `now`, and quarantine items received
    /// after `since`.
    pub(crate) fn alarm_report(&self, now: Timestamp, since: Timestamp) -> Result<AlarmReport> {
        let mut report = AlarmReport::default();
        for r in self.requests()?.into_iter().filter(|r| !is_finished(r)) {
            match urgency(&r, now) {
                Urgency::Overdue => report.overdue.push(r),
                Urgency::DueSoon => report.due_soon.push(r),
                _ => {}
            }
        }
        report.new_quarantine = self
            .quarantine()?
            .into_iter()
            .filter(|q| q.received > since)
            .collect();
        Ok(report)
    }

    /// The addresses for alarms: agents with an address in `[agent_email]` whose
    /// `privacy` notification topic is on (by default: admins, see
    /// `NotifyTopic::default_for`; `agent set NAME --notify +privacy / -privacy`).
    pub(crate) fn admin_addresses(&self) -> Result<Vec<String>> {
        let emails = self.config().agent_email;
        let mut out = Vec::new();
        for a in self.store.agents()? {
            let prefs = NotifyPrefs::effective(self.store.notify_prefs(&a.name)?, a.role);
            if !prefs.wants(NotifyTopic::Privacy) {
                continue;
            }
            if let Some(e) = emails.get(&a.name) {
                out.push(e.clone());
            }
        }
        Ok(out)
    }

    /// Builds the report for the last day; unless it is quiet, logs its warning line and,
    /// with `mail`, queues one mail to every admin address (audited `alarm.mail`).
    pub fn run_alarms(&self, actor: &Actor, now: Timestamp, mail: bool) -> Result<AlarmReport> {
        self.require_admin(actor, "send alarms")?;
        let mut report = self.alarm_report(now, now.plus_days(-1))?;
        if report.is_quiet() {
            return Ok(report);
        }
        tracing::warn!("{}", report.summary());
        let config = self.config().mail;
        if !mail || config.from.is_none() {
            return Ok(report);
        }
        let to = self.admin_addresses()?;
        if to.is_empty() {
            return Ok(report);
        }
        let body = report.body();
        self.write(actor, &[Hold::Settings], |u| {
            for addr in &to {
                self.queue_composed(
                    u,
                    ComposedMail {
                        to: addr.clone(),
                        subject: format!(
                            "sealdesk: {} overdue, {} due soon",
                            report.overdue.len(),
                            report.due_soon.len()
                        ),
                        message_id: sealdesk_mail::new_message_id(&config.message_id_domain()),
                        body: body.clone(),
                        attachment: None,
                    },
                )?;
            }
            u.audit("alarm.mail", vec![format!("admins={}", to.len())], None);
            Ok(())
        })?;
        report.mailed_to = to;
        Ok(report)
    }

    /// Gives an agent an address for alarm mail (or takes it away with `None`); stored
    /// in the config file's `[agent_email]`, audited.
    pub fn set_agent_email(&self, actor: &Actor, name: &str, email: Option<&str>) -> Result<()> {
        self.require_admin(actor, "change an agent's address")?;
        if self.store.agent_by_name(name)?.is_none() {
            return Err(DeskError::NotFound(format!(
                "no agent named {}: see `sealdesk agent list`",
                sealdesk_model::sanitize::line(name)
            )));
        }
        let email = email.map(sealdesk_model::normalize_email);
        if let Some(e) = &email {
            if !sealdesk_model::is_plausible_email(e) {
                return Err(DeskError::Invalid(format!(
                    "{} is not an email address: give one like alice@example.com",
                    sealdesk_model::sanitize::line(e)
                )));
            }
        }
        let config = self.write(actor, &[Hold::Settings], |u| {
            let config =
                crate::config::edit::set_agent_email(&self.config_path, name, email.as_deref())
                    .map_err(|e| DeskError::Invalid(e.to_string()))?;
            u.audit("agent.email", vec![name.to_string()], None);
            Ok(config)
        })?;
        self.replace_config(config);
        Ok(())
    }
}
