//! `sealdesk-bench ingest`: how fast mail becomes tickets, durably. (a) over SMTP to a
//! running server with several connections; (b) through `sealdesk ingest` processes
//! with the server running (and one by one without it); (c) the in-memory bound:
//! parsing and sealing only, and the whole filing path on a RAM disk; (d) from the 250
//! to the subject on an open agent's screen.

use super::fixture::{add_agents, BenchDesk};
use super::mailgen::{self, Mail, MailSize};
use super::probe::{mail_to_screen, ToScreen};
use super::server::{sealdesk, Server};
use super::smtp_client::SmtpClient;
use super::ssh_client::{loopback_source, AgentKey, Terminal};
use super::stats::{fmt_bytes, median_f64, Samples, Table};
use super::{note, Place};
use anyhow::{bail, Context, Result};
use parking_lot::Mutex;
use sealdesk_desk::{Filed, Incoming};
use sealdesk_mail::parse;
use sealdesk_model::{
    Attachment, AttachmentId, Author, CustomerId, Message, MessageKind, TicketNo, Timestamp,
};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub(crate) struct IngestArgs {
    pub messages: usize,
    pub size: MailSize,
    /// Concurrent SMTP connections, one measurement each.
    pub connections: Vec<usize>,
    /// Concurrent `sealdesk ingest` processes, one measurement each.
    pub processes: Vec<usize>,
    /// Messages sent through processes per measurement.
    pub process_messages: usize,
    pub probes: usize,
    /// Fresh desks per SMTP / process measurement.
    pub runs: usize,
}

/// What one batch of deliveries achieved.
struct Batch {
    accepted: usize,
    refused: usize,
    elapsed: Duration,
    /// Per message: from the first command to the acknowledgement.
    latency: Samples,
}

impl Batch {
    fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64()
    }
}

pub(crate) fn run(place: &Place, args: &IngestArgs) -> Result<()> {
    note(&format!(
        "generating {} messages of {}",
        args.messages,
        args.size.label()
    ));
    let mails = Arc::new(mailgen::messages(args.messages, args.size, 7));
    let bytes: usize = mails.iter().map(|m| m.raw.len()).sum();
    let described = format!(
        "{} messages, {} average ({}), from {} senders, ~20% replies",
        mails.len(),
        fmt_bytes((bytes / mails.len().max(1)) as u64),
        match args.size {
            MailSize::Small => "70% plain text, 30% text + HTML",
            MailSize::Large => "text + one base64 PDF/PNG attachment",
        },
        (args.messages / 8).max(200)
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let mut smtp = Table::new(
        "bench ingest (a): SMTP to `sealdesk serve`, durable (counted at the 250)",
        &[
            "connections",
            "msg/s (median)",
            "runs",
            "per message median",
            "p99",
            "n",
            "data dir after",
        ],
    );
    smtp.setup(described.clone());
    smtp.setup(format!(
        "fresh desk per run; each connection sends MAIL/RCPT/DATA in turn; {} run(s)",
        args.runs
    ));
    let mut screen = None;
    for (ci, &connections) in args.connections.iter().enumerate() {
        let mut rates = Vec::new();
        let mut latency = Samples::new();
        let mut sizes = Vec::new();
        for run in 0..args.runs {
            note(&format!(
                "SMTP, {connections} connection(s), run {}",
                run + 1
            ));
            let bench = BenchDesk::create(place, "ingest", false)?;
            let agents = add_agents(&bench.open()?, 1)?;
            let server = Server::start(&bench.paths, &bench.dir().join("serve.log"))?;
            let batch =
                runtime.block_on(smtp_batch(server.smtp, Arc::clone(&mails), connections))?;
            if batch.refused > 0 {
                note(&format!(
                    "{} messages were refused (4xx/5xx)",
                    batch.refused
                ));
            }
            rates.push(batch.rate());
            latency.extend(&batch.latency);
            let last = ci + 1 == args.connections.len() && run + 1 == args.runs;
            if last && args.probes > 0 {
                note(&format!("{} probe mails to an open session", args.probes));
                screen = Some(runtime.block_on(probes(&server, &agents[0], args.probes))?);
            }
            server.stop()?;
            sizes.push(dir_size(&bench.paths.data));
        }
        smtp.row(vec![
            connections.to_string(),
            format!("{:.0}", median_f64(&rates)),
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            super::stats::fmt_duration(latency.median()),
            super::stats::fmt_duration(latency.p99()),
            latency.len().to_string(),
            fmt_bytes(sizes.iter().copied().max().unwrap_or(0)),
        ]);
    }
    smtp.print();

    process_table(place, &mails, args)?.print();
    memory_table(place, &mails)?.print();

    if let Some((samples, tickets)) = screen {
        let mut t = Table::timing("bench ingest (d): new mail → subject on an open agent's screen");
        t.setup(format!(
            "the desk of the last SMTP run ({tickets} tickets), one agent session (pty 120×40, queue sorted by update, `g` to the top before each), one probe at a time once the server is idle"
        ));
        samples.add_rows(&mut t, "probe", "");
        t.print();
    }
    Ok(())
}

/// Sends every message over `connections` concurrent SMTP connections.
async fn smtp_batch(
    addr: std::net::SocketAddr,
    mails: Arc<Vec<Mail>>,
    connections: usize,
) -> Result<Batch> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (mails, next) = (Arc::clone(&mails), Arc::clone(&next));
        tasks.spawn(async move {
            let mut client = SmtpClient::connect(addr).await?;
            let (mut accepted, mut refused, mut last) = (0, 0, started);
            let mut latency = Samples::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(mail) = mails.get(i) else { break };
                let sent = Instant::now();
                match client.send(mail).await?.acked {
                    Some(at) => {
                        accepted += 1;
                        latency.push(at - sent);
                        last = last.max(at);
                    }
                    None => refused += 1,
                }
            }
            client.quit().await;
            anyhow::Ok((accepted, refused, last, latency))
        });
    }
    let mut batch = Batch {
        accepted: 0,
        refused: 0,
        elapsed: Duration::ZERO,
        latency: Samples::new(),
    };
    while let Some(done) = tasks.join_next().await {
        let (accepted, refused, last, latency) = done??;
        batch.accepted += accepted;
        batch.refused += refused;
        batch.elapsed = batch.elapsed.max(last - started);
        batch.latency.extend(&latency);
    }
    Ok(batch)
}

