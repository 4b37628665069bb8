use super::output::{fit, print_json, safe, safe_block};
use super::Global;
use crate::desk::{Actor, NewTicket, ThreadEntry, TicketFilter};
use crate::model::{Status, Ticket, TicketNo, Timestamp};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
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
}

pub fn run(g: &Global, cmd: TicketCommand) -> Result<i32> {
    let actor = Actor::local_admin();
    match cmd {
        TicketCommand::Create {
            from,
            name,
            subject,
            body,
        } => {
            let body = match body {
                Some(b) => b,
                None => read_stdin_body()?,
            };
            let desk = g.open_desk()?;
            let (ticket, _) = desk.create_ticket(
                &actor,
                NewTicket {
                    from: &from,
                    name: &name,
                    subject: &subject,
                    body: &body,
                    message_id: None,
                },
            )?;
            println!("created ticket {}", ticket.number);
        }
        TicketCommand::List { status, json } => {
            let desk = g.open_desk()?;
            let tickets = desk.list_tickets(&actor, &TicketFilter { status })?;
            if json {
                print_json(&tickets.iter().map(ticket_json).collect::<Vec<_>>())?;
            } else if tickets.is_empty() {
                println!("no tickets");
            } else {
                let now = Timestamp::now();
                println!(
                    "{:>6}  {:<8} {:<7} {:>4}  {:<12} SUBJECT",
                    "#", "STATUS", "PRIO", "AGE", "ASSIGNEE"
                );
                for t in &tickets {
                    println!(
                        "{:>6}  {:<8} {:<7} {:>4}  {:<12} {}",
                        t.number.0,
                        t.status.as_str(),
                        t.priority.as_str(),
                        t.created.age_at(now),
                        fit(t.assignee.as_deref().unwrap_or("-"), 12),
                        fit(&safe(&t.subject), 60)
                    );
                }
            }
        }
        TicketCommand::Show { number, json } => {
            let desk = g.open_desk()?;
            let (ticket, thread) = desk.ticket_thread(&actor, number)?;
            if json {
                let mut v = ticket_json(&ticket);
                v["thread"] = thread.iter().map(entry_json).collect();
                print_json(&v)?;
            } else {
                print_ticket(&ticket, &thread);
            }
        }
    }
    Ok(0)
}

fn read_stdin_body() -> Result<String> {
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
            "attachments": m.attachments.iter().map(|a| serde_json::json!({
                "name": a.name, "content_type": a.content_type, "size": a.size,
            })).collect::<Vec<_>>(),
        }),
        ThreadEntry::Erased => serde_json::json!({ "kind": "erased" }),
    }
}

fn print_ticket(t: &Ticket, thread: &[ThreadEntry]) {
    println!("Ticket {}: {}", t.number, safe(&t.subject));
    println!(
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
    );
    for entry in thread {
        println!();
        match entry {
            ThreadEntry::Message(m) => {
                println!(
                    "── {} · {} · {}",
                    m.kind.as_str(),
                    safe(&m.author.display()),
                    m.at
                );
                for a in &m.attachments {
                    println!(
                        "   attachment: {} ({}, {} bytes)",
                        safe(&a.name),
                        safe(&a.content_type),
                        a.size
                    );
                }
                print!("{}", safe_block(&m.text, "   "));
            }
            ThreadEntry::Erased => println!("── [erased]"),
        }
    }
}
