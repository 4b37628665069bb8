//! Notices to chosen customers: a security incident, a policy change, a transfer of the
//! business, the end of the service. A notice is desk text (master key) with its
//! recipients fixed when it is created; sending gives each recipient a copy sealed with
//! their own key (their history and export show it as outbound mail from the desk) and
//! queues the mail in the outbox, paced to `notice.rate_per_minute`. A copy is made
//! once per customer, in the same unit as its outbox entry, so sending again (after a
//! crash, or to reach customers added to the schedule later) never mails anyone twice.

use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, ExportFile, Result};
use sealdesk_model::{
    ComposedMail, ConsentState, Customer, CustomerId, Delivery, Notice, NoticeCopy, NoticeId,
    NoticeKind, NoticeLeftOut, OutboxEntry, TicketNo, Timestamp,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The consent purpose that marketing mail needs (see the catalogue).
const MARKETING_PURPOSE: &str = "040";

/// The placeholders a notice's subject and body may use.
pub(crate) const PLACEHOLDERS: [&str; 2] = ["{customer.name}", "{customer.email}"];

/// Recipients per unit of work while sending.
const SEND_BATCH: usize = 25;

/// Who a notice goes to.
#[derive(Clone, Debug)]
pub enum Audience {
    All,
    /// Customers with a ticket carrying this tag.
    Tag(String),
    /// Customers whose data this agent viewed or exported in `[since, until]`, by the
    /// audit log.
    TouchedBy {
        agent: String,
        since: Timestamp,
        until: Timestamp,
    },
    /// One address a line; addresses of no customer are counted and left out.
    Addresses(Vec<String>),
}

pub struct NewNotice {
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
    pub audience: Audience,
}

/// What `notice preview` shows.
pub struct NoticePreview {
    pub notice: Notice,
    /// Who would be mailed by a send now (not yet mailed, still allowed).
    pub would_send: usize,
    pub already_sent: usize,
    /// Up to three mails as they would go out: (to, subject, body).
    pub samples: Vec<(String, String, String)>,
}

/// How a send went, also reported part way for progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendProgress {
    pub total: usize,
    /// Recipients looked at so far.
    pub done: usize,
    pub queued: usize,
    /// Mailed by an earlier send: not again.
    pub already: usize,
    /// Erased since the notice was made.
    pub erased: usize,
    /// Restricted, or marketing consent withdrawn, since the notice was made.
    pub not_allowed: usize,
    /// When the last mail queued is due at the outbox.
    pub last_due: Option<Timestamp>,
}

/// A notice with how far its sending got.
pub struct NoticeRow {
    pub notice: Notice,
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
}

/// Whether a customer may get a notice of a kind right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Allowed {
    Yes,
    Restricted,
    NoConsent,
}

impl Desk {
    /// Makes a notice and fixes its recipients; audited (`notice.create`).
    pub fn create_notice(&self, actor: &Actor, new: NewNotice) -> Result<Notice> {
        self.require_admin(actor, "write notices to customers")?;
        if new.subject.trim().is_empty() || new.body.trim().is_empty() {
            return Err(DeskError::Invalid(
                "a notice needs a subject (--subject) and a body (--body-file)".into(),
            ));
        }
        for text in [&new.subject, &new.body] {
            check_placeholders(text)?;
        }
        let (candidates, unknown, audience) = self.audience(&new.audience)?;
        let mut left_out = NoticeLeftOut {
            unknown_addresses: unknown,
            ..NoticeLeftOut::default()
        };
        let mut recipients = Vec::new();
        for id in candidates {
            let Some(customer) = self.store.customer(&id).ok().flatten() else {
                continue; // erased
            };
            match self.notice_allowed(new.kind, &customer)? {
                Allowed::Yes => recipients.push(id),
                Allowed::Restricted => left_out.restricted += 1,
                Allowed::NoConsent => left_out.no_consent += 1,
            }
        }
        let notice = Notice {
            id: NoticeId::random(),
            kind: new.kind,
            subject: new.subject,
            body: new.body,
            audience,
            recipients,
            left_out,
            created: Timestamp::now(),
            created_by: actor.name.clone(),
        };
        self.write(actor, &[Hold::Settings], |u| {
            u.tx.put_notice(&notice)?;
            u.audit(
                "notice.create",
                vec![
                    notice.id.to_string(),
                    format!("kind={}", notice.kind),
                    format!("recipients={}", notice.recipients.len()),
                ],
                None,
            );
            Ok(())
        })?;
        Ok(notice)
    }