/// (d) on a running server: an agent session, then probe mails one at a time.
async fn probes(server: &Server, agent: &AgentKey, n: usize) -> Result<(ToScreen, usize)> {
    let mut term = Terminal::open(server.ssh, loopback_source(0, 8), agent, 120, 40).await?;
    term.wait_for(Duration::from_secs(60), |s| {
        s.contains("Queue (") && s.contains("(admin)")
    })
    .await?;
    term.drain(Duration::from_millis(300)).await?;
    let title = term.screen.line(0);
    let tickets = title
        .split("Queue (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let samples = mail_to_screen(&mut term, server, n, "ingest").await?;
    term.close().await;
    Ok((samples, tickets))
}

/// (b) One `sealdesk ingest` process per message, `workers` at a time.
fn process_batch(paths: &sealdesk_store::Paths, mails: &[Mail], workers: usize) -> Result<Batch> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Batch {
        accepted: 0,
        refused: 0,
        elapsed: Duration::ZERO,
        latency: Samples::new(),
    });
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(mail) = mails.get(i) else {
                            return Ok(());
                        };
                        let sent = Instant::now();
                        let mut child = sealdesk(paths)?
                            .args(["ingest", "--from", &mail.from])
                            .stdin(Stdio::piped())
                            .stdout(Stdio::null())
                            .stderr(Stdio::piped())
                            .spawn()
                            .context("cannot run sealdesk ingest")?;
                        child
                            .stdin
                            .take()
                            .expect("stdin is piped")
                            .write_all(&mail.raw)?;
                        let out = child.wait_with_output()?;
                        let done = Instant::now();
                        let mut r = results.lock();
                        if out.status.code() == Some(0) {
                            r.accepted += 1;
                            r.latency.push(done - sent);
                            r.elapsed = r.elapsed.max(done - started);
                        } else {
                            if r.refused == 0 {
                                note(&format!(
                                    "sealdesk ingest failed: {}",
                                    String::from_utf8_lossy(&out.stderr).trim()
                                ));
                            }
                            r.refused += 1;
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker thread panicked")?;
        }
        anyhow::Ok(())
    })?;
    Ok(results.into_inner())
}

fn process_table(place: &Place, mails: &[Mail], args: &IngestArgs) -> Result<Table> {
    let count = args.process_messages.min(mails.len());
    let mut table = Table::new(
        "bench ingest (b): one `sealdesk ingest` process per message",
        &[
            "setup",
            "msg/s (median)",
            "runs",
            "per process median",
            "p99",
            "n",
        ],
    );
    table.setup(format!(
        "the first {count} of the messages above; exit 0 counted; fresh desk per run; {} run(s)",
        args.runs
    ));
    for &workers in &args.processes {
        let mut rates = Vec::new();
        let mut latency = Samples::new();
        for run in 0..args.runs {
            note(&format!(
                "{workers} ingest processes at a time, run {}",
                run + 1
            ));
            let bench = BenchDesk::create(place, "ingest-proc", false)?;
            let server = Server::start(&bench.paths, &bench.dir().join("serve.log"))?;
            server.wait_for_control_socket(&bench.paths.data)?;
            let batch = process_batch(&bench.paths, &mails[..count], workers)?;
            server.stop()?;
            if batch.refused > 0 {
                note(&format!("{} ingest processes failed", batch.refused));
            }
            rates.push(batch.rate());
            latency.extend(&batch.latency);
        }
        table.row(vec![
            format!("server running (control socket), {workers} in parallel"),
            format!("{:.0}", median_f64(&rates)),
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            super::stats::fmt_duration(latency.median()),
            super::stats::fmt_duration(latency.p99()),
            latency.len().to_string(),
        ]);
    }
    // Without a server each process opens the store itself, and holds its lock:
    // parallel processes would wait for each other, so they go one by one.
    let alone = count.min(100);
    note(&format!("{alone} ingest processes without a server"));
    let bench = BenchDesk::create(place, "ingest-alone", false)?;
    let batch = process_batch(&bench.paths, &mails[..alone], 1)?;
    if batch.refused > 0 {
        note(&format!("{} ingest processes failed", batch.refused));
    }
    table.row(vec![
        "no server: each opens the store, one at a time".into(),
        format!("{:.0}", batch.rate()),
        "1".into(),
        super::stats::fmt_duration(batch.latency.median()),
        super::stats::fmt_duration(batch.latency.p99()),
        batch.latency.len().to_string(),
    ]);
    Ok(table)
}

