//! `sealdesk import mbox FILE | maildir DIR | eml FILES…`: old mail filed as live mail
//! is, with its own dates, telling nobody (see `sealdesk_desk::import`).
//!
//! The CLI reads the mailbox (streaming: one batch in memory at a time) and files it in
//! batches. With a server running, each batch goes over the control socket as a hidden
//! `import batch` command the server files and makes durable; without one, the CLI
//! opens the store itself and does the same. Either way the progress, the summary and
//! the files are the CLI's: the server never opens a path it was given.

use super::output::{safe, Io};
use super::Global;
use crate::control;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use sealdesk_desk::{Actor, DateFrom, Desk, ImportMessage, Imported};
use sealdesk_model::{Status, Timestamp};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A batch: at most this many messages…
const BATCH_MESSAGES: usize = 2000;
/// …or this many bytes (well inside the control socket's 64 MiB frame, as base64).
const BATCH_BYTES: usize = 16 << 20;

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// An mbox file (mboxrd or mboxo), read as a stream.
    Mbox {
        file: PathBuf,
        #[command(flatten)]
        opts: ImportArgs,
    },
    /// A Maildir (its cur/ and new/), in file-name order.
    Maildir {
        dir: PathBuf,
        #[command(flatten)]
        opts: ImportArgs,
    },
    /// Single RFC 5322 messages (.eml files).
    Eml {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        opts: ImportArgs,
    },
    /// (Internal) one batch from an importing CLI, on stdin.
    #[command(hide = true)]
    Batch {
        #[arg(long)]
        status: Option<Status>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// The status of the tickets the import creates: solved (the default: old mail
    /// needs no answer and runs no SLA), closed, or new/open/pending to work on them.
    /// Replies filed into an existing ticket leave its status as it is.
    #[arg(long, default_value = "solved")]
    status: Status,
}

/// Runs an import from the CLI (not over the control socket: the CLI reads the files).
pub(super) fn run(g: &Global, cmd: ImportCommand) -> Result<i32> {
    let (mut source, status) = match cmd {
        ImportCommand::Mbox { file, opts } => (Source::mbox(&file)?, opts.status),
        ImportCommand::Maildir { dir, opts } => (Source::maildir(&dir)?, opts.status),
        ImportCommand::Eml { files, opts } => (Source::files(files, None)?, opts.status),
        ImportCommand::Batch { .. } => {
            bail!("`import batch` is what an importing CLI sends a server: run `sealdesk import mbox|maildir|eml`")
        }
    };
    let mut target = Target::open(g, status)?;
    let mut summary = Summary::default();
    let mut progress = Progress::new(source.total);
    loop {
        let batch = source.next_batch()?;
        if batch.is_empty() {
            break;
        }
        for outcome in target.file(&batch)? {
            summary.add(outcome);
        }
        progress.show(summary.total(), source.done);
    }
    progress.finish();
    let mut out = std::io::stdout().lock();
    summary.print(&mut out)?;
    Ok(0)
}

/// Files one batch inside a running server (`import batch`, stdin = the batch).
pub(super) fn batch(
    desk: &Desk,
    actor: &Actor,
    status: Option<Status>,
    stdin: &[u8],
    io: &mut Io,
) -> Result<i32> {
    let messages = decode_batch(stdin)?;
    for (imported, date) in file_batch(desk, actor, &messages, status)? {
        writeln!(io.out, "{}", encode_outcome(&imported, date))?;
    }
    Ok(0)
}

/// One message read from a mailbox: its bytes and the mailbox's date for it.
type Mail = (Vec<u8>, Option<Timestamp>);

