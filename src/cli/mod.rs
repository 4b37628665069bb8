//! The admin CLI: clap definitions and one small function per subcommand.

mod agent;
mod customer;
mod output;
mod ticket;

use crate::config::Config;
use crate::control;
use crate::desk::{Actor, AuditReport, Desk};
use crate::store::{Paths, Store};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use output::Io;
use std::io::Write;
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
    if let Command::Init = cli.command {
        return init(g);
    }
    let stdin = match &cli.command {
        Command::Ticket(cmd) if ticket::needs_stdin(cmd) => Some(ticket::read_stdin_body()?),
        _ => None,
    };
    // A running server holds the store's lock: hand it the command instead.
    let request = control::Request {
        args: std::env::args().skip(1).collect(),
        stdin: stdin.clone(),
    };
    if let Some(response) = control::forward(&g.data, &request)? {
        let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
        out.write_all(response.stdout.as_bytes())?;
        err.write_all(response.stderr.as_bytes())?;
        return Ok(response.code);
    }
    let desk = g.open_desk()?;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    execute(
        &desk,
        &Actor::local_admin(),
        cli.command,
        stdin,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    )
}

/// Runs one command against an open desk: directly from the CLI, or inside the server
/// for a CLI that reached it over the control socket.
pub fn execute(
    desk: &Desk,
    actor: &Actor,
    command: Command,
    stdin: Option<String>,
    io: &mut Io,
) -> Result<i32> {
    match command {
        Command::Init => bail!("a running server cannot run `init`: the desk exists already"),
        Command::Agent(cmd) => agent::run(desk, actor, cmd, io),
        Command::Ticket(cmd) => ticket::run(desk, actor, cmd, stdin, io),
        Command::Customer(cmd) => customer::run(desk, actor, cmd, io),
        Command::Audit(AuditCommand::Verify) => audit_verify(desk, io),
    }
}

/// What the server runs for each control-socket request: the CLI command, against its
/// own desk, audited as the local user who sent it.
pub fn control_handler(desk: std::sync::Arc<Desk>) -> control::Handler {
    std::sync::Arc::new(move |request, peer| {
        let actor = Actor {
            name: format!("cli:uid{}", peer.uid),
            key_fingerprint: None,
            source: format!(
                "control socket pid {}",
                peer.pid.map(|p| p.to_string()).unwrap_or("?".into())
            ),
        };
        execute_request(&desk, &actor, request)
    })
}

/// Executes a request that came over the control socket, capturing its output.
pub fn execute_request(desk: &Desk, actor: &Actor, request: control::Request) -> control::Response {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("sealdesk".to_string()).chain(request.args);
    let code = match Cli::try_parse_from(argv) {
        Ok(cli) => {
            let mut io = Io {
                out: &mut out,
                err: &mut err,
            };
            match execute(desk, actor, cli.command, request.stdin, &mut io) {
                Ok(code) => code,
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "sealdesk: error: {}",
                        crate::sanitize::line(&format!("{e:#}"))
                    );
                    1
                }
            }
        }
        Err(e) => {
            let _ = write!(err, "{e}");
            2
        }
    };
    control::Response {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        code,
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
    let protection = if report.passphrase_protected {
        "protected by your passphrase (Argon2id)"
    } else {
        "not passphrase-protected"
    };
    println!("  master key: {protection}");
    println!(
        "  SSH host key fingerprint: {}",
        report.host_key_fingerprint
    );
    println!("Next: sealdesk agent add NAME --key-file ~/.ssh/id_ed25519.pub --role admin");
    Ok(0)
}

fn audit_verify(desk: &Desk, io: &mut Io) -> Result<i32> {
    match desk.verify_audit()? {
        AuditReport::Intact { events, head } => {
            writeln!(
                io.out,
                "audit log intact: {events} events, every hash link checks out"
            )?;
            writeln!(
                io.out,
                "head: {head} (record it elsewhere to detect a rewritten log later)"
            )?;
            Ok(0)
        }
        AuditReport::Broken { checked, reason } => {
            writeln!(
                io.err,
                "sealdesk: audit log BROKEN after {checked} good events: {reason}"
            )?;
            writeln!(
                io.err,
                "The log was changed outside sealdesk. Keep this data dir as evidence and compare it with your backups."
            )?;
            Ok(1)
        }
    }
}
