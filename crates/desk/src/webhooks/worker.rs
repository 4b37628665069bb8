//! The delivery worker `serve` runs: POSTs each hook's queue in order, one delivery at a
//! time, taking one off the queue only after a 2xx; a failure waits (backoff) and
//! blocks the deliveries behind it, so a receiver sees events in the order they were
//! queued. Also queues `request.due` for privacy requests that became due.

use super::super::write::Hold;
use super::super::{Actor, Desk, Result};
use super::payload;
use crate::notify::{Event, Why};
use sealdesk_api::{is_finished, urgency, Urgency};
use sealdesk_model::{
    RequestSnapshot, TicketNo, Timestamp, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the queue is looked at besides after each change.
const TICK: Duration = Duration::from_secs(1);

/// Deliveries read from a hook's queue at a time.
const BATCH: usize = 100;

/// How often privacy requests are checked for `request.due`.
const REQUEST_CHECK: Duration = Duration::from_secs(60);

/// Runs until `shutdown` resolves.
pub async fn run_webhooks(desk: Arc<Desk>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut changes = desk.subscribe();
    let mut requests_checked: Option<Instant> = None;
    loop {
        let check_requests = requests_checked.is_none_or(|t| t.elapsed() >= REQUEST_CHECK);
        if check_requests {
            requests_checked = Some(Instant::now());
        }
        let d = Arc::clone(&desk);
        let done = tokio::task::spawn_blocking(move || -> Result<()> {
            if check_requests {
                d.queue_due_requests(Timestamp::now())?;
            }
            d.deliver_webhooks(Timestamp::now())?;
            Ok(())
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("webhooks: {e}"),
            Err(e) => tracing::warn!("webhooks: the delivery task failed: {e}"),
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(TICK) => {}
            _ = changes.recv() => {
                // A burst of changes is one look at the queues.
                while changes.try_recv().is_ok() {}
            }
        }
    }
}

/// The wait before try `attempts + 1`: base × 1, 6, 30, 180, 720, then 2160 (10 s,
/// 1 min, 5 min, 30 min, 2 h, 6 h at base 10).
pub(super) fn backoff(base: u64, attempts: u32) -> u64 {
    const FACTORS: [u64; 6] = [1, 6, 30, 180, 720, 2160];
    let i = (attempts.max(1) as usize - 1).min(FACTORS.len() - 1);
    base.saturating_mul(FACTORS[i])
}

/// POSTs `body` to the hook, signed; never fails: the outcome is the attempt.
pub(super) fn post(
    hook: &Webhook,
    d: &WebhookDelivery,
    body: &[u8],
    timeout: Duration,
) -> WebhookAttempt {
    let started = Instant::now();
    let now = Timestamp::now();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // A redirect would carry the signed body elsewhere.
        .max_redirects(0)
        .user_agent(concat!("sealdesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let sent = agent
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header(
            "Sealdesk-Signature",
            payload::signature_header(&hook.secret, now.0, body),
        )
        .header("Sealdesk-Event", d.event.as_str())
        .header("Sealdesk-Delivery", d.id.to_string())
        .send(body);
    let (status, error) = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
            (Some(status), error)
        }
        Err(e) => {
            let text = e.to_string();
            let short: String = text.chars().take(200).collect();
            (
                None,
                Some(sealdesk_model::sanitize::line(&short).into_owned()),
            )
        }
    };
    WebhookAttempt {
        at: now,
        delivery: d.id,
        event: d.event,
        attempt: d.attempts + 1,
        status,
        error,
        latency_ms: started.elapsed().as_millis() as u64,
    }
}

impl Desk {
    /// Sends what is due of every enabled hook's queue, in order per hook; the hooks
    /// side by side, so a slow receiver holds up only its own deliveries.
    pub fn deliver_webhooks(&self, now: Timestamp) -> Result<usize> {
        let mut hooks = Vec::new();
        for hook in self.store.webhooks()?.into_iter().filter(|h| h.enabled) {
            let head = self.store.webhook_queue_first(hook.id, 1)?;
            if head.first().is_some_and(|d| d.next_at <= now) {
                hooks.push(hook);
            }
        }
        let results: Vec<Result<usize>> = std::thread::scope(|s| {
            let running: Vec<_> = hooks
                .iter()
                .map(|hook| s.spawn(move || self.deliver_hook(hook, now)))
                .collect();
            running
                .into_iter()
                .map(|t| {
                    t.join().unwrap_or_else(|_| {
                        tracing::warn!("webhooks: a delivery thread panicked");
                        Ok(0)
                    })
                })
                .collect()
        });
        let mut sent = 0;
        for r in results {
            sent += r?;
        }
        Ok(sent)
    }

    /// Sends what is due of `hook`'s queue, oldest first, up to the first failure.
    fn deliver_hook(&self, hook: &Webhook, now: Timestamp) -> Result<usize> {
        let timeout = Duration::from_secs(self.config().webhook.timeout_seconds);
        let mut sent = 0;
        loop {
            let batch = self.store.webhook_queue_first(hook.id, BATCH)?;
            let full = batch.len() == BATCH;
            for d in batch {
                if d.next_at > now {
                    return Ok(sent);
                }
                let body = payload::body(self, hook, &d)?;
                let attempt = post(hook, &d, &body, timeout);
                let ok = attempt.ok();
                if !self.record_attempt(hook.id, d, attempt)? || !ok {
                    return Ok(sent);
                }
                sent += 1;
            }
            if !full {
                return Ok(sent);
            }
        }
    }

    /// Records a try: a 2xx takes the delivery off the queue, a failure sets its next
    /// try and counts against the hook, which is disabled at `webhook.max_failures`
    /// (audited `webhook.disable`, admins notified). False if the hook went meanwhile.
    fn record_attempt(
        &self,
        hook: u64,
        mut d: WebhookDelivery,
        attempt: WebhookAttempt,
    ) -> Result<bool> {
        let config = self.config().webhook;
        let actor = Actor::system("webhooks");
        let disabled = self.write(&actor, &[Hold::Settings], |u| {
            let Some(mut h) = u.tx.store().webhook(hook)? else {
                return Ok(None);
            };
            u.tx.log_webhook_attempt(hook, &attempt)?;
            if attempt.ok() {
                u.tx.remove_webhook_delivery(hook, d.id);
                if h.failures > 0 {
                    h.failures = 0;
                    h.failing_since = None;
                    u.tx.put_webhook(&h)?;
                }
                return Ok(Some(false));
            }
            d.attempts = attempt.attempt;
            d.next_at =
                Timestamp(attempt.at.0 + backoff(config.retry_base_seconds, d.attempts) as i64);
            u.tx.put_webhook_delivery(&d)?;
            h.failures += 1;
            h.failing_since.get_or_insert(attempt.at);
            let give_up = h.failures >= config.max_failures;
            if give_up {
                h.enabled = false;
                let why = format!(
                    "{} failed tries in a row, the last: {}",
                    h.failures,
                    attempt.error.as_deref().unwrap_or("no answer")
                );
                h.disabled = Some((attempt.at, why));
                u.audit(
                    "webhook.disable",
                    vec![hook.to_string(), format!("failures={}", h.failures)],
                    None,
                );
            }
            u.tx.put_webhook(&h)?;
            Ok(Some(give_up))
        })?;
        match disabled {
            None => Ok(false),
            Some(true) => {
                tracing::warn!(
                    hook,
                    "webhook {hook} disabled after {} failed tries in a row: `sealdesk webhook log {hook}`, then `sealdesk webhook enable {hook}`",
                    config.max_failures
                );
                self.notify(Event::new(TicketNo(0), Why::WebhookDisabled, None));
                Ok(true)
            }
            Some(false) => Ok(true),
        }
    }

    /// Queues `request.due` for each open privacy request that became due soon or
    /// overdue, once per request and urgency.
    pub fn queue_due_requests(&self, now: Timestamp) -> Result<usize> {
        let wanted = self
            .store
            .webhooks()?
            .iter()
            .any(|h| h.enabled && h.events.contains(&WebhookEvent::RequestDue));
        if !wanted {
            return Ok(0);
        }
        let actor = Actor::system("privacy deadlines");
        let mut queued = 0;
        for r in self
            .store
            .requests()?
            .into_iter()
            .filter(|r| !is_finished(r))
        {
            let word = match urgency(&r, now) {
                Urgency::Overdue => "overdue",
                Urgency::DueSoon => "due_soon",
                _ => continue,
            };
            if self.store.request_due_told(&r.id, word)? {
                continue;
            }
            self.write(&actor, &[Hold::Customer(r.customer)], |u| {
                if u.tx.store().request_due_told(&r.id, word)? {
                    return Ok(());
                }
                u.tx.mark_request_due_told(&r.id, word)?;
                let request = RequestSnapshot {
                    id: r.id,
                    kind: r.kind.as_str().to_string(),
                    status: r.status.as_str().to_string(),
                    due: r.due,
                    urgency: word.to_string(),
                };
                let ticket = match r.ticket {
                    Some(n) => u.tx.store().ticket(n)?.map(|t| super::snapshot(&t)),
                    None => None,
                };
                u.webhook(
                    WebhookEvent::RequestDue,
                    super::About {
                        ticket,
                        request: Some(request),
                        customer: Some(r.customer),
                    },
                )
            })?;
            queued += 1;
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_is_capped() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(10, n)).collect();
        assert_eq!(waits, vec![10, 60, 300, 1800, 7200, 21600, 21600, 21600]);
    }
}
