//! `sealdesk doctor`: checks a desk's setup and explains each finding in one line with
//! its fix. Levels: ok, warn (works, but should be looked at), fail (must be fixed; the
//! exit code is then 1). Works with or without a running server: what only the store
//! knows (backups, agents, the newest stored time) comes from the server over the
//! control socket, or from the store opened read-only in spirit (nothing is written).

mod files;
mod mail;
mod system;

use super::output::{print_json, Io};
use super::Global;
use crate::control;
use anyhow::Result;
use sealdesk_desk::{Desk, DoctorFacts};
use sealdesk_model::Timestamp;
use serde::Serialize;
use std::io::Write;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Level {
    Ok,
    Warn,
    Fail,
}

/// One finding: `check` names what was looked at, `fix` what to do (empty when ok).
#[derive(Debug, Serialize)]
pub(super) struct Finding {
    check: &'static str,
    level: Level,
    message: String,
    fix: String,
}

impl Finding {
    fn ok(check: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            check,
            level: Level::Ok,
            message: message.into(),
            fix: String::new(),
        }
    }
    fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            check,
            level: Level::Warn,
            message: message.into(),
            fix: fix.into(),
        }
    }
    fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            check,
            level: Level::Fail,
            message: message.into(),
            fix: fix.into(),
        }
    }
}

/// A backup older than this many days is reported.
const BACKUP_MAX_AGE_DAYS: i64 = 7;

/// Runs every check on this machine; exits 1 when any finding is a failure.
pub(super) fn run(g: &Global, json: bool) -> Result<i32> {
    let mut findings = files::check(g);
    let config = match g.load_config() {
        Ok(config) => {
            let path = g
                .config
                .clone()
                .unwrap_or_else(|| sealdesk_desk::config::Config::default_path(&g.data));
            let source = if path.exists() {
                format!("{} parses and its values are valid", path.display())
            } else {
                format!("no {} yet: the defaults apply", path.display())
            };
            findings.push(Finding::ok("config", source));
            Some(config)
        }
        Err(e) => {
            findings.push(Finding::fail(
                "config",
                mail::without_secrets(&format!("{e:#}")),
                "correct that line of the file (`sealdesk config set KEY VALUE` checks values before it saves)",
            ));
            None
        }
    };
    let served = ask_server(g);
    if let Some(config) = &config {
        findings.extend(mail::check(config));
        findings.extend(system::ports(config, served.is_some()));
    }
    findings.extend(system::disk(&g.data));
    findings.extend(desk_checks(g, served));
    report(&findings, json)
}

/// The store's facts from a running server of this desk; None when none runs.
fn ask_server(g: &Global) -> Option<Result<DoctorFacts>> {
    let ask = control::Request::new(vec!["doctor".into(), "--facts".into()], None);
    match control::forward(&g.data, &ask) {
        Ok(None) => None,
        Ok(Some(r)) if r.code == 0 => Some(serde_json::from_str(&r.stdout).map_err(Into::into)),
        Ok(Some(r)) => Some(Err(anyhow::anyhow!(
            "the running server answered: {}",
            r.stderr.trim()
        ))),
        Err(e) => Some(Err(e)),
    }
}

/// The checks that need the store: backups, agents, the clock.
fn desk_checks(g: &Global, served: Option<Result<DoctorFacts>>) -> Vec<Finding> {
    if served.is_none() && !g.paths().db().exists() {
        return Vec::new();
    }
    let facts = match served {
        Some(facts) => facts,
        None => local_facts(g),
    };
    match facts {
        Ok(facts) => judge_facts(&facts, Timestamp::now()),
        Err(e) => vec![Finding::warn(
            "store",
            format!(
                "cannot read the store to check backups, agents and the clock ({})",
                sealdesk_model::sanitize::line(&format!("{e:#}"))
            ),
            "fix what the lines above say, or give the passphrase (--passphrase-file or SEALDESK_PASSPHRASE), or run doctor as the user that runs `sealdesk serve`",
        )],
    }
}

/// Opens the store without the server (nothing is written: no audit, no tightening).
fn local_facts(g: &Global) -> Result<DoctorFacts> {
    let pass = g.passphrase()?;
    let store = sealdesk_store::Store::open(&g.paths(), pass.as_deref().map(String::as_str))?;
    let desk = Desk::new(store, sealdesk_desk::config::Config::default());
    Ok(desk.doctor_facts()?)
}

/// Inside the server (`doctor --facts` over the control socket): the facts as JSON.
pub(super) fn print_facts(desk: &Desk, io: &mut Io) -> Result<i32> {
    print_json(io.out, &desk.doctor_facts()?)?;
    Ok(0)
}

