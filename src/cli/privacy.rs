//! `sealdesk consent …`, `sealdesk request …` and `sealdesk customer set`: the privacy
//! promises, from the command line.

use super::output::{print_json, safe, Io};
use anyhow::Result;
use clap::Subcommand;
use sealdesk_desk::{request_json, urgency, Actor, Desk, NewConsent, Urgency};
use sealdesk_model::{
    ConsentActor, ConsentRecord, ConsentState, RequestId, RequestKind, TicketNo, Timestamp,
};

#[derive(Subcommand, Debug)]
pub enum ConsentCommand {
    /// The state per purpose, then the full history.
    List {
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Record consent given, refused, withdrawn or expired.
    Record {
        email: String,
        /// Purpose code, e.g. 040 (marketing).
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        state: ConsentState,
        /// Category codes it covers, e.g. C001 (repeatable).
        #[arg(long = "category")]
        categories: Vec<String>,
        /// How: email, phone, web form, paper…
        #[arg(long, default_value = "email")]
        method: String,
        /// What proves it, e.g. "Message-ID <…>".
        #[arg(long, default_value = "")]
        evidence: String,
        #[arg(long = "policy", default_value = "")]
        policy_version: String,
        /// For a minor: the guardian who gave consent.
        #[arg(long)]
        guardian: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RequestCommand {
    /// Open a privacy request; the due date follows from its kind.
    Open {
        email: String,
        #[arg(long)]
        kind: RequestKind,
        /// The ticket the request arrived in.
        #[arg(long)]
        ticket: Option<TicketNo>,
    },
    /// All requests, most urgent first.
    List {
        #[arg(long)]
        json: bool,
        /// Only the overdue ones; exits 3 when there is any (for cron and monitoring).
        #[arg(long)]
        overdue: bool,
    },
    /// Requests overdue or due within 3 days, and mail quarantined in the last day (as
    /// the server reports daily); --mail also mails it to admins with an address.
    Alarms {
        #[arg(long)]
        mail: bool,
    },
    /// Record how the requester's identity was verified.
    Verify {
        id: RequestId,
        #[arg(long)]
        method: String,
    },
    /// Mail a one-time code to the customer's known address.
    SendCode {
        id: RequestId,
    },
    /// Check the code the customer gave back.
    Confirm {
        id: RequestId,
        code: String,
    },
    Start {
        id: RequestId,
    },
    /// Extend the deadline once, with a reason.
    Extend {
        id: RequestId,
        #[arg(long)]
        reason: String,
    },
    Complete {
        id: RequestId,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Refuse, with the reason (legal obligation, rights of others…).
    Deny {
        id: RequestId,
        #[arg(long)]
        reason: String,
    },
}

pub(super) fn consent(desk: &Desk, actor: &Actor, cmd: ConsentCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        ConsentCommand::List { email, json } => {
            let customer = desk.find_customer(actor, &email)?;
            let (states, ledger) = desk.consent_overview(actor, &customer)?;
            if json {
                let current: Vec<_> = states
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "purpose": s.purpose.code,
                            "name": s.purpose.name,
                            "state": s.current.as_ref().map(|r| r.state.as_str()),
                            "since": s.current.as_ref().map(|r| r.at.rfc3339()),
                            "by": s.current.as_ref().map(|r| actor_text(&r.actor)),
                            "method": s.current.as_ref().map(|r| r.method.clone()),
                            "policy_version": s.current.as_ref().map(|r| r.policy_version.clone()),
                        })
                    })
                    .collect();
                let history: Vec<_> = ledger.iter().map(record_json).collect();
                print_json(
                    io.out,
                    &serde_json::json!({ "current": current, "history": history }),
                )?;
            } else {
                writeln!(
                    io.out,
                    "{:<5} {:<44} {:<10} {:<21} BY",
                    "CODE", "PURPOSE", "STATE", "SINCE"
                )?;
                for s in &states {
                    let (state, since, by) = match &s.current {
                        Some(r) => (r.state.as_str(), r.at.rfc3339(), actor_text(&r.actor)),
                        None => ("-", "-".into(), "-".into()),
                    };
                    writeln!(
                        io.out,
                        "{:<5} {:<44} {:<10} {:<21} {}",
                        s.purpose.code,
                        s.purpose.name,
                        state,
                        since,
                        safe(&by)
                    )?;
                }
                writeln!(io.out, "\nHistory ({} entries):", ledger.len())?;
                for r in &ledger {
                    writeln!(
                        io.out,
                        "  {} {} {} by {} via {} [{}] {} policy {}",
                        r.at,
                        r.purpose,
                        r.state,
                        safe(&actor_text(&r.actor)),
                        safe(&r.method),
                        r.categories.join(","),
                        safe(&r.evidence),
                        safe(&r.policy_version)
                    )?;
                }
            }
        }
        ConsentCommand::Record {
            email,
            purpose,
            state,
            categories,
            method,
            evidence,
            policy_version,
            guardian,
        } => {
            let customer = desk.find_customer(actor, &email)?;
            let r = desk.record_consent(
                actor,
                &customer,
                NewConsent {
                    purpose: &purpose,
                    state,
                    categories: &categories,
                    method: &method,
                    evidence: &evidence,
                    policy_version: &policy_version,
                    guardian: guardian.as_deref(),
                },
            )?;
            writeln!(
                io.out,
                "recorded: purpose {} {} (entry {})",
                r.purpose, r.state, r.seq
            )?;
        }
    }
    Ok(0)
}