    /// Every notice with its delivery counts (admins).
    pub fn notice_list(&self, actor: &Actor) -> Result<Vec<NoticeRow>> {
        self.require_admin(actor, "list notices")?;
        let mut rows = Vec::new();
        for notice in self.store.notices()? {
            let (mut queued, mut sent, mut failed) = (0, 0, 0);
            for copy in self.store.notice_copies(&notice.id)? {
                match copy.delivery {
                    Delivery::Queued { .. } => queued += 1,
                    Delivery::Sent { .. } => sent += 1,
                    Delivery::Failed { .. } => failed += 1,
                }
            }
            rows.push(NoticeRow {
                notice,
                queued,
                sent,
                failed,
            });
        }
        Ok(rows)
    }

    /// The recipient count and three mails rendered as they would go out; audited
    /// (the samples show customers' names and addresses).
    pub fn notice_preview(&self, actor: &Actor, id: &NoticeId) -> Result<NoticePreview> {
        self.require_admin(actor, "preview notices")?;
        let notice = self.notice_named(id)?;
        let (mut would_send, mut already_sent) = (0, 0);
        let mut samples = Vec::new();
        let mut shown = Vec::new();
        for cid in &notice.recipients {
            if self.store.notice_copy_exists(id, cid)? {
                already_sent += 1;
                continue;
            }
            let Some(customer) = self.store.customer(cid).ok().flatten() else {
                continue;
            };
            if self.notice_allowed(notice.kind, &customer)? != Allowed::Yes {
                continue;
            }
            would_send += 1;
            if samples.len() < 3 {
                samples.push((
                    customer.primary_email().to_string(),
                    render(&notice.subject, &customer),
                    render(&notice.body, &customer),
                ));
                shown.push(*cid);
            }
        }
        self.write(actor, &[], |u| {
            u.audit(
                "notice.preview",
                vec![id.to_string(), format!("samples={}", shown.len())],
                None,
            );
            for cid in &shown {
                u.audit("notice.preview.sample", vec![id.to_string()], Some(cid));
            }
            Ok(())
        })?;
        Ok(NoticePreview {
            notice,
            would_send,
            already_sent,
            samples,
        })
    }

