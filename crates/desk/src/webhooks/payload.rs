//! What a hook receives: the JSON body (pseudonymous unless the hook was added with
//! `--include-text`) and its signature, `Sealdesk-Signature: t=UNIX,v1=HEX` with HEX
//! the HMAC-SHA256 under the hook's secret of `UNIX.BODY` (as Stripe signs).

use super::super::{Desk, Result};
use hmac::{Hmac, KeyInit, Mac};
use sealdesk_model::{Personal, TicketSnapshot, Webhook, WebhookDelivery};
use serde_json::{json, Value};
use sha2::Sha256;

/// HMAC-SHA256 of `t.body` under `secret` (the hex text, used as given), as hex.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Sealdesk-Signature` header's value for `body` sent at `t`.
pub fn signature_header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(secret, t, body))
}

fn ticket_json(t: &TicketSnapshot) -> Value {
    json!({
        "number": t.number,
        "status": t.status.as_str(),
        "priority": t.priority.as_str(),
        "assignee": t.assignee,
        "created": t.created.rfc3339(),
        "updated": t.updated.rfc3339(),
        "due": t.due.map(|d| d.rfc3339()),
    })
}

/// The body of `d` for `hook`. Customer text, for a hook that wants it, is read now:
/// what was erased since the event is not sent.
pub(super) fn body(desk: &Desk, hook: &Webhook, d: &WebhookDelivery) -> Result<Vec<u8>> {
    let mut v = json!({
        "id": d.id.to_string(),
        "event": d.event.as_str(),
        "at": d.at.rfc3339(),
        "ticket": d.ticket.as_ref().map(ticket_json),
        "agent": d.agent,
    });
    if let Some(r) = &d.request {
        v["request"] = json!({
            "id": r.id.to_string(),
            "kind": r.kind,
            "status": r.status,
            "due": r.due.rfc3339(),
            "urgency": r.urgency,
        });
    }
    if hook.include_text {
        if let Some(t) = &d.ticket {
            let subject = match desk.store.ticket(sealdesk_model::TicketNo(t.number)) {
                Ok(Some(t)) => match t.subject {
                    Personal::Text(s) => Some(s),
                    Personal::Erased => None,
                },
                _ => None,
            };
            v["ticket"]["subject"] = json!(subject);
        }
        if let Some(id) = &d.customer {
            // An erased customer reads as an error: no text then.
            if let Ok(Some(c)) = desk.store.customer(id) {
                v["customer"] = json!({"name": c.name, "email": c.primary_email()});
            } else {
                v["customer"] = Value::Null;
            }
        }
    }
    Ok(serde_json::to_vec(&v).expect("JSON values always serialise"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Computed independently: python3 hmac.new(b"key", b'1700000000.{"a":1}', sha256).
        let s = sign("key", 1700000000, b"{\"a\":1}");
        assert_eq!(
            s,
            "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
        assert_eq!(
            signature_header("key", 1700000000, b"{\"a\":1}"),
            format!("t=1700000000,v1={s}")
        );
        assert_ne!(s, sign("key", 1700000001, b"{\"a\":1}"));
        assert_ne!(s, sign("other", 1700000000, b"{\"a\":1}"));
    }
}
