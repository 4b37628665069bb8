//! The CLI over SSH (`ssh -p 2222 NAME@desk ticket list --json`): which commands an
//! agent may run there, and the exit codes every command ends with (docs/api.md).
//!
//! The SSH key is the API key: the command runs as the agent who logged in, through
//! the same [`execute`](super::execute) as the local CLI. What runs here never touches
//! the server's files or keys, and admin commands need an admin *now* (checked by the
//! desk at the moment the command runs, not at login).

use super::output::Io;
use super::{
    agent, config, customer, notice, templates, ticket, usage, AuditCommand, Cli, Command,
};
use crate::control;
use clap::parser::ValueSource;
use clap::FromArgMatches;
use sealdesk_desk::{Actor, Desk, DeskError};
use std::io::Write;

/// The exit codes (docs/api.md); the local CLI ends with the same ones.
pub mod exit {
    pub const OK: i32 = 0;
    /// Anything else that went wrong (the line on stderr says what).
    pub const FAILED: i32 = 1;
    /// The command line did not parse, or a value in it was refused.
    pub const USAGE: i32 = 2;
    // 3 is `request alarms`: something is overdue.
    /// No such ticket, customer, agent, request…
    pub const NOT_FOUND: i32 = 4;
    /// The agent's role does not allow it (an admin command, or another's item).
    pub const FORBIDDEN: i32 = 5;
    /// The command is never run over SSH (init, serve, backup, keys, ingest…).
    pub const NOT_OVER_SSH: i32 = 6;
    /// It clashes with the ticket's state or another change.
    pub const CONFLICT: i32 = 7;
    /// More commands per minute than `ssh.exec_per_minute` allows this key.
    pub const RATE_LIMITED: i32 = 8;
    /// The store cannot take writes right now (disk full or failing): try again later.
    pub const TEMPFAIL: i32 = 75;
}

/// The exit code a failed command ends with, from the error's kind.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<DeskError>() {
            return match e {
                DeskError::NotFound(_) => exit::NOT_FOUND,
                DeskError::Forbidden(_) => exit::FORBIDDEN,
                DeskError::Invalid(_) | DeskError::Parse(_) => exit::USAGE,
                DeskError::Conflict(_) => exit::CONFLICT,
                DeskError::Store(failure)
                    if matches!(
                        failure.downcast_ref::<sealdesk_store::StoreError>(),
                        Some(sealdesk_store::StoreError::Unavailable { .. })
                    ) =>
                {
                    exit::TEMPFAIL
                }
                _ => exit::FAILED,
            };
        }
        if cause.downcast_ref::<clap::Error>().is_some()
            || cause.downcast_ref::<sealdesk_model::ParseError>().is_some()
        {
            return exit::USAGE;
        }
    }
    exit::FAILED
}

