//! `sealdesk-bench …`: benchmarks on throwaway desks in a scratch dir (never the data
//! dir). Run them on a release build; see BENCHMARKS.md for figures and how to read them.

use crate::import::ImportArgs;
use crate::ingest::IngestArgs;
use crate::load::LoadArgs;
use crate::mailgen::MailSize;
use crate::notify::NotifyArgs;
use crate::privacy::PrivacyArgs;
use crate::queue::QueueArgs;
use crate::{server, Place};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Benchmarks for sealdesk on throwaway desks (never your data): speed and memory of the
/// `sealdesk` binary beside this one, driven over real SSH and SMTP. See BENCHMARKS.md.
#[derive(Parser, Debug)]
#[command(name = "sealdesk-bench", version)]
pub(crate) struct BenchArgs {
    /// Where the throwaway desks go (default: the system temp dir). The disk under it is
    /// the disk measured.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The sealdesk binary measured (default: `sealdesk` beside this executable).
    #[arg(long, env = "SEALDESK_BIN", value_name = "PATH")]
    pub sealdesk: Option<PathBuf>,
    #[command(subcommand)]
    pub what: BenchCommand,
}

#[derive(Subcommand, Debug)]
pub(crate) enum BenchCommand {
    /// Queue filtering per keystroke, server start-up, keypress → frame latency over SSH,
    /// server memory with 1 and many sessions, new mail → screen, on a big desk.
    Queue {
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        /// Messages per ticket (the customer's mail, then replies and answers in turn).
        #[arg(long, default_value_t = 3)]
        messages: usize,
        /// Keystrokes timed in the SSH session.
        #[arg(long, default_value_t = 300)]
        keystrokes: usize,
        /// Concurrent SSH sessions for the memory figure.
        #[arg(long, default_value_t = 50)]
        sessions: usize,
        /// Server starts timed.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Probe mails timed to the screen, with 1 and with all sessions open.
        #[arg(long, default_value_t = 20)]
        probes: usize,
        /// Mails sent at once (4 SMTP connections) with all sessions open.
        #[arg(long, default_value_t = 500)]
        burst: usize,
        /// Run the server with `search.bodies = false` (no body index): the baseline
        /// the body index's memory and start-up are compared with.
        #[arg(long)]
        no_bodies: bool,
    },
    /// Part 11: mail appended to a hosted mailbox (a private Dovecot) → ticket stored,
    /// through IDLE.
    Imap {
        #[arg(long, default_value_t = 200)]
        appends: usize,
        /// Milliseconds between appends.
        #[arg(long, default_value_t = 50)]
        gap_ms: u64,
    },
    /// Durable ingest throughput over SMTP and `sealdesk ingest`, the in-memory bound,
    /// and mail → agent's screen latency.
    Ingest {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Message size: 4k (text, some HTML) or 100k (with an attachment).
        #[arg(long, default_value = "4k", value_parser = MailSize::parse)]
        size: MailSize,
        /// Concurrent SMTP connections to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
        connections: Vec<usize>,
        /// Concurrent `sealdesk ingest` processes to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "4,8")]
        processes: Vec<usize>,
        /// Messages sent through processes per measurement.
        #[arg(long, default_value_t = 1_000)]
        process_messages: usize,
        /// Probe mails timed from the 250 to an agent's screen (0: skip).
        #[arg(long, default_value_t = 100)]
        probes: usize,
        /// Fresh desks per throughput measurement.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// `sealdesk import mbox` of generated mail: messages/s and peak memory, without a
    /// server and through a running one.
    Import {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Message size: 4k (text, some HTML) or 100k (with an attachment).
        #[arg(long, default_value = "4k", value_parser = MailSize::parse)]
        size: MailSize,
        /// Fresh desks per setup.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// One agent's keypress → frame, idle and while others type flat out, save notes
    /// and mail arrives.
    Load {
        #[arg(long, default_value_t = 10_000)]
        tickets: usize,
        /// Probe keys per case and run.
        #[arg(long, default_value_t = 200)]
        presses: usize,
        /// Fresh servers, each measuring every case.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Mails a second while mail arrives.
        #[arg(long, default_value_t = 50)]
        mail_rate: u32,
        /// Milliseconds between notes saved.
        #[arg(long, default_value_t = 100)]
        note_ms: u64,
    },
    /// Part 12: each report (volume, backlog, response-times, sla, hours, privacy) over
    /// a big desk: median and p99 of --runs, against the 200 ms target.
    Report {
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        /// Messages per ticket (the customer's mail, then replies and answers in turn).
        #[arg(long, default_value_t = 3)]
        messages: usize,
        /// Privacy requests.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        /// Timed runs of each report.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Export and erasure of one customer among many, and audit verification.
    /// Notification latency: a customer's reply over SMTP → the notification mail
    /// accepted by a real SMTP sink (the batching window excluded: see --window).
    Notify {
        /// Replies timed, one after another.
        #[arg(long, default_value_t = 50)]
        replies: usize,
        /// `notify.batch_window` in seconds (0: mail as soon as recorded).
        #[arg(long, default_value_t = 0)]
        window: u64,
    },
    /// Export and erasure of one customer with many tickets among many other customers'
    /// tickets, and verification of a long audit chain.
    Privacy {
        /// Tickets of each customer exported and erased.
        #[arg(long, default_value_t = 1_000)]
        tickets: usize,
        /// Messages per ticket.
        #[arg(long, default_value_t = 3)]
        messages: usize,
        /// Other customers' tickets (2 messages each).
        #[arg(long, default_value_t = 20_000)]
        others: usize,
        /// The customers those tickets belong to.
        #[arg(long, default_value_t = 2_000)]
        other_customers: usize,
        /// Customers exported and erased, and audit verifications.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Events in the audit chain verified.
        #[arg(long, default_value_t = 1_000_000)]
        audit_events: usize,
    },
}

pub(crate) fn run(args: BenchArgs) -> Result<()> {
    let exe = server::find_sealdesk(args.sealdesk)?;
    let place = Place::new(args.dir);
    println!("# sealdesk-bench ({})", machine());
    if cfg!(debug_assertions) {
        println!(
            "WARNING: a debug build; figures mean little. Use `cargo build --release --workspace`."
        );
    }
    println!("sealdesk: {}", exe.display());
    println!("scratch dir: {}", place.dir.display());
    match args.what {
        BenchCommand::Queue {
            tickets,
            customers,
            messages,
            keystrokes,
            sessions,
            runs,
            probes,
            burst,
            no_bodies,
        } => crate::queue::run(
            &place,
            &QueueArgs {
                tickets,
                customers: customers.clamp(1, tickets.max(1)),
                messages: messages.max(1),
                keys: keystrokes,
                sessions: sessions.max(1),
                runs: runs.max(1),
                probes,
                burst: burst.max(1),
                bodies: !no_bodies,
            },
        )?,
        BenchCommand::Report {
            tickets,
            customers,
            messages,
            requests,
            runs,
        } => crate::reports::run(
            &place,
            &crate::reports::ReportArgs {
                tickets,
                customers: customers.clamp(1, tickets.max(1)),
                messages: messages.max(1),
                requests,
                runs: runs.max(1),
            },
        )?,
        BenchCommand::Imap { appends, gap_ms } => crate::imap::run(
            &place,
            &crate::imap::ImapArgs {
                appends: appends.max(1),
                gap: std::time::Duration::from_millis(gap_ms),
            },
        )?,
        BenchCommand::Ingest {
            messages,
            size,
            connections,
            processes,
            process_messages,
            probes,
            runs,
        } => crate::ingest::run(
            &place,
            &IngestArgs {
                messages: messages.max(1),
                size,
                connections,
                processes,
                process_messages,
                probes,
                runs: runs.max(1),
            },
        )?,
        BenchCommand::Import {
            messages,
            size,
            runs,
        } => crate::import::run(
            &place,
            &ImportArgs {
                messages: messages.max(1),
                size,
                runs: runs.max(1),
            },
        )?,
        BenchCommand::Load {
            tickets,
            presses,
            runs,
            mail_rate,
            note_ms,
        } => crate::load::run(
            &place,
            &LoadArgs {
                tickets: tickets.max(1),
                presses: presses.max(2),
                runs: runs.max(1),
                mail_rate: mail_rate.max(1),
                note_every: std::time::Duration::from_millis(note_ms.max(1)),
            },
        )?,
        BenchCommand::Notify { replies, window } => crate::notify::run(
            &place,
            &NotifyArgs {
                replies: replies.max(1),
                window,
            },
        )?,
        BenchCommand::Privacy {
            tickets,
            messages,
            others,
            other_customers,
            runs,
            audit_events,
        } => crate::privacy::run(
            &place,
            &PrivacyArgs {
                tickets,
                messages: messages.max(1),
                others,
                other_customers,
                runs: runs.max(1),
                audit_events,
            },
        )?,
    }
    println!("\nfinished; load average now {}", load_average());
    Ok(())
}

/// Cores, memory and load, for the report.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or("?".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1_048_576.0)
        });
    format!(
        "{cores} cores, {memory}, load average {} at start",
        load_average()
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::{BenchArgs, BenchCommand};
    use clap::{CommandFactory, Parser};

    /// Every command and option parses; a bad size does not.
    #[test]
    fn every_bench_command_parses() {
        BenchArgs::command().debug_assert();
        for args in [
            &[
                "sealdesk-bench",
                "queue",
                "--keystrokes",
                "5",
                "--tickets",
                "10",
            ][..],
            &[
                "sealdesk-bench",
                "--dir",
                "/tmp",
                "ingest",
                "--size",
                "100k",
                "--connections",
                "2,3",
            ],
            &["sealdesk-bench", "privacy", "--audit-events", "10"],
            &[
                "sealdesk-bench",
                "import",
                "--messages",
                "50",
                "--runs",
                "1",
            ],
            &[
                "sealdesk-bench",
                "load",
                "--presses",
                "4",
                "--mail-rate",
                "5",
            ],
        ] {
            let cli = BenchArgs::try_parse_from(args).expect("parses");
            assert!(
                matches!(
                    cli.what,
                    BenchCommand::Queue { .. }
                        | BenchCommand::Ingest { .. }
                        | BenchCommand::Privacy { .. }
                        | BenchCommand::Import { .. }
                        | BenchCommand::Load { .. }
                ),
                "{args:?}"
            );
        }
        assert!(BenchArgs::try_parse_from(["sealdesk-bench", "ingest", "--size", "3k"]).is_err());
    }
}
