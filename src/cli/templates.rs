//! `sealdesk reply-template …` and `sealdesk macro …`: saved replies and macros.
//! Texts given with `--file`/`--reply-file` or on stdin are read on the client side
//! (see [`client_text`]), so the commands work the same against a running server.

use super::output::{fit, print_json, safe, safe_block, Io};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use sealdesk_desk::{Actor, Desk};
use sealdesk_model::{
    AssigneeChange, Macro, Priority, ReplyTemplate, Status, TagChange, TicketNo, Timestamp,
    Visibility,
};
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ReplyTemplateCommand {
    /// Save a reply for agents to insert (shared with every agent). The text may hold
    /// {customer.name}, {customer.email}, {ticket}, {agent}, {address.name},
    /// {address.email}; `{{` writes a `{`. From --text, --file or stdin.
    Add {
        name: String,
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Every saved reply.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One saved reply and its text.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a saved reply's text (--text, --file or stdin) and/or its name.
    Edit {
        name: String,
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        /// A new name; with it alone the text stays.
        #[arg(long, value_name = "NEW")]
        rename: Option<String>,
    },
    /// Delete a saved reply.
    Remove { name: String },
}

/// What a macro does, as options (shared by `add` and `edit`).
#[derive(clap::Args, Debug, Default)]
pub struct MacroSettings {
    /// The reply it sends (placeholders as in saved replies).
    #[arg(long, conflicts_with = "reply_file")]
    reply: Option<String>,
    /// The reply, from a file.
    #[arg(long, value_name = "FILE")]
    reply_file: Option<PathBuf>,
    /// The status it sets: new, open, pending, solved, closed.
    #[arg(long)]
    status: Option<Status>,
    /// Tag changes, e.g. +billing,-vip (a bare tag adds).
    #[arg(long, allow_hyphen_values = true)]
    tags: Option<String>,
    /// Who it assigns to: an agent, `me` (whoever applies it) or `none`.
    #[arg(long, value_name = "AGENT|me|none")]
    assign: Option<String>,
    /// The priority it sets: low, normal, high, urgent.
    #[arg(long)]
    priority: Option<Priority>,
}

#[derive(Subcommand, Debug)]
pub enum MacroCommand {
    /// Save a macro: a reply and/or workflow changes, applied in one go.
    Add {
        name: String,
        #[command(flatten)]
        settings: MacroSettings,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change what a macro does; options not given stay as they are.
    Edit {
        name: String,
        #[command(flatten)]
        settings: MacroSettings,
        /// Send no reply any more.
        #[arg(long, conflicts_with_all = ["reply", "reply_file"])]
        no_reply: bool,
        /// Clear the tag changes.
        #[arg(long, conflicts_with = "tags")]
        no_tags: bool,
        #[arg(long, value_name = "NEW")]
        rename: Option<String>,
    },
    Remove {
        name: String,
    },
    /// Apply a macro to tickets: the reply, then the workflow changes, per ticket
    /// (each audited); a ticket that refuses the reply is reported and left alone.
    Apply {
        name: String,
        /// Ticket numbers, e.g. 12 or 12,14,#15.
        #[arg(long, value_delimiter = ',', required = true)]
        ticket: Vec<TicketNo>,
    },
}

/// The text a command takes from a file or stdin, read here on the client side (it
/// travels to a running server as the request's stdin); `None` if it takes none.
/// Where the text of a command comes from: `Some(Some(file))` a file, `Some(None)`
/// stdin; `None` if it takes no text that way.
pub(super) fn text_source(command: &super::Command) -> Option<Option<&PathBuf>> {
    use super::Command;
    let file = match command {
        Command::ReplyTemplate(ReplyTemplateCommand::Add {
            text: None, file, ..
        }) => file,
        Command::ReplyTemplate(ReplyTemplateCommand::Edit {
            text: None,
            file,
            rename,
            ..
        }) if file.is_some() || rename.is_none() => file,
        Command::Macro(
            MacroCommand::Add { settings, .. } | MacroCommand::Edit { settings, .. },
        ) if settings.reply_file.is_some() => &settings.reply_file,
        _ => return None,
    };
    Some(file.as_ref())
}

pub(super) fn client_text(command: &super::Command) -> Result<Option<Vec<u8>>> {
    let Some(file) = text_source(command) else {
        return Ok(None);
    };
    let text = match file {
        Some(path) => std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read {}: check the path (the text must be UTF-8)",
                path.display()
            )
        })?,
        None => {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                eprintln!("(reading the text from stdin; end with Ctrl-D, or pass --text TEXT)");
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the text from stdin: it must be UTF-8 text")?;
            text
        }
    };
    Ok(Some(text.into_bytes()))
}

