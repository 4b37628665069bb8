use super::output::{print_json, safe, Io};
use super::ticket::ticket_json;
use crate::desk::{Actor, Desk};
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Export everything held about a customer as one .tar.gz (JSON, original mails,
    /// attachments, a readable index.html, SHA256SUMS).
    Export {
        email: String,
        /// Where to write it (default: DATA/exports/…).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// The privacy request this answers.
        #[arg(long)]
        request: Option<crate::model::RequestId>,
        /// Also mail the archive to the customer's address (needs --request with a
        /// verified identity; within mail.max_size).
        #[arg(long, requires = "request")]
        mail: bool,
    },
    /// Cancel the account and erase the customer for good (crypto-shredding). Asks you
    /// to type the address; --yes for scripts.
    Cancel {
        email: String,
        /// Do not ask: the address given counts as typed.
        #[arg(long)]
        yes: bool,
        /// The address as typed at the prompt (filled in by the CLI).
        #[arg(long, hide = true)]
        confirm: Option<String>,
    },
    /// Change a customer's name, locale or flags.
    Set {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        locale: Option<String>,
        /// Under the age of consent: consent then needs a guardian.
        #[arg(long)]
        minor: Option<bool>,
        /// While set, the customer cannot be erased.
        #[arg(long)]
        legal_hold: Option<bool>,
    },
    /// Every customer: id, primary address, name, flags, tickets, since (erased
    /// customers are not listed).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a customer's profile and tickets.
    Show {
        email: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(desk: &Desk, actor: &Actor, cmd: CustomerCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        CustomerCommand::Export {
            email,
            out,
            request,
            mail,
        } => {
            let c = desk.find_customer(actor, &email)?;
            let files = desk.export_customer(actor, &c, request)?;
            let out = match out {
                Some(p) => p,
                None => {
                    let dir = crate::archive::exports_dir(&desk.store().paths().data);
                    crate::store::create_private_dir(&dir)?;
                    dir.join(format!(
                        "{}-{}.tar.gz",
                        c.id,
                        crate::model::Timestamp::now().0
                    ))
                }
            };
            let size = crate::archive::write_tar_gz(&files, &out).map_err(|e| {
                anyhow::anyhow!("cannot write {} ({e}): pick another --out", out.display())
            })?;
            writeln!(
                io.out,
                "exported {} files ({size} bytes) to {}",
                files.len(),
                out.display()
            )?;
            if let (true, Some(request)) = (mail, request) {
                let name = out
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "export.tar.gz".into());
                let bytes = std::fs::read(&out)?;
                desk.mail_export(actor, &c, &request, &name, bytes)?;
                writeln!(io.out, "queued by mail to {}", safe(c.primary_email()))?;
            }
        }
        CustomerCommand::Cancel {
            email,
            yes,
            confirm,
        } => {
            let typed = match (yes, confirm) {
                (true, _) => email.clone(),
                (false, Some(t)) => t,
                (false, None) => anyhow::bail!("erasure needs confirmation: run it in a terminal to type the address, or pass --yes"),
            };
            let counts = desk.cancel_customer(actor, &email, &typed)?;
            writeln!(
                io.out,
                "erased: {} messages turned into placeholders, {} attachments, {} original mails and {} consent records deleted; the customer's key is destroyed",
                counts.messages, counts.attachments, counts.raw_mails, counts.consents
            )?;
        }
        CustomerCommand::Set {
            email,
            name,
            locale,
            minor,
            legal_hold,
        } => {
            let mut c = desk.find_customer(actor, &email)?;
            let mut what = Vec::new();
            if let Some(n) = name {
                c.name = n;
                what.push("name");
            }
            if let Some(l) = locale {
                c.locale = Some(l).filter(|l| !l.is_empty());
                what.push("locale");
            }
            if let Some(m) = minor {
                c.flags.minor = m;
                what.push("minor");
            }
            if let Some(h) = legal_hold {
                c.flags.legal_hold = h;
                what.push("legal-hold");
            }
            if what.is_empty() {
                anyhow::bail!("nothing to change: give --name, --locale, --minor true|false or --legal-hold true|false");
            }
            desk.update_customer(actor, c, &what.join(","))?;
            writeln!(io.out, "updated {}", what.join(", "))?;
        }
        CustomerCommand::List { json } => list(desk, actor, json, io)?,
        CustomerCommand::Show { email, json } => {
            let (c, tickets) = desk.customer_by_email(actor, &email)?;
            let notices = desk.notices_of(&c.id)?;
            if json {
                print_json(
                    io.out,
                    &serde_json::json!({
                        "id": c.id.to_string(),
                        "name": c.name,
                        "emails": c.emails,
                        "locale": c.locale,
                        "flags": { "minor": c.flags.minor, "legal_hold": c.flags.legal_hold, "previously_erased": c.flags.previously_erased },
                        "created": c.created.rfc3339(),
                        "tickets": tickets.iter().map(ticket_json).collect::<Vec<_>>(),
                        "notices": notices.iter().map(|n| serde_json::json!({
                            "notice_id": n.notice.to_string(), "direction": "outbound", "kind": n.kind.as_str(),
                            "subject": n.subject, "queued": n.queued.rfc3339(),
                            "delivery": crate::desk::delivery_json(&n.delivery),
                        })).collect::<Vec<_>>(),
                    }),
                )?;
            } else {
                writeln!(io.out, "Customer {}", c.id)?;
                writeln!(
                    io.out,
                    "  name:      {}",
                    if c.name.is_empty() {
                        "-".into()
                    } else {
                        safe(&c.name)
                    }
                )?;
                writeln!(
                    io.out,
                    "  addresses: {}",
                    c.emails
                        .iter()
                        .map(|e| safe(e).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                )?;
                writeln!(
                    io.out,
                    "  locale:    {}",
                    c.locale.as_deref().map(safe).unwrap_or("-".into())
                )?;
                let flags = c.flags.labels();
                writeln!(
                    io.out,
                    "  flags:     {}",
                    if flags.is_empty() {
                        "-".into()
                    } else {
                        flags.join(", ")
                    }
                )?;
                writeln!(io.out, "  since:     {}", c.created)?;
                writeln!(io.out, "  tickets:   {}", tickets.len())?;
                for t in &tickets {
                    writeln!(
                        io.out,
                        "    {:>6}  {:<8} {}",
                        t.number.to_string(),
                        t.status.as_str(),
                        safe(&t.subject)
                    )?;
                }
                writeln!(
                    io.out,
                    "  notices:   {} (outbound, from the desk)",
                    notices.len()
                )?;
                for n in &notices {
                    writeln!(
                        io.out,
                        "    {}  {:<14} {:<7} {}",
                        n.queued,
                        n.kind.as_str(),
                        delivery_word(&n.delivery),
                        safe(&n.subject)
                    )?;
                }
            }
        }
    }
    Ok(0)
}

fn delivery_word(d: &crate::model::Delivery) -> &'static str {
    match d {
        crate::model::Delivery::Queued { .. } => "queued",
        crate::model::Delivery::Sent { .. } => "sent",
        crate::model::Delivery::Failed { .. } => "failed",
    }
}

