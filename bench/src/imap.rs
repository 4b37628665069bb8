//! Part 11: `sealdesk-bench imap`: mail appended to a hosted mailbox → ticket stored,
//! through IDLE. The bench starts a private Dovecot on loopback (the tests' helper,
//! tests/common/dovecot.rs), a desk with one `[mail.imap.bench]` account on it, and the
//! real `sealdesk serve`; each message is delivered with `doveadm save` (the server's
//! own delivery path, which wakes IDLE clients) and timed from just before that to the
//! server's log line saying it is filed (written after the store's fsync).

#[allow(unreachable_pub)]
#[path = "../../tests/common/dovecot.rs"]
mod dovecot;

use super::fixture::BenchDesk;
use super::server::Server;
use super::stats::{Samples, Table};
use super::{note, Place};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub(crate) struct ImapArgs {
    pub appends: usize,
    /// Pause between appends, so each is timed on an idle desk.
    pub gap: Duration,
}

pub(crate) fn run(place: &Place, args: &ImapArgs) -> Result<()> {
    let dovecot = dovecot::Dovecot::start();
    let desk = BenchDesk::create(place, "imap", false)?;
    let config = sealdesk_desk::config::Config::default_path(&desk.paths.data);
    let mut text = std::fs::read_to_string(&config)?;
    text = text.replacen("[mail]\n", "[mail]\nrate_limit = 1000000\n", 1);
    text.push_str(&format!(
        "\n[mail.imap.bench]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nuser = \"{}\"\npassword_file = \"{}\"\n",
        dovecot.port,
        dovecot::USER,
        dovecot.password_file().display()
    ));
    std::fs::write(&config, text)?;
    let log_path = desk.dir().join("serve.log");
    let server = Server::start(&desk.paths, &log_path)?;
    let mut log = BufReader::new(
        std::fs::File::open(&log_path).with_context(|| format!("{}", log_path.display()))?,
    );
    wait_line(&mut log, "imap bench: connected", Duration::from_secs(30))?;
    std::thread::sleep(Duration::from_millis(500));
    let mut to_ticket = Samples::new();
    let mut save_alone = Samples::new();
    for i in 0..args.appends {
        let raw = format!(
            "From: Person {i} <p{i}@example.com>\r\nTo: support@desk.example\r\nSubject: imap bench {i}\r\nMessage-ID: <imap-bench-{i}@example.com>\r\n\r\n{}\r\n",
            "A line of the customer's question.\r\n".repeat(100)
        );
        let start = Instant::now();
        dovecot::save(&dovecot.conf, "INBOX", raw.as_bytes());
        save_alone.push(start.elapsed());
        let filed = wait_line(&mut log, "mail NewTicket", Duration::from_secs(30))?;
        to_ticket.push(filed.duration_since(start));
        std::thread::sleep(args.gap);
    }
    server.stop()?;
    let mut table = Table::timing("IMAP IDLE: append to INBOX → ticket stored");
    table.setup(format!(
        "Dovecot {} on loopback, plain IMAP, after = seen; {} appends of ~3.7 KiB, {} ms apart",
        dovecot_version(),
        args.appends,
        args.gap.as_millis()
    ));
    table.samples(
        "doveadm save → ticket stored",
        &to_ticket,
        "includes doveadm's own run (next row); goal p99 < 1 s",
    );
    table.samples(
        "doveadm save alone",
        &save_alone,
        "process start + delivery",
    );
    table.print();
    note("done");
    Ok(())
}

/// Reads the log as it grows until a line contains `needle`; when it was read.
fn wait_line(log: &mut BufReader<std::fs::File>, needle: &str, limit: Duration) -> Result<Instant> {
    let deadline = Instant::now() + limit;
    let mut line = String::new();
    loop {
        line.clear();
        if log.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            if Instant::now() > deadline {
                bail!("the server log never said {needle:?} within {limit:?}");
            }
            // A partial line is read again whole once it ends.
            if !line.is_empty() {
                log.seek_relative(-(line.len() as i64))?;
            }
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        if line.contains(needle) {
            return Ok(Instant::now());
        }
    }
}

fn dovecot_version() -> String {
    std::process::Command::new("/usr/sbin/dovecot")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
