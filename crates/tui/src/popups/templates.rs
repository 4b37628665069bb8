//! Saved replies and macros in the TUI: a picker with type-to-filter that inserts a
//! saved reply (filled for the ticket) at the editor's cursor, or applies a macro to
//! one ticket or the marked ones.
//!
//! The popup itself never calls the desk: the `*_picker` functions below read what it
//! shows (the screens and the app call them with the desk) and [`apply_macro`] carries
//! out its answer. A saved reply chosen comes back as [`Choice::InsertTemplate`] to the
//! ticket screen, whose editor pane stays open under the picker.

use super::{centered, frame_popup, Outcome};
use crate::action::{Action, Choice};
use crate::event::{KeyCode, KeyEvent};
use crate::field;
use crate::keymap::{bind, ctrl, hints as table_hints, key, lookup, Binding};
use crate::screens::Ctx;
use crate::theme::{Role, Theme};
use crate::widgets::list::{Move, ScrollList};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};
use ratatui::Frame;
use sealdesk_model::{sanitize, TicketNo};

#[derive(Clone, Copy)]
enum PickKey {
    Choose,
    Cancel,
    Down,
    Up,
    DeleteChar,
    Clear,
}

const KEYS: &[Binding<PickKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        PickKey::Choose,
        "choose",
        Some("choose"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        PickKey::Cancel,
        "cancel",
        Some("cancel"),
    ),
    bind(
        &[key(KeyCode::Down), ctrl('n')],
        PickKey::Down,
        "next",
        None,
    ),
    bind(
        &[key(KeyCode::Up), ctrl('p')],
        PickKey::Up,
        "previous",
        None,
    ),
    bind(
        &[key(KeyCode::Backspace)],
        PickKey::DeleteChar,
        "delete a character of the filter",
        None,
    ),
    bind(
        &[ctrl('u')],
        PickKey::Clear,
        "clear the filter",
        Some("clear"),
    ),
];

pub(super) fn hints() -> Vec<(String, &'static str)> {
    let mut hints = vec![("type".to_string(), "filter")];
    hints.extend(table_hints(KEYS));
    hints
}

/// What choosing an item does.
enum Purpose {
    /// Insert the chosen text into the ticket screen's editor.
    Insert,
    /// Apply the chosen macro to these tickets.
    Apply(Vec<TicketNo>),
}

pub(crate) struct TemplatePicker {
    title: String,
    /// (name, text to insert or what the macro does)
    items: Vec<(String, String)>,
    filter: String,
    /// Indices into `items` that match the filter.
    matching: Vec<usize>,
    list: ScrollList,
    /// Taken when the picker answers.
    purpose: Option<Purpose>,
}

impl TemplatePicker {
    fn new(title: String, items: Vec<(String, String)>, purpose: Purpose) -> TemplatePicker {
        let mut picker = TemplatePicker {
            title,
            matching: (0..items.len()).collect(),
            items,
            filter: String::new(),
            list: ScrollList::default(),
            purpose: Some(purpose),
        };
        picker.refilter();
        picker
    }

    /// Names (and texts) containing the filter, ignoring case; names that start with
    /// it first.
    fn refilter(&mut self) {
        let wanted = self.filter.to_lowercase();
        let mut starts = Vec::new();
        let mut contains = Vec::new();
        for (i, (name, text)) in self.items.iter().enumerate() {
            let name = name.to_lowercase();
            if name.starts_with(&wanted) {
                starts.push(i);
            } else if name.contains(&wanted) || text.to_lowercase().contains(&wanted) {
                contains.push(i);
            }
        }
        starts.extend(contains);
        self.matching = starts;
        self.list.select(0, self.matching.len());
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        let len = self.matching.len();
        match lookup(KEYS, pressed) {
            Some(PickKey::Choose) => {
                let chosen = self.matching.get(self.list.selected()).copied();
                return self.answer(chosen);
            }
            Some(PickKey::Cancel) => return self.answer(None),
            Some(PickKey::Down) => self.list.apply(Move::Down, len),
            Some(PickKey::Up) => self.list.apply(Move::Up, len),
            Some(PickKey::DeleteChar) => {
                self.filter.pop();
                self.refilter();
            }
            Some(PickKey::Clear) => {
                self.filter.clear();
                self.refilter();
            }
            None => match pressed.code {
                KeyCode::Char(c)
                    if !pressed.mods.ctrl
                        && !pressed.mods.alt
                        && !sanitize::is_unsafe(c)
                        && field::push(&mut self.filter, c) =>
                {
                    self.refilter();
                }
                _ => {}
            },
        }
        Outcome::Stay
    }

