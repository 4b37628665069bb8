//! The text of a reply or note being written: lines, a cursor, a size cap, and a view
//! that soft-wraps lines at its width (by words where it can) and scrolls to follow the
//! cursor. Only the agent's own line breaks are kept in the text; Up and Down move by
//! screen rows.
//!
//! Every key costs at most one pass over the cursor's line (and, for a line break, one
//! move of the line list), never a pass over the whole text: an agent, or a script
//! typing for one, may type megabytes as keys, and a per-key cost that grows with the
//! text makes typing quadratic. Wrapping is worked out only for lines being drawn and for the
//! cursor's line (Up/Down), never for the whole text: drawing costs the visible lines,
//! once per frame.
//!
//! Undo keeps the edits, not copies of the draft: where, what was removed, what was
//! put in. Typed characters (and runs of Backspace or Delete) grow one step until the
//! cursor moves or another kind of edit comes; undoing a step costs its size plus the
//! lines it touches.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use std::collections::VecDeque;
use unicode_width::UnicodeWidthChar;

/// Largest draft, in bytes of UTF-8 (line breaks count one each): as much as one
/// bracketed paste may carry.
pub(crate) const DRAFT_MAX: usize = crate::event::PASTE_MAX;
/// Most lines in a draft; a line break moves the lines after it.
pub(crate) const DRAFT_MAX_LINES: usize = 20_000;
/// Spaces a Tab stands for (tabs are not kept: they would draw unpredictably).
const TAB: usize = 4;
/// Undo steps kept; older ones are dropped.
pub(crate) const HISTORY_STEPS: usize = 200;
/// Bytes of text the undo history may hold over all its steps (the newest step is kept
/// whatever its size), so a session's history stays a few drafts big.
const HISTORY_BYTES: usize = 4 * DRAFT_MAX;

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

/// A place in the draft: a line and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    row: usize,
    col: usize,
}

/// Which edits grow one undo step while they come one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Typing,
    Backspace,
    Delete,
    /// Line breaks, joins, pastes, word and line deletes: a step each.
    Other,
}

/// One undoable edit: at `at`, `removed` gave way to `inserted`.
struct Step {
    kind: Kind,
    at: Pos,
    /// For a Backspace run, char by char in reverse (each key pushes to its end).
    removed: String,
    inserted: String,
    /// The cursor before and after the edit.
    before: Pos,
    after: Pos,
}

impl Step {
    fn removed_text(&self) -> String {
        match self.kind {
            Kind::Backspace => self.removed.chars().rev().collect(),
            _ => self.removed.clone(),
        }
    }

    fn bytes(&self) -> usize {
        self.removed.len() + self.inserted.len()
    }
}

#[derive(Default)]
struct History {
    undo: VecDeque<Step>,
    redo: Vec<Step>,
    /// Text bytes held by both stacks.
    bytes: usize,
    /// Set by a cursor move, undo or redo: the next edit starts a new step.
    sealed: bool,
}

impl History {
    /// The newest step, if the next edit of `kind` may grow it.
    fn open(&mut self, kind: Kind) -> Option<&mut Step> {
        if self.sealed || kind == Kind::Other {
            return None;
        }
        self.undo.back_mut().filter(|step| step.kind == kind)
    }

    fn push(&mut self, step: Step) {
        self.bytes -= self.redo.drain(..).map(|s| s.bytes()).sum::<usize>();
        self.bytes += step.bytes();
        self.undo.push_back(step);
        self.sealed = false;
        self.trim();
    }

    /// Bytes added to the newest step.
    fn grew(&mut self, by: usize) {
        self.bytes += by;
        self.trim();
    }

    fn trim(&mut self) {
        while self.undo.len() > HISTORY_STEPS || (self.bytes > HISTORY_BYTES && self.undo.len() > 1)
        {
            let oldest = self.undo.pop_front().expect("more than one step");
            self.bytes -= oldest.bytes();
        }
    }
}

/// Multi-line text with a cursor. `lines` is never empty; `col` is a byte offset on a
/// character boundary of `lines[row]`.
pub(crate) struct Draft {
    lines: Vec<String>,
    row: usize,
    col: usize,
    /// Bytes of text, counting each line break as one.
    len: usize,
    /// Goes up with every change to the text, so the editor can tell a key that
    /// changed it (to be saved) from one that only moved the cursor.
    version: u64,
    /// The view: the first screen row shown (a line and which of its wrapped rows),
    /// the rows last drawn, and the width lines wrap at (none before the first draw).
    top: usize,
    top_part: usize,
    page: usize,
    wrap: usize,
    history: History,
}

impl Draft {
    /// A draft holding `text` (cut at the cap), with the cursor at its end.
    pub(super) fn new(text: &str) -> Draft {
        let mut draft = Draft {
            lines: vec![String::new()],
            row: 0,
            col: 0,
            len: 0,
            version: 0,
            top: 0,
            top_part: 0,
            page: 10,
            wrap: usize::MAX,
            history: History::default(),
        };
        draft.insert_str(text);
        draft.history = History::default();
        draft
    }

