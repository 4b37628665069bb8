//! The machine around the desk: listen ports, free disk space, the clock.

use super::Finding;
use crate::cli::status::human;
use sealdesk_desk::config::Config;
use sealdesk_model::Timestamp;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;

/// Warn below this much free space on the data's filesystem, or below 10 % of it.
const DISK_WARN_BYTES: u64 = 1 << 30;
/// Fail below this: the store starts refusing writes soon after.
const DISK_FAIL_BYTES: u64 = 100 << 20;

/// The SSH and SMTP ports `serve` would take: free, or held by this desk's server.
/// `SEALDESK_SSH` / `SEALDESK_SMTP` (the environment, or the package's
/// /etc/default/sealdesk that the unit reads) win over the config, as they do for `serve`.
pub(super) fn ports(config: &Config, server_running: bool) -> Vec<Finding> {
    [
        ("ssh port", "SEALDESK_SSH", &config.server.ssh, "server.ssh"),
        (
            "smtp port",
            "SEALDESK_SMTP",
            &config.server.smtp,
            "server.smtp",
        ),
    ]
    .into_iter()
    .map(|(check, var, configured, key)| {
        let text = crate::cli::defaults::setting(var).unwrap_or_else(|| configured.clone());
        port(check, &text, key, server_running)
    })
    .collect()
}

fn port(check: &'static str, text: &str, key: &str, server_running: bool) -> Finding {
    let addr: SocketAddr = match text.parse() {
        Ok(a) => a,
        Err(_) => {
            return Finding::fail(
                check,
                format!("{text:?} is not ADDR:PORT"),
                format!("`sealdesk config set {key} 127.0.0.1:PORT`"),
            )
        }
    };
    if addr.port() == 0 {
        return Finding::ok(check, format!("{addr}: a free port is picked at start"));
    }
    match TcpListener::bind(addr) {
        Ok(_) => Finding::ok(check, format!("{addr} is free for `sealdesk serve`")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && server_running => Finding::ok(
            check,
            format!("{addr} is in use, and this desk's server is running (its control socket answers)"),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Finding::fail(
            check,
            format!("{addr} is in use by another program, and this desk's server is not running"),
            format!("stop that program (`ss -ltnp 'sport = :{}'` names it), or `sealdesk config set {key} ADDR:PORT`", addr.port()),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Finding::fail(
            check,
            format!("this user may not listen on {addr} (ports below 1024 need privileges)"),
            format!("use a port from 1024 up (e.g. `sealdesk config set {key} 0.0.0.0:2222`), or give the service CAP_NET_BIND_SERVICE"),
        ),
        Err(e) => Finding::fail(
            check,
            format!("cannot listen on {addr} ({e})"),
            format!("give an address of this machine: `sealdesk config set {key} ADDR:PORT`"),
        ),
    }
}

/// Free space on the filesystem holding the data dir.
pub(super) fn disk(data: &Path) -> Option<Finding> {
    let stat = rustix::fs::statvfs(data).ok()?;
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    let total = stat.f_blocks.saturating_mul(stat.f_frsize);
    let percent = (free.saturating_mul(100)).checked_div(total).unwrap_or(100);
    let message = format!(
        "{} free of {} ({percent} %) on the data dir's filesystem",
        human(free),
        human(total)
    );
    let fix = "free space or grow the disk holding the data dir (the store refuses writes when it is full; mail then gets 451 and is retried)";
    Some(if free < DISK_FAIL_BYTES {
        Finding::fail("disk space", message, fix)
    } else if free < DISK_WARN_BYTES || percent < 10 {
        Finding::warn("disk space", message, fix)
    } else {
        Finding::ok("disk space", message)
    })
}

/// The clock against this binary's file time (set by the build or the package): a
/// machine that boots in 1970 or with a dead clock battery reads before it.
pub(super) fn clock_against_build(now: Timestamp) -> Finding {
    let built = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Timestamp(d.as_secs() as i64));
    match built {
        Some(built) if now.0 + 86_400 < built.0 => Finding::warn(
            "clock",
            format!(
                "the clock reads {}, before this sealdesk binary was made ({})",
                now.rfc3339(),
                built.rfc3339()
            ),
            "set the clock right, e.g. `timedatectl set-ntp true`",
        ),
        _ => Finding::ok(
            "clock",
            format!("{} is not before anything the desk stored", now.rfc3339()),
        ),
    }
}
