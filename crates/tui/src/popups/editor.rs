//! The reply / internal-note editor: a pane of the ticket screen, below (or beside) the
//! thread, holding a multi-line [`Draft`] with undo and the emacs-style line and word
//! keys agents know from readline, and for replies the To/Cc/Bcc lines.
//!
//! The two kinds look different on purpose (title, border role, wording): a note typed
//! into the reply editor would be mailed to the customer.
//!
//! The editor never touches the desk: it answers each key with an [`EditorEvent`] and
//! the ticket screen keeps the draft (saved a moment after typing stops, and at once on
//! Esc), sends it, discards it or detaches a file.

use super::draft::{Draft, Move};
use crate::display::human_size;
use crate::event::{KeyCode, KeyEvent, Modifiers};
use crate::keymap::{alt, bind, ch, ctrl, hints as table_hints, key, lookup, Binding};
use crate::theme::{Role, Theme};
use crate::widgets::list;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use sealdesk_model::{Attachment, MessageKind, Parties, TicketNo};
use std::borrow::Cow;
use std::time::Instant;

#[derive(Clone, Copy)]
enum EditorKey {
    Send,
    Keep,
    Discard,
    Detach,
    Template,
    NextField,
    PreviousField,
    Scroll(list::Move),
}

const fn with(code: KeyCode, mods: Modifiers) -> KeyEvent {
    KeyEvent { code, mods }
}

const KEYS: &[Binding<EditorKey>] = &[
    bind(
        &[ctrl('s'), alt(KeyCode::Enter)],
        EditorKey::Send,
        "send the reply or note",
        Some("send"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        EditorKey::Keep,
        "close the editor, keeping the draft",
        Some("keep draft"),
    ),
    bind(
        &[ctrl('x')],
        EditorKey::Discard,
        "discard the draft (asks first)",
        Some("discard"),
    ),
    bind(
        &[ctrl('t')],
        EditorKey::Template,
        "insert a saved reply at the cursor (type to filter)",
        Some("saved reply"),
    ),
    bind(
        &[ctrl('o')],
        EditorKey::Detach,
        "take a file off the draft",
        None,
    ),
    bind(
        &[key(KeyCode::BackTab)],
        EditorKey::PreviousField,
        "up to Bcc, Cc, To (in replies)",
        None,
    ),
    bind(
        &[alt(KeyCode::Up)],
        EditorKey::Scroll(list::Move::Up),
        "scroll the thread up",
        None,
    ),
    bind(
        &[alt(KeyCode::Down)],
        EditorKey::Scroll(list::Move::Down),
        "scroll the thread down",
        None,
    ),
    bind(
        &[alt(KeyCode::PageUp)],
        EditorKey::Scroll(list::Move::PageUp),
        "scroll the thread a page up",
        None,
    ),
    bind(
        &[alt(KeyCode::PageDown)],
        EditorKey::Scroll(list::Move::PageDown),
        "scroll the thread a page down",
        None,
    ),
];

/// Tab moves on from a To/Cc/Bcc line; in the text it indents.
const FIELD_KEYS: &[Binding<EditorKey>] = &[
    bind(
        &[key(KeyCode::Tab), key(KeyCode::Enter)],
        EditorKey::NextField,
        "on to the next field: To, Cc, Bcc, then the text",
        None,
    ),
    bind(
        &[key(KeyCode::Down)],
        EditorKey::NextField,
        "next line",
        None,
    ),
    bind(
        &[key(KeyCode::Up)],
        EditorKey::PreviousField,
        "up a field",
        None,
    ),
];

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
    bind(&[ctrl('p')], EditKey::Move(Move::Up), "row up", None),
    bind(&[ctrl('n')], EditKey::Move(Move::Down), "row down", None),
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
/// them): as many of these as fit the pane's width, in this order of importance.
const FOOTER: &[&str] = &[
    "Ctrl-S: send",
    "Esc: keep draft",
    "Ctrl-T: saved reply",
    "Ctrl-X: discard",
    "Alt-Up: scroll thread",
];

/// The parts of [`FOOTER`] that fit in `width` columns, three spaces apart.
fn footer_text(width: usize) -> String {
    let mut line = String::new();
    for part in FOOTER {
        let gap = if line.is_empty() { 0 } else { 3 };
        if line.chars().count() + gap + part.chars().count() <= width {
            line.push_str(&"   "[..gap]);
            line.push_str(part);
        }
    }
    line
}

#[derive(Clone, Copy)]
enum DiscardKey {
    Discard,
    Keep,
}

/// Asked before Ctrl-X throws a draft away.
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

/// What a key in the editor asks the ticket screen to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EditorEvent {
    /// Nothing for the screen.
    Stay,
    /// The text or a To/Cc/Bcc line changed: save the draft soon.
    Edited,
    /// Close the editor, keeping the draft (Esc).
    Keep,
    /// Send it (the addresses are checked: [`Editor::parties`]).
    Send,
    /// Confirmed: throw the draft away.
    Discard,
    /// Pick a file to take off the draft.
    Detach,
    /// Pick a saved reply to insert at the cursor ([`Editor::insert_text`]).
    PickTemplate,
    /// Scroll the thread above.
    Scroll(list::Move),
}

