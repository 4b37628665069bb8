//! SLA due times, due by hand, and snooze (Part 10).
//!
//! A ticket's `due` is the earliest target of its SLA policy still running (see
//! `config::sla` for which policy, `sealdesk_model::sla` for the arithmetic), kept
//! current by every operation that changes what it depends on: [`Desk::settle_sla`]
//! runs on inbound mail, replies, status, priority, tags and assignment, and
//! [`Desk::settle_all_dues`] at start and after an `sla.*` config change. A due set by
//! hand wins until it is cleared. Snoozed is pending with `snoozed_until`; the timer
//! ([`run_snooze_timer`]) wakes it, a customer's mail wakes it earlier.

use super::triage::load_ticket;
use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use crate::config::sla::SlaConfig;
use crate::notify::{Event, Why};
use sealdesk_model::sla::{parse_when, Calendar};
use sealdesk_model::{Status, Ticket, TicketNo, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// The SLA part of the config with its calendar built once.
pub(crate) struct SlaRules {
    config: SlaConfig,
    calendar: Calendar,
}

impl SlaRules {
    pub(crate) fn new(config: &SlaConfig) -> Arc<SlaRules> {
        Arc::new(SlaRules {
            calendar: config.calendar(),
            config: config.clone(),
        })
    }

    /// The business calendar (reports read its zone and measure targets in it).
    pub(crate) fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The targets of the policy that applies to `ticket`, if any.
    pub(crate) fn targets_for(&self, ticket: &Ticket) -> Option<sealdesk_model::Targets> {
        self.config.policy_for(ticket).map(|(_, t)| t)
    }

    /// What `ticket.due` should be now.
    fn due_of(&self, ticket: &Ticket) -> Option<Timestamp> {
        if ticket.due_by_hand {
            return ticket.due;
        }
        let (_, targets) = self.config.policy_for(ticket)?;
        ticket.sla.due(ticket.created, &targets, &self.calendar)
    }
}

/// What a due time or snooze typed as text means: a time, or "clear it".
fn read_when(text: &str, calendar: &Calendar) -> Result<Option<Timestamp>> {
    match text.trim() {
        "" | "-" => Ok(None),
        t => parse_when(t, Timestamp::now(), calendar)
            .map(Some)
            .map_err(DeskError::Invalid),
    }
}

impl Desk {
    pub(crate) fn sla_rules(&self) -> Arc<SlaRules> {
        Arc::clone(&self.sla.read())
    }

    /// After a change to `ticket` whose status was `before`: the SLA clock's pauses
    /// and resolution follow the status, a ticket that left pending is no longer
    /// snoozed, and the due time is recomputed.
    pub(crate) fn settle_sla(&self, ticket: &mut Ticket, before: Status, now: Timestamp) {
        ticket.sla.status_changed(before, ticket.status, now);
        if ticket.status != Status::Pending {
            ticket.snoozed_until = None;
        }
        ticket.due = self.sla_rules().due_of(ticket);
    }

    /// Snoozes a ticket until `when` (`2d`, `4h`, `mon 9:00`, `2026-12-03 10:00`, in
    /// `sla.zone`): pending until then. Empty or `-` wakes it now (open). Audited as
    /// `ticket.snooze`.
    pub fn snooze(&self, actor: &Actor, number: TicketNo, when: &str) -> Result<Ticket> {
        let rules = self.sla_rules();
        let until = read_when(when, &rules.calendar)?;
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let mut t = load_ticket(u, number)?;
            let before = t.status;
            let now = Timestamp::now();
            match until {
                Some(_) => t.status = Status::Pending,
                None if t.snoozed_until.is_some() => t.status = Status::Open,
                None => {
                    return Err(DeskError::Invalid(format!(
                        "ticket {number} is not snoozed: give a time such as 2d to snooze it"
                    )))
                }
            }
            self.settle_sla(&mut t, before, now);
            t.snoozed_until = until;
            t.updated = now;
            u.tx.put_workflow(&t)?;
            if t.status != before {
                u.ticket_webhook(sealdesk_model::WebhookEvent::TicketStatus, &t)?;
            }
            let what = until.map_or("until=-".to_string(), |at| format!("until={at}"));
            u.audit(
                "ticket.snooze",
                vec![number.to_string(), what],
                Some(&t.customer),
            );
            u.touch(number);
            u.activity(number, sealdesk_model::ActivityKind::Change);
            Ok(t)
        })
    }

    /// Sets the due time by hand (`4h`, `2d`, `2026-12-03 10:00`): it stays whatever
    /// the SLA says until cleared with empty or `-`, when the policy's applies again.
    /// Audited as `ticket.due`.
    pub fn set_due(&self, actor: &Actor, number: TicketNo, when: &str) -> Result<Ticket> {
        let rules = self.sla_rules();
        let due = read_when(when, &rules.calendar)?;
        self.write(actor, &[Hold::Ticket(number)], |u| {
            let mut t = load_ticket(u, number)?;
            t.due_by_hand = due.is_some();
            t.due = due;
            t.due = rules.due_of(&t);
            t.updated = Timestamp::now();
            u.tx.put_workflow(&t)?;
            let what = match due {
                Some(at) => format!("due={at}"),
                None => "due=policy".to_string(),
            };
            u.audit(
                "ticket.due",
                vec![number.to_string(), what],
                Some(&t.customer),
            );
            u.touch(number);
            u.activity(number, sealdesk_model::ActivityKind::Change);
            Ok(t)
        })
    }

    /// Wakes every snoozed ticket whose time has come: open, `updated` now (it tops
    /// the "updated" sort), audited as `ticket.woke`, its assignee notified. Returns
    /// the tickets woken.
    pub fn wake_snoozed(&self, now: Timestamp) -> Result<Vec<TicketNo>> {
        self.ensure_queue_index()?;
        let due: Vec<TicketNo> = {
            let slot = self.queue.read();
            slot.built
                .as_ref()
                .map(|idx| idx.numbers_where(|t| t.snoozed_until.is_some_and(|at| at <= now)))
                .unwrap_or_default()
        };
        let actor = Actor::system("snooze timer");
        let mut woken = Vec::new();
        for number in due {
            let did = self.write(&actor, &[Hold::Ticket(number)], |u| {
                let mut t = load_ticket(u, number)?;
                if t.snoozed_until.is_none_or(|at| at > now) {
                    return Ok(None);
                }
                let before = t.status;
                if t.status == Status::Pending {
                    t.status = Status::Open;
                }
                self.settle_sla(&mut t, before, now);
                t.snoozed_until = None;
                t.updated = now;
                u.tx.put_workflow(&t)?;
                if t.status != before {
                    u.ticket_webhook(sealdesk_model::WebhookEvent::TicketStatus, &t)?;
                }
                u.audit(
                    "ticket.woke",
                    vec![number.to_string(), "by=timer".into()],
                    Some(&t.customer),
                );
                u.touch(number);
                u.activity(number, sealdesk_model::ActivityKind::Change);
                Ok(Some(t.assignee.clone()))
            })?;
            if did.is_some() {
                self.notify(Event {
                    ticket: number,
                    why: Why::Woke,
                    cause: None,
                    mentioned: Vec::new(),
                });
                woken.push(number);
            }
        }
        Ok(woken)
    }

    /// Recomputes every ticket's due time (at start, and after `sla.*` changed) and
    /// stores those that differ; returns how many changed. While a policy is on, the
    /// clocks of tickets stored before SLAs were kept are read from their threads
    /// first (once: they are stored as tracked).
    pub fn settle_all_dues(&self) -> Result<usize> {
        self.ensure_queue_index()?;
        let rules = self.sla_rules();
        if rules.config.is_on() {
            self.track_old_tickets(&rules)?;
        }
        let stale: Vec<TicketNo> = {
            let slot = self.queue.read();
            slot.built
                .as_ref()
                .map(|idx| idx.numbers_where(|t| rules.due_of(t) != t.due))
                .unwrap_or_default()
        };
        let actor = Actor::system("sla policy");
        for &number in &stale {
            self.write(&actor, &[Hold::Ticket(number)], |u| {
                let mut t = load_ticket(u, number)?;
                let due = rules.due_of(&t);
                if due != t.due {
                    t.due = due;
                    u.tx.put_workflow(&t)?;
                    u.touch(number);
                }
                Ok(())
            })?;
        }
        Ok(stale.len())
    }

    /// Reads the SLA clock of every ticket stored before SLAs were kept (not closed)
    /// from its thread, and stores it with its due time.
    fn track_old_tickets(&self, rules: &SlaRules) -> Result<()> {
        let old: Vec<TicketNo> = {
            let slot = self.queue.read();
            slot.built
                .as_ref()
                .map(|idx| idx.numbers_where(|t| !t.sla.tracked && t.status != Status::Closed))
                .unwrap_or_default()
        };
        let actor = Actor::system("sla policy");
        for number in old {
            self.write(&actor, &[Hold::Ticket(number)], |u| {
                let mut t = load_ticket(u, number)?;
                if t.sla.tracked {
                    return Ok(());
                }
                let thread: Vec<_> =
                    u.tx.store()
                        .messages(number)?
                        .into_iter()
                        .flatten()
                        .map(|m| (m.kind, m.at))
                        .collect();
                t.sla = sealdesk_model::SlaClock::from_thread(thread, t.status, t.updated);
                t.due = rules.due_of(&t);
                u.tx.put_workflow(&t)?;
                u.touch(number);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Puts a changed `[sla]` in force: the calendar is built again and due times
    /// follow.
    pub(crate) fn replace_sla(&self, config: &SlaConfig) {
        *self.sla.write() = SlaRules::new(config);
    }
}

/// Wakes snoozed tickets every `every` until shutdown (run by `serve`). Due times that
/// come near or pass are the notifier's to announce (`notify::due`).
pub async fn run_snooze_timer(
    desk: Arc<Desk>,
    every: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let d = Arc::clone(&desk);
    match tokio::task::spawn_blocking(move || d.settle_all_dues()).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!("sla: due times of {n} ticket(s) recomputed"),
        Ok(Err(e)) => tracing::warn!("sla: due times not recomputed: {e}"),
        Err(e) => tracing::warn!("sla: due times not recomputed: {e}"),
    }
    loop {
        let d = Arc::clone(&desk);
        let now = Timestamp::now();
        match tokio::task::spawn_blocking(move || d.wake_snoozed(now)).await {
            Ok(Ok(woken)) if !woken.is_empty() => {
                tracing::info!("snooze: {} ticket(s) woke", woken.len())
            }
            Ok(Err(e)) => tracing::warn!("snooze timer: {e}"),
            _ => {}
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::NewTicket;

    #[test]
    fn a_ticket_stored_before_slas_gets_its_clock_from_its_thread() {
        let dir = tempfile::tempdir().unwrap();
        let desk = crate::testing::desk(dir.path());
        let admin = Actor::local_admin();
        let new = |subject| NewTicket {
            from: "ann@example.com",
            name: "",
            subject,
            body: "hello",
            message_id: None,
        };
        let (answered, _) = desk.create_ticket(&admin, new("answered")).unwrap();
        let (waiting, _) = desk.create_ticket(&admin, new("waiting")).unwrap();
        desk.add_reply(&admin, answered.number, "on it").unwrap();
        // As an older version stored them: no clock.
        for n in [answered.number, waiting.number] {
            let mut t = desk.store().ticket(n).unwrap().unwrap();
            t.sla = sealdesk_model::SlaClock::default();
            let mut tx = desk.store().begin();
            tx.put_workflow(&t).unwrap();
            desk.store().commit(tx).unwrap();
        }
        let mut config = desk.config();
        config.sla.policy.insert(
            "std".into(),
            crate::config::sla::SlaPolicy {
                first_response: Some("1h".into()),
                ..Default::default()
            },
        );
        desk.replace_config(config);
        desk.settle_all_dues().unwrap();
        let answered = desk.store().ticket(answered.number).unwrap().unwrap();
        let waiting = desk.store().ticket(waiting.number).unwrap().unwrap();
        assert!(answered.sla.tracked && answered.sla.first_reply.is_some());
        assert_eq!(answered.due, None, "its first response was met long ago");
        assert!(waiting.sla.tracked);
        assert_eq!(waiting.due, Some(Timestamp(waiting.created.0 + 3600)));
    }
}
