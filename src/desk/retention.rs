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
            dry_run,
        };
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
            // The daily run is audited when it changed something; a run by hand always.
            let changed = !tickets.is_empty() || report.exports_removed > 0;
            if actor.kind != super::ActorKind::System || changed {
                u.audit(
                    "retention.run",
                    vec![format!("tickets={}", tickets.len())],
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