/// Where the agent is typing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Focus {
    /// To, Cc or Bcc.
    Field(usize),
    Body,
}

const FIELD_NAMES: [&str; 3] = ["To", "Cc", "Bcc"];

pub(crate) struct Editor {
    kind: MessageKind,
    ticket: TicketNo,
    text: Draft,
    /// To, Cc and Bcc as typed, comma-separated (replies only).
    fields: [String; 3],
    focus: Focus,
    /// The files on the draft (uploaded over SFTP or attached on the CLI).
    files: Vec<Attachment>,
    confirm_discard: bool,
    /// Why the last send or save did not go through; shown until the next key.
    error: Option<Cow<'static, str>>,
    /// Other agents replying on this ticket, in words.
    warning: Option<String>,
    /// While something is not saved yet: when the agent last pressed a key. Any key
    /// (a move, a key refused at the cap) counts, so the draft is saved once typing
    /// stops, not in the middle of a burst.
    edited: Option<Instant>,
}

impl Editor {
    /// An editor on `body`, with the cursor at its end; `parties` fill To/Cc/Bcc of a
    /// reply.
    pub(crate) fn new(
        kind: MessageKind,
        ticket: TicketNo,
        body: &str,
        parties: &Parties,
        files: Vec<Attachment>,
    ) -> Self {
        let fields = [&parties.to, &parties.cc, &parties.bcc].map(|list| {
            let mut line = String::new();
            crate::field::push_str(&mut line, &list.join(", "));
            line
        });
        Editor {
            kind,
            ticket,
            text: Draft::new(body),
            fields,
            focus: Focus::Body,
            files,
            confirm_discard: false,
            error: None,
            warning: None,
            edited: None,
        }
    }

    pub(crate) fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The text as it would be sent.
    pub(crate) fn body(&self) -> String {
        self.text.text()
    }

    /// Something written or attached: a draft worth keeping.
    pub(crate) fn has_content(&self) -> bool {
        !self.text.text().trim().is_empty() || !self.files.is_empty()
    }

    pub(crate) fn files(&self) -> &[Attachment] {
        &self.files
    }

    pub(crate) fn set_files(&mut self, files: Vec<Attachment>) {
        self.files = files;
    }

    pub(crate) fn set_warning(&mut self, warning: Option<String>) {
        self.warning = warning;
    }

    pub(crate) fn set_error(&mut self, error: String) {
        self.error = Some(Cow::Owned(error));
    }

    /// If there are unsaved changes: when the agent last pressed a key.
    pub(crate) fn edited(&self) -> Option<Instant> {
        self.edited
    }

    pub(crate) fn saved(&mut self) {
        self.edited = None;
    }

    /// The To/Cc/Bcc lines as typed, for keeping in the draft (not checked).
    pub(crate) fn typed_parties(&self) -> Parties {
        if self.kind == MessageKind::Note {
            return Parties::default();
        }
        let [to, cc, bcc] = self.fields.each_ref().map(|line| {
            line.split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect()
        });
        Parties { to, cc, bcc }
    }