    /// Queues the notice for every recipient not mailed yet, paced at
    /// `notice.rate_per_minute` (each mail gets its due time in the outbox), in units
    /// of a few recipients; `progress` hears after each. Each recipient is audited
    /// (`notice.send`, by pseudonym).
    pub fn send_notice(
        &self,
        actor: &Actor,
        id: &NoticeId,
        now: Timestamp,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress> {
        self.require_admin(actor, "send notices")?;
        let notice = self.notice_named(id)?;
        let config = self.config();
        if config.mail.from.is_none() {
            return Err(DeskError::Invalid("mail.from is not set: `sealdesk config set mail.from \"Support <support@example.com>\"`, then send again".into()));
        }
        let domain = config.mail.message_id_domain();
        let rate = i64::from(config.notice.rate_per_minute.max(1));
        // Entries of earlier sends still waiting keep their places: this send's
        // schedule starts after the last of them, so the pace holds across sends.
        let mut taken: HashSet<u32> = HashSet::new();
        let start = now.0;
        let mut pending = 0i64;
        for e in self.store.outbox()? {
            if e.ticket.0 != 0 {
                continue;
            }
            taken.insert(e.seq);
            if self.store.notice_link(e.seq)?.is_some() && e.next_attempt.0 >= now.0 {
                pending += 1;
            }
        }
        let mut report = SendProgress {
            total: notice.recipients.len(),
            ..SendProgress::default()
        };
        let mut slot = pending;
        for batch in notice.recipients.chunks(SEND_BATCH) {
            let holds: Vec<Hold> = batch.iter().map(|c| Hold::Customer(*c)).collect();
            let (step, used) = self.write(actor, &holds, |u| {
                let mut step = SendProgress::default();
                let mut used = Vec::new();
                let mut next_slot = slot;
                for cid in batch {
                    step.done += 1;
                    if self.store.notice_copy_exists(id, cid)? {
                        step.already += 1;
                        continue;
                    }
                    let Some(customer) = self.store.customer(cid).ok().flatten() else {
                        step.erased += 1;
                        continue;
                    };
                    if self.notice_allowed(notice.kind, &customer)? != Allowed::Yes {
                        step.not_allowed += 1;
                        continue;
                    }
                    let seq = fresh_seq(&taken, &used);
                    used.push(seq);
                    let due = Timestamp(start + next_slot * 60 / rate);
                    next_slot += 1;
                    let copy = NoticeCopy {
                        notice: *id,
                        customer: *cid,
                        kind: notice.kind,
                        to: customer.primary_email().to_string(),
                        subject: render(&notice.subject, &customer),
                        body: render(&notice.body, &customer),
                        message_id: sealdesk_mail::new_message_id(&domain),
                        queued: now,
                        delivery: Delivery::Queued { since: now },
                    };
                    u.tx.put_notice_copy(&copy)?;
                    u.tx.put_notice_link(seq, id, cid)?;
                    u.tx.put_outbox(&OutboxEntry::new(
                        TicketNo(0),
                        seq,
                        due,
                        true,
                        Some(ComposedMail {
                            to: copy.to.clone(),
                            subject: copy.subject.clone(),
                            message_id: copy.message_id.clone(),
                            body: copy.body.clone(),
                            attachment: None,
                        }),
                    ))?;
                    u.audit("notice.send", vec![id.to_string()], Some(cid));
                    step.queued += 1;
                    step.last_due = Some(due);
                }
                Ok((step, used))
            })?;
            taken.extend(used);
            slot += step.queued as i64;
            report.done += step.done;
            report.queued += step.queued;
            report.already += step.already;
            report.erased += step.erased;
            report.not_allowed += step.not_allowed;
            report.last_due = step.last_due.or(report.last_due);
            progress(&report);
        }
        Ok(report)
    }

    /// The notices a customer was sent, oldest first: their history of outbound
    /// notices (shown with the customer, never as something they wrote).
    pub fn notices_of(&self, customer: &CustomerId) -> Result<Vec<NoticeCopy>> {
        let mut out = Vec::new();
        for notice in self.store.notices()? {
            match self.store.notice_copy(&notice.id, customer) {
                Ok(Some(copy)) => out.push(copy),
                Ok(None) | Err(sealdesk_store::StoreError::Erased) => {}
                Err(e) => return Err(e.into()),
            }
        }
        out.sort_by_key(|c| c.queued);
        Ok(out)
    }

    /// The customer's notices for their export: `notices.json`, outbound mail from
    /// the desk (empty list when there are none).
    pub(crate) fn notices_for_export(&self, customer: &Customer) -> Result<Vec<ExportFile>> {
        let docs: Vec<serde_json::Value> = self
            .notices_of(&customer.id)?
            .into_iter()
            .map(|c| {
                serde_json::json!({
                    "notice_id": c.notice.to_string(),
                    "direction": "outbound",
                    "from": "the desk",
                    "kind": c.kind.as_str(),
                    "to": c.to,
                    "subject": c.subject,
                    "body": c.body,
                    "message_id": c.message_id,
                    "queued": c.queued.rfc3339(),
                    "delivery": delivery_json(&c.delivery),
                })
            })
            .collect();
        let bytes = serde_json::to_vec_pretty(&serde_json::json!(docs))
            .map_err(|e| DeskError::Invalid(format!("cannot write notices.json: {e}")))?;
        Ok(vec![ExportFile {
            path: "notices.json".into(),
            bytes,
        }])
    }

    /// For the outbox, before it sends a composed mail: a notice to a customer who was
    /// erased, or who became restricted (non-mandatory kind), is not sent.
    pub(super) fn notice_still_allowed(&self, seq: u32) -> std::result::Result<(), NoticeHeld> {
        let Ok(Some((notice, customer))) = self.store.notice_link(seq) else {
            return Ok(()); // not a notice
        };
        let kind = self
            .store
            .notice(&notice)
            .ok()
            .flatten()
            .map(|n| n.kind)
            .ok_or(NoticeHeld::NoticeGone)?;
        let customer = self
            .store
            .customer(&customer)
            .ok()
            .flatten()
            .ok_or(NoticeHeld::CustomerErased)?;
        match self.notice_allowed(kind, &customer)? {
            Allowed::Yes => Ok(()),
            Allowed::Restricted => Err(NoticeHeld::Restricted),
            Allowed::NoConsent => Err(NoticeHeld::NoConsent),
        }
    }

    fn notice_named(&self, id: &NoticeId) -> Result<Notice> {
        self.store.notice(id)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "no notice {id}: see `sealdesk notice list` for the ids"
            ))
        })
    }

    /// Whether this notice may go to `customer`: the restriction rule is the desk's one
    /// (`Desk::mail_allowed`: mandatory kinds always, others not while restricted); for a
    /// notice of a marketing kind, a withdrawn, refused or expired marketing consent stops
    /// it (the rule: "mail for that purpose is not sent"), while a customer who
    /// never gave or refused one still gets it.
    fn notice_allowed(&self, kind: NoticeKind, customer: &Customer) -> Result<Allowed> {
        let purpose = if kind.is_mandatory() {
            super::restriction::MailPurpose::Mandatory
        } else {
            super::restriction::MailPurpose::Optional
        };
        if self.mail_allowed(customer, purpose).is_err() {
            return Ok(Allowed::Restricted);
        }
        if kind.is_marketing() {
            let latest = self
                .store
                .consents(&customer.id)?
                .into_iter()
                .filter(|r| r.purpose == MARKETING_PURPOSE)
                .max_by_key(|r| r.seq);
            if latest.is_some_and(|r| r.state != ConsentState::Given) {
                return Ok(Allowed::NoConsent);
            }
        }
        Ok(Allowed::Yes)
    }

    /// The customers an audience names (live ones only), the number of addresses that
    /// named no customer, and the audience in words.
    fn audience(&self, audience: &Audience) -> Result<(Vec<CustomerId>, usize, String)> {
        let mut ids: BTreeSet<CustomerId> = BTreeSet::new();
        let mut unknown = 0;
        let words = match audience {
            Audience::All => {
                ids.extend(self.store.customer_ids()?);
                "all customers".to_string()
            }
            Audience::Tag(tag) => {
                let tag = tag.trim().to_lowercase();
                for t in self.store.tickets()? {
                    if t.tags.iter().any(|x| x.to_lowercase() == tag) {
                        ids.insert(t.customer);
                    }
                }
                format!("tag {}", sealdesk_model::sanitize::line(&tag))
            }
            Audience::TouchedBy {
                agent,
                since,
                until,
            } => {
                if until < since {
                    return Err(DeskError::Invalid(
                        "--until is before --since: swap them".into(),
                    ));
                }
                let by_pseudonym: HashMap<String, CustomerId> = self
                    .store
                    .customer_ids()?
                    .into_iter()
                    .map(|id| (self.store.pseudonym(&id).0, id))
                    .collect();
                self.store.for_each_audit(|e| {
                    let touched = e.action.ends_with(".view") || e.action.contains("export");
                    if e.actor == *agent && touched && e.at >= *since && e.at <= *until {
                        if let Some(id) = e.customer.and_then(|p| by_pseudonym.get(&p.0)) {
                            ids.insert(*id);
                        }
                    }
                    Ok(())
                })?;
                format!(
                    "viewed or exported by {} from {since} to {until}",
                    sealdesk_model::sanitize::line(agent)
                )
            }
            Audience::Addresses(list) => {
                for a in list {
                    match self.store.customer_by_email(a)? {
                        Some(c) => {
                            ids.insert(c.id);
                        }
                        None => unknown += 1,
                    }
                }
                format!("{} address(es) from a file", list.len())
            }
        };
        // Only customers that exist: a ticket or an audit event may name an erased one.
        let live: Vec<CustomerId> = ids
            .into_iter()
            .filter(|id| self.store.customer(id).ok().flatten().is_some())
            .collect();
        Ok((live, unknown, words))
    }
}

