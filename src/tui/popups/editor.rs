//! The reply / internal-note editor: a multi-line `ratatui_textarea` in a popup.
//!
//! The two kinds look different on purpose (title, border role, wording): a note typed
//! into the reply editor would be mailed to the customer.

use super::draft::{Draft, Move};
use super::{centered, frame_popup, Outcome};
use crate::model::{MessageKind, TicketNo};
use crate::tui::action::{Action, Choice};
use crate::tui::event::{KeyCode, KeyEvent};
use crate::tui::keymap::{alt, bind, ch, ctrl, hints as table_hints, key, lookup, Binding};
use crate::tui::theme::{Role, Theme};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum EditorKey {
    Send,
    Cancel,
}

const KEYS: &[Binding<EditorKey>] = &[
    bind(
        &[ctrl('s'), alt(KeyCode::Enter)],
        EditorKey::Send,
        "send",
        Some("send"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        EditorKey::Cancel,
        "cancel",
        Some("cancel"),
    ),
];

#[derive(Clone, Copy)]
enum DiscardKey {
    Discard,
    Keep,
}

/// Asked when Esc would throw away a non-empty draft.
const DISCARD_KEYS: &[Binding<DiscardKey>] = &[
    bind(
        &[ch('y')],
        DiscardKey::Discard,
        "discard the draft",
        Some("discard"),
    ),
    bind(
        &[ch('n'), key(KeyCode::Esc)],
        DiscardKey::Keep,
        "keep writing",
        Some("keep writing"),
    ),
];

pub(crate) struct Editor {
    kind: MessageKind,
    ticket: TicketNo,
    text: Draft,
    confirm_discard: bool,
    /// Why the last send did not go through; shown until the next key.
    error: Option<Cow<'static, str>>,
}

impl Editor {
    pub fn new(kind: MessageKind, ticket: TicketNo) -> Self {
        Self::with_draft(kind, ticket, "", None)
    }

    /// An editor holding `draft`, e.g. after sending it failed, so nothing typed is lost.
    pub fn with_draft(
        kind: MessageKind,
        ticket: TicketNo,
        draft: &str,
        error: Option<String>,
    ) -> Self {
        Editor {
            kind,
            ticket,
            text: Draft::new(draft),
            confirm_discard: false,
            error: error.map(Cow::Owned),
        }
    }

    /// The action that shows this editor.
    pub fn open(self) -> Action {
        Action::popup(super::Popup::Editor(Box::new(self)))
    }

    pub fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        self.error = None;
        if self.confirm_discard {
            match lookup(DISCARD_KEYS, pressed) {
                Some(DiscardKey::Discard) => return Outcome::Close,
                Some(DiscardKey::Keep) => self.confirm_discard = false,
                None => {}
            }
            return Outcome::Stay;
        }
        match lookup(KEYS, pressed) {
            Some(EditorKey::Send) => {
                let draft = self.text.text();
                if draft.trim().is_empty() {
                    self.error = Some(Cow::Borrowed(
                        "nothing to send yet: write something, or Esc",
                    ));
                    return Outcome::Stay;
                }
                return Outcome::Done(Action::Choice(Choice::Send(self.kind, draft)));
            }
            Some(EditorKey::Cancel) if self.text.is_empty() => return Outcome::Close,
            Some(EditorKey::Cancel) => self.confirm_discard = true,
            None => {
                if !self.edit(pressed) {
                    self.error = Some(Cow::Borrowed(FULL));
                }
            }
        }
        Outcome::Stay
    }

    /// Applies a key to the text; `false` if it would make the draft too long.
    /// Keys the editor has no use for, and control characters, which must never end
    /// up in a message, change nothing.
    fn edit(&mut self, pressed: KeyEvent) -> bool {
        let text = &mut self.text;
        let plain = !pressed.mods.ctrl && !pressed.mods.alt;
        let moved = match pressed.code {
            KeyCode::Char(c) if plain && !crate::sanitize::is_unsafe(c) => {
                return text.insert_char(c)
            }
            KeyCode::Enter if plain => return text.newline(),
            KeyCode::Tab if plain => return text.tab(),
            KeyCode::Backspace => {
                text.backspace();
                return true;
            }
            KeyCode::Delete => {
                text.delete();
                return true;
            }
            KeyCode::Left => Move::Left,
            KeyCode::Right => Move::Right,
            KeyCode::Up => Move::Up,
            KeyCode::Down => Move::Down,
            KeyCode::Home => Move::Home,
            KeyCode::End => Move::End,
            KeyCode::PageUp => Move::PageUp,
            KeyCode::PageDown => Move::PageDown,
            _ => return true,
        };
        text.move_cursor(moved);
        true
    }

    /// The SSH parser already strips controls from pastes; cleaning again keeps this
    /// safe whatever feeds it.
    pub fn paste(&mut self, text: &str) {
        if !self.confirm_discard && !self.text.insert_str(&crate::sanitize::multiline(text)) {
            self.error = Some(Cow::Borrowed(FULL));
        }
    }

    pub fn hints(&self) -> Vec<(String, &'static str)> {
        if self.confirm_discard {
            table_hints(DISCARD_KEYS)
        } else {
            table_hints(KEYS)
        }
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (title, role) = match self.kind {
            MessageKind::Note => (
                format!(
                    "Internal note on {} (never sent to the customer)",
                    self.ticket
                ),
                Role::MsgNote,
            ),
            _ => (
                format!("Reply to {} (mailed to the customer)", self.ticket),
                Role::MsgOutbound,
            ),
        };
        let width = area.width.saturating_sub(4).max(area.width.min(60));
        let height = area.height.saturating_sub(2).max(area.height.min(10));
        let inner = frame_popup(frame, centered(area, width, height), theme, &title);
        let [label, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let kind_label = match self.kind {
            MessageKind::Note => "note: only agents will see this",
            _ => "reply: the customer will receive this by mail",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(kind_label, theme.style(role))),
            label,
        );
        self.text.render(
            frame.buffer_mut(),
            body,
            theme.style(Role::Input),
            theme.style(Role::InputCursor),
        );
        let footer_line = if self.confirm_discard {
            Line::styled(
                "Discard this draft?  y: discard   n: keep writing",
                theme.style(Role::MessageError),
            )
        } else if let Some(error) = &self.error {
            Line::styled(
                crate::sanitize::line(error).into_owned(),
                theme.style(Role::MessageError),
            )
        } else {
            Line::styled(
                "Ctrl-S or Alt-Enter: send   Esc: cancel",
                theme.style(Role::Muted),
            )
        };
        frame.render_widget(Paragraph::new(footer_line), footer);
    }
}

