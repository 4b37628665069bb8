//! What the privacy screens name: request urgency, the consent page, request rows, the
//! global search's result, the audit log's filter and page, what gates an export or an
//! erasure, what an erasure removed, and why mail is refused.

use crate::{DeskError, Result};
use sealdesk_model::{
    AuditEvent, CatalogueEntry, ConsentRecord, ConsentState, Customer, CustomerId, EventHash,
    Personal, PrivacyRequest, RequestId, RequestStatus, TicketNo, Timestamp,
};

/// Whether a request is decided (completed or denied).
pub fn is_finished(r: &PrivacyRequest) -> bool {
    matches!(r.status, RequestStatus::Completed | RequestStatus::Denied)
}

/// How urgent an open request is at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Overdue,
    DueSoon,
    OnTime,
    Finished,
}

pub fn urgency(r: &PrivacyRequest, now: Timestamp) -> Urgency {
    if is_finished(r) {
        Urgency::Finished
    } else if r.due < now {
        Urgency::Overdue
    } else if r.due.0 - now.0 <= 3 * 86_400 {
        Urgency::DueSoon
    } else {
        Urgency::OnTime
    }
}

/// What to record.
pub struct NewConsent<'a> {
    pub purpose: &'a str,
    pub state: ConsentState,
    pub categories: &'a [String],
    pub method: &'a str,
    pub evidence: &'a str,
    pub policy_version: &'a str,
    /// The guardian who gave it, for a minor.
    pub guardian: Option<&'a str>,
}

/// The state in force for one purpose.
#[derive(Debug, Clone)]
pub struct PurposeState {
    pub purpose: CatalogueEntry,
    /// None: never asked.
    pub current: Option<ConsentRecord>,
}

/// Everything the consent screen shows, read as one audited view.
pub struct ConsentPage {
    pub customer: Customer,
    pub states: Vec<PurposeState>,
    /// The whole ledger, oldest first.
    pub ledger: Vec<ConsentRecord>,
    /// Quick picks for the evidence field, one per message the customer sent that has a
    /// Message-ID, newest first: `ann@example.com, Message-ID <…>`.
    pub evidence: Vec<String>,
}

/// A request as listed, with who it is about.
#[derive(Clone, Debug)]
pub struct RequestRow {
    pub request: PrivacyRequest,
    /// Name and address as the queue shows them, or `[erased]`.
    pub customer_label: Personal,
}

/// What the global search found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Ticket(TicketNo),
    /// (customer, label as the queue shows it), sorted by label; at most 50.
    Customers(Vec<(CustomerId, String)>),
}

/// Which audit events to show; an empty field matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The actor, exactly (case-insensitive).
    pub agent: String,
    /// A customer pseudonym, `psn_…`, exactly.
    pub pseudonym: String,
    /// The start of the action name, e.g. `consent.` or `customer.erase`.
    pub action_prefix: String,
    /// One day, `YYYY-MM-DD` (UTC).
    pub date: String,
}

impl AuditFilter {
    pub fn is_empty(&self) -> bool {
        *self == AuditFilter::default()
    }

    /// Refuses a date that is not a day (`YYYY-MM-DD`).
    pub fn check(&self) -> Result<()> {
        let d = self.date.trim();
        let shaped = d.len() == 10
            && d.char_indices().all(|(i, c)| match i {
                4 | 7 => c == '-',
                _ => c.is_ascii_digit(),
            });
        if !d.is_empty() && !shaped {
            return Err(DeskError::Invalid(
                "the date must look like 2026-01-31 (a day in UTC)".into(),
            ));
        }
        Ok(())
    }

    /// Whether an audit event passes this filter.
    pub fn matches(&self, e: &AuditEvent) -> bool {
        let agent = self.agent.trim();
        let pseudonym = self.pseudonym.trim();
        let date = self.date.trim();
        (agent.is_empty() || e.actor.eq_ignore_ascii_case(agent))
            && (pseudonym.is_empty() || e.customer.as_ref().is_some_and(|p| p.0 == pseudonym))
            && e.action.starts_with(self.action_prefix.trim())
            && (date.is_empty() || e.at.rfc3339().starts_with(date))
    }
}

/// The newest events that match a filter.
pub struct AuditPage {
    /// Newest first, at most the limit asked for.
    pub events: Vec<AuditEvent>,
    /// How many events match in the whole log.
    pub matched: u64,
    /// How many events the log holds.
    pub total: u64,
}

/// The outcome of checking the audit chain.
#[derive(Debug)]
pub enum AuditReport {
    Intact { events: u64, head: EventHash },
    Broken { checked: u64, reason: String },
}

/// What lets an export or an erasure go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authority {
    /// A request of the matching kind, its requester's identity verified.
    Request(RequestId),
    /// An admin goes ahead without one; the reason is audited.
    Override(String),
    /// Nothing was given: refused, saying what would do.
    Nothing,
}

impl Authority {
    /// From the CLI's `--request ID` and `--override REASON`.
    pub fn from_flags(request: Option<RequestId>, override_reason: Option<String>) -> Authority {
        match (request, override_reason) {
            (Some(id), _) => Authority::Request(id),
            (None, Some(reason)) => Authority::Override(reason),
            (None, None) => Authority::Nothing,
        }
    }

    /// The request given, if any.
    pub fn request(&self) -> Option<RequestId> {
        match self {
            Authority::Request(id) => Some(*id),
            _ => None,
        }
    }
}

/// What one erasure removed, for the confirmation and the audit log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErasureCounts {
    pub messages: usize,
    pub subjects: usize,
    pub attachments: usize,
    pub raw_mails: usize,
    pub consents: usize,
    pub quarantined: usize,
    pub exports: usize,
}

/// Why mail to a customer is refused: one line, saying what would allow it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    pub reason: String,
}

impl From<Refusal> for DeskError {
    fn from(r: Refusal) -> DeskError {
        DeskError::Forbidden(r.reason)
    }
}