/// Records on a notice copy what became of its mail (the outbox calls this for its
/// composed entries, ticket 0). A copy whose customer was erased just loses its link.
pub(super) fn record_delivery(u: &mut Unit<'_>, seq: u32, delivery: Delivery) -> Result<()> {
    let store = u.tx.store();
    let Some((notice, customer)) = store.notice_link(seq)? else {
        return Ok(());
    };
    u.hold(Hold::Customer(customer))?;
    let finished = !matches!(delivery, Delivery::Queued { .. });
    match store.notice_copy(&notice, &customer) {
        Ok(Some(mut copy)) => {
            copy.delivery = delivery;
            u.tx.put_notice_copy(&copy)?;
        }
        Ok(None) | Err(sealdesk_store::StoreError::Erased) => {}
        Err(e) => return Err(e.into()),
    }
    if finished {
        u.tx.remove_notice_link(seq);
    }
    Ok(())
}

/// Fills `{customer.name}` (the address when no name is known) and `{customer.email}`.
pub(crate) fn render(text: &str, customer: &Customer) -> String {
    let name = if customer.name.trim().is_empty() {
        customer.primary_email()
    } else {
        customer.name.as_str()
    };
    text.replace(PLACEHOLDERS[0], name)
        .replace(PLACEHOLDERS[1], customer.primary_email())
}

