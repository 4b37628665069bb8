//! `sealdesk-bench import`: `sealdesk import mbox` of generated mail (the ingest
//! benchmark's messages, ~4 KiB, one in five a reply), timed from the command's start
//! to its exit (everything durable), without a server and through a running one;
//! peak resident memory of the importing process (and of the server).

use super::fixture::BenchDesk;
use super::mailgen::{self, MailSize};
use super::server::{sealdesk, Server};
use super::stats::{fmt_bytes, median_f64, Table};
use super::{note, Place};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub(crate) struct ImportArgs {
    pub messages: usize,
    pub size: MailSize,
    /// Fresh desks per measurement.
    pub runs: usize,
}

/// One timed import.
struct Run {
    elapsed: Duration,
    /// The importing process's peak RSS.
    peak: u64,
    /// The server's, when one ran.
    server_peak: Option<u64>,
}

pub(crate) fn run(place: &Place, args: &ImportArgs) -> Result<()> {
    note(&format!(
        "writing an mbox of {} {} messages",
        args.messages,
        args.size.label()
    ));
    let scratch = super::Scratch::new(&place.dir, "import-mbox")?;
    let mbox = scratch.path().join("mail.mbox");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&mbox)?);
    for mail in mailgen::messages(args.messages, args.size, 15) {
        write_entry(&mut file, &mail.from, &mail.raw)?;
    }
    file.flush()?;
    drop(file);
    let size = std::fs::metadata(&mbox)?.len();

    let mut table = Table::new(
        "import: `sealdesk import mbox` (to the command's exit, all of it durable)",
        &[
            "setup",
            "msg/s (median)",
            "runs",
            "importer peak RSS",
            "server peak RSS",
        ],
    );
    table.setup(format!(
        "{} messages of ~{} in one mbox of {}; {} fresh desk(s) per setup; keys and data on the disk under {}",
        args.messages,
        args.size.label(),
        fmt_bytes(size),
        args.runs,
        place.dir.display()
    ));
    for with_server in [false, true] {
        let mut runs = Vec::new();
        for i in 0..args.runs {
            note(&format!(
                "import run {} of {} ({})",
                i + 1,
                args.runs,
                if with_server {
                    "through a running server"
                } else {
                    "no server"
                }
            ));
            runs.push(one_run(place, &mbox, args.messages, with_server)?);
        }
        let rates: Vec<f64> = runs
            .iter()
            .map(|r| args.messages as f64 / r.elapsed.as_secs_f64())
            .collect();
        let peak = runs.iter().map(|r| r.peak).max().unwrap_or(0);
        let server = runs.iter().filter_map(|r| r.server_peak).max();
        table.row(vec![
            if with_server {
                "through `serve` (control socket, batches of 2,000)".into()
            } else {
                "no server (the CLI opens the store)".into()
            },
            format!(
                "{:.0} ({})",
                median_f64(&rates),
                rates
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            runs.len().to_string(),
            fmt_bytes(peak),
            server.map_or("–".into(), fmt_bytes),
        ]);
    }
    table.print();
    Ok(())
}

fn one_run(place: &Place, mbox: &std::path::Path, n: usize, with_server: bool) -> Result<Run> {
    let desk = BenchDesk::create(place, "import", false)?;
    let server = if with_server {
        let s = Server::start(&desk.paths, &desk.dir().join("serve.log"))?;
        s.wait_for_control_socket(&desk.paths.data)?;
        Some(s)
    } else {
        None
    };
    let started = Instant::now();
    let mut child = sealdesk(&desk.paths)?
        .args(["import", "mbox"])
        .arg(mbox)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start sealdesk import")?;
    let pid = child.id();
    let reader = child.stdout.take().expect("piped");
    let out = std::thread::spawn(move || std::io::read_to_string(reader).unwrap_or_default());
    let mut peak = 0;
    let status = loop {
        peak = peak.max(hwm(pid).unwrap_or(0));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let stdout = out.join().unwrap_or_default();
    if !status.success() {
        let err = std::io::read_to_string(child.stderr.take().expect("piped"))?;
        bail!("sealdesk import failed: {}", err.trim());
    }
    let expected = format!("imported {n} messages:");
    if !stdout.contains(&expected) {
        bail!("sealdesk import did not import every message: {stdout}");
    }
    let server_peak = match server {
        Some(s) => {
            let m = s.memory()?;
            s.stop()?;
            Some(m.hwm)
        }
        None => None,
    };
    Ok(Run {
        elapsed,
        peak,
        server_peak,
    })
}

/// A process's peak resident memory so far, from /proc.
fn hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One mbox entry as mboxrd writers make it.
fn write_entry(out: &mut impl Write, from: &str, raw: &[u8]) -> Result<()> {
    writeln!(out, "From {from} Tue Mar 10 09:00:00 2026")?;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !raw.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")?;
    Ok(())
}