    #[cfg(test)]
    pub(super) fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    #[cfg(test)]
    pub(super) fn lines(&self) -> &[String] {
        &self.lines
    }

    pub(super) fn version(&self) -> u64 {
        self.version
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole text, lines joined with `\n`.
    pub(super) fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Types `c` at the cursor; `false` if the draft is full. `\n` breaks the line.
    pub(super) fn insert_char(&mut self, c: char) -> bool {
        if c == '\n' {
            return self.newline();
        }
        if self.len + c.len_utf8() > DRAFT_MAX {
            return false;
        }
        let before = self.pos();
        self.lines[self.row].insert(self.col, c);
        self.col += c.len_utf8();
        self.len += c.len_utf8();
        self.version = self.version.wrapping_add(1);
        let after = self.pos();
        match self.history.open(Kind::Typing) {
            Some(step) if step.after == before => {
                step.inserted.push(c);
                step.after = after;
                self.history.grew(c.len_utf8());
            }
            _ => self.history.push(Step {
                kind: Kind::Typing,
                at: before,
                removed: String::new(),
                inserted: c.to_string(),
                before,
                after,
            }),
        }
        true
    }

    /// Spaces up to the next tab stop; `false` if they do not fit.
    pub(super) fn tab(&mut self) -> bool {
        let at = self.lines[self.row][..self.col].chars().count();
        let spaces = TAB - at % TAB;
        if self.len + spaces > DRAFT_MAX {
            return false;
        }
        (0..spaces).all(|_| self.insert_char(' '))
    }

    /// Breaks the line at the cursor; `false` if the draft is full.
    pub(super) fn newline(&mut self) -> bool {
        if self.len + 1 > DRAFT_MAX || self.lines.len() >= DRAFT_MAX_LINES {
            return false;
        }
        let before = self.pos();
        self.put("\n");
        self.record(before, before, String::new(), "\n".to_string());
        true
    }

    /// Inserts `text` at the cursor, as much as fits, as one undo step; `false` if some
    /// was left out. The caller cleans it: control characters are not checked here.
    pub(super) fn insert_str(&mut self, text: &str) -> bool {
        let mut fitting = String::new();
        let mut lines = self.lines.len();
        let mut whole = true;
        for (i, piece) in text.split('\n').enumerate() {
            if i > 0 {
                if self.len + fitting.len() + 1 > DRAFT_MAX || lines >= DRAFT_MAX_LINES {
                    whole = false;
                    break;
                }
                fitting.push('\n');
                lines += 1;
            }
            let piece = piece.strip_suffix('\r').unwrap_or(piece);
            let room = DRAFT_MAX - self.len - fitting.len();
            let fits = floor_char_boundary(piece, room);
            fitting.push_str(&piece[..fits]);
            if fits < piece.len() {
                whole = false;
                break;
            }
        }
        if !fitting.is_empty() {
            let before = self.pos();
            self.put(&fitting);
            self.record(before, before, String::new(), fitting);
        }
        whole
    }

    /// Deletes the character before the cursor, or joins the line to the one above.
    pub(super) fn backspace(&mut self) {
        let before = self.pos();
        if self.col > 0 {
            let line = &mut self.lines[self.row];
            let start = prev_boundary(line, self.col);
            let c = line[start..]
                .chars()
                .next()
                .expect("a character before the cursor");
            line.replace_range(start..self.col, "");
            self.len -= self.col - start;
            self.version = self.version.wrapping_add(1);
            self.col = start;
            let after = self.pos();
            match self.history.open(Kind::Backspace) {
                Some(step) if step.at == before => {
                    step.removed.push(c);
                    step.at = after;
                    step.after = after;
                    self.history.grew(c.len_utf8());
                }
                _ => self.history.push(Step {
                    kind: Kind::Backspace,
                    at: after,
                    removed: c.to_string(),
                    inserted: String::new(),
                    before,
                    after,
                }),
            }
        } else if self.row > 0 {
            let at = Pos {
                row: self.row - 1,
                col: self.lines[self.row - 1].len(),
            };
            let removed = self.take(at, before);
            self.record(at, before, removed, String::new());
        }
    }

    /// Deletes the character under the cursor, or joins the next line to this one.
    pub(super) fn delete(&mut self) {
        let at = self.pos();
        let line = &mut self.lines[self.row];
        if self.col < line.len() {
            let end = next_boundary(line, self.col);
            let removed: String = line.drain(self.col..end).collect();
            self.len -= end - self.col;
            self.version = self.version.wrapping_add(1);
            match self.history.open(Kind::Delete) {
                Some(step) if step.at == at => {
                    step.removed.push_str(&removed);
                    self.history.grew(removed.len());
                }
                _ => self.history.push(Step {
                    kind: Kind::Delete,
                    at,
                    removed,
                    inserted: String::new(),
                    before: at,
                    after: at,
                }),
            }
        } else if self.row + 1 < self.lines.len() {
            let removed = self.take(
                at,
                Pos {
                    row: self.row + 1,
                    col: 0,
                },
            );
            self.record(at, at, removed, String::new());
        }
    }

    /// Deletes from the start of the word before the cursor (alphanumeric characters,
    /// and the marks on them) to the cursor; at a line's start, joins it to the one above.
    pub(super) fn delete_word_before(&mut self) {
        if self.col == 0 {
            return self.backspace();
        }
        let to = self.pos();
        let at = Pos {
            row: self.row,
            col: word_start_before(&self.lines[self.row], self.col),
        };
        let removed = self.take(at, to);
        self.record(at, to, removed, String::new());
    }

    /// Deletes from the cursor to the end of the next word; at a line's end, joins the
    /// next line to this one.
    pub(super) fn delete_word_after(&mut self) {
        let end = word_end_after(&self.lines[self.row], self.col);
        self.delete_forward_to(end);
    }

    /// Deletes to the end of the line; at its end, joins the next line to this one.
    pub(super) fn kill_line(&mut self) {
        let end = self.lines[self.row].len();
        self.delete_forward_to(end);
    }

    /// Deletes from the cursor to column `end` of its line, as one undo step (the cursor
    /// stays); at the line's end, joins the next line to this one.
    fn delete_forward_to(&mut self, end: usize) {
        if self.col == self.lines[self.row].len() {
            return self.delete();
        }
        let at = self.pos();
        let to = Pos {
            row: self.row,
            col: end,
        };
        let removed = self.take(at, to);
        self.record(at, at, removed, String::new());
    }

    /// To the start of the word before the cursor, or the end of the line above.
    pub(super) fn word_left(&mut self) {
        if self.col == 0 {
            return self.move_cursor(Move::Left);
        }
        self.history.sealed = true;
        self.col = word_start_before(&self.lines[self.row], self.col);
    }

    /// To the end of the word after the cursor, or the start of the line below.
    pub(super) fn word_right(&mut self) {
        let line = &self.lines[self.row];
        if self.col == line.len() {
            return self.move_cursor(Move::Right);
        }
        self.history.sealed = true;
        self.col = word_end_after(line, self.col);
    }

    /// Takes back the last edit step and puts the cursor where it was; `false` if there
    /// is none. Costs the step's size and the lines it touches.
    pub(super) fn undo(&mut self) -> bool {
        let Some(step) = self.history.undo.pop_back() else {
            return false;
        };
        let removed = step.removed_text();
        self.take(step.at, end_of(step.at, &step.inserted));
        self.put(&removed);
        self.set_pos(step.before);
        self.history.redo.push(step);
        self.history.sealed = true;
        true
    }

    /// Does again the last step undone; `false` if there is none.
    pub(super) fn redo(&mut self) -> bool {
        let Some(step) = self.history.redo.pop() else {
            return false;
        };
        let removed = step.removed_text();
        self.take(step.at, end_of(step.at, &removed));
        self.put(&step.inserted);
        self.set_pos(step.after);
        self.history.undo.push_back(step);
        self.history.sealed = true;
        true
    }

    fn pos(&self) -> Pos {
        Pos {
            row: self.row,
            col: self.col,
        }
    }

    fn set_pos(&mut self, at: Pos) {
        debug_assert!(self.lines[at.row].is_char_boundary(at.col));
        (self.row, self.col) = (at.row, at.col);
    }

    /// A step of its own: at `at`, `removed` gave way to `inserted`; the cursor was at
    /// `before` and is where it is now.
    fn record(&mut self, at: Pos, before: Pos, removed: String, inserted: String) {
        let after = self.pos();
        self.history.push(Step {
            kind: Kind::Other,
            at,
            removed,
            inserted,
            before,
            after,
        });
    }

    /// Puts `text` (line breaks and all) at the cursor and the cursor after it, with no
    /// cap check: callers check, or restore what was there. Costs the text, the cursor's
    /// line and, for a line break, one move of the line list.
    fn put(&mut self, text: &str) {
        let mut pieces = text.split('\n');
        let first = pieces.next().unwrap_or_default();
        if first.len() == text.len() {
            self.lines[self.row].insert_str(self.col, text);
            self.col += text.len();
        } else {
            let tail = self.lines[self.row].split_off(self.col);
            self.lines[self.row].push_str(first);
            let mut new: Vec<String> = pieces.map(String::from).collect();
            let last = new.last_mut().expect("a line break makes a line");
            let col = last.len();
            last.push_str(&tail);
            let added = new.len();
            self.lines.splice(self.row + 1..self.row + 1, new);
            self.row += added;
            self.col = col;
        }
        self.len += text.len();
        self.version = self.version.wrapping_add(1);
    }

    /// Removes the text from `from` to `to` (which is not before it), puts the cursor at
    /// `from`, and returns what was removed.
    fn take(&mut self, from: Pos, to: Pos) -> String {
        let removed = if from.row == to.row {
            self.lines[from.row].drain(from.col..to.col).collect()
        } else {
            let mut removed = self.lines[from.row].split_off(from.col);
            let gone: Vec<String> = self.lines.drain(from.row + 1..=to.row).collect();
            let last = gone.len() - 1;
            for (i, line) in gone.into_iter().enumerate() {
                removed.push('\n');
                if i == last {
                    removed.push_str(&line[..to.col]);
                    self.lines[from.row].push_str(&line[to.col..]);
                } else {
                    removed.push_str(&line);
                }
            }
            removed
        };
        self.len -= removed.len();
        self.version = self.version.wrapping_add(1);
        self.set_pos(from);
        removed
    }

    pub(super) fn move_cursor(&mut self, to: Move) {
        self.history.sealed = true;
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
            Move::Up => self.screen_row_up(),
            Move::Down => self.screen_row_down(),
            Move::PageUp => (0..self.page.max(1)).for_each(|_| self.screen_row_up()),
            Move::PageDown => (0..self.page.max(1)).for_each(|_| self.screen_row_down()),
        }
    }

