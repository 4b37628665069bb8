//! Turns the raw bytes an agent's terminal sends over SSH into [`Event`]s.
//!
//! Terminals disagree about escape sequences, so this accepts the union of what xterm,
//! GNOME/VTE, iTerm2, Windows Terminal, kitty (legacy mode), tmux, screen, rxvt, PuTTY
//! and the Linux console send. Anything unrecognised is swallowed whole, never leaked as
//! typed characters, and every buffer is bounded so hostile input cannot grow memory.
//!
//! ESC is ambiguous: alone it is the Esc key, before a byte it means Alt+that key, and
//! before `[` or `O` it starts a sequence. A trailing ESC therefore stays pending until
//! more bytes arrive or the session calls [`InputParser::flush_timeout`] after
//! [`ESC_TIMEOUT`] of silence.
//!
//! ESC ESC counts as two Esc presses, not Alt-Esc: agents double-tap Esc to back out of
//! nested dialogs, and over SSH both presses can arrive in one packet. The exception is
//! ESC ESC followed by a `[`/`O` sequence, which rxvt, PuTTY and older iTerm2 send for
//! Alt+arrow and friends; that becomes the sequence's key with Alt added.

use std::time::Duration;

use crate::event::{Event, KeyCode, KeyEvent, Modifiers};

/// How long a lone ESC waits for a following byte before it counts as the Esc key.
/// Terminals send a whole sequence in one write, so 50 ms is ample even over SSH.
pub const ESC_TIMEOUT: Duration = Duration::from_millis(50);

pub use crate::event::PASTE_MAX;

/// Longest CSI parameter string kept; real keys need fewer than 16 bytes.
const SEQ_MAX: usize = 32;

const ESC: u8 = 0x1b;
const PASTE_END: &[u8] = b"\x1b[201~";

/// Where the parser is between bytes. `alt` means an extra ESC came first, which
/// adds Alt to the key (or, for `Esc`, means ESC ESC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    Esc { alt: bool },
    // After ESC `[`; parameter and intermediate bytes collect in `seq`.
    Csi { alt: bool },
    // A CSI longer than SEQ_MAX: skip bytes up to its final byte.
    CsiOverflow,
    // After ESC `O`; optional modifier digits collect in `seq`.
    Ss3 { alt: bool },
    // After ESC `[[` (Linux console F1–F5).
    LinuxFn { alt: bool },
    // X10 mouse report (ESC `[M` b x y): raw bytes still to skip.
    Mouse { left: u8 },
    // Inside a UTF-8 character of `need` bytes; the bytes so far are in `seq`.
    Utf8 { need: u8, alt: bool },
    // Inside a bracketed paste; `matched` bytes of PASTE_END seen so far.
    Paste { matched: u8 },
}

/// What a complete escape sequence means.
enum Action {
    Key(KeyCode, Modifiers),
    PasteStart,
    Ignore,
}

/// Stateful byte-to-event parser; one per SSH session.
#[derive(Debug)]
pub struct InputParser {
    state: State,
    seq: Vec<u8>,
    paste: Vec<u8>,
    /// The last byte was `\r`, so a following `\n` belongs to the same Enter.
    after_cr: bool,
}

impl Default for InputParser {
    fn default() -> Self {
        Self::new()
    }
}

impl InputParser {
    pub fn new() -> Self {
        Self {
            state: State::Ground,
            seq: Vec::with_capacity(SEQ_MAX),
            paste: Vec::new(),
            after_cr: false,
        }
    }