/// Who may run a command over SSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Any agent; the desk still checks each operation (another's view, a redaction…).
    Agent,
    /// Admins only (their role read when the command runs); what it does, for the refusal.
    Admin(&'static str),
    /// Never over SSH, with the reason.
    Never(&'static str),
}

const SERVER_FILE: &str =
    "names a file on the server; over SSH pipe the text on stdin (or run it on the server)";

fn access(command: &Command) -> Access {
    use Access::*;
    match command {
        Command::Init | Command::Serve(_) | Command::Demo(_) | Command::Restore { .. } => {
            Never("it starts, creates or replaces the desk itself: run it on the server")
        }
        Command::Backup { .. } => Never("--out writes a file on the server: run it on the server"),
        Command::Doctor { .. } => {
            Never("it checks the server's own files, ports and clock: run it on the server")
        }
        Command::Keys(_) => Never("keys never leave the server: run it there"),
        Command::Ingest { .. } => Never(
            "mail comes in from the MTA on the server (ingest is the MTA's pipe, not an agent's); use `ticket create` to open a ticket",
        ),
        Command::Ticket(cmd) => match cmd {
            ticket::TicketCommand::Redact { .. } => Admin("redact a message"),
            ticket::TicketCommand::Reply { attach, .. } if !attach.is_empty() => Never(
                "--attach reads a file on the server: put the file with sftp into /tickets/N/outgoing/ and send the reply from the desk",
            ),
            _ => Agent,
        },
        Command::Customer(cmd) => match cmd {
            customer::CustomerCommand::Export { out: Some(_), .. }
            | customer::CustomerCommand::Exports { out: Some(_), .. } => Never(
                "--out writes a file on the server: the archive is kept in the desk; fetch it with sftp from /exports/",
            ),
            customer::CustomerCommand::Cancel { .. } => Admin("erase a customer"),
            // Legal hold, restriction, minor: the record's privacy flags.
            customer::CustomerCommand::Set { .. } => Admin("change a customer's record"),
            _ => Agent,
        },
        Command::Request(_) | Command::Consent(_) | Command::View(_) => Agent,
        Command::ReplyTemplate(_) | Command::Macro(_) => match templates::text_source(command) {
            Some(Some(_)) => Never(SERVER_FILE),
            _ => Agent,
        },
        Command::Agent(cmd) => match cmd {
            agent::AgentCommand::Add { key_files, .. } if !key_files.is_empty() => {
                Never("--key-file names a file on the server; give the key line with --key \"$(cat FILE.pub)\"")
            }
            agent::AgentCommand::Set {
                signature_file: Some(_),
                ..
            } => Never("--signature-file names a file on the server; give --signature TEXT"),
            _ => Admin("manage agents"),
        },
        Command::Config(cmd) => match cmd {
            config::ConfigCommand::Set { key, .. } if is_secret_key(key) => Never(
                "this key holds a secret (a password, token or command): set it on the server",
            ),
            config::ConfigCommand::Get { key, reveal: true } if is_secret_key(key) => {
                Never("secrets are not shown over SSH: read them on the server")
            }
            _ => Admin("read or change the config"),
        },
        Command::Notice(notice::NoticeCommand::Create {
            body_file,
            addresses,
            ..
        }) if body_file.is_some() || addresses.is_some() => Never(
            "--body-file and --addresses name files on the server: give --body TEXT and --address ADDR",
        ),
        Command::Notice(_) => Admin("send notices"),
        Command::Quarantine(_) => Admin("handle the quarantine"),
        Command::Audit(AuditCommand::Export { .. } | AuditCommand::Verify) => {
            Admin("read the audit log")
        }
        Command::Status { .. } => Admin("read the store's status"),
        Command::Retention(_) => Admin("run retention"),
        // The desk checks the role too; a new hook's secret is shown to the admin once.
        Command::Webhook(_) => Admin("manage webhooks"),
        // Part 12: figures only, no customer data.
        Command::Report(_) => Agent,
        Command::Import(_) => Never(
            "it reads mbox/Maildir files on the server and files years of mail at once: run it there",
        ),
    }
}

/// Config keys whose values are secrets, or run programs: never set over SSH.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("mail.relay")
        || key.starts_with("mail.imap")
        || key.starts_with("webhook")
        || ["password", "secret", "token", "command", "key_file"]
            .iter()
            .any(|w| key.contains(w))
}

/// The words of an exec request, split like a POSIX shell (quotes, backslashes);
/// `None` for an unterminated quote.
pub fn split_command(line: &str) -> Option<Vec<String>> {
    shlex::split(line)
}

/// Whether the command reads its body from stdin (the exec channel's data until EOF).
pub fn wants_stdin(args: &[String]) -> bool {
    match super::parse(args) {
        Ok(cli) => match &cli.command {
            Command::Ticket(cmd) => ticket::needs_stdin(cmd),
            c @ (Command::ReplyTemplate(_) | Command::Macro(_)) => {
                matches!(templates::text_source(c), Some(None))
            }
            _ => false,
        },
        Err(_) => false,
    }
}

/// A response of one line on stderr and `code`.
pub fn refusal(line: &str, code: i32) -> control::Response {
    control::Response {
        stdout: String::new(),
        stderr: format!("sealdesk: {}\n", sealdesk_model::sanitize::line(line)),
        code,
    }
}

