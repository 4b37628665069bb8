//! `sealdesk report KIND`: the desk's figures as an aligned table, JSON (the `Report`
//! as the desk made it) or CSV (raw numbers, seconds for durations).

use super::output::{print_json, Io};
use anyhow::Result;
use clap::Args;
use sealdesk_desk::{Actor, Desk};
use sealdesk_model::{duration_words, GroupBy, Period, Report, ReportKind, ReportQuery, Unit};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// volume, backlog, response-times, sla, hours or privacy.
    pub kind: ReportKind,
    /// Start of the range: 2026-11-01 (midnight in the desk's zone) or RFC 3339;
    /// default 12 weeks (by day: 30 days) before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the range (not included); default now.
    #[arg(long)]
    pub to: Option<String>,
    /// Rows per day or per ISO week.
    #[arg(long, default_value = "week")]
    pub period: Period,
    /// Rows per agent, tag or support address instead of per period.
    #[arg(long)]
    pub by: Option<GroupBy>,
    /// The report as JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// The report as CSV: a header `label,<columns>`, numbers raw (seconds).
    #[arg(long)]
    pub csv: bool,
}

pub(super) fn run(desk: &Desk, actor: &Actor, args: ReportArgs, io: &mut Io) -> Result<i32> {
    let time = |t: &Option<String>| t.as_deref().map(|t| desk.report_time(t)).transpose();
    let query = ReportQuery {
        kind: args.kind,
        from: time(&args.from)?,
        to: time(&args.to)?,
        period: args.period,
        by: args.by,
    };
    let report = desk.report(actor, &query)?;
    if args.json {
        print_json(io.out, &report)?;
    } else if args.csv {
        write!(io.out, "{}", csv(&report))?;
    } else {
        write!(io.out, "{}", text(&report))?;
    }
    Ok(0)
}

/// RFC 4180: a field with a comma, quote or line break is quoted.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv(r: &Report) -> String {
    let mut out = String::from("label");
    for c in &r.columns {
        out.push(',');
        out.push_str(&csv_field(&c.name));
    }
    out.push('\n');
    for row in &r.rows {
        out.push_str(&csv_field(&sealdesk_model::sanitize::line(&row.label)));
        for v in &row.values {
            out.push(',');
            if let Some(v) = v {
                out.push_str(&v.to_string());
            }
        }
        out.push('\n');
    }
    out
}

/// A title line, then the table: labels left, figures right-aligned, durations in
/// words, `-` where there is nothing to measure.
fn text(r: &Report) -> String {
    let grouping = match r.by {
        Some(by) => format!("per {by}"),
        None => match r.kind {
            ReportKind::Backlog => "by age".into(),
            ReportKind::Hours => "by weekday and hour".into(),
            ReportKind::Privacy => "per request kind".into(),
            _ => format!("per {}", r.period),
        },
    };
    let mut out = format!(
        "{} {grouping}, {} to {} ({})\n",
        r.kind,
        r.from.rfc3339(),
        r.to.rfc3339(),
        r.zone
    );
    let cell = |unit: Unit, v: Option<i64>| match (unit, v) {
        (_, None) => "-".to_string(),
        (Unit::Count, Some(v)) => v.to_string(),
        (Unit::Seconds, Some(v)) => duration_words(v),
    };
    let mut lines: Vec<Vec<String>> = vec![std::iter::once(String::new())
        .chain(r.columns.iter().map(|c| c.name.clone()))
        .collect()];
    for row in &r.rows {
        lines.push(
            std::iter::once(sealdesk_model::sanitize::line(&row.label).into_owned())
                .chain(
                    r.columns
                        .iter()
                        .zip(&row.values)
                        .map(|(c, v)| cell(c.unit, *v)),
                )
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..=r.columns.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in &lines {
        let mut text = String::new();
        for (i, c) in line.iter().enumerate() {
            if i == 0 {
                text.push_str(&format!("{c:<w$}", w = widths[0]));
            } else {
                text.push_str(&format!("  {c:>w$}", w = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}
