//! Privacy requests with deadlines: identity unverified → verified → in progress →
//! completed, or denied with a reason; one extension with a reason.

use super::request_mail::{stage_request_mail, RequestMail};
use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    Customer, Decision, DecisionOutcome, Extension, PrivacyRequest, RequestId, RequestKind,
    RequestStatus, TicketNo, Timestamp, Verification,
};
use sha2::{Digest, Sha256};

pub use sealdesk_api::{is_finished, urgency, Urgency};

/// How long an emailed verification code stays valid.
pub(super) const CODE_VALID_SECS: i64 = 24 * 3600;

impl Desk {
    pub(super) fn deadline_days(&self, kind: RequestKind) -> u32 {
        let p = self.config().privacy;
        match kind {
            RequestKind::Access | RequestKind::Export => p.access_days,
            RequestKind::Correction | RequestKind::Erasure => p.correction_days,
            RequestKind::ConsentWithdrawal
            | RequestKind::MarketingObjection
            | RequestKind::Restriction => p.objection_days,
        }
    }

    pub fn open_request(
        &self,
        actor: &Actor,
        customer: &Customer,
        kind: RequestKind,
        ticket: Option<TicketNo>,
    ) -> Result<PrivacyRequest> {
        let received = Timestamp::now();
        let request = PrivacyRequest {
            id: RequestId::random(),
            customer: customer.id,
            ticket,
            kind,
            status: RequestStatus::Unverified,
            received,
            due: received.plus_days(self.deadline_days(kind) as i64),
            extension: None,
            verification: None,
            pending_code: None,
            decision: None,
        };
        let mut holds = vec![Hold::Customer(customer.id)];
        holds.extend(ticket.map(Hold::Ticket));
        self.write(actor, &holds, |u| {
            if let Some(n) = ticket {
                if self.store.ticket(n)?.is_none() {
                    return Err(DeskError::NotFound(format!("there is no ticket {n}")));
                }
                u.touch(n);
            }
            u.tx.put_request(&request)?;
            u.audit(
                "request.open",
                vec![request.id.to_string(), format!("kind={kind}")],
                Some(&customer.id),
            );
            Ok(())
        })?;
        self.requests_changed();
        Ok(request)
    }

