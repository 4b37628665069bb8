//! `sealdesk-bench privacy`: (a) exporting and (b) erasing one customer with many
//! tickets among many other customers' tickets; (c) verifying a long audit chain.

use super::fixture::{self, add_customers, add_ticket, bench_actor, BenchDesk, Filler, TicketPlan};
use super::mailgen::Words;
use super::server::sealdesk;
use super::stats::{fmt_bytes, fmt_duration, Samples, Table};
use super::{note, Place, Rng};
use anyhow::{bail, Result};
use sealdesk_desk::AuditReport;
use sealdesk_model::{Customer, Priority, Status, Timestamp};
use std::time::Instant;

#[derive(Clone, Debug)]
pub(crate) struct PrivacyArgs {
    /// Tickets of the customer exported and erased.
    pub tickets: usize,
    /// Messages per ticket (the customer's mail, then replies and answers).
    pub messages: usize,
    /// Other customers' tickets.
    pub others: usize,
    pub other_customers: usize,
    /// Customers exported and erased (one per run).
    pub runs: usize,
    pub audit_events: usize,
}

pub(crate) fn run(place: &Place, args: &PrivacyArgs) -> Result<()> {
    customer_table(place, args)?.print();
    audit_table(place, args)?.print();
    Ok(())
}

/// Tickets for `customer` spread over the last two years, mostly closed.
fn add_history(
    fill: &mut Filler<'_>,
    rng: &mut Rng,
    customer: &Customer,
    tickets: usize,
    messages: usize,
) -> Result<()> {
    let now = Timestamp::now().0;
    for _ in 0..tickets {
        let created = now - 730 * 86_400 + rng.below(729 * 86_400) as i64;
        let plan = TicketPlan {
            customer,
            subject: Words::subject(rng),
            status: if rng.chance(90) {
                Status::Closed
            } else {
                Status::Open
            },
            priority: Priority::Normal,
            assignee: Some("agent00".into()),
            tags: Vec::new(),
            created: Timestamp(created),
            updated: Timestamp(created + 86_400),
            messages,
            text_len: 800,
            attachment: rng.chance(5).then_some(20 * 1024),
        };
        add_ticket(fill, rng, &plan)?;
    }
    Ok(())
}

fn customer_table(place: &Place, args: &PrivacyArgs) -> Result<Table> {
    let started = Instant::now();
    let mut bench = BenchDesk::create(place, "privacy", true)?;
    let store = bench.open_store()?;
    let mut fill = Filler::new(&store);
    let mut rng = Rng::new(11);
    let subjects = add_customers(&mut fill, &mut rng, args.runs, 1_000_000)?;
    for (i, c) in subjects.iter().enumerate() {
        note(&format!(
            "customer {} of {}: {} tickets",
            i + 1,
            subjects.len(),
            args.tickets
        ));
        add_history(&mut fill, &mut rng, c, args.tickets, args.messages)?;
    }
    note(&format!(
        "{} tickets of {} other customers",
        args.others, args.other_customers
    ));
    let others = add_customers(&mut fill, &mut rng, args.other_customers.max(1), 0)?;
    for i in 0..args.others {
        let c = &others[i % others.len()];
        add_history(&mut fill, &mut rng, c, 1, 2)?;
    }
    fill.finish()?;
    let setup = started.elapsed();
    drop(store);
    bench.move_keys()?;
    let desk = bench.open()?;
    let actor = bench_actor();
    let exports = bench.dir().join("exports");
    sealdesk_store::create_private_dir(&exports)?;

    let (mut gather, mut write, mut total, mut erase) = (
        Samples::new(),
        Samples::new(),
        Samples::new(),
        Samples::new(),
    );
    let (mut files, mut archive, mut erased_messages) = (0, 0, 0);
    for (i, c) in subjects.iter().enumerate() {
        note(&format!(
            "export and erase customer {} of {}",
            i + 1,
            subjects.len()
        ));
        let email = c.primary_email();
        let t = Instant::now();
        let found = desk.find_customer(&actor, email)?;
        let export = desk.export_customer(&actor, &found, None)?;
        let collected = t.elapsed();
        let t = Instant::now();
        archive = sealdesk_desk::export_archive::write_tar_gz(
            &export,
            &exports.join(format!("{i}.tar.gz")),
        )?;
        let written = t.elapsed();
        gather.push(collected);
        write.push(written);
        total.push(collected + written);
        files = export.len();
        let t = Instant::now();
        let counts = desk.cancel_customer(&actor, email, email, &bench_override())?;
        erase.push(t.elapsed());
        erased_messages = counts.messages;
    }
    let total_tickets = args.tickets * args.runs + args.others;
    let mut table = Table::timing("bench privacy (a, b): export and erasure of one customer");
    table.setup(format!(
        "each customer: {} tickets × {} messages (5% with a 20 KiB attachment) among {} tickets in all ({} other customers); one customer per run",
        args.tickets, args.messages, total_tickets, args.other_customers
    ));
    table.setup(format!("desk built in {:.1} s (one flush at the end); in-process desk calls, as `sealdesk customer export/cancel` runs them", setup.as_secs_f64()));
    table.samples(
        "export: collect files (desk.export_customer)",
        &gather,
        &format!("{files} files"),
    );
    table.samples("export: write .tar.gz + fsync", &write, &fmt_bytes(archive));
    table.samples("export, total", &total, "");
    table.samples(
        "cancellation (erasure)",
        &erase,
        &format!("{erased_messages} messages made placeholders, key destroyed"),
    );
    Ok(table)
}

