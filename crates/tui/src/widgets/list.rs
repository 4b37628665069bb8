//! Moving through a list, once for every list screen: the movement keys (j/k and the
//! arrows, PgUp/PgDn, g/G and Home/End), what each does, and the window of rows in view.
//!
//! [`ScrollList`] is for lists with a selected row (queue, requests, quarantine, audit
//! log): the selection moves, and the window follows it. [`ScrollView`] is for text
//! scrolled by lines (a ticket's thread): the top line moves, and the view follows the
//! end until the agent scrolls away from it, so new messages show up. Both learn the
//! height in view when they are drawn (the key handler does not know it), as gitui's
//! `VerticalScroll` does.

use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, Binding, HelpSection};
use crate::theme::{Role, Theme};
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table, TableState};
use ratatui::Frame;
use std::ops::Range;

/// A step through a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Move {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
}

/// The movement keys, the same on every list; the help words are each list's own.
const MOVES: &[Binding<Move>] = &[
    bind(&[ch('j'), key(KeyCode::Down)], Move::Down, "down", None),
    bind(&[ch('k'), key(KeyCode::Up)], Move::Up, "up", None),
    bind(&[key(KeyCode::PageDown)], Move::PageDown, "page down", None),
    bind(&[key(KeyCode::PageUp)], Move::PageUp, "page up", None),
    bind(&[ch('g'), key(KeyCode::Home)], Move::Top, "top", None),
    bind(&[ch('G'), key(KeyCode::End)], Move::Bottom, "bottom", None),
];

/// The page size before the first draw has measured one.
const FIRST_PAGE: usize = 10;

/// What the movement keys do in one list, for its help page ("next ticket").
pub(crate) struct Words {
    pub down: &'static str,
    pub up: &'static str,
    pub top: &'static str,
    pub bottom: &'static str,
}

impl Words {
    fn of(&self, step: Move) -> &'static str {
        match step {
            Move::Down => self.down,
            Move::Up => self.up,
            Move::PageDown => "page down",
            Move::PageUp => "page up",
            Move::Top => self.top,
            Move::Bottom => self.bottom,
        }
    }
}

/// The movement key `pressed` stands for, if it is one.
pub(crate) fn lookup(pressed: KeyEvent) -> Option<Move> {
    keymap::lookup(MOVES, pressed)
}

/// A screen's help section: the movement keys in its words, then the rest of its table.
pub(crate) fn help_section<A>(
    title: &'static str,
    words: &Words,
    rest: &[Binding<A>],
) -> HelpSection {
    let moves: Vec<Binding<Move>> = MOVES
        .iter()
        .map(|b| bind(b.keys, b.action, words.of(b.action), None))
        .collect();
    let mut section = keymap::help_section(title, &moves);
    section.rows.extend(keymap::help_section(title, rest).rows);
    section
}

/// Where `step` leads from `at` in a list whose last position is `last`.
fn step_from(at: usize, step: Move, page: usize, last: usize) -> usize {
    let to = match step {
        Move::Down => at.saturating_add(1),
        Move::Up => at.saturating_sub(1),
        Move::PageDown => at.saturating_add(page),
        Move::PageUp => at.saturating_sub(page),
        Move::Top => 0,
        Move::Bottom => last,
    };
    to.min(last)
}

/// Keeps `selected` inside a window of `height` rows starting at `offset`, and returns
/// the new offset; when the list shrank under the window, it shows the list's end
/// rather than empty rows.
pub(crate) fn scroll_window(selected: usize, offset: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let offset = if selected < offset {
        selected
    } else if selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    };
    offset.min(len.saturating_sub(height))
}

/// A list with one selected row and the window of rows in view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScrollList {
    selected: usize,
    /// First row in view; kept by [`ScrollList::keep_in_view`], which knows the height.
    offset: usize,
    /// Rows in view at the last draw, for paging.
    page: usize,
}

impl Default for ScrollList {
    fn default() -> Self {
        ScrollList {
            selected: 0,
            offset: 0,
            page: FIRST_PAGE,
        }
    }
}

impl ScrollList {
    pub(crate) fn selected(&self) -> usize {
        self.selected
    }

    /// Moves the selection if `pressed` is a movement key, in a list of `len` rows; a
    /// key that is not one is left to the screen (`None`).
    pub(crate) fn handle_key(&mut self, pressed: KeyEvent, len: usize) -> Option<Move> {
        let step = lookup(pressed)?;
        self.apply(step, len);
        Some(step)
    }

    pub(crate) fn apply(&mut self, step: Move, len: usize) {
        self.selected = step_from(self.selected, step, self.page, len.saturating_sub(1));
    }

    /// Selects row `i`, or the last row if the list is shorter.
    pub(crate) fn select(&mut self, i: usize, len: usize) {
        self.selected = i.min(len.saturating_sub(1));
    }

    /// Keeps the selection on a row after the list changed to `len` rows.
    pub(crate) fn clamp(&mut self, len: usize) {
        self.select(self.selected, len);
    }

