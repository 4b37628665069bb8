use super::output::{fit, print_json, safe, safe_block, Io};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use sealdesk_desk::{
    links_line, Actor, Desk, NewTicket, ReplyFile, ThreadEntry, TicketFilter,
    ATTACHMENTS_PER_DRAFT, ATTACHMENT_MAX,
};
use sealdesk_model::{mailbox_address, LinkKind, Parties, Status, Ticket, TicketNo, Timestamp};
use std::io::Read;

#[derive(Subcommand, Debug)]
pub enum TicketCommand {
    /// Open a ticket on a customer's behalf; the body comes from --body or stdin.
    Create {
        #[arg(long)]
        from: String,
        /// The customer's display name, if known.
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        body: Option<String>,
    },
    /// List tickets.
    List {
        /// Only tickets with this status: new, open, pending, solved, closed.
        #[arg(long)]
        status: Option<Status>,
        #[arg(long)]
        json: bool,
    },
    /// Show a ticket and its whole thread.
    Show {
        /// Ticket number, e.g. 12 or #12.
        number: TicketNo,
        #[arg(long)]
        json: bool,
    },
    /// Reply to the customer (queued and sent by the server); the body comes from
    /// --body or stdin.
    Reply {
        number: TicketNo,
        #[arg(long)]
        body: Option<String>,
        /// An internal note instead of a reply: never sent.
        #[arg(long)]
        note: bool,
        /// Admins: send even though the customer's processing is restricted; the
        /// reason is audited as an override.
        #[arg(long = "override", value_name = "REASON")]
        override_reason: Option<String>,
        /// Send to these instead of the requester (repeatable or comma-separated).
        /// Without --to/--cc/--bcc: To the requester, Cc the other participants.
        #[arg(
            long,
            value_name = "ADDR",
            value_delimiter = ',',
            conflicts_with = "note"
        )]
        to: Vec<String>,
        /// Also to these, in Cc; they become participants of the ticket.
        #[arg(
            long,
            value_name = "ADDR",
            value_delimiter = ',',
            conflicts_with = "note"
        )]
        cc: Vec<String>,
        /// Also to these, unseen by the others (not participants).
        #[arg(
            long,
            value_name = "ADDR",
            value_delimiter = ',',
            conflicts_with = "note"
        )]
        bcc: Vec<String>,
        /// Send this file with the reply (repeatable; read by this command, also when
        /// a running server sends the reply; at most 20 files of 20 MiB).
        #[arg(long = "attach", value_name = "FILE", conflicts_with = "note")]
        attach: Vec<std::path::PathBuf>,
    },
    /// Link two tickets (both show the link); linking them again replaces it.
    Link {
        number: TicketNo,
        /// The other ticket.
        #[arg(long)]
        to: TicketNo,
        /// related, or duplicate: NUMBER is a duplicate of --to.
        #[arg(long = "as", value_enum, default_value = "related")]
        kind: LinkAs,
    },
    /// Take away the link between two tickets, at both ends.
    Unlink {
        number: TicketNo,
        #[arg(long)]
        from: TicketNo,
    },
    /// Split one message off into a new ticket for the same customer, linked to this
    /// one as related; audited.
    Split {
        number: TicketNo,
        /// The message's position in the thread (see `ticket show`).
        #[arg(long)]
        message: u32,
    },
    /// Change a ticket: snooze it, set its due time (more fields to come). Audited.
    Set {
        number: TicketNo,
        /// Pending until then, when it wakes by itself: 2d, 4h, "mon 9:00",
        /// "2026-12-03 10:00" (in sla.zone); "-" wakes it now.
        #[arg(long, allow_hyphen_values = true)]
        snooze: Option<String>,
        /// Due then, whatever the SLA policy says: 4h, 2d, "2026-12-03 10:00"; "-"
        /// gives the due time back to the policy.
        #[arg(long, allow_hyphen_values = true)]
        due: Option<String>,
    },
    /// Send the failed replies of a ticket again now, and those waiting for a retry at
    /// once (after fixing what made them fail, e.g. `mail.from`); audited.
    Retry { number: TicketNo },
    /// Delete one message (or one attachment of it) for good, also from earlier
    /// backups: the text becomes "[redacted: REASON]", the original mail goes. Admins
    /// only; audited.
    Redact {
        number: TicketNo,
        /// The message's position in the thread (see `ticket show`).
        #[arg(long)]
        message: u32,
        /// Remove only this attachment (its name and bytes), not the text.
        #[arg(long)]
        attachment: Option<String>,
        /// Why (shown in place of the message, kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// How `ticket link` links: the kind as seen from the ticket named first.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LinkAs {
    Related,
    /// The ticket named first duplicates the other.
    Duplicate,
}