    /// Parses the next chunk of bytes. Sequences and UTF-8 characters may be split
    /// across calls; the unfinished part is kept until the next call.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        for &b in bytes {
            let after_cr = std::mem::take(&mut self.after_cr);
            if after_cr && b == b'\n' && self.state == State::Ground {
                continue;
            }
            self.step(b, &mut out);
        }
        out
    }

    /// Resolves whatever is pending after [`ESC_TIMEOUT`] without input: a lone ESC
    /// becomes Esc, ESC `[` / ESC `O` become Alt-`[` / Alt-`O`, a cut-off UTF-8
    /// character becomes U+FFFD and any other partial sequence is dropped.
    /// A bracketed paste is left alone: it ends only with its end marker.
    pub fn flush_timeout(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.after_cr = false;
        let lone = self.seq.is_empty();
        // (an ESC ESC's first Esc still to report, key, modifiers)
        let pending = match self.state {
            State::Ground | State::Paste { .. } => return out,
            State::Esc { alt } => Some((alt, KeyCode::Esc, Modifiers::NONE)),
            State::Csi { alt } if lone => Some((alt, KeyCode::Char('['), Modifiers::ALT)),
            State::Ss3 { alt } if lone => Some((alt, KeyCode::Char('O'), Modifiers::ALT)),
            State::Utf8 { alt, .. } => Some((false, KeyCode::Char('\u{fffd}'), alt_mods(alt))),
            _ => None,
        };
        if let Some((esc_first, code, mods)) = pending {
            if esc_first {
                emit(&mut out, KeyCode::Esc, Modifiers::NONE);
            }
            emit(&mut out, code, mods);
        }
        self.reset();
        out
    }

    /// True while bytes wait for more input; the session should then call
    /// [`flush_timeout`](Self::flush_timeout) after [`ESC_TIMEOUT`] of silence.
    /// False inside a bracketed paste, which has no timeout.
    pub fn has_pending(&self) -> bool {
        !matches!(self.state, State::Ground | State::Paste { .. })
    }

    fn reset(&mut self) {
        self.state = State::Ground;
        self.seq.clear();
    }

    /// Abandons a malformed sequence and reads `b` afresh (it may start the next key).
    fn abort(&mut self, b: u8, out: &mut Vec<Event>) {
        self.reset();
        self.step(b, out);
    }

    fn step(&mut self, b: u8, out: &mut Vec<Event>) {
        match self.state {
            State::Ground => self.ground(b, false, out),
            State::Esc { alt } => match b {
                ESC if alt => emit(out, KeyCode::Esc, Modifiers::NONE),
                ESC => self.state = State::Esc { alt: true },
                b'[' => self.state = State::Csi { alt },
                b'O' => self.state = State::Ss3 { alt },
                _ => {
                    if alt {
                        emit(out, KeyCode::Esc, Modifiers::NONE);
                    }
                    self.state = State::Ground;
                    self.ground(b, true, out);
                }
            },
            State::Csi { alt } => self.csi(b, alt, out),
            State::CsiOverflow => match b {
                0x20..=0x3f => {}
                0x40..=0x7e => self.reset(),
                _ => self.abort(b, out),
            },
            State::Ss3 { alt } => match b {
                b'0'..=b'9' | b';' if self.seq.len() < SEQ_MAX => self.seq.push(b),
                b'0'..=b'9' | b';' => {}
                0x40..=0x7e => {
                    let mods = mods_param(param(&self.seq, last_index(&self.seq)));
                    self.reset();
                    if let Some((code, m)) = ss3_key(b) {
                        emit(out, code, mods | m | alt_mods(alt));
                    }
                }
                _ => self.abort(b, out),
            },
            State::LinuxFn { alt } => match b {
                b'A'..=b'E' => {
                    self.reset();
                    emit(out, KeyCode::F(b - b'A' + 1), alt_mods(alt));
                }
                0x20..=0x7e => self.reset(),
                _ => self.abort(b, out),
            },
            State::Mouse { left } if left > 1 => self.state = State::Mouse { left: left - 1 },
            State::Mouse { .. } => self.reset(),
            State::Utf8 { need, alt } => self.utf8(b, need, alt, out),
            State::Paste { matched } => self.paste_byte(b, matched as usize, out),
        }
    }

    /// A byte outside any sequence; `alt` when it followed a lone ESC.
    fn ground(&mut self, b: u8, alt: bool, out: &mut Vec<Event>) {
        let mods = alt_mods(alt);
        let ctrl = mods | Modifiers::CTRL;
        match b {
            ESC => self.state = State::Esc { alt: false },
            b'\r' | b'\n' => {
                self.after_cr = b == b'\r';
                emit(out, KeyCode::Enter, mods);
            }
            b'\t' => emit(out, KeyCode::Tab, mods),
            0x7f | 0x08 => emit(out, KeyCode::Backspace, mods),
            // Ctrl-Space and Ctrl-@ both send NUL; report the one people bind.
            0x00 => emit(out, KeyCode::Char(' '), ctrl),
            0x01..=0x1a => emit(out, KeyCode::Char((b + 0x60) as char), ctrl),
            0x1c..=0x1f => emit(out, KeyCode::Char((b + 0x40) as char), ctrl),
            0x20..=0x7e => emit(out, KeyCode::Char(b as char), mods),
            0x80..=0xff => {
                let need = match b {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    _ => return emit(out, KeyCode::Char('\u{fffd}'), mods),
                };
                self.seq.clear();
                self.seq.push(b);
                self.state = State::Utf8 { need, alt };
            }
        }
    }

    fn utf8(&mut self, b: u8, need: u8, alt: bool, out: &mut Vec<Event>) {
        if !(0x80..=0xbf).contains(&b) {
            emit(out, KeyCode::Char('\u{fffd}'), alt_mods(alt));
            return self.abort(b, out);
        }
        self.seq.push(b);
        if self.seq.len() == usize::from(need) {
            // Overlong forms and surrogates fail here and become U+FFFD too.
            let c = std::str::from_utf8(&self.seq)
                .ok()
                .and_then(|s| s.chars().next())
                .unwrap_or('\u{fffd}');
            self.reset();
            emit(out, KeyCode::Char(c), alt_mods(alt));
        }
    }

    fn csi(&mut self, b: u8, alt: bool, out: &mut Vec<Event>) {
        match b {
            b'[' if self.seq.is_empty() => self.state = State::LinuxFn { alt },
            b'M' if self.seq.is_empty() => self.state = State::Mouse { left: 3 },
            // rxvt ends Shift+editing keys with `$`, which is otherwise an intermediate byte.
            b'$' if !self.seq.is_empty() && self.seq.iter().all(u8::is_ascii_digit) => {
                self.dispatch_csi(b, alt, out)
            }
            0x20..=0x3f if self.seq.len() < SEQ_MAX => self.seq.push(b),
            0x20..=0x3f => {
                self.seq.clear();
                self.state = State::CsiOverflow;
            }
            0x40..=0x7e => self.dispatch_csi(b, alt, out),
            _ => self.abort(b, out),
        }
    }

    fn dispatch_csi(&mut self, final_byte: u8, alt: bool, out: &mut Vec<Event>) {
        let action = csi_action(&self.seq, final_byte);
        self.reset();
        match action {
            Action::Key(code, mods) => emit(out, code, mods | alt_mods(alt)),
            Action::PasteStart => {
                self.paste.clear();
                self.state = State::Paste { matched: 0 };
            }
            Action::Ignore => {}
        }
    }

    fn paste_byte(&mut self, b: u8, matched: usize, out: &mut Vec<Event>) {
        if b == PASTE_END[matched] {
            if matched + 1 < PASTE_END.len() {
                self.state = State::Paste {
                    matched: matched as u8 + 1,
                };
            } else {
                self.state = State::Ground;
                self.finish_paste(out);
            }
            return;
        }
        // What looked like the start of the end marker was pasted text.
        self.push_paste(&PASTE_END[..matched]);
        if b == ESC {
            self.state = State::Paste { matched: 1 };
        } else {
            self.push_paste(&[b]);
            self.state = State::Paste { matched: 0 };
        }
    }

    fn push_paste(&mut self, bytes: &[u8]) {
        let room = PASTE_MAX - self.paste.len();
        self.paste
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish_paste(&mut self, out: &mut Vec<Event>) {
        let mut raw = std::mem::take(&mut self.paste);
        if raw.len() == PASTE_MAX {
            trim_partial_utf8(&mut raw);
        }
        let text = clean_paste(&String::from_utf8_lossy(&raw));
        if !text.is_empty() {
            out.push(Event::Paste(text));
        }
    }
}

