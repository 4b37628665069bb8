//! From mail to an agent's eyes: a message goes in over SMTP while an agent's session
//! is open, and we time from the end of its DATA, and from the 250 that acknowledged
//! it, until the agent's screen shows its subject; and what the server's CPU spent.

use super::mailgen;
use super::server::Server;
use super::smtp_client::SmtpClient;
use super::ssh_client::Terminal;
use super::stats::{fmt_duration, Samples, Table};
use super::Rng;
use anyhow::{Context, Result};
use std::time::Duration;

/// How long one probe may take to reach the screen before we stop probing.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// Times from the end of DATA, and from the 250, to the subject on the screen.
pub(crate) struct ToScreen {
    pub from_data: Samples,
    /// Zero when the screen showed it before the 250 arrived.
    pub from_ack: Samples,
    /// How often the screen showed it before the 250 arrived.
    pub before_ack: usize,
    /// Server CPU time (all threads) from sending a probe until the server is idle again.
    pub cpu: Samples,
    /// Probes that had not reached the screen after [`PROBE_LIMIT`] (probing stops).
    pub missed: usize,
}

impl ToScreen {
    /// Rows: from the end of DATA, from the 250, and the server's CPU per probe.
    pub(crate) fn add_rows(&self, table: &mut Table, label: &str, note: &str) {
        let missed = if self.missed > 0 {
            format!(
                "; a probe had not reached the screen after {}: stopped",
                fmt_duration(PROBE_LIMIT)
            )
        } else {
            String::new()
        };
        table.samples(
            &format!("{label}: end of DATA → subject on screen"),
            &self.from_data,
            &format!("{note}{missed}"),
        );
        table.samples(
            &format!("{label}: 250 → subject on screen"),
            &self.from_ack,
            &format!(
                "{} of {} were on screen before the 250 arrived (counted as 0)",
                self.before_ack,
                self.from_ack.len()
            ),
        );
        table.samples(
            &format!("{label}: server CPU per new ticket"),
            &self.cpu,
            "user + system, all threads, until the server is idle again",
        );
    }
}

/// Sends `n` probe messages one after another, each with a fresh subject, once the
/// server is idle, and times each until the screen shows the subject. The terminal
/// must show a queue sorted by last update (the default).
pub(crate) async fn mail_to_screen(
    term: &mut Terminal,
    server: &Server,
    n: usize,
    tag: &str,
) -> Result<ToScreen> {
    let mut client = SmtpClient::connect(server.smtp).await?;
    let mut rng = Rng::new(0xbeef ^ n as u64);
    let mut times = ToScreen {
        from_data: Samples::new(),
        from_ack: Samples::new(),
        before_ack: 0,
        cpu: Samples::new(),
        missed: 0,
    };
    for i in 0..n {
        // New tickets go on top, and the selection stays on the ticket it was on: after
        // a screenful of new tickets it would push the newest out of view. The agent
        // goes back to the top first, as one watching for new mail would.
        term.type_bytes(b"g").await?;
        server.wait_idle().await?;
        term.drain(Duration::from_millis(40)).await?;
        let cpu_before = server.cpu_time()?;
        let subject = format!("{tag} probe {i} {:04x}", rng.below(0x10000));
        let mail = mailgen::probe(i, &subject);
        // The SMTP side runs in its own task so the screen is read the whole time.
        let send = tokio::spawn(async move {
            let acked = client.send(&mail).await;
            (client, acked)
        });
        let seen = term
            .wait_until(PROBE_LIMIT, |s| s.contains(&subject))
            .await?;
        let (back, sent) = send.await.context("the SMTP task failed")?;
        client = back;
        let sent = sent?;
        let acked = sent
            .acked
            .with_context(|| format!("probe {i} was not accepted"))?;
        let Some(seen) = seen else {
            super::note(&format!(
                "probe {i} ({subject}) not on screen after {PROBE_LIMIT:?}; the screen shows:\n{}",
                term.screen.text()
            ));
            times.missed += 1;
            break;
        };
        times
            .from_data
            .push(seen.saturating_duration_since(sent.data_end));
        times.from_ack.push(seen.saturating_duration_since(acked));
        times.before_ack += usize::from(seen < acked);
        server.wait_idle().await?;
        times
            .cpu
            .push(server.cpu_time()?.saturating_sub(cpu_before));
    }
    client.quit().await;
    Ok(times)
}