/// Whether the command reads its body from stdin (read on the client side, so it also
/// works when a running server executes the command).
pub(super) fn needs_stdin(cmd: &TicketCommand) -> bool {
    matches!(
        cmd,
        TicketCommand::Create { body: None, .. } | TicketCommand::Reply { body: None, .. }
    )
}

/// The files of `ticket reply --attach`, read here (on the client side): the server
/// that sends the reply may not see the agent's files. Sizes are checked before reading.
pub(super) fn read_attachments(cmd: &TicketCommand) -> Result<Vec<ReplyFile>> {
    let TicketCommand::Reply { attach, .. } = cmd else {
        return Ok(Vec::new());
    };
    if attach.len() > ATTACHMENTS_PER_DRAFT {
        bail!("a reply carries at most {ATTACHMENTS_PER_DRAFT} files: give fewer --attach");
    }
    let mut files = Vec::with_capacity(attach.len());
    let mut total: u64 = 0;
    for path in attach {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}: check the --attach path", path.display()))?
            .len();
        if size > ATTACHMENT_MAX as u64 {
            bail!(
                "{} is over {} MiB, the most a reply carries: send a link instead",
                path.display(),
                ATTACHMENT_MAX / (1024 * 1024)
            );
        }
        total += size;
        if total > REPLY_FILES_MAX {
            bail!(
                "the files come to over {} MiB together: attach fewer or smaller ones",
                REPLY_FILES_MAX / (1024 * 1024)
            );
        }
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read {}: check the --attach path", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(ReplyFile { name, bytes });
    }
    Ok(files)
}

/// Most bytes of files one `ticket reply` takes in all (they travel over the control
/// socket, base64, within its frame).
const REPLY_FILES_MAX: u64 = 40 * 1024 * 1024;