    pub fn request(&self, id: &RequestId) -> Result<PrivacyRequest> {
        self.store.request(id)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "there is no request {id}: see `sealdesk request list`"
            ))
        })
    }

    /// Every request, the most urgent open one first, finished ones last.
    pub fn requests(&self) -> Result<Vec<PrivacyRequest>> {
        let mut all = self.store.requests()?;
        all.sort_by_key(|r| (is_finished(r), r.due, r.received));
        Ok(all)
    }

    /// Changes one request as a unit of work: read again while its customer is held
    /// (so two agents acting on one request cannot both pass the status check), changed
    /// by `change` (which returns the audit detail and may stage more in the unit),
    /// stored and audited.
    fn update_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        action: &str,
        change: impl Fn(&mut Unit<'_>, &mut PrivacyRequest) -> Result<String>,
    ) -> Result<PrivacyRequest> {
        let customer = self.request(id)?.customer;
        let updated = self.write(actor, &[Hold::Customer(customer)], |u| {
            let mut r = self.request(id)?;
            let detail = change(u, &mut r)?;
            u.tx.put_request(&r)?;
            let mut targets = vec![r.id.to_string()];
            if !detail.is_empty() {
                targets.push(detail);
            }
            u.audit(action, targets, Some(&r.customer));
            if let Some(n) = r.ticket {
                u.touch(n);
            }
            Ok(r)
        })?;
        self.requests_changed();
        Ok(updated)
    }

    /// An agent records how identity was verified (e.g. "called back on the number on file").
    pub fn verify_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        method: &str,
    ) -> Result<PrivacyRequest> {
        if method.trim().is_empty() {
            return Err(DeskError::Invalid(
                "say how the identity was verified: --method TEXT".into(),
            ));
        }
        self.update_request(actor, id, "request.verify", |_, r| {
            expect_status(r, &[RequestStatus::Unverified], "verify")?;
            r.status = RequestStatus::Verified;
            r.verification = Some(Verification {
                method: method.trim().into(),
                by: actor.name.clone(),
                at: Timestamp::now(),
            });
            r.pending_code = None;
            Ok("method=agent".into())
        })
    }

    /// Creates a one-time code and queues it by mail to the customer's known address,
    /// on the request's own thread (a new ticket if it has none); only its hash is kept,
    /// and the thread shows the mail with the code masked (see `request_mail`).
    pub fn send_verification_code(&self, actor: &Actor, id: &RequestId) -> Result<PrivacyRequest> {
        let mut n = [0u8; 4];
        getrandom::fill(&mut n).expect("the OS random source failed");
        let code = zeroize::Zeroizing::new(format!("{:06}", u32::from_be_bytes(n) % 1_000_000));
        let domain = self.config().mail.message_id_domain();
        self.update_request(actor, id, "request.code-sent", |u, r| {
            expect_status(r, &[RequestStatus::Unverified], "send a code for")?;
            r.pending_code = Some((hash_code(&r.id, &code), Timestamp::now()));
            // The code mail and the request change are one unit: no code goes out
            // that the request does not know.
            stage_request_mail(u, r, RequestMail::Code, "", &code, &domain)?;
            Ok(String::new())
        })
    }

    /// The written notice to the requester of an extension, denial or completion, in
    /// the request's unit; skipped when the customer is erased (nobody to tell).
    fn notify_requester(
        &self,
        u: &mut Unit<'_>,
        r: &mut PrivacyRequest,
        mail: RequestMail,
        reason: &str,
    ) -> Result<()> {
        if u.tx.store().customer(&r.customer)?.is_none() {
            return Ok(());
        }
        let domain = self.config().mail.message_id_domain();
        stage_request_mail(u, r, mail, reason, "", &domain)
    }

    /// Checks a code the customer gave back; verifies the request when it matches.
    pub fn confirm_code(
        &self,
        actor: &Actor,
        id: &RequestId,
        code: &str,
    ) -> Result<PrivacyRequest> {
        let r = self.request(id)?;
        expect_status(&r, &[RequestStatus::Unverified], "confirm")?;
        let Some((hash, sent)) = r.pending_code else {
            return Err(DeskError::Invalid(
                "no code was sent for this request: send one first".into(),
            ));
        };
        if Timestamp::now().0 - sent.0 > CODE_VALID_SECS {
            return Err(DeskError::Invalid(
                "the code has expired: send a new one".into(),
            ));
        }
        if hash_code(&r.id, code.trim()) != hash {
            self.audit_only(
                actor,
                "request.code-wrong",
                vec![r.id.to_string()],
                Some(&r.customer),
            )?;
            return Err(DeskError::Invalid(
                "the code does not match: check it, or send a new one".into(),
            ));
        }
        self.update_request(actor, id, "request.verify", |_, r| {
            expect_status(r, &[RequestStatus::Unverified], "confirm")?;
            if r.pending_code != Some((hash, sent)) {
                return Err(DeskError::Conflict(
                    "a new code was sent meanwhile: use the newest one".into(),
                ));
            }
            r.status = RequestStatus::Verified;
            r.pending_code = None;
            r.verification = Some(Verification {
                method: "emailed one-time code".into(),
                by: actor.name.clone(),
                at: Timestamp::now(),
            });
            Ok("method=code".into())
        })
    }

    pub fn start_request(&self, actor: &Actor, id: &RequestId) -> Result<PrivacyRequest> {
        self.update_request(actor, id, "request.start", |_, r| {
            expect_status(r, &[RequestStatus::Verified], "start")?;
            r.status = RequestStatus::InProgress;
            Ok(String::new())
        })
    }

    /// Moves the due date once, with a reason, which the requester is told in a
    /// written notice (in the request's thread).
    pub fn extend_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        reason: &str,
    ) -> Result<PrivacyRequest> {
        if reason.trim().is_empty() {
            return Err(DeskError::Invalid(
                "an extension needs a reason: --reason TEXT".into(),
            ));
        }
        let days = self.config().privacy.extension_days as i64;
        self.update_request(actor, id, "request.extend", |u, r| {
            expect_status(
                r,
                &[
                    RequestStatus::Unverified,
                    RequestStatus::Verified,
                    RequestStatus::InProgress,
                ],
                "extend",
            )?;
            if r.extension.is_some() {
                return Err(DeskError::Invalid(
                    "this request was extended once already; the law allows one extension".into(),
                ));
            }
            let new_due = r.due.plus_days(days);
            r.extension = Some(Extension {
                new_due,
                reason: reason.trim().into(),
                by: actor.name.clone(),
                at: Timestamp::now(),
            });
            r.due = new_due;
            self.notify_requester(u, r, RequestMail::Extended, reason)?;
            Ok(String::new())
        })
    }

    pub fn complete_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        note: &str,
    ) -> Result<PrivacyRequest> {
        self.decide(actor, id, DecisionOutcome::Completed, note)
    }

    /// Refuses a request; the reason is required and recorded.
    pub fn deny_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        reason: &str,
    ) -> Result<PrivacyRequest> {
        if reason.trim().is_empty() {
            return Err(DeskError::Invalid(
                "a refusal needs a reason: --reason TEXT".into(),
            ));
        }
        self.decide(actor, id, DecisionOutcome::Denied, reason)
    }

    fn decide(
        &self,
        actor: &Actor,
        id: &RequestId,
        outcome: DecisionOutcome,
        reason: &str,
    ) -> Result<PrivacyRequest> {
        let allowed: &[RequestStatus] = match outcome {
            DecisionOutcome::Completed => &[RequestStatus::Verified, RequestStatus::InProgress],
            DecisionOutcome::Denied => &[
                RequestStatus::Unverified,
                RequestStatus::Verified,
                RequestStatus::InProgress,
            ],
        };
        let action = if outcome == DecisionOutcome::Completed {
            "request.complete"
        } else {
            "request.deny"
        };
        self.update_request(actor, id, action, |u, r| {
            expect_status(
                r,
                allowed,
                if outcome == DecisionOutcome::Completed {
                    "complete"
                } else {
                    "deny"
                },
            )?;
            r.status = if outcome == DecisionOutcome::Completed {
                RequestStatus::Completed
            } else {
                RequestStatus::Denied
            };
            r.decision = Some(Decision {
                outcome,
                reason: reason.trim().into(),
                by: actor.name.clone(),
                at: Timestamp::now(),
            });
            if outcome == DecisionOutcome::Completed && r.kind == RequestKind::Restriction {
                super::restriction::stage_restricted(u, &r.customer, true, "by=request")?;
            }
            let mail = match outcome {
                DecisionOutcome::Completed => RequestMail::Completed,
                DecisionOutcome::Denied => RequestMail::Denied,
            };
            self.notify_requester(u, r, mail, reason)?;
            Ok(String::new())
        })
    }
}

