//! Retention: personal data is kept only as long as needed. Closed tickets are
//! anonymised a configured time after their last update (`privacy.anonymise_closed_after_days`),
//! and export archives expire (`privacy.export_retention_days`). The server runs this
//! daily; `sealdesk retention run [--dry-run]` runs it by hand.

use super::write::Hold;
use super::{Actor, Desk, Result};
use crate::model::{Status, TicketNo, Timestamp, ERASED};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Tickets anonymised (or that would be, in a dry run).
    pub tickets: Vec<TicketNo>,
    pub messages: usize,
    pub exports_removed: usize,
    /// Stored archives whose content expired (their index entries stay).
    pub exports_expired: Vec<crate::model::ExportId>,
    /// Quarantined mail without a known sender, past `privacy.quarantine_days`.
    pub quarantine_removed: Vec<crate::model::QuarantineId>,
    pub dry_run: bool,
}

impl std::fmt::Display for RetentionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would anonymise"
        } else {
            "anonymised"
        };
        write!(
            f,
            "{verb} {} closed ticket(s) ({} messages)",
            self.tickets.len(),
            self.messages
        )?;
        let verb = if self.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        write!(
            f,
            "; {verb} the content of {} expired export(s) and {} quarantined mail(s) without a known sender",
            self.exports_expired.len(),
            self.quarantine_removed.len()
        )?;
        if !self.dry_run {
            write!(f, "; removed {} expired export(s)", self.exports_removed)?;
        }
        Ok(())
    }
}

impl Desk {
    pub fn run_retention(
        &self,
        actor: &Actor,
        dry_run: bool,
        now: Timestamp,
    ) -> Result<RetentionReport> {
        self.require_admin(actor, "run retention")?;
        let privacy = self.config().privacy;
        let mut report = RetentionReport {
            tickets: Vec::new(),
            messages: 0,
            exports_removed: 0,
            exports_expired: Vec::new(),
            quarantine_removed: Vec::new(),
            dry_run,
        };
        let export_cutoff = now.plus_days(-(privacy.export_retention_days as i64));
        let expired_exports: Vec<_> = self
            .store
            .export_records()?
            .into_iter()
            .filter(|r| r.content_deleted.is_none() && r.created < export_cutoff)
            .collect();
        let quarantine_cutoff = now.plus_days(-(privacy.quarantine_days as i64));
        let old_quarantine: Vec<_> = self
            .store
            .unowned_quarantine()?
            .into_iter()
            .filter(|q| q.received < quarantine_cutoff)
            .map(|q| q.id)
            .collect();
        report.exports_expired = expired_exports.iter().map(|r| r.id).collect();
        report.quarantine_removed = old_quarantine.clone();
        let cutoff = (privacy.anonymise_closed_after_days > 0)
            .then(|| now.plus_days(-(privacy.anonymise_closed_after_days as i64)));
        let due = |t: &crate::model::Ticket| {
            cutoff
                .is_some_and(|c| t.status == Status::Closed && t.updated < c && t.subject != ERASED)
        };
        if dry_run {
            for t in self.store.tickets()?.iter().filter(|t| due(t)) {
                report.messages += self.store.messages(t.number)?.len();
                report.tickets.push(t.number);
            }
            return Ok(report);
        }
        let dir = crate::archive::exports_dir(&self.store.paths().data);
        report.exports_removed = crate::archive::sweep_exports(&dir, privacy.export_retention_days)
            .map_err(|e| {
                super::DeskError::Invalid(format!("cannot clean {}: {e}", dir.display()))
            })?;
        // One unit holding the desk: which tickets are due is decided while nobody can
        // change them (a reply reopening a ticket cannot slip in between).
        let (tickets, messages) = self.write(actor, &[Hold::Everything], |u| {
            let mut tickets = Vec::new();
            let mut messages = 0;
            for t in self.store.tickets()?.iter().filter(|t| due(t)) {
                messages += u.tx.anonymise_ticket(t.number)?;
                tickets.push(t.number);
                u.touch(t.number);
            }
            for r in &expired_exports {
                u.tx.expire_export(r)?;
            }
            for id in &old_quarantine {
                u.tx.remove_quarantine(id)?;
            }
            // The daily run is audited when it changed something; a run by hand always.
            let changed = !tickets.is_empty()
                || report.exports_removed > 0
                || !expired_exports.is_empty()
                || !old_quarantine.is_empty();
            if actor.kind != super::ActorKind::System || changed {
                u.audit(
                    "retention.run",
                    vec![
                        format!("tickets={}", tickets.len()),
                        format!("exports-expired={}", expired_exports.len()),
                        format!("quarantine-deleted={}", old_quarantine.len()),
                    ],
                    None,
                );
            }
            Ok((tickets, messages))
        })?;
        report.tickets = tickets;
        report.messages = messages;
        Ok(report)
    }

    /// What the server runs once a day.
    pub fn daily_housekeeping(&self) -> Result<RetentionReport> {
        let actor = Actor::system("daily housekeeping");
        self.run_retention(&actor, false, Timestamp::now())
    }
}
