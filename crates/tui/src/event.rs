//! Sealdesk's own input events.
//!
//! Screens react to these types only; the SSH byte parser (`ssh::input`) produces them.
//! Keeping them free of crossterm and russh types means a screen can be tested by
//! feeding it plain values, and the transport can change without touching the UI.

use std::fmt;
use std::ops::BitOr;

/// Something the terminal told us: a key, a paste, or a new window size.
/// Largest bracketed paste kept (`Event::Paste`); the terminal parser drops the excess so
/// a runaway paste cannot exhaust memory, and the draft editor holds at most this much.
pub const PASTE_MAX: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    Key(KeyEvent),
    /// Bracketed paste: printable text, `\n` and `\t` only (line breaks normalised,
    /// other control characters removed), so pasted text cannot inject escapes.
    Paste(String),
    /// The agent's terminal changed size (from SSH window-change, not from the byte stream).
    Resize {
        cols: u16,
        rows: u16,
    },
}

/// A key press together with the modifiers held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    pub code: KeyCode,
    pub mods: Modifiers,
}

/// Which key was pressed.
///
/// `Char` carries the character as typed, so `Shift` is already folded into it
/// (`Char('A')`, not `Shift+Char('a')`); the `shift` modifier only appears on
/// keys that have no shifted character, such as arrows. Ctrl-letters always carry
/// the lowercase letter (`Ctrl+Char('c')`), since terminals cannot tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    Char(char),
    Enter,
    Tab,
    /// Shift-Tab; terminals send it as its own sequence.
    BackTab,
    Backspace,
    Delete,
    Insert,
    Esc,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    /// Function key, `F(1)` to `F(20)`.
    F(u8),
}

/// Modifier keys held during a key press. Combine with `|`: `Modifiers::CTRL | Modifiers::ALT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modifiers {
    pub shift: bool,
    pub ctrl: bool,
    pub alt: bool,
}

impl Modifiers {
    pub const NONE: Self = Self {
        shift: false,
        ctrl: false,
        alt: false,
    };
    pub const SHIFT: Self = Self {
        shift: true,
        ..Self::NONE
    };
    pub const CTRL: Self = Self {
        ctrl: true,
        ..Self::NONE
    };
    pub const ALT: Self = Self {
        alt: true,
        ..Self::NONE
    };

    pub fn is_empty(self) -> bool {
        self == Self::NONE
    }
}

impl BitOr for Modifiers {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self {
            shift: self.shift || rhs.shift,
            ctrl: self.ctrl || rhs.ctrl,
            alt: self.alt || rhs.alt,
        }
    }
}

impl KeyEvent {
    pub fn new(code: KeyCode, mods: Modifiers) -> Self {
        Self { code, mods }
    }

    /// A key without modifiers.
    pub fn plain(code: KeyCode) -> Self {
        Self::new(code, Modifiers::NONE)
    }

    /// Ctrl plus a character, e.g. `KeyEvent::ctrl('c')`.
    pub fn ctrl(c: char) -> Self {
        Self::new(KeyCode::Char(c), Modifiers::CTRL)
    }

    /// Alt plus a character, e.g. `KeyEvent::alt('x')`.
    pub fn alt(c: char) -> Self {
        Self::new(KeyCode::Char(c), Modifiers::ALT)
    }
}

impl From<KeyCode> for KeyEvent {
    fn from(code: KeyCode) -> Self {
        Self::plain(code)
    }
}

impl fmt::Display for KeyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            KeyCode::Char(' ') => "Space",
            KeyCode::Char(c) => return write!(f, "{c}"),
            KeyCode::F(n) => return write!(f, "F{n}"),
            KeyCode::Enter => "Enter",
            KeyCode::Tab => "Tab",
            KeyCode::BackTab => "Shift-Tab",
            KeyCode::Backspace => "Backspace",
            KeyCode::Delete => "Del",
            KeyCode::Insert => "Ins",
            KeyCode::Esc => "Esc",
            KeyCode::Up => "Up",
            KeyCode::Down => "Down",
            KeyCode::Left => "Left",
            KeyCode::Right => "Right",
            KeyCode::Home => "Home",
            KeyCode::End => "End",
            KeyCode::PageUp => "PgUp",
            KeyCode::PageDown => "PgDn",
        };
        f.write_str(name)
    }
}

/// Human-readable name for help screens: "Ctrl-C", "Alt-x", "Shift-Up", "PgDn".
///
/// Ctrl-letters are shown uppercase, as keyboards label them; everything else is
/// shown as typed.
impl fmt::Display for KeyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.mods.alt {
            f.write_str("Alt-")?;
        }
        // BackTab's name already says Shift.
        if self.mods.shift && self.code != KeyCode::BackTab {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(c) if self.mods.ctrl && c.is_ascii_lowercase() => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            code => code.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        let cases = [
            (KeyEvent::ctrl('c'), "Ctrl-C"),
            (KeyEvent::alt('x'), "Alt-x"),
            (KeyEvent::plain(KeyCode::PageDown), "PgDn"),
            (KeyEvent::plain(KeyCode::F(5)), "F5"),
            (KeyEvent::plain(KeyCode::Char(' ')), "Space"),
            (KeyEvent::ctrl(' '), "Ctrl-Space"),
            (KeyEvent::plain(KeyCode::BackTab), "Shift-Tab"),
            (
                KeyEvent::new(KeyCode::BackTab, Modifiers::SHIFT),
                "Shift-Tab",
            ),
            (
                KeyEvent::new(KeyCode::Up, Modifiers::CTRL | Modifiers::SHIFT),
                "Ctrl-Shift-Up",
            ),
            (
                KeyEvent::new(KeyCode::Char('q'), Modifiers::CTRL | Modifiers::ALT),
                "Ctrl-Alt-Q",
            ),
            (KeyEvent::alt('X'), "Alt-X"),
            (KeyEvent::plain(KeyCode::Char('é')), "é"),
        ];
        for (key, name) in cases {
            assert_eq!(key.to_string(), name, "{key:?}");
        }
    }

    #[test]
    fn modifiers_combine() {
        let m = Modifiers::CTRL | Modifiers::ALT;
        assert!(m.ctrl && m.alt && !m.shift);
        assert!(Modifiers::NONE.is_empty());
        assert!(!m.is_empty());
        assert_eq!(Modifiers::default(), Modifiers::NONE);
    }
}