    /// Records that `height` rows are in view, moves the window so the selection is in
    /// it, and returns the rows to draw.
    pub(crate) fn keep_in_view(&mut self, height: usize, len: usize) -> Range<usize> {
        self.page = height.max(1);
        self.offset = scroll_window(self.selected, self.offset, self.page, len);
        self.offset..(self.offset + self.page).min(len)
    }

    /// Draws `rows` (those of the window [`keep_in_view`](Self::keep_in_view) returned)
    /// as a table under `header`, the selected row highlighted.
    pub(crate) fn render_table<'a>(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        header: Row<'a>,
        rows: impl IntoIterator<Item = Row<'a>>,
        widths: impl IntoIterator<Item = Constraint>,
    ) {
        let table = Table::new(rows, widths)
            .header(header.style(theme.style(Role::Header)))
            .row_highlight_style(theme.style(Role::Selected));
        let in_view = self.selected.saturating_sub(self.offset);
        let mut state = TableState::default().with_selected(Some(in_view));
        frame.render_stateful_widget(table, area, &mut state);
    }
}

/// Text scrolled by lines, following its end until scrolled away from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScrollView {
    /// First line in view; `None` follows the end.
    top: Option<usize>,
    /// Lines in view and the largest useful top line, as of the last draw.
    page: usize,
    max_top: usize,
}

impl Default for ScrollView {
    fn default() -> Self {
        ScrollView {
            top: None,
            page: FIRST_PAGE,
            max_top: 0,
        }
    }
}

impl ScrollView {
    /// Scrolls if `pressed` is a movement key; a key that is not one is left to the
    /// screen (`None`).
    pub(crate) fn handle_key(&mut self, pressed: KeyEvent) -> Option<Move> {
        let step = lookup(pressed)?;
        self.apply(step);
        Some(step)
    }

    pub(crate) fn apply(&mut self, step: Move) {
        let at = self.top.unwrap_or(self.max_top);
        let to = step_from(at, step, self.page, self.max_top);
        self.top = (to < self.max_top).then_some(to);
    }

    /// Shows the lines from `line` on (clamped to the last page when drawn).
    pub(crate) fn show_from(&mut self, line: usize) {
        self.top = Some(line);
    }

    /// Follows the end again (after sending a message, say).
    pub(crate) fn follow_end(&mut self) {
        self.top = None;
    }

