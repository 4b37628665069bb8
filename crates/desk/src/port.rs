//! The desk behind [`sealdesk_api::DeskPort`]: each method forwards to the inherent
//! `Desk` method of the same name, so the TUI reaches exactly these operations and
//! nothing else (no store, no sled).

use crate::{
    Activity, Actor, AuditFilter, AuditPage, AuditReport, Authority, ConsentPage, Desk, Filed,
    Found, NewConsent, QueueQuery, Refusal, RequestRow, Result, SharedRow, ThreadEntry, Urgency,
    Viewer,
};
use sealdesk_model::{
    Agent, Catalogue, ConsentRecord, Customer, CustomerId, Draft, ExportId, ExportRecord, Macro,
    Message, MessageKind, NoticeCopy, Parties, Placeholders, Priority, PrivacyRequest,
    QuarantineId, QuarantineItem, ReplyTemplate, RequestId, RequestKind, Status, Ticket, TicketNo,
    Timestamp, Visibility,
};
use sealdesk_model::{SavedView, ViewQuery};
use sealdesk_store::ErasureCounts;
use std::collections::HashMap;

impl sealdesk_api::DeskPort for Desk {
    fn queue(&self, query: &QueueQuery) -> Result<Vec<SharedRow>> {
        Desk::queue(self, query)
    }

    fn queue_row(&self, number: TicketNo) -> Result<Option<SharedRow>> {
        Desk::queue_row(self, number)
    }

    fn newest_ticket(&self) -> Result<TicketNo> {
        Desk::newest_ticket(self)
    }

    fn record_queue_search(&self, actor: &Actor, matches: usize) -> Result<()> {
        Desk::record_queue_search(self, actor, matches)
    }

    fn ticket_thread(&self, actor: &Actor, number: TicketNo) -> Result<(Ticket, Vec<ThreadEntry>)> {
        Desk::ticket_thread(self, actor, number)
    }

    fn customer_view(&self, actor: &Actor, id: CustomerId) -> Result<(Customer, Vec<Ticket>)> {
        Desk::customer_view(self, actor, id)
    }

    fn search(&self, actor: &Actor, text: &str) -> Result<Found> {
        Desk::search(self, actor, text)
    }

