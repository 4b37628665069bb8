//! A small form: a few labelled fields in one dialog, for what needs more than one
//! answer (a consent record, an audit filter). Fields are text (optionally with quick
//! picks), one choice from a list, or several choices from a list.
//!
//! Like every popup it only collects answers: the [`FormAnswer`] goes back to the screen
//! that opened it, which does the operation and may reopen the form filled with the same
//! answer (and the reason it failed) so nothing typed is lost.

use super::{centered, frame_popup, Outcome};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{bind, ctrl, hints as table_hints, key, lookup, Binding};
use crate::theme::{Role, Theme};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use sealdesk_model::sanitize;

#[derive(Clone, Copy)]
enum FormKey {
    Submit,
    Cancel,
    Next,
    Previous,
    Back,
    Forward,
    Toggle,
    DeleteChar,
    Clear,
}

const KEYS: &[Binding<FormKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        FormKey::Submit,
        "save",
        Some("save"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        FormKey::Cancel,
        "cancel",
        Some("cancel"),
    ),
    bind(
        &[key(KeyCode::Tab), key(KeyCode::Down)],
        FormKey::Next,
        "next field",
        Some("next field"),
    ),
    bind(
        &[key(KeyCode::BackTab), key(KeyCode::Up)],
        FormKey::Previous,
        "previous field",
        None,
    ),
    bind(
        &[key(KeyCode::Left)],
        FormKey::Back,
        "previous choice or quick pick",
        None,
    ),
    bind(
        &[key(KeyCode::Right)],
        FormKey::Forward,
        "next choice or quick pick",
        Some("pick"),
    ),
    bind(
        &[key(KeyCode::Char(' '))],
        FormKey::Toggle,
        "tick or untick (in a list of several)",
        None,
    ),
    bind(
        &[key(KeyCode::Backspace)],
        FormKey::DeleteChar,
        "delete a character",
        None,
    ),
    bind(&[ctrl('u')], FormKey::Clear, "clear the field", None),
];

pub(super) fn hints() -> Vec<(String, &'static str)> {
    table_hints(KEYS)
}

/// (value handed back, label shown)
pub(crate) type FormOption = (String, String);

enum Kind {
    /// Typed; Left/Right put one of the quick picks in.
    Text {
        value: String,
        picks: Vec<String>,
        /// The quick pick shown last, if any.
        pick: Option<usize>,
    },
    /// Exactly one of the options.
    One {
        options: Vec<FormOption>,
        index: usize,
    },
    /// Any number of the options; Left/Right move, Space ticks.
    Many {
        options: Vec<FormOption>,
        ticked: Vec<bool>,
        cursor: usize,
    },
}

struct Field {
    key: &'static str,
    label: &'static str,
    kind: Kind,
}

