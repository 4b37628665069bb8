//! `sealdesk ingest` (one message from an MTA pipe) and `sealdesk quarantine …`.

use super::output::{print_json, safe, Io};
use anyhow::{bail, Result};
use clap::Subcommand;
use sealdesk_desk::{Actor, Desk, Incoming};
use sealdesk_model::QuarantineId;

/// sysexits.h EX_TEMPFAIL: the MTA keeps the message and retries later.
pub(super) const EX_TEMPFAIL: i32 = 75;

#[derive(Subcommand, Debug)]
pub enum QuarantineCommand {
    /// List quarantined messages with their reasons.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one message's details (its headers; --raw for the whole message, cleaned).
    Show {
        id: QuarantineId,
        #[arg(long)]
        raw: bool,
    },
    /// File the message after all (size, loop and rate rules are skipped).
    Release { id: QuarantineId },
    /// Delete the message for good.
    Delete { id: QuarantineId },
}

/// Files one message read from stdin. Exit 0 once it is stored (as a ticket message, a
/// duplicate of one, or in quarantine with a reason).
pub(super) fn ingest(
    desk: &Desk,
    envelope_from: Option<&str>,
    envelope_to: &[String],
    keep_date: bool,
    raw: &[u8],
    io: &mut Io,
) -> Result<i32> {
    if raw.is_empty() {
        bail!("no message on stdin: pipe one RFC 5322 message into `sealdesk ingest`");
    }
    let incoming = Incoming {
        raw,
        envelope_from,
        source: "ingest",
    };
    let filed = if keep_date {
        desk.receive_mail_keeping_date(incoming, envelope_to)?
    } else {
        desk.receive_mail_to(incoming, envelope_to)?
    };
    writeln!(io.out, "{}", filed)?;
    Ok(0)
}

pub(super) fn quarantine(
    desk: &Desk,
    actor: &Actor,
    cmd: QuarantineCommand,
    io: &mut Io,
) -> Result<i32> {
    match cmd {
        QuarantineCommand::List { json } => {
            let items = desk.quarantine()?;
            if json {
                let rows: Vec<_> = items
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "id": i.id.to_string(),
                            "received": i.received.rfc3339(),
                            "reason": i.reason,
                            "source": i.source,
                            "envelope_from": i.envelope_from,
                            "size": i.raw.len(),
                        })
                    })
                    .collect();
                print_json(io.out, &rows)?;
            } else if items.is_empty() {
                writeln!(io.out, "quarantine is empty")?;
            } else {
                for i in &items {
                    writeln!(
                        io.out,
                        "{}  {}  {:>8} B  {}",
                        i.id,
                        i.received,
                        i.raw.len(),
                        safe(&i.reason)
                    )?;
                }
            }
        }
        QuarantineCommand::Show { id, raw } => {
            let item = desk.quarantine_item(actor, &id)?;
            writeln!(io.out, "id:       {}", item.id)?;
            writeln!(io.out, "received: {}", item.received)?;
            writeln!(io.out, "source:   {}", safe(&item.source))?;
            writeln!(io.out, "envelope: {}", safe(&item.envelope_from))?;
            writeln!(io.out, "reason:   {}", safe(&item.reason))?;
            let text = String::from_utf8_lossy(&item.raw);
            let shown = if raw {
                &text[..]
            } else {
                text.split("\r\n\r\n")
                    .next()
                    .unwrap_or("")
                    .split("\n\n")
                    .next()
                    .unwrap_or("")
            };
            writeln!(io.out, "\n{}", sealdesk_model::sanitize::multiline(shown))?;
        }
        QuarantineCommand::Release { id } => {
            let filed = desk.release_quarantine(actor, &id)?;
            writeln!(io.out, "released {id}: {}", filed)?;
        }
        QuarantineCommand::Delete { id } => {
            desk.delete_quarantine(actor, &id)?;
            writeln!(io.out, "deleted {id}")?;
        }
    }
    Ok(0)
}
