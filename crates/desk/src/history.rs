//! History with its own times, for a desk that should look lived-in from its first
//! minute (`sealdesk demo`): an agent's reply that went out back then, a triage or
//! status change made back then, a privacy request received (and perhaps completed)
//! back then. Customer mail with its own time comes in through [`Desk::import_batch`],
//! which keeps each message's Date:.
//!
//! Admin only. Each step is one quiet unit of work (no mail, notification or webhook:
//! it is history), audited as `history.*` with the time it claims, while the audit
//! event itself carries the real time of the write: the log tells a backdated record
//! from a live one.

use super::triage::{clean_tags, load_ticket, thread_references};
use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{
    Author, Customer, Decision, DecisionOutcome, Delivery, Message, Priority, PrivacyRequest,
    RequestId, RequestKind, RequestStatus, Status, Ticket, TicketNo, Timestamp, Verification,
};

/// One thing that happened to a ticket in the past.
#[derive(Clone, Debug)]
pub enum PastStep<'a> {
    /// An agent's reply to the customer that went out then (nothing is queued to send).
    Reply {
        agent: &'a str,
        text: &'a str,
    },
    /// An agent's internal note.
    Note {
        agent: &'a str,
        text: &'a str,
    },
    Status(Status),
    Priority(Priority),
    /// Assigned to this agent (a new ticket becomes open, as with `assign`).
    Assign(&'a str),
    Tags(&'a [&'a str]),
}

impl PastStep<'_> {
    fn action(&self) -> &'static str {
        match self {
            PastStep::Reply { .. } => "history.reply",
            PastStep::Note { .. } => "history.note",
            PastStep::Status(_) => "history.status",
            PastStep::Priority(_) => "history.priority",
            PastStep::Assign(_) => "history.assign",
            PastStep::Tags(_) => "history.tags",
        }
    }
}

/// A privacy request as it was received at `received` and, if `completed` is given,
/// verified and completed at that time with that note.
#[derive(Clone, Debug)]
pub struct PastRequest<'a> {
    pub kind: RequestKind,
    pub ticket: Option<TicketNo>,
    pub received: Timestamp,
    pub completed: Option<(Timestamp, &'a str)>,
}