/// Files a batch, makes it durable, and audits it with its counts.
fn file_batch(
    desk: &Desk,
    actor: &Actor,
    messages: &[Mail],
    status: Option<Status>,
) -> Result<Vec<(Imported, DateFrom)>> {
    let batch: Vec<ImportMessage<'_>> = messages
        .iter()
        .map(|(raw, mailbox_date)| ImportMessage {
            raw,
            mailbox_date: *mailbox_date,
        })
        .collect();
    let outcomes: Vec<(Imported, DateFrom)> = desk
        .import_batch(actor, &batch, status)?
        .into_iter()
        .map(|o| (o.imported, o.date))
        .collect();
    if !messages.is_empty() {
        let mut s = Summary::default();
        for (imported, date) in &outcomes {
            s.add((imported.clone(), *date));
        }
        desk.note_import(actor, s.audit_counts())?;
    }
    Ok(outcomes)
}

/// Where batches go: the running server, or the store opened here.
enum Target {
    Server(PathBuf, Status),
    Local(Box<Desk>, Status),
}

impl Target {
    fn open(g: &Global, status: Status) -> Result<Target> {
        let probe = control::Request::new(batch_args(status), Some(&[]));
        match control::forward(&g.data, &probe)? {
            Some(r) if r.code == 0 => Ok(Target::Server(g.data.clone(), status)),
            Some(r) => bail!("{}", r.stderr.trim()),
            None => Ok(Target::Local(Box::new(g.open_desk()?), status)),
        }
    }

    fn file(&mut self, batch: &[Mail]) -> Result<Vec<(Imported, DateFrom)>> {
        match self {
            Target::Local(desk, status) => {
                file_batch(desk, &Actor::local_admin(), batch, Some(*status))
            }
            Target::Server(data, status) => {
                let request =
                    control::Request::new(batch_args(*status), Some(&encode_batch(batch)));
                let Some(response) = control::forward(data, &request)? else {
                    bail!("the server stopped during the import: start it (or leave it stopped) and run the same import again; what was filed is skipped")
                };
                if response.code != 0 {
                    bail!("{}", response.stderr.trim());
                }
                let outcomes: Vec<_> = response.stdout.lines().filter_map(decode_outcome).collect();
                if outcomes.len() != batch.len() {
                    bail!("the server answered a batch of {} messages with {} outcomes: run the same import again (what was filed is skipped)", batch.len(), outcomes.len());
                }
                Ok(outcomes)
            }
        }
    }
}

fn batch_args(status: Status) -> Vec<String> {
    vec![
        "import".into(),
        "batch".into(),
        "--status".into(),
        status.to_string(),
    ]
}

// ---- the batch on the wire: per message an i64 date (i64::MIN: none), a u32 length
// and the bytes; outcomes as one line each ----

fn encode_batch(batch: &[Mail]) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch.iter().map(|(r, _)| r.len() + 12).sum());
    for (raw, date) in batch {
        out.extend_from_slice(&date.map_or(i64::MIN, |t| t.0).to_be_bytes());
        out.extend_from_slice(&(raw.len() as u32).to_be_bytes());
        out.extend_from_slice(raw);
    }
    out
}

fn decode_batch(mut bytes: &[u8]) -> Result<Vec<Mail>> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        let (head, rest) = bytes
            .split_at_checked(12)
            .context("a truncated import batch: run the import again")?;
        let date = i64::from_be_bytes(head[..8].try_into()?);
        let len = u32::from_be_bytes(head[8..].try_into()?) as usize;
        let (raw, rest) = rest
            .split_at_checked(len)
            .context("a truncated import batch: run the import again")?;
        messages.push((raw.to_vec(), (date != i64::MIN).then_some(Timestamp(date))));
        bytes = rest;
    }
    Ok(messages)
}

fn encode_outcome(imported: &Imported, date: DateFrom) -> String {
    let date = match date {
        DateFrom::Header => "header",
        DateFrom::Mailbox => "mailbox",
        DateFrom::Now => "now",
    };
    match imported {
        Imported::Filed(n) => format!("filed\t{date}\t{}", n.0),
        Imported::Threaded(n) => format!("threaded\t{date}\t{}", n.0),
        Imported::Skipped => format!("skipped\t{date}\t"),
        Imported::Quarantined(reason) => format!("quarantined\t{date}\t{}", safe(reason)),
    }
}