/// Said when a key or paste would make the draft longer than it may be; a constant, as
/// a flood of keys past the cap meets it once per key.
const FULL: &str = "the draft is at its limit (1 MiB or 20000 lines): send it, or shorten it";

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(editor: &mut Editor, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            assert!(matches!(editor.handle(key(code)), Outcome::Stay));
        }
    }

    #[test]
    fn sends_typed_and_pasted_text() {
        let mut e = Editor::new(MessageKind::Outbound, TicketNo(3));
        typed(&mut e, "Hello\nthere ");
        e.paste("pasted\u{1b}]52;c;eA==\u{7}\ttext");
        match e.handle(ctrl('s')) {
            Outcome::Done(Action::Choice(Choice::Send(MessageKind::Outbound, text))) => {
                assert_eq!(text, "Hello\nthere pasted text")
            }
            _ => panic!("Ctrl-S must send"),
        }
        let mut e = Editor::new(MessageKind::Note, TicketNo(3));
        typed(&mut e, "n");
        assert!(matches!(
            e.handle(alt(KeyCode::Enter)),
            Outcome::Done(Action::Choice(Choice::Send(MessageKind::Note, _)))
        ));
    }

    #[test]
    fn the_limit_message_tells_the_real_limits() {
        use super::super::draft::{DRAFT_MAX, DRAFT_MAX_LINES};
        let limits = format!("({} MiB or {DRAFT_MAX_LINES} lines)", DRAFT_MAX >> 20);
        assert!(FULL.contains(&limits), "{FULL}");
    }

    #[test]
    fn empty_drafts_are_not_sent_and_esc_asks_before_discarding() {
        let mut e = Editor::new(MessageKind::Outbound, TicketNo(3));
        assert!(matches!(e.handle(ctrl('s')), Outcome::Stay));
        assert!(e.error.is_some());
        assert!(matches!(e.handle(key(KeyCode::Esc)), Outcome::Close));

        let mut e = Editor::new(MessageKind::Outbound, TicketNo(3));
        typed(&mut e, "draft");
        assert!(matches!(e.handle(key(KeyCode::Esc)), Outcome::Stay));
        assert!(matches!(e.handle(ch('n')), Outcome::Stay));
        typed(&mut e, "!");
        assert_eq!(e.text.lines(), ["draft!"]);
        e.handle(key(KeyCode::Esc));
        assert!(matches!(e.handle(ch('y')), Outcome::Close));
    }
}