fn judge_facts(facts: &DoctorFacts, now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    out.push(match facts.newest_event {
        // A few minutes of slack: NTP steps and a server on another clock source.
        Some(newest) if now.0 + 300 < newest.0 => Finding::fail(
            "clock",
            format!(
                "the clock reads {}, before the newest stored event ({}): SLA timers, snoozes and retention would go wrong",
                now.rfc3339(),
                newest.rfc3339()
            ),
            "set the clock right, e.g. `timedatectl set-ntp true`",
        ),
        _ => system::clock_against_build(now),
    });
    out.push(backup_finding(
        "data backup",
        facts.last_backup,
        now,
        "`sealdesk backup --out FILE` (works while the server runs; schedule it daily and copy the file off this machine)",
    ));
    out.push(backup_finding(
        "keys backup",
        facts.last_keys_backup,
        now,
        "`sealdesk keys backup --out FILE` and keep it apart from the data backups (without the keys, no backup can be read)",
    ));
    if facts.agents == 0 {
        out.push(Finding::warn(
            "agents",
            "no agents yet: nobody can log in",
            "`sealdesk agent add NAME --key-file ~/.ssh/id_ed25519.pub --role admin`",
        ));
    } else if facts.without_second_factor.is_empty() {
        out.push(Finding::ok(
            "agents",
            format!("{} agent(s), each with a second factor", facts.agents),
        ));
    } else {
        let names = facts.without_second_factor.join(", ");
        out.push(Finding::warn(
            "agents",
            format!(
                "{} of {} agent(s) log in with a key alone: {names}",
                facts.without_second_factor.len(),
                facts.agents
            ),
            "`sealdesk agent set NAME --totp` for each (a stolen key then is not enough)",
        ));
    }
    out
}

fn backup_finding(
    check: &'static str,
    last: Option<Timestamp>,
    now: Timestamp,
    fix: &str,
) -> Finding {
    match last {
        None => Finding::warn(check, "none taken yet", fix),
        Some(at) if now.0 - at.0 > BACKUP_MAX_AGE_DAYS * 86_400 => Finding::warn(
            check,
            format!(
                "the last one is {} days old ({})",
                (now.0 - at.0) / 86_400,
                at.rfc3339()
            ),
            fix,
        ),
        Some(at) => Finding::ok(check, format!("last taken {}", at.rfc3339())),
    }
}

fn report(findings: &[Finding], json: bool) -> Result<i32> {
    let failed = findings.iter().filter(|f| f.level == Level::Fail).count();
    let mut out = std::io::stdout().lock();
    if json {
        print_json(&mut out, &findings)?;
    } else {
        for f in findings {
            let level = match f.level {
                Level::Ok => "ok  ",
                Level::Warn => "warn",
                Level::Fail => "FAIL",
            };
            let message = sealdesk_model::sanitize::line(&f.message);
            if f.fix.is_empty() {
                writeln!(out, "{level}  {}: {message}", f.check)?;
            } else {
                writeln!(out, "{level}  {}: {message}; fix: {}", f.check, f.fix)?;
            }
        }
        let warned = findings.iter().filter(|f| f.level == Level::Warn).count();
        let verdict = if failed > 0 {
            "fix the FAIL lines, then run `sealdesk doctor` again"
        } else {
            "nothing must be fixed"
        };
        writeln!(
            out,
            "doctor: {failed} to fix, {warned} warning(s): {verdict}"
        )?;
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// A path as a shell word, for a fix to paste.
fn quoted(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    shlex::try_quote(&text)
        .map(|q| q.into_owned())
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_behind_the_newest_event_fails_and_old_backups_warn() {
        let now = Timestamp(1_800_000_000);
        let facts = DoctorFacts {
            last_backup: Some(Timestamp(now.0 - 8 * 86_400)),
            last_keys_backup: Some(Timestamp(now.0 - 86_400)),
            newest_event: Some(Timestamp(now.0 + 3_600)),
            agents: 2,
            without_second_factor: vec!["bob".into()],
        };
        let found = judge_facts(&facts, now);
        let level = |check: &str| found.iter().find(|f| f.check == check).unwrap().level;
        assert_eq!(level("clock"), Level::Fail);
        assert_eq!(level("data backup"), Level::Warn);
        assert_eq!(level("keys backup"), Level::Ok);
        assert_eq!(level("agents"), Level::Warn);
        let agents = found.iter().find(|f| f.check == "agents").unwrap();
        assert!(agents.message.contains("1 of 2") && agents.message.contains("bob"));
    }
}