/// Runs one command for an agent over SSH: parsed, checked against [`access`] (and
/// the agent's role now), executed as the agent; its output captured.
pub fn execute_for_agent(
    desk: &Desk,
    actor: &Actor,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
) -> control::Response {
    let argv = std::iter::once("sealdesk".to_string()).chain(args.iter().cloned());
    let matches = match super::command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) if usage::is_help(&e) => {
            return control::Response {
                stdout: e.render().to_string(),
                stderr: String::new(),
                code: exit::OK,
            };
        }
        Err(e) => {
            let line = usage::one_line(&e, &args, usage::Caller::Ssh);
            return refusal(&format!("error: {line}"), exit::USAGE);
        }
    };
    // The server's own dirs and files: not an agent's to choose.
    for id in super::GLOBAL_IDS {
        if matches.value_source(id) == Some(ValueSource::CommandLine) {
            return refusal(
                &format!(
                    "--{} is the server's own setting: leave it out over SSH",
                    id.replace('_', "-")
                ),
                exit::USAGE,
            );
        }
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let line = usage::one_line(&e, &args, usage::Caller::Ssh);
            return refusal(&format!("error: {line}"), exit::USAGE);
        }
    };
    match access(&cli.command) {
        Access::Agent => {}
        Access::Admin(what) => {
            if let Err(e) = desk.check_admin(actor, what) {
                return refusal(&e.to_string(), exit::FORBIDDEN);
            }
        }
        Access::Never(why) => {
            return refusal(&format!("not over SSH: {why}"), exit::NOT_OVER_SSH);
        }
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let mut io = Io {
            out: &mut out,
            err: &mut err,
        };
        match super::execute(desk, actor, cli.command, stdin, Vec::new(), &mut io) {
            Ok(code) => code,
            Err(e) => {
                let _ = writeln!(
                    err,
                    "sealdesk: error: {}",
                    sealdesk_model::sanitize::line(&format!("{e:#}"))
                );
                exit_code(&e)
            }
        }
    };
    control::Response {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str) -> Command {
        let args = split_command(line).unwrap();
        super::super::parse(&args).unwrap().command
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_command(r#"ticket reply 3 --body "two words" --to a\ b 'c "d"'"#).unwrap(),
            [
                "ticket",
                "reply",
                "3",
                "--body",
                "two words",
                "--to",
                "a b",
                "c \"d\""
            ]
        );
        assert_eq!(split_command("ticket list 'open"), None);
        assert_eq!(split_command("  "), Some(vec![]));
    }

    #[test]
    fn agents_triage_admins_administer_and_some_never_run_remotely() {
        for line in [
            "ticket list --json",
            "ticket set 1 --status pending",
            "ticket merge 2 --into 1",
            "ticket reply 1 --body hi",
            "customer show a@example.com",
            "request list",
            "view list",
            "reply-template list",
            "macro list",
        ] {
            assert_eq!(access(&command(line)), Access::Agent, "{line}");
        }
        for line in [
            "agent list",
            "audit export --json",
            "config set mail.from x@example.com",
            "config list",
            "quarantine list",
            "status",
            "ticket redact 1 --message 1 --reason r",
            "notice create --kind incident --subject s --body b --address a@example.com",
        ] {
            assert!(matches!(access(&command(line)), Access::Admin(_)), "{line}");
        }
        for line in [
            "init",
            "backup --out /tmp/x",
            "keys backup --out /tmp/k",
            "restore /tmp/x",
            "ingest",
            "config set mail.relay smtps://u:p@h:465",
            "config get mail.relay --reveal",
            "ticket reply 1 --body hi --attach /etc/passwd",
            "customer export a@example.com --out /tmp/a.zip",
            "reply-template add x --file /etc/passwd",
            "agent add x --key-file /root/.ssh/id.pub",
            "notice create --kind incident --subject s --body-file /etc/passwd --all",
            "notice create --kind incident --subject s --body b --addresses /etc/passwd",
        ] {
            assert!(matches!(access(&command(line)), Access::Never(_)), "{line}");
        }
    }

    #[test]
    fn stdin_is_read_only_for_bodies_not_given() {
        let words = |l: &str| split_command(l).unwrap();
        assert!(wants_stdin(&words("ticket reply 3")));
        assert!(wants_stdin(&words(
            "ticket create --from a@x.example --subject s"
        )));
        assert!(!wants_stdin(&words("ticket reply 3 --body hi")));
        assert!(!wants_stdin(&words("ticket list")));
        assert!(wants_stdin(&words("reply-template add thanks")));
    }
}