    fn add_note(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message> {
        Desk::add_note(self, actor, number, text)
    }

    fn add_reply(&self, actor: &Actor, number: TicketNo, text: &str) -> Result<Message> {
        Desk::add_reply(self, actor, number, text)
    }

    fn add_reply_overriding(
        &self,
        actor: &Actor,
        number: TicketNo,
        text: &str,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        Desk::add_reply_overriding(self, actor, number, text, override_reason)
    }

    fn reply_refusal(&self, ticket: TicketNo) -> Result<Option<Refusal>> {
        Desk::reply_refusal(self, ticket)
    }

    fn assign(&self, actor: &Actor, number: TicketNo, agent: Option<&str>) -> Result<Ticket> {
        Desk::assign(self, actor, number, agent)
    }

    fn set_status(&self, actor: &Actor, number: TicketNo, status: Status) -> Result<Ticket> {
        Desk::set_status(self, actor, number, status)
    }

    fn set_priority(&self, actor: &Actor, number: TicketNo, priority: Priority) -> Result<Ticket> {
        Desk::set_priority(self, actor, number, priority)
    }

    fn set_tags(&self, actor: &Actor, number: TicketNo, tags: &[String]) -> Result<Ticket> {
        Desk::set_tags(self, actor, number, tags)
    }

    fn merge(&self, actor: &Actor, from: TicketNo, into: TicketNo) -> Result<Ticket> {
        Desk::merge(self, actor, from, into)
    }

    fn bulk(
        &self,
        actor: &Actor,
        tickets: &[TicketNo],
        change: &crate::BulkChange,
    ) -> Result<crate::BulkOutcome> {
        Desk::bulk(self, actor, tickets, change)
    }

    fn link(
        &self,
        actor: &Actor,
        number: TicketNo,
        other: TicketNo,
        kind: sealdesk_model::LinkKind,
    ) -> Result<(Ticket, Ticket)> {
        Desk::link(self, actor, number, other, kind)
    }

    fn unlink(&self, actor: &Actor, number: TicketNo, other: TicketNo) -> Result<(Ticket, Ticket)> {
        Desk::unlink(self, actor, number, other)
    }

    fn split(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Ticket> {
        Desk::split(self, actor, number, seq)
    }

    fn snooze(&self, actor: &Actor, number: TicketNo, when: &str) -> Result<Ticket> {
        Desk::snooze(self, actor, number, when)
    }

    fn set_due(&self, actor: &Actor, number: TicketNo, when: &str) -> Result<Ticket> {
        Desk::set_due(self, actor, number, when)
    }

    fn body_hits(&self, text: &str) -> Option<std::sync::Arc<sealdesk_api::BodyHits>> {
        Desk::body_hits(self, text)
    }

    fn body_progress(&self) -> sealdesk_api::BodyProgress {
        Desk::body_progress(self)
    }

    fn body_lines(&self, numbers: &[TicketNo], text: &str) -> Vec<(TicketNo, String)> {
        Desk::body_lines(self, numbers, text)
    }

    fn find_in_bodies(&self, actor: &Actor, text: &str) -> Result<Vec<(TicketNo, String)>> {
        Desk::find_in_bodies(self, actor, text)
    }

    fn reply_parties(&self, actor: &Actor, number: TicketNo) -> Result<Parties> {
        Desk::reply_parties(self, actor, number)
    }

    fn draft(&self, actor: &Actor, number: TicketNo) -> Result<Option<Draft>> {
        Desk::draft(self, actor, number)
    }

    fn drafting_on(&self, actor: &Actor, number: TicketNo) -> Result<Vec<String>> {
        Desk::drafting_on(self, actor, number)
    }

    fn tickets_with_drafts(&self, actor: &Actor) -> Result<Vec<TicketNo>> {
        Desk::tickets_with_drafts(self, actor)
    }

    fn save_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        kind: MessageKind,
        body: &str,
        parties: &Parties,
    ) -> Result<Option<Draft>> {
        Desk::save_draft(self, actor, number, kind, body, parties)
    }

    fn detach_from_draft(&self, actor: &Actor, number: TicketNo, name: &str) -> Result<()> {
        Desk::detach_from_draft(self, actor, number, name)
    }

    fn discard_draft(&self, actor: &Actor, number: TicketNo) -> Result<()> {
        Desk::discard_draft(self, actor, number)
    }

    fn send_draft(
        &self,
        actor: &Actor,
        number: TicketNo,
        override_reason: Option<&str>,
    ) -> Result<Message> {
        Desk::send_draft(self, actor, number, override_reason)
    }

    fn reply_templates(&self, actor: &Actor) -> Result<Vec<ReplyTemplate>> {
        Desk::reply_templates(self, actor)
    }

    fn add_reply_template(
        &self,
        actor: &Actor,
        name: &str,
        text: &str,
        visibility: Visibility,
    ) -> Result<ReplyTemplate> {
        Desk::add_reply_template(self, actor, name, text, visibility)
    }

    fn edit_reply_template(
        &self,
        actor: &Actor,
        name: &str,
        text: Option<&str>,
        rename: Option<&str>,
    ) -> Result<ReplyTemplate> {
        Desk::edit_reply_template(self, actor, name, text, rename)
    }

    fn remove_reply_template(&self, actor: &Actor, name: &str) -> Result<ReplyTemplate> {
        Desk::remove_reply_template(self, actor, name)
    }

    fn template_placeholders(&self, actor: &Actor, number: TicketNo) -> Result<Placeholders> {
        Desk::template_placeholders(self, actor, number)
    }

    fn macros(&self, actor: &Actor) -> Result<Vec<Macro>> {
        Desk::macros(self, actor)
    }

    fn apply_macro(
        &self,
        actor: &Actor,
        name: &str,
        tickets: &[TicketNo],
    ) -> Result<Vec<(TicketNo, Result<String>)>> {
        Desk::apply_macro(self, actor, name, tickets)
    }

    fn undoable_replies(&self, actor: &Actor, number: TicketNo) -> Result<Vec<(u32, Timestamp)>> {
        Desk::undoable_replies(self, actor, number)
    }

    fn unsend(&self, actor: &Actor, number: TicketNo, seq: u32) -> Result<Draft> {
        Desk::unsend(self, actor, number, seq)
    }

    fn set_presence(&self, session: u64, agent: &str, at: Option<(TicketNo, Activity)>) {
        Desk::set_presence(self, session, agent, at)
    }

    fn viewers(&self, number: TicketNo, except_session: u64) -> Vec<Viewer> {
        Desk::viewers(self, number, except_session)
    }

    fn agents(&self) -> Result<Vec<Agent>> {
        Desk::agents(self)
    }

    fn find_agent(&self, name: &str) -> Result<Option<Agent>> {
        Desk::find_agent(self, name)
    }

    fn set_agent_theme(&self, actor: &Actor, agent_name: &str, theme: &str) -> Result<()> {
        Desk::set_agent_theme(self, actor, agent_name, theme)
    }

    fn set_signature(&self, actor: &Actor, name: &str, signature: Option<&str>) -> Result<Agent> {
        Desk::set_signature(self, actor, name, signature)
    }

    fn catalogue(&self) -> Catalogue {
        Desk::catalogue(self)
    }

    fn quarantine(&self) -> Result<Vec<QuarantineItem>> {
        Desk::quarantine(self)
    }

    fn release_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<Filed> {
        Desk::release_quarantine(self, actor, id)
    }

    fn delete_quarantine(&self, actor: &Actor, id: &QuarantineId) -> Result<()> {
        Desk::delete_quarantine(self, actor, id)
    }

    fn consent_page(&self, actor: &Actor, id: CustomerId) -> Result<ConsentPage> {
        Desk::consent_page(self, actor, id)
    }

    fn record_consent(
        &self,
        actor: &Actor,
        customer: &Customer,
        new: NewConsent<'_>,
    ) -> Result<ConsentRecord> {
        Desk::record_consent(self, actor, customer, new)
    }

    fn notices_of(&self, customer: &CustomerId) -> Result<Vec<NoticeCopy>> {
        Desk::notices_of(self, customer)
    }

    fn privacy_marks(&self, customer: &CustomerId) -> Result<Vec<String>> {
        Desk::privacy_marks(self, customer)
    }

    fn requests(&self) -> Result<Vec<PrivacyRequest>> {
        Desk::requests(self)
    }

    fn request_generation(&self) -> u64 {
        Desk::request_generation(self)
    }

    fn request_rows(&self) -> Result<Vec<RequestRow>> {
        Desk::request_rows(self)
    }

    fn request_row(&self, id: &RequestId) -> Result<RequestRow> {
        Desk::request_row(self, id)
    }

    fn open_request_tickets(&self, now: Timestamp) -> Result<HashMap<TicketNo, Urgency>> {
        Desk::open_request_tickets(self, now)
    }

    fn open_request(
        &self,
        actor: &Actor,
        customer: &Customer,
        kind: RequestKind,
        ticket: Option<TicketNo>,
    ) -> Result<PrivacyRequest> {
        Desk::open_request(self, actor, customer, kind, ticket)
    }

    fn start_request(&self, actor: &Actor, id: &RequestId) -> Result<PrivacyRequest> {
        Desk::start_request(self, actor, id)
    }

    fn send_verification_code(&self, actor: &Actor, id: &RequestId) -> Result<PrivacyRequest> {
        Desk::send_verification_code(self, actor, id)
    }

    fn confirm_code(&self, actor: &Actor, id: &RequestId, code: &str) -> Result<PrivacyRequest> {
        Desk::confirm_code(self, actor, id, code)
    }

    fn verify_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        method: &str,
    ) -> Result<PrivacyRequest> {
        Desk::verify_request(self, actor, id, method)
    }

