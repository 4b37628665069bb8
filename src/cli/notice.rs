use super::output::{print_json, safe, safe_block, Io};
use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Subcommand};
use sealdesk_desk::{Actor, Audience, Desk, NewNotice, SendProgress};
use sealdesk_model::{NoticeId, NoticeKind, Timestamp};
use std::path::PathBuf;

// One value per process, parsed from the command line: boxing `Create` would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum NoticeCommand {
    /// Write a notice to chosen customers; prints its id. Placeholders:
    /// {customer.name}, {customer.email}.
    #[command(group(ArgGroup::new("audience").required(true).args(["all", "tag", "touched_by", "addresses", "address"])))]
    Create {
        /// incident, policy-change, transfer, end-of-service or other. Restricted
        /// customers get only incident, transfer and end-of-service; `other` counts
        /// as marketing (not to withdrawn consent).
        #[arg(long)]
        kind: NoticeKind,
        #[arg(long)]
        subject: String,
        /// A UTF-8 text file with the body (the CLI reads it and sends the text).
        #[arg(long, required_unless_present = "body", conflicts_with = "body")]
        body_file: Option<PathBuf>,
        /// The body itself, instead of --body-file.
        #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
        body: Option<String>,
        /// Every customer.
        #[arg(long)]
        all: bool,
        /// Customers with a ticket carrying this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Customers whose data this agent viewed or exported (by the audit log);
        /// needs --since and --until.
        #[arg(long, requires_all = ["since", "until"])]
        touched_by: Option<String>,
        /// Start of the period, e.g. 2026-11-01 or 2026-11-01T08:00:00Z.
        #[arg(long)]
        since: Option<String>,
        /// End of the period (a date alone means its end).
        #[arg(long)]
        until: Option<String>,
        /// A file with one address a line.
        #[arg(long)]
        addresses: Option<PathBuf>,
        /// One address (repeatable), instead of --addresses FILE.
        #[arg(long, value_name = "ADDR", conflicts_with = "addresses")]
        address: Vec<String>,
    },
    /// How many would be mailed, and three mails as they would go out.
    Preview { id: NoticeId },
    /// Queue the notice for everyone not mailed yet, at notice.rate_per_minute; safe to
    /// run again (nobody is mailed twice).
    Send {
        id: NoticeId,
        /// Then follow the running server's outbox, a progress line per change, until
        /// every mail is sent or given up (Ctrl-C stops following, not sending).
        #[arg(long)]
        follow: bool,
    },
    /// Every notice and how far its sending got.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(desk: &Desk, actor: &Actor, cmd: NoticeCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        NoticeCommand::Create {
            kind,
            subject,
            body_file,
            body,
            all,
            tag,
            touched_by,
            since,
            until,
            addresses,
            address,
        } => {
            // The CLI sends the files' text (client_files); a path here is the server's.
            if body_file.is_some() || addresses.is_some() {
                bail!("--body-file and --addresses are read by the sealdesk CLI: run `sealdesk notice create` where the files are");
            }
            let Some(body) = body else {
                bail!("give the body: --body-file FILE or --body TEXT");
            };
            let audience = if all {
                Audience::All
            } else if let Some(tag) = tag {
                Audience::Tag(tag)
            } else if let Some(agent) = touched_by {
                Audience::TouchedBy {
                    agent,
                    since: parse_time(since.as_deref().unwrap_or_default(), false)?,
                    until: parse_time(until.as_deref().unwrap_or_default(), true)?,
                }
            } else if !address.is_empty() {
                Audience::Addresses(address)
            } else {
                bail!("choose the audience: --all, --tag T, --touched-by AGENT --since T --until T, or --addresses FILE");
            };
            let notice = desk.create_notice(
                actor,
                NewNotice {
                    kind,
                    subject,
                    body,
                    audience,
                },
            )?;
            writeln!(io.out, "{}", notice.id)?;
            let l = &notice.left_out;
            writeln!(
                io.err,
                "notice {} ({}) for {}: {} recipient(s); left out: {} restricted, {} without marketing consent, {} address(es) of no customer. Next: sealdesk notice preview {}",
                notice.id,
                notice.kind,
                notice.audience,
                notice.recipients.len(),
                l.restricted,
                l.no_consent,
                l.unknown_addresses,
                notice.id
            )?;
        }
        NoticeCommand::Preview { id } => {
            let p = desk.notice_preview(actor, &id)?;
            writeln!(
                io.out,
                "notice {} ({}), {}: {} recipient(s) would be mailed now, {} mailed already",
                p.notice.id, p.notice.kind, p.notice.audience, p.would_send, p.already_sent
            )?;
            for (i, (to, subject, body)) in p.samples.iter().enumerate() {
                writeln!(io.out, "--- sample {} of {}", i + 1, p.samples.len())?;
                writeln!(io.out, "To: {}", safe(to))?;
                writeln!(io.out, "Subject: {}", safe(subject))?;
                writeln!(io.out)?;
                write!(io.out, "{}", safe_block(body, ""))?;
            }
        }
        NoticeCommand::Send { id, follow } => {
            let rate = desk.config().notice.rate_per_minute;
            let mut lines = Vec::new();
            let report = desk.send_notice(actor, &id, Timestamp::now(), &mut |p| {
                lines.push(progress_line(p));
            })?;
            for line in lines {
                writeln!(io.out, "{line}")?;
            }
            let last = report
                .last_due
                .map(|t| format!("; the last is due at {t}"))
                .unwrap_or_default();
            writeln!(
                io.out,
                "done: {} queued at most {rate} a minute{last}, {} queued or mailed before, {} erased, {} not allowed now (restricted or consent withdrawn). Follow it with `sealdesk notice list` (or send with --follow).",
                report.queued, report.already, report.erased, report.not_allowed
            )?;
            if follow && !crate::control::socket_path(&desk.paths().data).exists() {
                writeln!(io.err, "sealdesk: note: no server is running, so there is nothing to follow: the mails go out once `sealdesk serve` runs")?;
            }
            if desk.config().mail.relay.is_none() {
                writeln!(io.err, "sealdesk: note: mail.relay is not set; the mails wait in the outbox until it is (`sealdesk config set mail.relay smtp://host:25`)")?;
            }
        }
        NoticeCommand::List { json } => {
            let rows = desk.notice_list(actor)?;
            if json {
                let docs: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.notice.id.to_string(),
                            "kind": r.notice.kind.as_str(),
                            "subject": r.notice.subject,
                            "audience": r.notice.audience,
                            "created": r.notice.created.rfc3339(),
                            "created_by": r.notice.created_by,
                            "recipients": r.notice.recipients.len(),
                            "left_out": {
                                "restricted": r.notice.left_out.restricted,
                                "no_marketing_consent": r.notice.left_out.no_consent,
                                "unknown_addresses": r.notice.left_out.unknown_addresses,
                            },
                            "queued": r.queued,
                            "sent": r.sent,
                            "failed": r.failed,
                        })
                    })
                    .collect();
                print_json(io.out, &docs)?;
            } else if rows.is_empty() {
                writeln!(io.out, "no notices yet: `sealdesk notice create --help`")?;
            } else {
                for r in rows {
                    writeln!(
                        io.out,
                        "{}  {:<14} {}  recipients {}  queued {}  sent {}  failed {}  {}",
                        r.notice.id,
                        r.notice.kind.as_str(),
                        r.notice.created,
                        r.notice.recipients.len(),
                        r.queued,
                        r.sent,
                        r.failed,
                        safe(&r.notice.subject)
                    )?;
                }
            }
        }
    }
    Ok(0)
}