fn decode_outcome(line: &str) -> Option<(Imported, DateFrom)> {
    let mut parts = line.splitn(3, '\t');
    let (kind, date, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let date = match date {
        "header" => DateFrom::Header,
        "mailbox" => DateFrom::Mailbox,
        _ => DateFrom::Now,
    };
    let number = || rest.parse().ok().map(sealdesk_model::TicketNo);
    let imported = match kind {
        "filed" => Imported::Filed(number()?),
        "threaded" => Imported::Threaded(number()?),
        "skipped" => Imported::Skipped,
        "quarantined" => Imported::Quarantined(rest.to_string()),
        _ => return None,
    };
    Some((imported, date))
}

// ---- reading mailboxes ----

/// Messages to import, read a batch at a time.
struct Source {
    next: Box<dyn Iterator<Item = Result<Mail>>>,
    /// Bytes in all (for progress), and read so far.
    total: u64,
    done: u64,
    sizes: Box<dyn FnMut() -> u64>,
}

impl Source {
    fn mbox(path: &Path) -> Result<Source> {
        let file = std::fs::File::open(path).with_context(|| {
            format!(
                "cannot open the mbox {}: check the path and that you may read it",
                path.display()
            )
        })?;
        let total = file.metadata()?.len();
        let counter = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let seen = counter.clone();
        let mut reader =
            sealdesk_mail::mbox::MboxReader::new(std::io::BufReader::with_capacity(1 << 20, file));
        let shown = path.display().to_string();
        let next = std::iter::from_fn(move || {
            let item = reader.next()?;
            counter.set(reader.bytes_read());
            Some(
                item.map(|m| (m.raw, m.from_line_date))
                    .with_context(|| format!("cannot read the mbox {shown}: fix or split the file, then run the import again (what was filed is skipped)")),
            )
        });
        Ok(Source {
            next: Box::new(next),
            total,
            done: 0,
            sizes: Box::new(move || seen.get()),
        })
    }

    fn maildir(dir: &Path) -> Result<Source> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let path = dir.join(sub);
            if !path.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&path).with_context(|| {
                format!("cannot list {}: check that you may read it", path.display())
            })? {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    files.push(entry.path());
                }
            }
        }
        if files.is_empty() && !dir.join("cur").is_dir() && !dir.join("new").is_dir() {
            bail!(
                "{} is not a Maildir (it has no cur/ or new/): give the Maildir itself, or use `import eml FILES…`",
                dir.display()
            );
        }
        // Maildir names begin with the delivery time: name order is arrival order.
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        let dated = files
            .into_iter()
            .map(|p| {
                let date = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split('.').next())
                    .and_then(|s| s.parse::<i64>().ok())
                    .map(Timestamp);
                (p, date)
            })
            .collect();
        Source::dated_files(dated)
    }

    fn files(files: Vec<PathBuf>, date: Option<Timestamp>) -> Result<Source> {
        Source::dated_files(files.into_iter().map(|p| (p, date)).collect())
    }

    fn dated_files(files: Vec<(PathBuf, Option<Timestamp>)>) -> Result<Source> {
        let mut total = 0;
        for (path, _) in &files {
            total += std::fs::metadata(path)
                .with_context(|| format!("cannot read {}: check the path", path.display()))?
                .len();
        }
        let counter = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let seen = counter.clone();
        let next = files.into_iter().map(move |(path, date)| {
            let raw = std::fs::read(&path).with_context(|| {
                format!(
                    "cannot read {}: check that you may read it, then run the import again",
                    path.display()
                )
            })?;
            counter.set(counter.get() + raw.len() as u64);
            Ok((raw, date))
        });
        Ok(Source {
            next: Box::new(next),
            total,
            done: 0,
            sizes: Box::new(move || seen.get()),
        })
    }

    fn next_batch(&mut self) -> Result<Vec<Mail>> {
        let (mut batch, mut bytes) = (Vec::new(), 0);
        while batch.len() < BATCH_MESSAGES && bytes < BATCH_BYTES {
            let Some(mail) = self.next.next() else { break };
            let mail = mail?;
            bytes += mail.0.len();
            batch.push(mail);
        }
        self.done = (self.sizes)();
        Ok(batch)
    }
}

