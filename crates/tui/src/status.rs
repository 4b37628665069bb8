//! The status line at the bottom: who is logged in, where they are, and either the
//! latest message or the keys that matter right now.
//!
//! A message is never cut: one too long for the line after "who" and "where" wraps
//! onto more lines (the status area grows, the screen above gives them up while the
//! message shows), up to [`MAX_LINES`]; past that the last line says where the whole
//! text is. Every message is also kept, the last [`HISTORY`] of them, for the message
//! history popup (`H`).

use super::display;
use super::theme::{Role, Theme};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use sealdesk_model::Timestamp;
use std::collections::VecDeque;
use unicode_width::UnicodeWidthStr;

/// Ticks (about a second each) a message stays up; errors stay longer, to be read, and
/// long messages longer still.
const INFO_TICKS: u8 = 5;
const ERROR_TICKS: u8 = 10;
/// One more tick for every this many characters, up to [`MAX_TICKS`].
const CHARS_PER_TICK: usize = 20;
const MAX_TICKS: u8 = 30;

/// Messages kept for the history popup.
pub(crate) const HISTORY: usize = 50;
/// Lines the status area grows to for one message; the screen keeps the rest.
const MAX_LINES: usize = 4;
/// Continuation lines start under nothing: a small indent tells them from the first.
const INDENT: &str = "  ";
/// Ends a message that does not fit even in [`MAX_LINES`].
const MORE: &str = "… (H: whole message)";

struct Message {
    text: String,
    error: bool,
    ticks_left: u8,
}

/// A message as the history keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Logged {
    pub text: String,
    pub error: bool,
    pub at: Timestamp,
    /// A running count ("3 new tickets"): the next count replaces it in the history.
    counting: bool,
}

#[derive(Default)]
pub(crate) struct StatusLine {
    message: Option<Message>,
    history: VecDeque<Logged>,
}

/// What the status line shows besides the message.
pub(crate) struct StatusView<'a> {
    /// "alice (agent)"
    pub who: &'a str,
    /// "Queue › #12"
    pub crumbs: &'a str,
    pub hints: &'a [(String, &'static str)],
}

impl StatusView<'_> {
    fn prefix_width(&self) -> usize {
        // " who " + " crumbs " + "│ "
        self.who.width() + self.crumbs.width() + 6
    }
}

impl StatusLine {
    pub(crate) fn info(&mut self, text: &str) {
        self.show(text, false, false);
    }

    pub(crate) fn error(&mut self, text: &str) {
        self.show(text, true, false);
    }

    /// A running count: shown like [`info`](Self::info), but the history keeps only
    /// the latest of a run of counts.
    pub(crate) fn count(&mut self, text: &str) {
        self.show(text, false, true);
    }

    /// Messages may quote mail or a store error: one clean line only.
    fn show(&mut self, text: &str, error: bool, counting: bool) {
        let first = text.lines().next().unwrap_or("");
        let text = sealdesk_model::sanitize::line(first).into_owned();
        let base = if error { ERROR_TICKS } else { INFO_TICKS };
        let extra = (text.chars().count() / CHARS_PER_TICK).min(MAX_TICKS as usize) as u8;
        let logged = Logged {
            text: text.clone(),
            error,
            at: Timestamp::now(),
            counting,
        };
        if counting && self.history.back().is_some_and(|last| last.counting) {
            self.history.pop_back();
        }
        self.history.push_back(logged);
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        self.message = Some(Message {
            text,
            error,
            ticks_left: base.saturating_add(extra).min(MAX_TICKS),
        });
    }

    /// The messages kept, oldest first.
    pub(crate) fn history(&self) -> Vec<Logged> {
        self.history.iter().cloned().collect()
    }

    /// Counts a tick down; true when a message has just expired.
    pub(crate) fn tick(&mut self) -> bool {
        let Some(message) = &mut self.message else {
            return false;
        };
        message.ticks_left = message.ticks_left.saturating_sub(1);
        if message.ticks_left == 0 {
            self.message = None;
            return true;
        }
        false
    }

    /// The message as the lines it takes at `width`: the first after the prefix, the
    /// others indented; at most [`MAX_LINES`], the last then ending in [`MORE`].
    fn message_lines(&self, width: u16, view: &StatusView) -> Vec<String> {
        let Some(message) = &self.message else {
            return Vec::new();
        };
        let width = width as usize;
        let rest_width = width.saturating_sub(INDENT.len()).max(1);
        let first_width = width.saturating_sub(view.prefix_width());
        let mut lines = Vec::new();
        let mut rest = message.text.as_str();
        // Too little room after the prefix for a word or two: start on the next line.
        if first_width >= 12 || message.text.width() <= first_width {
            let first = display::wrap(rest, first_width.max(1)).swap_remove(0);
            rest = rest[first.len()..].trim_start();
            lines.push(first);
        } else {
            lines.push(String::new());
        }
        if !rest.is_empty() {
            lines.extend(display::wrap(rest, rest_width));
        }
        if lines.len() > MAX_LINES {
            lines.truncate(MAX_LINES);
            let last = lines.last_mut().expect("MAX_LINES > 0");
            let room = rest_width.saturating_sub(MORE.width());
            let kept: String = display::wrap(last, room.max(1)).swap_remove(0);
            *last = format!("{kept}{MORE}");
        }
        lines
    }

