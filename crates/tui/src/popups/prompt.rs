//! The two small questions: a one-line text prompt (tags, a ticket number), optionally
//! under a paragraph that explains what answering does, and a yes/no confirmation before
//! something that cannot be undone.

use super::{centered, frame_popup, Outcome};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::field;
use crate::keymap::{bind, ch, ctrl, hints, key, lookup, Binding};
use crate::theme::{Role, Theme};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

#[derive(Clone, Copy)]
enum PromptKey {
    Submit,
    Cancel,
    DeleteChar,
    Clear,
}

const PROMPT_KEYS: &[Binding<PromptKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        PromptKey::Submit,
        "accept",
        Some("accept"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        PromptKey::Cancel,
        "cancel",
        Some("cancel"),
    ),
    bind(
        &[key(KeyCode::Backspace)],
        PromptKey::DeleteChar,
        "delete a character",
        None,
    ),
    bind(
        &[ctrl('u')],
        PromptKey::Clear,
        "clear the line",
        Some("clear"),
    ),
];

pub(super) fn prompt_hints() -> Vec<(String, &'static str)> {
    hints(PROMPT_KEYS)
}

/// Asks for one line of text; what to do with it is decided when the prompt is made.
pub(crate) struct Prompt {
    title: String,
    /// Shown above the input: what the answer leads to.
    detail: Option<String>,
    text: String,
    /// The last key or paste did not fit; said in the title until the next key.
    full: bool,
    submit: fn(String) -> Action,
}

impl Prompt {
    pub(crate) fn new(
        title: impl Into<String>,
        initial: &str,
        submit: fn(String) -> Action,
    ) -> Self {
        Prompt {
            title: title.into(),
            detail: None,
            text: capped(&sealdesk_model::sanitize::line(initial)),
            full: false,
            submit,
        }
    }

    /// Explains, above the input, what answering will do.
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        self.full = false;
        match lookup(PROMPT_KEYS, pressed) {
            Some(PromptKey::Submit) => {
                return Outcome::Done((self.submit)(std::mem::take(&mut self.text)))
            }
            Some(PromptKey::Cancel) => return Outcome::Close,
            Some(PromptKey::DeleteChar) => {
                self.text.pop();
            }
            Some(PromptKey::Clear) => self.text.clear(),
            None => {
                if let KeyCode::Char(c) = pressed.code {
                    if !pressed.mods.ctrl
                        && !pressed.mods.alt
                        && !sealdesk_model::sanitize::is_unsafe(c)
                    {
                        self.full = !field::push(&mut self.text, c);
                    }
                }
            }
        }
        Outcome::Stay
    }

    pub(crate) fn paste(&mut self, text: &str) {
        self.full = !field::push_str(&mut self.text, &sealdesk_model::sanitize::line(text));
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = match self.detail {
            Some(_) => 72,
            None => (self.title.chars().count() as u16 + 6).clamp(40, 70),
        };
        let detail: Vec<Line> = match &self.detail {
            Some(text) => {
                let room = width.saturating_sub(2) as usize;
                // Paragraphs of the detail stay apart (the erasure preview's lists).
                let mut lines: Vec<Line> = sealdesk_model::sanitize::multiline(text)
                    .lines()
                    .flat_map(|l| crate::display::wrap(l, room))
                    .map(Line::from)
                    .collect();
                lines.push(Line::default());
                lines
            }
            None => Vec::new(),
        };
        let height = detail.len() as u16 + 3;
        let title = match self.full {
            true => format!("{}: {}", self.title, field::full()),
            false => self.title.clone(),
        };
        let inner = frame_popup(frame, centered(area, width, height), theme, &title);
        let [detail_area, inner] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        frame.render_widget(Paragraph::new(detail), detail_area);
        // Show the end of a long line, where the agent is typing.
        let room = (inner.width as usize).saturating_sub(1);
        let shown = field::tail(&self.text, room);
        let line = Line::from(vec![
            Span::styled(shown.to_owned(), theme.style(Role::Input)),
            Span::styled(" ", theme.style(Role::InputCursor)),
        ]);
        frame.render_widget(Paragraph::new(line).style(theme.style(Role::Input)), inner);
    }
}

/// `text` cut to what a line may hold.
fn capped(text: &str) -> String {
    let mut line = String::new();
    field::push_str(&mut line, text);
    line
}

#[derive(Clone, Copy)]
enum ConfirmKey {
    Yes,
    No,
}

const CONFIRM_KEYS: &[Binding<ConfirmKey>] = &[
    bind(
        &[ch('y'), key(KeyCode::Enter)],
        ConfirmKey::Yes,
        "yes, go ahead",
        Some("yes"),
    ),
    bind(
        &[ch('n'), key(KeyCode::Esc)],
        ConfirmKey::No,
        "no, leave it",
        Some("no"),
    ),
];

pub(super) fn confirm_hints() -> Vec<(String, &'static str)> {
    hints(CONFIRM_KEYS)
}

/// Asks yes or no; `yes` is carried out only on an explicit yes.
pub(crate) struct Confirm {
    question: String,
    yes: Option<Action>,
}

impl Confirm {
    pub(crate) fn new(question: impl Into<String>, yes: Action) -> Self {
        Confirm {
            question: question.into(),
            yes: Some(yes),
        }
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        match lookup(CONFIRM_KEYS, pressed) {
            Some(ConfirmKey::Yes) => self.yes.take().map_or(Outcome::Close, Outcome::Done),
            Some(ConfirmKey::No) => Outcome::Close,
            None => Outcome::Stay,
        }
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = frame_popup(frame, centered(area, 60, 7), theme, "Confirm");
        let [question, answer] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let text = sealdesk_model::sanitize::line(&self.question).into_owned();
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), question);
        let keys = Line::from(vec![
            Span::styled("y", theme.style(Role::Header)),
            Span::raw(" yes   "),
            Span::styled("n", theme.style(Role::Header)),
            Span::raw(" no"),
        ]);
        frame.render_widget(Paragraph::new(keys), answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_collects_text_and_submits_it() {
        let mut p = Prompt::new("Tags", "a, b", Action::Info);
        for c in ", c".chars() {
            p.handle(ch(c));
        }
        p.handle(key(KeyCode::Backspace));
        p.paste("d\u{1b}[2J\ne");
        assert!(
            matches!(p.handle(key(KeyCode::Enter)), Outcome::Done(Action::Info(s)) if s == "a, b, d e")
        );
        let mut p = Prompt::new("Tags", "x", Action::Info);
        assert!(matches!(p.handle(key(KeyCode::Esc)), Outcome::Close));
    }

    #[test]
    fn confirm_needs_an_explicit_yes() {
        let mut c = Confirm::new("Sure?", Action::Quit);
        assert!(matches!(c.handle(ch('x')), Outcome::Stay));
        assert!(matches!(c.handle(ch('y')), Outcome::Done(Action::Quit)));
        let mut c = Confirm::new("Sure?", Action::Quit);
        assert!(matches!(c.handle(key(KeyCode::Esc)), Outcome::Close));
    }
}
