//! Verified requests gate export and erasure: both need a privacy request of the
//! matching kind whose requester's identity was verified, or an admin's override with
//! a typed reason, audited as an override. Checked here, in the desk, so the CLI, the
//! TUI and anything later share one rule.

pub use sealdesk_api::Authority;

use super::write::Unit;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    CustomerId, Decision, DecisionOutcome, RequestKind, RequestStatus, Timestamp,
};

/// What is gated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Gated {
    Export,
    Erasure,
}

impl Gated {
    fn kinds(self) -> &'static [RequestKind] {
        match self {
            Gated::Export => &[RequestKind::Access, RequestKind::Export],
            Gated::Erasure => &[RequestKind::Erasure],
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Gated::Export => "export",
            Gated::Erasure => "erase",
        }
    }

    fn flags(self) -> &'static str {
        match self {
            Gated::Export => "a verified access or export request (--request ID)",
            Gated::Erasure => "a verified erasure request (--request ID)",
        }
    }
}

impl Desk {
    /// Refuses unless `authority` allows `what` for this customer now. An override is
    /// checked here (admin, a reason) but audited by the caller, in its own unit.
    pub(super) fn check_authority(
        &self,
        actor: &Actor,
        customer: &CustomerId,
        what: Gated,
        authority: &Authority,
    ) -> Result<()> {
        match authority {
            Authority::Nothing => Err(DeskError::Forbidden(format!(
                "refused: to {} this customer's data give {}, or as an admin --override \"REASON\" (audited)",
                what.verb(),
                what.flags()
            ))),
            Authority::Override(reason) => {
                if reason.trim().is_empty() {
                    return Err(DeskError::Invalid(
                        "an override needs a reason: --override \"REASON\"".into(),
                    ));
                }
                self.require_admin(actor, &format!("{} without a verified request", what.verb()))
            }
            Authority::Request(id) => {
                let r = self.request(id)?;
                if r.customer != *customer {
                    return Err(DeskError::Invalid(format!(
                        "request {id} belongs to another customer: give this customer's request"
                    )));
                }
                if !what.kinds().contains(&r.kind) {
                    return Err(DeskError::Invalid(format!(
                        "request {id} is a {} request; to {} give {}",
                        r.kind,
                        what.verb(),
                        what.flags()
                    )));
                }
                let ok: &[RequestStatus] = match what {
                    Gated::Export => &[
                        RequestStatus::Verified,
                        RequestStatus::InProgress,
                        RequestStatus::Completed,
                    ],
                    Gated::Erasure => &[RequestStatus::Verified, RequestStatus::InProgress],
                };
                if !ok.contains(&r.status) {
                    return Err(DeskError::Forbidden(format!(
                        "refused: request {id} is {}: the requester's identity is not verified; verify it first (`sealdesk request verify` or `request send-code`)",
                        r.status
                    )));
                }
                Ok(())
            }
        }
    }
}

/// Audits an admin's override of the gate.
pub(super) fn audit_override(u: &mut Unit<'_>, customer: &CustomerId, what: Gated, reason: &str) {
    u.audit(
        match what {
            Gated::Export => "export.override",
            Gated::Erasure => "erasure.override",
        },
        vec![format!(
            "reason={}",
            sealdesk_model::sanitize::line(reason.trim())
        )],
        Some(customer),
    );
}

/// Completes every open request of the customer inside the erasure's unit: nothing
/// stays open, or overdue, for someone who is gone. Returns how many.
pub(super) fn complete_open_requests(u: &mut Unit<'_>, customer: &CustomerId) -> Result<usize> {
    let open: Vec<_> =
        u.tx.store()
            .requests()?
            .into_iter()
            .filter(|r| r.customer == *customer && !super::is_finished(r))
            .collect();
    let by = u.actor_name().to_string();
    for mut r in open.iter().cloned() {
        r.status = RequestStatus::Completed;
        r.pending_code = None;
        r.decision = Some(Decision {
            outcome: DecisionOutcome::Completed,
            reason: "the customer was erased".into(),
            by: by.clone(),
            at: Timestamp::now(),
        });
        u.tx.put_request(&r)?;
        u.audit(
            "request.complete",
            vec![r.id.to_string(), "by=erasure".into()],
            Some(customer),
        );
    }
    Ok(open.len())
}
