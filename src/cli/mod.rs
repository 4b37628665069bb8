//! The admin CLI: clap definitions and one small function per subcommand.

mod agent;
// Part 12: files named on the command line are read by the CLI itself
mod client_files;
mod config;
mod customer;
mod demo;
// Part 12
mod defaults;
mod doctor;
mod import;
mod keys;
mod mail;
mod notice;
mod output;
mod privacy;
mod qr;
// Part 11 api: the CLI over `ssh NAME@desk COMMAND`, exit codes
mod remote;
// Part 12
mod report;
mod serve;
mod status;
mod templates;
mod ticket;
// Part 12: one-line parse errors
pub mod usage;
mod views;
// Part 11
mod webhook;

use crate::control;
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use output::Io;
use sealdesk_desk::config::Config;
use sealdesk_desk::{Actor, AuditReport, Desk};
use sealdesk_store::{Paths, Store};
use std::io::Write;
use std::path::PathBuf;
use zeroize::Zeroizing;

// Part 11 api
pub use remote::{execute_for_agent, exit, exit_code, refusal, split_command, wants_stdin};

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

/// The ids of [`Global`]'s options: the desk's own dirs and files.
const GLOBAL_IDS: [&str; 4] = ["data", "keys", "passphrase_file", "config"];

/// Commands that never open the desk at `--data`/`--keys` (the demo makes its own), so
/// their `--help` does not list the global options (they are still accepted).
const WITHOUT_DESK: [&str; 1] = ["demo"];

/// The command-line definition: [`Cli`], with the global options hidden in the help of
/// the commands that ignore them. Every parser (main, control socket, SSH) uses it.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    // Global options reach the subcommands when the command is built.
    cmd.build();
    for name in WITHOUT_DESK {
        // In place (`mut_arg` would reorder a built command's args and break its lookup).
        cmd = cmd.mut_subcommand(name, |sub| {
            sub.mut_args(|a| {
                if GLOBAL_IDS.contains(&a.get_id().as_str()) {
                    a.hide(true)
                } else {
                    a
                }
            })
        });
    }
    cmd
}

