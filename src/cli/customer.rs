use super::output::{print_json, safe, Io};
use super::ticket::ticket_json;
use anyhow::Result;
use clap::Subcommand;
use sealdesk_desk::{Actor, Authority, Desk};

#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Export everything held about a customer as one .tar.gz (JSON, original mails,
    /// attachments, a readable index.html, SHA256SUMS), kept sealed in the desk with
    /// the customer's key; --out also writes it to a file (recorded and audited).
    Export {
        email: String,
        /// Also write the archive to this new file: a copy outside the desk, which the
        /// erasure preview will list so you can delete it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// The privacy request this answers.
        #[arg(long)]
        request: Option<sealdesk_model::RequestId>,
        /// Also mail the archive to the customer's address (needs --request with a
        /// verified identity; within mail.max_size).
        #[arg(long, requires = "request")]
        mail: bool,
        /// Admins: export without a verified request; the reason is audited.
        #[arg(long = "override", value_name = "REASON", conflicts_with = "request")]
        override_reason: Option<String>,
    },
    /// List a customer's exports and where each went; --save ID --out FILE writes a
    /// stored one to a file.
    Exports {
        email: String,
        #[arg(long)]
        json: bool,
        /// The export to write out (with --out).
        #[arg(long, requires = "out")]
        save: Option<sealdesk_model::ExportId>,
        /// The new file to write it to (recorded and audited).
        #[arg(long, requires = "save")]
        out: Option<std::path::PathBuf>,
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
        /// Only show what the erasure would delete and keep, and every copy of an
        /// export written outside the desk; change nothing.
        #[arg(long, conflicts_with_all = ["yes", "confirm"])]
        preview: bool,
        /// The verified erasure request this answers.
        #[arg(long)]
        request: Option<sealdesk_model::RequestId>,
        /// Admins: erase without a verified erasure request; the reason is audited.
        #[arg(long = "override", value_name = "REASON", conflicts_with = "request")]
        override_reason: Option<String>,
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
        /// Restriction of processing: while set, replies and non-mandatory mail are
        /// refused unless an admin overrides with a reason.
        #[arg(long)]
        restricted: Option<bool>,
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

pub(super) fn run(desk: &Desk, actor: &Actor, cmd: CustomerCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        CustomerCommand::Export {
            email,
            out,
            request,
            mail,
            override_reason,
        } => {
            let c = desk.find_customer(actor, &email)?;
            let authority = Authority::from_flags(request, override_reason);
            if let (true, Some(request)) = (mail, &request) {
                desk.check_mailable(&c, request)?;
            }
            let record = desk.create_export(actor, &c, &authority)?;
            writeln!(
                io.out,
                "export {} kept sealed in the desk ({} files, {} bytes)",
                record.id, record.files, record.size
            )?;
            if let Some(out) = out {
                let path = desk.write_export_file(actor, &record.id, &out)?;
                writeln!(
                    io.out,
                    "exported {} files ({} bytes) to {}: a copy outside the desk, listed when the customer is erased",
                    record.files,
                    record.size,
                    path.display()
                )?;
            }
            if let (true, Some(request)) = (mail, request) {
                let to = desk.mail_export(actor, &record.id, &request)?;
                writeln!(io.out, "queued by mail to {}", safe(&to))?;
            }
        }
        CustomerCommand::Exports {
            email,
            json,
            save,
            out,
        } => {
            let c = desk.find_customer(actor, &email)?;
            if let (Some(id), Some(out)) = (save, out) {
                let path = desk.write_export_file(actor, &id, &out)?;
                writeln!(io.out, "wrote export {id} to {}", path.display())?;
                return Ok(0);
            }
            let exports = desk.exports_of(&c)?;
            if json {
                let docs: Vec<_> = exports
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id.to_string(),
                            "created": r.created.rfc3339(),
                            "by": r.by,
                            "size": r.size,
                            "files": r.files,
                            "request": r.request.map(|q| q.to_string()),
                            "content_deleted": r.content_deleted.map(|t| t.rfc3339()),
                            "deliveries": r.deliveries.iter().map(|d| serde_json::json!({
                                "at": d.at.rfc3339(),
                                "by": d.by,
                                "how": match d.way { sealdesk_model::ExportWay::Mail { .. } => "mail", sealdesk_model::ExportWay::File { .. } => "file" },
                                "to": desk.delivery_target(d, &c),
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                print_json(io.out, &serde_json::json!(docs))?;
            } else if exports.is_empty() {
                writeln!(io.out, "no exports of {}", safe(&email))?;
            } else {
                for r in &exports {
                    writeln!(
                        io.out,
                        "{}  {}  by {}  {} bytes{}",
                        r.id,
                        r.created,
                        safe(&r.by),
                        r.size,
                        r.request.map(|q| format!("  for {q}")).unwrap_or_default()
                    )?;
                    for d in &r.deliveries {
                        let how = match d.way {
                            sealdesk_model::ExportWay::Mail { .. } => "mailed to",
                            sealdesk_model::ExportWay::File { .. } => "written to",
                        };
                        writeln!(
                            io.out,
                            "    {how} {} on {} by {}",
                            desk.delivery_target(d, &c),
                            d.at,
                            safe(&d.by)
                        )?;
                    }
                }
            }
        }
        CustomerCommand::Cancel {
            email,
            preview: true,
            ..
        } => {
            writeln!(io.out, "{}", desk.erasure_preview(actor, &email)?)?;
        }
        CustomerCommand::Cancel {
            email,
            yes,
            confirm,
            preview: false,
            request,
            override_reason,
        } => {
            let typed = match (yes, confirm) {
                (true, _) => email.clone(),
                (false, Some(t)) => t,
                (false, None) => anyhow::bail!("erasure needs confirmation: run it in a terminal to type the address, or pass --yes"),
            };
            let authority = Authority::from_flags(request, override_reason);
            let counts = desk.cancel_customer(actor, &email, &typed, &authority)?;
            writeln!(
                io.out,
                "erased: {} messages turned into placeholders, {} attachments, {} original mails, {} consent records, {} quarantined mails and {} stored exports deleted; the customer's key is destroyed",
                counts.messages, counts.attachments, counts.raw_mails, counts.consents, counts.quarantined, counts.exports
            )?;
        }
        CustomerCommand::Set {
            email,
            name,
            locale,
            minor,
            legal_hold,
            restricted,
        } => {
            let mut c = desk.find_customer(actor, &email)?;
            if let Some(r) = restricted {
                desk.set_restricted(actor, &c, r)?;
                writeln!(
                    io.out,
                    "{}",
                    if r {
                        "restricted: replies and non-mandatory mail are refused"
                    } else {
                        "restriction lifted"
                    }
                )?;
                if name.is_none() && locale.is_none() && minor.is_none() && legal_hold.is_none() {
                    return Ok(0);
                }
                c = desk.find_customer(actor, &email)?;
            }
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
                anyhow::bail!("nothing to change: give --name, --locale, --minor true|false, --legal-hold true|false or --restricted true|false");
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
                        "flags": c.flags,
                        "created": c.created.rfc3339(),
                        "tickets": tickets.iter().map(ticket_json).collect::<Vec<_>>(),
                        "notices": notices.iter().map(|n| serde_json::json!({
                            "notice_id": n.notice.to_string(), "direction": "outbound", "kind": n.kind.as_str(),
                            "subject": n.subject, "queued": n.queued.rfc3339(),
                            "delivery": sealdesk_desk::delivery_json(&n.delivery),
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
                        safe(t.subject.as_str())
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

fn delivery_word(d: &sealdesk_model::Delivery) -> &'static str {
    match d {
        sealdesk_model::Delivery::Queued { .. } => "queued",
        sealdesk_model::Delivery::Sent { .. } => "sent",
        sealdesk_model::Delivery::Failed { .. } => "failed",
    }
}

/// One customer as `customer list --json` prints it. Fields in alphabetical order, the
/// order the output always had.
#[derive(serde::Serialize)]
struct CustomerListJson<'a> {
    #[serde(serialize_with = "sealdesk_model::Timestamp::serialize_rfc3339")]
    created: sealdesk_model::Timestamp,
    email: &'a str,
    /// As a JSON value, so its keys come out sorted like every other object's.
    flags: serde_json::Value,
    id: String,
    name: &'a str,
    tickets: usize,
}

impl<'a> From<&'a sealdesk_desk::CustomerRow> for CustomerListJson<'a> {
    fn from(r: &'a sealdesk_desk::CustomerRow) -> Self {
        let c = &r.customer;
        CustomerListJson {
            created: c.created,
            email: c.primary_email(),
            flags: serde_json::to_value(&c.flags).unwrap_or_default(),
            id: c.id.to_string(),
            name: &c.name,
            tickets: r.tickets,
        }
    }
}

fn list(desk: &Desk, actor: &Actor, json: bool, io: &mut Io) -> Result<()> {
    let rows = desk.customer_list(actor)?;
    if json {
        let docs: Vec<CustomerListJson> = rows.iter().map(Into::into).collect();
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
pub(super) fn confirm_cancel_interactively(cmd: &CustomerCommand) -> Result<Option<Vec<String>>> {
    use std::io::{BufRead, IsTerminal, Write as _};
    let CustomerCommand::Cancel {
        email: _,
        yes: false,
        confirm: None,
        preview: false,
        ..
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
    // The preview comes from the desk (through a running server if there is one):
    // the same command again with --preview.
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    args.push("--preview".into());
    let shown = std::process::Command::new(std::env::current_exe()?)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()?;
    if !shown.status.success() {
        err.write_all(&shown.stderr)?;
        anyhow::bail!("cannot show what the erasure would do: nothing was erased");
    }
    err.write_all(&shown.stdout)?;
    write!(err, "Type the customer's address to confirm: ")?;
    err.flush()?;
    let mut typed = String::new();
    std::io::stdin().lock().read_line(&mut typed)?;
    Ok(Some(vec!["--confirm".into(), typed.trim().to_string()]))
}

#[cfg(test)]
mod tests {
    use super::CustomerListJson;
    use sealdesk_desk::CustomerRow;
    use sealdesk_model::Customer;

    #[test]
    fn list_json_is_what_the_hand_built_json_was() {
        let mut customer = Customer::new("ann@example.com", "Ann \"A\" Example");
        customer.flags.legal_hold = true;
        let r = CustomerRow {
            customer,
            tickets: 3,
        };
        let c = &r.customer;
        let by_hand = serde_json::json!({
            "id": c.id.to_string(),
            "email": c.primary_email(),
            "name": c.name,
            "flags": { "minor": c.flags.minor, "legal_hold": c.flags.legal_hold, "previously_erased": c.flags.previously_erased, "restricted": c.flags.restricted },
            "tickets": r.tickets,
            "created": c.created.rfc3339(),
        });
        assert_eq!(
            serde_json::to_string_pretty(&[CustomerListJson::from(&r)]).unwrap(),
            serde_json::to_string_pretty(&[by_hand]).unwrap()
        );
    }
}