    /// The recipients to send to, each checked: a bare address, or `Name <address>`;
    /// the reason (naming the line) if one is not an address or To is empty.
    pub(crate) fn parties(&self) -> Result<Parties, String> {
        let typed = self.typed_parties();
        if self.kind == MessageKind::Note {
            return Ok(typed);
        }
        let mut checked: [Vec<String>; 3] = Default::default();
        for (i, list) in [&typed.to, &typed.cc, &typed.bcc].into_iter().enumerate() {
            for entry in list {
                let address = sealdesk_model::mailbox_address(entry);
                if !sealdesk_model::is_plausible_email(&address) {
                    return Err(format!(
                        "{:?} in {} is not an email address: fix it, or Shift-Tab to the line",
                        sealdesk_model::sanitize::line(entry),
                        FIELD_NAMES[i]
                    ));
                }
                checked[i].push(address.to_string());
            }
        }
        let [to, cc, bcc] = checked;
        if to.is_empty() {
            return Err(
                "the reply has no To: give it an address (Shift-Tab to the To line)".into(),
            );
        }
        Ok(Parties { to, cc, bcc })
    }

    fn edited_now(&mut self) -> EditorEvent {
        self.edited = Some(Instant::now());
        EditorEvent::Edited
    }

    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> EditorEvent {
        self.error = None;
        if self.edited.is_some() {
            self.edited = Some(Instant::now());
        }
        if self.confirm_discard {
            match lookup(DISCARD_KEYS, pressed) {
                Some(DiscardKey::Discard) => return EditorEvent::Discard,
                Some(DiscardKey::Keep) => self.confirm_discard = false,
                None => {}
            }
            return EditorEvent::Stay;
        }
        let in_field = matches!(self.focus, Focus::Field(_));
        let bound = lookup(KEYS, pressed)
            .or_else(|| in_field.then(|| lookup(FIELD_KEYS, pressed)).flatten());
        match bound {
            Some(EditorKey::Send) => {
                if self.text.text().trim().is_empty() && self.files.is_empty() {
                    self.error = Some(Cow::Borrowed(
                        "nothing to send yet: write something, or Esc",
                    ));
                    return EditorEvent::Stay;
                }
                return EditorEvent::Send;
            }
            Some(EditorKey::Keep) => return EditorEvent::Keep,
            Some(EditorKey::Discard) => {
                if self.text.is_empty() && self.files.is_empty() {
                    return EditorEvent::Discard;
                }
                self.confirm_discard = true;
                return EditorEvent::Stay;
            }
            Some(EditorKey::Detach) => {
                if self.files.is_empty() {
                    self.error = Some(Cow::Borrowed("no file is attached to this draft"));
                    return EditorEvent::Stay;
                }
                return EditorEvent::Detach;
            }
            Some(EditorKey::Template) => return EditorEvent::PickTemplate,
            Some(EditorKey::Scroll(step)) => return EditorEvent::Scroll(step),
            Some(EditorKey::NextField) => {
                self.focus = match self.focus {
                    Focus::Field(i) if i + 1 < FIELD_NAMES.len() => Focus::Field(i + 1),
                    _ => Focus::Body,
                };
                return EditorEvent::Stay;
            }
            Some(EditorKey::PreviousField) => {
                if self.kind != MessageKind::Note {
                    self.focus = match self.focus {
                        Focus::Body => Focus::Field(FIELD_NAMES.len() - 1),
                        Focus::Field(i) => Focus::Field(i.saturating_sub(1)),
                    };
                }
                return EditorEvent::Stay;
            }
            None => {}
        }
        if let Focus::Field(i) = self.focus {
            return self.edit_field(i, pressed);
        }
        let before = self.text.version();
        let typed = self.edit(pressed);
        if !typed {
            self.error = Some(Cow::Borrowed(FULL));
        }
        if self.text.version() != before {
            return self.edited_now();
        }
        EditorEvent::Stay
    }