pub(super) fn reply_template(
    desk: &Desk,
    actor: &Actor,
    cmd: ReplyTemplateCommand,
    given: Option<String>,
    io: &mut Io,
) -> Result<i32> {
    match cmd {
        ReplyTemplateCommand::Add { name, text, .. } => {
            let Some(text) = text.or(given) else {
                bail!("no text given: pass --text TEXT, --file FILE or pipe it on stdin");
            };
            let t = desk.add_reply_template(actor, &name, &text, Visibility::Shared)?;
            writeln!(io.out, "saved reply {:?} added", safe(&t.name))?;
        }
        ReplyTemplateCommand::List { json } => {
            let all = desk.reply_templates(actor)?;
            if json {
                print_json(io.out, &all.iter().map(template_json).collect::<Vec<_>>())?;
            } else if all.is_empty() {
                writeln!(
                    io.out,
                    "no saved replies: add one with `sealdesk reply-template add NAME --text TEXT`"
                )?;
            } else {
                writeln!(io.out, "{:<24} {:<8} {:<14} TEXT", "NAME", "SCOPE", "BY")?;
                for t in &all {
                    let first = t.text.lines().next().unwrap_or("");
                    writeln!(
                        io.out,
                        "{:<24} {:<8} {:<14} {}",
                        fit(&safe(&t.name), 24),
                        scope(t.visibility),
                        fit(&safe(&t.created_by), 14),
                        fit(&safe(first), 50)
                    )?;
                }
            }
        }
        ReplyTemplateCommand::Show { name, json } => {
            let t = desk.reply_template(actor, &name)?;
            if json {
                print_json(io.out, &template_json(&t))?;
            } else {
                writeln!(io.out, "saved reply {:?}", safe(&t.name))?;
                writeln!(
                    io.out,
                    "  {} · by {} · {} · updated {}",
                    scope(t.visibility),
                    safe(&t.created_by),
                    t.created.rfc3339(),
                    t.updated.rfc3339()
                )?;
                write!(io.out, "{}", safe_block(&t.text, "  | "))?;
            }
        }
        ReplyTemplateCommand::Edit {
            name, text, rename, ..
        } => {
            let text = text.or(given);
            if text.is_none() && rename.is_none() {
                bail!("nothing to change: pass --text TEXT, --file FILE, stdin, or --rename NEW");
            }
            let t = desk.edit_reply_template(actor, &name, text.as_deref(), rename.as_deref())?;
            writeln!(io.out, "saved reply {:?} changed", safe(&t.name))?;
        }
        ReplyTemplateCommand::Remove { name } => {
            let t = desk.remove_reply_template(actor, &name)?;
            writeln!(io.out, "saved reply {:?} removed", safe(&t.name))?;
        }
    }
    Ok(0)
}