    fn extend_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        reason: &str,
    ) -> Result<PrivacyRequest> {
        Desk::extend_request(self, actor, id, reason)
    }

    fn deny_request(&self, actor: &Actor, id: &RequestId, reason: &str) -> Result<PrivacyRequest> {
        Desk::deny_request(self, actor, id, reason)
    }

    fn complete_request(
        &self,
        actor: &Actor,
        id: &RequestId,
        note: &str,
    ) -> Result<PrivacyRequest> {
        Desk::complete_request(self, actor, id, note)
    }

    fn create_export(
        &self,
        actor: &Actor,
        customer: &Customer,
        authority: &Authority,
    ) -> Result<ExportRecord> {
        Desk::create_export(self, actor, customer, authority)
    }

    fn export_for_request(&self, request: &RequestId) -> Result<Option<ExportRecord>> {
        Desk::export_for_request(self, request)
    }

    fn already_mailed(&self, record: &ExportRecord) -> Option<String> {
        Desk::already_mailed(self, record)
    }

    fn mail_export(&self, actor: &Actor, id: &ExportId, request: &RequestId) -> Result<String> {
        Desk::mail_export(self, actor, id, request)
    }

    fn erasure_preview(&self, actor: &Actor, email: &str) -> Result<String> {
        Desk::erasure_preview(self, actor, email)
    }

    fn cancel_customer(
        &self,
        actor: &Actor,
        email: &str,
        typed: &str,
        authority: &Authority,
    ) -> Result<ErasureCounts> {
        Desk::cancel_customer(self, actor, email, typed, authority)
    }

    fn mark_seen(&self, actor: &Actor, number: TicketNo) -> Result<u64> {
        Desk::mark_seen(self, actor, number)
    }

    fn seen_counts(&self, actor: &Actor) -> Result<crate::SeenCounts> {
        Desk::seen_counts(self, actor)
    }

    fn saved_views(&self, actor: &Actor) -> Result<Vec<SavedView>> {
        Desk::saved_views(self, actor)
    }

    fn save_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        query: &ViewQuery,
    ) -> Result<SavedView> {
        Desk::save_view(self, actor, owner, name, query)
    }

    fn rename_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        new_name: &str,
    ) -> Result<SavedView> {
        Desk::rename_view(self, actor, owner, name, new_name)
    }

    fn set_view_shared(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        shared: bool,
    ) -> Result<SavedView> {
        Desk::set_view_shared(self, actor, owner, name, shared)
    }

    fn remove_view(&self, actor: &Actor, owner: Option<&str>, name: &str) -> Result<SavedView> {
        Desk::remove_view(self, actor, owner, name)
    }

    fn audit_page(&self, actor: &Actor, filter: &AuditFilter, limit: usize) -> Result<AuditPage> {
        Desk::audit_page(self, actor, filter, limit)
    }

    fn verify_audit(&self) -> Result<AuditReport> {
        Desk::verify_audit(self)
    }

    fn notifications(&self, actor: &Actor) -> Result<Vec<sealdesk_model::Notification>> {
        Desk::notifications(self, actor)
    }

    fn unread_notifications(&self, actor: &Actor) -> Result<usize> {
        Desk::unread_notifications(self, actor)
    }

    fn mark_notification_read(&self, actor: &Actor, seq: u64) -> Result<()> {
        Desk::mark_notification_read(self, actor, seq)
    }

    fn notify_settings(&self, actor: &Actor, name: &str) -> Result<sealdesk_api::NotifySettings> {
        Desk::notify_settings(self, actor, name)
    }

    fn set_notify_prefs(
        &self,
        actor: &Actor,
        name: &str,
        spec: &str,
    ) -> Result<sealdesk_model::NotifyPrefs> {
        Desk::set_notify_prefs(self, actor, name, spec)
    }

    fn report(
        &self,
        actor: &Actor,
        query: &sealdesk_model::ReportQuery,
    ) -> Result<sealdesk_model::Report> {
        Desk::report(self, actor, query)
    }
}
