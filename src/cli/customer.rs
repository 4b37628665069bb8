use super::output::{print_json, safe};
use super::ticket::ticket_json;
use super::Global;
use crate::desk::Actor;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Show a customer's profile and tickets.
    Show {
        email: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(g: &Global, cmd: CustomerCommand) -> Result<i32> {
    let actor = Actor::local_admin();
    match cmd {
        CustomerCommand::Show { email, json } => {
            let desk = g.open_desk()?;
            let (c, tickets) = desk.customer_by_email(&actor, &email)?;
            if json {
                print_json(&serde_json::json!({
                    "id": c.id.to_string(),
                    "name": c.name,
                    "emails": c.emails,
                    "locale": c.locale,
                    "flags": { "minor": c.flags.minor, "legal_hold": c.flags.legal_hold, "previously_erased": c.flags.previously_erased },
                    "created": c.created.rfc3339(),
                    "tickets": tickets.iter().map(ticket_json).collect::<Vec<_>>(),
                }))?;
            } else {
                println!("Customer {}", c.id);
                println!(
                    "  name:      {}",
                    if c.name.is_empty() {
                        "-".into()
                    } else {
                        safe(&c.name)
                    }
                );
                println!(
                    "  addresses: {}",
                    c.emails
                        .iter()
                        .map(|e| safe(e).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                println!(
                    "  locale:    {}",
                    c.locale.as_deref().map(safe).unwrap_or("-".into())
                );
                let mut flags = Vec::new();
                if c.flags.minor {
                    flags.push("minor");
                }
                if c.flags.legal_hold {
                    flags.push("legal hold");
                }
                if c.flags.previously_erased {
                    flags.push("previously erased");
                }
                println!(
                    "  flags:     {}",
                    if flags.is_empty() {
                        "-".into()
                    } else {
                        flags.join(", ")
                    }
                );
                println!("  since:     {}", c.created);
                println!("  tickets:   {}", tickets.len());
                for t in &tickets {
                    println!(
                        "    {:>6}  {:<8} {}",
                        t.number.to_string(),
                        t.status.as_str(),
                        safe(&t.subject)
                    );
                }
            }
        }
    }
    Ok(0)
}
