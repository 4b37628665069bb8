use super::output::{print_json, Io};
use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Subcommand, ValueEnum};
use sealdesk_desk::{fingerprint, Actor, AgentChanges, AgentUpdate, Desk, SecondFactor};
use sealdesk_model::AgentRole;
use sealdesk_tui::theme;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Register an agent and their SSH public key(s).
    Add {
        /// The agent's name; also their SSH user name.
        name: String,
        /// An OpenSSH public key line: 'ssh-ed25519 AAAA… comment' (repeatable).
        #[arg(long = "key", id = "public_key")]
        keys: Vec<String>,
        /// A .pub file with one or more public keys (repeatable).
        #[arg(long = "key-file")]
        key_files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = RoleArg::Agent)]
        role: RoleArg,
    },
    /// List agents, their roles and key fingerprints.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an agent; their keys stop working at once.
    Remove { name: String },
    /// Change an agent's second factor, colour theme, role, mail address, signature or
    /// notifications.
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args(["totp", "no_totp", "theme", "role", "email", "signature", "signature_file", "no_signature", "notify"])
    ))]
    Set {
        name: String,
        /// Ask for a code from an authenticator app at login, besides the key. Prints a
        /// new secret as a QR code, this once; replaces any earlier secret.
        #[arg(long, conflicts_with = "no_totp")]
        totp: bool,
        /// Let the key alone log in again.
        #[arg(long)]
        no_totp: bool,
        /// The colour theme their sessions start with (they can change it with T).
        #[arg(long, value_name = "NAME")]
        theme: Option<String>,
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// The address their alarm mail goes to (admins: requests due soon or overdue,
        /// new quarantine); an empty value removes it.
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
        /// The signature under their replies ({agent}, {customer.name}, {ticket},
        /// {address.name}, {address.email} are filled in).
        #[arg(long, value_name = "TEXT", conflicts_with_all = ["signature_file", "no_signature"])]
        signature: Option<String>,
        /// The signature, read from a file.
        #[arg(long, value_name = "FILE", conflicts_with = "no_signature")]
        signature_file: Option<PathBuf>,
        /// Put no signature under their replies.
        #[arg(long)]
        no_signature: bool,
        /// What they are told about (TUI list and mail to --email): a full list
        /// (assigned,replied,new,mentioned,sla,privacy), changes (+new,-sla) or none.
        #[arg(long, value_name = "TOPICS", allow_hyphen_values = true)]
        notify: Option<String>,
        /// Where custom themes are (as for `serve`; the shipped themes are built in).
        #[arg(long, env = "SEALDESK_THEMES", default_value = "themes")]
        themes: PathBuf,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Agent,
    Admin,
}

impl From<RoleArg> for AgentRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Agent => AgentRole::Agent,
            RoleArg::Admin => AgentRole::Admin,
        }
    }
}

pub(super) fn run(desk: &Desk, actor: &Actor, cmd: AgentCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        AgentCommand::Add {
            name,
            keys,
            key_files,
            role,
        } => {
            // The CLI sends the keys themselves (client_files); a path here is the server's.
            if !key_files.is_empty() {
                bail!("--key-file is read by the sealdesk CLI: run `sealdesk agent add` where the file is, or give the key line with --key");
            }
            let agent = desk.add_agent(actor, &name, role.into(), &keys)?;
            writeln!(
                io.out,
                "added agent {} (role {}) with {} key(s)",
                agent.name,
                agent.role.as_str(),
                agent.keys.len()
            )?;
            for k in &agent.keys {
                writeln!(io.out, "  {}", fingerprint(k))?;
            }
        }
        AgentCommand::List { json } => {
            let agents = desk.agents()?;
            let emails = desk.config().agent_email;
            if json {
                let rows: Vec<_> = agents
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "name": a.name,
                            "role": a.role.as_str(),
                            "keys": a.keys.iter().map(|k| fingerprint(k)).collect::<Vec<_>>(),
                            "theme": a.theme,
                            "second_factor": a.totp_secret.is_some(),
                            "email": emails.get(&a.name),
                            "signature": a.signature,
                            "notify": desk.notify_prefs(&a.name).map(|p| p.list()).unwrap_or_default(),
                            "created": a.created.rfc3339(),
                        })
                    })
                    .collect();
                print_json(io.out, &rows)?;
            } else if agents.is_empty() {
                writeln!(
                    io.out,
                    "no agents yet: sealdesk agent add NAME --key-file ~/.ssh/id_ed25519.pub"
                )?;
            } else {
                writeln!(
                    io.out,
                    "{:<20} {:<6} {:<4} {:<34} KEYS",
                    "NAME", "ROLE", "TOTP", "NOTIFY"
                )?;
                for a in &agents {
                    let fps: Vec<String> = a.keys.iter().map(|k| fingerprint(k)).collect();
                    let totp = if a.totp_secret.is_some() { "yes" } else { "no" };
                    let notify = desk.notify_prefs(&a.name)?.list();
                    writeln!(
                        io.out,
                        "{:<20} {:<6} {:<4} {:<34} {}",
                        a.name,
                        a.role.as_str(),
                        totp,
                        notify,
                        fps.join(", ")
                    )?;
                }
            }
        }
        AgentCommand::Remove { name } => {
            let agent = desk.remove_agent(actor, &name)?;
            writeln!(io.out, "removed agent {}", agent.name)?;
        }
        AgentCommand::Set {
            name,
            totp,
            no_totp,
            theme,
            role,
            themes,
            email,
            signature,
            signature_file,
            no_signature,
            notify,
        } => {
            if let Some(theme) = &theme {
                check_theme(&themes, theme)?;
            }
            if let Some(spec) = &notify {
                let prefs = desk.set_notify_prefs(actor, &name, spec)?;
                writeln!(io.out, "{name} is told about: {}", prefs.list())?;
            }
            let others = signature.is_some()
                || signature_file.is_some()
                || no_signature
                || email.is_some()
                || totp
                || no_totp
                || theme.is_some()
                || role.is_some();
            if !others {
                return Ok(0);
            }
            if signature_file.is_some() {
                bail!("--signature-file is read by the sealdesk CLI: run `sealdesk agent set` where the file is, or give --signature TEXT");
            } else if signature.is_some() || no_signature {
                set_signature(desk, actor, &name, signature.as_deref(), io)?;
            }
            let signed = signature.is_some() || signature_file.is_some() || no_signature;
            if signed && email.is_none() && !totp && !no_totp && theme.is_none() && role.is_none() {
                return Ok(0);
            }
            if let Some(email) = &email {
                let email = Some(email.trim()).filter(|e| !e.is_empty());
                desk.set_agent_email(actor, &name, email)?;
                match email {
                    Some(e) => writeln!(
                        io.out,
                        "alarm mail for {name} goes to {}",
                        super::output::safe(e)
                    )?,
                    None => writeln!(io.out, "{name} gets no alarm mail")?,
                }
                if !totp && !no_totp && theme.is_none() && role.is_none() {
                    return Ok(0);
                }
            }
            let changes = AgentChanges {
                second_factor: match (totp, no_totp) {
                    (true, _) => Some(SecondFactor::Enrol),
                    (_, true) => Some(SecondFactor::Remove),
                    _ => None,
                },
                theme,
                role: role.map(AgentRole::from),
            };
            let update = desk.set_agent(actor, &name, &changes)?;
            print_update(&changes, &update, io)?;
        }
    }
    Ok(0)
}

