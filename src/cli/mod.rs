//! The admin CLI: clap definitions and one small function per subcommand.

mod agent;
mod customer;
mod output;
mod serve;
mod ticket;

use crate::config::Config;
use crate::desk::{AuditReport, Desk};
use crate::store::{Paths, Store};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Parser, Debug)]
#[command(
    name = "sealdesk",
    version,
    about = "A self-hosted helpdesk for small teams, with privacy built in"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The data dir (the sealed database).
    #[arg(long, global = true, env = "SEALDESK_DATA", default_value = "data")]
    pub data: PathBuf,
    /// The keys dir (master key, keyring, SSH host key); keep it apart from the data.
    #[arg(long, global = true, env = "SEALDESK_KEYS", default_value = "keys")]
    pub keys: PathBuf,
    /// A file whose first line is the passphrase protecting the master key
    /// (or set SEALDESK_PASSPHRASE).
    #[arg(long, global = true, env = "SEALDESK_PASSPHRASE_FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// The config file (default: sealdesk.toml in the data dir).
    #[arg(long, global = true, env = "SEALDESK_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new desk: data dir, keys dir, master key, SSH host key.
    Init,
    /// Manage agents (who may log in over SSH).
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Create, list and show tickets.
    #[command(subcommand)]
    Ticket(ticket::TicketCommand),
    /// Look at customers.
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run the SSH server agents log in to; stops on Ctrl-C or SIGTERM.
    Serve(serve::ServeArgs),
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits 0 only if it is intact.
    Verify,
}

impl Global {
    pub fn paths(&self) -> Paths {
        Paths {
            data: self.data.clone(),
            keys: self.keys.clone(),
        }
    }

    /// The passphrase from --passphrase-file or SEALDESK_PASSPHRASE, if any.
    pub fn passphrase(&self) -> Result<Option<Zeroizing<String>>> {
        if let Some(path) = &self.passphrase_file {
            let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read the passphrase file {}: check --passphrase-file",
                    path.display()
                )
            })?);
            let first = text.lines().next().unwrap_or("").to_string();
            if first.is_empty() {
                bail!(
                    "the passphrase file {} is empty: put the passphrase on its first line",
                    path.display()
                );
            }
            return Ok(Some(Zeroizing::new(first)));
        }
        match std::env::var("SEALDESK_PASSPHRASE") {
            Ok(p) if !p.is_empty() => Ok(Some(Zeroizing::new(p))),
            _ => Ok(None),
        }
    }

    pub fn load_config(&self) -> Result<Config> {
        let (path, must_exist) = match &self.config {
            Some(p) => (p.clone(), true),
            None => (Config::default_path(&self.data), false),
        };
        Ok(Config::load(&path, must_exist)?)
    }

    /// Opens the desk for one command.
    pub fn open_desk(&self) -> Result<Desk> {
        let config = self.load_config()?;
        let pass = self.passphrase()?;
        let store = Store::open(&self.paths(), pass.as_deref().map(String::as_str))?;
        Ok(Desk::new(store, config))
    }
}

/// Runs a parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match cli.command {
        Command::Init => init(g),
        Command::Agent(cmd) => agent::run(g, cmd),
        Command::Ticket(cmd) => ticket::run(g, cmd),
        Command::Customer(cmd) => customer::run(g, cmd),
        Command::Audit(AuditCommand::Verify) => audit_verify(g),
        Command::Serve(args) => serve::run(g, args),
    }
}

fn init(g: &Global) -> Result<i32> {
    let pass = g.passphrase()?;
    let report = Store::init(&g.paths(), pass.as_deref().map(String::as_str))?;
    println!("Created a new desk.");
    println!("  data dir: {}", g.data.display());
    println!(
        "  keys dir: {} (back it up separately; never next to the data)",
        g.keys.display()
    );
    println!(
        "  master key: {}",
        if report.passphrase_protected {
            "protected by your passphrase (Argon2id)"
        } else {
            "not passphrase-protected"
        }
    );
    println!(
        "  SSH host key fingerprint: {}",
        report.host_key_fingerprint
    );
    println!("Next: sealdesk agent add NAME --key-file ~/.ssh/id_ed25519.pub --role admin");
    Ok(0)
}

fn audit_verify(g: &Global) -> Result<i32> {
    let desk = g.open_desk()?;
    match desk.verify_audit()? {
        AuditReport::Intact { events } => {
            println!("audit log intact: {events} events, every hash link checks out");
            Ok(0)
        }
        AuditReport::Broken { checked, reason } => {
            eprintln!("sealdesk: audit log BROKEN after {checked} good events: {reason}");
            eprintln!("The log was changed outside sealdesk. Keep this data dir as evidence and compare it with your backups.");
            Ok(1)
        }
    }
}
