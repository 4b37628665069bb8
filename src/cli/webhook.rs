//! `sealdesk webhook add|list|remove|log|enable|test|secret` (Part 11): admins tell
//! other systems what happens on the desk (see docs/webhooks.md).

use super::output::{print_json, safe, Io};
use anyhow::Result;
use clap::Subcommand;
use sealdesk_desk::webhooks::{parse_events, NewSecret};
use sealdesk_desk::{Actor, Desk};
use sealdesk_model::{Webhook, WebhookAttempt};
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Register a URL (http:// or https://) for some events; prints its secret once.
    Add {
        url: String,
        /// Comma-separated: ticket.created, ticket.customer_replied, ticket.status,
        /// ticket.assigned, request.due.
        #[arg(long, value_name = "EVENTS")]
        event: String,
        /// Put customer text in payloads: the subject, the customer's name and address
        /// (default: pseudonymous, numbers, statuses, times and agents only).
        #[arg(long)]
        include_text: bool,
    },
    /// Every webhook, with its state and backlog.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a webhook with what waits for it and its log.
    Remove { id: u64 },
    /// A webhook's delivery log: time, event, try, HTTP status or error, latency.
    Log {
        id: u64,
        #[arg(long)]
        json: bool,
    },
    /// Turn a webhook on again after it was disabled; what waited is sent.
    Enable { id: u64 },
    /// Send a ping now and show how it went.
    Test { id: u64 },
    /// With --rotate: a new secret, printed once (the old one stops signing).
    Secret {
        id: u64,
        #[arg(long)]
        rotate: bool,
    },
}

fn state(h: &Webhook) -> String {
    match (&h.disabled, h.enabled) {
        (Some((at, why)), false) => format!("disabled {} ({})", at.rfc3339(), safe(why)),
        (_, false) => "disabled".into(),
        _ if h.failures > 0 => format!("failing ({} tries)", h.failures),
        _ => "enabled".into(),
    }
}

fn events(h: &Webhook) -> String {
    let names: Vec<&str> = h.events.iter().map(|e| e.as_str()).collect();
    names.join(",")
}

fn attempt_json(a: &WebhookAttempt) -> serde_json::Value {
    json!({
        "at": a.at.rfc3339(),
        "delivery": a.delivery.to_string(),
        "event": a.event.as_str(),
        "attempt": a.attempt,
        "status": a.status,
        "error": a.error,
        "latency_ms": a.latency_ms,
        "ok": a.ok(),
    })
}

fn attempt_line(a: &WebhookAttempt) -> String {
    let outcome = match (a.status, &a.error) {
        (Some(s), None) => format!("HTTP {s}"),
        (_, Some(e)) => safe(e).into_owned(),
        (None, None) => "-".into(),
    };
    format!(
        "{}\t{}\ttry {}\t{}\t{} ms\tdelivery {}",
        a.at.rfc3339(),
        a.event,
        a.attempt,
        outcome,
        a.latency_ms,
        a.delivery
    )
}

fn print_secret(io: &mut Io, made: &NewSecret, what: &str) -> Result<()> {
    writeln!(
        io.out,
        "webhook {} {what}: {}\tevents {}\ttext {}",
        made.hook.id,
        safe(&made.hook.url),
        events(&made.hook),
        if made.hook.include_text {
            "included"
        } else {
            "none (pseudonymous)"
        }
    )?;
    writeln!(io.out, "secret: {}", made.secret)?;
    writeln!(
        io.out,
        "keep it now, it is not shown again; check Sealdesk-Signature with it (docs/webhooks.md)"
    )?;
    Ok(())
}

pub(super) fn run(desk: &Desk, actor: &Actor, cmd: WebhookCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        WebhookCommand::Add {
            url,
            event,
            include_text,
        } => {
            let made = desk.add_webhook(actor, &url, parse_events(&event)?, include_text)?;
            print_secret(io, &made, "added")?;
        }
        WebhookCommand::List { json } => {
            let hooks = desk.webhooks(actor)?;
            if json {
                let mut rows = Vec::new();
                for h in &hooks {
                    rows.push(json!({
                        "id": h.id,
                        "url": h.url,
                        "events": h.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
                        "include_text": h.include_text,
                        "enabled": h.enabled,
                        "failures": h.failures,
                        "disabled_at": h.disabled.as_ref().map(|(at, _)| at.rfc3339()),
                        "disabled_why": h.disabled.as_ref().map(|(_, why)| why),
                        "queued": desk.webhook_backlog(actor, h.id)?,
                        "created": h.created.rfc3339(),
                        "created_by": h.created_by,
                    }));
                }
                print_json(&mut io.out, &rows)?;
                return Ok(0);
            }
            if hooks.is_empty() {
                writeln!(
                    io.out,
                    "no webhooks: `sealdesk webhook add URL --event ticket.created,…` adds one"
                )?;
            }
            for h in &hooks {
                writeln!(
                    io.out,
                    "{}\t{}\t{}\t{}\tqueued {}",
                    h.id,
                    safe(&h.url),
                    events(h),
                    state(h),
                    desk.webhook_backlog(actor, h.id)?
                )?;
            }
        }
        WebhookCommand::Remove { id } => {
            desk.remove_webhook(actor, id)?;
            writeln!(io.out, "webhook {id} removed, with its queue and log")?;
        }
        WebhookCommand::Log { id, json } => {
            let log = desk.webhook_log(actor, id)?;
            if json {
                let rows: Vec<_> = log.iter().map(attempt_json).collect();
                print_json(&mut io.out, &rows)?;
                return Ok(0);
            }
            if log.is_empty() {
                writeln!(io.out, "webhook {id} has tried nothing yet")?;
            }
            for a in &log {
                writeln!(io.out, "{}", attempt_line(a))?;
            }
        }
        WebhookCommand::Enable { id } => {
            desk.enable_webhook(actor, id)?;
            writeln!(
                io.out,
                "webhook {id} enabled: what waited for it is sent now"
            )?;
        }
        WebhookCommand::Test { id } => {
            let a = desk.test_webhook(actor, id)?;
            writeln!(io.out, "{}", attempt_line(&a))?;
            if !a.ok() {
                return Ok(1);
            }
        }
        WebhookCommand::Secret { id, rotate } => {
            if !rotate {
                anyhow::bail!(
                    "a webhook's secret is shown only once: `sealdesk webhook secret {id} --rotate` makes a new one"
                );
            }
            let made = desk.rotate_webhook_secret(actor, id)?;
            print_secret(io, &made, "has a new secret")?;
        }
    }
    Ok(0)
}