fn set_signature(
    desk: &Desk,
    actor: &Actor,
    name: &str,
    text: Option<&str>,
    io: &mut Io,
) -> Result<()> {
    let agent = desk.set_signature(actor, name, text)?;
    match &agent.signature {
        Some(s) => writeln!(
            io.out,
            "{name}: signature set ({} line(s)), under every reply they send",
            s.lines().count()
        )?,
        None => writeln!(io.out, "{name}: no signature")?,
    }
    Ok(())
}

/// A theme must exist (shipped, or a file in `dir`) and load, or the agent would get
/// the default one with a warning at every login.
fn check_theme(dir: &Path, name: &str) -> Result<()> {
    let available = theme::available_themes(dir);
    if !available.iter().any(|t| t == name) {
        bail!(
            "no theme named {:?}: pick one of {} (custom themes are NAME.toml files in {}; set --themes or SEALDESK_THEMES)",
            sealdesk_model::sanitize::line(name),
            available.join(", "),
            dir.display()
        );
    }
    if let (_, Some(problem)) = theme::load_theme(dir, name, false) {
        bail!("theme {name} does not load: {problem}");
    }
    Ok(())
}

fn print_update(changes: &AgentChanges, update: &AgentUpdate, io: &mut Io) -> Result<()> {
    let agent = &update.agent;
    let name = &agent.name;
    if let Some(uri) = &update.enrolment {
        let what = if update.had_second_factor {
            "replaced (the old authenticator entry no longer works)"
        } else {
            "enrolled"
        };
        writeln!(io.out, "{name}: second factor {what}.")?;
        writeln!(
            io.out,
            "Scan this QR code with an authenticator app, or add the URI below by hand:"
        )?;
        writeln!(io.out)?;
        let qr = super::qr::draw(uri).context("cannot draw the QR code")?;
        writeln!(io.out, "{qr}")?;
        writeln!(io.out)?;
        writeln!(io.out, "{}", uri.as_str())?;
        writeln!(io.out)?;
        writeln!(
            io.out,
            "This is the only time the secret is shown: sealdesk keeps it sealed and cannot show it again."
        )?;
        writeln!(
            io.out,
            "From their next login {name} needs their SSH key and a code from the app. Lost the app? Run `sealdesk agent set {name} --totp` again."
        )?;
    } else if changes.second_factor == Some(SecondFactor::Remove) {
        if update.had_second_factor {
            writeln!(
                io.out,
                "{name}: second factor removed; their SSH key alone logs in again"
            )?;
        } else {
            writeln!(io.out, "{name}: had no second factor; nothing to remove")?;
        }
    }
    if let Some(theme) = &changes.theme {
        writeln!(io.out, "{name}: theme {theme} (from their next session)")?;
    }
    if changes.role.is_some() {
        writeln!(io.out, "{name}: role {}", agent.role.as_str())?;
    }
    Ok(())
}
