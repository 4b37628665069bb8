//! `sealdesk-bench report`: each of the six reports over a big desk (100,000 tickets by
//! default), in the desk itself: what `sealdesk report` and the TUI's Reports screen
//! wait for. The target is under 200 ms each (a release build).

use super::fixture::{add_requests, agent_keys, bench_actor, fill_queue, BenchDesk, Filler};
use super::stats::{fmt_duration, Samples, Table};
use super::{note, Place, Rng};
use anyhow::Result;
use sealdesk_model::{GroupBy, Period, ReportKind, ReportQuery};
use std::time::Instant;

#[derive(Clone, Debug)]
pub(crate) struct ReportArgs {
    pub tickets: usize,
    pub customers: usize,
    pub messages: usize,
    pub requests: usize,
    /// Timed runs of each report.
    pub runs: usize,
}

pub(crate) fn run(place: &Place, args: &ReportArgs) -> Result<()> {
    let started = Instant::now();
    let bench = BenchDesk::create(place, "report", true)?;
    // An SLA policy for every ticket, so that `sla` has outcomes to judge.
    let config = bench.paths.data.join("sealdesk.toml");
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str("\n[sla.policy.standard]\nfirst_response = \"1h\"\nresolution = \"24h\"\n");
    std::fs::write(&config, text)?;
    let assignees: Vec<String> = agent_keys(8).into_iter().map(|a| a.name).collect();
    let store = bench.open_store()?;
    let mut rng = Rng::new(42);
    let people = fill_queue(
        &store,
        &mut rng,
        args.tickets,
        args.customers,
        &assignees,
        args.messages,
    )?;
    let mut fill = Filler::new(&store);
    add_requests(&mut fill, &mut rng, &people, args.requests)?;
    fill.finish()?;
    drop(store);
    let desk = bench.open()?;
    let setup = started.elapsed();
    note(&format!("desk filled in {:.1} s", setup.as_secs_f64()));

    let mut table = Table::timing("Reports (Desk::report, in the desk)");
    table.setup(format!(
        "{} tickets ({} messages each) over 120 days, {} customers, {} privacy requests; default range (12 weeks); target < 200 ms each",
        args.tickets, args.messages, args.customers, args.requests
    ));
    // Built once, on the first report (a server builds the queue index at start).
    let t = Instant::now();
    desk.queue(&Default::default())?;
    let queue_index = t.elapsed();
    let t = Instant::now();
    desk.index_arrivals()?;
    let arrivals = t.elapsed();
    table.row(vec![
        "queue index built (once, before the first report)".into(),
        fmt_duration(queue_index),
        "-".into(),
        "1".into(),
        "reads and unseals every ticket".into(),
    ]);
    table.row(vec![
        "arrival times read (once, before the first `hours`)".into(),
        fmt_duration(arrivals),
        "-".into(),
        "1".into(),
        "reads every message; then kept current per unit of work".into(),
    ]);
    let cases: Vec<(String, ReportQuery)> = ReportKind::ALL
        .iter()
        .map(|&kind| (kind.to_string(), ReportQuery::new(kind)))
        .chain([
            ("volume --period day".to_string(), {
                let mut q = ReportQuery::new(ReportKind::Volume);
                q.period = Period::Day;
                q
            }),
            ("response-times --by agent".to_string(), {
                let mut q = ReportQuery::new(ReportKind::ResponseTimes);
                q.by = Some(GroupBy::Agent);
                q
            }),
            ("sla --by tag".to_string(), {
                let mut q = ReportQuery::new(ReportKind::Sla);
                q.by = Some(GroupBy::Tag);
                q
            }),
        ])
        .collect();
    let actor = bench_actor();
    let mut slowest = std::time::Duration::ZERO;
    for (name, query) in &cases {
        // The first run may read what is then kept in memory (the requests' dates).
        let t = Instant::now();
        desk.report(&actor, query)?;
        let first = t.elapsed();
        let mut samples = Samples::new();
        let mut rows = 0;
        for _ in 0..args.runs {
            let t = Instant::now();
            let report = desk.report(&actor, query)?;
            samples.push(t.elapsed());
            rows = report.rows.len();
        }
        slowest = slowest.max(samples.p99());
        table.samples(
            name,
            &samples,
            &format!("{rows} rows; first run {}", fmt_duration(first)),
        );
    }
    table.print();
    let verdict = if slowest < std::time::Duration::from_millis(200) {
        "every report under 200 ms"
    } else {
        "SLOWER than 200 ms"
    };
    println!("\nslowest p99: {} ({verdict})", fmt_duration(slowest));
    Ok(())
}