pub(super) fn run(
    desk: &Desk,
    actor: &Actor,
    cmd: TicketCommand,
    stdin: Option<String>,
    files: Vec<ReplyFile>,
    io: &mut Io,
) -> Result<i32> {
    match cmd {
        TicketCommand::Create {
            from,
            name,
            subject,
            body,
        } => {
            let body = match body.or(stdin) {
                Some(b) if !b.trim().is_empty() => b,
                _ => bail!("the body is empty: pass --body TEXT or pipe the text on stdin"),
            };
            let (ticket, _) = desk.create_ticket(
                actor,
                NewTicket {
                    from: &from,
                    name: &name,
                    subject: &subject,
                    body: &body,
                    message_id: None,
                },
            )?;
            writeln!(io.out, "created ticket {}", ticket.number)?;
        }
        TicketCommand::List { status, json } => {
            let tickets = desk.list_tickets(actor, &TicketFilter { status })?;
            if json {
                print_json(io.out, &tickets.iter().map(ticket_json).collect::<Vec<_>>())?;
            } else if tickets.is_empty() {
                writeln!(io.out, "no tickets")?;
            } else {
                let now = Timestamp::now();
                writeln!(
                    io.out,
                    "{:>6}  {:<8} {:<7} {:>4}  {:<12} SUBJECT",
                    "#", "STATUS", "PRIO", "AGE", "ASSIGNEE"
                )?;
                for t in &tickets {
                    writeln!(
                        io.out,
                        "{:>6}  {:<8} {:<7} {:>4}  {:<12} {}",
                        t.number.0,
                        t.status.as_str(),
                        t.priority.as_str(),
                        t.created.age_at(now),
                        fit(t.assignee.as_deref().unwrap_or("-"), 12),
                        fit(&safe(t.subject.as_str()), 60)
                    )?;
                }
            }
        }
        TicketCommand::Reply {
            number,
            body,
            note,
            override_reason,
            to,
            cc,
            bcc,
            attach,
        } => {
            if attach.len() != files.len() {
                bail!("the --attach files did not all arrive: run the command again");
            }
            let body = match body.or(stdin) {
                Some(b) if !b.trim().is_empty() => b,
                _ => bail!("the reply is empty: pass --body TEXT or pipe the text on stdin"),
            };
            let given = Parties { to, cc, bcc };
            let message = if note {
                desk.add_note(actor, number, &body)?
            } else if !files.is_empty() {
                desk.reply_with_files(
                    actor,
                    number,
                    &body,
                    &given,
                    &files,
                    override_reason.as_deref(),
                )?
            } else {
                desk.add_reply_addressed(actor, number, &body, &given, override_reason.as_deref())?
            };
            let what = if note {
                "note"
            } else {
                "reply (queued for sending)"
            };
            writeln!(
                io.out,
                "added {what} to ticket {number} as message {}{}",
                message.seq,
                match message.attachments.len() {
                    0 => String::new(),
                    n => format!(" with {n} file(s)"),
                }
            )?;
            if !note {
                print_recipients(io, &message.parties, &given)?;
            }
        }
        TicketCommand::Link { number, to, kind } => {
            let kind = match kind {
                LinkAs::Related => LinkKind::Related,
                LinkAs::Duplicate => LinkKind::DuplicateOf,
            };
            let (here, there) = desk.link(actor, number, to, kind)?;
            writeln!(
                io.out,
                "{number}: {}; {to}: {}",
                links_line(&here.links),
                links_line(&there.links)
            )?;
        }
        TicketCommand::Unlink { number, from } => {
            desk.unlink(actor, number, from)?;
            writeln!(io.out, "{number} and {from} are no longer linked")?;
        }
        TicketCommand::Split { number, message } => {
            let split = desk.split(actor, number, message)?;
            writeln!(
                io.out,
                "message {message} of {number} split off into ticket {} \"{}\" (linked as related)",
                split.number,
                safe(split.subject.as_str())
            )?;
        }
        TicketCommand::Set {
            number,
            snooze,
            due,
        } => {
            if snooze.is_none() && due.is_none() {
                bail!("nothing to change: give --snooze WHEN or --due WHEN (e.g. --snooze 2d)");
            }
            let mut ticket = None;
            if let Some(when) = &snooze {
                ticket = Some(desk.snooze(actor, number, when)?);
            }
            if let Some(when) = &due {
                ticket = Some(desk.set_due(actor, number, when)?);
            }
            if let Some(t) = ticket {
                let now = Timestamp::now();
                writeln!(
                    io.out,
                    "ticket {number}: {} · {}",
                    t.status,
                    sla_words(&t, now)
                )?;
            }
        }
        TicketCommand::Retry { number } => {
            let count = desk.retry_replies(actor, number)?;
            writeln!(
                io.out,
                "{count} repl{} of ticket {number} queued for sending now",
                if count == 1 { "y" } else { "ies" }
            )?;
        }
        TicketCommand::Redact {
            number,
            message,
            attachment,
            reason,
        } => {
            let done =
                desk.redact_message(actor, number, message, attachment.as_deref(), &reason)?;
            let what = match &attachment {
                Some(_) => format!("the attachment of message {message} is"),
                None => format!(
                    "message {message} is \"[redacted: {}]\" now, its {} attachment(s)",
                    safe(&reason),
                    done.attachments
                ),
            };
            writeln!(
                io.out,
                "redacted in ticket {number}: {what} and its original mail deleted; the keys that sealed them are destroyed, so earlier backups cannot show them either"
            )?;
            if done.exports > 0 {
                writeln!(
                    io.out,
                    "{} export archive(s) held by the desk for this customer held the old text and were deleted (files written with --out are outside the desk: delete them yourself)",
                    done.exports
                )?;
            }
        }
        TicketCommand::Show { number, json } => {
            let (ticket, thread) = desk.ticket_thread(actor, number)?;
            let participants = desk.participant_addresses(&ticket)?;
            if json {
                let mut v = ticket_json(&ticket);
                v["address"] = ticket.address.clone().into();
                v["participants"] = participants.into();
                v["thread"] = thread.iter().map(entry_json).collect();
                print_json(io.out, &v)?;
            } else {
                print_ticket(io, &ticket, &participants, &thread)?;
            }
        }
    }
    Ok(0)
}