    /// Pasted text goes into the filter.
    pub(crate) fn paste(&mut self, text: &str) {
        field::push_str(&mut self.filter, &sanitize::line(text));
        self.refilter();
    }

    fn answer(&mut self, chosen: Option<usize>) -> Outcome {
        let item = chosen.map(|i| self.items.swap_remove(i));
        match (self.purpose.take(), item) {
            (Some(Purpose::Insert), Some((name, text))) => {
                Outcome::Done(Action::Choice(Choice::InsertTemplate { name, text }))
            }
            (Some(Purpose::Apply(tickets)), Some((name, _))) => {
                Outcome::Done(Action::ApplyMacro { name, tickets })
            }
            _ => Outcome::Close,
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = area.width.saturating_sub(8).clamp(30, 90);
        let height = (self.items.len() as u16 + 5).clamp(8, 20);
        let inner = frame_popup(frame, centered(area, width, height), theme, &self.title);
        let [filter, list, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("filter: ", theme.style(Role::Header)),
                Span::styled(self.filter.clone(), theme.style(Role::Input)),
                Span::styled(" ", theme.style(Role::InputCursor)),
            ])),
            filter,
        );
        if self.matching.is_empty() {
            let text = if self.items.is_empty() {
                "None yet: add them with `sealdesk reply-template add` / `sealdesk macro add`"
            } else {
                "Nothing matches: Backspace or Ctrl-U changes the filter"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.style(Role::Muted))),
                list,
            );
        } else {
            let window = self
                .list
                .keep_in_view(list.height as usize, self.matching.len());
            let name_width = self
                .items
                .iter()
                .map(|(n, _)| n.chars().count())
                .max()
                .unwrap_or(0)
                .min(30);
            let rows: Vec<ListItem> = self.matching[window.clone()]
                .iter()
                .map(|&i| {
                    let (name, text) = &self.items[i];
                    let preview = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                    ListItem::new(Line::from(vec![
                        Span::raw(format!("{:<name_width$}  ", sanitize::line(name))),
                        Span::styled(
                            sanitize::line(preview).into_owned(),
                            theme.style(Role::Muted),
                        ),
                    ]))
                })
                .collect();
            let widget = List::new(rows)
                .highlight_style(theme.style(Role::Selected))
                .highlight_symbol("> ");
            let mut state =
                ListState::default().with_selected(Some(self.list.selected() - window.start));
            frame.render_stateful_widget(widget, list, &mut state);
        }
        frame.render_widget(
            Paragraph::new(Line::styled(
                "type to filter   Enter: choose   Esc: cancel",
                theme.style(Role::Muted),
            )),
            footer,
        );
    }
}

/// The saved replies for the editor on ticket `n`, filled for it; the one chosen comes
/// back to the ticket screen as [`Choice::InsertTemplate`].
pub(crate) fn insert_picker(ctx: &Ctx, n: TicketNo) -> Action {
    let actor = &ctx.session.actor;
    let loaded = ctx.desk.reply_templates(actor).and_then(|templates| {
        let values = ctx.desk.template_placeholders(actor, n)?;
        Ok(templates
            .into_iter()
            .map(|t| {
                let text = sealdesk_model::fill(&t.text, &values);
                (t.name, text)
            })
            .collect::<Vec<_>>())
    });
    match loaded {
        Ok(items) => Action::popup(super::Popup::Templates(Box::new(TemplatePicker::new(
            format!("Insert a saved reply into {n}"),
            items,
            Purpose::Insert,
        )))),
        Err(e) => Action::Error(e.to_string()),
    }
}