    /// A key on a To/Cc/Bcc line: typing, Backspace, Ctrl-U or Ctrl-W to clear.
    fn edit_field(&mut self, i: usize, pressed: KeyEvent) -> EditorEvent {
        let line = &mut self.fields[i];
        let plain = !pressed.mods.ctrl && !pressed.mods.alt;
        match pressed.code {
            KeyCode::Char(c) if plain && !sealdesk_model::sanitize::is_unsafe(c) => {
                if !crate::field::push(line, c) {
                    self.error = Some(Cow::Owned(crate::field::full()));
                    return EditorEvent::Stay;
                }
            }
            KeyCode::Backspace => {
                line.pop();
            }
            KeyCode::Char('u' | 'w') if pressed.mods.ctrl => line.clear(),
            _ => return EditorEvent::Stay,
        }
        self.edited_now()
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
    pub(crate) fn paste(&mut self, text: &str) -> EditorEvent {
        if self.confirm_discard {
            return EditorEvent::Stay;
        }
        if let Focus::Field(i) = self.focus {
            let clean = sealdesk_model::sanitize::line(text);
            if !crate::field::push_str(&mut self.fields[i], &clean) {
                self.error = Some(Cow::Owned(crate::field::full()));
            }
            return self.edited_now();
        }
        if !self
            .text
            .insert_str(&sealdesk_model::sanitize::multiline(text))
        {
            self.error = Some(Cow::Borrowed(FULL));
        }
        self.edited_now()
    }

    /// A saved reply chosen in the picker: inserted into the text at its cursor (with
    /// the cleaning and the cap of a paste), whichever line was focused.
    pub(crate) fn insert_text(&mut self, text: &str) -> EditorEvent {
        self.confirm_discard = false;
        self.focus = Focus::Body;
        self.paste(text)
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

    /// The editor's own keys for the `?` page of the ticket screen (the editing keys
    /// are readline's, and named in the footer); the first key of each binding, so the
    /// page stays narrow.
    pub(crate) fn help() -> Vec<crate::keymap::HelpSection> {
        let section = |title, table: &[Binding<EditorKey>]| crate::keymap::HelpSection {
            title,
            rows: table
                .iter()
                .map(|b| {
                    (
                        b.keys.first().map(ToString::to_string).unwrap_or_default(),
                        b.help,
                    )
                })
                .collect(),
        };
        vec![
            section("While writing", KEYS),
            section("On a To/Cc/Bcc line (Tab in the text indents)", FIELD_KEYS),
        ]
    }

    /// Rows the editor wants at least: its frame, the label, To/Cc/Bcc, the files,
    /// three rows of text and the footer.
    pub(crate) fn min_height(&self) -> u16 {
        let fields = if self.kind == MessageKind::Note { 0 } else { 3 };
        2 + 1 + fields + u16::from(!self.files.is_empty()) + 3 + 1
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (title, role) = match self.kind {
            MessageKind::Note => (
                format!(
                    " Internal note on {} (never sent to the customer) ",
                    self.ticket
                ),
                Role::MsgNote,
            ),
            _ => (
                format!(" Reply to {} (mailed to the customer) ", self.ticket),
                Role::MsgOutbound,
            ),
        };
        let block = Block::bordered()
            .title(title)
            .style(theme.style(Role::Popup))
            .border_style(theme.style(Role::BorderFocused))
            .title_style(theme.style(Role::Title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let fields = if self.kind == MessageKind::Note { 0 } else { 3 };
        let files = u16::from(!self.files.is_empty());
        let [label, header, files_area, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(fields),
            Constraint::Length(files),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let label_line = match &self.warning {
            Some(warning) => Line::styled(
                sealdesk_model::sanitize::line(warning).into_owned(),
                theme.style(Role::DueSoon),
            ),
            None => Line::styled(
                match self.kind {
                    MessageKind::Note => "note: only agents will see this",
                    _ => "reply: the customer will receive this by mail",
                },
                theme.style(role),
            ),
        };
        frame.render_widget(Paragraph::new(label_line), label);
        for (i, name) in FIELD_NAMES.iter().enumerate().take(fields as usize) {
            let row = Rect {
                y: header.y + i as u16,
                height: 1,
                ..header
            };
            let focused = self.focus == Focus::Field(i);
            let prefix = format!("{name:>4}: ");
            let room = usize::from(row.width).saturating_sub(prefix.len() + 1);
            let shown = crate::field::tail(&self.fields[i], room).to_string();
            let mut spans = vec![
                Span::styled(prefix, theme.style(Role::Muted)),
                Span::styled(shown, theme.style(Role::Input)),
            ];
            if focused {
                spans.push(Span::styled(" ", theme.style(Role::InputCursor)));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), row);
        }
        if !self.files.is_empty() {
            let names: Vec<String> = self
                .files
                .iter()
                .map(|f| {
                    format!(
                        "{} ({})",
                        sealdesk_model::sanitize::line(&f.name),
                        human_size(f.size)
                    )
                })
                .collect();
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!("files: {}   Ctrl-O: detach one", names.join(", ")),
                    theme.style(Role::Muted),
                )),
                files_area,
            );
        }
        let cursor = if self.focus == Focus::Body {
            theme.style(Role::InputCursor)
        } else {
            theme.style(Role::Input)
        };
        self.text
            .render(frame.buffer_mut(), body, theme.style(Role::Input), cursor);
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
            Line::styled(
                footer_text(usize::from(footer.width)),
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

    fn reply() -> Editor {
        let parties = Parties {
            to: vec!["ann@example.com".into()],
            ..Parties::default()
        };
        Editor::new(MessageKind::Outbound, TicketNo(3), "", &parties, Vec::new())
    }

    fn note() -> Editor {
        Editor::new(
            MessageKind::Note,
            TicketNo(3),
            "",
            &Parties::default(),
            Vec::new(),
        )
    }

    fn typed(editor: &mut Editor, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            assert!(matches!(
                editor.handle(key(code)),
                EditorEvent::Stay | EditorEvent::Edited
            ));
        }
    }

    #[test]
    fn sends_typed_and_pasted_text() {
        let mut e = reply();
        typed(&mut e, "Hello\nthere ");
        e.paste("pasted\u{1b}]52;c;eA==\u{7}\ttext");
        assert_eq!(e.handle(ctrl('s')), EditorEvent::Send);
        assert_eq!(e.body(), "Hello\nthere pasted text");
        let mut e = note();
        typed(&mut e, "n");
        assert_eq!(e.handle(alt(KeyCode::Enter)), EditorEvent::Send);
        assert_eq!(e.parties(), Ok(Parties::default()));
    }

    #[test]
    fn the_limit_message_tells_the_real_limits() {
        use super::super::draft::{DRAFT_MAX, DRAFT_MAX_LINES};
        let limits = format!("({} MiB or {DRAFT_MAX_LINES} lines)", DRAFT_MAX >> 20);
        assert!(FULL.contains(&limits), "{FULL}");
    }

    /// Esc keeps the draft; Ctrl-X asks before throwing it away; typing is announced
    /// (for the debounced save) but moving the cursor is not.
    #[test]
    fn esc_keeps_ctrl_x_asks_and_edits_are_told_apart() {
        let mut e = reply();
        assert_eq!(e.handle(ctrl('s')), EditorEvent::Stay, "nothing to send");
        assert!(e.error.is_some());
        assert_eq!(e.handle(ctrl('x')), EditorEvent::Discard, "empty: at once");
        assert!(e.edited().is_none());
        assert_eq!(e.handle(ch('d')), EditorEvent::Edited);
        assert!(e.edited().is_some());
        e.saved();
        assert_eq!(e.handle(key(KeyCode::Left)), EditorEvent::Stay);
        assert!(e.edited().is_none(), "a move changes nothing to save");
        assert_eq!(e.handle(key(KeyCode::Esc)), EditorEvent::Keep);
        assert_eq!(e.handle(ctrl('x')), EditorEvent::Stay);
        assert_eq!(e.handle(ch('n')), EditorEvent::Stay);
        typed(&mut e, "!");
        assert_eq!(e.text.lines(), ["!d"]);
        e.handle(ctrl('x'));
        assert_eq!(e.handle(ch('y')), EditorEvent::Discard);
    }

    /// Shift-Tab goes up to Bcc, Cc and To; Tab comes back down to the text, where it
    /// indents. Addresses are checked only when sending.
    #[test]
    fn to_cc_bcc_lines_are_edited_and_checked() {
        let mut e = reply();
        typed(&mut e, "Hi");
        e.handle(key(KeyCode::BackTab)); // Bcc
        e.handle(key(KeyCode::BackTab)); // Cc
        typed(&mut e, "Bob <bob@example.com>, not-an-address");
        assert_eq!(
            e.typed_parties().cc,
            ["Bob <bob@example.com>", "not-an-address"]
        );
        let problem = e.parties().unwrap_err();
        assert!(problem.contains("\"not-an-address\" in Cc"), "{problem}");
        for _ in 0.."not-an-address".len() {
            e.handle(key(KeyCode::Backspace));
        }
        e.handle(key(KeyCode::Up)); // To
        e.handle(ctrl('u'));
        assert!(e.parties().unwrap_err().contains("no To"));
        typed(&mut e, "ann@example.com");
        e.handle(key(KeyCode::Tab)); // Cc
        e.handle(key(KeyCode::Tab)); // Bcc
        e.paste("audit@example.com");
        e.handle(key(KeyCode::Tab)); // the text
        e.handle(key(KeyCode::Tab)); // indents
        assert_eq!(
            e.parties(),
            Ok(Parties {
                to: vec!["ann@example.com".into()],
                cc: vec!["bob@example.com".into()],
                bcc: vec!["audit@example.com".into()],
            })
        );
        assert_eq!(e.body(), "Hi  ");
        // A note has no such lines: Shift-Tab stays in the text.
        let mut n = note();
        n.handle(key(KeyCode::BackTab));
        typed(&mut n, "x");
        assert_eq!(n.body(), "x");
    }

    /// Ctrl-T asks for the picker; what it chose goes into the text at the cursor, even
    /// from a To/Cc/Bcc line, and counts as an edit (the draft is saved soon).
    #[test]
    fn a_saved_reply_goes_into_the_text_at_the_cursor() {
        let mut e = reply();
        typed(&mut e, "Hi  bye");
        for _ in 0..4 {
            e.handle(key(KeyCode::Left));
        }
        assert_eq!(e.handle(ctrl('t')), EditorEvent::PickTemplate);
        e.handle(key(KeyCode::BackTab)); // on the Bcc line
        e.saved();
        assert_eq!(e.insert_text("Hello Ann,\nthanks."), EditorEvent::Edited);
        assert!(e.edited().is_some());
        assert_eq!(e.body(), "Hi Hello Ann,\nthanks. bye");
        assert_eq!(e.typed_parties().bcc, Vec::<String>::new());
        typed(&mut e, "!");
        assert_eq!(
            e.body(),
            "Hi Hello Ann,\nthanks.! bye",
            "the focus is back in the text"
        );
    }

    /// The footer keeps what fits the pane, most important first; at 80 columns (78
    /// inside the frame) Ctrl-T is named.
    #[test]
    fn the_footer_fits_the_pane() {
        let wide = footer_text(200);
        assert_eq!(wide.split("   ").count(), FOOTER.len());
        let narrow = footer_text(78);
        assert!(
            narrow.len() <= 78 && narrow.contains("Ctrl-T: saved reply"),
            "{narrow}"
        );
        assert!(
            footer_text(68).contains("Ctrl-T"),
            "beside the thread at 140 columns"
        );
        assert_eq!(footer_text(5), "");
    }

    /// Feeds `bytes` through the SSH decoder, as an agent's terminal would send them.
    fn sent(editor: &mut Editor, bytes: &[u8]) {
        let mut parser = crate::input::InputParser::new();
        let mut events = parser.feed(bytes);
        events.extend(parser.flush_timeout());
        for event in events {
            match event {
                crate::event::Event::Key(k) => {
                    assert!(
                        matches!(editor.handle(k), EditorEvent::Stay | EditorEvent::Edited),
                        "{k:?}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn emacs_keys_as_terminals_send_them() {
        let mut e = reply();
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
        // Alt-Up and Alt-PageDown scroll the thread, not the text.
        let mut parser = crate::input::InputParser::new();
        let events = parser.feed(b"\x1b[1;3A\x1b[6;3~");
        let steps: Vec<EditorEvent> = events
            .into_iter()
            .map(|ev| match ev {
                crate::event::Event::Key(k) => e.handle(k),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            steps,
            [
                EditorEvent::Scroll(list::Move::Up),
                EditorEvent::Scroll(list::Move::PageDown)
            ]
        );
    }

    #[test]
    fn undo_and_redo_keys() {
        let mut e = note();
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
        assert_eq!(e.handle(ctrl('s')), EditorEvent::Send);
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
            Some(EditorKey::Keep)
        ));
        assert_eq!(lookup(EDIT_KEYS, ctrl('z')), Some(EditKey::Undo));
        assert_eq!(lookup(EDIT_KEYS, ctrl('y')), Some(EditKey::Redo));
        for part in FOOTER {
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
        for binding in EDIT_KEYS
            .iter()
            .map(|b| b.keys)
            .chain(FIELD_KEYS.iter().map(|b| b.keys))
        {
            for &k in binding {
                assert!(lookup(KEYS, k).is_none(), "{k} is taken");
            }
        }
        let hints = note().hints();
        assert!(hints.contains(&("Ctrl-Z".to_string(), "undo")), "{hints:?}");
    }
}
