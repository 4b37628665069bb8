use super::{Actor, Desk, Result};
use sealdesk_model::{ChainBreak, ChainVerifier, EventHash};
use sealdesk_store::StoreError;

/// The outcome of checking the audit chain.
#[derive(Debug)]
pub enum AuditReport {
    Intact { events: u64, head: EventHash },
    Broken { checked: u64, reason: String },
}

impl Desk {
    /// The whole audit log, oldest first: admins only, and the export is itself audited.
    pub fn export_audit(&self, actor: &Actor) -> Result<Vec<sealdesk_model::AuditEvent>> {
        self.require_admin(actor, "export the audit log")?;
        self.audit_only(actor, "audit.export", vec![], None)?;
        let mut events = Vec::new();
        self.store.for_each_audit(|e| {
            events.push(e);
            Ok(())
        })?;
        Ok(events)
    }

    /// Walks the whole audit log and checks every hash link and the recorded head.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let mut verifier = ChainVerifier::new();
        let mut broken: Option<ChainBreak> = None;
        let walked = self.store.audit_snapshot(|event| {
            verifier.push(&event).map_err(|b| {
                broken = Some(b);
                StoreError::Corrupt("audit chain".into())
            })
        });
        let checked = verifier.count();
        if let Some(b) = broken {
            return Ok(AuditReport::Broken {
                checked,
                reason: b.to_string(),
            });
        }
        let head = match walked {
            Ok(head) => head,
            Err(StoreError::Corrupt(what)) => {
                return Ok(AuditReport::Broken {
                    checked,
                    reason: format!("event {} fails its integrity check ({what})", checked + 1),
                })
            }
            Err(other) => return Err(other.into()),
        };
        match verifier.finish(head) {
            Ok(events) => Ok(AuditReport::Intact {
                events,
                head: head.1,
            }),
            Err(b) => Ok(AuditReport::Broken {
                checked,
                reason: b.to_string(),
            }),
        }
    }
}