/// Parses the words after the program name.
pub fn parse(args: &[String]) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let argv = std::iter::once("sealdesk".to_string()).chain(args.iter().cloned());
    let matches = command().try_get_matches_from(argv)?;
    Cli::from_arg_matches(&matches)
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The data dir (the sealed database).
    #[arg(long, global = true, env = "SEALDESK_DATA", default_value_os_t = defaults::data())]
    pub data: PathBuf,
    /// The keys dir (master key, keyring, SSH host key); keep it apart from the data.
    #[arg(long, global = true, env = "SEALDESK_KEYS", default_value_os_t = defaults::keys())]
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
    /// Saved replies agents insert into replies and notes (placeholders filled).
    #[command(subcommand, name = "reply-template")]
    ReplyTemplate(templates::ReplyTemplateCommand),
    /// Macros: a reply plus status, tags, assignee and priority, applied in one go.
    #[command(subcommand)]
    Macro(templates::MacroCommand),
    /// Saved queue views: agents switch with 1…9, `ssh -t … queue VIEW` opens one.
    #[command(subcommand)]
    View(views::ViewCommand),
    /// Look at customers.
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// File one RFC 5322 message from stdin (for MTA pipes, .forward, procmail,
    /// fetchmail). Exits 0 once stored, 75 (EX_TEMPFAIL) when it could not be stored.
    Ingest {
        /// The envelope sender, if the MTA passes it (e.g. Postfix's ${sender}).
        #[arg(long)]
        from: Option<String>,
        /// The envelope recipient(s), if the MTA passes them (e.g. Postfix's
        /// ${recipient}): a new ticket belongs to the first support address among them.
        #[arg(long, value_name = "ADDR")]
        to: Vec<String>,
        /// Keep the message's Date: as its time and a new ticket's (old mail); a
        /// missing or garbled Date: means now.
        #[arg(long)]
        keep_date: bool,
    },
    /// Import old mail (mbox, Maildir, .eml): original dates kept, threaded as live
    /// mail, nothing sent; run again to resume, what was imported is skipped.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Messages that could not become tickets, kept with the reason.
    #[command(subcommand)]
    Quarantine(mail::QuarantineCommand),
    /// Read and change the config file (sealdesk.toml), like `git config`.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Whether the store takes writes (since when it fails, and why), its last
    /// recovery, and the free space of the data and keys dirs. Exits 1 while failing.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent snapshot of the data (works while the server runs). The keys
    /// are not inside: keep them apart (see README).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Back up the keys dir's keyring safely, or put such a backup back.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Restore a backup into an empty data dir, with today's keys dir; erasures done
    /// since the backup are applied again.
    Restore { file: PathBuf },
    /// Retention rules (config `[retention]`, `privacy.anonymise_closed_after_days`,
    /// `privacy.export_retention_days`); the server runs them daily.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// A customer's consent ledger.
    #[command(subcommand)]
    Consent(privacy::ConsentCommand),
    /// Notices to chosen customers (incident, policy change, transfer, end of service).
    #[command(subcommand)]
    Notice(notice::NoticeCommand),
    /// Privacy requests (access, export, correction, erasure…) and their deadlines.
    #[command(subcommand)]
    Request(privacy::RequestCommand),
    /// Webhooks: signed HTTP POSTs to other systems when tickets change (admins only).
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Run the desk: the SSH server agents log in to, the SMTP/LMTP listener, the
    /// outbox and the control socket; stops on Ctrl-C or SIGTERM.
    Serve(serve::ServeArgs),
    /// A throwaway desk with demo data on loopback; prints the ssh line. Ctrl-C stops it.
    Demo(demo::DemoArgs),
    /// Check this desk's setup (file modes, config, mail relay, ports, disk, clock,
    /// backups, second factors): one line each with its fix. Exits 1 when something must
    /// be fixed, 0 when at most warnings remain.
    Doctor {
        /// An array of {check, level, message, fix}.
        #[arg(long)]
        json: bool,
        /// What the store knows, as JSON (asked of a running server).
        #[arg(long, hide = true)]
        facts: bool,
    },
    /// Figures: volume, backlog, response-times, sla, hours or privacy, as a table,
    /// --json or --csv.
    Report(report::ReportArgs),
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits 0 only if it is intact.
    Verify,
    /// Every event, as JSON (customers appear only as pseudonyms).
    Export {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Apply the retention rules now.
    Run {
        /// List everything a run would do (ids and counts), change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply the rules as if it were this time (2027-01-31 or RFC 3339): with
        /// --dry-run, what a later run will do; without, a later time deletes sooner.
        #[arg(long)]
        as_of: Option<String>,
    },
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
        remove_stale_temp(&path.with_extension("toml.tmp"));
        Ok(Config::load(&path, must_exist)?)
    }

    /// Opens the desk for one command.
    pub fn open_desk(&self) -> Result<Desk> {
        let config = self.load_config()?;
        let pass = self.passphrase()?;
        // Desks made before files were created 0600 (sled's were 0644).
        if self.paths().db().exists() {
            sealdesk_store::tighten_modes(&self.data)?;
        }
        let store = Store::open(&self.paths(), pass.as_deref().map(String::as_str))?;
        let config_path = self
            .config
            .clone()
            .unwrap_or_else(|| Config::default_path(&self.data));
        let desk = Desk::new(store, config).with_config_path(config_path);
        let resumed = desk.resume_erasures()?;
        if resumed > 0 {
            eprintln!("sealdesk: finished {resumed} erasure(s) that were interrupted (see `sealdesk audit export`: customer.erase.resumed)");
        }
        Ok(desk)
    }
}

/// Removes a temp file that a run killed between writing and renaming it left behind
/// (it may hold secrets, such as the relay password of a config being saved). Only when
/// it is a minute old, so a save in progress in another process is not disturbed.
fn remove_stale_temp(path: &std::path::Path) {
    let old = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(60));
    if old {
        let _ = std::fs::remove_file(path);
    }
}

/// Runs a parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match &cli.command {
        Command::Init => return init(g),
        Command::Restore { file } => return restore(g, file),
        Command::Keys(keys::KeysCommand::Restore { file }) => return keys::restore(g, file),
        Command::Serve(_) => {
            let Command::Serve(args) = cli.command else {
                unreachable!()
            };
            return serve::run(&cli.global, args);
        }
        Command::Demo(_) => {
            let Command::Demo(args) = cli.command else {
                unreachable!()
            };
            return demo::run(args);
        }
        Command::Doctor { json, facts: false } => return doctor::run(g, *json),
        Command::Import(_) => {
            let Command::Import(cmd) = cli.command else {
                unreachable!()
            };
            return import::run(&cli.global, cmd);
        }
        _ => {}
    }
    let is_ingest = matches!(cli.command, Command::Ingest { .. });
    let outcome = run_command(cli);
    if is_ingest {
        // An MTA retries on EX_TEMPFAIL; any other failure would bounce the mail.
        if let Err(e) = &outcome {
            eprintln!(
                "sealdesk: error: {}",
                sealdesk_model::sanitize::line(&format!("{e:#}"))
            );
            return Ok(mail::EX_TEMPFAIL);
        }
    }
    outcome
}