fn actor_text(a: &ConsentActor) -> String {
    match a {
        ConsentActor::Customer => "customer".into(),
        ConsentActor::Agent { name } => name.clone(),
        ConsentActor::Guardian { name, recorded_by } => {
            format!("guardian {name} (recorded by {recorded_by})")
        }
    }
}

fn record_json(r: &ConsentRecord) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq,
        "purpose": r.purpose,
        "categories": r.categories,
        "state": r.state.as_str(),
        "at": r.at.rfc3339(),
        "by": actor_text(&r.actor),
        "guardian": matches!(r.actor, ConsentActor::Guardian { .. }),
        "method": r.method,
        "evidence": r.evidence,
        "policy_version": r.policy_version,
    })
}

pub(super) fn request(desk: &Desk, actor: &Actor, cmd: RequestCommand, io: &mut Io) -> Result<i32> {
    let now = Timestamp::now();
    let r = match cmd {
        RequestCommand::Open {
            email,
            kind,
            ticket,
        } => {
            let customer = desk.find_customer(actor, &email)?;
            desk.open_request(actor, &customer, kind, ticket)?
        }
        RequestCommand::Alarms { mail } => {
            let report = desk.run_alarms(actor, now, mail)?;
            if report.is_quiet() {
                writeln!(
                    io.out,
                    "nothing overdue, nothing due within 3 days, nothing new in quarantine"
                )?;
            } else {
                write!(io.out, "{}", report.body())?;
            }
            if !report.mailed_to.is_empty() {
                writeln!(io.out, "mailed to {} admin(s)", report.mailed_to.len())?;
            }
            return Ok(0);
        }
        RequestCommand::List { json, overdue } => {
            let mut all = desk.requests()?;
            if overdue {
                all.retain(|r| urgency(r, now) == Urgency::Overdue);
            }
            if json {
                print_json(
                    io.out,
                    &all.iter().map(|r| request_json(r, now)).collect::<Vec<_>>(),
                )?;
            } else if all.is_empty() {
                writeln!(
                    io.out,
                    "{}",
                    if overdue {
                        "no overdue privacy requests"
                    } else {
                        "no privacy requests"
                    }
                )?;
            } else {
                for r in &all {
                    let mark = match urgency(r, now) {
                        Urgency::Overdue => "OVERDUE ",
                        Urgency::DueSoon => "due soon",
                        _ => "",
                    };
                    writeln!(
                        io.out,
                        "{}  {:<19} {:<11} due {}  {mark}",
                        r.id,
                        r.kind.as_str(),
                        r.status.as_str(),
                        r.due
                    )?;
                }
            }
            if overdue && !all.is_empty() {
                writeln!(
                    io.err,
                    "{} privacy request(s) overdue: answer, extend or deny them (`sealdesk request list`)",
                    all.len()
                )?;
                return Ok(3);
            }
            return Ok(0);
        }
        RequestCommand::Verify { id, method } => desk.verify_request(actor, &id, &method)?,
        RequestCommand::SendCode { id } => desk.send_verification_code(actor, &id)?,
        RequestCommand::Confirm { id, code } => desk.confirm_code(actor, &id, &code)?,
        RequestCommand::Start { id } => desk.start_request(actor, &id)?,
        RequestCommand::Extend { id, reason } => desk.extend_request(actor, &id, &reason)?,
        RequestCommand::Complete { id, note } => desk.complete_request(actor, &id, &note)?,
        RequestCommand::Deny { id, reason } => desk.deny_request(actor, &id, &reason)?,
    };
    writeln!(io.out, "{}  {}  {}  due {}", r.id, r.kind, r.status, r.due)?;
    Ok(0)
}