    /// One screen row up, at the same column on screen (or the row's end): within the
    /// cursor's wrapped line, or to the last row of the line before. Costs the two
    /// lines involved.
    fn screen_row_up(&mut self) {
        let starts = row_starts(&self.lines[self.row], self.wrap);
        let part = part_of(&starts, self.col);
        let column = width(&self.lines[self.row][starts[part]..self.col]);
        if part > 0 {
            self.col = at_column(&self.lines[self.row], &starts, part - 1, column);
        } else if self.row > 0 {
            self.row -= 1;
            let starts = row_starts(&self.lines[self.row], self.wrap);
            self.col = at_column(&self.lines[self.row], &starts, starts.len() - 1, column);
        }
    }

    /// One screen row down (see [`Draft::screen_row_up`]).
    fn screen_row_down(&mut self) {
        let starts = row_starts(&self.lines[self.row], self.wrap);
        let part = part_of(&starts, self.col);
        let column = width(&self.lines[self.row][starts[part]..self.col]);
        if part + 1 < starts.len() {
            self.col = at_column(&self.lines[self.row], &starts, part + 1, column);
        } else if self.row + 1 < self.lines.len() {
            self.row += 1;
            let starts = row_starts(&self.lines[self.row], self.wrap);
            self.col = at_column(&self.lines[self.row], &starts, 0, column);
        }
    }