/// Shift is dropped where the key already implies it (BackTab, `A`), so each key
/// press has exactly one representation.
fn emit(out: &mut Vec<Event>, code: KeyCode, mut mods: Modifiers) {
    if code == KeyCode::BackTab || matches!(code, KeyCode::Char(c) if c.is_uppercase()) {
        mods.shift = false;
    }
    out.push(Event::Key(KeyEvent::new(code, mods)));
}

fn alt_mods(alt: bool) -> Modifiers {
    if alt {
        Modifiers::ALT
    } else {
        Modifiers::NONE
    }
}

/// The `i`th `;`-separated parameter, ignoring `:` sub-parameters; `None` if empty.
fn param(params: &[u8], i: usize) -> Option<u32> {
    let field = params.split(|&c| c == b';').nth(i)?;
    let num = field.split(|&c| c == b':').next()?;
    if num.is_empty() {
        return None;
    }
    num.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.saturating_mul(10).saturating_add(u32::from(d - b'0')))
    })
}

fn last_index(params: &[u8]) -> usize {
    params.iter().filter(|&&c| c == b';').count()
}

/// xterm's modifier parameter: 1 + bitmask of Shift=1, Alt=2, Ctrl=4, Meta=8.
/// Meta is reported as Alt, since that is what agents mean by it.
fn mods_param(p: Option<u32>) -> Modifiers {
    let bits = p.unwrap_or(1).saturating_sub(1);
    Modifiers {
        shift: bits & 1 != 0,
        alt: bits & (2 | 8) != 0,
        ctrl: bits & 4 != 0,
    }
}

fn csi_action(params: &[u8], final_byte: u8) -> Action {
    // Private markers (SGR mouse `<`, terminal reports `?`/`>`) and intermediates
    // never encode a key.
    let private = params.first().is_some_and(|c| (0x3c..=0x3f).contains(c));
    if private || params.iter().any(|c| (0x20..=0x2f).contains(c)) {
        return Action::Ignore;
    }
    let mods = mods_param(param(params, 1));
    let code = match final_byte {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P'..=b'S' => KeyCode::F(final_byte - b'P' + 1),
        b'Z' => KeyCode::BackTab,
        // rxvt: Shift+arrows.
        b'a'..=b'd' => return Action::Key(arrow(final_byte - b'a'), Modifiers::SHIFT),
        b'~' | b'^' | b'@' | b'$' => return tilde_action(params, final_byte),
        // kitty / foot "CSI u": codepoint ; modifiers.
        b'u' => return codepoint_action(param(params, 0), mods),
        // Focus (I/O), mouse (M/m), keypad 5 (E), reports: nothing to type.
        _ => return Action::Ignore,
    };
    Action::Key(code, mods)
}

