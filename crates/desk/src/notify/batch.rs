//! Notification mail: one mail per agent per `notify.batch_window` at most, holding
//! whatever was queued for them meanwhile, through the outbox like every other mail.
//! A notification waits until it is a window old (so what follows it within the window
//! goes in the same mail) and until a window has passed since that agent's last mail.
//!
//! The mail holds no customer text: per item the ticket number, its status, why it was
//! sent, who caused it (an agent's name) and the deep link; the subject only with
//! `notify.include_subject = true`, sanitized.

use super::super::write::Hold;
use super::super::{Actor, Change, Desk, Result};
use sealdesk_model::{ComposedMail, Notification, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the notifier looks at its queue when nothing wakes it.
const TICK: Duration = Duration::from_secs(1);
/// How often due times are compared with the clock.
const DUE_CHECK: Duration = Duration::from_secs(15);

/// The notifier of a serving desk: mails batches as they fall due and checks due times,
/// until `shutdown`. Woken early by each new notification.
pub async fn run_notifier(desk: Arc<Desk>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut changes = desk.subscribe();
    let mut last_due_check: Option<std::time::Instant> = None;
    loop {
        let check_due = last_due_check.is_none_or(|t| t.elapsed() >= DUE_CHECK);
        if check_due {
            last_due_check = Some(std::time::Instant::now());
        }
        let d = Arc::clone(&desk);
        let done = tokio::task::spawn_blocking(move || -> Result<()> {
            let now = Timestamp::now();
            if check_due {
                d.check_due_times(now)?;
            }
            d.send_notification_mail(now)?;
            Ok(())
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!("notifications: {e}");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(TICK) => {}
            _ = notified(&mut changes) => {}
        }
    }
}

/// Waits for a new notification (or for changes missed); every other change (a flood
/// of drafts being typed, presence) is passed over without a look at the store.
async fn notified(changes: &mut tokio::sync::broadcast::Receiver<Change>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(Change::Notified(_)) | Err(RecvError::Lagged(_)) => return,
            Ok(_) => {}
            // No desk, no notifications: the tick and the shutdown are left.
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

impl Desk {
    /// Queues the notification mails due at `now`; returns how many.
    pub fn send_notification_mail(&self, now: Timestamp) -> Result<usize> {
        let pending = self.store.pending_notifications()?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut by_agent: BTreeMap<String, Vec<Notification>> = BTreeMap::new();
        for (agent, n) in pending {
            by_agent.entry(agent).or_default().push(n);
        }
        let config = self.config();
        let window = config.notify.batch_window as i64;
        let mut sent = 0;
        for (agent, items) in by_agent {
            let to = match (&config.mail.from, config.agent_email.get(&agent)) {
                (Some(_), Some(to)) => Some(to.clone()),
                _ => None,
            };
            if let Some(to) = &to {
                let oldest = items.iter().map(|n| n.at.0).min().unwrap_or(now.0);
                let last = self.store.last_notification_mail(&agent)?;
                if now.0 < oldest + window || last.is_some_and(|l| now.0 < l.0 + window) {
                    continue;
                }
                let mail = ComposedMail {
                    to: to.clone(),
                    subject: format!(
                        "sealdesk: {} notification{}",
                        items.len(),
                        if items.len() == 1 { "" } else { "s" }
                    ),
                    message_id: sealdesk_mail::new_message_id(&config.mail.message_id_domain()),
                    body: self.notification_body(&agent, &items)?,
                    attachment: None,
                };
                self.write(&Actor::system("notifications"), &[Hold::Settings], |u| {
                    self.queue_composed(u, mail.clone())?;
                    for n in &items {
                        u.tx.remove_pending_notification(&agent, n.seq);
                    }
                    u.tx.put_last_notification_mail(&agent, now)?;
                    u.audit(
                        "notify.mail",
                        vec![agent.clone(), format!("items={}", items.len())],
                        None,
                    );
                    // Wakes the outbox at once.
                    u.announce(Change::Notified(agent.clone()));
                    Ok(())
                })?;
                sent += 1;
            } else {
                // No address (or no `mail.from`): the TUI list is where they see it.
                self.write(&Actor::system("notifications"), &[Hold::Settings], |u| {
                    for n in &items {
                        u.tx.remove_pending_notification(&agent, n.seq);
                    }
                    Ok(())
                })?;
            }
        }
        Ok(sent)
    }

    /// The mail's text for `agent`: one block per notification, oldest first.
    fn notification_body(&self, agent: &str, items: &[Notification]) -> Result<String> {
        let include_subject = self.config().notify.include_subject;
        let mut body = String::from("What happened on your desk:\n");
        for n in items {
            // Part 11: about a webhook, not a ticket.
            if n.why == sealdesk_model::NotifyWhy::WebhookDisabled {
                body.push_str(&format!("\n{}  {}\n", n.why.describe(), n.at.rfc3339()));
                continue;
            }
            let ticket = self.store.ticket(n.ticket)?;
            let status = ticket.as_ref().map(|t| t.status.as_str()).unwrap_or("gone");
            let by = match &n.cause {
                Some(c) => format!(" (by {})", sealdesk_model::sanitize::line(c)),
                None => String::new(),
            };
            body.push_str(&format!(
                "\n{}  {}  {}{}  {}\n",
                n.ticket,
                status,
                n.why.describe(),
                by,
                n.at.rfc3339()
            ));
            if include_subject {
                if let Some(t) = &ticket {
                    body.push_str(&format!(
                        "  subject: {}\n",
                        sealdesk_model::sanitize::line(t.subject.as_str())
                    ));
                }
            }
            body.push_str(&format!("  {}\n", self.deep_link(agent, n.ticket)));
        }
        body.push_str(
            "\nChoose what you are told about in the desk (O), or ask an admin: \
             sealdesk agent set NAME --notify …\n",
        );
        Ok(body)
    }
}