    /// Draws the visible part into `area`, lines wrapped at its width (one column is
    /// kept for the cursor after a full row), scrolled so the cursor shows, and the
    /// cursor as one cell in `cursor` style.
    pub(super) fn render(&mut self, buf: &mut Buffer, area: Rect, style: Style, cursor: Style) {
        buf.set_style(area, style);
        if area.width == 0 || area.height == 0 {
            return;
        }
        let (rows, cols) = (usize::from(area.height), usize::from(area.width));
        self.page = rows;
        self.wrap = cols.saturating_sub(1).max(1);
        let cursor_starts = row_starts(&self.lines[self.row], self.wrap);
        let cursor_part = part_of(&cursor_starts, self.col);
        self.scroll_to_cursor(rows, cursor_part);
        let mut y = 0;
        let mut cursor_at = (0, 0);
        'lines: for row in self.top..self.lines.len() {
            let line = &self.lines[row];
            let starts = if row == self.row {
                cursor_starts.clone()
            } else {
                row_starts(line, self.wrap)
            };
            let first = if row == self.top { self.top_part } else { 0 };
            for part in first..starts.len() {
                if y >= rows {
                    break 'lines;
                }
                let end = starts.get(part + 1).copied().unwrap_or(line.len());
                let piece = &line[starts[part]..end];
                draw_row(buf, area.x, area.y + y as u16, cols, piece);
                if row == self.row && part == cursor_part {
                    let x = width(&line[starts[part]..self.col]).min(cols - 1);
                    cursor_at = (x, y);
                }
                y += 1;
            }
        }
        let (cx, cy) = (area.x + cursor_at.0 as u16, area.y + cursor_at.1 as u16);
        buf.set_style(Rect::new(cx, cy, 1, 1), cursor);
    }

    /// Moves the view's top so the cursor's screen row (`part` of its line) is among
    /// the `rows` shown; walks back at most `rows` screen rows from the cursor.
    fn scroll_to_cursor(&mut self, rows: usize, part: usize) {
        if self.top >= self.lines.len() {
            (self.top, self.top_part) = (self.row, 0);
        }
        // The top line may have lost rows (text deleted, a wider view).
        let top_rows = row_starts(&self.lines[self.top], self.wrap).len();
        self.top_part = self.top_part.min(top_rows - 1);
        if (self.row, part) < (self.top, self.top_part) {
            (self.top, self.top_part) = (self.row, part);
            return;
        }
        // Screen rows from the top to the cursor, counting no further than a screen.
        let mut distance = 0;
        for row in self.top..self.row {
            distance += row_starts(&self.lines[row], self.wrap).len();
            if row == self.top {
                distance = distance.saturating_sub(self.top_part);
            }
            if distance >= rows {
                break;
            }
        }
        distance += part;
        if self.top == self.row {
            distance = part.saturating_sub(self.top_part);
        }
        if distance < rows {
            return;
        }
        // The cursor on the last row shown: rows - 1 screen rows above it.
        let mut above = rows - 1;
        if part >= above {
            (self.top, self.top_part) = (self.row, part - above);
            return;
        }
        above -= part;
        for row in (0..self.row).rev() {
            let count = row_starts(&self.lines[row], self.wrap).len();
            if count >= above {
                (self.top, self.top_part) = (row, count - above);
                return;
            }
            above -= count;
        }
        (self.top, self.top_part) = (0, 0);
    }
}

