//! From mail to an agent's eyes: a message goes in over SMTP while an agent's session
//! is open, and we time from the end of its DATA, and from the 250 that acknowledged
//! it, until the agent's screen shows its subject.

use super::mailgen;
use super::smtp_client::SmtpClient;
use super::ssh_client::Terminal;
use super::stats::{Samples, Table};
use super::Rng;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::time::Duration;

/// Times from the end of DATA, and from the 250, to the subject on the screen.
pub struct ToScreen {
    pub from_data: Samples,
    /// Zero when the screen showed it before the 250 arrived.
    pub from_ack: Samples,
    /// How often the screen showed it before the 250 arrived.
    pub before_ack: usize,
}

impl ToScreen {
    /// Two rows: from the end of DATA, and from the 250.
    pub fn add_rows(&self, table: &mut Table, label: &str, note: &str) {
        table.samples(
            &format!("{label}: end of DATA → subject on screen"),
            &self.from_data,
            note,
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
    }
}

/// Sends `n` probe messages one after another, each with a fresh subject, and times
/// each until the screen shows the subject. The terminal must show the top of a queue
/// sorted by last update (the default).
pub async fn mail_to_screen(
    term: &mut Terminal,
    smtp: SocketAddr,
    n: usize,
    tag: &str,
) -> Result<ToScreen> {
    let mut client = SmtpClient::connect(smtp).await?;
    let mut rng = Rng::new(0xbeef ^ n as u64);
    let mut times = ToScreen {
        from_data: Samples::new(),
        from_ack: Samples::new(),
        before_ack: 0,
    };
    for i in 0..n {
        let subject = format!("{tag} probe {i} {:04x}", rng.below(0x10000));
        let mail = mailgen::probe(i, &subject);
        // The SMTP side runs in its own task so the screen is read the whole time.
        let send = tokio::spawn(async move {
            let acked = client.send(&mail).await;
            (client, acked)
        });
        let seen = term
            .wait_for(Duration::from_secs(30), |s| s.contains(&subject))
            .await
            .with_context(|| format!("probe {i} never reached the screen"))?;
        let (back, sent) = send.await.context("the SMTP task failed")?;
        client = back;
        let sent = sent?;
        let acked = sent
            .acked
            .with_context(|| format!("probe {i} was not accepted"))?;
        times
            .from_data
            .push(seen.saturating_duration_since(sent.data_end));
        times.from_ack.push(seen.saturating_duration_since(acked));
        times.before_ack += usize::from(seen < acked);
        term.drain(Duration::from_millis(40)).await?;
    }
    client.quit().await;
    Ok(times)
}
