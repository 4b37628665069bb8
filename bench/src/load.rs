//! `sealdesk-bench load`: does one agent's keypress still get its frame at once while
//! others load the server? Keypress → frame for one agent (a) with the server idle,
//! (b) while another agent types into a note as fast as the network allows, (c) while
//! another saves a note every 100 ms, (d) while mail arrives at 50 messages a second.
//!
//! The probe key opens the help page and closes it again (`?` twice), and the time is
//! until the screen shows the change: a frame drawn for arriving mail cannot pass for an
//! answer, and no desk call is timed, only the session's turn-around.

use super::fixture::{agent_keys, fill_queue, register_agents, BenchDesk};
use super::mailgen;
use super::screen::Screen;
use super::server::Server;
use super::smtp_client::SmtpClient;
use super::ssh_client::{loopback_source, AgentKey, Terminal};
use super::stats::{fmt_duration, Samples, Table};
use super::{note, Place, Rng};
use anyhow::{bail, Context, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const COLS: u16 = 120;
const ROWS: u16 = 40;
const PER_ADDRESS: usize = 8;
const WAIT: Duration = Duration::from_secs(60);
/// The bound asked for: each loaded case within this factor of the idle p99.
const WITHIN: f64 = 1.5;
/// Bytes the typist sends at a time (the SSH client cuts them into packets).
const TYPED_CHUNK: usize = 32_000;
/// SMTP connections the mail is sent over (each sends its share of the rate).
const MAIL_CONNECTIONS: usize = 4;

#[derive(Clone, Debug)]
pub(crate) struct LoadArgs {
    pub tickets: usize,
    /// Probe keys per case and run (half open the help page, half close it).
    pub presses: usize,
    pub runs: usize,
    /// Mails a second in case (d).
    pub mail_rate: u32,
    /// How often a note is saved in case (c).
    pub note_every: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Idle,
    Typing,
    Notes,
    Mail,
}

const CASES: [Case; 4] = [Case::Idle, Case::Typing, Case::Notes, Case::Mail];

impl Case {
    fn label(self, args: &LoadArgs) -> String {
        match self {
            Case::Idle => "(a) idle".into(),
            Case::Typing => "(b) another agent types into a note, flat out".into(),
            Case::Notes => format!(
                "(c) another agent saves a note every {}",
                fmt_duration(args.note_every)
            ),
            Case::Mail => format!("(d) mail arrives at {}/s", args.mail_rate),
        }
    }
}

/// One case in one run: the probe's samples and what the load achieved.
struct Measured {
    samples: Samples,
    load: String,
}

pub(crate) fn run(place: &Place, args: &LoadArgs) -> Result<()> {
    let mut bench = BenchDesk::create(place, "load", true)?;
    let agents = agent_keys(2);
    let names: Vec<String> = agents.iter().map(|a| a.name.clone()).collect();
    let store = bench.open_store()?;
    fill_queue(
        &store,
        &mut Rng::new(42),
        args.tickets,
        (args.tickets / 10).max(1),
        &names,
        1,
    )?;
    drop(store);
    register_agents(&bench.open()?, &agents)?;
    bench.move_keys()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let mut runs: Vec<Vec<Measured>> = Vec::new();
    for run in 0..args.runs {
        note(&format!("run {}/{}", run + 1, args.runs));
        let log = bench.dir().join(format!("load-{run}.log"));
        let server = Server::start(&bench.paths, &log)?;
        let measured = runtime.block_on(one_run(&server, &agents, args));
        server.stop()?;
        runs.push(measured?);
    }
    table(args, &runs).print();
    Ok(())
}

fn table(args: &LoadArgs, runs: &[Vec<Measured>]) -> Table {
    let mut t = Table::new(
        "bench load: one agent's keypress → frame while others load the server",
        &[
            "case",
            "p99 (median of runs)",
            "p99 of each run",
            "median",
            "× idle p99",
            "load achieved (each run)",
        ],
    );
    t.setup(format!(
        "{} tickets; probe: russh client, pty {COLS}×{ROWS}, `?` opens the help page and `?` closes it, {} keys per case and run, until the screen shows the change; {} runs, each on a fresh server",
        args.tickets,
        args.presses,
        runs.len()
    ));
    let median_of = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut idle = Duration::ZERO;
    for (i, case) in CASES.iter().enumerate() {
        let mut p99s: Vec<Duration> = runs.iter().map(|r| r[i].samples.p99()).collect();
        let each = p99s.iter().map(|d| fmt_duration(*d)).collect::<Vec<_>>();
        let p99 = median_of(&mut p99s);
        let mut medians: Vec<Duration> = runs.iter().map(|r| r[i].samples.median()).collect();
        let median = median_of(&mut medians);
        if *case == Case::Idle {
            idle = p99;
        }
        let ratio = p99.as_secs_f64() / idle.as_secs_f64().max(1e-9);
        let verdict = match *case {
            Case::Idle => "1.00".to_string(),
            _ if ratio <= WITHIN => format!("{ratio:.2} (within {WITHIN}×)"),
            _ => format!("{ratio:.2} (NOT within {WITHIN}×)"),
        };
        let load = runs
            .iter()
            .map(|r| r[i].load.clone())
            .collect::<Vec<_>>()
            .join("; ");
        t.row(vec![
            case.label(args),
            fmt_duration(p99),
            each.join(", "),
            fmt_duration(median),
            verdict,
            load,
        ]);
    }
    t
}

async fn one_run(server: &Server, agents: &[AgentKey], args: &LoadArgs) -> Result<Vec<Measured>> {
    let mut probe = Terminal::open(
        server.ssh,
        loopback_source(0, PER_ADDRESS),
        &agents[0],
        COLS,
        ROWS,
    )
    .await?;
    probe.wait_for(WAIT, queue_shown).await?;
    probe.drain(Duration::from_millis(300)).await?;
    let mut measured = Vec::new();
    for case in CASES {
        server.wait_idle().await?;
        let typed = Arc::new(AtomicU64::new(0));
        let load = start_load(case, server, &agents[1], args, Arc::clone(&typed)).await?;
        // Let the load reach its pace (and a typist fill the window) before the first
        // probe key.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let counted_from = (typed.load(Ordering::Relaxed), Instant::now());
        let samples = presses(&mut probe, args.presses).await?;
        let rate = (typed.load(Ordering::Relaxed) - counted_from.0) as f64
            / counted_from.1.elapsed().as_secs_f64();
        for task in load {
            task.abort();
            let _ = task.await;
        }
        let load = match case {
            Case::Idle => "-".to_string(),
            Case::Typing => format!("{:.1} MB/s typed", rate * TYPED_CHUNK as f64 / 1e6),
            Case::Notes => format!("{rate:.1} notes/s sent (n, text, Ctrl-S)"),
            Case::Mail => format!("{rate:.1} mails/s"),
        };
        note(&format!(
            "{}: p99 {}, {load}",
            case.label(args),
            fmt_duration(samples.p99())
        ));
        measured.push(Measured { samples, load });
    }
    probe.close().await;
    Ok(measured)
}

/// Starts the load of `case` as `agent` (or over SMTP); its tasks, to abort when done.
/// `done` counts what it achieved: chunks typed, notes saved, mails accepted.
async fn start_load(
    case: Case,
    server: &Server,
    agent: &AgentKey,
    args: &LoadArgs,
    done: Arc<AtomicU64>,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    match case {
        Case::Idle => Ok(Vec::new()),
        Case::Typing => {
            let mut term = open_ticket(server, agent).await?;
            term.type_bytes(b"n").await?;
            term.wait_for(WAIT, |s| s.contains("Internal note")).await?;
            // Lines of letters, each ending in Enter, as keys (no bracketed paste).
            let line: Vec<u8> = (0..99u8).map(|i| b'a' + i % 26).chain([b'\r']).collect();
            let chunk = line.repeat(TYPED_CHUNK / line.len());
            Ok(vec![term.type_in_background(
                move || (Duration::ZERO, chunk.clone()),
                done,
            )])
        }
        Case::Notes => {
            let term = open_ticket(server, agent).await?;
            let every = args.note_every;
            let mut n = 0u64;
            // `n` opens the note editor, Ctrl-S saves the note and closes it.
            Ok(vec![term.type_in_background(
                move || {
                    n += 1;
                    (every, format!("nload note {n}\x13").into_bytes())
                },
                done,
            )])
        }
        Case::Mail => {
            let each =
                Duration::from_secs_f64(MAIL_CONNECTIONS as f64 / f64::from(args.mail_rate.max(1)));
            let mut tasks = Vec::new();
            for c in 0..MAIL_CONNECTIONS {
                let mut client = SmtpClient::connect(server.smtp).await?;
                let done = Arc::clone(&done);
                tasks.push(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(each);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    for i in 0.. {
                        tick.tick().await;
                        let subject = format!("load mail {c}.{i}");
                        let mail = mailgen::probe(c * 1_000_000 + i, &subject);
                        match client.send(&mail).await {
                            Ok(sent) if sent.acked.is_some() => {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            Err(_) => return,
                        }
                    }
                }));
            }
            Ok(tasks)
        }
    }
}