/// Who the reply went to, and which of the given addresses were left out as the desk's own.
fn print_recipients(io: &mut Io, sent: &Parties, given: &Parties) -> Result<()> {
    for (line, list) in [("to", &sent.to), ("cc", &sent.cc), ("bcc", &sent.bcc)] {
        if !list.is_empty() {
            writeln!(io.out, "  {line}: {}", safe(&list.join(", ")))?;
        }
    }
    let kept: Vec<String> = sent.all().map(|a| mailbox_address(a)).collect();
    let dropped: Vec<String> = given
        .all()
        .map(|a| mailbox_address(a))
        .filter(|a| !a.is_empty() && !kept.contains(a))
        .collect();
    if !dropped.is_empty() {
        writeln!(
            io.out,
            "  left out (the desk's own address, or given twice): {}",
            safe(&dropped.join(", "))
        )?;
    }
    Ok(())
}

/// The ticket's support address and participants, under its header (`ticket show`).
fn print_people(io: &mut Io, t: &Ticket, participants: &[String]) -> Result<()> {
    if let Some(a) = &t.address {
        writeln!(io.out, "written to {}", safe(a))?;
    }
    if !participants.is_empty() {
        writeln!(io.out, "Cc: {}", safe(&participants.join(", ")))?;
    }
    Ok(())
}

pub(super) fn read_stdin_body() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprintln!("(reading the body from stdin; end with Ctrl-D, or pass --body TEXT)");
    }
    let mut body = String::new();
    std::io::stdin()
        .read_to_string(&mut body)
        .context("cannot read the body from stdin: it must be UTF-8 text")?;
    if body.trim().is_empty() {
        bail!("the body is empty: pass --body TEXT or pipe the text on stdin");
    }
    Ok(body)
}

pub(super) fn ticket_json(t: &Ticket) -> serde_json::Value {
    serde_json::json!({
        "number": t.number.0,
        "subject": t.subject,
        "status": t.status.as_str(),
        "priority": t.priority.as_str(),
        "assignee": t.assignee,
        "tags": t.tags,
        "customer": t.customer.to_string(),
        "created": t.created.rfc3339(),
        "updated": t.updated.rfc3339(),
        "due": t.due.map(|d| d.rfc3339()),
        "links": t.links.iter().map(|l| serde_json::json!({
            "kind": l.kind.as_str(), "ticket": l.other.0,
        })).collect::<Vec<_>>(),
        "due_by_hand": t.due_by_hand,
        "snoozed_until": t.snoozed_until.map(|d| d.rfc3339()),
    })
}

fn entry_json(e: &ThreadEntry) -> serde_json::Value {
    match e {
        ThreadEntry::Message(m) => serde_json::json!({
            "seq": m.seq,
            "kind": m.kind.as_str(),
            "author": m.author.display(),
            "at": m.at.rfc3339(),
            "message_id": m.message_id,
            "in_reply_to": m.in_reply_to,
            "references": m.references,
            "text": m.text,
            "delivery": m.delivery.as_ref().map(delivery_text),
            "to": m.parties.to,
            "cc": m.parties.cc,
            "bcc": m.parties.bcc,
            "outbox": m.outbox.as_ref().map(|o| serde_json::json!({
                "attempts": o.attempts,
                "next_attempt": o.next_attempt.rfc3339(),
                "last_error": o.last_error,
            })),
            "attachments": m.attachments.iter().map(|a| serde_json::json!({
                "name": a.name, "content_type": a.content_type, "size": a.size,
            })).collect::<Vec<_>>(),
        }),
        ThreadEntry::Erased => serde_json::json!({ "kind": "erased" }),
    }
}

