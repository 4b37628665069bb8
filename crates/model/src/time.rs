use serde::{Deserialize, Serialize};
use std::fmt;

/// Seconds since the Unix epoch, UTC. Small, ordered and independent of any time zone.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Debug)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The time now. Tests of the real binary can move the clock: with
    /// `SEALDESK_TEST_CLOCK=FILE` set, the file holds Unix seconds T, and the clock
    /// reads T at the moment the file was last written and runs on from there (rewrite
    /// the file to jump). Without the variable (every real desk), the system clock.
    pub fn now() -> Self {
        let real = time::OffsetDateTime::now_utc().unix_timestamp();
        match test_clock() {
            Some(path) => Timestamp(test_clock_reading(path, real).unwrap_or(real)),
            None => Timestamp(real),
        }
    }

    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(self.0 + days * 86_400)
    }

    /// RFC 3339 in UTC, e.g. `2026-11-22T10:35:07Z`.
    pub fn rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| format!("@{}", self.0))
    }

    /// For `#[serde(serialize_with)]` on JSON views: the time as RFC 3339 text.
    pub fn serialize_rfc3339<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.rfc3339())
    }

    /// A compact age such as `5m`, `3h`, `2d`, `6w` for queue columns.
    pub fn age_at(self, now: Timestamp) -> String {
        let secs = (now.0 - self.0).max(0);
        match secs {
            s if s < 60 => format!("{s}s"),
            s if s < 3_600 => format!("{}m", s / 60),
            s if s < 86_400 => format!("{}h", s / 3_600),
            s if s < 86_400 * 14 => format!("{}d", s / 86_400),
            s => format!("{}w", s / (86_400 * 7)),
        }
    }
}

/// The test clock's file, if `SEALDESK_TEST_CLOCK` names one (read once).
fn test_clock() -> Option<&'static std::path::Path> {
    static CLOCK: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    CLOCK
        .get_or_init(|| std::env::var_os("SEALDESK_TEST_CLOCK").map(Into::into))
        .as_deref()
}

/// T + (now - the file's mtime), or None when the file is missing or not a number.
fn test_clock_reading(path: &std::path::Path, real: i64) -> Option<i64> {
    let set: i64 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    let written = std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(set + (real - written).max(0))
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_ages() {
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(0).age_at(Timestamp(7_200)), "2h");
        assert_eq!(Timestamp(0).plus_days(2), Timestamp(172_800));
    }
}
