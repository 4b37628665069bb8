//! Retention: personal data is kept only as long as needed, each kind by its own rule
//! (0 days keeps it forever, except for exports):
//! - closed and solved tickets are anonymised `privacy.anonymise_closed_after_days`
//!   after their last update;
//! - customers without activity for `retention.inactive_customer_days` are erased as a
//!   cancellation erases them (key destroyed), without a mail; never under legal hold,
//!   while restricted, with an open request or with a ticket still being worked on;
//! - consent records superseded `retention.consent_evidence_days` ago are deleted (the
//!   current record of each purpose stays);
//! - finished privacy requests go `retention.request_days` after they were decided;
//! - quarantined mail without a known sender (master-sealed) goes
//!   `privacy.quarantine_days` after it arrived; mail sealed for its sender goes with
//!   that customer, or after `retention.quarantine_days` when that is set;
//! - a stored export archive's content goes `privacy.export_retention_days` after it was
//!   made (its index entry stays), and so do old plaintext archives an earlier version
//!   left in DATA/exports.
//!
//! The server runs this daily; `sealdesk retention run [--dry-run]` runs it by hand. A
//! dry run lists everything a run would do, by ids and counts, changing nothing.

use super::write::Hold;
use super::{requests::is_finished, Actor, ActorKind, Desk, DeskError, Result};
use sealdesk_model::{CustomerId, ExportId, QuarantineId, RequestId, Status, TicketNo, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub dry_run: bool,
    /// Closed and solved tickets anonymised.
    pub tickets: Vec<TicketNo>,
    pub messages: usize,
    /// Inactive customers erased.
    pub customers: Vec<CustomerId>,
    /// Superseded consent records deleted: (customer, position in their ledger).
    pub consents: Vec<(CustomerId, u64)>,
    pub requests: Vec<RequestId>,
    /// Quarantined mail deleted.
    pub quarantine_removed: Vec<QuarantineId>,
    /// Stored archives whose content expired (their index entries stay).
    pub exports_expired: Vec<ExportId>,
    /// Old plaintext archives in DATA/exports deleted (file names).
    pub legacy_exports: Vec<String>,
}

impl RetentionReport {
    /// One line per kind with its ids: what `retention run` prints.
    pub fn lines(&self) -> Vec<String> {
        let ids = |v: Vec<String>| {
            if v.is_empty() {
                String::new()
            } else {
                format!(": {}", v.join(" "))
            }
        };
        let verb =
            |done: &'static str, would: &'static str| if self.dry_run { would } else { done };
        vec![
            format!(
                "tickets {} {}{} ({} messages)",
                verb("anonymised", "to anonymise"),
                self.tickets.len(),
                ids(self.tickets.iter().map(|t| t.to_string()).collect()),
                self.messages
            ),
            format!(
                "inactive customers {} {}{}",
                verb("erased", "to erase"),
                self.customers.len(),
                ids(self.customers.iter().map(|c| c.to_string()).collect())
            ),
            format!(
                "consent records {} {}{}",
                verb("deleted", "to delete"),
                self.consents.len(),
                ids(self
                    .consents
                    .iter()
                    .map(|(c, s)| format!("{c}/{s}"))
                    .collect())
            ),
            format!(
                "privacy requests {} {}{}",
                verb("deleted", "to delete"),
                self.requests.len(),
                ids(self.requests.iter().map(|r| r.to_string()).collect())
            ),
            format!(
                "quarantined mails {} {}{}",
                verb("deleted", "to delete"),
                self.quarantine_removed.len(),
                ids(self
                    .quarantine_removed
                    .iter()
                    .map(|q| q.to_string())
                    .collect())
            ),
            format!(
                "export archives {} {}{}",
                verb("expired", "to expire"),
                self.exports_expired.len(),
                ids(self.exports_expired.iter().map(|e| e.to_string()).collect())
            ),
            format!(
                "old plaintext export files {} {}{}",
                verb("deleted", "to delete"),
                self.legacy_exports.len(),
                ids(self.legacy_exports.clone())
            ),
        ]
    }

    fn changed(&self) -> bool {
        !(self.tickets.is_empty()
            && self.customers.is_empty()
            && self.consents.is_empty()
            && self.requests.is_empty()
            && self.quarantine_removed.is_empty()
            && self.exports_expired.is_empty()
            && self.legacy_exports.is_empty())
    }
}