fn run_command(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    let stdin: Option<Vec<u8>> = match &cli.command {
        Command::Ingest { .. } => Some(read_stdin()?),
        Command::Ticket(cmd) if ticket::needs_stdin(cmd) => {
            Some(ticket::read_stdin_body()?.into_bytes())
        }
        Command::ReplyTemplate(_) | Command::Macro(_) => templates::client_text(&cli.command)?,
        _ => None,
    };
    let files = match &cli.command {
        Command::Ticket(cmd) => ticket::read_attachments(cmd)?,
        _ => Vec::new(),
    };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    absolutize_out_paths(&mut args)?;
    let mut command = cli.command;
    if let Some(inlined) = client_files::inline(&command, &args)? {
        args = inlined;
        command = reparse(&args)?;
    }
    if let Command::Customer(cmd) = &command {
        if let Some(extra) = customer::confirm_cancel_interactively(cmd)? {
            args.extend(extra);
            command = reparse(&args)?;
        }
    }
    // A running server holds the store's lock: hand it the command instead.
    let request = control::Request::new(args, stdin.as_deref())
        .with_files(files.iter().map(|f| (f.name.as_str(), f.bytes.as_slice())));
    if let Some(response) = control::forward(&g.data, &request)? {
        {
            let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
            out.write_all(response.stdout.as_bytes())?;
            err.write_all(response.stderr.as_bytes())?;
        }
        if let (0, Command::Notice(notice::NoticeCommand::Send { id, follow: true })) =
            (response.code, &command)
        {
            return notice::follow(&g.data, id);
        }
        return Ok(response.code);
    }
    let desk = g.open_desk()?;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    execute(
        &desk,
        &Actor::local_admin(),
        command,
        stdin,
        files,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    )
}

/// The command line the CLI changed (files read, answers added), parsed again.
fn reparse(args: &[String]) -> Result<Command> {
    parse(args)
        .map(|cli| cli.command)
        .map_err(|e| anyhow::anyhow!(usage::one_line(&e, args, usage::Caller::Local)))
}

/// A running server may have another working directory: `--out` paths (files the
/// server writes) go to it whole. Files the CLI reads are read here (client_files).
fn absolutize_out_paths(args: &mut [String]) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let absolute = |path: &str| cwd.join(path).to_string_lossy().into_owned();
    for i in 0..args.len() {
        if let Some(path) = args[i].strip_prefix("--out=") {
            if !path.starts_with('/') {
                args[i] = format!("--out={}", absolute(path));
            }
        } else if i > 0 && args[i - 1] == "--out" && !args[i].starts_with('/') {
            args[i] = absolute(&args[i]);
        }
    }
    Ok(())
}

fn read_stdin() -> Result<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .context("cannot read the message from stdin")?;
    Ok(raw)
}