/// `ESC [ n ~` editing and function keys. rxvt ends them with `^` (Ctrl),
/// `$` (Shift) or `@` (Ctrl+Shift) instead of a modifier parameter.
fn tilde_action(params: &[u8], final_byte: u8) -> Action {
    let mods = match final_byte {
        b'^' => Modifiers::CTRL,
        b'$' => Modifiers::SHIFT,
        b'@' => Modifiers::CTRL | Modifiers::SHIFT,
        _ => mods_param(param(params, 1)),
    };
    let Some(n) = param(params, 0) else {
        return Action::Ignore;
    };
    let code = match n {
        1 | 7 => KeyCode::Home,
        2 => KeyCode::Insert,
        3 => KeyCode::Delete,
        4 | 8 => KeyCode::End,
        5 => KeyCode::PageUp,
        6 => KeyCode::PageDown,
        11..=15 => KeyCode::F(n as u8 - 10),
        17..=21 => KeyCode::F(n as u8 - 11),
        23..=26 => KeyCode::F(n as u8 - 12),
        28 | 29 => KeyCode::F(n as u8 - 13),
        31..=34 => KeyCode::F(n as u8 - 14),
        200 if final_byte == b'~' => return Action::PasteStart,
        // xterm modifyOtherKeys: ESC [ 27 ; modifiers ; codepoint ~
        27 if final_byte == b'~' => return codepoint_action(param(params, 2), mods),
        _ => return Action::Ignore,
    };
    Action::Key(code, mods)
}

/// A key reported by Unicode codepoint (CSI u, modifyOtherKeys), normalised to what
/// the legacy encoding would have produced.
fn codepoint_action(cp: Option<u32>, mods: Modifiers) -> Action {
    let code = match cp {
        Some(13) => KeyCode::Enter,
        Some(9) if mods.shift => KeyCode::BackTab,
        Some(9) => KeyCode::Tab,
        Some(27) => KeyCode::Esc,
        Some(8 | 127) => KeyCode::Backspace,
        // kitty's private-use codes for functional keys only come in modes we never enable.
        Some(0xe000..=0xf8ff) => return Action::Ignore,
        Some(cp) => match char::from_u32(cp).filter(|c| !c.is_control()) {
            Some(c) if mods.ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            Some(c) if mods.shift => KeyCode::Char(c.to_ascii_uppercase()),
            Some(c) => KeyCode::Char(c),
            None => return Action::Ignore,
        },
        None => return Action::Ignore,
    };
    Action::Key(code, mods)
}

fn arrow(i: u8) -> KeyCode {
    [KeyCode::Up, KeyCode::Down, KeyCode::Right, KeyCode::Left][usize::from(i & 3)]
}

/// `ESC O x`: arrows and F1–F4 in application mode, plus the application keypad.
fn ss3_key(b: u8) -> Option<(KeyCode, Modifiers)> {
    let code = match b {
        b'A'..=b'D' => arrow(b - b'A'),
        // rxvt: Ctrl+arrows.
        b'a'..=b'd' => return Some((arrow(b - b'a'), Modifiers::CTRL)),
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P'..=b'S' => KeyCode::F(b - b'P' + 1),
        b'M' => KeyCode::Enter,
        b'I' => KeyCode::Tab,
        // Keypad `*+,-./0123456789`: the final byte minus 0x40.
        b'j'..=b'y' => KeyCode::Char((b - 0x40) as char),
        b'X' => KeyCode::Char('='),
        _ => return None,
    };
    Some((code, Modifiers::NONE))
}

/// Drops a UTF-8 character cut in half by the paste cap, so it doesn't end in U+FFFD.
fn trim_partial_utf8(raw: &mut Vec<u8>) {
    let len = raw.len();
    for back in 1..=len.min(4) {
        let start = len - back;
        if raw[start] & 0xc0 != 0x80 {
            if let Err(e) = std::str::from_utf8(&raw[start..]) {
                if e.error_len().is_none() {
                    raw.truncate(start);
                }
            }
            return;
        }
    }
}

