//! The desk as the terminal UI sees it: exactly the operations the TUI calls, with the
//! names and signatures of the inherent `Desk` methods (`sealdesk_desk::Desk`
//! implements this trait by forwarding to them). Roles are checked, and reads and
//! writes audited, in the desk, behind each method.

use crate::{
    Activity, Actor, AuditFilter, AuditPage, AuditReport, Authority, ConsentPage, ErasureCounts,
    Filed, Found, NewConsent, QueueQuery, Refusal, RequestRow, Result, SharedRow, ThreadEntry,
    Urgency, Viewer,
};
use sealdesk_model::{
    Agent, Catalogue, ConsentRecord, Customer, CustomerId, Draft, ExportId, ExportRecord, Macro,
    Message, MessageKind, NoticeCopy, Parties, Placeholders, Priority, PrivacyRequest,
    QuarantineId, QuarantineItem, ReplyTemplate, RequestId, RequestKind, Status, Ticket, TicketNo,
    Timestamp, Visibility,
};
use sealdesk_model::{SavedView, ViewQuery};
use std::collections::HashMap;

/// What the desk offers the terminal UI. Each method does what the `Desk` method of the
/// same name does (see its documentation there).
pub trait DeskPort: Send + Sync {
    // The queue and tickets.
    fn queue(&self, query: &QueueQuery) -> Result<Vec<SharedRow>>;
    fn queue_row(&self, number: TicketNo) -> Result<Option<SharedRow>>;
    fn newest_ticket(&self) -> Result<TicketNo>;
    fn record_queue_search(&self, actor: &Actor, matches: usize) -> Result<()>;
    fn ticket_thread(&self, actor: &Actor, number: TicketNo) -> Result<(Ticket, Vec<ThreadEntry>)>;
    fn customer_view(&self, actor: &Actor, id: CustomerId) -> Result<(Customer, Vec<Ticket>)>;
    fn search(&self, actor: &Actor, text: &str) -> Result<Found>;
    fn add_note(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message>;
    fn add_reply(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message>;
    fn add_reply_overriding(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        override_reason: Option<&str>,
    ) -> Result<Message>;
    fn reply_refusal(&self, ticket: TicketNo) -> Result<Option<Refusal>>;
    fn assign(&self, actor: &Actor, number: TicketNo, agent: Option<&str>) -> Result<Ticket>;
    fn set_status(&self, actor: &Actor, number: TicketNo, status: Status) -> Result<Ticket>;
    fn set_priority(&self, actor: &Actor, number: TicketNo, priority: Priority) -> Result<Ticket>;
    fn set_tags(&self, actor: &Actor, number: TicketNo, tags: &[String]) -> Result<Ticket>;
    fn merge(&self, actor: &Actor, from: TicketNo, into: TicketNo) -> Result<Ticket>;
    fn bulk(
        &self,
        actor: &Actor,
        tickets: &[TicketNo],
        change: &crate::BulkChange,
    ) -> Result<crate::BulkOutcome>;
    fn link(
        &self,
        actor: &Actor,
        number: TicketNo,
        other: TicketNo,
        kind: sealdesk_model::LinkKind,
    ) -> Result<(Ticket, Ticket)>;
    fn unlink(&self, actor: &Actor, number: TicketNo, other: TicketNo) -> Result<(Ticket, Ticket)>;
    fn split(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Ticket>;
    /// Pending until `when` as typed (`2d`, `4h`, `mon 9:00`, `2026-12-03 10:00`);
    /// empty or `-` wakes it now.
    fn snooze(&self, actor: &Actor, number: TicketNo, when: &str) -> Result<Ticket>;
    /// The due time by hand, as typed (`4h`, `2d`, `2026-12-03 10:00`); empty or `-`
    /// gives it back to the SLA policy.
    fn set_due(&self, actor: &Actor, number: TicketNo, when: &str) -> Result<Ticket>;

    // Body search.
    fn body_hits(&self, text: &str) -> Option<std::sync::Arc<crate::BodyHits>>;
    fn body_progress(&self) -> crate::BodyProgress;
    fn body_lines(&self, numbers: &[TicketNo], text: &str) -> Vec<(TicketNo, String)>;
    fn find_in_bodies(&self, actor: &Actor, text: &str) -> Result<Vec<(TicketNo, String)>>;

    // Drafts and who a reply goes to.
    fn reply_parties(&self, actor: &Actor, number: TicketNo) -> Result<Parties>;
    fn draft(&self, actor: &Actor, number: TicketNo) -> Result<Option<Draft>>;
    fn drafting_on(&self, actor: &Actor, number: TicketNo) -> Result<Vec<String>>;
    fn tickets_with_drafts(&self, actor: &Actor) -> Result<Vec<TicketNo>>;
    fn save_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        kind: MessageKind,
        body: &str,
        parties: &Parties,
    ) -> Result<Option<Draft>>;
    fn detach_from_draft(&self, actor: &Actor, number: TicketNo, name: &str) -> Result<()>;
    fn discard_draft(&self, actor: &Actor, number: TicketNo) -> Result<()>;
    fn send_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        override_reason: Option<&str>,
    ) -> Result<Message>;
    /// Replies by `actor` on `number` still waiting out `mail.send_delay`: (seq, due).
    fn undoable_replies(&self, actor: &Actor, number: TicketNo) -> Result<Vec<(u32, Timestamp)>>;
    /// Takes a waiting reply back: it leaves the thread and is the draft again.
    fn unsend(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Draft>;

    // Saved replies and macros.
    fn reply_templates(&self, actor: &Actor) -> Result<Vec<ReplyTemplate>>;
    fn add_reply_template(
        &self,
        actor: &Actor,
        name: &str,
        text: &str,
        visibility: Visibility,
    ) -> Result<ReplyTemplate>;
    fn edit_reply_template(
        &self,
        actor: &Actor,
        name: &str,
        text: Option<&str>,
        rename: Option<&str>,
    ) -> Result<ReplyTemplate>;
    fn remove_reply_template(&self, actor: &Actor, name: &str) -> Result<ReplyTemplate>;
    fn template_placeholders(&self, actor: &Actor, number: TicketNo) -> Result<Placeholders>;
    fn macros(&self, actor: &Actor) -> Result<Vec<Macro>>;
    fn apply_macro(
        &self,
        actor: &Actor,
        name: &str,
        tickets: &[TicketNo],
    ) -> Result<Vec<(TicketNo, Result<String>)>>;

    // Presence.
    fn set_presence(&self, session: u64, agent: &str, at: Option<(TicketNo, Activity)>);
    fn viewers(&self, number: TicketNo, except_session: u64) -> Vec<Viewer>;

    // Agents and the catalogue.
    fn agents(&self) -> Result<Vec<Agent>>;
    fn find_agent(&self, name: &str) -> Result<Option<Agent>>;
    fn set_agent_theme(&self, actor: &Actor, agent_name: &str, theme: &str) -> Result<()>;
    fn set_signature(&self, actor: &Actor, name: &str, signature: Option<&str>) -> Result<Agent>;
    fn catalogue(&self) -> Catalogue;

    // Quarantine.
    fn quarantine(&self) -> Result<Vec<QuarantineItem>>;
    fn release_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<Filed>;
    fn delete_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<()>;

    // Consent, notices, flags.
    fn consent_page(&self, actor: &Actor, id: CustomerId) -> Result<ConsentPage>;
    fn record_consent(
        &self,
        actor: &Actor,
        customer: &Customer,
        new: NewConsent<'_>,
    ) -> Result<ConsentRecord>;
    fn notices_of(&self, customer: &CustomerId) -> Result<Vec<NoticeCopy>>;
    fn privacy_marks(&self, customer: &CustomerId) -> Result<Vec<String>>;

    // Privacy requests.
    fn requests(&self) -> Result<Vec<PrivacyRequest>>;
    fn request_generation(&self) -> u64;
    fn request_rows(&self) -> Result<Vec<RequestRow>>;
    fn request_row(&self, id: &RequestId) -> Result<RequestRow>;
    fn open_request_tickets(&self, now: Timestamp) -> Result<HashMap<TicketNo, Urgency>>;
    fn open_request(
        &self,
        actor: &Actor,
        customer: &Customer,
        kind: RequestKind,
        ticket: Option<TicketNo>,
    ) -> Result<PrivacyRequest>;
    fn start_request(&self, actor: &Actor, id: &RequestId) -> Result<PrivacyRequest>;
    fn send_verification_code(&self, actor: &Actor, id: &RequestId) -> Result<PrivacyRequest>;
    fn confirm_code(&self, actor: &Actor, id: &RequestId, code: &str) -> Result<PrivacyRequest>;
    fn verify_request(&self, actor: &Actor, id: &RequestId, method: &str)
        -> Result<PrivacyRequest>;
    fn extend_request(&self, actor: &Actor, id: &RequestId, reason: &str)
        -> Result<PrivacyRequest>;
    fn deny_request(&self, actor: &Actor, id: &RequestId, reason: &str) -> Result<PrivacyRequest>;
    fn complete_request(&self, actor: &Actor, id: &RequestId, note: &str)
        -> Result<PrivacyRequest>;

    // Exports and erasure.
    fn create_export(
        &self,
        actor: &Actor,
        customer: &Customer,
        authority: &Authority,
    ) -> Result<ExportRecord>;
    fn export_for_request(&self, request: &RequestId) -> Result<Option<ExportRecord>>;
    fn already_mailed(&self, record: &ExportRecord) -> Option<String>;
    fn mail_export(&self, actor: &Actor, id: &ExportId, request: &RequestId) -> Result<String>;
    fn erasure_preview(&self, actor: &Actor, email: &str) -> Result<String>;
    fn cancel_customer(
        &self,
        actor: &Actor,
        email: &str,
        typed: &str,
        authority: &Authority,
    ) -> Result<ErasureCounts>;

    // Markers and saved views (Part 10).
    /// `actor` opened `number`: what is there now is read (the unread marker goes).
    fn mark_seen(&self, actor: &Actor, number: TicketNo) -> Result<u64>;
    /// The activity count `actor` saw on each ticket they opened.
    fn seen_counts(&self, actor: &Actor) -> Result<std::sync::Arc<HashMap<TicketNo, u64>>>;
    /// Shared views, then `actor`'s own, each by name.
    fn saved_views(&self, actor: &Actor) -> Result<Vec<SavedView>>;
    /// `owner` None: a shared view.
    fn save_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        query: &ViewQuery,
    ) -> Result<SavedView>;
    fn rename_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        new_name: &str,
    ) -> Result<SavedView>;
    fn set_view_shared(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        shared: bool,
    ) -> Result<SavedView>;
    fn remove_view(&self, actor: &Actor, owner: Option<&str>, name: &str) -> Result<SavedView>;

    // The audit log.
    fn audit_page(&self, actor: &Actor, filter: &AuditFilter, limit: usize) -> Result<AuditPage>;
    fn verify_audit(&self) -> Result<AuditReport>;

    // Notifications (Part 10).
    fn notifications(&self, actor: &Actor) -> Result<Vec<sealdesk_model::Notification>>;
    fn unread_notifications(&self, actor: &Actor) -> Result<usize>;
    fn mark_notification_read(&self, actor: &Actor, seq: u64) -> Result<()>;
    fn notify_settings(&self, actor: &Actor, name: &str) -> Result<crate::NotifySettings>;
    fn set_notify_prefs(
        &self,
        actor: &Actor,
        name: &str,
        spec: &str,
    ) -> Result<sealdesk_model::NotifyPrefs>;

    // Reports (Part 12).
    /// One report over the desk's tickets and requests; counts only, no customer text.
    fn report(
        &self,
        actor: &Actor,
        query: &sealdesk_model::ReportQuery,
    ) -> Result<sealdesk_model::Report>;
}
