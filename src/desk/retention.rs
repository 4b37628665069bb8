//! Retention: personal data is kept only as long as needed. Closed tickets are
//! anonymised a configured time after their last update (`privacy.anonymise_closed_after_days`),
//! and export archives expire (`privacy.export_retention_days`). The server runs this
//! daily; `sealdesk retention run [--dry-run]` runs it by hand.

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
        let _op = self.store.op();
        let privacy = self.config().privacy;
        let mut report = RetentionReport {
            tickets: Vec::new(),
            messages: 0,
            exports_removed: 0,
            dry_run,
        };
        if privacy.anonymise_closed_after_days > 0 {
            let cutoff = now.plus_days(-(privacy.anonymise_closed_after_days as i64));
            for t in self.store.tickets()? {
                if t.status == Status::Closed && t.updated < cutoff && t.subject != ERASED {
                    if !dry_run {
                        report.messages += self.store.anonymise_ticket(t.number)?;
                    } else {
                        report.messages += self.store.messages(t.number)?.len();
                    }
                    report.tickets.push(t.number);
                }
            }
        }
        if !dry_run {
            let dir = crate::archive::exports_dir(&self.store.paths().data);
            report.exports_removed =
                crate::archive::sweep_exports(&dir, privacy.export_retention_days).map_err(
                    |e| super::DeskError::Invalid(format!("cannot clean {}: {e}", dir.display())),
                )?;
            // The daily run is audited when it changed something; a run by hand always.
            let changed = !report.tickets.is_empty() || report.exports_removed > 0;
            if actor.name != "system" || changed {
                let detail = vec![format!("tickets={}", report.tickets.len())];
                self.audit(actor, "retention.run", detail, None)?;
            }
            self.store.flush()?;
            for n in &report.tickets {
                self.refresh_queue_row(*n)?;
                self.announce(super::Change::Ticket(*n));
            }
        }
        Ok(report)
    }

    /// What the server runs once a day.
    pub fn daily_housekeeping(&self) -> Result<RetentionReport> {
        let actor = Actor {
            name: "system".into(),
            key_fingerprint: None,
            source: "daily housekeeping".into(),
        };
        self.run_retention(&actor, false, Timestamp::now())
    }
}