/// For `notice send --follow` through a running server: asks it for the notice's
/// delivery counts every two seconds and prints a line whenever they change, until
/// nothing is queued any more. Runs in the CLI process, so each line shows as it comes.
pub(super) fn follow(data: &std::path::Path, id: &NoticeId) -> Result<i32> {
    use std::io::Write as _;
    let mut last = None;
    loop {
        let request = crate::control::Request::new(
            vec!["notice".into(), "list".into(), "--json".into()],
            None,
        );
        let Some(response) = crate::control::forward(data, &request)? else {
            bail!("the server stopped: the rest goes out when it runs again (`sealdesk notice list` shows how far it got)");
        };
        if response.code != 0 {
            bail!("{}", safe(response.stderr.trim()));
        }
        let rows: serde_json::Value = serde_json::from_str(&response.stdout)
            .context("the server's notice list is not JSON: run `sealdesk notice list`")?;
        let Some(row) = rows
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == id.to_string().as_str()))
        else {
            bail!("notice {id} is gone: see `sealdesk notice list`");
        };
        let count = |k: &str| row[k].as_u64().unwrap_or(0);
        let now = (count("sent"), count("failed"), count("queued"));
        if last != Some(now) {
            let (sent, failed, queued) = now;
            println!(
                "progress: {sent} sent, {failed} failed, {queued} waiting of {} copies",
                sent + failed + queued
            );
            std::io::stdout().flush()?;
            last = Some(now);
        }
        if now.2 == 0 {
            return Ok(if now.1 == 0 { 0 } else { 1 });
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

fn progress_line(p: &SendProgress) -> String {
    format!(
        "progress: {}/{} recipients: {} queued, {} queued or mailed before, {} skipped",
        p.done,
        p.total,
        p.queued,
        p.already,
        p.erased + p.not_allowed
    )
}

/// RFC 3339, or a date (its start, or with `end_of_day` its last second), in UTC.
pub(super) fn parse_time(text: &str, end_of_day: bool) -> Result<Timestamp> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(Timestamp(t.unix_timestamp()));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(text, &format) {
        Ok(d) => {
            let start = d.midnight().assume_utc().unix_timestamp();
            Ok(Timestamp(if end_of_day { start + 86_399 } else { start }))
        }
        Err(_) => bail!(
            "{:?} is not a time: use 2026-11-01 or 2026-11-01T08:00:00Z",
            safe(text)
        ),
    }
}
