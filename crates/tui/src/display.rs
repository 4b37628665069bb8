//! How model values look on screen: which role colours a status, how a time or a size
//! is written, how a body is wrapped. Shared by every screen so they agree.

use super::theme::Role;
use sealdesk_model::sla::{due_words, time_left};
use sealdesk_model::{Delivery, Priority, Status, Ticket, Timestamp};
use unicode_width::UnicodeWidthChar;

pub(crate) fn status_role(status: Status) -> Role {
    match status {
        Status::New => Role::StatusNew,
        Status::Open => Role::StatusOpen,
        Status::Pending => Role::StatusPending,
        Status::Solved => Role::StatusSolved,
        Status::Closed => Role::StatusClosed,
    }
}

pub(crate) fn priority_role(priority: Priority) -> Role {
    match priority {
        Priority::Low => Role::PriorityLow,
        Priority::Normal => Role::PriorityNormal,
        Priority::High => Role::PriorityHigh,
        Priority::Urgent => Role::PriorityUrgent,
    }
}

/// A ticket's due time as a queue cell: `due 3d`, `breached 2h`; a snoozed ticket
/// shows when it wakes instead (`z 2d`).
pub(crate) fn due_cell(ticket: &Ticket, now: Timestamp) -> (String, Role) {
    const SOON: i64 = 86_400;
    if let Some(wake) = ticket.snoozed_until {
        return (format!("z {}", time_left(now, wake)), Role::Muted);
    }
    match ticket.due {
        None => ("-".into(), Role::Muted),
        Some(due) if due <= now => (due_words(due, now), Role::Overdue),
        Some(due) if due.0 - now.0 <= SOON => (due_words(due, now), Role::DueSoon),
        Some(due) => (due_words(due, now), Role::Base),
    }
}

/// "2026-11-22 10:35 (3h ago)": minutes are precise enough to tell messages apart.
pub(crate) fn when(at: Timestamp, now: Timestamp) -> String {
    format!("{} ({} ago)", minute(at), at.age_at(now))
}

/// "2026-11-22 10:35" (UTC), for tables where the age would not fit.
pub(crate) fn minute(at: Timestamp) -> String {
    let stamp = at.rfc3339();
    stamp.get(..16).unwrap_or(&stamp).replace('T', " ")
}

/// "2026-11-22" (UTC).
pub(crate) fn day(at: Timestamp) -> String {
    let stamp = at.rfc3339();
    stamp.get(..10).unwrap_or(&stamp).to_string()
}

/// "512 B", "12 KB", "3.4 MB".
pub(crate) fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    match bytes {
        b if b < KB => format!("{b} B"),
        b if b < KB * KB => format!("{} KB", b.div_ceil(KB)),
        b if b < KB * KB * KB => format!("{:.1} MB", b as f64 / (KB * KB) as f64),
        b => format!("{:.1} GB", b as f64 / (KB * KB * KB) as f64),
    }
}

/// Where an outbound reply is, and the role to show it in.
pub(crate) fn delivery(delivery: &Delivery) -> (String, Role) {
    match delivery {
        Delivery::Queued { .. } => ("queued".into(), Role::Muted),
        Delivery::Sent { .. } => ("sent".into(), Role::MessageInfo),
        Delivery::Failed { reason, .. } => (
            format!("failed: {}", sealdesk_model::sanitize::line(reason)),
            Role::MessageError,
        ),
    }
}

/// Breaks one line of (already sanitised) text into pieces at most `width` columns wide,
/// at spaces where possible. Always yields at least one piece, so empty lines survive.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_width = 0;
    // Byte offset in `current` just after its last space, and the width up to there.
    let mut last_space: Option<(usize, usize)> = None;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if current_width + w > width && !current.is_empty() {
            if c == ' ' {
                // The break falls on a space: it ends this piece and starts no other.
                pieces.push(std::mem::take(&mut current).trim_end().to_string());
                current_width = 0;
                last_space = None;
                continue;
            }
            match last_space {
                Some((at, at_width)) if at < current.len() => {
                    let rest = current.split_off(at);
                    pieces.push(current.trim_end().to_string());
                    current = rest;
                    current_width -= at_width;
                }
                _ => {
                    pieces.push(std::mem::take(&mut current));
                    current_width = 0;
                }
            }
            last_space = None;
        }
        current.push(c);
        current_width += w;
        if c == ' ' {
            last_space = Some((current.len(), current_width));
        }
    }
    pieces.push(current);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("hello world again", 11), ["hello world", "again"]);
        assert_eq!(wrap("hello world again", 10), ["hello", "world", "again"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("abcd efgh", 4), ["abcd", "efgh"]);
        assert_eq!(wrap("你好你好", 5), ["你好", "你好"]);
        for piece in wrap("a bb ccc dddd eeeee ffffff", 5) {
            assert!(piece.chars().count() <= 5, "{piece:?}");
        }
    }

    #[test]
    fn formats_sizes_times_and_due_dates() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(12 * 1024), "12 KB");
        assert_eq!(human_size(3 * 1024 * 1024 + 400_000), "3.4 MB");
        assert_eq!(
            when(Timestamp(0), Timestamp(7_200)),
            "1970-01-01 00:00 (2h ago)"
        );
        assert_eq!(minute(Timestamp(60)), "1970-01-01 00:01");
        assert_eq!(day(Timestamp(86_400)), "1970-01-02");
        let now = Timestamp(1_000_000);
        let mut t = Ticket::new(
            sealdesk_model::TicketNo(1),
            "s".into(),
            sealdesk_model::CustomerId([1; 16]),
            now,
        );
        let mut cell = |due: Option<Timestamp>| {
            t.due = due;
            due_cell(&t, now)
        };
        assert_eq!(cell(None).0, "-");
        assert_eq!(
            cell(Some(Timestamp(now.0 - 900))),
            ("breached 15m".into(), Role::Overdue)
        );
        assert_eq!(
            cell(Some(Timestamp(now.0 + 7_200))),
            ("due 2h".into(), Role::DueSoon)
        );
        assert_eq!(cell(Some(now.plus_days(3))), ("due 3d".into(), Role::Base));
        t.snoozed_until = Some(now.plus_days(2));
        assert_eq!(due_cell(&t, now), ("z 2d".into(), Role::Muted));
    }
}