/// Runs one command against an open desk: directly from the CLI, or inside the server
/// for a CLI that reached it over the control socket.
pub fn execute(
    desk: &Desk,
    actor: &Actor,
    command: Command,
    stdin: Option<Vec<u8>>,
    files: Vec<sealdesk_desk::ReplyFile>,
    io: &mut Io,
) -> Result<i32> {
    let stdin_text = || -> Result<Option<String>> {
        stdin
            .clone()
            .map(|b| String::from_utf8(b).context("stdin is not UTF-8 text"))
            .transpose()
    };
    match command {
        Command::Init => bail!("a running server cannot run `init`: the desk exists already"),
        Command::Agent(cmd) => agent::run(desk, actor, cmd, io),
        Command::Ticket(cmd) => ticket::run(desk, actor, cmd, stdin_text()?, files, io),
        Command::Customer(cmd) => customer::run(desk, actor, cmd, io),
        Command::View(cmd) => views::run(desk, actor, cmd, io),
        Command::ReplyTemplate(cmd) => {
            templates::reply_template(desk, actor, cmd, stdin_text()?, io)
        }
        Command::Macro(cmd) => templates::macro_command(desk, actor, cmd, stdin_text()?, io),
        Command::Audit(AuditCommand::Verify) => audit_verify(desk, io),
        Command::Status { json } => status::run(desk, json, io),
        Command::Ingest {
            from,
            to,
            keep_date,
        } => mail::ingest(
            desk,
            from.as_deref(),
            &to,
            keep_date,
            stdin.as_deref().unwrap_or_default(),
            io,
        ),
        Command::Import(import::ImportCommand::Batch { status }) => import::batch(
            desk,
            actor,
            status,
            stdin.as_deref().unwrap_or_default(),
            io,
        ),
        Command::Import(_) => {
            bail!("run `sealdesk import` on the desk's machine: it reads the mailbox itself")
        }
        Command::Quarantine(cmd) => mail::quarantine(desk, actor, cmd, io),
        Command::Config(cmd) => config::run(desk, actor, cmd, io),
        Command::Backup { out } => {
            let summary = desk.backup(actor, &out)?;
            writeln!(
                io.out,
                "backup written to {}: {} records in {} trees, {} bytes (values stay sealed; the keys are not inside)",
                out.display(),
                summary.records,
                summary.trees,
                summary.bytes
            )?;
            Ok(0)
        }
        Command::Restore { .. } => {
            bail!("stop the server first: a restore goes into an empty data dir")
        }
        Command::Keys(cmd) => keys::run(desk, actor, cmd, io),
        Command::Consent(cmd) => privacy::consent(desk, actor, cmd, io),
        Command::Request(cmd) => privacy::request(desk, actor, cmd, io),
        Command::Webhook(cmd) => webhook::run(desk, actor, cmd, io),
        Command::Report(args) => report::run(desk, actor, args, io),
        Command::Notice(cmd) => notice::run(desk, actor, cmd, io),
        Command::Serve(_) | Command::Demo(_) => bail!("the server is running already"),
        Command::Doctor { .. } => doctor::print_facts(desk, io),
        Command::Retention(RetentionCommand::Run { dry_run, as_of }) => {
            let now = match as_of {
                Some(t) => notice::parse_time(&t, false)?,
                None => sealdesk_model::Timestamp::now(),
            };
            let report = desk.run_retention(actor, dry_run, now)?;
            if dry_run {
                writeln!(io.out, "dry run as of {now}: nothing was changed")?;
            }
            for line in report.lines() {
                writeln!(io.out, "{line}")?;
            }
            Ok(0)
        }
        Command::Audit(AuditCommand::Export { json: _ }) => {
            let events = desk.export_audit(actor)?;
            let docs: Vec<sealdesk_model::AuditEventJson> = events.iter().map(Into::into).collect();
            output::print_json(io.out, &docs)?;
            Ok(0)
        }
    }
}

/// What the server runs for each control-socket request: the CLI command, against its
/// own desk, audited as the local user who sent it.
pub fn control_handler(desk: std::sync::Arc<Desk>) -> control::Handler {
    std::sync::Arc::new(move |request, peer| {
        let pid = peer
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into());
        let actor = Actor {
            name: format!("cli:uid{}", peer.uid),
            key_fingerprint: None,
            source: format!("control socket pid {pid} (admin: OS user of the server)"),
            kind: sealdesk_desk::ActorKind::LocalAdmin,
        };
        execute_request(&desk, &actor, request)
    })
}

/// Executes a request that came over the control socket, capturing its output.
pub fn execute_request(desk: &Desk, actor: &Actor, request: control::Request) -> control::Response {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stdin = request.stdin();
    let files: Vec<sealdesk_desk::ReplyFile> = request
        .files()
        .into_iter()
        .map(|(name, bytes)| sealdesk_desk::ReplyFile { name, bytes })
        .collect();
    let code = match parse(&request.args) {
        Ok(cli) => {
            let is_ingest = matches!(cli.command, Command::Ingest { .. });
            let mut io = Io {
                out: &mut out,
                err: &mut err,
            };
            match execute(desk, actor, cli.command, stdin, files, &mut io) {
                Ok(code) => code,
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "sealdesk: error: {}",
                        sealdesk_model::sanitize::line(&format!("{e:#}"))
                    );
                    if is_ingest {
                        mail::EX_TEMPFAIL
                    } else {
                        exit_code(&e)
                    }
                }
            }
        }
        Err(e) if usage::is_help(&e) => {
            let _ = write!(out, "{}", e.render());
            exit::OK
        }
        Err(e) => {
            let line = usage::one_line(&e, &request.args, usage::Caller::Local);
            let _ = writeln!(err, "sealdesk: error: {line}");
            exit::USAGE
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

fn restore(g: &Global, file: &std::path::Path) -> Result<i32> {
    let pass = g.passphrase()?;
    let (summary, reapplied) =
        Store::restore(file, &g.paths(), pass.as_deref().map(String::as_str))?;
    println!(
        "restored {} records in {} trees into {}",
        summary.records,
        summary.trees,
        g.data.display()
    );
    println!("re-applied {reapplied} erasure(s) done since the backup was taken");
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