impl Field {
    /// The answer: the text, the chosen value, or the ticked values joined by ", ".
    fn value(&self) -> String {
        match &self.kind {
            Kind::Text { value, .. } => value.clone(),
            Kind::One { options, index } => options
                .get(*index)
                .map(|(v, _)| v.clone())
                .unwrap_or_default(),
            Kind::Many {
                options, ticked, ..
            } => options
                .iter()
                .zip(ticked)
                .filter(|(_, t)| **t)
                .map(|((v, _), _)| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Puts an earlier answer back.
    fn restore(&mut self, answer: &str) {
        match &mut self.kind {
            Kind::Text { value, .. } => *value = sanitize::line(answer).into_owned(),
            Kind::One { options, index } => {
                if let Some(i) = options.iter().position(|(v, _)| v == answer) {
                    *index = i;
                }
            }
            Kind::Many {
                options, ticked, ..
            } => {
                let wanted: Vec<&str> = answer.split(',').map(str::trim).collect();
                for ((v, _), t) in options.iter().zip(ticked.iter_mut()) {
                    *t = wanted.iter().any(|w| w.eq_ignore_ascii_case(v));
                }
            }
        }
    }
}

/// The answers of a submitted form, by field key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FormAnswer(Vec<(&'static str, String)>);

impl FormAnswer {
    /// The answer for `key`; empty for a field the form did not have.
    pub(crate) fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    #[cfg(test)]
    pub(crate) fn of(pairs: &[(&'static str, &str)]) -> FormAnswer {
        FormAnswer(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }
}

pub(crate) struct Form {
    title: String,
    fields: Vec<Field>,
    focus: usize,
    /// Why the last attempt failed; shown until the next key.
    error: Option<String>,
    submit: fn(FormAnswer) -> Action,
}

impl Form {
    pub(crate) fn new(title: impl Into<String>, submit: fn(FormAnswer) -> Action) -> Self {
        Form {
            title: title.into(),
            fields: Vec::new(),
            focus: 0,
            error: None,
            submit,
        }
    }

    /// A text field starting with `initial`; `picks` are offered with Left/Right.
    pub(crate) fn text(
        mut self,
        key: &'static str,
        label: &'static str,
        initial: &str,
        picks: Vec<String>,
    ) -> Self {
        let picks = picks
            .iter()
            .map(|p| sanitize::line(p).into_owned())
            .collect();
        self.fields.push(Field {
            key,
            label,
            kind: Kind::Text {
                value: sanitize::line(initial).into_owned(),
                picks,
                pick: None,
            },
        });
        self
    }

    /// One choice of `options`, starting on the one whose value is `initial` (or the first).
    pub(crate) fn one(
        mut self,
        key: &'static str,
        label: &'static str,
        options: Vec<FormOption>,
        initial: &str,
    ) -> Self {
        let index = options.iter().position(|(v, _)| v == initial).unwrap_or(0);
        self.fields.push(Field {
            key,
            label,
            kind: Kind::One { options, index },
        });
        self
    }

    /// Several choices of `options`, with the values in `ticked` ticked.
    pub(crate) fn many(
        mut self,
        key: &'static str,
        label: &'static str,
        options: Vec<FormOption>,
        ticked: &[String],
    ) -> Self {
        let ticked = options
            .iter()
            .map(|(v, _)| ticked.iter().any(|t| t.eq_ignore_ascii_case(v)))
            .collect();
        self.fields.push(Field {
            key,
            label,
            kind: Kind::Many {
                options,
                ticked,
                cursor: 0,
            },
        });
        self
    }

    /// Fills the fields with an earlier answer and says why it was not accepted.
    pub(crate) fn refill(mut self, answer: &FormAnswer, error: Option<String>) -> Self {
        for field in &mut self.fields {
            if answer.0.iter().any(|(k, _)| *k == field.key) {
                field.restore(answer.get(field.key));
            }
        }
        self.error = error;
        self
    }

    /// Starts with the cursor on the field `key`.
    pub(crate) fn focus(mut self, key: &str) -> Self {
        if let Some(i) = self.fields.iter().position(|f| f.key == key) {
            self.focus = i;
        }
        self
    }

    /// The action that shows this form.
    pub(crate) fn open(self) -> Action {
        Action::popup(super::Popup::Form(Box::new(self)))
    }

    fn answer(&self) -> FormAnswer {
        FormAnswer(self.fields.iter().map(|f| (f.key, f.value())).collect())
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        self.error = None;
        let pressed_key = lookup(KEYS, pressed);
        let last = self.fields.len().saturating_sub(1);
        match pressed_key {
            Some(FormKey::Submit) => return Outcome::Done((self.submit)(self.answer())),
            Some(FormKey::Cancel) => return Outcome::Close,
            Some(FormKey::Next) => self.focus = (self.focus + 1).min(last),
            Some(FormKey::Previous) => self.focus = self.focus.saturating_sub(1),
            _ => {}
        }
        let forward = matches!(pressed_key, Some(FormKey::Forward));
        let Some(field) = self.fields.get_mut(self.focus) else {
            return Outcome::Stay;
        };
        match (pressed_key, &mut field.kind) {
            (Some(FormKey::Toggle), Kind::Many { ticked, cursor, .. }) => {
                if let Some(t) = ticked.get_mut(*cursor) {
                    *t = !*t;
                }
            }
            (Some(FormKey::Toggle), Kind::Text { value, .. }) => {
                self.error = (!crate::field::push(value, ' ')).then(crate::field::full);
            }
            (Some(FormKey::Back | FormKey::Forward), Kind::Text { value, picks, pick })
                if !picks.is_empty() =>
            {
                let next = step(*pick, picks.len(), forward);
                *pick = Some(next);
                *value = picks[next].clone();
            }
            (Some(FormKey::Back | FormKey::Forward), Kind::One { options, index }) => {
                *index = step(Some(*index), options.len(), forward);
            }
            (
                Some(FormKey::Back | FormKey::Forward),
                Kind::Many {
                    options, cursor, ..
                },
            ) => *cursor = step(Some(*cursor), options.len(), forward),
            (Some(FormKey::DeleteChar), Kind::Text { value, .. }) => {
                value.pop();
            }
            (Some(FormKey::Clear), Kind::Text { value, .. }) => value.clear(),
            (None, Kind::Text { value, .. }) => {
                if let KeyCode::Char(c) = pressed.code {
                    let typed = !pressed.mods.ctrl && !pressed.mods.alt && !sanitize::is_unsafe(c);
                    if typed && !crate::field::push(value, c) {
                        self.error = Some(crate::field::full());
                    }
                }
            }
            _ => {}
        }
        Outcome::Stay
    }

    /// Pasted text goes into the text field under the cursor.
    pub(crate) fn paste(&mut self, text: &str) {
        if let Some(Field {
            kind: Kind::Text { value, .. },
            ..
        }) = self.fields.get_mut(self.focus)
        {
            if !crate::field::push_str(value, &sanitize::line(text)) {
                self.error = Some(crate::field::full());
            }
        }
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let label_width = self
            .fields
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(0);
        let mut lines: Vec<Line> = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let label_role = if focused { Role::Header } else { Role::Muted };
            let marker = if focused { "> " } else { "  " };
            let mut spans = vec![Span::styled(
                format!("{marker}{:<label_width$}  ", field.label),
                theme.style(label_role),
            )];
            match &field.kind {
                Kind::Text { value, .. } => {
                    spans.push(Span::styled(
                        sanitize::line(value).into_owned(),
                        theme.style(Role::Input),
                    ));
                    if focused {
                        spans.push(Span::styled(" ", theme.style(Role::InputCursor)));
                    }
                }
                Kind::One { options, index } => {
                    let label = options.get(*index).map(|(_, l)| l.as_str()).unwrap_or("");
                    let text = format!("‹ {} ›", sanitize::line(label));
                    spans.push(Span::styled(text, theme.style(Role::Input)));
                }
                Kind::Many { .. } => {
                    let value = field.value();
                    let text = if value.is_empty() {
                        "none".into()
                    } else {
                        value
                    };
                    spans.push(Span::styled(text, theme.style(Role::Input)));
                }
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::default());
        lines.push(self.detail_line(theme));
        if let Some(error) = &self.error {
            lines.push(Line::styled(
                sanitize::line(error).into_owned(),
                theme.style(Role::MessageError),
            ));
        }
        let height = lines.len() as u16 + 2;
        let inner = frame_popup(frame, centered(area, 76, height), theme, &self.title);
        frame.render_widget(Paragraph::new(lines), inner);
    }

    /// What the focused field offers: the option under the cursor, or the quick picks.
    fn detail_line(&self, theme: &Theme) -> Line<'static> {
        let muted = theme.style(Role::Muted);
        let Some(field) = self.fields.get(self.focus) else {
            return Line::default();
        };
        match &field.kind {
            Kind::Text { picks, pick, .. } if !picks.is_empty() => {
                let at = pick.map(|p| p + 1).unwrap_or(0);
                Line::styled(
                    format!("←/→: {} quick pick(s) ({at}/{})", picks.len(), picks.len()),
                    muted,
                )
            }
            Kind::Text { .. } => Line::styled("type the text", muted),
            Kind::One { options, index } => Line::styled(
                format!("←/→: choose ({}/{})", index + 1, options.len()),
                muted,
            ),
            Kind::Many {
                options,
                ticked,
                cursor,
            } => {
                let (_, label) = options.get(*cursor).cloned().unwrap_or_default();
                let tick = if ticked.get(*cursor) == Some(&true) {
                    "[x]"
                } else {
                    "[ ]"
                };
                Line::from(vec![
                    Span::styled(format!("‹ {tick} {} ›", sanitize::line(&label)), muted),
                    Span::styled("  ←/→ move, Space tick", muted),
                ])
            }
        }
    }
}

/// The next (or previous) index of `len`, wrapping; from nothing, the first (or last).
fn step(at: Option<usize>, len: usize, forward: bool) -> usize {
    match (at, forward) {
        _ if len == 0 => 0,
        (None, true) => 0,
        (None, false) => len - 1,
        (Some(i), true) => (i + 1) % len,
        (Some(i), false) => (i + len - 1) % len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::ch;

    fn form() -> Form {
        let options = |list: &[&str]| {
            list.iter()
                .map(|s| (s.to_string(), format!("{s} label")))
                .collect()
        };
        Form::new("Test", |answer| {
            Action::Info(format!(
                "{}|{}|{}",
                answer.get("a"),
                answer.get("b"),
                answer.get("c")
            ))
        })
        .one("a", "one", options(&["x", "y", "z"]), "y")
        .many("b", "many", options(&["p", "q", "r"]), &["R".into()])
        .text(
            "c",
            "text",
            "hi",
            vec!["pick 1".into(), "pick\u{1b}[2J 2".into()],
        )
    }

    fn submit(f: &mut Form) -> String {
        match f.handle(key(KeyCode::Enter)) {
            Outcome::Done(Action::Info(s)) => s,
            _ => panic!("the form did not submit"),
        }
    }

    #[test]
    fn fields_collect_their_answers() {
        let mut f = form();
        assert_eq!(submit(&mut form()), "y|r|hi");
        f.handle(key(KeyCode::Right));
        f.handle(key(KeyCode::Right));
        f.handle(key(KeyCode::Tab));
        f.handle(ch(' '));
        f.handle(key(KeyCode::Right));
        f.handle(key(KeyCode::Right));
        f.handle(ch(' '));
        f.handle(key(KeyCode::Down));
        f.handle(key(KeyCode::Backspace));
        f.handle(ch(' '));
        f.handle(ch('k'));
        assert_eq!(submit(&mut f), "x|p|h k");
        let mut f = form().focus("c");
        f.handle(key(KeyCode::Left));
        assert_eq!(submit(&mut f), "y|r|pick 2", "picks are sanitised");
        f.handle(key(KeyCode::Right));
        f.paste(" more");
        assert_eq!(submit(&mut f), "y|r|pick 1 more");
        assert!(matches!(f.handle(key(KeyCode::Esc)), Outcome::Close));
    }

    #[test]
    fn refill_restores_an_answer() {
        let answer = FormAnswer::of(&[("a", "z"), ("b", "p, q"), ("c", "again")]);
        let mut f = form().refill(&answer, Some("no".into()));
        assert_eq!(f.error.as_deref(), Some("no"));
        assert_eq!(submit(&mut f), "z|p, q|again");
    }
}
