//! Printing for a terminal: every string that may hold mail-derived text goes through
//! the sanitizer; JSON is escaped so it cannot carry terminal controls either.

use sealdesk_model::sanitize;
use serde::Serialize;
use std::io::Write;

/// Where a command's output goes: the terminal, or a buffer sent back over the control
/// socket when a running server executed it.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

pub(super) fn print_json<T: Serialize>(out: &mut dyn Write, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    writeln!(out, "{}", sanitize::json_for_terminal(&text))?;
    Ok(())
}

/// One line of untrusted text, safe to print.
pub(super) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    sanitize::line(text)
}

/// Untrusted multi-line text, safe to print, indented for a thread.
pub(super) fn safe_block(text: &str, indent: &str) -> String {
    sanitize::multiline(text)
        .lines()
        .map(|l| format!("{indent}{l}\n"))
        .collect()
}

/// Cuts text to `width` characters with an ellipsis, for table columns.
pub(super) fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}