/// A request as the CLI and exports print it. Fields in alphabetical order, the order
/// the output always had.
#[derive(serde::Serialize)]
struct RequestJson<'a> {
    code_pending: bool,
    decision: Option<DecisionJson<'a>>,
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    due: Timestamp,
    extended: Option<ByWhomJson<'a>>,
    id: String,
    kind: &'static str,
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    received: Timestamp,
    status: &'static str,
    ticket: Option<u64>,
    urgency: &'static str,
    verification: Option<ByWhomJson<'a>>,
}

/// An extension (`reason`) or a verification (`method`): what, by whom, when.
#[derive(serde::Serialize)]
struct ByWhomJson<'a> {
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    at: Timestamp,
    by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct DecisionJson<'a> {
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    at: Timestamp,
    by: &'a str,
    outcome: String,
    reason: &'a str,
}

/// A request as JSON, for the CLI and for exports.
pub fn request_json(r: &PrivacyRequest, now: Timestamp) -> serde_json::Value {
    let view = RequestJson {
        code_pending: r.pending_code.is_some(),
        decision: r.decision.as_ref().map(|d| DecisionJson {
            at: d.at,
            by: &d.by,
            outcome: format!("{:?}", d.outcome).to_lowercase(),
            reason: &d.reason,
        }),
        due: r.due,
        extended: r.extension.as_ref().map(|e| ByWhomJson {
            at: e.at,
            by: &e.by,
            method: None,
            reason: Some(&e.reason),
        }),
        id: r.id.to_string(),
        kind: r.kind.as_str(),
        received: r.received,
        status: r.status.as_str(),
        ticket: r.ticket.map(|t| t.0),
        urgency: match urgency(r, now) {
            Urgency::Overdue => "overdue",
            Urgency::DueSoon => "due-soon",
            Urgency::OnTime => "on-time",
            Urgency::Finished => "finished",
        },
        verification: r.verification.as_ref().map(|v| ByWhomJson {
            at: v.at,
            by: &v.by,
            method: Some(&v.method),
            reason: None,
        }),
    };
    // A view of strings, numbers and times: serialising it cannot fail.
    serde_json::to_value(view).unwrap_or_default()
}

