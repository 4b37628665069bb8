use super::output::{fit, print_json, safe, safe_block, Io};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use sealdesk_desk::{
    links_line, Actor, Desk, FieldChange, NewTicket, ReplyFile, ThreadEntry, TicketChanges,
    TicketFilter, ATTACHMENTS_PER_DRAFT, ATTACHMENT_MAX,
};
use sealdesk_model::{
    mailbox_address, AssigneeChange, LinkKind, Parties, Priority, Status, TagChange, Ticket,
    TicketNo, Timestamp,
};
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
        /// Print what was created as JSON (see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// List tickets (every one, or those the filters let through).
    List {
        /// Only tickets with this status: new, open, pending, solved, closed; `all`
        /// (the default) lists every status.
        #[arg(long, value_parser = parse_status_filter)]
        status: Option<StatusFilter>,
        /// Only tickets assigned to this agent; `none`: unassigned; `me`: yours (over SSH).
        #[arg(long, value_name = "NAME|none|me")]
        assignee: Option<String>,
        /// Only tickets with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only tickets of the customer with this address.
        #[arg(long, value_name = "EMAIL")]
        customer: Option<String>,
        /// Only tickets updated since then: 2d, 4h, 30m (ago), 2026-11-01 or RFC 3339.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
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
        /// Print what was added as JSON (see docs/api.md).
        #[arg(long)]
        json: bool,
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
        #[arg(long)]
        json: bool,
    },
    /// Take away the link between two tickets, at both ends.
    Unlink {
        number: TicketNo,
        #[arg(long)]
        from: TicketNo,
        #[arg(long)]
        json: bool,
    },
    /// Split one message off into a new ticket for the same customer, linked to this
    /// one as related; audited.
    Split {
        number: TicketNo,
        /// The message's position in the thread (see `ticket show`).
        #[arg(long)]
        message: u32,
        #[arg(long)]
        json: bool,
    },
    /// Change a ticket's status, priority, assignee, tags, due time or snooze: one
    /// audited change per field that changes.
    Set {
        number: TicketNo,
        /// new, open, pending, solved, closed.
        #[arg(long)]
        status: Option<Status>,
        /// low, normal, high, urgent.
        #[arg(long)]
        priority: Option<Priority>,
        /// Assign to this agent (`me`: yourself, over SSH).
        #[arg(long, value_name = "NAME", conflicts_with = "unassign")]
        assign: Option<String>,
        /// Take the assignee off.
        #[arg(long)]
        unassign: bool,
        /// Tags to add and take off, comma-separated: +vip,-old (a bare word adds).
        #[arg(
            long,
            value_name = "+a,-b",
            allow_hyphen_values = true,
            value_delimiter = ','
        )]
        tag: Vec<String>,
        /// Pending until then, when it wakes by itself: 2d, 4h, "mon 9:00",
        /// "2026-12-03 10:00" (in sla.zone); "-" wakes it now.
        #[arg(long, allow_hyphen_values = true, conflicts_with = "status")]
        snooze: Option<String>,
        /// Due then, whatever the SLA policy says: 4h, 2d, "2026-12-03 10:00"; "-"
        /// gives the due time back to the policy.
        #[arg(long, allow_hyphen_values = true)]
        due: Option<String>,
        /// Print what changed as JSON (see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Merge a ticket into another: its thread moves to the end of --into, it is
    /// closed with a note pointing there and tagged `merged`; audited.
    Merge {
        number: TicketNo,
        /// The ticket that receives the thread.
        #[arg(long)]
        into: TicketNo,
        #[arg(long)]
        json: bool,
    },
    /// Send the failed replies of a ticket again now, and those waiting for a retry at
    /// once (after fixing what made them fail, e.g. `mail.from`); audited.
    Retry {
        number: TicketNo,
        #[arg(long)]
        json: bool,
    },
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

/// `ticket list --status`: one status, or every one (`all`).
#[derive(Clone, Copy, Debug)]
pub struct StatusFilter(Option<Status>);

fn parse_status_filter(text: &str) -> Result<StatusFilter, String> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(StatusFilter(None));
    }
    text.parse::<Status>()
        .map(|s| StatusFilter(Some(s)))
        .map_err(|e| format!("{e}, or all"))
}

