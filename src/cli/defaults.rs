//! Part 12: the defaults of a packaged install. The Debian package writes
//! `/etc/default/sealdesk` (the systemd unit's `EnvironmentFile`); the CLI takes
//! `SEALDESK_DATA` and `SEALDESK_KEYS` from it as its defaults, so `sudo -u sealdesk
//! sealdesk doctor` finds the service's dirs. A flag or the environment still wins;
//! without the file the defaults stay `data` and `keys` in the working directory.

use std::path::PathBuf;

/// Where the package keeps the service's environment.
const PACKAGE_DEFAULTS: &str = "/etc/default/sealdesk";

/// The default of `--data`.
pub(super) fn data() -> PathBuf {
    from_file("SEALDESK_DATA").unwrap_or_else(|| "data".into())
}

/// The default of `--keys`.
pub(super) fn keys() -> PathBuf {
    from_file("SEALDESK_KEYS").unwrap_or_else(|| "keys".into())
}

/// `var` from the environment, else from the package's file (for `doctor`, which checks
/// the ports the service will take: `SEALDESK_SSH`, `SEALDESK_SMTP`).
pub(super) fn setting(var: &str) -> Option<String> {
    std::env::var(var).ok().or_else(|| {
        let text = std::fs::read_to_string(PACKAGE_DEFAULTS).ok()?;
        value(&text, var)
    })
}

fn from_file(var: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(PACKAGE_DEFAULTS).ok()?;
    value(&text, var).map(PathBuf::from)
}

/// `VAR=value` (optionally quoted) in a systemd environment file; comments skipped.
fn value(text: &str, var: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let (key, value) = line.trim().split_once('=')?;
        if key.trim() != var {
            return None;
        }
        let value = value.trim();
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        (!unquoted.is_empty()).then(|| unquoted.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn reads_the_last_assignment_and_skips_comments() {
        let text = "# SEALDESK_DATA=/nope\nSEALDESK_DATA=/var/lib/x\nSEALDESK_KEYS=\"/etc/sealdesk\"\nSEALDESK_DATA = /var/lib/sealdesk\n";
        assert_eq!(value(text, "SEALDESK_DATA").unwrap(), "/var/lib/sealdesk");
        assert_eq!(value(text, "SEALDESK_KEYS").unwrap(), "/etc/sealdesk");
        assert_eq!(value(text, "SEALDESK_CONFIG"), None);
        assert_eq!(value("SEALDESK_KEYS=\n", "SEALDESK_KEYS"), None);
    }
}
