//! `sealdesk-bench notify`: notification latency. A customer's reply arrives over SMTP
//! on a ticket assigned to an agent who wants to hear of replies; the time until the
//! notification mail is accepted by a real SMTP sink standing in for the relay. The
//! batching window (`notify.batch_window`) is what an agent chose to wait: it is set to
//! `--window` (0 by default) so that what is measured is the desk's own path (filing,
//! recording, the notifier, the outbox, the relay session).

use super::fixture::{self, bench_actor, BenchDesk};
use super::mailgen::{Mail, SUPPORT};
use super::server::{sealdesk, Server};
use super::smtp_client::SmtpClient;
use super::stats::{Samples, Table};
use super::{note, Place};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub(crate) struct NotifyArgs {
    /// Replies timed.
    pub replies: usize,
    /// `notify.batch_window` in seconds.
    pub window: u64,
}

const CUSTOMER: &str = "pat@customer.example";
const AGENT_MAIL: &str = "agent00@team.example";
const LIMIT: Duration = Duration::from_secs(30);

pub(crate) fn run(place: &Place, args: &NotifyArgs) -> Result<()> {
    let bench = BenchDesk::create(place, "notify", false)?;
    let (sink_port, arrivals) = sink()?;
    let relay = format!("smtp://127.0.0.1:{sink_port}");
    let assignee = format!("mail.addresses.{SUPPORT}.assignee");
    let window = args.window.to_string();
    for (key, value) in [
        ("mail.from", "Support <support@desk.example>"),
        ("mail.relay", relay.as_str()),
        ("mail.rate_limit", "100000"),
        ("notify.batch_window", window.as_str()),
        (assignee.as_str(), "agent00"),
    ] {
        let out = sealdesk(&bench.paths)?
            .args(["config", "set", key, value])
            .output()?;
        if !out.status.success() {
            bail!(
                "config set {key}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    {
        let desk = bench.open()?;
        fixture::add_agents(&desk, 1)?;
        let actor = bench_actor();
        desk.set_agent_email(&actor, "agent00", Some(AGENT_MAIL))?;
        // Replies only: the new ticket's assignment is not what is timed.
        desk.set_notify_prefs(&actor, "agent00", "replied")?;
    }
    let server = Server::start(&bench.paths, &bench.dir().join("serve.log"))?;
    server.wait_for_control_socket(&bench.paths.data)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (from_send, from_ack) = runtime.block_on(async {
        let mut client = SmtpClient::connect(server.smtp).await?;
        let first = mail("<first@customer.example>", None, 0);
        client.send(&first).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut from_send = Samples::new();
        let mut from_ack = Samples::new();
        for i in 0..args.replies {
            while arrivals.try_recv().is_ok() {}
            let reply = mail(
                &format!("<reply{i}@customer.example>"),
                Some("<first@customer.example>"),
                i + 1,
            );
            let started = Instant::now();
            let sent = client.send(&reply).await?;
            let acked = sent.acked.context("a reply was not accepted")?;
            // Nothing else runs on this runtime meanwhile: blocking here is fine.
            let arrived = arrivals
                .recv_timeout(LIMIT)
                .context("no notification mail reached the sink within 30 s")?;
            from_send.push(arrived - started);
            from_ack.push(arrived.saturating_duration_since(acked));
            if (i + 1) % 10 == 0 {
                note(&format!("{} of {} replies", i + 1, args.replies));
            }
            // The next one starts after the window, as the next reply would.
            tokio::time::sleep(Duration::from_millis(100) + Duration::from_secs(args.window)).await;
        }
        client.quit().await;
        anyhow::Ok((from_send, from_ack))
    })?;
    server.stop()?;
    let mut table =
        Table::timing("Notification latency: customer reply → notification mail at the relay");
    table.setup(format!(
        "one agent (replies on), notify.batch_window = {} s ({}), {} replies in sequence over one SMTP connection; the relay is a sink on loopback",
        args.window,
        if args.window == 0 {
            "no batching wait"
        } else {
            "the wait for the window included"
        },
        args.replies
    ));
    table.samples(
        "reply sent → mail accepted by the sink",
        &from_send,
        "includes filing the reply (its 250)",
    );
    table.samples(
        "reply's 250 → mail accepted by the sink",
        &from_ack,
        "recording, notifier, outbox, relay session",
    );
    table.print();
    Ok(())
}

/// A customer's mail to the desk; with `in_reply_to`, a reply in that thread.
fn mail(id: &str, in_reply_to: Option<&str>, n: usize) -> Mail {
    let threading = in_reply_to
        .map(|r| format!("In-Reply-To: {r}\r\nReferences: {r}\r\n"))
        .unwrap_or_default();
    let subject = if in_reply_to.is_some() {
        "Re: where is my parcel"
    } else {
        "where is my parcel"
    };
    let raw = format!(
        "From: Pat <{CUSTOMER}>\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n{threading}Date: Tue, 10 Mar 2026 09:00:00 +0000\r\n\r\nStill nothing, message {n}.\r\n"
    );
    Mail {
        from: CUSTOMER.into(),
        raw: raw.into_bytes(),
    }
}

/// An SMTP server standing in for the relay: takes every mail, and sends the moment
/// each one's final dot arrived (before answering 250) down the channel.
fn sink() -> Result<(u16, mpsc::Receiver<Instant>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || -> std::io::Result<()> {
                stream.set_nodelay(true)?;
                let mut out = stream.try_clone()?;
                let mut reader = BufReader::new(stream);
                out.write_all(b"220 sink ESMTP\r\n")?;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") {
                        out.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
                    } else if upper.starts_with("DATA") {
                        out.write_all(b"354 go on\r\n")?;
                        loop {
                            let mut l = Vec::new();
                            if reader.read_until(b'\n', &mut l)? == 0 {
                                return Ok(());
                            }
                            if l == b".\r\n" {
                                break;
                            }
                        }
                        let _ = tx.send(Instant::now());
                        out.write_all(b"250 queued\r\n")?;
                    } else if upper.starts_with("QUIT") {
                        out.write_all(b"221 bye\r\n")?;
                        return Ok(());
                    } else {
                        out.write_all(b"250 ok\r\n")?;
                    }
                }
            });
        }
    });
    Ok((port, rx))
}