    /// Records that `height` of `total` lines are in view and returns the lines to draw.
    pub(crate) fn keep_in_view(&mut self, height: usize, total: usize) -> Range<usize> {
        self.page = height.max(1);
        self.max_top = total.saturating_sub(height);
        let first = self.top.unwrap_or(self.max_top).min(self.max_top);
        first..first + self.page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Modifiers;

    const WORDS: Words = Words {
        down: "next thing",
        up: "previous thing",
        top: "first thing",
        bottom: "last thing",
    };

    fn press(list: &mut ScrollList, code: KeyCode, len: usize) -> usize {
        list.handle_key(KeyEvent::plain(code), len);
        list.selected()
    }

    #[test]
    fn window_follows_the_selection() {
        assert_eq!(scroll_window(0, 0, 10, 100), 0);
        assert_eq!(scroll_window(9, 0, 10, 100), 0);
        assert_eq!(scroll_window(10, 0, 10, 100), 1);
        assert_eq!(scroll_window(99_999, 0, 20, 100_000), 99_980);
        assert_eq!(scroll_window(5, 50, 10, 100), 5);
        // The list shrank under the window: show its end, not empty rows.
        assert_eq!(scroll_window(3, 40, 10, 12), 2);
        assert_eq!(scroll_window(0, 0, 0, 0), 0);
    }

    #[test]
    fn keys_move_the_selection_and_stop_at_the_ends() {
        let mut list = ScrollList::default();
        assert_eq!(press(&mut list, KeyCode::Up, 50), 0);
        assert_eq!(press(&mut list, KeyCode::Down, 50), 1);
        assert_eq!(
            list.handle_key(KeyEvent::plain(KeyCode::Char('j')), 50),
            Some(Move::Down)
        );
        assert_eq!(list.selected(), 2);
        list.handle_key(KeyEvent::plain(KeyCode::Char('k')), 50);
        assert_eq!(list.selected(), 1);
        assert_eq!(press(&mut list, KeyCode::End, 50), 49);
        assert_eq!(press(&mut list, KeyCode::Down, 50), 49);
        assert_eq!(press(&mut list, KeyCode::Home, 50), 0);
        // Shift is folded into the character: `G` with a stray shift flag is still End.
        let shifted = KeyEvent::new(KeyCode::Char('G'), Modifiers::SHIFT);
        assert_eq!(list.handle_key(shifted, 50), Some(Move::Bottom));
        assert_eq!(list.selected(), 49);
        list.handle_key(KeyEvent::plain(KeyCode::Char('g')), 50);
        assert_eq!(list.selected(), 0);
        // Other keys are the screen's.
        assert_eq!(list.handle_key(KeyEvent::plain(KeyCode::Enter), 50), None);
        assert_eq!(list.handle_key(KeyEvent::ctrl('j'), 50), None);
        assert_eq!(list.selected(), 0);
    }

    #[test]
    fn a_page_is_the_height_last_drawn() {
        let mut list = ScrollList::default();
        // Before any draw a page is ten rows.
        assert_eq!(press(&mut list, KeyCode::PageDown, 100), 10);
        assert_eq!(list.keep_in_view(7, 100), 4..11);
        assert_eq!(press(&mut list, KeyCode::PageDown, 100), 17);
        assert_eq!(press(&mut list, KeyCode::PageUp, 100), 10);
        assert_eq!(press(&mut list, KeyCode::PageUp, 100), 3);
        assert_eq!(press(&mut list, KeyCode::PageUp, 100), 0);
        list.select(95, 100);
        assert_eq!(press(&mut list, KeyCode::PageDown, 100), 99);
        // A height of zero still moves by one row.
        list.keep_in_view(0, 100);
        assert_eq!(press(&mut list, KeyCode::PageUp, 100), 98);
    }

    #[test]
    fn keep_in_view_scrolls_only_when_the_selection_leaves_the_window() {
        let mut list = ScrollList::default();
        assert_eq!(list.keep_in_view(5, 20), 0..5);
        list.select(4, 20);
        assert_eq!(list.keep_in_view(5, 20), 0..5);
        list.apply(Move::Down, 20);
        assert_eq!(list.keep_in_view(5, 20), 1..6);
        list.select(3, 20);
        assert_eq!(list.keep_in_view(5, 20), 1..6, "still in view: no jump");
        list.select(0, 20);
        assert_eq!(list.keep_in_view(5, 20), 0..5);
        // Fewer rows than the height: all of them.
        assert_eq!(list.keep_in_view(5, 3), 0..3);
    }

    #[test]
    fn clamp_after_the_list_shrinks() {
        let mut list = ScrollList::default();
        list.select(40, 50);
        assert_eq!(list.keep_in_view(10, 50), 31..41);
        list.clamp(12);
        assert_eq!(list.selected(), 11);
        // The window shows the end of the shorter list, not empty rows.
        assert_eq!(list.keep_in_view(10, 12), 2..12);
        list.clamp(50);
        assert_eq!(list.selected(), 11, "growing keeps the selection");
        list.select(30, 12);
        assert_eq!(list.selected(), 11);
    }

    #[test]
    fn an_empty_list_stays_at_zero() {
        let mut list = ScrollList::default();
        for code in [
            KeyCode::Down,
            KeyCode::Up,
            KeyCode::PageDown,
            KeyCode::PageUp,
            KeyCode::Home,
            KeyCode::End,
        ] {
            assert_eq!(press(&mut list, code, 0), 0, "{code:?}");
        }
        list.clamp(0);
        assert_eq!(list.selected(), 0);
        assert_eq!(list.keep_in_view(10, 0), 0..0);
    }

    #[test]
    fn a_view_follows_the_end_until_scrolled_away() {
        let mut view = ScrollView::default();
        assert_eq!(view.keep_in_view(10, 25), 15..25);
        view.handle_key(KeyEvent::plain(KeyCode::Up));
        assert_eq!(view.keep_in_view(10, 25), 14..24);
        // Scrolled away, new lines do not move the view.
        assert_eq!(view.keep_in_view(10, 40), 14..24);
        view.apply(Move::PageDown);
        assert_eq!(view.keep_in_view(10, 40), 24..34);
        // Reaching the end follows it again.
        view.apply(Move::PageDown);
        assert_eq!(view.keep_in_view(10, 40), 30..40);
        assert_eq!(view.keep_in_view(10, 45), 35..45);
        view.apply(Move::Top);
        assert_eq!(view.keep_in_view(10, 45), 0..10);
        view.apply(Move::PageUp);
        assert_eq!(view.keep_in_view(10, 45), 0..10);
        view.apply(Move::Bottom);
        assert_eq!(view.keep_in_view(10, 50), 40..50);
        view.apply(Move::Top);
        view.follow_end();
        assert_eq!(view.keep_in_view(10, 50), 40..50);
        // Text shorter than the view: from its first line, whatever the keys.
        view.apply(Move::Down);
        assert_eq!(view.keep_in_view(10, 3), 0..10);
        assert_eq!(view.handle_key(KeyEvent::plain(KeyCode::Char('r'))), None);
    }

    #[test]
    fn help_lists_the_moves_in_the_lists_words_then_the_rest() {
        const REST: &[Binding<()>] = &[bind(&[key(KeyCode::Esc)], (), "back", Some("back"))];
        let section = help_section("Things", &WORDS, REST);
        let rows: Vec<(&str, &str)> = section.rows.iter().map(|(k, h)| (k.as_str(), *h)).collect();
        assert_eq!(
            rows,
            [
                ("j, Down", "next thing"),
                ("k, Up", "previous thing"),
                ("PgDn", "page down"),
                ("PgUp", "page up"),
                ("g, Home", "first thing"),
                ("G, End", "last thing"),
                ("Esc", "back"),
            ]
        );
        assert_eq!(section.title, "Things");
    }
}
