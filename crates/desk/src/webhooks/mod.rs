//! Webhooks (Part 11): admins register URLs (`sealdesk webhook add`); the desk queues
//! what happened for each hook in the same unit of work as the change itself
//! ([`Unit::webhook`](crate::write::Unit)), so a committed change always has its
//! deliveries queued and an undone one has none. The worker (`worker`) POSTs them in
//! order per hook, signed (`payload`), retrying with backoff until a 2xx; a hook that
//! keeps failing is disabled and admins are told.

mod payload;
#[cfg(test)]
mod tests;
mod worker;

pub use payload::{sign, signature_header};
pub use worker::run_webhooks;

use super::write::Hold;
use super::{Actor, ActorKind, Desk, DeskError, Result};
use sealdesk_model::{
    CustomerId, RequestSnapshot, Ticket, TicketSnapshot, Timestamp, Webhook, WebhookAttempt,
    WebhookDelivery, WebhookEvent,
};
use sealdesk_store::Tx;
use std::sync::atomic::{AtomicU64, Ordering};

/// The events `webhook add --event` accepts (a ping is only ever sent by `webhook test`).
pub const SUBSCRIBABLE: [WebhookEvent; 5] = [
    WebhookEvent::TicketCreated,
    WebhookEvent::CustomerReplied,
    WebhookEvent::TicketStatus,
    WebhookEvent::TicketAssigned,
    WebhookEvent::RequestDue,
];

/// The desk's webhook state: the next delivery id (rising, so a hook's queue is in the
/// order events were staged).
#[derive(Default)]
pub(crate) struct WebhookState {
    last_id: AtomicU64,
    /// Whether `last_id` was read from the store yet.
    seeded: parking_lot::Mutex<bool>,
}

impl WebhookState {
    fn next_id(&self, store: &sealdesk_store::Store) -> Result<u64> {
        {
            let mut seeded = self.seeded.lock();
            if !*seeded {
                // Above anything stored, and above any id handed out before this
                // start whose hook's log and queue are gone since: microseconds now.
                let micros = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as u64);
                let last = store.last_webhook_delivery_id()?.max(micros);
                self.last_id.fetch_max(last, Ordering::SeqCst);
                *seeded = true;
            }
        }
        Ok(self.last_id.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

/// A hook just made (or its secret just rotated): the secret is shown this once.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub hook: Webhook,
    pub secret: String,
}

/// Checks an admin's URL: http:// or https://, a host, no credentials, no spaces.
pub fn check_url(url: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(DeskError::Invalid(format!(
            "{why}: give a URL such as https://hooks.example.com/sealdesk"
        )))
    };
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return bad("a webhook URL starts with http:// or https://");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return bad("the webhook URL has no host");
    }
    if host.contains('@') {
        return bad(
            "the webhook URL must not hold a user or password (the secret signs each request)",
        );
    }
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("the webhook URL holds spaces or control characters, or is too long");
    }
    Ok(())
}

/// `ticket.created,ticket.status`: the events named, each once.
pub fn parse_events(list: &str) -> Result<Vec<WebhookEvent>> {
    let mut out = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let event = SUBSCRIBABLE
            .iter()
            .copied()
            .find(|e| e.as_str() == word)
            .ok_or_else(|| {
                let names: Vec<&str> = SUBSCRIBABLE.iter().map(|e| e.as_str()).collect();
                DeskError::Invalid(format!(
                    "unknown webhook event {:?}: use some of {}",
                    sealdesk_model::sanitize::line(word),
                    names.join(", ")
                ))
            })?;
        if !out.contains(&event) {
            out.push(event);
        }
    }
    if out.is_empty() {
        return Err(DeskError::Invalid(
            "say which events the webhook gets: --event ticket.created,ticket.status,…".into(),
        ));
    }
    Ok(out)
}

fn new_secret() -> String {
    let mut n = [0u8; 32];
    getrandom::fill(&mut n).expect("the OS random source failed");
    hex::encode(n)
}

/// The ticket as a payload shows it.
pub(crate) fn snapshot(t: &Ticket) -> TicketSnapshot {
    TicketSnapshot {
        number: t.number.0,
        status: t.status,
        priority: t.priority,
        assignee: t.assignee.clone(),
        created: t.created,
        updated: t.updated,
        due: t.due,
    }
}

/// What one event is about, for [`stage`].
pub(crate) struct About {
    pub ticket: Option<TicketSnapshot>,
    pub request: Option<RequestSnapshot>,
    pub customer: Option<CustomerId>,
}

/// Queues `event` for every enabled hook that wants it, in `tx` (see `Unit::webhook`).
pub(crate) fn stage(
    desk: &Desk,
    tx: &mut Tx<'_>,
    actor: &Actor,
    event: WebhookEvent,
    about: About,
) -> Result<()> {
    let hooks = desk.store.webhooks()?;
    let at = Timestamp::now();
    let agent = match actor.kind {
        ActorKind::System => None,
        _ => Some(actor.name.clone()),
    };
    for hook in hooks
        .iter()
        .filter(|h| h.enabled && h.events.contains(&event))
    {
        let delivery = WebhookDelivery {
            id: desk.webhooks.next_id(&desk.store)?,
            hook: hook.id,
            event,
            at,
            ticket: about.ticket.clone(),
            request: about.request.clone(),
            agent: agent.clone(),
            customer: about.customer,
            attempts: 0,
            next_at: at,
        };
        tx.put_webhook_delivery(&delivery)?;
    }
    Ok(())
}