fn audit_table(place: &Place, args: &PrivacyArgs) -> Result<Table> {
    let bench = BenchDesk::create(place, "audit", false)?;
    let store = bench.open_store()?;
    let mut fill = Filler::new(&store);
    let mut rng = Rng::new(5);
    let customers = add_customers(&mut fill, &mut rng, 100, 0)?;
    note(&format!("{} audit events", args.audit_events));
    const ACTIONS: &[&str] = &[
        "mail.new-ticket",
        "ticket.view",
        "ticket.reply",
        "ticket.status",
        "session.login",
    ];
    let started = Instant::now();
    for i in 0..args.audit_events {
        let customer = (i % 5 != 4).then(|| &customers[i % customers.len()]);
        fixture::audit(
            &mut fill,
            ACTIONS[i % ACTIONS.len()],
            &format!("#{}", i / 3 + 1),
            customer,
        )?;
    }
    fill.finish()?;
    let built = started.elapsed();
    drop(store);
    let desk = bench.open()?;

    let mut in_process = Samples::new();
    for run in 0..args.runs {
        note(&format!("audit verify, in process, run {}", run + 1));
        let t = Instant::now();
        match desk.verify_audit()? {
            AuditReport::Intact { events, .. } if events as usize >= args.audit_events => {}
            other => bail!("the audit chain does not verify: {other:?}"),
        }
        in_process.push(t.elapsed());
    }
    drop(desk);
    let mut cli = Samples::new();
    for run in 0..args.runs {
        note(&format!("sealdesk audit verify, run {}", run + 1));
        let t = Instant::now();
        let out = sealdesk(&bench.paths)?.args(["audit", "verify"]).output()?;
        cli.push(t.elapsed());
        if !out.status.success() {
            bail!(
                "sealdesk audit verify failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let mut table = Table::timing("bench privacy (c): audit verify");
    table.setup(format!(
        "{} events appended through Store::append_audit (one flush at the end: {}), 80% naming a customer pseudonym",
        args.audit_events,
        fmt_duration(built)
    ));
    table.samples(
        "desk.verify_audit (in process, store open)",
        &in_process,
        "",
    );
    table.samples(
        "`sealdesk audit verify` (real binary, no server)",
        &cli,
        "includes opening the store",
    );
    Ok(table)
}

/// The bench exports and erases as an admin would without a request: by override.
fn bench_override() -> sealdesk_desk::Authority {
    sealdesk_desk::Authority::Override("bench".into())
}