/// Refuses a `{…}` the renderer would leave as it is (a typo would reach customers).
fn check_placeholders(text: &str) -> Result<()> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let Some(close) = after.find('}') else { break };
        let token = &after[..=close];
        if token.starts_with("{customer.") && !PLACEHOLDERS.contains(&token) {
            return Err(DeskError::Invalid(format!(
                "unknown placeholder {}: use {}",
                sealdesk_model::sanitize::line(token),
                PLACEHOLDERS.join(" or ")
            )));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

fn fresh_seq(taken: &HashSet<u32>, used: &[u32]) -> u32 {
    loop {
        let mut n = [0u8; 4];
        getrandom::fill(&mut n).expect("the OS random source failed");
        let seq = u32::from_be_bytes(n);
        if !taken.contains(&seq) && !used.contains(&seq) {
            return seq;
        }
    }
}

/// Why the outbox holds back a notice it was about to send.
#[derive(Debug, thiserror::Error)]
pub(super) enum NoticeHeld {
    #[error("the notice is gone")]
    NoticeGone,
    #[error("the customer was erased; the notice is not sent")]
    CustomerErased,
    #[error("the customer is restricted now; only mandatory notices go out")]
    Restricted,
    #[error("the customer withdrew marketing consent; the notice is not sent")]
    NoConsent,
    #[error(transparent)]
    Desk(#[from] DeskError),
}

/// Where a mail is on its way out, as the CLI and exports print it: `{"state": "queued",
/// "since": …}`, `{"state": "sent", "at": …}` or `{"state": "failed", "at": …, "reason": …}`.
#[derive(serde::Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum DeliveryJson<'a> {
    Queued {
        #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
        since: Timestamp,
    },
    Sent {
        #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
        at: Timestamp,
    },
    Failed {
        #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
        at: Timestamp,
        reason: &'a str,
    },
}

impl<'a> From<&'a Delivery> for DeliveryJson<'a> {
    fn from(d: &'a Delivery) -> Self {
        match d {
            Delivery::Queued { since } => DeliveryJson::Queued { since: *since },
            Delivery::Sent { at } => DeliveryJson::Sent { at: *at },
            Delivery::Failed { at, reason } => DeliveryJson::Failed { at: *at, reason },
        }
    }
}

