//! Command-line errors as ONE line that names the fix (README: "every CLI error is one
//! line"), instead of clap's usage dump; the same line locally, over the control socket
//! and over SSH. `--help` and `--version` stay clap's own output.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Where the line points for more: the local binary, or a command typed after `ssh …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Local,
    Ssh,
}

/// Whether clap's "error" is really output asked for (`--help`, `--version`), to be
/// printed as clap renders it.
pub fn is_help(e: &clap::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

/// The one line (without the `sealdesk: error: ` prefix) for a parse error of `args`
/// (the words after the program name).
pub fn one_line(e: &clap::Error, args: &[String], caller: Caller) -> String {
    let path = command_path(args);
    let shown = if path.is_empty() {
        "sealdesk".to_string()
    } else {
        path.join(" ")
    };
    let help = match (caller, path.is_empty()) {
        (Caller::Local, true) => "sealdesk --help".to_string(),
        (Caller::Local, false) => format!("sealdesk {shown} --help"),
        (Caller::Ssh, true) => "add --help to list the commands".to_string(),
        (Caller::Ssh, false) => format!("run '{shown} --help'"),
    };
    let line = match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let word = string(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            let lists = match caller {
                Caller::Local => format!("{help} lists them"),
                Caller::Ssh => help.clone(),
            };
            let place = if path.is_empty() {
                String::new()
            } else {
                format!(" for '{shown}'")
            };
            match best(e, ContextKind::SuggestedSubcommand) {
                Some(s) => {
                    format!("unknown command '{word}'{place}: did you mean '{s}'? ({lists})")
                }
                None => format!("unknown command '{word}'{place} ({lists})"),
            }
        }
        ErrorKind::UnknownArgument => {
            let word = string(e, ContextKind::InvalidArg).unwrap_or_default();
            match best(e, ContextKind::SuggestedArg) {
                Some(s) => format!(
                    "unexpected argument '{word}' for '{shown}': did you mean '{s}'? (see {help})"
                ),
                None => format!("unexpected argument '{word}' for '{shown}': see {help}"),
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = strings(e, ContextKind::InvalidArg).join(", ");
            format!("'{shown}' needs {missing}: see {help}")
        }
        ErrorKind::MissingSubcommand => {
            format!("'{shown}' needs a command: {help} lists them")
        }
        ErrorKind::InvalidValue => {
            let valid = strings(e, ContextKind::ValidValue);
            if valid.is_empty() {
                format!("{}: see {help}", first_line(e))
            } else {
                format!("{}: choose one of {}", first_line(e), valid.join(", "))
            }
        }
        ErrorKind::ArgumentConflict => {
            format!("{}: give only one (see {help})", first_line(e))
        }
        _ => format!("{}: see {help}", first_line(e)),
    };
    sealdesk_model::sanitize::line(&line).into_owned()
}

/// The subcommand words in `args` (e.g. `["ticket", "list"]`), walked through the
/// command tree so that option values are not taken for commands.
fn command_path(args: &[String]) -> Vec<String> {
    let mut cmd = super::command();
    let mut path = Vec::new();
    for word in args {
        if word == "--" {
            break;
        }
        if word.starts_with('-') {
            continue;
        }
        let Some(sub) = cmd
            .get_subcommands()
            .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
            .cloned()
        else {
            continue;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path
}

/// clap's own sentence, the first line of its message, without its `error: `.
fn first_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let line = text
        .lines()
        .next()
        .unwrap_or("the command line does not parse");
    let line = line.strip_prefix("error: ").unwrap_or(line);
    line.trim_end_matches(':').trim().to_string()
}

fn string(e: &clap::Error, kind: ContextKind) -> Option<String> {
    strings(e, kind).into_iter().next()
}

fn strings(e: &clap::Error, kind: ContextKind) -> Vec<String> {
    match e.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::StyledStr(s)) => vec![s.to_string()],
        Some(ContextValue::StyledStrs(v)) => v.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

/// clap's closest suggestion: it lists them from the least to the most similar.
fn best(e: &clap::Error, kind: ContextKind) -> Option<String> {
    strings(e, kind).pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &str) -> String {
        let args: Vec<String> = words.split_whitespace().map(String::from).collect();
        let argv = std::iter::once("sealdesk".to_string()).chain(args.clone());
        let e = super::super::command()
            .try_get_matches_from(argv)
            .expect_err("does not parse");
        one_line(&e, &args, Caller::Local)
    }

    #[test]
    fn each_parse_error_is_one_line_naming_the_fix() {
        assert_eq!(
            line("tiket list"),
            "unknown command 'tiket': did you mean 'ticket'? (sealdesk --help lists them)"
        );
        assert_eq!(
            line("ticket list --foo"),
            "unexpected argument '--foo' for 'ticket list': see sealdesk ticket list --help"
        );
        assert_eq!(
            line("--data d agent add"),
            "'agent add' needs <NAME>: see sealdesk agent add --help"
        );
        let role = line("agent add bob --role boss");
        assert!(role.ends_with("choose one of agent, admin"), "{role}");
        for words in [
            "tiket",
            "ticket lst",
            "ticket list --foo",
            "agent set bob --totp --no-totp",
        ] {
            let l = line(words);
            assert!(!l.contains('\n') && l.contains("--help"), "{words}: {l}");
        }
    }
}
