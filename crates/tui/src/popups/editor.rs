//! The reply / internal-note editor: a multi-line [`Draft`] in a popup, with undo and
//! the emacs-style line and word keys agents know from readline.
//!
//! The two kinds look different on purpose (title, border role, wording): a note typed
//! into the reply editor would be mailed to the customer.

use super::draft::{Draft, Move};
use super::{centered, frame_popup, Outcome};
use crate::action::{Action, Choice};
use crate::event::{KeyCode, KeyEvent, Modifiers};
use crate::keymap::{alt, bind, ch, ctrl, hints as table_hints, key, lookup, Binding};
use crate::theme::{Role, Theme};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use sealdesk_model::{MessageKind, TicketNo};
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum EditorKey {
    Send,
    Cancel,
    Template,
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
    bind(
        &[ctrl('t')],
        EditorKey::Template,
        TEMPLATE_HELP,
        Some("saved reply"),
    ),
];

const TEMPLATE_HELP: &str = "insert a saved reply (type to filter)";

/// The editor's key for saved replies, for the help page of the screens that open it
/// (its other keys are on the status line while it is open).
pub(crate) fn help_section() -> crate::keymap::HelpSection {
    let mut section = crate::keymap::help_section("In the reply and note editor", KEYS);
    section.rows.retain(|(_, help)| *help == TEMPLATE_HELP);
    section
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EditKey {
    Undo,
    Redo,
    Move(Move),
    WordLeft,
    WordRight,
    Backspace,
    Delete,
    DeleteWordBefore,
    DeleteWordAfter,
    KillLine,
}

const fn with(code: KeyCode, mods: Modifiers) -> KeyEvent {
    KeyEvent { code, mods }
}

/// Editing keys beyond typing, arrows and Home/End. Ctrl-H arrives as Backspace from
/// most terminals, and as Ctrl-h from those that report keys by codepoint.
const EDIT_KEYS: &[Binding<EditKey>] = &[
    bind(&[ctrl('z'), ctrl('u')], EditKey::Undo, "undo", Some("undo")),
    bind(&[ctrl('y'), ctrl('r')], EditKey::Redo, "redo", Some("redo")),
    bind(
        &[ctrl('a')],
        EditKey::Move(Move::Home),
        "start of line",
        None,
    ),
    bind(&[ctrl('e')], EditKey::Move(Move::End), "end of line", None),
    bind(
        &[ctrl('b')],
        EditKey::Move(Move::Left),
        "character left",
        None,
    ),
    bind(
        &[ctrl('f')],
        EditKey::Move(Move::Right),
        "character right",
        None,
    ),
    bind(&[ctrl('p')], EditKey::Move(Move::Up), "line up", None),
    bind(&[ctrl('n')], EditKey::Move(Move::Down), "line down", None),
    bind(
        &[
            alt(KeyCode::Char('b')),
            with(KeyCode::Left, Modifiers::CTRL),
            alt(KeyCode::Left),
        ],
        EditKey::WordLeft,
        "word left",
        None,
    ),
    bind(
        &[
            alt(KeyCode::Char('f')),
            with(KeyCode::Right, Modifiers::CTRL),
            alt(KeyCode::Right),
        ],
        EditKey::WordRight,
        "word right",
        None,
    ),
    bind(
        &[
            ctrl('w'),
            alt(KeyCode::Backspace),
            with(KeyCode::Backspace, Modifiers::CTRL),
        ],
        EditKey::DeleteWordBefore,
        "delete the word before the cursor",
        None,
    ),
    bind(
        &[
            alt(KeyCode::Char('d')),
            with(KeyCode::Delete, Modifiers::CTRL),
        ],
        EditKey::DeleteWordAfter,
        "delete the word after the cursor",
        None,
    ),
    bind(
        &[ctrl('k')],
        EditKey::KillLine,
        "delete to the end of the line (at its end: join the next)",
        None,
    ),
    bind(
        &[key(KeyCode::Backspace), ctrl('h')],
        EditKey::Backspace,
        "delete the character before the cursor",
        None,
    ),
    bind(
        &[key(KeyCode::Delete), ctrl('d')],
        EditKey::Delete,
        "delete the character under the cursor",
        None,
    ),
];

/// The editor's footer, naming keys from [`KEYS`] and [`EDIT_KEYS`] (a test holds it to
/// them).
const FOOTER: &str =
    "Ctrl-S or Alt-Enter: send   Esc: cancel   Ctrl-T: saved reply   Ctrl-Z: undo   Ctrl-Y: redo";

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
    pub(crate) fn new(kind: MessageKind, ticket: TicketNo) -> Self {
        Self::with_draft(kind, ticket, "", None)
    }

    /// An editor holding `draft`, e.g. after sending it failed, so nothing typed is lost.
    pub(crate) fn with_draft(
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
    pub(crate) fn open(self) -> Action {
        Action::popup(super::Popup::Editor(Box::new(self)))
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
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
            Some(EditorKey::Template) => {
                // The picker holds the editor while it is open and hands it back.
                let me = std::mem::replace(self, Editor::new(self.kind, self.ticket));
                return Outcome::Done(Action::PickTemplate(me.ticket, Box::new(me)));
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
        if let Some(edit) = lookup(EDIT_KEYS, pressed) {
            match edit {
                EditKey::Undo => _ = text.undo(),
                EditKey::Redo => _ = text.redo(),
                EditKey::Move(to) => text.move_cursor(to),
                EditKey::WordLeft => text.word_left(),
                EditKey::WordRight => text.word_right(),
                EditKey::Backspace => text.backspace(),
                EditKey::Delete => text.delete(),
                EditKey::DeleteWordBefore => text.delete_word_before(),
                EditKey::DeleteWordAfter => text.delete_word_after(),
                EditKey::KillLine => text.kill_line(),
            }
            return true;
        }
        let plain = !pressed.mods.ctrl && !pressed.mods.alt;
        let moved = match pressed.code {
            KeyCode::Char(c) if plain && !sealdesk_model::sanitize::is_unsafe(c) => {
                return text.insert_char(c)
            }
            KeyCode::Enter if plain => return text.newline(),
            KeyCode::Tab if plain => return text.tab(),
            // Shift-Backspace and the like are still a backspace.
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
    pub(crate) fn paste(&mut self, text: &str) {
        if !self.confirm_discard
            && !self
                .text
                .insert_str(&sealdesk_model::sanitize::multiline(text))
        {
            self.error = Some(Cow::Borrowed(FULL));
        }
    }

    pub(crate) fn hints(&self) -> Vec<(String, &'static str)> {
        if self.confirm_discard {
            table_hints(DISCARD_KEYS)
        } else {
            let mut hints = table_hints(KEYS);
            hints.extend(table_hints(EDIT_KEYS));
            hints
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
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
                sealdesk_model::sanitize::line(error).into_owned(),
                theme.style(Role::MessageError),
            )
        } else {
            Line::styled(FOOTER, theme.style(Role::Muted))
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

    /// Feeds `bytes` through the SSH decoder, as an agent's terminal would send them.
    fn sent(editor: &mut Editor, bytes: &[u8]) {
        let mut parser = crate::input::InputParser::new();
        let mut events = parser.feed(bytes);
        events.extend(parser.flush_timeout());
        for event in events {
            match event {
                crate::event::Event::Key(k) => {
                    assert!(matches!(editor.handle(k), Outcome::Stay), "{k:?}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn emacs_keys_as_terminals_send_them() {
        let mut e = Editor::new(MessageKind::Outbound, TicketNo(3));
        typed(&mut e, "hello big world\nsecond");
        sent(&mut e, b"\x10\x01"); // Ctrl-P, Ctrl-A
        sent(&mut e, b"\x1bf\x06\x1b[1;5C\x02\x06"); // Alt-F, Ctrl-F, Ctrl-Right, Ctrl-B, Ctrl-F
        sent(&mut e, b"\x17"); // Ctrl-W: "big" goes
        assert_eq!(e.text.text(), "hello  world\nsecond");
        sent(&mut e, b"\x1bd"); // Alt-D
        assert_eq!(e.text.text(), "hello \nsecond");
        sent(&mut e, b"\x1bb\x0b"); // Alt-B, Ctrl-K
        assert_eq!(e.text.text(), "\nsecond");
        sent(&mut e, b"\x0b\x05"); // Ctrl-K joins, Ctrl-E
        assert_eq!(e.text.text(), "second");
        sent(&mut e, b"\x08\x1b[104;5u\x7f"); // Ctrl-H legacy, Ctrl-H as CSI u, Backspace
        assert_eq!(e.text.text(), "sec");
        sent(&mut e, b"\x1b\x7f"); // Alt-Backspace
        assert!(e.text.is_empty());
        typed(&mut e, "ab cd");
        sent(&mut e, b"\x01\x04\x1b[3;5~"); // Ctrl-A, Ctrl-D, Ctrl-Delete
        assert_eq!(e.text.text(), " cd");
        sent(&mut e, b"\x0e"); // Ctrl-N on the last line: nowhere to go
        assert_eq!(e.text.text(), " cd");
    }

    #[test]
    fn undo_and_redo_keys() {
        let mut e = Editor::new(MessageKind::Note, TicketNo(3));
        typed(&mut e, "one two");
        e.paste(" pasted");
        sent(&mut e, b"\x1a"); // Ctrl-Z: the paste
        assert_eq!(e.text.text(), "one two");
        sent(&mut e, b"\x15"); // Ctrl-U: the typing
        assert!(e.text.is_empty());
        sent(&mut e, b"\x19"); // Ctrl-Y
        assert_eq!(e.text.text(), "one two");
        sent(&mut e, b"\x12"); // Ctrl-R
        assert_eq!(e.text.text(), "one two pasted");
        assert!(matches!(
            e.handle(ctrl('s')),
            Outcome::Done(Action::Choice(Choice::Send(MessageKind::Note, text))) if text == "one two pasted"
        ));
    }

    /// The footer and the hints say only what the tables do, and no editing key takes
    /// a key the editor already uses.
    #[test]
    fn the_footer_is_truthful_and_keys_do_not_collide() {
        assert!(matches!(lookup(KEYS, ctrl('s')), Some(EditorKey::Send)));
        assert!(matches!(
            lookup(KEYS, alt(KeyCode::Enter)),
            Some(EditorKey::Send)
        ));
        assert!(matches!(
            lookup(KEYS, key(KeyCode::Esc)),
            Some(EditorKey::Cancel)
        ));
        assert_eq!(lookup(EDIT_KEYS, ctrl('z')), Some(EditKey::Undo));
        assert_eq!(lookup(EDIT_KEYS, ctrl('y')), Some(EditKey::Redo));
        for part in FOOTER.split("   ") {
            let (keys, _) = part.split_once(": ").expect(part);
            for name in keys.split(" or ") {
                let known = KEYS
                    .iter()
                    .flat_map(|b| b.keys)
                    .chain(EDIT_KEYS.iter().flat_map(|b| b.keys))
                    .any(|k| k.to_string() == name);
                assert!(known, "{name} in the footer is bound");
            }
        }
        for binding in EDIT_KEYS {
            for &k in binding.keys {
                assert!(lookup(KEYS, k).is_none(), "{k} is taken");
            }
        }
        let hints = Editor::new(MessageKind::Note, TicketNo(1)).hints();
        assert!(hints.contains(&("Ctrl-Z".to_string(), "undo")), "{hints:?}");
    }
}