/// Terminals send pasted line breaks as `\r`; screens want `\n`. Other control
/// characters are removed so pasted text cannot carry escape sequences.
fn clean_paste(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Modifiers = Modifiers::NONE;
    const CTRL: Modifiers = Modifiers::CTRL;
    const ALT: Modifiers = Modifiers::ALT;

    fn key(code: KeyCode, mods: Modifiers) -> Event {
        Event::Key(KeyEvent::new(code, mods))
    }

    fn ch(c: char) -> Event {
        key(KeyCode::Char(c), NONE)
    }

    fn esc() -> Event {
        key(KeyCode::Esc, NONE)
    }

    fn enter() -> Event {
        key(KeyCode::Enter, NONE)
    }

    /// Feeds `bytes` in one go and requires nothing left pending.
    fn parse(bytes: &[u8]) -> Vec<Event> {
        let mut p = InputParser::new();
        let events = p.feed(bytes);
        assert!(!p.has_pending(), "pending after {bytes:?}: {:?}", p.state);
        events
    }

    /// Feeds `bytes`, then lets the ESC timeout expire.
    fn parse_flushed(bytes: &[u8]) -> Vec<Event> {
        let mut p = InputParser::new();
        let mut events = p.feed(bytes);
        events.extend(p.flush_timeout());
        assert!(!p.has_pending());
        events
    }

    /// Key names as help screens show them, so tables read like a keyboard.
    fn names(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Key(k) => k.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn check_table(terminal: &str, table: &[(&[u8], &str)]) {
        for &(bytes, name) in table {
            assert_eq!(names(&parse(bytes)), [name], "{terminal}: {bytes:?}");
        }
    }

    /// Every split point, and byte-at-a-time, must give the same events as one feed.
    fn assert_split_invariant(bytes: &[u8]) {
        let whole = parse_flushed(bytes);
        for i in 0..=bytes.len() {
            let mut p = InputParser::new();
            let mut events = p.feed(&bytes[..i]);
            events.extend(p.feed(&bytes[i..]));
            events.extend(p.flush_timeout());
            assert_eq!(events, whole, "split at {i} of {bytes:?}");
        }
        let mut p = InputParser::new();
        let mut events: Vec<Event> = bytes.iter().flat_map(|b| p.feed(&[*b])).collect();
        events.extend(p.flush_timeout());
        assert_eq!(events, whole, "byte by byte: {bytes:?}");
    }

    #[rustfmt::skip]
    #[test]
    fn xterm_vte_iterm2_windows_terminal() {
        check_table("xterm", &[
            (b"\x1b[A", "Up"), (b"\x1b[B", "Down"), (b"\x1b[C", "Right"), (b"\x1b[D", "Left"),
            (b"\x1bOA", "Up"), (b"\x1bOD", "Left"), (b"\x1b[H", "Home"), (b"\x1b[F", "End"),
            (b"\x1bOH", "Home"), (b"\x1bOF", "End"), (b"\x1b[2~", "Ins"), (b"\x1b[3~", "Del"),
            (b"\x1b[5~", "PgUp"), (b"\x1b[6~", "PgDn"), (b"\x1bOP", "F1"), (b"\x1bOS", "F4"),
            (b"\x1b[15~", "F5"), (b"\x1b[17~", "F6"), (b"\x1b[21~", "F10"), (b"\x1b[23~", "F11"),
            (b"\x1b[24~", "F12"), (b"\x1b[Z", "Shift-Tab"), (b"\x1b[1;5A", "Ctrl-Up"),
            (b"\x1b[1;5C", "Ctrl-Right"), (b"\x1b[1;3D", "Alt-Left"), (b"\x1b[1;2H", "Shift-Home"),
            (b"\x1b[1;2P", "Shift-F1"), (b"\x1b[1;5S", "Ctrl-F4"), (b"\x1b[15;5~", "Ctrl-F5"),
            (b"\x1b[3;5~", "Ctrl-Del"), (b"\x1b[6;3~", "Alt-PgDn"),
            (b"\x1b[1;9A", "Alt-Up"), // iTerm2 reports Meta as 9
        ]);
    }

    #[rustfmt::skip]
    #[test]
    fn tmux_screen_putty_linux_console() {
        check_table("tmux/screen/putty/linux", &[
            (b"\x1b[1~", "Home"), (b"\x1b[4~", "End"), (b"\x1b[11~", "F1"), (b"\x1b[14~", "F4"),
            (b"\x1b[[A", "F1"), (b"\x1b[[E", "F5"), (b"\x1b[25~", "F13"), (b"\x1b[34~", "F20"),
            // PuTTY and older iTerm2: Alt+key is ESC + the key's sequence.
            (b"\x1b\x1b[A", "Alt-Up"), (b"\x1b\x1bOB", "Alt-Down"), (b"\x1b\x1b[3~", "Alt-Del"),
            (b"\x1b\x1b[1;5D", "Ctrl-Alt-Left"), (b"\x1b\x1b[[B", "Alt-F2"),
        ]);
    }

    #[rustfmt::skip]
    #[test]
    fn rxvt() {
        check_table("rxvt", &[
            (b"\x1b[7~", "Home"), (b"\x1b[8~", "End"), (b"\x1b[a", "Shift-Up"),
            (b"\x1b[d", "Shift-Left"), (b"\x1bOa", "Ctrl-Up"), (b"\x1bOc", "Ctrl-Right"),
            (b"\x1b[2$", "Shift-Ins"), (b"\x1b[3^", "Ctrl-Del"), (b"\x1b[5@", "Ctrl-Shift-PgUp"),
            (b"\x1b[7^", "Ctrl-Home"),
        ]);
    }

    #[rustfmt::skip]
    #[test]
    fn keypad_and_kitty_csi_u() {
        check_table("keypad", &[
            (b"\x1bOM", "Enter"), (b"\x1bOp", "0"), (b"\x1bOy", "9"), (b"\x1bOk", "+"),
            (b"\x1bOX", "="), (b"\x1bO5P", "Ctrl-F1"), (b"\x1bO1;2Q", "Shift-F2"),
        ]);
        check_table("kitty / modifyOtherKeys", &[
            (b"\x1b[97;5u", "Ctrl-A"), (b"\x1b[13;3u", "Alt-Enter"), (b"\x1b[27u", "Esc"),
            (b"\x1b[27;5;13~", "Ctrl-Enter"), (b"\x1b[27;6;67~", "Ctrl-Shift-C"),
        ]);
        assert_eq!(parse(b"\x1b[97;5u"), [key(KeyCode::Char('a'), CTRL)]);
        assert_eq!(parse(b"\x1b[97;2u"), [ch('A')]);
        assert_eq!(parse(b"\x1b[9;2u"), [key(KeyCode::BackTab, NONE)]);
        assert_eq!(parse(b"\x1b[1;5u\x1b[57399u"), []); // control and private-use codes
    }

    #[test]
    fn modifier_parameters() {
        let mods = [
            "Shift-",
            "Alt-",
            "Alt-Shift-",
            "Ctrl-",
            "Ctrl-Shift-",
            "Ctrl-Alt-",
        ];
        for (m, prefix) in (2..).zip(mods.into_iter().chain(["Ctrl-Alt-Shift-"])) {
            for (seq, name) in [("1;{m}A", "Up"), ("3;{m}~", "Del"), ("24;{m}~", "F12")] {
                let bytes = format!("\x1b[{}", seq.replace("{m}", &m.to_string()));
                assert_eq!(names(&parse(bytes.as_bytes())), [format!("{prefix}{name}")]);
            }
        }
    }

    #[test]
    fn enter_tab_backspace() {
        assert_eq!(parse(b"\r"), [enter()]);
        assert_eq!(parse(b"\n"), [enter()]);
        assert_eq!(parse(b"\r\n"), [enter()]);
        assert_eq!(parse(b"\r\r"), [enter(), enter()]);
        assert_eq!(parse(b"\n\n"), [enter(), enter()]);
        assert_eq!(parse(b"\r\n\r\n"), [enter(), enter()]);
        assert_eq!(parse(b"\ra\n"), [enter(), ch('a'), enter()]);
        let mut p = InputParser::new();
        assert_eq!(p.feed(b"\r"), [enter()]);
        assert!(!p.has_pending());
        assert_eq!(p.feed(b"\n"), []);
        assert_eq!(p.feed(b"\n"), [enter()]);
        assert_eq!(
            names(&parse(b"\t\x7f\x08")),
            ["Tab", "Backspace", "Backspace"]
        );
    }

    #[test]
    fn control_bytes() {
        let ctrl = |c| key(KeyCode::Char(c), CTRL);
        assert_eq!(
            parse(b"\x01\x03\x0b\x0c\x1a"),
            "acklz".chars().map(ctrl).collect::<Vec<_>>()
        );
        assert_eq!(parse(b"\x00"), [ctrl(' ')]);
        assert_eq!(
            parse(b"\x1c\x1d\x1e\x1f"),
            "\\]^_".chars().map(ctrl).collect::<Vec<_>>()
        );
    }

    #[test]
    fn printable_and_utf8() {
        assert_eq!(parse(b"aZ ~"), [ch('a'), ch('Z'), ch(' '), ch('~')]);
        assert_eq!(parse("é€😀".as_bytes()), [ch('é'), ch('€'), ch('😀')]);
        assert_split_invariant("x€😀y".as_bytes());
    }

    #[test]
    fn invalid_utf8_becomes_replacement() {
        let bad = || ch('\u{fffd}');
        assert_eq!(parse(b"\x80"), [bad()]); // stray continuation
        assert_eq!(parse(b"\xff\xc0"), [bad(), bad()]); // never-valid leads
        assert_eq!(parse(b"\xe2\x82a"), [bad(), ch('a')]); // cut short
        assert_eq!(parse(b"\xc3\x1b[A"), [bad(), key(KeyCode::Up, NONE)]);
        assert_eq!(parse(b"\xe0\x80\x80"), [bad()]); // overlong
        assert_eq!(parse(b"\xed\xa0\x80"), [bad()]); // surrogate
        let mut p = InputParser::new();
        assert_eq!(p.feed(b"\xf0\x9f"), []);
        assert!(p.has_pending());
        assert_eq!(p.flush_timeout(), [bad()]);
    }

    #[test]
    fn lone_esc_waits_for_timeout() {
        let mut p = InputParser::new();
        assert_eq!(p.feed(b"\x1b"), []);
        assert!(p.has_pending());
        assert_eq!(p.flush_timeout(), [esc()]);
        assert!(!p.has_pending());
        assert_eq!(p.flush_timeout(), []);
        // A sequence split right after ESC still parses.
        assert_eq!(p.feed(b"\x1b"), []);
        assert_eq!(p.feed(b"[A"), [key(KeyCode::Up, NONE)]);
    }

    #[test]
    fn esc_esc_is_two_escapes() {
        assert_eq!(parse_flushed(b"\x1b\x1b"), [esc(), esc()]);
        assert_eq!(parse_flushed(b"\x1b\x1b\x1b"), [esc(), esc(), esc()]);
        assert_eq!(parse(b"\x1b\x1bx"), [esc(), key(KeyCode::Char('x'), ALT)]);
        assert_eq!(
            parse_flushed(b"\x1b\x1b["),
            [esc(), key(KeyCode::Char('['), ALT)]
        );
    }

    #[test]
    fn alt_chords() {
        let table: &[(&[u8], &str)] = &[
            (b"\x1bx", "Alt-x"),
            (b"\x1bX", "Alt-X"),
            (b"\x1b\r", "Alt-Enter"),
            (b"\x1b\r\n", "Alt-Enter"),
            (b"\x1b\x7f", "Alt-Backspace"),
            (b"\x1b\x01", "Ctrl-Alt-A"),
            ("\x1bé".as_bytes(), "Alt-é"),
        ];
        check_table("alt", table);
        // Alt-[ and Alt-O look like sequence starts until the timeout says otherwise.
        assert_eq!(parse_flushed(b"\x1b["), [key(KeyCode::Char('['), ALT)]);
        assert_eq!(parse_flushed(b"\x1bO"), [key(KeyCode::Char('O'), ALT)]);
    }

    #[test]
    fn split_at_every_boundary() {
        let sequences: &[&[u8]] = &[
            b"\x1b[1;5A",
            b"\x1b[15;2~x",
            b"\x1bOP\x1b[[B",
            b"\x1b\x1b[A\x1bx\x1b",
            b"a\r\nb",
            b"\x1b[<0;10;20M\x1b[I\x1b[Mabcq",
            b"\x1b[200~hi\r\x1b[201\x1b[201~\x1b[B",
            b"\x1b[97;5u\x1b[2$",
        ];
        for bytes in sequences {
            assert_split_invariant(bytes);
        }
    }

    #[test]
    fn bracketed_paste() {
        let paste = |s: &str| Event::Paste(s.to_string());
        assert_eq!(parse(b"\x1b[200~hello\x1b[201~"), [paste("hello")]);
        assert_eq!(parse(b"\x1b[200~\x1b[201~"), []);
        // Keys around a paste, and line breaks normalised to \n.
        assert_eq!(
            parse(b"a\x1b[200~1\r2\r\n3\n4\x1b[201~b"),
            [ch('a'), paste("1\n2\n3\n4"), ch('b')]
        );
        // Escape sequences inside are text, minus the control characters.
        assert_eq!(
            parse(b"\x1b[200~x\x1b[31my\x1b[201z\x1b\x1b[201~"),
            [paste("x[31my[201z")]
        );
        assert_eq!(parse("\x1b[200~ü\tñ\x1b[201~".as_bytes()), [paste("ü\tñ")]);

        let mut p = InputParser::new();
        assert_eq!(p.feed(b"\x1b[20"), []);
        assert_eq!(p.feed(b"0~first "), []);
        assert!(!p.has_pending(), "a paste has no timeout");
        assert_eq!(p.flush_timeout(), []);
        assert_eq!(p.feed(b"second \xc3"), []);
        assert_eq!(p.feed(b"\xa9\x1b[2"), []);
        assert_eq!(p.feed(b"01~"), [paste("first second é")]);
        assert_eq!(p.feed(b"z"), [ch('z')]);
    }

    #[test]
    fn paste_is_capped() {
        let mut p = InputParser::new();
        p.feed(b"\x1b[200~");
        let chunk = "€".repeat(1000);
        for _ in 0..(PASTE_MAX / chunk.len() + 10) {
            assert_eq!(p.feed(chunk.as_bytes()), []);
            assert!(p.paste.len() <= PASTE_MAX);
        }
        let events = p.feed(b"\x1b[201~after");
        let Event::Paste(text) = &events[0] else {
            panic!("expected paste, got {:?}", events[0]);
        };
        // 2^20 is not a multiple of 3: the cut-off last € is dropped, not turned into U+FFFD.
        assert_eq!(text.len(), PASTE_MAX - PASTE_MAX % 3);
        assert!(text.chars().all(|c| c == '€'));
        assert_eq!(events.len(), 1 + "after".len());
        assert_eq!(p.paste.capacity(), 0, "paste buffer released");
    }

    #[test]
    fn focus_and_mouse_are_swallowed() {
        assert_eq!(parse(b"\x1b[I\x1b[O"), []);
        assert_eq!(parse(b"\x1b[M !!x"), [ch('x')]); // X10 report with raw bytes
        assert_eq!(parse(b"\x1b[M\xff\x1b\rx"), [ch('x')]);
        assert_eq!(parse(b"\x1b[<0;12;40M\x1b[<0;12;40mq"), [ch('q')]);
        assert_eq!(parse(b"\x1b[32;10;5M"), []); // urxvt 1015
    }

    #[test]
    fn unknown_and_malformed_sequences_are_swallowed() {
        assert_eq!(
            parse(b"\x1b[99~\x1b[E\x1b[?1;2c\x1b[>0;1;0c\x1b[1 q\x1b[201~"),
            []
        );
        assert_eq!(parse(b"\x1b[[Zy\x1bO~\x1bOz"), [ch('y')]);
        // A new ESC, or a control byte, abandons a half-finished sequence.
        assert_eq!(parse(b"\x1b[1;5\x1b[B"), [key(KeyCode::Down, NONE)]);
        assert_eq!(parse(b"\x1b[12\x03"), [key(KeyCode::Char('c'), CTRL)]);
        assert_eq!(parse(b"\x1bO1\rz"), [enter(), ch('z')]);
        // Huge parameters neither overflow nor leak.
        let events = parse(b"\x1b[99999999999999;99999999999A");
        assert!(matches!(
            events[..],
            [Event::Key(KeyEvent {
                code: KeyCode::Up,
                ..
            })]
        ));
        // Stale partial sequences are dropped at the timeout.
        assert_eq!(parse_flushed(b"\x1b[1;"), []);
        assert_eq!(parse_flushed(b"\x1b[M!"), []);
        assert_eq!(parse_flushed(b"\x1b[["), []);
    }

    #[test]
    fn long_sequences_stay_bounded() {
        let mut p = InputParser::new();
        p.feed(b"\x1b[");
        for _ in 0..10_000 {
            assert_eq!(p.feed(b"1;2;3;4;5;6;7;8;9;"), []);
            assert!(p.seq.len() <= SEQ_MAX);
        }
        assert_eq!(p.feed(b"Ab"), [ch('b')]);
        p.feed(b"\x1bO");
        assert_eq!(p.feed(&[b'5'; 1000]), []);
        assert!(p.seq.len() <= SEQ_MAX);
    }

    #[test]
    fn garbage_never_panics_and_state_stays_bounded() {
        // Deterministic xorshift, so a failure reproduces; biased toward bytes that
        // drive the state machine.
        const INTERESTING: &[u8] =
            b"\x1b\x1b\x1b[[O;;0123456789~^$@<?MmAZu\r\n\x7f\xc3\xe2\xf0\x80\xbf\xff";
        let mut seed = 0x5ea1_de5c_u64;
        let mut rng = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut p = InputParser::new();
        for round in 0..20_000 {
            let len = rng() % 24;
            let chunk: Vec<u8> = (0..len)
                .map(|_| match rng() % 3 {
                    0 => rng() as u8,
                    _ => INTERESTING[(rng() % INTERESTING.len() as u64) as usize],
                })
                .collect();
            p.feed(&chunk);
            assert!(p.seq.len() <= SEQ_MAX, "round {round}: seq {}", p.seq.len());
            assert!(p.paste.len() <= PASTE_MAX);
            if rng().is_multiple_of(8) {
                p.flush_timeout();
                assert!(!p.has_pending());
            }
        }
        // Whatever state the garbage left, the parser recovers.
        p.feed(b"\x1b[201~");
        p.flush_timeout();
        assert_eq!(p.feed(b"z"), [ch('z')]);
    }
}

/// The parser reads whatever a client sends: random bytes, split anywhere, give events
/// and never a panic; the state stays bounded; nothing is pending after the timeout but
/// a paste; and how the bytes were split into packets never changes what they mean.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Bytes rich in what the parser treats specially.
    fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
        let special = prop::sample::select(vec![
            ESC, b'[', b'O', b'M', b'~', b';', b'1', b'2', b'0', b'\r', b'\n', 0x7f, 0x9b, 0xc3,
            0xa9, 0xe2, 0x80, 0xf0, 0x9f,
        ]);
        let pieces = prop_oneof![
            3 => special.prop_map(|b| vec![b]),
            2 => any::<u8>().prop_map(|b| vec![b]),
            1 => Just(b"\x1b[200~".to_vec()),
            1 => Just(PASTE_END.to_vec()),
            1 => Just(b"\x1b[1;5A".to_vec()),
        ];
        proptest::collection::vec(pieces, 0..200).prop_map(|v| v.concat())
    }

    fn check_bounded(p: &InputParser) -> Result<(), TestCaseError> {
        prop_assert!(p.seq.len() <= SEQ_MAX.max(4));
        prop_assert!(p.paste.len() <= PASTE_MAX);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_bytes_any_split(bytes in hostile_bytes(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let mut whole = InputParser::new();
            let mut expected = whole.feed(&bytes);
            check_bounded(&whole)?;
            expected.extend(whole.flush_timeout());
            prop_assert!(!whole.has_pending());

            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut split = InputParser::new();
            let mut got = Vec::new();
            let mut from = 0;
            for to in at.into_iter().chain([bytes.len()]) {
                got.extend(split.feed(&bytes[from..to]));
                check_bounded(&split)?;
                from = to;
            }
            got.extend(split.flush_timeout());
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn random_bytes_with_timeouts(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..32)) {
            let mut p = InputParser::new();
            for chunk in &chunks {
                let events = p.feed(chunk);
                // One byte is at most one key (ESC ESC + key is three bytes for two).
                prop_assert!(events.len() <= chunk.len() + 1);
                check_bounded(&p)?;
                p.flush_timeout();
                prop_assert!(!p.has_pending());
            }
        }
    }
}