/// Where each screen row of `line` starts (byte offsets; the first is 0) when it is
/// wrapped at `wrap` cells: after the last space that fits, or at the width when a word
/// is longer than a row. Spaces at a break hang at the end of their row. One pass.
pub(super) fn row_starts(line: &str, wrap: usize) -> Vec<usize> {
    let mut starts = vec![0];
    let mut used = 0;
    // Just after the last space on this row, and the width up to there.
    let mut space: Option<(usize, usize)> = None;
    for (i, c) in line.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > wrap && used > 0 && c != ' ' {
            let start = *starts.last().expect("never empty");
            let (at, before) = match space {
                Some((at, before)) if at > start => (at, before),
                _ => (i, used),
            };
            starts.push(at);
            used -= before;
            space = None;
        }
        used += w;
        if c == ' ' {
            space = Some((i + 1, used));
        }
    }
    starts
}

/// Which wrapped row of a line (with row `starts`) byte offset `col` is on.
fn part_of(starts: &[usize], col: usize) -> usize {
    starts.partition_point(|&s| s <= col).saturating_sub(1)
}

/// The offset at display `column` of wrapped row `part`, or that row's last place
/// (before the next row's first character).
fn at_column(line: &str, starts: &[usize], part: usize, column: usize) -> usize {
    let start = starts[part];
    let end = starts.get(part + 1).copied();
    let piece = &line[start..end.unwrap_or(line.len())];
    let at = start + offset_at_column(piece, column);
    match end {
        Some(end) if at >= end => prev_boundary(line, end).max(start),
        _ => at,
    }
}

/// Draws one screen row of text from `x`, at most `cols` cells; a wide character that
/// does not fit is left out, not half drawn.
fn draw_row(buf: &mut Buffer, x0: u16, y: u16, cols: usize, piece: &str) {
    let mut x = 0usize;
    for c in piece.chars() {
        let w = c.width().unwrap_or(0);
        if x + w > cols {
            break;
        }
        if w > 0 {
            let mut utf8 = [0; 4];
            buf.set_stringn(
                x0 + x as u16,
                y,
                c.encode_utf8(&mut utf8),
                w,
                Style::default(),
            );
        }
        x += w;
    }
}

/// Where the cursor ends after `text` is put at `at`.
fn end_of(at: Pos, text: &str) -> Pos {
    match text.rfind('\n') {
        None => Pos {
            row: at.row,
            col: at.col + text.len(),
        },
        Some(i) => Pos {
            row: at.row + text.bytes().filter(|&b| b == b'\n').count(),
            col: text.len() - i - 1,
        },
    }
}

/// Part of a word, as readline has it: alphanumeric, in any script, or a mark that
/// draws on the character before it (so a decomposed "é" stays one word).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || (c.width() == Some(0) && !c.is_control() && !c.is_whitespace())
}

/// Where the word before `col` starts: back over what is not a word, then over a word.
fn word_start_before(line: &str, col: usize) -> usize {
    let mut start = col;
    let mut in_word = false;
    for (i, c) in line[..col].char_indices().rev() {
        if is_word(c) {
            in_word = true;
        } else if in_word {
            break;
        }
        start = i;
    }
    start
}

