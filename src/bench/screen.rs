//! Just enough of a terminal to tell what an agent would see: the text of each cell,
//! with cursor moves, clears and printable characters applied, styles ignored.
//!
//! The server sends only the cells that changed since the last frame, so looking for a
//! word in the raw bytes is unreliable (a new subject over a similar one may arrive as
//! a few scattered letters); looking at the screen is not.

use unicode_width::UnicodeWidthChar;

/// Marks the cell covered by the right half of a wide character.
const WIDE_TAIL: char = '\0';

pub struct Screen {
    cols: usize,
    rows: usize,
    cells: Vec<char>,
    x: usize,
    y: usize,
    /// Bytes of an escape sequence or UTF-8 character split across reads.
    pending: Vec<u8>,
}

impl Screen {
    pub fn new(cols: u16, rows: u16) -> Screen {
        let (cols, rows) = (cols as usize, rows as usize);
        Screen {
            cols,
            rows,
            cells: vec![' '; cols * rows],
            x: 0,
            y: 0,
            pending: Vec::new(),
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.pending);
        let mut i = 0;
        while i < buf.len() {
            match self.step(&buf[i..]) {
                Some(used) => i += used,
                None => break, // incomplete: wait for more bytes
            }
        }
        self.pending = buf[i..].to_vec();
    }

    /// Applies one character or sequence at the start of `b`; how many bytes it took.
    fn step(&mut self, b: &[u8]) -> Option<usize> {
        match b[0] {
            0x1b => self.escape(b),
            b'\r' => {
                self.x = 0;
                Some(1)
            }
            b'\n' => {
                self.y = (self.y + 1).min(self.rows.saturating_sub(1));
                Some(1)
            }
            c if c < 0x20 || c == 0x7f => Some(1),
            _ => {
                let len = utf8_len(b[0]);
                if b.len() < len {
                    return None;
                }
                let text = std::str::from_utf8(&b[..len]).unwrap_or("\u{fffd}");
                let ch = text.chars().next().unwrap_or('\u{fffd}');
                self.print(ch);
                Some(len)
            }
        }
    }

    fn print(&mut self, ch: char) {
        let width = ch.width().unwrap_or(0);
        if width == 0 {
            return;
        }
        if self.y < self.rows {
            for dx in 0..width {
                if self.x + dx < self.cols {
                    // A wide character's second cell holds nothing of its own.
                    self.cells[self.y * self.cols + self.x + dx] =
                        if dx == 0 { ch } else { WIDE_TAIL };
                }
            }
        }
        self.x += width;
    }

    fn escape(&mut self, b: &[u8]) -> Option<usize> {
        if b.len() < 2 {
            return None;
        }
        match b[1] {
            b'[' => {
                // CSI: parameters and intermediates, then a final byte 0x40..=0x7e.
                let end = b[2..].iter().position(|c| (0x40..=0x7e).contains(c))? + 2;
                let params = std::str::from_utf8(&b[2..end]).unwrap_or("");
                self.csi(params, b[end]);
                Some(end + 1)
            }
            b']' => {
                // OSC, ended by BEL or ESC \.
                let end = b.iter().position(|&c| c == 0x07)?;
                Some(end + 1)
            }
            _ => Some(2),
        }
    }

    fn csi(&mut self, params: &str, command: u8) {
        if params.starts_with('?') {
            return; // modes: alternate screen, cursor visibility, bracketed paste
        }
        let nums: Vec<usize> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
        let n =
            |i: usize, default: usize| nums.get(i).copied().filter(|&v| v > 0).unwrap_or(default);
        match command {
            b'H' | b'f' => {
                self.y = (n(0, 1) - 1).min(self.rows.saturating_sub(1));
                self.x = (n(1, 1) - 1).min(self.cols.saturating_sub(1));
            }
            b'G' => self.x = (n(0, 1) - 1).min(self.cols.saturating_sub(1)),
            b'C' => self.x = (self.x + n(0, 1)).min(self.cols.saturating_sub(1)),
            b'D' => self.x = self.x.saturating_sub(n(0, 1)),
            b'A' => self.y = self.y.saturating_sub(n(0, 1)),
            b'B' => self.y = (self.y + n(0, 1)).min(self.rows.saturating_sub(1)),
            b'J' if nums.first() == Some(&2) || nums.first() == Some(&3) => {
                self.cells.fill(' ');
            }
            b'K' => {
                let start = self.y * self.cols;
                let from = if nums.first() == Some(&2) { 0 } else { self.x };
                if self.y < self.rows {
                    self.cells[start + from.min(self.cols)..start + self.cols].fill(' ');
                }
            }
            _ => {} // colours and attributes
        }
    }

    /// One row's text, trailing blanks kept.
    pub fn line(&self, row: usize) -> String {
        self.cells[row * self.cols..(row + 1) * self.cols]
            .iter()
            .filter(|&&c| c != WIDE_TAIL)
            .collect()
    }

    pub fn text(&self) -> String {
        (0..self.rows)
            .map(|r| self.line(r))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn contains(&self, needle: &str) -> bool {
        (0..self.rows).any(|r| self.line(r).contains(needle))
    }
}

/// Whether `bytes` draw nothing: only colours and attributes (`CSI … m`) and cursor
/// hiding (`CSI ?25l`). The server sends that after every redraw, even an empty one.
pub fn draws_nothing(bytes: &[u8]) -> bool {
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

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xf7 => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
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
