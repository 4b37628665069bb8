//! The `?` page: every key of the current screen, built from the same key tables the
//! screen handles keys with (see [`crate::keymap`]).

use super::{centered, frame_popup, Outcome};
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{bind, ch, hints as table_hints, key, lookup, Binding, HelpSection};
use crate::theme::{Role, Theme};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

#[derive(Clone, Copy)]
enum HelpKey {
    Down,
    Up,
    Close,
}

const KEYS: &[Binding<HelpKey>] = &[
    bind(
        &[ch('j'), key(KeyCode::Down)],
        HelpKey::Down,
        "scroll down",
        None,
    ),
    bind(&[ch('k'), key(KeyCode::Up)], HelpKey::Up, "scroll up", None),
    bind(
        &[key(KeyCode::Esc), ch('q'), ch('?')],
        HelpKey::Close,
        "close help",
        Some("close"),
    ),
];

pub(super) fn hints() -> Vec<(String, &'static str)> {
    table_hints(KEYS)
}

pub(crate) struct HelpPopup {
    title: String,
    sections: Vec<HelpSection>,
    scroll: usize,
}

impl HelpPopup {
    pub(crate) fn new(title: impl Into<String>, sections: Vec<HelpSection>) -> Self {
        HelpPopup {
            title: title.into(),
            sections,
            scroll: 0,
        }
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        match lookup(KEYS, pressed) {
            Some(HelpKey::Down) => self.scroll = (self.scroll + 1).min(self.line_count()),
            Some(HelpKey::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(HelpKey::Close) => return Outcome::Close,
            None => {}
        }
        Outcome::Stay
    }

    fn line_count(&self) -> usize {
        self.sections.iter().map(|s| s.rows.len() + 2).sum()
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let key_width = self
            .sections
            .iter()
            .flat_map(|s| s.rows.iter().map(|(keys, _)| keys.chars().count()))
            .max()
            .unwrap_or(0);
        let mut lines = Vec::new();
        for section in &self.sections {
            if !lines.is_empty() {
                lines.push(Line::default());
            }
            lines.push(Line::styled(section.title, theme.style(Role::Title)));
            for (keys, help) in &section.rows {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<key_width$}  "), theme.style(Role::Header)),
                    Span::raw(*help),
                ]));
            }
        }
        let height = lines.len() as u16 + 2;
        // As wide as the longest line (at least 72), as far as the screen allows.
        let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
        let popup = centered(area, widest.max(72), height);
        let inner = frame_popup(frame, popup, theme, &self.title);
        if lines.len() > inner.height as usize && popup.height > 2 {
            let more = Line::styled(" j/k: scroll ", theme.style(Role::Muted)).right_aligned();
            // On the bottom border, inside its corners.
            let bottom = Rect {
                x: popup.x + 1,
                y: popup.bottom() - 1,
                width: popup.width.saturating_sub(2),
                height: 1,
            };
            frame.render_widget(Paragraph::new(more), bottom);
        }
        let scroll = self
            .scroll
            .min(lines.len().saturating_sub(inner.height as usize));
        let visible: Vec<Line> = lines.into_iter().skip(scroll).collect();
        frame.render_widget(Paragraph::new(visible), inner);
    }
}
