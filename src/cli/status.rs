//! `sealdesk status`: whether the store takes writes, since when it fails and why, when
//! it last recovered, and the free space of the data and keys dirs. Through the control
//! socket it is the running server's view.

use super::output::{print_json, Io};
use anyhow::Result;
use sealdesk_desk::Desk;
use sealdesk_store::{Failure, HealthReport};

/// Exits 0 when the store is healthy, 1 while it is failing.
pub(super) fn run(desk: &Desk, json: bool, io: &mut Io) -> Result<i32> {
    let report = desk.store_health();
    if json {
        print_json(io.out, &report_json(&report))?;
    } else {
        print_text(&report, io)?;
    }
    Ok(if report.failing.is_some() { 1 } else { 0 })
}

fn failure_json(f: &Failure) -> serde_json::Value {
    serde_json::json!({
        "since": f.since.rfc3339(),
        "cause": f.cause,
        "disk_full": f.disk_full,
    })
}

fn report_json(r: &HealthReport) -> serde_json::Value {
    let store = match &r.failing {
        None => serde_json::json!({ "state": "healthy" }),
        Some(f) => {
            let mut v = failure_json(f);
            v["state"] = "failing".into();
            v
        }
    };
    let last_recovery = r.last_recovery.as_ref().map(|rec| {
        serde_json::json!({
            "at": rec.at.rfc3339(),
            "failing_since": rec.from.since.rfc3339(),
            "cause": rec.from.cause,
            "disk_full": rec.from.disk_full,
        })
    });
    serde_json::json!({
        "store": store,
        "last_recovery": last_recovery,
        "data_dir": { "path": r.data.display().to_string(), "free_bytes": r.data_free },
        "keys_dir": { "path": r.keys.display().to_string(), "free_bytes": r.keys_free },
    })
}

fn print_text(r: &HealthReport, io: &mut Io) -> Result<()> {
    match &r.failing {
        None => writeln!(io.out, "store:         healthy")?,
        Some(f) => {
            writeln!(
                io.out,
                "store:         FAILING since {} ({}): writes are refused, mail gets 451",
                f.since.rfc3339(),
                f.cause
            )?;
            let fix = if f.disk_full {
                "free space on the disk holding the data dir"
            } else {
                "fix the disk holding the data dir"
            };
            writeln!(io.out, "               {fix}; the desk retries by itself")?;
        }
    }
    match &r.last_recovery {
        None => writeln!(io.out, "last recovery: none")?,
        Some(rec) => writeln!(
            io.out,
            "last recovery: {} (failing since {}: {})",
            rec.at.rfc3339(),
            rec.from.since.rfc3339(),
            rec.from.cause
        )?,
    }
    for (what, path, free) in [
        ("data dir", &r.data, r.data_free),
        ("keys dir", &r.keys, r.keys_free),
    ] {
        writeln!(
            io.out,
            "{what}:      {} free ({})",
            free.map_or_else(|| "unknown".into(), human),
            path.display()
        )?;
    }
    Ok(())
}

pub(super) fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
