//! Redaction: deleting one message, or one attachment of it, so that it is unreadable
//! everywhere — live, in the data dir's files and in earlier backups restored with
//! today's keys — while the rest of the customer's data stays. Admin-only, like
//! erasure: it destroys data for good. One unit of work, audited as `ticket.redact`
//! with the reason (the attachment's name is not logged: it may be personal).

use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::TicketNo;
use sealdesk_store::Redaction;

/// The longest reason accepted (it is shown in the thread and kept in the audit log).
const MAX_REASON: usize = 200;

impl Desk {
    /// Redacts message `seq` of ticket `number`: its text becomes "[redacted: REASON]"
    /// and its attachments go, or with `attachment` only that attachment goes. Its
    /// original mail is deleted either way, and the keys that sealed what went are
    /// destroyed once the unit is durable.
    pub fn redact_message(
        &self,
        actor: &Actor,
        number: TicketNo,
        seq: u32,
        attachment: Option<&str>,
        reason: &str,
    ) -> Result<Redaction> {
        self.require_admin(actor, "redact a message")?;
        let reason = sealdesk_model::sanitize::line(reason.trim());
        if reason.is_empty() {
            return Err(DeskError::Invalid(
                "say why with --reason TEXT (it is shown in place of the message and audited)"
                    .into(),
            ));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(DeskError::Invalid(format!(
                "the reason is longer than {MAX_REASON} characters: shorten it"
            )));
        }
        let placeholder = format!("[redacted: {reason}]");
        self.write(actor, &[Hold::Ticket(number)], |u| {
            if self.store.ticket(number)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "no ticket {number}: see `sealdesk ticket list`"
                )));
            }
            let message = match self.store.message(number, seq) {
                Ok(Some(m)) => m,
                Ok(None) => {
                    return Err(DeskError::NotFound(format!(
                        "ticket {number} has no message {seq}: see `sealdesk ticket show {}`",
                        number.0
                    )))
                }
                Err(sealdesk_store::StoreError::Erased) => {
                    return Err(DeskError::Invalid(format!(
                        "message {seq} of ticket {number} is erased already: nothing to redact"
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(name) = attachment {
                if !message.attachments.iter().any(|a| a.name == name) {
                    return Err(DeskError::NotFound(format!(
                        "message {seq} of ticket {number} has no attachment named {}: see `sealdesk ticket show {}`",
                        sealdesk_model::sanitize::line(name),
                        number.0
                    )));
                }
            }
            let Some(done) = u.tx.redact_message(number, seq, attachment, &placeholder)? else {
                return Err(DeskError::Invalid(format!(
                    "message {seq} of ticket {number} holds no customer's text (a note by the desk, or a placeholder): nothing to redact"
                )));
            };
            u.audit(
                "ticket.redact",
                vec![
                    format!("ticket={}", number.0),
                    format!("message={seq}"),
                    format!(
                        "what={}",
                        if attachment.is_some() { "attachment" } else { "message" }
                    ),
                    format!("attachments={}", done.attachments),
                    format!("exports={}", done.exports),
                    format!("reason={reason}"),
                ],
                done.customer.as_ref(),
            );
            u.touch(number);
            Ok(done)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{audit_events, desk, public_key_line};
    use crate::NewTicket;

    fn ticket(desk: &Desk, from: &str, body: &str) -> TicketNo {
        desk.create_ticket(
            &Actor::local_admin(),
            NewTicket {
                from,
                name: "",
                subject: "s",
                body,
                message_id: None,
            },
        )
        .unwrap()
        .0
        .number
    }

    #[test]
    fn only_admins_redact_and_a_note_by_the_desk_is_not_a_customers_text() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let n = ticket(&desk, "ann@example.com", "secret");
        desk.add_agent(
            &admin,
            "bob",
            sealdesk_model::AgentRole::Agent,
            &[public_key_line(3)],
        )
        .unwrap();
        let bob = Actor::agent("bob", None, "test");
        assert!(matches!(
            desk.redact_message(&bob, n, 1, None, "why"),
            Err(DeskError::Forbidden(_))
        ));
        assert_eq!(desk.store().message(n, 1).unwrap().unwrap().text, "secret");

        // A merge note is the desk's own (sealed with the master key): refused.
        let m = ticket(&desk, "ann@example.com", "second");
        desk.merge(&admin, m, n).unwrap();
        let thread = desk.store().messages(n).unwrap();
        let note = thread
            .iter()
            .flatten()
            .find(|m| matches!(m.author, sealdesk_model::Author::System))
            .map(|m| m.seq)
            .expect("a merge leaves a note");
        assert!(matches!(
            desk.redact_message(&admin, n, note, None, "why"),
            Err(DeskError::Invalid(_))
        ));
        let before = audit_events(&desk).len();
        let done = desk.redact_message(&admin, n, 1, None, "typo").unwrap();
        assert_eq!(done.attachments, 0);
        assert_eq!(
            desk.store().message(n, 1).unwrap().unwrap().text,
            "[redacted: typo]"
        );
        let events = audit_events(&desk);
        assert_eq!(events.len(), before + 1);
        let last = events.last().unwrap();
        assert_eq!(last.action, "ticket.redact");
        assert!(last.targets.iter().any(|t| t == "reason=typo"));
        assert!(last.customer.is_some());
    }
}
