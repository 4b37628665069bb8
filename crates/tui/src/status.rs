//! The status line at the bottom: who is logged in, where they are, and either the
//! latest message or the keys that matter right now.

use super::theme::{Role, Theme};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Ticks (about a second each) a message stays up; errors stay longer, to be read.
const INFO_TICKS: u8 = 5;
const ERROR_TICKS: u8 = 10;

struct Message {
    text: String,
    error: bool,
    ticks_left: u8,
}

#[derive(Default)]
pub(crate) struct StatusLine {
    message: Option<Message>,
}

/// What the status line shows besides the message.
pub(crate) struct StatusView<'a> {
    /// "alice (agent)"
    pub who: &'a str,
    /// "Queue › #12"
    pub crumbs: &'a str,
    pub hints: &'a [(String, &'static str)],
}

impl StatusLine {
    pub(crate) fn info(&mut self, text: &str) {
        self.show(text, false);
    }

    pub(crate) fn error(&mut self, text: &str) {
        self.show(text, true);
    }

    /// Messages may quote mail or a store error: one clean line only.
    fn show(&mut self, text: &str, error: bool) {
        let first = text.lines().next().unwrap_or("");
        self.message = Some(Message {
            text: sealdesk_model::sanitize::line(first).into_owned(),
            error,
            ticks_left: if error { ERROR_TICKS } else { INFO_TICKS },
        });
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

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, view: &StatusView) {
        let bar = theme.style(Role::StatusBar);
        let key = theme.style(Role::StatusBarKey);
        let mut spans = vec![
            Span::styled(format!(" {} ", view.who), key),
            Span::styled(format!(" {} ", view.crumbs), bar),
            Span::styled("│ ", bar),
        ];
        match &self.message {
            Some(message) => {
                let role = if message.error {
                    Role::MessageError
                } else {
                    Role::MessageInfo
                };
                spans.push(Span::styled(message.text.clone(), theme.style(role)));
            }
            None => {
                for (keys, hint) in view.hints {
                    spans.push(Span::styled(keys.clone(), key));
                    spans.push(Span::styled(format!(" {hint}  "), bar));
                }
            }
        }
        frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
