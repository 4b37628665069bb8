use super::output::{print_json, Io};
use crate::desk::{fingerprint, Actor, Desk};
use crate::model::AgentRole;
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

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

pub fn run(desk: &Desk, actor: &Actor, cmd: AgentCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        AgentCommand::Add {
            name,
            mut keys,
            key_files,
            role,
        } => {
            for path in key_files {
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("cannot read {}: check the --key-file path", path.display())
                })?;
                keys.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(String::from),
                );
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
                writeln!(io.out, "{:<20} {:<6} KEYS", "NAME", "ROLE")?;
                for a in &agents {
                    let fps: Vec<String> = a.keys.iter().map(|k| fingerprint(k)).collect();
                    writeln!(
                        io.out,
                        "{:<20} {:<6} {}",
                        a.name,
                        a.role.as_str(),
                        fps.join(", ")
                    )?;
                }
            }
        }
        AgentCommand::Remove { name } => {
            let agent = desk.remove_agent(actor, &name)?;
            writeln!(io.out, "removed agent {}", agent.name)?;
        }
    }
    Ok(0)
}
