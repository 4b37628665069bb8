//! Webhooks (Part 11), three trees sealed with the master key; no key holds customer
//! data (hook ids, delivery ids, request ids):
//!
//! - `webhooks`: `h` ID → the hook ([`Webhook`]); `r` REQUEST 0 URGENCY → a privacy
//!   request's `request.due` was queued (once per request and urgency);
//! - `webhook_queue`: HOOK DELIVERY (both big-endian u64) → what is still to be sent
//!   ([`WebhookDelivery`]), so a hook's deliveries are read in order;
//! - `webhook_log`: HOOK SEQ → each try ([`WebhookAttempt`]), the last
//!   [`WEBHOOK_LOG_KEPT`] per hook.

use super::{Result, Store, Tx};
use crate::envelope::KeySlot;
use sealdesk_model::{RequestId, Webhook, WebhookAttempt, WebhookDelivery};

const HOOK: u8 = b'h';
const REQUEST_DUE: u8 = b'r';

/// Tries kept in each hook's log; older ones go as new ones come.
pub const WEBHOOK_LOG_KEPT: u64 = 500;

fn hook_key(id: u64) -> Vec<u8> {
    let mut k = vec![HOOK];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

fn pair_key(a: u64, b: u64) -> Vec<u8> {
    let mut k = a.to_be_bytes().to_vec();
    k.extend_from_slice(&b.to_be_bytes());
    k
}

fn request_due_key(request: &RequestId, urgency: &str) -> Vec<u8> {
    let mut k = vec![REQUEST_DUE];
    k.extend_from_slice(request.to_string().as_bytes());
    k.push(0);
    k.extend_from_slice(urgency.as_bytes());
    k
}

fn tail_u64(key: &[u8]) -> Option<u64> {
    key.len()
        .checked_sub(8)
        .and_then(|at| key[at..].try_into().ok())
        .map(u64::from_be_bytes)
}

impl Store {
    /// Every hook, by id.
    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        self.scan::<Webhook>(&self.t.webhooks, &[HOOK])?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    pub fn webhook(&self, id: u64) -> Result<Option<Webhook>> {
        self.get(&self.t.webhooks, &hook_key(id))
    }

    /// What is queued for `hook`, oldest first.
    pub fn webhook_queue(&self, hook: u64) -> Result<Vec<WebhookDelivery>> {
        self.scan::<WebhookDelivery>(&self.t.webhook_queue, &hook.to_be_bytes())?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// The first `n` deliveries queued for `hook` (a long queue is not read whole).
    pub fn webhook_queue_first(&self, hook: u64, n: usize) -> Result<Vec<WebhookDelivery>> {
        let t = &self.t.webhook_queue;
        let mut out = Vec::new();
        for item in t.tree.scan_prefix(hook.to_be_bytes()).take(n) {
            let (k, v) = item?;
            out.push(self.decode(t, &k, &v)?);
        }
        Ok(out)
    }

    /// The highest delivery id ever queued and still queued or logged (0: none): new
    /// ids start above it.
    pub fn last_webhook_delivery_id(&self) -> Result<u64> {
        let mut last = 0;
        for item in self.t.webhook_queue.tree.scan_prefix([]) {
            let (k, _) = item?;
            last = last.max(tail_u64(&k).unwrap_or(0));
        }
        for (_, v) in self.scan::<WebhookAttempt>(&self.t.webhook_log, &[])? {
            last = last.max(v?.delivery);
        }
        Ok(last)
    }

    /// `hook`'s log, oldest first.
    pub fn webhook_log(&self, hook: u64) -> Result<Vec<WebhookAttempt>> {
        self.scan::<WebhookAttempt>(&self.t.webhook_log, &hook.to_be_bytes())?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// Whether `request.due` was queued for `request` at `urgency` already.
    pub fn request_due_told(&self, request: &RequestId, urgency: &str) -> Result<bool> {
        Ok(self
            .t
            .webhooks
            .tree
            .contains_key(request_due_key(request, urgency))?)
    }
}

impl Tx<'_> {
    /// The next hook id (one above the highest, counting this unit's).
    pub fn next_webhook_id(&self) -> Result<u64> {
        let store = self.store;
        let last = self.last_key_under(&store.t.webhooks, &[HOOK])?;
        Ok(last.as_deref().and_then(tail_u64).unwrap_or(0) + 1)
    }

    pub fn put_webhook(&mut self, hook: &Webhook) -> Result<()> {
        let store = self.store;
        self.put(&store.t.webhooks, &hook_key(hook.id), KeySlot::Master, hook)
    }

    /// Removes the hook with its queue and log.
    pub fn remove_webhook(&mut self, id: u64) -> Result<()> {
        let store = self.store;
        self.remove(&store.t.webhooks, &hook_key(id));
        for table in [&store.t.webhook_queue, &store.t.webhook_log] {
            for item in table.tree.scan_prefix(id.to_be_bytes()) {
                let (k, _) = item?;
                self.remove(table, &k);
            }
        }
        Ok(())
    }

    /// Queues (or, after a failed try, re-stores) a delivery.
    pub fn put_webhook_delivery(&mut self, d: &WebhookDelivery) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.webhook_queue,
            &pair_key(d.hook, d.id),
            KeySlot::Master,
            d,
        )
    }

    /// Takes a delivery off the queue (sent).
    pub fn remove_webhook_delivery(&mut self, hook: u64, id: u64) {
        let store = self.store;
        self.remove(&store.t.webhook_queue, &pair_key(hook, id));
    }

    /// Appends a try to `hook`'s log; the oldest beyond [`WEBHOOK_LOG_KEPT`] goes.
    pub fn log_webhook_attempt(&mut self, hook: u64, attempt: &WebhookAttempt) -> Result<()> {
        let store = self.store;
        let t = &store.t.webhook_log;
        let prefix = hook.to_be_bytes();
        let seq = self
            .last_key_under(t, &prefix)?
            .as_deref()
            .and_then(tail_u64)
            .unwrap_or(0)
            + 1;
        self.put(t, &pair_key(hook, seq), KeySlot::Master, attempt)?;
        if seq > WEBHOOK_LOG_KEPT {
            self.remove(t, &pair_key(hook, seq - WEBHOOK_LOG_KEPT));
        }
        Ok(())
    }

    /// Records that `request.due` was queued for `request` at `urgency`.
    pub fn mark_request_due_told(&mut self, request: &RequestId, urgency: &str) -> Result<()> {
        let store = self.store;
        self.put(
            &store.t.webhooks,
            &request_due_key(request, urgency),
            KeySlot::Master,
            &(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{new_store, open, scratch};
    use sealdesk_model::{Timestamp, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent};

    fn hook(id: u64) -> Webhook {
        Webhook {
            id,
            url: "http://127.0.0.1:9/hook".into(),
            events: vec![WebhookEvent::TicketCreated],
            include_text: false,
            secret: "00".repeat(32),
            enabled: true,
            failures: 0,
            failing_since: None,
            disabled: None,
            created: Timestamp(1),
            created_by: "admin".into(),
        }
    }

    fn delivery(hook: u64, id: u64) -> WebhookDelivery {
        WebhookDelivery {
            id,
            hook,
            event: WebhookEvent::TicketCreated,
            at: Timestamp(2),
            ticket: None,
            request: None,
            agent: None,
            customer: None,
            attempts: 0,
            next_at: Timestamp(2),
        }
    }

    #[test]
    fn hooks_queue_and_log_survive_a_reopen_in_order_and_go_with_their_hook() {
        let (_dir, paths) = scratch();
        {
            let store = new_store(&paths);
            let mut tx = store.begin();
            assert_eq!(tx.next_webhook_id().unwrap(), 1);
            tx.put_webhook(&hook(1)).unwrap();
            assert_eq!(tx.next_webhook_id().unwrap(), 2);
            tx.put_webhook(&hook(2)).unwrap();
            for id in [300, 5, 70] {
                tx.put_webhook_delivery(&delivery(1, id)).unwrap();
            }
            tx.put_webhook_delivery(&delivery(2, 9)).unwrap();
            let attempt = WebhookAttempt {
                at: Timestamp(3),
                delivery: 400,
                event: WebhookEvent::Ping,
                attempt: 1,
                status: Some(500),
                error: None,
                latency_ms: 4,
            };
            tx.log_webhook_attempt(1, &attempt).unwrap();
            let commit = store.commit(tx).unwrap().0;
            store.wait_durable(commit).unwrap();
        }
        let store = open(&paths);
        assert_eq!(store.webhooks().unwrap().len(), 2);
        let ids: Vec<u64> = store
            .webhook_queue(1)
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, vec![5, 70, 300]);
        let first: Vec<u64> = store
            .webhook_queue_first(1, 2)
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(first, vec![5, 70]);
        assert_eq!(store.last_webhook_delivery_id().unwrap(), 400);
        assert_eq!(store.webhook_log(1).unwrap().len(), 1);
        let mut tx = store.begin();
        tx.remove_webhook(1).unwrap();
        store.commit(tx).unwrap();
        assert!(store.webhook(1).unwrap().is_none());
        assert!(store.webhook_queue(1).unwrap().is_empty());
        assert!(store.webhook_log(1).unwrap().is_empty());
        assert_eq!(store.webhook_queue(2).unwrap().len(), 1);
    }
}