fn expect_status(r: &PrivacyRequest, allowed: &[RequestStatus], verb: &str) -> Result<()> {
    if allowed.contains(&r.status) {
        return Ok(());
    }
    let words: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
    Err(DeskError::Invalid(format!(
        "cannot {verb} request {}: it is {}, and only a request that is {} can be",
        r.id,
        r.status,
        words.join(" or ")
    )))
}

pub(super) fn hash_code(id: &RequestId, code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update(code.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_json_is_what_the_hand_built_json_was() {
        use sealdesk_model::*;
        fn by_hand(r: &PrivacyRequest, now: Timestamp) -> serde_json::Value {
            serde_json::json!({
                "id": r.id.to_string(),
                "kind": r.kind.as_str(),
                "status": r.status.as_str(),
                "ticket": r.ticket.map(|t| t.0),
                "received": r.received.rfc3339(),
                "due": r.due.rfc3339(),
                "urgency": match super::urgency(r, now) {
                    super::Urgency::Overdue => "overdue",
                    super::Urgency::DueSoon => "due-soon",
                    super::Urgency::OnTime => "on-time",
                    super::Urgency::Finished => "finished",
                },
                "extended": r.extension.as_ref().map(|e| serde_json::json!({ "reason": e.reason, "by": e.by, "at": e.at.rfc3339() })),
                "verification": r.verification.as_ref().map(|v| serde_json::json!({ "method": v.method, "by": v.by, "at": v.at.rfc3339() })),
                "code_pending": r.pending_code.is_some(),
                "decision": r.decision.as_ref().map(|d| serde_json::json!({
                    "outcome": format!("{:?}", d.outcome).to_lowercase(), "reason": d.reason, "by": d.by, "at": d.at.rfc3339()
                })),
            })
        }
        let at = Timestamp(1_700_000_000);
        let bare = PrivacyRequest {
            id: RequestId::random(),
            customer: CustomerId::random(),
            ticket: None,
            kind: RequestKind::Erasure,
            status: RequestStatus::Unverified,
            received: at,
            due: at.plus_days(30),
            extension: None,
            verification: None,
            pending_code: None,
            decision: None,
        };
        let full = PrivacyRequest {
            ticket: Some(TicketNo(7)),
            status: RequestStatus::Denied,
            extension: Some(Extension {
                new_due: at.plus_days(60),
                reason: "complex".into(),
                by: "alice".into(),
                at,
            }),
            verification: Some(Verification {
                method: "emailed-code".into(),
                by: "bob".into(),
                at,
            }),
            pending_code: Some(([1; 32], at)),
            decision: Some(Decision {
                outcome: DecisionOutcome::Denied,
                reason: "legal hold".into(),
                by: "carol".into(),
                at,
            }),
            ..bare.clone()
        };
        for r in [&bare, &full] {
            for now in [at, at.plus_days(29), at.plus_days(90)] {
                let derived = super::request_json(r, now);
                assert_eq!(derived, by_hand(r, now));
                assert_eq!(
                    serde_json::to_string_pretty(&derived).unwrap(),
                    serde_json::to_string_pretty(&by_hand(r, now)).unwrap()
                );
            }
        }
    }
}