/// The macros, to apply to `tickets` (the marked ones, or the one on screen).
pub(crate) fn macro_picker(ctx: &Ctx, tickets: Vec<TicketNo>) -> Action {
    let macros = match ctx.desk.macros(&ctx.session.actor) {
        Ok(macros) => macros,
        Err(e) => return Action::Error(e.to_string()),
    };
    let title = match tickets.as_slice() {
        [one] => format!("Apply a macro to {one}"),
        many => format!("Apply a macro to {} marked tickets", many.len()),
    };
    let items = macros
        .into_iter()
        .map(|m| {
            let summary = m.summary();
            (m.name, summary)
        })
        .collect();
    Action::popup(super::Popup::Templates(Box::new(TemplatePicker::new(
        title,
        items,
        Purpose::Apply(tickets),
    ))))
}

/// Applies macro `name` to `tickets` and says how it went; the screen on top hears
/// [`Choice::MacroApplied`] (the queue clears its marks).
pub(crate) fn apply_macro(ctx: &Ctx, name: &str, tickets: &[TicketNo]) -> Action {
    let outcome = match ctx.desk.apply_macro(&ctx.session.actor, name, tickets) {
        Ok(outcome) => outcome,
        Err(e) => return Action::Error(e.to_string()),
    };
    let name = sanitize::line(name);
    let done: Vec<String> = outcome
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(n, _)| n.to_string())
        .collect();
    let failed: Vec<String> = outcome
        .iter()
        .filter_map(|(n, r)| r.as_ref().err().map(|e| format!("{n}: {e}")))
        .collect();
    let said = if failed.is_empty() {
        Action::Info(format!("macro {name} applied to {}", done.join(", ")))
    } else {
        Action::Error(format!(
            "macro {name} applied to {} of {}; {}",
            done.len(),
            outcome.len(),
            failed.join("; ")
        ))
    };
    Action::Many(vec![Action::Choice(Choice::MacroApplied), said])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::ch;

    fn items() -> Vec<(String, String)> {
        ["refund", "shipping delay", "thanks"]
            .iter()
            .map(|n| (n.to_string(), format!("Text of {n}")))
            .collect()
    }

    #[test]
    fn typing_filters_and_enter_applies_the_macro() {
        let mut p = TemplatePicker::new(
            "Pick".into(),
            items(),
            Purpose::Apply(vec![TicketNo(1), TicketNo(2)]),
        );
        assert_eq!(p.matching.len(), 3);
        for c in "SHIP".chars() {
            assert!(matches!(p.handle(ch(c)), Outcome::Stay));
        }
        assert_eq!(p.matching, [1]);
        p.handle(key(KeyCode::Backspace));
        p.handle(ctrl('u'));
        assert_eq!(p.matching.len(), 3);
        p.handle(ch('t'));
        // "thanks" starts with t, then those containing it.
        assert_eq!(p.matching, [2, 0, 1]);
        p.handle(key(KeyCode::Down));
        match p.handle(key(KeyCode::Enter)) {
            Outcome::Done(Action::ApplyMacro { name, tickets }) => {
                assert_eq!(name, "refund");
                assert_eq!(tickets, [TicketNo(1), TicketNo(2)]);
            }
            _ => panic!("Enter applies the macro"),
        }
    }

    #[test]
    fn the_chosen_text_goes_back_to_the_screen_esc_chooses_nothing() {
        let mut p = TemplatePicker::new("Pick".into(), items(), Purpose::Insert);
        p.handle(ch('r'));
        match p.handle(key(KeyCode::Enter)) {
            Outcome::Done(Action::Choice(Choice::InsertTemplate { name, text })) => {
                assert_eq!((name.as_str(), text.as_str()), ("refund", "Text of refund"));
            }
            _ => panic!("Enter inserts"),
        }
        let mut p = TemplatePicker::new("Pick".into(), items(), Purpose::Insert);
        assert!(matches!(p.handle(key(KeyCode::Esc)), Outcome::Close));
        let mut p = TemplatePicker::new("Pick".into(), Vec::new(), Purpose::Insert);
        assert!(matches!(p.handle(key(KeyCode::Enter)), Outcome::Close));
        let mut p = TemplatePicker::new("Pick".into(), Vec::new(), Purpose::Apply(vec![]));
        assert!(matches!(p.handle(key(KeyCode::Enter)), Outcome::Close));
    }
}