impl Desk {
    fn hook_or_not_found(&self, id: u64) -> Result<Webhook> {
        self.store.webhook(id)?.ok_or_else(|| {
            DeskError::NotFound(format!(
                "no webhook {id}: `sealdesk webhook list` shows them"
            ))
        })
    }

    /// Registers a hook (admins only; audited `webhook.add`, without URL or secret).
    pub fn add_webhook(
        &self,
        actor: &Actor,
        url: &str,
        events: Vec<WebhookEvent>,
        include_text: bool,
    ) -> Result<NewSecret> {
        self.require_admin(actor, "add webhooks")?;
        check_url(url)?;
        let secret = new_secret();
        self.write(actor, &[Hold::Settings], |u| {
            let hook = Webhook {
                id: u.tx.next_webhook_id()?,
                url: url.to_string(),
                events: events.clone(),
                include_text,
                secret: secret.clone(),
                enabled: true,
                failures: 0,
                failing_since: None,
                disabled: None,
                created: Timestamp::now(),
                created_by: actor.name.clone(),
            };
            u.tx.put_webhook(&hook)?;
            let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
            u.audit(
                "webhook.add",
                vec![
                    hook.id.to_string(),
                    format!("events={}", names.join(",")),
                    format!("include_text={include_text}"),
                ],
                None,
            );
            Ok(NewSecret {
                hook,
                secret: secret.clone(),
            })
        })
    }

    /// Every hook (admins only).
    pub fn webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        self.require_admin(actor, "see webhooks")?;
        Ok(self.store.webhooks()?)
    }

    /// How many deliveries wait for `hook`.
    pub fn webhook_backlog(&self, actor: &Actor, hook: u64) -> Result<usize> {
        self.require_admin(actor, "see webhooks")?;
        Ok(self.store.webhook_queue(hook)?.len())
    }

    /// Removes a hook with its queue and log (admins only; audited `webhook.remove`).
    pub fn remove_webhook(&self, actor: &Actor, id: u64) -> Result<()> {
        self.require_admin(actor, "remove webhooks")?;
        self.write(actor, &[Hold::Settings], |u| {
            self.hook_or_not_found(id)?;
            u.tx.remove_webhook(id)?;
            u.audit("webhook.remove", vec![id.to_string()], None);
            Ok(())
        })
    }

    /// Turns a hook on again (after it was disabled): what waited is sent, from now on.
    pub fn enable_webhook(&self, actor: &Actor, id: u64) -> Result<Webhook> {
        self.require_admin(actor, "enable webhooks")?;
        let now = Timestamp::now();
        self.write(actor, &[Hold::Settings], |u| {
            let mut hook = self.hook_or_not_found(id)?;
            hook.enabled = true;
            hook.failures = 0;
            hook.failing_since = None;
            hook.disabled = None;
            u.tx.put_webhook(&hook)?;
            for mut d in u.tx.store().webhook_queue(id)? {
                d.next_at = now;
                u.tx.put_webhook_delivery(&d)?;
            }
            u.audit("webhook.enable", vec![id.to_string()], None);
            Ok(hook)
        })
    }

    /// A new secret for a hook, shown once (audited `webhook.secret`).
    pub fn rotate_webhook_secret(&self, actor: &Actor, id: u64) -> Result<NewSecret> {
        self.require_admin(actor, "rotate webhook secrets")?;
        let secret = new_secret();
        self.write(actor, &[Hold::Settings], |u| {
            let mut hook = self.hook_or_not_found(id)?;
            hook.secret = secret.clone();
            u.tx.put_webhook(&hook)?;
            u.audit("webhook.secret", vec![id.to_string()], None);
            Ok(NewSecret {
                hook,
                secret: secret.clone(),
            })
        })
    }

    /// A hook's tries, oldest first (admins only).
    pub fn webhook_log(&self, actor: &Actor, id: u64) -> Result<Vec<WebhookAttempt>> {
        self.require_admin(actor, "see webhook logs")?;
        self.hook_or_not_found(id)?;
        Ok(self.store.webhook_log(id)?)
    }

    /// Sends a `ping` to the hook now (also to a disabled one), logs the try and
    /// returns it. Nothing is queued: a failed ping is not retried.
    pub fn test_webhook(&self, actor: &Actor, id: u64) -> Result<WebhookAttempt> {
        self.require_admin(actor, "test webhooks")?;
        let hook = self.hook_or_not_found(id)?;
        let now = Timestamp::now();
        let ping = WebhookDelivery {
            id: self.webhooks.next_id(&self.store)?,
            hook: id,
            event: WebhookEvent::Ping,
            at: now,
            ticket: None,
            request: None,
            agent: Some(actor.name.clone()).filter(|_| actor.kind != ActorKind::System),
            customer: None,
            attempts: 0,
            next_at: now,
        };
        let body = payload::body(self, &hook, &ping)?;
        let timeout = std::time::Duration::from_secs(self.config().webhook.timeout_seconds);
        let attempt = worker::post(&hook, &ping, &body, timeout);
        self.write(actor, &[Hold::Settings], |u| {
            u.tx.log_webhook_attempt(id, &attempt)?;
            u.audit(
                "webhook.test",
                vec![
                    id.to_string(),
                    format!(
                        "status={}",
                        attempt.status.map_or("-".into(), |s| s.to_string())
                    ),
                ],
                None,
            );
            Ok(())
        })?;
        Ok(attempt)
    }
}
