//! Files named on the command line are read here, by the CLI, in the user's working
//! directory and with the user's rights: a running server has its own working
//! directory (and may run as another user), so a path means nothing to it. Each file
//! option becomes the option that carries the content (`--key-file F` → `--key LINE`
//! per key, `--signature-file F` → `--signature TEXT`, `--body-file F` → `--body TEXT`,
//! `--addresses F` → `--address ADDR` per line), and the command goes on with those,
//! to the server or to the desk opened here alike.
//! (Attachments and template texts are read client-side too: `ticket::read_attachments`,
//! `templates::client_text`.)

use super::{agent::AgentCommand, notice::NoticeCommand, Command};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// `args` with every file option of `command` replaced by its content; `None` when the
/// command names no such file.
pub(super) fn inline(command: &Command, args: &[String]) -> Result<Option<Vec<String>>> {
    let mut args = args.to_vec();
    let mut changed = false;
    match command {
        Command::Agent(AgentCommand::Add { key_files, .. }) if !key_files.is_empty() => {
            args = replace(&args, "--key-file", |path| {
                Ok(public_keys(Path::new(path))?
                    .into_iter()
                    .map(|k| format!("--key={k}"))
                    .collect())
            })?;
            changed = true;
        }
        Command::Agent(AgentCommand::Set {
            signature_file: Some(_),
            ..
        }) => {
            args = replace(&args, "--signature-file", |path| {
                let text = read_text(path, "--signature-file")?;
                Ok(vec![format!("--signature={text}")])
            })?;
            changed = true;
        }
        Command::Notice(NoticeCommand::Create {
            body_file,
            addresses,
            ..
        }) => {
            if body_file.is_some() {
                args = replace(&args, "--body-file", |path| {
                    Ok(vec![format!("--body={}", read_text(path, "--body-file")?)])
                })?;
                changed = true;
            }
            if addresses.is_some() {
                args = replace(&args, "--addresses", |path| {
                    let text = read_text(path, "--addresses")?;
                    let lines: Vec<String> = meaningful_lines(&text)
                        .map(|a| format!("--address={a}"))
                        .collect();
                    if lines.is_empty() {
                        bail!("{path} holds no address: put one address a line");
                    }
                    Ok(lines)
                })?;
                changed = true;
            }
        }
        _ => {}
    }
    Ok(changed.then_some(args))
}

/// The public key lines of a `.pub` (or authorized_keys-style) file.
fn public_keys(path: &Path) -> Result<Vec<String>> {
    let shown = path.display();
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read the key file {shown}: check the --key-file path (relative to where you run sealdesk)")
    })?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("PRIVATE KEY") {
        // Never echo a line of it.
        bail!("{shown} is a private key: give the public key beside it (e.g. {shown}.pub)");
    }
    let keys: Vec<String> = meaningful_lines(&text).map(String::from).collect();
    if keys.is_empty() {
        bail!("{shown} holds no public key: give a .pub file with a line like 'ssh-ed25519 AAAA… name'");
    }
    Ok(keys)
}

fn read_text(path: &str, option: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {path} as UTF-8 text: check {option}"))
}

/// Lines that are neither empty nor `#` comments, trimmed.
fn meaningful_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// `args` with each `FLAG VALUE` / `FLAG=VALUE` replaced by `with(VALUE)`; words after
/// `--` are left alone.
fn replace(
    args: &[String],
    flag: &str,
    mut with: impl FnMut(&str) -> Result<Vec<String>>,
) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(args.len());
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            out.push(word.clone());
            out.extend(words.cloned());
            break;
        }
        let value = if word == flag {
            words.next().cloned()
        } else {
            word.strip_prefix(flag)
                .and_then(|rest| rest.strip_prefix('='))
                .map(String::from)
        };
        match value {
            Some(value) => out.extend(with(&value)?),
            None => out.push(word.clone()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn both_spellings_are_replaced_and_words_after_the_separator_kept() {
        let got = replace(
            &words("agent add bob --key-file a.pub --role admin --key-file=b.pub -- --key-file"),
            "--key-file",
            |v| Ok(vec![format!("--key={v}!")]),
        )
        .unwrap();
        assert_eq!(
            got,
            words("agent add bob --key=a.pub! --role admin --key=b.pub! -- --key-file")
        );
    }
}
