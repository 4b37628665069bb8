//! Parts of a customer's export that stand on their own: their quarantined mail, the
//! audit events about them (who viewed or exported their data, when), and the delivery
//! status of each reply. Each section adds its files; `Desk::export_files` lists them.

use crate::export::{add, pretty, ExportFile};
use crate::{Desk, Result};
use sealdesk_model::{Customer, Delivery, Message, MessageKind, OutboxEntry};
use serde_json::{json, Value};

/// Adds its files; true if it added messages or files of the customer's (C132).
pub(crate) type Section = fn(&Desk, &Customer, &mut Vec<ExportFile>) -> Result<bool>;

/// `quarantine.json` and `quarantine/<id>.eml`: mail from them that was held back
/// (over the size limit, the rate limit, unparsable), exactly as it arrived.
pub(crate) fn quarantine(
    desk: &Desk,
    customer: &Customer,
    files: &mut Vec<ExportFile>,
) -> Result<bool> {
    let items = desk.store.quarantine_of(&customer.id)?;
    let mut docs = Vec::new();
    for q in &items {
        let eml = format!("quarantine/{}.eml", q.id);
        add(files, eml.clone(), q.raw.clone());
        docs.push(json!({
            "id": q.id.to_string(),
            "received": q.received.rfc3339(),
            "reason": q.reason,
            "source": q.source,
            "envelope_from": q.envelope_from,
            "eml": eml,
        }));
    }
    add(files, "quarantine.json".into(), pretty(&json!(docs)));
    Ok(!items.is_empty())
}

/// `audit.json`: every audit event about them, the pseudonym the log holds mapped
/// back to them; who did it named (agents by name).
pub(crate) fn audit_trail(
    desk: &Desk,
    customer: &Customer,
    files: &mut Vec<ExportFile>,
) -> Result<bool> {
    let pseudonym = desk.store.pseudonym(&customer.id);
    let mut docs = Vec::new();
    desk.store.for_each_audit(|e| {
        if e.customer.as_ref() == Some(&pseudonym) {
            docs.push(json!({
                "audit_id": e.seq,
                "at": e.at.rfc3339(),
                "by": actor_label(&e.actor),
                "action": e.action,
                "what": action_label(&e.action),
                "targets": e.targets,
            }));
        }
        Ok(())
    })?;
    add(files, "audit.json".into(), pretty(&json!(docs)));
    Ok(false)
}

fn actor_label(actor: &str) -> String {
    if let Some(user) = actor.strip_prefix("cli:") {
        format!("an administrator at the server (user {user})")
    } else if actor == "system" || actor.starts_with("system") {
        "the helpdesk (automatic)".into()
    } else {
        format!("support agent {actor}")
    }
}

/// A few words for the actions a customer would ask about; others by their code.
fn action_label(action: &str) -> &'static str {
    match action {
        "customer.view" => "looked at your profile",
        "ticket.view" => "read a conversation",
        "customer.export" => "made a copy of your data (export)",
        "customer.export-written" => "wrote that copy to a file",
        "customer.export-mailed" => "mailed that copy to you",
        "mail.new-ticket" | "mail.reply" => "your mail arrived",
        "mail.quarantine" => "your mail was held back (quarantine)",
        "ticket.reply" => "replied to you",
        "consent.record" => "recorded a consent decision",
        "consent.view" => "looked at your consents",
        "customer.update" => "changed your profile",
        "ticket.note" => "wrote an internal note",
        a if a.starts_with("request.") => "worked on a privacy request",
        a if a.starts_with("ticket.") => "changed a ticket",
        _ => "other",
    }
}

/// Where a reply is: pending (with attempts), sent, or failed, with when.
pub(crate) fn delivery_json(m: &Message, outbox: &[OutboxEntry]) -> Value {
    if m.kind != MessageKind::Outbound {
        return Value::Null;
    }
    match &m.delivery {
        None => Value::Null,
        Some(Delivery::Sent { at }) => json!({ "state": "sent", "at": at.rfc3339() }),
        Some(Delivery::Failed { at, reason }) => {
            json!({ "state": "failed", "at": at.rfc3339(), "reason": reason })
        }
        Some(Delivery::Queued { since }) => {
            let entry = outbox
                .iter()
                .find(|e| e.ticket == m.ticket && e.seq == m.seq);
            json!({
                "state": "pending",
                "since": since.rfc3339(),
                "attempts": entry.map_or(0, |e| e.attempts),
                "next_attempt": entry.map(|e| e.next_attempt.rfc3339()),
                "last_error": entry.and_then(|e| e.last_error.clone()),
            })
        }
    }
}
