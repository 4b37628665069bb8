pub use sealdesk_api::AuditReport;

use super::{Actor, Desk, Result};
use sealdesk_model::{ChainBreak, ChainVerifier};
use sealdesk_store::StoreError;

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

#[cfg(test)]
mod reseal_tests {
    use crate::{Actor, AuditReport, NewTicket};

    /// Someone holding the master key can re-seal an edited event so that it passes
    /// authentication; the hash chain must still expose the edit.
    #[test]
    fn resealed_edit_is_caught_by_the_hash_chain() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let actor = Actor::local_admin();
        for from in ["a@example.com", "b@example.com", "c@example.com"] {
            desk.create_ticket(
                &actor,
                NewTicket {
                    from,
                    name: "",
                    subject: "s",
                    body: "b",
                    message_id: None,
                },
            )
            .unwrap();
        }
        assert!(matches!(
            desk.verify_audit().unwrap(),
            AuditReport::Intact { events: 3, .. }
        ));

        let store = desk.store();
        let mut second = None;
        store
            .for_each_audit(|e| {
                if e.seq == 2 {
                    second = Some(e);
                }
                Ok(())
            })
            .unwrap();
        let mut edited = second.unwrap();
        edited.actor = "mallory".into();
        store.reseal_audit_event(2, &edited).unwrap();
        match desk.verify_audit().unwrap() {
            AuditReport::Broken { checked, reason } => {
                assert_eq!(checked, 2, "events 1 and 2 still link; 3 does not");
                assert!(reason.contains("event 3"), "{reason}");
            }
            other => panic!("edit not detected: {other:?}"),
        }
    }
}
