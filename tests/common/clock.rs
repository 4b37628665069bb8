//! The test clock (`SEALDESK_TEST_CLOCK`): set it, and compare the desk's times to it.

use std::path::Path;
use time::OffsetDateTime;

/// Sets the clock in `file` to `at`; it runs on from there.
pub(crate) fn set_clock(file: &Path, at: OffsetDateTime) {
    std::fs::write(file, at.unix_timestamp().to_string()).unwrap();
}

/// The clock runs on from where the test set it, so times are compared to the second
/// or so a command takes.
pub(crate) fn assert_near(value: &serde_json::Value, expected: OffsetDateTime) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    let got = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| panic!("not a time: {text}"));
    let off = (got - expected).whole_seconds();
    assert!((0..=5).contains(&off), "{text} is not {expected}");
}

/// Sets the clock in `file` to `at` and stops it there: the file's modification time is
/// put a day ahead, and the clock never runs backwards from a file written "later"
/// (for figures that must come out to the second, such as durations in reports).
pub(crate) fn stop_clock(file: &Path, at: OffsetDateTime) {
    set_clock(file, at);
    let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(file)
        .and_then(|f| f.set_modified(ahead))
        .unwrap();
}
