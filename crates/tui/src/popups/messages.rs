//! The message history (`H`): the status line's last messages, whole, oldest first and
//! the newest at the bottom where the view starts, as in a log. Errors are marked `!`
//! as well as coloured, so they stand out without colour too.

use super::{centered, frame_popup, Outcome};
use crate::display;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{bind, ch, hints as table_hints, key, lookup, Binding};
use crate::status::{Logged, HISTORY};
use crate::theme::{Role, Theme};
use crate::widgets::list::ScrollView;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

#[derive(Clone, Copy)]
enum MessagesKey {
    Close,
}

const KEYS: &[Binding<MessagesKey>] = &[bind(
    &[key(KeyCode::Esc), ch('q'), ch('H')],
    MessagesKey::Close,
    "close the message history",
    Some("close"),
)];

pub(super) fn hints() -> Vec<(String, &'static str)> {
    let mut hints = vec![("j/k".to_string(), "scroll")];
    hints.extend(table_hints(KEYS));
    hints
}

/// "10:35:07" (UTC, as every time on screen is).
fn clock(at: sealdesk_model::Timestamp) -> String {
    let stamp = at.rfc3339();
    stamp.get(11..19).unwrap_or(&stamp).to_string()
}

pub(crate) struct MessagesPopup {
    messages: Vec<Logged>,
    view: ScrollView,
}

impl MessagesPopup {
    pub(crate) fn new(messages: Vec<Logged>) -> MessagesPopup {
        MessagesPopup {
            messages,
            view: ScrollView::default(),
        }
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        if self.view.handle_key(pressed).is_some() {
            return Outcome::Stay;
        }
        match lookup(KEYS, pressed) {
            Some(MessagesKey::Close) => Outcome::Close,
            None => Outcome::Stay,
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let popup = centered(area, 100, area.height.saturating_sub(2));
        let title = format!("Messages: the last {HISTORY}, newest at the bottom");
        let inner = frame_popup(frame, popup, theme, &title);
        // "10:35:07 ! " before the first line of each message, its width before the rest.
        const LEAD: usize = 11;
        let width = (inner.width as usize).saturating_sub(LEAD).max(1);
        let mut lines = Vec::new();
        for message in &self.messages {
            let (mark, role) = if message.error {
                ("!", Role::MessageError)
            } else {
                (" ", Role::MessageInfo)
            };
            for (i, piece) in display::wrap(&message.text, width).into_iter().enumerate() {
                let lead = if i == 0 {
                    Span::styled(
                        format!("{} {mark} ", clock(message.at)),
                        theme.style(Role::Muted),
                    )
                } else {
                    Span::raw(" ".repeat(LEAD))
                };
                lines.push(Line::from(vec![
                    lead,
                    Span::styled(piece, theme.style(role)),
                ]));
            }
        }
        if lines.is_empty() {
            lines.push(Line::styled(
                "No messages yet in this session.",
                theme.style(Role::Muted),
            ));
        }
        let window = self.view.keep_in_view(inner.height as usize, lines.len());
        let visible: Vec<Line> = lines
            .into_iter()
            .skip(window.start)
            .take(window.len())
            .collect();
        frame.render_widget(Paragraph::new(visible), inner);
    }
}
