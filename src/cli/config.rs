//! `sealdesk config get/set/list`, like `git config`.

use super::output::{safe, Io};
use anyhow::Result;
use clap::Subcommand;
use sealdesk_desk::config::edit;
use sealdesk_desk::{Actor, Desk};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print one value (lists comma-separated). Secrets (a password in `mail.relay`)
    /// are masked unless `--reveal` is given.
    Get {
        key: String,
        #[arg(long)]
        reveal: bool,
    },
    /// Change one value; a running server uses it at once.
    Set { key: String, value: String },
    /// Every key with its value and meaning; secrets masked.
    List,
}

pub(super) fn run(desk: &Desk, actor: &Actor, cmd: ConfigCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        ConfigCommand::Get { key, reveal } => {
            let value = edit::get(&desk.config(), &key).map_err(anyhow::Error::msg)?;
            let value = if reveal { value } else { masked(&value) };
            writeln!(io.out, "{}", safe(&value))?;
        }
        ConfigCommand::Set { key, value } => {
            let config = desk.set_config_key(actor, &key, &value)?;
            let now = edit::get(&config, &key).map_err(anyhow::Error::msg)?;
            writeln!(io.out, "{key} = {}", safe(&masked(&now)))?;
        }
        ConfigCommand::List => {
            let config = desk.config();
            for (key, _, meaning) in edit::KEYS {
                let value = edit::get(&config, key).map_err(anyhow::Error::msg)?;
                writeln!(io.out, "{key} = {}    # {meaning}", safe(&masked(&value)))?;
            }
            let sla_keys = sealdesk_desk::config::sla::keys(&config);
            for key in edit::address_keys(&config).into_iter().chain(sla_keys) {
                let value = edit::get(&config, &key).map_err(anyhow::Error::msg)?;
                writeln!(io.out, "{key} = {}", safe(&value))?;
            }
        }
    }
    Ok(0)
}

/// A value as shown on a screen or in a terminal log: the password of a URL
/// (`smtps://user:secret@host`) becomes `****`. The user name stays, so the admin can
/// still tell which account is configured.
fn masked(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return value.to_string();
    };
    let (userinfo, host) = authority.split_at(at);
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:****{host}{tail}"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            masked("smtps://desk%40example.com:p@ss:w0rd@mail.example.com:465?x=1"),
            "smtps://desk%40example.com:****@mail.example.com:465?x=1"
        );
        assert_eq!(masked("smtp://127.0.0.1:25"), "smtp://127.0.0.1:25");
        assert_eq!(masked("smtp://user@host:25"), "smtp://user@host:25");
        assert_eq!(
            masked("Support <support@example.com>"),
            "Support <support@example.com>"
        );
    }
}
