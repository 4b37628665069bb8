//! Choose one item from a short list: a status, a priority, an agent, a theme.

use super::{centered, frame_popup, Outcome};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{bind, ch, hints as table_hints, key, lookup, Binding};
use crate::theme::{Role, Theme};
use ratatui::layout::Rect;
use ratatui::widgets::{List, ListItem, ListState};
use ratatui::Frame;

#[derive(Clone, Copy)]
enum PickerKey {
    Down,
    Up,
    Top,
    Bottom,
    Choose,
    Cancel,
}

const KEYS: &[Binding<PickerKey>] = &[
    bind(
        &[ch('j'), key(KeyCode::Down)],
        PickerKey::Down,
        "next",
        None,
    ),
    bind(
        &[ch('k'), key(KeyCode::Up)],
        PickerKey::Up,
        "previous",
        None,
    ),
    bind(
        &[ch('g'), key(KeyCode::Home)],
        PickerKey::Top,
        "first",
        None,
    ),
    bind(
        &[ch('G'), key(KeyCode::End)],
        PickerKey::Bottom,
        "last",
        None,
    ),
    bind(
        &[key(KeyCode::Enter)],
        PickerKey::Choose,
        "choose",
        Some("choose"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        PickerKey::Cancel,
        "cancel",
        Some("cancel"),
    ),
];

pub(super) fn hints() -> Vec<(String, &'static str)> {
    table_hints(KEYS)
}

pub(crate) struct Picker {
    title: String,
    /// (label, what choosing it does)
    items: Vec<(String, Action)>,
    selected: usize,
}

impl Picker {
    /// A picker starting on item `selected` (clamped to the list).
    pub(crate) fn new(
        title: impl Into<String>,
        items: Vec<(String, Action)>,
        selected: usize,
    ) -> Self {
        let selected = selected.min(items.len().saturating_sub(1));
        Picker {
            title: title.into(),
            items,
            selected,
        }
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        let last = self.items.len().saturating_sub(1);
        match lookup(KEYS, pressed) {
            Some(PickerKey::Down) => self.selected = (self.selected + 1).min(last),
            Some(PickerKey::Up) => self.selected = self.selected.saturating_sub(1),
            Some(PickerKey::Top) => self.selected = 0,
            Some(PickerKey::Bottom) => self.selected = last,
            Some(PickerKey::Choose) if self.selected < self.items.len() => {
                return Outcome::Done(self.items.swap_remove(self.selected).1);
            }
            Some(PickerKey::Choose | PickerKey::Cancel) => return Outcome::Close,
            None => {}
        }
        Outcome::Stay
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let widest = self
            .items
            .iter()
            .map(|(label, _)| label.chars().count())
            .chain([self.title.chars().count() + 2])
            .max()
            .unwrap_or(0);
        let width = (widest + 6).clamp(20, 60) as u16;
        let height = (self.items.len() + 2).min(20) as u16;
        let inner = frame_popup(frame, centered(area, width, height), theme, &self.title);
        let items: Vec<ListItem> = self
            .items
            .iter()
            .map(|(label, _)| ListItem::new(sealdesk_model::sanitize::line(label).into_owned()))
            .collect();
        let list = List::new(items)
            .highlight_style(theme.style(Role::Selected))
            .highlight_symbol("> ");
        let mut state = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, inner, &mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picker() -> Picker {
        let items = ["a", "b", "c"]
            .iter()
            .map(|s| (s.to_string(), Action::Info(s.to_string())))
            .collect();
        Picker::new("Pick", items, 7)
    }

    #[test]
    fn moves_and_chooses() {
        let mut p = picker();
        assert_eq!(p.selected, 2, "the start is clamped");
        p.handle(ch('k'));
        assert!(
            matches!(p.handle(key(KeyCode::Enter)), Outcome::Done(Action::Info(s)) if s == "b")
        );
        let mut p = picker();
        p.handle(ch('g'));
        p.handle(ch('k'));
        assert_eq!(p.selected, 0);
        assert!(matches!(p.handle(key(KeyCode::Esc)), Outcome::Close));
        let mut empty = Picker::new("Pick", Vec::new(), 0);
        assert!(matches!(empty.handle(key(KeyCode::Enter)), Outcome::Close));
    }
}
