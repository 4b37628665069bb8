//! The text of a reply or note being written: lines, a cursor, a size cap, and a view
//! that scrolls to follow the cursor.
//!
//! Every key costs at most one pass over the cursor's line (and, for a line break, one
//! move of the line list), never a pass over the whole text: an agent, or a script
//! typing for one, may type megabytes as keys, and a per-key cost that grows with the
//! text makes typing quadratic. Drawing costs the visible part, once per frame.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_width::UnicodeWidthChar;

/// Largest draft, in bytes of UTF-8 (line breaks count one each): as much as one
/// bracketed paste may carry.
pub(crate) const DRAFT_MAX: usize = crate::ssh::input::PASTE_MAX;
/// Most lines in a draft; a line break moves the lines after it.
pub(crate) const DRAFT_MAX_LINES: usize = 20_000;
/// Spaces a Tab stands for (tabs are not kept: they would draw unpredictably).
const TAB: usize = 4;

/// A cursor move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    PageUp,
    PageDown,
}

/// Multi-line text with a cursor. `lines` is never empty; `col` is a byte offset on a
/// character boundary of `lines[row]`.
pub(crate) struct Draft {
    lines: Vec<String>,
    row: usize,
    col: usize,
    /// Bytes of text, counting each line break as one.
    len: usize,
    /// The view: first line and first display column shown, and the rows last drawn.
    top: usize,
    left: usize,
    page: usize,
}

impl Draft {
    /// A draft holding `text` (cut at the cap), with the cursor at its end.
    pub fn new(text: &str) -> Draft {
        let mut draft = Draft {
            lines: vec![String::new()],
            row: 0,
            col: 0,
            len: 0,
            top: 0,
            left: 0,
            page: 10,
        };
        draft.insert_str(text);
        draft
    }

    #[cfg(test)]
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Types `c` at the cursor; `false` if the draft is full. `\n` breaks the line.
    pub fn insert_char(&mut self, c: char) -> bool {
        if c == '\n' {
            return self.newline();
        }
        if self.len + c.len_utf8() > DRAFT_MAX {
            return false;
        }
        self.lines[self.row].insert(self.col, c);
        self.col += c.len_utf8();
        self.len += c.len_utf8();
        true
    }

    /// Spaces up to the next tab stop; `false` if they do not fit.
    pub fn tab(&mut self) -> bool {
        let at = self.lines[self.row][..self.col].chars().count();
        let spaces = TAB - at % TAB;
        if self.len + spaces > DRAFT_MAX {
            return false;
        }
        (0..spaces).all(|_| self.insert_char(' '))
    }

    /// Breaks the line at the cursor; `false` if the draft is full.
    pub fn newline(&mut self) -> bool {
        if self.len + 1 > DRAFT_MAX || self.lines.len() >= DRAFT_MAX_LINES {
            return false;
        }
        let rest = self.lines[self.row].split_off(self.col);
        self.lines.insert(self.row + 1, rest);
        self.row += 1;
        self.col = 0;
        self.len += 1;
        true
    }

    /// Inserts `text` at the cursor, as much as fits; `false` if some was left out.
    /// The caller cleans it: control characters are not checked here.
    pub fn insert_str(&mut self, text: &str) -> bool {
        for (i, piece) in text.split('\n').enumerate() {
            if i > 0 && !self.newline() {
                return false;
            }
            let piece = piece.strip_suffix('\r').unwrap_or(piece);
            let room = DRAFT_MAX - self.len;
            let fits = floor_char_boundary(piece, room);
            self.lines[self.row].insert_str(self.col, &piece[..fits]);
            self.col += fits;
            self.len += fits;
            if fits < piece.len() {
                return false;
            }
        }
        true
    }

    /// Deletes the character before the cursor, or joins the line to the one above.
    pub fn backspace(&mut self) {
        if self.col > 0 {
            let line = &mut self.lines[self.row];
            let start = prev_boundary(line, self.col);
            line.replace_range(start..self.col, "");
            self.len -= self.col - start;
            self.col = start;
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = self.lines[self.row].len();
            self.lines[self.row].push_str(&line);
            self.len -= 1;
        }
    }

    /// Deletes the character under the cursor, or joins the next line to this one.
    pub fn delete(&mut self) {
        let line = &mut self.lines[self.row];
        if self.col < line.len() {
            let end = next_boundary(line, self.col);
            line.replace_range(self.col..end, "");
            self.len -= end - self.col;
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            self.lines[self.row].push_str(&next);
            self.len -= 1;
        }
    }

