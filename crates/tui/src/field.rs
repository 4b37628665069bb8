//! One line of typed text (a prompt, a form field, the queue search), capped.
//!
//! No such line needs more than a few hundred characters, and a line that grows without
//! bound makes every key and every frame cost more: past the cap, keys and pastes are
//! refused and the agent is told why.

use unicode_width::UnicodeWidthChar;

/// Longest line, in bytes of UTF-8.
pub(crate) const FIELD_MAX: usize = 1024;

/// Appends `c`; `false` (and nothing added) if the line is full.
pub(crate) fn push(field: &mut String, c: char) -> bool {
    if field.len() + c.len_utf8() > FIELD_MAX {
        return false;
    }
    field.push(c);
    true
}

/// Appends as much of `text` as fits, whole characters only; `false` if some was left out.
pub(crate) fn push_str(field: &mut String, text: &str) -> bool {
    for c in text.chars() {
        if !push(field, c) {
            return false;
        }
    }
    true
}

/// What the agent is told when a line is full.
pub(crate) fn full() -> String {
    format!("that is as long as this line gets ({FIELD_MAX} bytes)")
}

/// The end of `text` that fits in `room` cells, where the agent is typing; one pass.
pub(crate) fn tail(text: &str, room: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices().rev() {
        used += c.width().unwrap_or(0);
        if used > room {
            return &text[i + c.len_utf8()..];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stop_at_the_cap() {
        let mut line = "a".repeat(FIELD_MAX - 2);
        assert!(!push(&mut line, '€'));
        assert!(push_str(&mut line, "bc") && !push(&mut line, 'd'));
        assert_eq!(line.len(), FIELD_MAX);
        let mut line = String::new();
        assert!(!push_str(&mut line, &"€".repeat(FIELD_MAX)));
        assert_eq!(line.len(), FIELD_MAX - FIELD_MAX % 3);
    }

    #[test]
    fn the_tail_fits() {
        assert_eq!(tail("hello", 10), "hello");
        assert_eq!(tail("hello", 3), "llo");
        assert_eq!(tail("a漢字", 3), "字");
        assert_eq!(tail("", 0), "");
    }
}