    /// Rows the status area needs at `width`: one, or more while a long message shows.
    pub(crate) fn height(&self, width: u16, view: &StatusView) -> u16 {
        self.message_lines(width, view).len().max(1) as u16
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, view: &StatusView) {
        let bar = theme.style(Role::StatusBar);
        let key = theme.style(Role::StatusBarKey);
        let mut spans = vec![
            Span::styled(format!(" {} ", view.who), key),
            Span::styled(format!(" {} ", view.crumbs), bar),
            Span::styled("│ ", bar),
        ];
        let mut lines = Vec::new();
        match &self.message {
            Some(message) => {
                let role = if message.error {
                    Role::MessageError
                } else {
                    Role::MessageInfo
                };
                let style = theme.style(role);
                let mut pieces = self.message_lines(area.width, view).into_iter();
                spans.push(Span::styled(pieces.next().unwrap_or_default(), style));
                lines.push(Line::from(spans));
                for piece in pieces {
                    lines.push(Line::from(vec![
                        Span::styled(INDENT, bar),
                        Span::styled(piece, style),
                    ]));
                }
            }
            None => {
                for (keys, hint) in view.hints {
                    spans.push(Span::styled(keys.clone(), key));
                    spans.push(Span::styled(format!(" {hint}  "), bar));
                }
                lines.push(Line::from(spans));
            }
        }
        frame.render_widget(Paragraph::new(lines).style(bar), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::Theme;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    #[test]
    fn messages_are_one_clean_line_and_expire() {
        let mut status = StatusLine::default();
        status.error("disk full\nsecond line \u{1b}[2J");
        assert_eq!(status.message.as_ref().unwrap().text, "disk full");
        for _ in 1..ERROR_TICKS {
            assert!(!status.tick());
        }
        assert!(status.tick());
        assert!(status.message.is_none());
        status.info("a\u{202e}b");
        assert_eq!(status.message.as_ref().unwrap().text, "ab");
    }

    const VIEW: StatusView = StatusView {
        who: "alice (agent)",
        crumbs: "Queue › #12 › Ann Lee",
        hints: &[],
    };

    /// The status area drawn at `width`, as the rows of text it shows.
    fn drawn(status: &StatusLine, width: u16) -> Vec<String> {
        let height = status.height(width, &VIEW);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| status.draw(frame, frame.area(), &Theme::default(), &VIEW))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn a_long_message_wraps_and_is_shown_whole_at_80_columns() {
        let mut status = StatusLine::default();
        let text = "only an admin can erase a customer: ask an admin to run \
                    sealdesk customer erase ann@example.com --request 7";
        status.error(text);
        let rows = drawn(&status, 80);
        assert!(rows.len() > 1, "{rows:#?}");
        assert!(rows[0].starts_with(" alice (agent)  Queue › #12 › Ann Lee"));
        // Every word is on screen, in order.
        let shown = rows.join(" ");
        let shown: Vec<&str> = shown.split_whitespace().collect();
        let words: Vec<&str> = text.split_whitespace().collect();
        let at = shown.iter().position(|w| *w == "only").unwrap();
        assert_eq!(&shown[at..at + words.len()], &words[..], "{rows:#?}");
        // A path with no spaces is split, not cut.
        let path = format!(
            "export written to /var/lib/sealdesk/exports/{}.tar",
            "cus_bd9".repeat(9)
        );
        status.info(&path);
        let rows = drawn(&status, 80);
        assert!(rows.len() > 1, "{rows:#?}");
        let glued: String = rows.concat().split_whitespace().collect();
        assert!(glued.contains(&path.replace(' ', "")), "{rows:#?}");
        // A short one stays on one line.
        status.info("#12 is now pending");
        assert_eq!(drawn(&status, 80).len(), 1);
    }

    #[test]
    fn a_huge_message_stops_at_four_lines_and_says_where_the_rest_is() {
        let mut status = StatusLine::default();
        status.error(&"word ".repeat(200));
        let rows = drawn(&status, 80);
        assert_eq!(rows.len(), MAX_LINES);
        assert!(rows[3].trim_end().ends_with(MORE), "{rows:#?}");
        // The history has all of it.
        assert_eq!(status.history()[0].text, "word ".repeat(200));
    }

    #[test]
    fn the_history_keeps_the_last_fifty_and_one_of_a_run_of_counts() {
        let mut status = StatusLine::default();
        for i in 0..60 {
            status.info(&format!("message {i}"));
        }
        status.count("1 new ticket");
        status.count("2 new tickets");
        status.error("disk full");
        let history = status.history();
        assert_eq!(history.len(), HISTORY);
        let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts[0], "message 12");
        assert_eq!(texts[HISTORY - 3], "message 59");
        assert_eq!(texts[HISTORY - 2], "2 new tickets");
        assert_eq!(texts[HISTORY - 1], "disk full");
        assert!(history[HISTORY - 1].error && !history[0].error);
        // The message expires; the history stays.
        while !status.tick() {}
        assert_eq!(status.history().len(), HISTORY);
    }
}