// ---- progress and summary ----

struct Progress {
    total: u64,
    started: Instant,
    last: Instant,
    tty: bool,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let now = Instant::now();
        Progress {
            total,
            started: now,
            last: now,
            tty: std::io::stdout().is_terminal(),
        }
    }

    fn show(&mut self, messages: usize, done: u64) {
        let every = if self.tty { 100 } else { 2_000 };
        if self.last.elapsed() < Duration::from_millis(every) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = messages as f64 / secs;
        let fraction = if self.total == 0 {
            1.0
        } else {
            (done as f64 / self.total as f64).min(1.0)
        };
        let eta = if fraction > 0.0 {
            (secs / fraction - secs).max(0.0) as u64
        } else {
            0
        };
        let eta = format!("{}:{:02}", eta / 60, eta % 60);
        let mut out = std::io::stdout().lock();
        if self.tty {
            let filled = (fraction * 30.0) as usize;
            let _ = write!(
                out,
                "\r[{}{}] {:>3}% {messages} messages, {rate:.0}/s, ETA {eta} ",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                (fraction * 100.0) as u32
            );
        } else {
            let _ = writeln!(
                out,
                "import: {messages} messages ({:.0}%), {rate:.0}/s, ETA {eta}",
                fraction * 100.0
            );
        }
        let _ = out.flush();
    }

    fn finish(&self) {
        if self.tty {
            println!();
        }
    }
}

#[derive(Default)]
struct Summary {
    filed: usize,
    threaded: usize,
    skipped: usize,
    quarantined: BTreeMap<String, usize>,
    dated_by_mailbox: usize,
    dated_now: usize,
}

impl Summary {
    fn add(&mut self, (imported, date): (Imported, DateFrom)) {
        if imported == Imported::Skipped {
            self.skipped += 1;
            return;
        }
        match imported {
            Imported::Filed(_) => self.filed += 1,
            Imported::Threaded(_) => self.threaded += 1,
            Imported::Skipped => self.skipped += 1,
            Imported::Quarantined(reason) => *self.quarantined.entry(reason).or_default() += 1,
        }
        match date {
            DateFrom::Header => {}
            DateFrom::Mailbox => self.dated_by_mailbox += 1,
            DateFrom::Now => self.dated_now += 1,
        }
    }

    fn total(&self) -> usize {
        self.filed + self.threaded + self.skipped + self.quarantined.values().sum::<usize>()
    }

    fn audit_counts(&self) -> Vec<String> {
        vec![
            format!("filed={}", self.filed),
            format!("threaded={}", self.threaded),
            format!("skipped={}", self.skipped),
            format!("quarantined={}", self.quarantined.values().sum::<usize>()),
        ]
    }

    fn print(&self, out: &mut dyn Write) -> Result<()> {
        let quarantined: usize = self.quarantined.values().sum();
        writeln!(
            out,
            "imported {} messages: {} filed (new tickets), {} threaded (into existing tickets), {} skipped (imported before), {} quarantined",
            self.total(),
            self.filed,
            self.threaded,
            self.skipped,
            quarantined
        )?;
        for (reason, n) in &self.quarantined {
            writeln!(out, "  quarantined {n}: {}", safe(reason))?;
        }
        if self.dated_by_mailbox > 0 {
            writeln!(
                out,
                "  {} without a usable Date: header took the mailbox's date (mbox From line, Maildir name)",
                self.dated_by_mailbox
            )?;
        }
        if self.dated_now > 0 {
            writeln!(
                out,
                "  {} without any usable date were dated now",
                self.dated_now
            )?;
        }
        if quarantined > 0 {
            writeln!(
                out,
                "  see `sealdesk quarantine list`; release or delete them there"
            )?;
        }
        Ok(())
    }
}