pub fn delivery_json(d: &Delivery) -> serde_json::Value {
    // A view of strings and times: serialising it cannot fail.
    serde_json::to_value(DeliveryJson::from(d)).unwrap_or_default()
}

#[cfg(test)]
mod tests {

    #[test]
    fn delivery_json_is_what_the_hand_built_json_was() {
        use sealdesk_model::{Delivery, Timestamp};
        let (at, reason) = (Timestamp(1_700_000_000), "550 no such user".to_string());
        let cases = [
            (
                Delivery::Queued { since: at },
                serde_json::json!({ "state": "queued", "since": at.rfc3339() }),
            ),
            (
                Delivery::Sent { at },
                serde_json::json!({ "state": "sent", "at": at.rfc3339() }),
            ),
            (
                Delivery::Failed {
                    at,
                    reason: reason.clone(),
                },
                serde_json::json!({ "state": "failed", "at": at.rfc3339(), "reason": reason }),
            ),
        ];
        for (d, by_hand) in cases {
            assert_eq!(super::delivery_json(&d), by_hand);
        }
    }

    use super::*;

    #[test]
    fn placeholders_fill_and_typos_are_refused() {
        let c = Customer::new("ann@example.com", "Ann");
        assert_eq!(
            render("Dear {customer.name} <{customer.email}>", &c),
            "Dear Ann <ann@example.com>"
        );
        let nameless = Customer::new("bo@example.com", "");
        assert_eq!(
            render("Dear {customer.name}", &nameless),
            "Dear bo@example.com"
        );
        assert!(check_placeholders("Dear {customer.name}, {x} stays").is_ok());
        assert!(check_placeholders("Dear {customer.nmae}").is_err());
    }