/// A burst of mail while sessions are open: how fast it was acknowledged, and how long
/// after the last 250 the watching agent's queue had every new ticket.
pub(crate) struct Burst {
    pub mails: usize,
    pub connections: usize,
    /// From the first MAIL FROM to the last 250.
    pub acked_in: Duration,
    /// From the last 250 until the queue's count on screen includes every new ticket.
    pub on_screen_after: Option<Duration>,
    /// Server CPU (all threads) from the start until it is idle again.
    pub cpu: Duration,
}

impl Burst {
    pub(crate) fn add_rows(&self, table: &mut Table, label: &str) {
        let rate = self.mails as f64 / self.acked_in.as_secs_f64().max(1e-9);
        let mut add = |what: &str, value: String, note: String| {
            table.row(vec![
                format!("{label}: {what}"),
                value,
                "-".into(),
                "1".into(),
                note,
            ]);
        };
        add(
            "burst of mail, first MAIL FROM → last 250",
            fmt_duration(self.acked_in),
            format!(
                "{} mails over {} SMTP connections at once: {rate:.0} msg/s",
                self.mails, self.connections
            ),
        );
        add(
            "burst of mail, last 250 → every new ticket counted on screen",
            self.on_screen_after
                .map_or_else(|| "not within 60 s".to_string(), fmt_duration),
            "the queue's title shows the new count".into(),
        );
        add(
            "burst of mail, server CPU per mail",
            fmt_duration(self.cpu / self.mails.max(1) as u32),
            "user + system, all threads, until idle again".into(),
        );
    }
}

/// Sends `mails` messages over `connections` SMTP connections at once while `term`
/// watches the queue, and times until the queue's count covers them all.
pub(crate) async fn burst_to_screen(
    term: &mut Terminal,
    server: &Server,
    mails: usize,
    connections: usize,
    tag: &str,
) -> Result<Burst> {
    server.wait_idle().await?;
    term.drain(Duration::from_millis(40)).await?;
    let text = term.screen.text();
    let before =
        queue_count(&text).with_context(|| format!("no queue count on the screen:\n{text}"))?;
    let expected = format!("Queue ({})", before + mails);
    let cpu_before = server.cpu_time()?;
    let started = std::time::Instant::now();
    let mut senders = Vec::new();
    for c in 0..connections {
        let addr = server.smtp;
        let tag = tag.to_string();
        let count = mails / connections + usize::from(c < mails % connections);
        senders.push(tokio::spawn(async move {
            let mut client = SmtpClient::connect(addr).await?;
            let mut last_ack = None;
            for k in 0..count {
                let i = 1_000_000 + c * 100_000 + k;
                let mail = mailgen::probe(i, &format!("{tag} burst {c}.{k}"));
                let sent = client.send(&mail).await?;
                last_ack = Some(
                    sent.acked
                        .with_context(|| format!("burst mail {i} refused"))?,
                );
            }
            client.quit().await;
            anyhow::Ok(last_ack)
        }));
    }
    let seen = term
        .wait_until(PROBE_LIMIT, |s| s.contains(&expected))
        .await?;
    let mut last_ack = None;
    for sender in senders {
        let acked = sender.await.context("an SMTP task failed")??;
        last_ack = last_ack.max(acked);
    }
    let last_ack = last_ack.context("no mail was sent")?;
    server.wait_idle().await?;
    Ok(Burst {
        mails,
        connections,
        acked_in: last_ack.saturating_duration_since(started),
        on_screen_after: seen.map(|at| at.saturating_duration_since(last_ack)),
        cpu: server.cpu_time()?.saturating_sub(cpu_before),
    })
}

/// The number in the queue's title, "Queue (123)".
fn queue_count(screen: &str) -> Option<usize> {
    let rest = &screen[screen.find("Queue (")? + "Queue (".len()..];
    rest[..rest.find(')')?].parse().ok()
}