/// A second agent's session on the newest ticket.
async fn open_ticket(server: &Server, agent: &AgentKey) -> Result<Terminal> {
    let mut term = Terminal::open(
        server.ssh,
        loopback_source(1, PER_ADDRESS),
        agent,
        COLS,
        ROWS,
    )
    .await?;
    term.wait_for(WAIT, queue_shown).await?;
    term.type_bytes(b"\r").await?;
    term.wait_for(WAIT, |s| s.contains("Thread (")).await?;
    Ok(term)
}

fn queue_shown(screen: &Screen) -> bool {
    screen.contains("Queue (")
}

fn help_shown(screen: &Screen) -> bool {
    screen.contains("Keys:")
}

/// `n` probe keys, alternately opening and closing the help page; each timed from the
/// key sent to the output that showed the change.
async fn presses(term: &mut Terminal, n: usize) -> Result<Samples> {
    let mut samples = Samples::new();
    for i in 0..n {
        let open = i % 2 == 0;
        term.drain(Duration::from_millis(20)).await?;
        if help_shown(&term.screen) == open {
            bail!(
                "the help page is already {}",
                if open { "open" } else { "closed" }
            );
        }
        let sent = Instant::now();
        term.type_bytes(b"?").await?;
        let at = term
            .wait_for(WAIT, |s| help_shown(s) == open)
            .await
            .with_context(|| format!("probe key {i}"))?;
        samples.push(at.saturating_duration_since(sent));
    }
    Ok(samples)
}