    pub fn move_cursor(&mut self, to: Move) {
        let line = &self.lines[self.row];
        match to {
            Move::Left if self.col > 0 => self.col = prev_boundary(line, self.col),
            Move::Left if self.row > 0 => {
                self.row -= 1;
                self.col = self.lines[self.row].len();
            }
            Move::Right if self.col < line.len() => self.col = next_boundary(line, self.col),
            Move::Right if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = 0;
            }
            Move::Left | Move::Right => {}
            Move::Home => self.col = 0,
            Move::End => self.col = line.len(),
            Move::Up => self.go_to_row(self.row.saturating_sub(1)),
            Move::Down => self.go_to_row(self.row + 1),
            Move::PageUp => self.go_to_row(self.row.saturating_sub(self.page.max(1))),
            Move::PageDown => self.go_to_row(self.row + self.page.max(1)),
        }
    }

    /// To line `row` (clamped), at the same display column or the line's end.
    fn go_to_row(&mut self, row: usize) {
        let row = row.min(self.lines.len() - 1);
        let column = width(&self.lines[self.row][..self.col]);
        self.row = row;
        self.col = offset_at_column(&self.lines[row], column);
    }

    /// Draws the visible part into `area`, scrolled so the cursor shows, and the cursor
    /// as one cell in `cursor` style.
    pub fn render(&mut self, buf: &mut Buffer, area: Rect, style: Style, cursor: Style) {
        buf.set_style(area, style);
        if area.width == 0 || area.height == 0 {
            return;
        }
        let (rows, cols) = (usize::from(area.height), usize::from(area.width));
        self.page = rows;
        if self.row < self.top {
            self.top = self.row;
        } else if self.row >= self.top + rows {
            self.top = self.row + 1 - rows;
        }
        let cursor_x = width(&self.lines[self.row][..self.col]);
        if cursor_x < self.left {
            self.left = cursor_x;
        } else if cursor_x >= self.left + cols {
            self.left = cursor_x + 1 - cols;
        }
        for (i, line) in self.lines[self.top..].iter().take(rows).enumerate() {
            let y = area.y + i as u16;
            let mut x = 0usize;
            for c in line.chars() {
                let w = c.width().unwrap_or(0);
                if x >= self.left + cols {
                    break;
                }
                // A wide character cut by the left edge is left out, not half drawn.
                if x >= self.left && x + w <= self.left + cols {
                    let cell_x = area.x + (x - self.left) as u16;
                    if w > 0 {
                        let mut utf8 = [0; 4];
                        buf.set_stringn(cell_x, y, c.encode_utf8(&mut utf8), w, Style::default());
                    }
                }
                x += w;
            }
        }
        let (cx, cy) = (
            area.x + (cursor_x - self.left) as u16,
            area.y + (self.row - self.top) as u16,
        );
        buf.set_style(Rect::new(cx, cy, 1, 1), cursor);
    }
}

/// Display width, in terminal cells.
fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The byte offset in `line` of display column `column`, or its end.
fn offset_at_column(line: &str, column: usize) -> usize {
    let mut x = 0;
    for (i, c) in line.char_indices() {
        if x >= column {
            return i;
        }
        x += c.width().unwrap_or(0);
    }
    line.len()
}

fn prev_boundary(s: &str, i: usize) -> usize {
    s[..i].char_indices().next_back().map_or(0, |(j, _)| j)
}