pub(super) fn macro_command(
    desk: &Desk,
    actor: &Actor,
    cmd: MacroCommand,
    given: Option<String>,
    io: &mut Io,
) -> Result<i32> {
    match cmd {
        MacroCommand::Add { name, settings } => {
            let now = Timestamp::now();
            let mut m = Macro {
                name,
                reply: None,
                status: None,
                tags: Vec::new(),
                assignee: None,
                priority: None,
                visibility: Visibility::Shared,
                created_by: String::new(),
                created: now,
                updated: now,
            };
            settings.apply_to(&mut m, given)?;
            let m = desk.add_macro(actor, &m)?;
            writeln!(
                io.out,
                "macro {:?} added: {}",
                safe(&m.name),
                safe(&m.summary())
            )?;
        }
        MacroCommand::List { json } => {
            let all = desk.macros(actor)?;
            if json {
                print_json(io.out, &all.iter().map(macro_json).collect::<Vec<_>>())?;
            } else if all.is_empty() {
                writeln!(
                    io.out,
                    "no macros: add one with `sealdesk macro add NAME --status solved`"
                )?;
            } else {
                writeln!(io.out, "{:<24} {:<8} {:<14} DOES", "NAME", "SCOPE", "BY")?;
                for m in &all {
                    writeln!(
                        io.out,
                        "{:<24} {:<8} {:<14} {}",
                        fit(&safe(&m.name), 24),
                        scope(m.visibility),
                        fit(&safe(&m.created_by), 14),
                        safe(&m.summary())
                    )?;
                }
            }
        }
        MacroCommand::Show { name, json } => {
            let m = desk.macro_named(actor, &name)?;
            if json {
                print_json(io.out, &macro_json(&m))?;
            } else {
                writeln!(io.out, "macro {:?}: {}", safe(&m.name), safe(&m.summary()))?;
                writeln!(
                    io.out,
                    "  {} · by {} · updated {}",
                    scope(m.visibility),
                    safe(&m.created_by),
                    m.updated.rfc3339()
                )?;
                if let Some(reply) = &m.reply {
                    write!(io.out, "{}", safe_block(reply, "  | "))?;
                }
            }
        }
        MacroCommand::Edit {
            name,
            settings,
            no_reply,
            no_tags,
            rename,
        } => {
            let mut m = desk.macro_named(actor, &name)?;
            if no_reply {
                m.reply = None;
            }
            if no_tags {
                m.tags.clear();
            }
            if let Some(new) = rename {
                m.name = new;
            }
            settings.apply_to(&mut m, given)?;
            let m = desk.edit_macro(actor, &name, &m)?;
            writeln!(
                io.out,
                "macro {:?} changed: {}",
                safe(&m.name),
                safe(&m.summary())
            )?;
        }
        MacroCommand::Remove { name } => {
            let m = desk.remove_macro(actor, &name)?;
            writeln!(io.out, "macro {:?} removed", safe(&m.name))?;
        }
        MacroCommand::Apply { name, ticket } => {
            let mut failed = 0;
            for (n, outcome) in desk.apply_macro(actor, &name, &ticket)? {
                match outcome {
                    Ok(did) => writeln!(io.out, "{n}: {}", safe(&did))?,
                    Err(e) => {
                        failed += 1;
                        writeln!(io.err, "sealdesk: {n}: {}", safe(&e.to_string()))?;
                    }
                }
            }
            if failed > 0 {
                return Ok(1);
            }
        }
    }
    Ok(0)
}

impl MacroSettings {
    /// Sets what was given on `m`; `file_text` is the --reply-file read by the client.
    fn apply_to(self, m: &mut Macro, file_text: Option<String>) -> Result<()> {
        if let Some(reply) = self.reply.or(file_text) {
            m.reply = Some(reply);
        }
        if let Some(status) = self.status {
            m.status = Some(status);
        }
        if let Some(tags) = self.tags {
            m.tags = Vec::new();
            for word in tags.split(',').filter(|w| !w.trim().is_empty()) {
                let Some(change) = TagChange::parse(word) else {
                    bail!(
                        "bad tag change {:?}: write +tag or -tag, e.g. --tags +billing,-vip",
                        safe(word)
                    );
                };
                m.tags.push(change);
            }
        }
        if let Some(assign) = self.assign {
            m.assignee = Some(match assign.trim() {
                "me" => AssigneeChange::Me,
                "none" | "-" => AssigneeChange::Nobody,
                agent => AssigneeChange::Agent(agent.to_string()),
            });
        }
        if let Some(priority) = self.priority {
            m.priority = Some(priority);
        }
        Ok(())
    }
}

fn scope(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Shared => "shared",
        Visibility::Personal => "personal",
    }
}

fn template_json(t: &ReplyTemplate) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "text": t.text,
        "scope": scope(t.visibility),
        "created_by": t.created_by,
        "created": t.created.rfc3339(),
        "updated": t.updated.rfc3339(),
    })
}

fn macro_json(m: &Macro) -> serde_json::Value {
    let assignee = m.assignee.as_ref().map(|a| match a {
        AssigneeChange::Me => "me".to_string(),
        AssigneeChange::Agent(name) => name.clone(),
        AssigneeChange::Nobody => "none".to_string(),
    });
    serde_json::json!({
        "name": m.name,
        "reply": m.reply,
        "status": m.status.map(|s| s.as_str()),
        "tags": m.tags.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "assignee": assignee,
        "priority": m.priority.map(|p| p.as_str()),
        "scope": scope(m.visibility),
        "created_by": m.created_by,
        "created": m.created.rfc3339(),
        "updated": m.updated.rfc3339(),
    })
}