/// (c) What the CPU can do without the disk.
fn memory_table(place: &Place, mails: &[Mail]) -> Result<Table> {
    let mut table = Table::new(
        "bench ingest (c): the in-memory bound, one thread",
        &["what", "msg/s", "n", "note"],
    );
    note("parse + seal in memory");
    let t = Instant::now();
    let mut sealed_bytes = 0;
    for mail in mails {
        sealed_bytes += parse_and_seal(&mail.raw)?;
    }
    let elapsed = t.elapsed();
    table.row(vec![
        "parse + seal, no store".into(),
        format!("{:.0}", mails.len() as f64 / elapsed.as_secs_f64()),
        mails.len().to_string(),
        format!(
            "mail::parse::parse, then bincode + XChaCha20-Poly1305 of the message, original and attachments ({} sealed)",
            fmt_bytes(sealed_bytes as u64)
        ),
    ]);
    if let Some(ram) = &place.ram {
        note("whole filing path on a RAM disk");
        let ram_place = Place {
            dir: ram.clone(),
            ram: None,
        };
        let bench = BenchDesk::create(&ram_place, "ingest-ram", false)?;
        let desk = bench.open()?;
        let t = Instant::now();
        for mail in mails {
            let filed = desk.receive_mail(Incoming {
                raw: &mail.raw,
                envelope_from: Some(&mail.from),
                source: "smtp 127.0.0.1:40000",
            })?;
            if let Filed::Quarantined(_, reason) = filed {
                bail!("a generated message was quarantined: {reason}");
            }
        }
        let elapsed = t.elapsed();
        table.row(vec![
            "desk.receive_mail, data and keys on tmpfs".into(),
            format!("{:.0}", mails.len() as f64 / elapsed.as_secs_f64()),
            mails.len().to_string(),
            "parse, thread, seal, sled writes, audit, flush (fsync costs ~nothing on tmpfs)".into(),
        ]);
    }
    Ok(table)
}

/// Parses one message and seals what the store would keep of it, as the store does
/// (bincode, then XChaCha20-Poly1305 with a fresh nonce per value), without writing.
/// Returns the sealed bytes.
fn parse_and_seal(raw: &[u8]) -> Result<usize> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    thread_local! {
        static CIPHER: XChaCha20Poly1305 = {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).expect("the OS random source failed");
            XChaCha20Poly1305::new(&key.into())
        };
    }
    let mail = parse::parse(raw)
        .map_err(|e| anyhow::anyhow!("a generated message does not parse: {e}"))?;
    let customer = CustomerId::random();
    let attachments: Vec<Attachment> = mail
        .attachments
        .iter()
        .map(|a| Attachment {
            id: AttachmentId::random(),
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.bytes.len() as u64,
        })
        .collect();
    let message = Message {
        ticket: TicketNo(1),
        seq: 1,
        kind: MessageKind::Inbound,
        author: Author::Customer {
            id: customer,
            address: mail.from.clone(),
            name: mail.from_name.clone(),
        },
        at: Timestamp::now(),
        text: mail.text.clone(),
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.first().cloned(),
        references: mail.references.clone(),
        attachments,
        delivery: None,
        parties: Default::default(),
    };
    let encoded = bincode::serde::encode_to_vec(&message, bincode::config::standard())?;
    let subject = bincode::serde::encode_to_vec(&mail.subject, bincode::config::standard())?;
    let mut values: Vec<&[u8]> = vec![&encoded, &subject, raw];
    values.extend(mail.attachments.iter().map(|a| a.bytes.as_slice()));
    CIPHER.with(|cipher| {
        let mut total = 0;
        for value in values {
            let mut nonce = [0u8; 24];
            getrandom::fill(&mut nonce).expect("the OS random source failed");
            let sealed = cipher
                .encrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: value,
                        aad: b"messages",
                    },
                )
                .map_err(|_| anyhow::anyhow!("sealing failed"))?;
            total += sealed.len();
        }
        Ok(total)
    })
}

/// Bytes of all files under `dir`.
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}