impl Desk {
    /// Records `step` as having happened to ticket `number` at `at`, which lies between
    /// the ticket's creation and now. The ticket's `updated` never moves back.
    pub fn record_past(
        &self,
        actor: &Actor,
        number: TicketNo,
        at: Timestamp,
        step: PastStep<'_>,
    ) -> Result<Ticket> {
        self.require_admin(actor, "record history")?;
        if at > Timestamp::now() {
            return Err(DeskError::Invalid(format!(
                "{at} is in the future: history needs a past time"
            )));
        }
        let agent = match &step {
            PastStep::Reply { agent, .. }
            | PastStep::Note { agent, .. }
            | PastStep::Assign(agent) => Some(*agent),
            _ => None,
        };
        if let Some(name) = agent {
            if self.store.agent_by_name(name)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "no agent named {}: add the agent first",
                    sealdesk_model::sanitize::line(name)
                )));
            }
        }
        let tags = match &step {
            PastStep::Tags(tags) => {
                clean_tags(&tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())?
            }
            _ => Vec::new(),
        };
        let domain = self.config().mail.message_id_domain();
        self.write(actor, &[Hold::Ticket(number)], |u| {
            u.set_quiet();
            let mut t = load_ticket(u, number)?;
            if at < t.created {
                return Err(DeskError::Invalid(format!(
                    "{at} is before ticket {number} was created: history follows the ticket"
                )));
            }
            let before = t.status;
            let mut detail = vec![number.to_string(), format!("at={at}")];
            match &step {
                PastStep::Reply { agent, text } => {
                    let (in_reply_to, references) = thread_references(u, number)?;
                    let parties = self.reply_recipients(u, &mut t, &Default::default())?;
                    let author = Author::Agent {
                        name: agent.to_string(),
                    };
                    let id = sealdesk_mail::new_message_id(&domain);
                    let mut message =
                        Message::outbound(number, author, text.to_string(), at, id.clone())
                            .threaded(in_reply_to, references)
                            .addressed(parties);
                    message.delivery = Some(Delivery::Sent { at });
                    let seq = u.tx.append_message(&t.customer, &mut message)?;
                    u.tx.index_message_id(&id, number)?;
                    if t.status == Status::New {
                        t.status = Status::Open;
                    }
                    t.sla.agent_replied(at);
                    detail.extend([format!("message={seq}"), format!("by={agent}")]);
                }
                PastStep::Note { agent, text } => {
                    let author = Author::Agent {
                        name: agent.to_string(),
                    };
                    let mut note = Message::note(number, author, text.to_string(), at);
                    let seq = u.tx.append_message(&t.customer, &mut note)?;
                    detail.extend([format!("message={seq}"), format!("by={agent}")]);
                }
                PastStep::Status(status) => {
                    t.status = *status;
                    detail.push(format!("status={status}"));
                }
                PastStep::Priority(priority) => {
                    t.priority = *priority;
                    detail.push(format!("priority={priority}"));
                }
                PastStep::Assign(agent) => {
                    t.assignee = Some(agent.to_string());
                    if t.status == Status::New {
                        t.status = Status::Open;
                    }
                    detail.push(format!("assignee={agent}"));
                }
                PastStep::Tags(_) => t.tags = tags.clone(),
            }
            t.updated = t.updated.max(at);
            self.settle_sla(&mut t, before, at);
            u.tx.put_workflow(&t)?;
            u.audit(step.action(), detail, Some(&t.customer));
            u.touch(number);
            Ok(t)
        })
    }

    /// Records a privacy request of `customer` as received in the past (its deadline
    /// counted from then), and completed then if `past.completed` says so.
    pub fn record_past_request(
        &self,
        actor: &Actor,
        customer: &Customer,
        past: &PastRequest<'_>,
    ) -> Result<PrivacyRequest> {
        self.require_admin(actor, "record history")?;
        let now = Timestamp::now();
        let latest = past.completed.map_or(past.received, |(at, _)| at);
        if past.received > now || latest > now || latest < past.received {
            return Err(DeskError::Invalid(
                "a past request is received, then completed, both before now".into(),
            ));
        }
        let mut request = PrivacyRequest {
            id: RequestId::random(),
            customer: customer.id,
            ticket: past.ticket,
            kind: past.kind,
            status: RequestStatus::Unverified,
            received: past.received,
            due: past
                .received
                .plus_days(self.deadline_days(past.kind) as i64),
            extension: None,
            verification: None,
            pending_code: None,
            decision: None,
        };
        if let Some((at, note)) = past.completed {
            request.status = RequestStatus::Completed;
            request.verification = Some(Verification {
                method: "emailed-code".into(),
                by: actor.name.clone(),
                at: past.received,
            });
            request.decision = Some(Decision {
                outcome: DecisionOutcome::Completed,
                reason: note.trim().into(),
                by: actor.name.clone(),
                at,
            });
        }
        let mut holds = vec![Hold::Customer(customer.id)];
        holds.extend(past.ticket.map(Hold::Ticket));
        self.write(actor, &holds, |u| {
            u.set_quiet();
            if let Some(n) = past.ticket {
                if self.store.ticket(n)?.is_none() {
                    return Err(DeskError::NotFound(format!("there is no ticket {n}")));
                }
                u.touch(n);
            }
            u.tx.put_request(&request)?;
            u.audit(
                "history.request",
                vec![
                    request.id.to_string(),
                    format!("kind={}", past.kind),
                    format!("received={}", past.received),
                    format!("status={}", request.status),
                ],
                Some(&customer.id),
            );
            Ok(())
        })?;
        self.requests_changed();
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{audit_events, public_key_line};
    use crate::ImportMessage;
    use sealdesk_model::AgentRole;

    /// A desk with agent alice and one ticket filed from mail dated 2026-01-01 09:00 UTC.
    fn desk_with_old_ticket(dir: &std::path::Path) -> (Desk, TicketNo, Timestamp) {
        let desk = crate::testing::desk(dir);
        let admin = Actor::local_admin();
        desk.add_agent(&admin, "alice", AgentRole::Agent, &[public_key_line(1)])
            .unwrap();
        let raw = "From: Ann <ann@example.com>\r\nTo: support@desk.example\r\nSubject: Printer\r\nMessage-ID: <old@example.com>\r\nDate: Thu, 1 Jan 2026 09:00:00 +0000\r\n\r\nIt smokes.\r\n";
        let outcome = desk
            .import_batch(
                &admin,
                &[ImportMessage {
                    raw: raw.as_bytes(),
                    mailbox_date: None,
                }],
                None,
            )
            .unwrap();
        let crate::Imported::Filed(n) = outcome[0].imported else {
            panic!("not filed: {outcome:?}");
        };
        (desk, n, Timestamp(1_767_258_000))
    }

    #[test]
    fn a_past_reply_went_out_then_and_the_clocks_follow_it() {
        let dir = tempfile::tempdir().unwrap();
        let (desk, n, created) = desk_with_old_ticket(dir.path());
        let admin = Actor::local_admin();
        let replied = Timestamp(created.0 + 25 * 60);
        let reply = PastStep::Reply {
            agent: "alice",
            text: "Unplug it, please.",
        };
        let t = desk.record_past(&admin, n, replied, reply).unwrap();
        assert_eq!(t.created, created);
        assert_eq!(t.status, Status::Open);
        assert_eq!(t.sla.first_reply, Some(replied));
        assert_eq!(t.updated, replied, "updated is the reply's time, not now");
        let solved = Timestamp(created.0 + 3 * 3600);
        let t = desk
            .record_past(&admin, n, solved, PastStep::Status(Status::Solved))
            .unwrap();
        assert_eq!(t.sla.solved_at, Some(solved));
        let thread: Vec<Message> = desk
            .store
            .messages(n)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        let ours = &thread[1];
        assert_eq!(
            ours.author,
            Author::Agent {
                name: "alice".into()
            }
        );
        assert_eq!(ours.at, replied);
        assert_eq!(ours.delivery, Some(Delivery::Sent { at: replied }));
        assert_eq!(ours.in_reply_to.as_deref(), Some("old@example.com"));
        assert!(
            desk.store.outbox().unwrap().is_empty(),
            "history sends nothing"
        );
        let events = audit_events(&desk);
        let reply_event = events.iter().find(|e| e.action == "history.reply").unwrap();
        assert!(reply_event.targets.contains(&format!("at={replied}")));
        assert!(reply_event.at > replied, "the audit keeps the real time");
    }

    #[test]
    fn history_is_for_admins_and_for_the_past_of_the_ticket() {
        let dir = tempfile::tempdir().unwrap();
        let (desk, n, created) = desk_with_old_ticket(dir.path());
        let admin = Actor::local_admin();
        let step = || PastStep::Status(Status::Solved);
        let alice = Actor::agent("alice", None, "test");
        let later = Timestamp(created.0 + 60);
        assert!(matches!(
            desk.record_past(&alice, n, later, step()),
            Err(DeskError::Forbidden(_))
        ));
        let future = Timestamp(Timestamp::now().0 + 3600);
        assert!(matches!(
            desk.record_past(&admin, n, future, step()),
            Err(DeskError::Invalid(_))
        ));
        let before = Timestamp(created.0 - 60);
        assert!(matches!(
            desk.record_past(&admin, n, before, step()),
            Err(DeskError::Invalid(_))
        ));
        let ghost = PastStep::Assign("nobody");
        assert!(matches!(
            desk.record_past(&admin, n, later, ghost),
            Err(DeskError::NotFound(_))
        ));
        let untouched = desk.store.ticket(n).unwrap().unwrap();
        assert_eq!(untouched.status, Status::New);
        assert!(!audit_events(&desk)
            .iter()
            .any(|e| e.action.starts_with("history.")));
    }
}