fn next_boundary(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(i, |c| i + c.len_utf8())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Draft {
        let mut d = Draft::new("");
        for c in text.chars() {
            assert!(d.insert_char(c));
        }
        d
    }

    #[test]
    fn typing_moving_and_deleting() {
        let mut d = typed("héllo\nwörld");
        assert_eq!(d.lines(), ["héllo", "wörld"]);
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Left);
        d.backspace();
        assert_eq!(d.text(), "hélo\nwörld");
        d.move_cursor(Move::End);
        d.delete();
        assert_eq!(d.text(), "hélowörld");
        d.move_cursor(Move::Home);
        d.newline();
        d.backspace();
        d.backspace();
        assert_eq!(d.text(), "hélowörld");
        d.move_cursor(Move::Home);
        d.tab();
        assert_eq!(d.text(), "    hélowörld");
        while !d.is_empty() {
            d.move_cursor(Move::End);
            d.backspace();
        }
        assert_eq!(d.lines(), [""]);
        assert_eq!(d.len, 0);
    }

    #[test]
    fn up_and_down_keep_the_column() {
        let mut d = Draft::new("abcdef\nxy\n漢字abc");
        d.move_cursor(Move::Home);
        d.move_cursor(Move::Right);
        d.move_cursor(Move::Right);
        d.move_cursor(Move::Up); // column 2 on "xy": its end
        assert_eq!((d.row, d.col), (1, 2));
        d.move_cursor(Move::Up);
        assert_eq!((d.row, d.col), (0, 2));
        d.move_cursor(Move::PageDown);
        assert_eq!(d.row, 2);
    }

    #[test]
    fn the_cap_holds_for_keys_pastes_and_line_breaks() {
        let mut d = Draft::new(&"a".repeat(DRAFT_MAX - 2));
        assert!(d.insert_char('b'));
        assert!(!d.insert_char('€'), "three bytes do not fit in one");
        assert!(d.insert_char('c'));
        assert!(!d.insert_char('d'));
        assert!(!d.newline());
        assert_eq!(d.len, DRAFT_MAX);
        assert_eq!(d.text().len(), DRAFT_MAX);

        let mut d = Draft::new("");
        assert!(!d.insert_str(&"€".repeat(DRAFT_MAX)));
        assert_eq!(d.len, DRAFT_MAX - DRAFT_MAX % 3, "cut at a character");
        assert!(d.text().chars().all(|c| c == '€'));

        let mut d = Draft::new("");
        assert!(!d.insert_str(&"\n".repeat(DRAFT_MAX_LINES)));
        assert_eq!(d.lines().len(), DRAFT_MAX_LINES);
    }

    #[test]
    fn the_view_follows_the_cursor() {
        let mut d = Draft::new(&format!("{}\n2\n3\n4", "x".repeat(100)));
        let area = Rect::new(0, 0, 10, 2);
        let mut buf = Buffer::empty(area);
        d.render(&mut buf, area, Style::default(), Style::default());
        // The cursor is at the end of line 4: lines 3 and 4 show.
        assert_eq!(buf[(0, 0)].symbol(), "3");
        assert_eq!(buf[(0, 1)].symbol(), "4");
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Up);
        d.move_cursor(Move::End);
        let mut buf = Buffer::empty(area);
        d.render(&mut buf, area, Style::default(), Style::default());
        assert_eq!(
            (d.top, d.left),
            (0, 91),
            "scrolled to the end of the long line"
        );
        assert_eq!(buf[(8, 0)].symbol(), "x");
        assert_eq!(buf[(9, 0)].symbol(), " ", "the cursor after the text");
    }

    /// Random edits and moves over mixed-width text, drawn at tiny and odd sizes: no
    /// panic, the cursor stays on a character boundary, the byte count stays true.
    #[test]
    fn random_edits_keep_the_invariants() {
        let mut seed = 0x5eed_u64;
        let mut rng = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let chars = ['a', 'é', '漢', '😀', '\u{301}', ' ', '\n'];
        let moves = [
            Move::Left,
            Move::Right,
            Move::Up,
            Move::Down,
            Move::Home,
            Move::End,
            Move::PageUp,
            Move::PageDown,
        ];
        let mut d = Draft::new("start");
        for step in 0..20_000 {
            match rng() % 6 {
                0 | 1 => {
                    d.insert_char(chars[(rng() % chars.len() as u64) as usize]);
                }
                2 => d.backspace(),
                3 => d.delete(),
                4 => {
                    d.tab();
                }
                _ => d.move_cursor(moves[(rng() % moves.len() as u64) as usize]),
            }
            assert!(d.lines[d.row].is_char_boundary(d.col), "step {step}");
            if step % 97 == 0 {
                assert_eq!(d.len, d.text().len(), "step {step}");
                let area = Rect::new(1, 1, (rng() % 7) as u16, (rng() % 4) as u16);
                let mut buf = Buffer::empty(Rect::new(0, 0, 10, 6));
                d.render(&mut buf, area, Style::default(), Style::default());
            }
        }
    }

    /// Typing 256 KiB as single keys stays linear: well under a second even unoptimised,
    /// where a pass over the whole text per key took minutes.
    #[test]
    fn typing_a_lot_is_linear() {
        let started = std::time::Instant::now();
        let mut d = Draft::new("");
        let area = Rect::new(0, 0, 80, 20);
        let mut buf = Buffer::empty(area);
        for i in 0..256 * 1024 {
            let c = if i % 200 == 199 { '\n' } else { 'k' };
            assert!(d.insert_char(c));
            if i % 4096 == 0 {
                d.render(&mut buf, area, Style::default(), Style::default());
            }
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
