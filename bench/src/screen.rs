//! What an agent would see: the text of each cell, decoded from the server's bytes by
//! the `vt100` crate (styles ignored here).
//!
//! The server sends only the cells that changed since the last frame, so looking for a
//! word in the raw bytes is unreliable (a new subject over a similar one may arrive as
//! a few scattered letters); looking at the screen is not.

use std::num::NonZeroU16;

pub(crate) struct Screen {
    parser: vt100::Parser,
    cols: u16,
}

impl Screen {
    pub(crate) fn new(cols: u16, rows: u16) -> Screen {
        Screen {
            parser: vt100::Parser::new(size(rows), size(cols), 0),
            cols,
        }
    }

    /// Applies bytes as read; a sequence or character split across reads is completed
    /// by the next call.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    /// One row's text (trailing blanks trimmed; an empty string past the last row).
    pub(crate) fn line(&self, row: usize) -> String {
        self.rows().nth(row).unwrap_or_default()
    }

    pub(crate) fn text(&self) -> String {
        self.rows().collect::<Vec<_>>().join("\n")
    }

    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.rows().any(|line| line.contains(needle))
    }

    fn rows(&self) -> impl Iterator<Item = String> + '_ {
        self.parser.screen().rows(0, self.cols)
    }
}

/// A screen dimension, at least 1.
fn size(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

/// Whether `bytes` draw nothing: only colours and attributes (`CSI … m`) and cursor
/// hiding (`CSI ?25l`). The server sends that after every redraw, even an empty one.
pub(crate) fn draws_nothing(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 3 || rest[0] != 0x1b || rest[1] != b'[' {
            return false;
        }
        let Some(end) = rest[2..].iter().position(|c| (0x40..=0x7e).contains(c)) else {
            return false;
        };
        let (params, command) = (&rest[2..end + 2], rest[end + 2]);
        let invisible = command == b'm' || (params == b"?25" && matches!(command, b'l' | b'h'));
        if !invisible {
            return false;
        }
        rest = &rest[end + 3..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_moves_and_ignores_styles() {
        let mut s = Screen::new(20, 3);
        s.feed(b"\x1b[?1049h\x1b[H\x1b[2J\x1b[1;1H\x1b[38;5;3mHello");
        s.feed(b"\x1b[2;3Hw\xc3");
        s.feed(b"\xb6rld \xe6\xbc\xa2x");
        assert!(s.line(0).starts_with("Hello"));
        assert_eq!(s.line(1).trim_end(), "  wörld 漢x");
        s.feed(b"\x1b[1;2Hu");
        assert!(s.contains("Hullo"));
        s.feed(b"\x1b[2J");
        assert!(!s.contains("Hullo"));
    }

    #[test]
    fn style_resets_are_not_content() {
        assert!(draws_nothing(b"\x1b[39m\x1b[49m\x1b[59m\x1b[0m\x1b[?25l"));
        assert!(!draws_nothing(b"\x1b[0mx"));
        assert!(!draws_nothing(b"\x1b[2;3H"));
        assert!(!draws_nothing(b"\x1b[?1049h"));
    }
}
