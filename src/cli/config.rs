//! `sealdesk config get/set/list`, like `git config`.

use super::output::{safe, Io};
use crate::config::edit;
use crate::desk::{Actor, Desk};
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print one value (lists comma-separated).
    Get { key: String },
    /// Change one value; a running server uses it at once.
    Set { key: String, value: String },
    /// Every key with its value and meaning.
    List,
}

pub fn run(desk: &Desk, actor: &Actor, cmd: ConfigCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        ConfigCommand::Get { key } => {
            let value = edit::get(&desk.config(), &key).map_err(anyhow::Error::msg)?;
            writeln!(io.out, "{}", safe(&value))?;
        }
        ConfigCommand::Set { key, value } => {
            let config = desk.set_config_key(actor, &key, &value)?;
            let now = edit::get(&config, &key).map_err(anyhow::Error::msg)?;
            writeln!(io.out, "{key} = {}", safe(&now))?;
        }
        ConfigCommand::List => {
            let config = desk.config();
            for (key, _, meaning) in edit::KEYS {
                let value = edit::get(&config, key).map_err(anyhow::Error::msg)?;
                writeln!(io.out, "{key} = {}    # {meaning}", safe(&value))?;
            }
        }
    }
    Ok(0)
}