/// `--since`: `2d`, `4h`, `30m` ago, or a date or RFC 3339 time.
fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp> {
    let t = text.trim();
    let unit = match t.chars().last() {
        Some('d') => Some(86_400),
        Some('h') => Some(3_600),
        Some('m') => Some(60),
        _ => None,
    };
    if let Some(unit) = unit {
        if let Ok(n) = t[..t.len() - 1].parse::<i64>() {
            return Ok(Timestamp(now.0 - n.saturating_mul(unit)));
        }
    }
    super::notice::parse_time(t, false).map_err(|_| {
        anyhow::anyhow!(
            "--since {:?} is not a time: use 2d, 4h, 30m, 2026-11-01 or 2026-11-01T08:00:00Z",
            safe(t)
        )
    })
}

/// What a write command prints with `--json`: the same shape for every one (see
/// docs/api.md): the action, the ticket, the fields that changed, and what else it made.
fn change_json(
    action: &str,
    ticket: TicketNo,
    changes: &[FieldChange],
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut v = serde_json::json!({
        "action": action,
        "ticket": ticket.0,
        "changes": changes,
    });
    if let (Some(obj), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

fn field(
    name: &'static str,
    before: impl Into<serde_json::Value>,
    after: impl Into<serde_json::Value>,
) -> FieldChange {
    FieldChange {
        field: name,
        before: before.into(),
        after: after.into(),
    }
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
            json,
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
            if json {
                let status = serde_json::Value::Null;
                let v = change_json(
                    "ticket.create",
                    ticket.number,
                    &[field("status", status, ticket.status.as_str())],
                    serde_json::json!({ "customer": ticket.customer.to_string() }),
                );
                print_json(io.out, &v)?;
            } else {
                writeln!(io.out, "created ticket {}", ticket.number)?;
            }
        }
        TicketCommand::List {
            status,
            assignee,
            tag,
            customer,
            since,
            json,
        } => {
            let assignee = match assignee.as_deref().map(str::trim) {
                None => None,
                Some("none" | "-") => Some(None),
                Some("me") if actor.kind == sealdesk_desk::ActorKind::Agent => {
                    Some(Some(actor.name.clone()))
                }
                Some("me") => bail!(
                    "--assignee me is the agent running the command (over SSH): name the agent instead"
                ),
                Some(name) => Some(Some(name.to_string())),
            };
            let filter = TicketFilter {
                status: status.and_then(|s| s.0),
                assignee,
                tag,
                customer,
                updated_since: since
                    .map(|t| parse_since(&t, Timestamp::now()))
                    .transpose()?,
            };
            let tickets = desk.list_tickets(actor, &filter)?;
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
            json,
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
            if json {
                let kind = if note { "ticket.note" } else { "ticket.reply" };
                let extra = serde_json::json!({
                    "message": message.seq,
                    "to": message.parties.to,
                    "cc": message.parties.cc,
                    "bcc": message.parties.bcc,
                    "attachments": message.attachments.len(),
                });
                print_json(io.out, &change_json(kind, number, &[], extra))?;
                return Ok(0);
            }
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
        TicketCommand::Link {
            number,
            to,
            kind,
            json,
        } => {
            let kind = match kind {
                LinkAs::Related => LinkKind::Related,
                LinkAs::Duplicate => LinkKind::DuplicateOf,
            };
            let (here, there) = desk.link(actor, number, to, kind)?;
            if json {
                let extra = serde_json::json!({
                    "other": to.0, "kind": kind.as_str(),
                    "links": links_json(&here), "other_links": links_json(&there),
                });
                print_json(io.out, &change_json("ticket.link", number, &[], extra))?;
                return Ok(0);
            }
            writeln!(
                io.out,
                "{number}: {}; {to}: {}",
                links_line(&here.links),
                links_line(&there.links)
            )?;
        }
        TicketCommand::Unlink { number, from, json } => {
            desk.unlink(actor, number, from)?;
            if json {
                let extra = serde_json::json!({ "other": from.0 });
                print_json(io.out, &change_json("ticket.unlink", number, &[], extra))?;
                return Ok(0);
            }
            writeln!(io.out, "{number} and {from} are no longer linked")?;
        }
        TicketCommand::Split {
            number,
            message,
            json,
        } => {
            let split = desk.split(actor, number, message)?;
            if json {
                let extra = serde_json::json!({ "message": message, "new_ticket": split.number.0 });
                print_json(io.out, &change_json("ticket.split", number, &[], extra))?;
                return Ok(0);
            }
            writeln!(
                io.out,
                "message {message} of {number} split off into ticket {} \"{}\" (linked as related)",
                split.number,
                safe(split.subject.as_str())
            )?;
        }
        TicketCommand::Set {
            number,
            status,
            priority,
            assign,
            unassign,
            tag,
            snooze,
            due,
            json,
        } => {
            let mut tags = Vec::new();
            for word in &tag {
                match TagChange::parse(word) {
                    Some(change) => tags.push(change),
                    None if word.trim().is_empty() => {}
                    None => bail!("--tag {:?} names no tag: use +tag or -tag", safe(word)),
                }
            }
            let changes = TicketChanges {
                status,
                priority,
                assignee: match (assign.as_deref().map(str::trim), unassign) {
                    (_, true) => Some(AssigneeChange::Nobody),
                    (Some("me"), _) => Some(AssigneeChange::Me),
                    (Some(name), _) => Some(AssigneeChange::Agent(name.to_string())),
                    (None, false) => None,
                },
                tags,
                due,
                snooze,
            };
            if changes.is_empty() {
                bail!("nothing to change: give --status, --priority, --assign, --unassign, --tag, --due or --snooze (e.g. --status pending)");
            }
            let (t, changed) = desk.set_ticket_fields(actor, number, &changes)?;
            if json {
                print_json(
                    io.out,
                    &change_json("ticket.set", number, &changed, serde_json::json!({})),
                )?;
            } else {
                let what: Vec<String> = changed
                    .iter()
                    .map(|c| format!("{} {} → {}", c.field, plain(&c.before), plain(&c.after)))
                    .collect();
                writeln!(
                    io.out,
                    "ticket {number}: {}",
                    if what.is_empty() {
                        "nothing changed (it was so already)".to_string()
                    } else {
                        safe(&what.join(", ")).into_owned()
                    }
                )?;
                writeln!(
                    io.out,
                    "ticket {number}: {} · {} · assignee {} · tags {} · {}",
                    t.status,
                    t.priority,
                    t.assignee.as_deref().unwrap_or("-"),
                    if t.tags.is_empty() {
                        "-".to_string()
                    } else {
                        t.tags.join(", ")
                    },
                    sla_words(&t, Timestamp::now())
                )?;
            }
        }
        TicketCommand::Merge { number, into, json } => {
            let before = desk.ticket_now(number)?;
            let target = desk.merge(actor, number, into)?;
            if json {
                let mut tags = before.tags.clone();
                TagChange::Add("merged".into()).apply(&mut tags);
                let changed: Vec<FieldChange> = [
                    field("status", before.status.as_str(), Status::Closed.as_str()),
                    field("tags", before.tags.clone(), tags),
                ]
                .into_iter()
                .filter(|c| c.before != c.after)
                .collect();
                let extra = serde_json::json!({ "into": target.number.0 });
                print_json(
                    io.out,
                    &change_json("ticket.merge", number, &changed, extra),
                )?;
            } else {
                writeln!(
                    io.out,
                    "ticket {number} merged into {into}: its thread is at the end of {into}; {number} is closed"
                )?;
            }
        }
        TicketCommand::Retry { number, json } => {
            let count = desk.retry_replies(actor, number)?;
            if json {
                let extra = serde_json::json!({ "queued": count });
                print_json(io.out, &change_json("ticket.retry", number, &[], extra))?;
                return Ok(0);
            }
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

/// A JSON value as a word: `open`, `-` for none, `a, b` for a list.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) if a.is_empty() => "-".into(),
        serde_json::Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn links_json(t: &Ticket) -> serde_json::Value {
    t.links
        .iter()
        .map(|l| serde_json::json!({ "kind": l.kind.as_str(), "ticket": l.other.0 }))
        .collect()
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