    /// Erasure takes the waiting notice mail out of the outbox (it holds the address and
    /// the name under the master key), and the copy with it; others' stay.
    #[test]
    fn erasure_removes_the_notice_mail_still_waiting_and_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let mut config = desk.config();
        config.mail.from = Some("Support <support@desk.example>".into());
        desk.replace_config(config);
        let admin = Actor::local_admin();
        for from in ["ann@example.com", "bob@example.com"] {
            desk.create_ticket(
                &admin,
                crate::NewTicket {
                    from,
                    name: "Canary Name",
                    subject: "s",
                    body: "b",
                    message_id: None,
                },
            )
            .unwrap();
        }
        let notice = desk
            .create_notice(
                &admin,
                NewNotice {
                    kind: NoticeKind::Incident,
                    subject: "Incident".into(),
                    body: "Dear {customer.name}".into(),
                    audience: Audience::All,
                },
            )
            .unwrap();
        let sent = desk
            .send_notice(&admin, &notice.id, Timestamp::now(), &mut |_| {})
            .unwrap();
        assert_eq!(sent.queued, 2);
        let bob = desk
            .store
            .customer_by_email("bob@example.com")
            .unwrap()
            .unwrap();
        desk.cancel_customer(
            &admin,
            "bob@example.com",
            "bob@example.com",
            &crate::Authority::Override("test".into()),
        )
        .unwrap();
        let waiting: Vec<(String, String)> = desk
            .store
            .outbox()
            .unwrap()
            .into_iter()
            .filter_map(|e| e.composed.map(|c| (c.to, c.subject)))
            .collect();
        assert!(waiting.contains(&("ann@example.com".into(), "Incident".into())));
        assert!(
            !waiting
                .iter()
                .any(|(to, s)| to == "bob@example.com" && s == "Incident"),
            "{waiting:?}"
        );
        assert!(desk.notices_of(&bob.id).unwrap().is_empty());
        assert_eq!(desk.store.notice_copies(&notice.id).unwrap().len(), 1);
        // Sending again does not bring bob back.
        let again = desk
            .send_notice(&admin, &notice.id, Timestamp::now(), &mut |_| {})
            .unwrap();
        assert_eq!((again.queued, again.already, again.erased), (0, 1, 1));
    }

    /// "Touched by" takes the customers whose data that agent viewed in the period, by
    /// the audit log's pseudonyms, and nobody another agent viewed.
    #[test]
    fn touched_by_follows_the_audit_log() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let admin = Actor::local_admin();
        for (seed, name) in [(1, "alice"), (2, "bob")] {
            let key = crate::testing::public_key_line(seed);
            desk.add_agent(&admin, name, sealdesk_model::AgentRole::Agent, &[key])
                .unwrap();
        }
        let mut numbers = Vec::new();
        for from in ["ann@example.com", "cat@example.com", "dan@example.com"] {
            let (t, _) = desk
                .create_ticket(
                    &admin,
                    crate::NewTicket {
                        from,
                        name: "",
                        subject: "s",
                        body: "b",
                        message_id: None,
                    },
                )
                .unwrap();
            numbers.push(t.number);
        }
        let alice = Actor::agent("alice", None, "test");
        let bob = Actor::agent("bob", None, "test");
        desk.ticket_thread(&alice, numbers[0]).unwrap();
        desk.ticket_thread(&bob, numbers[1]).unwrap();
        let now = Timestamp::now();
        let audience = |agent: &str, since: Timestamp, until: Timestamp| {
            let (ids, _, _) = desk
                .audience(&Audience::TouchedBy {
                    agent: agent.into(),
                    since,
                    until,
                })
                .unwrap();
            ids.iter()
                .map(|id| desk.store.customer(id).unwrap().unwrap().emails[0].clone())
                .collect::<Vec<_>>()
        };
        let (since, until) = (Timestamp(now.0 - 60), Timestamp(now.0 + 60));
        assert_eq!(audience("alice", since, until), vec!["ann@example.com"]);
        assert_eq!(audience("bob", since, until), vec!["cat@example.com"]);
        assert!(audience("alice", Timestamp(0), Timestamp(now.0 - 3600)).is_empty());
        assert!(desk
            .audience(&Audience::TouchedBy {
                agent: "alice".into(),
                since: until,
                until: since
            })
            .is_err());
    }

    /// Restricted after the notice was queued: the outbox fails it instead of sending
    /// (a non-mandatory kind), and the copy says why.
    #[test]
    fn a_customer_restricted_after_queueing_gets_no_policy_change() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let mut config = desk.config();
        config.mail.from = Some("Support <support@desk.example>".into());
        desk.replace_config(config);
        let admin = Actor::local_admin();
        let (_, ann) = desk
            .create_ticket(
                &admin,
                crate::NewTicket {
                    from: "ann@example.com",
                    name: "Ann",
                    subject: "s",
                    body: "b",
                    message_id: None,
                },
            )
            .unwrap();
        let notice = desk
            .create_notice(
                &admin,
                NewNotice {
                    kind: NoticeKind::PolicyChange,
                    subject: "New terms".into(),
                    body: "Dear {customer.name}".into(),
                    audience: Audience::All,
                },
            )
            .unwrap();
        desk.send_notice(&admin, &notice.id, Timestamp::now(), &mut |_| {})
            .unwrap();
        let mut restricted = desk.store.customer(&ann.id).unwrap().unwrap();
        restricted.flags.restricted = true;
        desk.update_customer(&admin, restricted, "restricted")
            .unwrap();
        let due = desk.due_replies(Timestamp::now().plus_days(1)).unwrap();
        assert!(
            due.iter().all(|r| r.mail.subject != "New terms"),
            "not sent"
        );
        assert!(
            desk.store.outbox().unwrap().is_empty(),
            "given up, not retried"
        );
        let copy = &desk.notices_of(&ann.id).unwrap()[0];
        match &copy.delivery {
            Delivery::Failed { reason, .. } => assert!(reason.contains("restricted"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mandatory_and_marketing_kinds() {
        assert!(NoticeKind::Incident.is_mandatory());
        assert!(NoticeKind::Transfer.is_mandatory());
        assert!(NoticeKind::EndOfService.is_mandatory());
        assert!(!NoticeKind::PolicyChange.is_mandatory());
        assert!(!NoticeKind::Other.is_mandatory());
        assert!(NoticeKind::Other.is_marketing());
        assert!(!NoticeKind::PolicyChange.is_marketing());
    }
}
