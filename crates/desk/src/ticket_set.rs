//! `ticket set`: several fields of one ticket changed at once from a script or the CLI.
//! Everything given is checked first (agent, tags, times), then each changed field is
//! one audited write through the same operation the TUI uses, so the audit log and the
//! notifications read as if an agent had pressed the keys.

use super::triage::clean_tags;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{AssigneeChange, Priority, Status, TagChange, Ticket, TicketNo};

/// What `ticket set` changes; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct TicketChanges {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// `Me` is the actor (who must be an agent).
    pub assignee: Option<AssigneeChange>,
    pub tags: Vec<TagChange>,
    /// A time as `ticket set --due` takes it; `-` gives it back to the SLA policy.
    pub due: Option<String>,
    /// A time as `ticket set --snooze` takes it; `-` wakes the ticket.
    pub snooze: Option<String>,
}

impl TicketChanges {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.priority.is_none()
            && self.assignee.is_none()
            && self.tags.is_empty()
            && self.due.is_none()
            && self.snooze.is_none()
    }
}

/// One field as it was before and is after `ticket set` (only fields that changed).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

impl Desk {
    /// The ticket's workflow as stored now (no thread, not audited: for a change that
    /// follows and is audited).
    pub fn ticket_now(&self, number: TicketNo) -> Result<Ticket> {
        self.store.ticket(number)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "there is no ticket {number}: see `sealdesk ticket list`"
            ))
        })
    }

    /// Applies `changes` to ticket `number`: one audited write per field whose value
    /// changes. Returns the ticket after and what changed.
    pub fn set_ticket_fields(
        &self,
        actor: &Actor,
        number: TicketNo,
        changes: &TicketChanges,
    ) -> Result<(Ticket, Vec<FieldChange>)> {
        if changes.snooze.is_some() && changes.status.is_some() {
            return Err(DeskError::Invalid(
                "--snooze sets the status (pending): give --status or --snooze, not both".into(),
            ));
        }
        let assignee = match &changes.assignee {
            Some(AssigneeChange::Me) => {
                if actor.kind != sealdesk_api::ActorKind::Agent {
                    return Err(DeskError::Invalid(
                        "\"me\" is the agent running the command: name the agent instead".into(),
                    ));
                }
                Some(Some(actor.name.clone()))
            }
            Some(AssigneeChange::Agent(name)) => {
                if self.store.agent_by_name(name)?.is_none() {
                    return Err(DeskError::NotFound(format!(
                        "no agent named {}: see `sealdesk agent list`",
                        sealdesk_model::sanitize::line(name)
                    )));
                }
                Some(Some(name.clone()))
            }
            Some(AssigneeChange::Nobody) => Some(None),
            None => None,
        };
        clean_tags(&TagChange::added(&changes.tags))?;

        let first = self.ticket_now(number)?;
        let mut now = first.clone();
        let mut done = Vec::new();
        let mut record =
            |field: &'static str, before: serde_json::Value, after: serde_json::Value| {
                if before != after {
                    done.push(FieldChange {
                        field,
                        before,
                        after,
                    });
                }
            };
        if let Some(want) = assignee {
            if now.assignee != want {
                let before = now.clone();
                now = self.assign(actor, number, want.as_deref())?;
                record(
                    "assignee",
                    before.assignee.into(),
                    now.assignee.clone().into(),
                );
                record(
                    "status",
                    before.status.as_str().into(),
                    now.status.as_str().into(),
                );
            }
        }
        if let Some(status) = changes.status {
            if now.status != status {
                let before = now.status;
                now = self.set_status(actor, number, status)?;
                record("status", before.as_str().into(), now.status.as_str().into());
            }
        }
        if let Some(priority) = changes.priority {
            if now.priority != priority {
                let before = now.priority;
                now = self.set_priority(actor, number, priority)?;
                record(
                    "priority",
                    before.as_str().into(),
                    now.priority.as_str().into(),
                );
            }
        }
        if !changes.tags.is_empty() {
            let mut wanted = now.tags.clone();
            for change in &changes.tags {
                change.apply(&mut wanted);
            }
            if wanted != now.tags {
                let before = now.tags.clone();
                now = self.change_tags(actor, number, &changes.tags)?;
                record("tags", before.into(), now.tags.clone().into());
            }
        }
        let rfc = |t: Option<sealdesk_model::Timestamp>| -> serde_json::Value {
            t.map(|t| t.rfc3339()).into()
        };
        if let Some(when) = &changes.due {
            let before = now.due;
            now = self.set_due(actor, number, when)?;
            record("due", rfc(before), rfc(now.due));
        }
        if let Some(when) = &changes.snooze {
            let before = (now.status, now.snoozed_until);
            now = self.snooze(actor, number, when)?;
            record(
                "status",
                before.0.as_str().into(),
                now.status.as_str().into(),
            );
            record("snoozed_until", rfc(before.1), rfc(now.snoozed_until));
        }
        Ok((now, merge_fields(done)))
    }
}

/// A field changed twice (the status by an assignment, then by --status) is one change:
/// from the first before to the last after.
fn merge_fields(changes: Vec<FieldChange>) -> Vec<FieldChange> {
    let mut merged: Vec<FieldChange> = Vec::new();
    for c in changes {
        match merged.iter_mut().find(|m| m.field == c.field) {
            Some(m) => m.after = c.after,
            None => merged.push(c),
        }
    }
    merged.retain(|m| m.before != m.after);
    merged
}