/// Counts only (for the server log).
impl std::fmt::Display for RetentionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{} ticket(s) ({} messages), {} inactive customer(s), {} consent record(s), {} request(s), {} quarantined mail(s), {} export(s), {} old export file(s)",
            if self.dry_run { "would do: " } else { "" },
            self.tickets.len(),
            self.messages,
            self.customers.len(),
            self.consents.len(),
            self.requests.len(),
            self.quarantine_removed.len(),
            self.exports_expired.len(),
            self.legacy_exports.len()
        )
    }
}

/// The cut-off for a rule of `days` (0: the rule is off).
fn cutoff(now: Timestamp, days: u32) -> Option<Timestamp> {
    (days > 0).then(|| now.plus_days(-i64::from(days)))
}

impl Desk {
    /// Applies every retention rule as of `now` (or only lists what it would do).
    pub fn run_retention(
        &self,
        actor: &Actor,
        dry_run: bool,
        now: Timestamp,
    ) -> Result<RetentionReport> {
        self.require_admin(actor, "run retention")?;
        let mut report = RetentionReport {
            dry_run,
            ..self.retention_due(now)?
        };
        if dry_run {
            return Ok(report);
        }
        let dir = crate::export::archive::exports_dir(&self.store.paths().data);
        for name in &report.legacy_exports {
            std::fs::remove_file(dir.join(name)).map_err(|e| {
                DeskError::Invalid(format!("cannot delete {name} in {}: {e}", dir.display()))
            })?;
        }
        // One unit holding the desk: what is due is decided again while nobody can
        // change it (a reply reopening a ticket cannot slip in between).
        let (store_part, messages) = self.write(actor, &[Hold::Everything], |u| {
            let due = self.retention_due(now)?;
            let mut messages = 0;
            for &n in &due.tickets {
                messages += u.tx.anonymise_ticket(n)?;
                u.touch(n);
            }
            for (customer, seq) in &due.consents {
                u.tx.remove_consent(customer, *seq)?;
            }
            for id in &due.requests {
                u.tx.remove_request(id);
            }
            for id in &due.quarantine_removed {
                u.tx.remove_quarantine(id)?;
            }
            for id in &due.exports_expired {
                if let Some(record) = self.store.export_record(id)? {
                    u.tx.expire_export(&record)?;
                }
            }
            let run = RetentionReport {
                legacy_exports: report.legacy_exports.clone(),
                ..due
            };
            // The daily run is audited when it changed something; a run by hand always.
            if actor.kind != ActorKind::System || run.changed() {
                u.audit(
                    "retention.run",
                    vec![
                        format!("as_of={now}"),
                        format!("tickets={}", run.tickets.len()),
                        format!("customers={}", run.customers.len()),
                        format!("consents={}", run.consents.len()),
                        format!("requests={}", run.requests.len()),
                        format!("quarantine-deleted={}", run.quarantine_removed.len()),
                        format!("exports-expired={}", run.exports_expired.len()),
                        format!("old-export-files={}", run.legacy_exports.len()),
                    ],
                    None,
                );
            }
            Ok((run, messages))
        })?;
        if !store_part.requests.is_empty() {
            self.requests_changed();
        }
        let erased = self.erase_inactive(actor, &store_part.customers, now)?;
        report = RetentionReport {
            messages,
            customers: erased,
            ..store_part
        };
        Ok(report)
    }