fn print_ticket(
    io: &mut Io,
    t: &Ticket,
    participants: &[String],
    thread: &[ThreadEntry],
) -> Result<()> {
    writeln!(io.out, "Ticket {}: {}", t.number, safe(t.subject.as_str()))?;
    writeln!(
        io.out,
        "status {} · priority {} · assignee {} · tags {} · opened {}",
        t.status,
        t.priority,
        t.assignee.as_deref().unwrap_or("-"),
        if t.tags.is_empty() {
            "-".to_string()
        } else {
            t.tags.join(", ")
        },
        t.created
    )?;
    if !t.links.is_empty() {
        writeln!(io.out, "links: {}", links_line(&t.links))?;
    }
    writeln!(io.out, "{}", sla_words(t, Timestamp::now()))?;
    print_people(io, t, participants)?;
    for entry in thread {
        writeln!(io.out)?;
        match entry {
            ThreadEntry::Message(m) => {
                writeln!(
                    io.out,
                    "── {} · {} · {}",
                    m.kind.as_str(),
                    safe(&m.author.display()),
                    m.at
                )?;
                if let Some(d) = &m.delivery {
                    writeln!(io.out, "   delivery: {}", safe(&delivery_text(d)))?;
                }
                if let Some(o) = &m.outbox {
                    let why = match &o.last_error {
                        Some(e) => format!(
                            "{} failed tr{}, last: {}; ",
                            o.attempts,
                            if o.attempts == 1 { "y" } else { "ies" },
                            e
                        ),
                        None => String::new(),
                    };
                    writeln!(
                        io.out,
                        "   outbox: {}next try {}",
                        safe(&why),
                        o.next_attempt
                    )?;
                }
                if matches!(m.delivery, Some(sealdesk_model::Delivery::Failed { .. })) {
                    writeln!(
                        io.out,
                        "   (fix the cause, then `sealdesk ticket retry {}` sends it again)",
                        t.number.0
                    )?;
                }
                for a in &m.attachments {
                    writeln!(
                        io.out,
                        "   attachment: {} ({}, {} bytes)",
                        safe(&a.name),
                        safe(&a.content_type),
                        a.size
                    )?;
                }
                write!(io.out, "{}", safe_block(&m.text, "   "))?;
            }
            ThreadEntry::Erased => writeln!(io.out, "── [erased]")?,
        }
    }
    Ok(())
}

/// "queued since …", "sent …", "failed …: reason".
pub(super) fn delivery_text(d: &sealdesk_model::Delivery) -> String {
    use sealdesk_model::Delivery;
    match d {
        Delivery::Queued { since } => format!("queued since {since}"),
        Delivery::Sent { at } => format!("sent {at}"),
        Delivery::Failed { at, reason } => format!("failed {at}: {reason}"),
    }
}

/// The ticket's snooze and due time: `snoozed until 2026-12-03T09:00:00Z (in 2d) · due
/// -`, `due 2026-12-07T10:00:00Z (due 2h, by hand)`.
fn sla_words(t: &Ticket, now: Timestamp) -> String {
    let mut line = String::new();
    if let Some(at) = t.snoozed_until {
        line.push_str(&format!(
            "snoozed until {at} (in {}) · ",
            sealdesk_model::sla::time_left(now, at)
        ));
    }
    match t.due {
        Some(due) => line.push_str(&format!(
            "due {due} ({}{})",
            sealdesk_model::sla::due_words(due, now),
            if t.due_by_hand { ", by hand" } else { "" }
        )),
        None => line.push_str("due -"),
    }
    line
}