fn list(desk: &Desk, actor: &Actor, json: bool, io: &mut Io) -> Result<()> {
    let rows = desk.customer_list(actor)?;
    if json {
        let docs: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let c = &r.customer;
                serde_json::json!({
                    "id": c.id.to_string(),
                    "email": c.primary_email(),
                    "name": c.name,
                    "flags": { "minor": c.flags.minor, "legal_hold": c.flags.legal_hold, "previously_erased": c.flags.previously_erased, "restricted": c.flags.restricted },
                    "tickets": r.tickets,
                    "created": c.created.rfc3339(),
                })
            })
            .collect();
        return print_json(io.out, &docs);
    }
    if rows.is_empty() {
        writeln!(io.out, "no customers yet")?;
    }
    for r in &rows {
        let c = &r.customer;
        let flags = c.flags.labels().join(",");
        writeln!(
            io.out,
            "{}  {:<32} {:<24} {:>4} ticket(s)  since {}  {}",
            c.id,
            safe(c.primary_email()),
            if c.name.is_empty() {
                "-".into()
            } else {
                safe(&c.name)
            },
            r.tickets,
            c.created,
            if flags.is_empty() {
                "-".to_string()
            } else {
                flags
            }
        )?;
    }
    Ok(())
}

/// For `customer cancel` without --yes: shows what will happen and asks for the address.
/// Returns the extra arguments to pass on (`--confirm TYPED`).
pub fn confirm_cancel_interactively(cmd: &CustomerCommand) -> Result<Option<Vec<String>>> {
    use std::io::{BufRead, IsTerminal, Write as _};
    let CustomerCommand::Cancel {
        email,
        yes: false,
        confirm: None,
    } = cmd
    else {
        return Ok(None);
    };
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "erasure needs confirmation: run it in a terminal to type the address, or pass --yes"
        );
    }
    let mut err = std::io::stderr();
    writeln!(err, "This erases {} for good: profile, addresses, consents, attachments and original mails are deleted, their messages become \"[erased]\", and backups cannot show their data any more. A confirmation mail goes out first.", safe(email))?;
    write!(err, "Type the customer's address to confirm: ")?;
    err.flush()?;
    let mut typed = String::new();
    std::io::stdin().lock().read_line(&mut typed)?;
    Ok(Some(vec!["--confirm".into(), typed.trim().to_string()]))
}