    /// What is due as of `now`, by every rule; changes nothing.
    fn retention_due(&self, now: Timestamp) -> Result<RetentionReport> {
        let config = self.config();
        let (privacy, rules) = (&config.privacy, &config.retention);
        let mut due = RetentionReport::default();

        let tickets = self.store.tickets()?;
        if let Some(c) = cutoff(now, privacy.anonymise_closed_after_days) {
            for t in &tickets {
                let finished = matches!(t.status, Status::Closed | Status::Solved);
                if finished && t.updated < c && !t.subject.is_erased() {
                    due.messages += self.store.messages(t.number)?.len();
                    due.tickets.push(t.number);
                }
            }
        }
        let requests = self.store.requests()?;
        if let Some(c) = cutoff(now, rules.inactive_customer_days) {
            for id in self.store.customer_ids()? {
                if self.inactive_before(&id, c, &requests)? {
                    due.customers.push(id);
                }
            }
        }
        if let Some(c) = cutoff(now, rules.consent_evidence_days) {
            for id in self.store.customer_ids()? {
                let Ok(records) = self.store.consents(&id) else {
                    continue;
                };
                // A record is superseded when a later one for its purpose was made.
                for r in &records {
                    let superseded = records
                        .iter()
                        .filter(|n| n.purpose == r.purpose && n.seq > r.seq)
                        .map(|n| n.at)
                        .min();
                    if superseded.is_some_and(|at| at < c) {
                        due.consents.push((id, r.seq));
                    }
                }
            }
        }
        if let Some(c) = cutoff(now, rules.request_days) {
            for r in &requests {
                let done_at = r.decision.as_ref().map_or(r.received, |d| d.at);
                if is_finished(r) && done_at < c {
                    due.requests.push(r.id);
                }
            }
        }
        if let Some(c) = cutoff(now, privacy.quarantine_days) {
            for q in self.store.unowned_quarantine()? {
                if q.received < c {
                    due.quarantine_removed.push(q.id);
                }
            }
        }
        if let Some(c) = cutoff(now, rules.quarantine_days) {
            for id in self.store.customer_ids()? {
                let Ok(items) = self.store.quarantine_of(&id) else {
                    continue;
                };
                due.quarantine_removed
                    .extend(items.iter().filter(|q| q.received < c).map(|q| q.id));
            }
        }
        let export_cutoff = now.plus_days(-i64::from(privacy.export_retention_days));
        due.exports_expired = self
            .store
            .export_records()?
            .into_iter()
            .filter(|r| r.content_deleted.is_none() && r.created < export_cutoff)
            .map(|r| r.id)
            .collect();
        due.legacy_exports = expired_exports(
            &crate::export::archive::exports_dir(&self.store.paths().data),
            now,
            privacy.export_retention_days,
        );
        Ok(due)
    }

    /// Whether a customer may be erased for inactivity: nothing of theirs (profile,
    /// tickets, consent records, requests) changed since `cutoff`, no ticket is still
    /// being worked on, no request is open, and neither legal hold nor restriction
    /// keeps them.
    fn inactive_before(
        &self,
        id: &CustomerId,
        cutoff: Timestamp,
        requests: &[sealdesk_model::PrivacyRequest],
    ) -> Result<bool> {
        let Some(customer) = self.store.customer(id).ok().flatten() else {
            return Ok(false);
        };
        if customer.flags.legal_hold || customer.flags.restricted || customer.created >= cutoff {
            return Ok(false);
        }
        for n in self.store.customer_tickets(id)? {
            if let Some(t) = self.store.ticket(n)? {
                if t.updated >= cutoff || !matches!(t.status, Status::Closed | Status::Solved) {
                    return Ok(false);
                }
            }
        }
        if self.store.consents(id)?.iter().any(|r| r.at >= cutoff) {
            return Ok(false);
        }
        Ok(!requests
            .iter()
            .any(|r| r.customer == *id && (r.received >= cutoff || !is_finished(r))))
    }

    /// Erases each inactive customer as a cancellation does (journalled, one unit,
    /// then the key destroyed), but without a confirmation mail. Returns who was.
    fn erase_inactive(
        &self,
        actor: &Actor,
        customers: &[CustomerId],
        now: Timestamp,
    ) -> Result<Vec<CustomerId>> {
        let Some(cutoff) = cutoff(now, self.config().retention.inactive_customer_days) else {
            return Ok(Vec::new());
        };
        let mut erased = Vec::new();
        for id in customers {
            let Some(customer) = self.store.customer(id)? else {
                continue;
            };
            let done = self.write(actor, &[Hold::Everything], |u| {
                // Still inactive? Decided again while nobody can change it, and only
                // then journalled (a journalled erasure is finished at the next start).
                if !self.inactive_before(id, cutoff, &self.store.requests()?)? {
                    return Ok(false);
                }
                let record = self.store.journal_erasure(id, &customer.emails)?;
                self.erase_in(u, &record, "retention.erase")?;
                Ok(true)
            })?;
            if done {
                erased.push(*id);
            }
        }
        Ok(erased)
    }

    /// What the server runs once a day.
    pub fn daily_housekeeping(&self) -> Result<RetentionReport> {
        let actor = Actor::system("daily housekeeping");
        self.run_retention(&actor, false, Timestamp::now())
    }
}

/// Old plaintext archives in `dir` written at least `days` before `now` (0: all).
fn expired_exports(dir: &std::path::Path, now: Timestamp, days: u32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let limit = now.plus_days(-i64::from(days));
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .is_some_and(|t| (t.as_secs() as i64) <= limit.0)
        })
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    out.sort();
    out
}