/// Where the word after `col` ends: over what is not a word, then over a word.
fn word_end_after(line: &str, col: usize) -> usize {
    let mut in_word = false;
    for (i, c) in line[col..].char_indices() {
        if is_word(c) {
            in_word = true;
        } else if in_word {
            return col + i;
        }
    }
    line.len()
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

    fn drawn(d: &mut Draft, w: u16, h: u16) -> Vec<String> {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        d.render(&mut buf, area, Style::default(), Style::default());
        (0..h)
            .map(|y| {
                let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
                row.trim_end().to_string()
            })
            .collect()
    }

    #[test]
    fn the_view_follows_the_cursor() {
        let mut d = Draft::new(&format!("{}\n2\n3\n4", "x".repeat(100)));
        // The cursor is at the end of line 4: lines 3 and 4 show.
        assert_eq!(drawn(&mut d, 10, 2), ["3", "4"]);
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Up);
        // On the last wrapped row of the long line (9 cells a row, one kept for the
        // cursor), scrolled up to it.
        assert_eq!(drawn(&mut d, 10, 2), ["x", "2"]);
        assert_eq!((d.top, d.top_part), (0, 11));
        d.move_cursor(Move::Down);
        d.move_cursor(Move::Down);
        assert_eq!(drawn(&mut d, 10, 2), ["2", "3"]);
        (0..20).for_each(|_| d.move_cursor(Move::Up));
        d.move_cursor(Move::Home);
        assert_eq!(drawn(&mut d, 10, 2), ["xxxxxxxxx", "xxxxxxxxx"]);
        assert_eq!((d.top, d.top_part), (0, 0));
        d.move_cursor(Move::PageDown);
        d.move_cursor(Move::PageDown);
        assert_eq!(d.cursor(), (0, 36));
    }

    #[test]
    fn long_lines_wrap_by_words_and_the_text_keeps_its_own_breaks() {
        assert_eq!(row_starts("", 5), [0]);
        assert_eq!(row_starts("hello world", 20), [0]);
        // The space hangs at the end of the first row.
        assert_eq!(row_starts("hello world", 5), [0, 6]);
        assert_eq!(row_starts("hello world", 8), [0, 6]);
        // A word longer than a row is cut at the width.
        assert_eq!(row_starts("abcdefghij", 4), [0, 4, 8]);
        assert_eq!(row_starts("a abcdefghij", 4), [0, 2, 6, 10]);
        // Wide characters count two cells.
        assert_eq!(row_starts("漢字漢字", 5), [0, 6]);
        let text = "The printer on the third floor is on fire again, and the toner smells odd.";
        let mut d = Draft::new(text);
        let rows = drawn(&mut d, 21, 6);
        assert_eq!(
            rows,
            [
                "The printer on the",
                "third floor is on",
                "fire again, and the",
                "toner smells odd.",
                "",
                ""
            ]
        );
        assert_eq!(d.text(), text, "wrapping adds no line breaks");
    }

    #[test]
    fn the_view_holds_when_the_top_line_loses_rows() {
        let mut d = Draft::new(&format!("{}\nend", "word ".repeat(40)));
        d.move_cursor(Move::Up);
        (0..3).for_each(|_| d.move_cursor(Move::Down));
        drawn(&mut d, 21, 2);
        assert!(d.top_part > 0, "scrolled into the long line");
        // The long line shrinks to one row while the view is inside it.
        d.move_cursor(Move::Up);
        d.move_cursor(Move::End);
        while d.lines()[0].len() > 4 {
            d.backspace();
        }
        d.move_cursor(Move::Down);
        assert_eq!(drawn(&mut d, 21, 2), ["word", "end"]);
    }

    #[test]
    fn up_and_down_move_by_screen_rows() {
        let mut d = Draft::new("one two three four five\nsix");
        drawn(&mut d, 11, 5); // rows: "one two ", "three four ", "five" / "six"
        assert_eq!(row_starts(&d.lines()[0], d.wrap), [0, 8, 19]);
        d.move_cursor(Move::Up); // from "six" end (column 3) to "five", column 3
        assert_eq!(d.cursor(), (0, 22));
        d.move_cursor(Move::Up);
        assert_eq!(d.cursor(), (0, 11), "\"thr|ee\"");
        d.move_cursor(Move::Up);
        assert_eq!(d.cursor(), (0, 3));
        d.move_cursor(Move::Up);
        assert_eq!(d.cursor(), (0, 3), "nothing above");
        d.move_cursor(Move::End);
        d.move_cursor(Move::Down); // from the end of the line to "six"
        assert_eq!(d.cursor(), (1, 3));
        // A row's end is before the next row's first character.
        let mut d = Draft::new("abcdefgh");
        drawn(&mut d, 5, 3); // "abcd", "efgh"
        d.move_cursor(Move::Up);
        assert_eq!(d.cursor(), (0, 3));
        d.move_cursor(Move::Down);
        assert_eq!(d.cursor(), (0, 7));
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

    #[test]
    fn typing_and_backspace_runs_are_one_step_each() {
        let mut d = typed("hello wor");
        d.backspace();
        d.backspace();
        d.backspace();
        assert_eq!(d.text(), "hello ");
        assert!(d.undo());
        assert_eq!((d.text().as_str(), d.cursor()), ("hello wor", (0, 9)));
        assert!(d.undo());
        assert_eq!((d.text().as_str(), d.cursor()), ("", (0, 0)));
        assert!(!d.undo());
        assert!(d.redo());
        assert!(d.redo());
        assert_eq!((d.text().as_str(), d.cursor()), ("hello ", (0, 6)));
        assert!(!d.redo());

        // A cursor move or a line break ends a run; so does Delete after typing.
        let mut d = typed("ab");
        d.move_cursor(Move::Left);
        d.move_cursor(Move::Right);
        d.insert_char('c');
        d.newline();
        d.insert_char('d');
        d.move_cursor(Move::Home);
        d.delete();
        assert_eq!(d.text(), "abc\n");
        let undone: Vec<String> = std::iter::from_fn(|| d.undo().then(|| d.text())).collect();
        assert_eq!(undone, ["abc\nd", "abc\n", "abc", "ab", ""]);

        // Runs of Delete are one step too, and the cursor goes back where it was.
        let mut d = Draft::new("xyz abc");
        d.move_cursor(Move::Home);
        d.delete();
        d.delete();
        d.delete();
        assert_eq!(d.text(), " abc");
        d.move_cursor(Move::End);
        assert!(d.undo());
        assert_eq!((d.text().as_str(), d.cursor()), ("xyz abc", (0, 0)));
    }

    #[test]
    fn a_paste_is_one_step_and_new_edits_drop_the_redo() {
        let mut d = typed("a");
        d.insert_str("one\ntwo\r\nthree");
        assert_eq!(d.text(), "aone\ntwo\nthree");
        assert!(d.undo());
        assert_eq!((d.text().as_str(), d.cursor()), ("a", (0, 1)));
        assert!(d.redo());
        assert_eq!(d.cursor(), (2, 5));
        assert!(d.undo());
        d.insert_char('b');
        assert!(!d.redo(), "a new edit drops what was undone");
        assert_eq!(d.text(), "ab");
        assert!(
            !Draft::new("made with text").undo(),
            "a new draft has no history"
        );
    }

    #[test]
    fn the_history_keeps_the_newest_steps() {
        let mut d = Draft::new("");
        for _ in 0..HISTORY_STEPS + 50 {
            d.newline();
        }
        let mut undone = 0;
        while d.undo() {
            undone += 1;
        }
        assert_eq!(undone, HISTORY_STEPS);
        assert_eq!(d.lines().len(), 51);
        assert_eq!(d.len, 50);

        // Bytes are bounded too: big deletes, each a step, drop the oldest.
        let mut d = Draft::new(&"p".repeat(DRAFT_MAX / 2));
        for _ in 0..20 {
            d.move_cursor(Move::Home);
            d.kill_line();
            d.insert_str(&"q".repeat(DRAFT_MAX / 2));
        }
        assert!(d.history.bytes <= HISTORY_BYTES, "{}", d.history.bytes);
        assert!(d.history.undo.len() < 40);
    }

    #[test]
    fn undo_and_redo_respect_the_cap() {
        let full = "a".repeat(DRAFT_MAX);
        let mut d = Draft::new(&full);
        d.move_cursor(Move::Home);
        d.kill_line();
        assert!(d.is_empty());
        assert!(d.insert_str(&"b".repeat(10)));
        assert!(d.undo());
        assert!(d.undo());
        assert_eq!((d.len, d.text() == full), (DRAFT_MAX, true));
        assert!(!d.insert_char('c'), "still full after the undo");
        assert!(d.redo());
        assert!(d.redo());
        assert_eq!(d.text(), "b".repeat(10));
    }

    #[test]
    fn word_motions_and_deletes_know_unicode_words() {
        // "e\u{301}" is a decomposed é: its mark belongs to the word.
        let mut d = Draft::new("naïve, cafe\u{301} 漢字!  Straße");
        d.word_left();
        assert_eq!(&d.lines[0][d.col..], "Straße");
        d.word_left();
        assert_eq!(&d.lines[0][d.col..], "漢字!  Straße");
        d.word_left();
        assert_eq!(&d.lines[0][d.col..], "cafe\u{301} 漢字!  Straße");
        d.word_right();
        assert_eq!(&d.lines[0][d.col..], " 漢字!  Straße");
        d.word_right();
        assert_eq!(&d.lines[0][d.col..], "!  Straße");
        d.delete_word_before();
        assert_eq!(d.text(), "naïve, cafe\u{301} !  Straße");
        d.delete_word_after();
        assert_eq!(d.text(), "naïve, cafe\u{301} ");
        d.delete_word_before();
        assert_eq!(d.text(), "naïve, ");
        d.move_cursor(Move::Home);
        d.delete_word_after();
        assert_eq!((d.text().as_str(), d.col), (", ", 0));
        assert!(d.undo());
        assert!(d.undo());
        assert_eq!(d.text(), "naïve, cafe\u{301} ");

        // Across lines: motions step over the break, deletes join.
        let mut d = Draft::new("one\ntwo");
        d.move_cursor(Move::Home);
        d.word_left();
        assert_eq!(d.cursor(), (0, 3));
        d.word_right();
        assert_eq!(d.cursor(), (1, 0));
        d.delete_word_before();
        assert_eq!((d.text().as_str(), d.cursor()), ("onetwo", (0, 3)));
        d.newline();
        d.move_cursor(Move::Up);
        d.move_cursor(Move::End);
        d.delete_word_after();
        assert_eq!(d.text(), "onetwo");
    }

    #[test]
    fn ctrl_k_deletes_to_the_end_then_joins() {
        let mut d = Draft::new("first line\nsecond\n");
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Up);
        d.move_cursor(Move::Home);
        d.word_right();
        d.kill_line();
        assert_eq!(d.text(), "first\nsecond\n");
        d.kill_line();
        assert_eq!(d.text(), "firstsecond\n");
        d.kill_line();
        d.kill_line();
        assert_eq!(d.text(), "first");
        d.kill_line();
        assert_eq!(d.text(), "first", "nothing after the end");
        while d.undo() {}
        assert_eq!(
            (d.text().as_str(), d.cursor()),
            ("first line\nsecond\n", (0, 5))
        );
    }

    /// Typing a lot, then deleting it key by key, then undoing and redoing it all: each
    /// key and each step costs its own size, not the whole draft.
    #[test]
    fn typing_deleting_and_undoing_a_lot_is_linear() {
        let started = std::time::Instant::now();
        let mut d = Draft::new("");
        for i in 0..200_000 {
            assert!(d.insert_char(if i % 2 == 0 { 'k' } else { 'é' }));
        }
        for _ in 0..100_000 {
            d.backspace();
        }
        let half = d.text();
        assert_eq!(half.chars().count(), 100_000);
        assert!(d.undo());
        assert_eq!(d.len, 300_000);
        assert!(d.undo());
        assert!(d.is_empty());
        assert!(d.redo() && d.redo());
        assert_eq!(d.text(), half);
        // Many lines, many steps: the history keeps the newest and undoes them quickly.
        for i in 0..200_000 {
            d.insert_char(if i % 100 == 99 { '\n' } else { 'x' });
        }
        while d.undo() {}
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    mod undo_props {
        use super::super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Char(char),
            Newline,
            Tab,
            Backspace,
            Delete,
            Move(Move),
            WordLeft,
            WordRight,
            DeleteWordBefore,
            DeleteWordAfter,
            KillLine,
            Paste(String),
        }

        fn op() -> impl Strategy<Value = Op> {
            let moves = prop::sample::select(vec![
                Move::Left,
                Move::Right,
                Move::Up,
                Move::Down,
                Move::Home,
                Move::End,
                Move::PageUp,
                Move::PageDown,
            ]);
            let chars = prop::sample::select(vec!['a', 'Z', 'é', '漢', '😀', '\u{301}', ' ', ',']);
            prop_oneof![
                4 => chars.prop_map(Op::Char),
                1 => Just(Op::Newline),
                1 => Just(Op::Tab),
                2 => Just(Op::Backspace),
                2 => Just(Op::Delete),
                3 => moves.prop_map(Op::Move),
                1 => Just(Op::WordLeft),
                1 => Just(Op::WordRight),
                1 => Just(Op::DeleteWordBefore),
                1 => Just(Op::DeleteWordAfter),
                1 => Just(Op::KillLine),
                1 => "[a é\n漢]{0,12}".prop_map(Op::Paste),
            ]
        }

        fn apply(d: &mut Draft, op: &Op) {
            match op {
                Op::Char(c) => _ = d.insert_char(*c),
                Op::Newline => _ = d.newline(),
                Op::Tab => _ = d.tab(),
                Op::Backspace => d.backspace(),
                Op::Delete => d.delete(),
                Op::Move(to) => d.move_cursor(*to),
                Op::WordLeft => d.word_left(),
                Op::WordRight => d.word_right(),
                Op::DeleteWordBefore => d.delete_word_before(),
                Op::DeleteWordAfter => d.delete_word_after(),
                Op::KillLine => d.kill_line(),
                Op::Paste(text) => _ = d.insert_str(text),
            }
        }

        proptest! {
            /// Random edits, then undo everything: the first text, and the cursor where
            /// the first edit found it; then redo everything: the last text, and the
            /// cursor where the last edit left it. Fewer edits than the history holds.
            #[test]
            fn undo_and_redo_everything_round_trips(
                start in "[ab é\n]{0,20}",
                ops in prop::collection::vec(op(), 0..120),
            ) {
                let mut d = Draft::new(&start);
                let mut first_before = None;
                let mut last_after = d.cursor();
                for op in &ops {
                    let (text, cursor) = (d.text(), d.cursor());
                    apply(&mut d, op);
                    prop_assert!(d.lines[d.row].is_char_boundary(d.col));
                    prop_assert_eq!(d.len, d.text().len());
                    if d.text() != text {
                        first_before.get_or_insert(cursor);
                        last_after = d.cursor();
                    }
                }
                let end = d.text();
                while d.undo() {
                    prop_assert_eq!(d.len, d.text().len());
                }
                prop_assert_eq!(d.text(), start.clone());
                if let Some(cursor) = first_before {
                    prop_assert_eq!(d.cursor(), cursor);
                }
                while d.redo() {}
                prop_assert_eq!(d.text(), end);
                if first_before.is_some() {
                    prop_assert_eq!(d.cursor(), last_after);
                }
                prop_assert_eq!(d.len, d.text().len());
            }
        }
    }
}
