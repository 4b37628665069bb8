//! Key tables: each screen declares its keys once, as a table of [`Binding`]s, and the
//! same table drives the screen's key handling, its help page and its status-line hints,
//! so what the help says can never drift from what the keys do.

use super::event::{KeyCode, KeyEvent, Modifiers};

/// One entry of a screen's key table.
pub(crate) struct Binding<A: 'static> {
    /// Every key that triggers the action; the first is the one hints show.
    pub keys: &'static [KeyEvent],
    pub action: A,
    /// What the action does, for the help page.
    pub help: &'static str,
    /// A word or two for the status line; `None` leaves the binding to the help page.
    pub hint: Option<&'static str>,
}

/// Declares a binding; a plain function keeps the tables short enough to scan.
pub(crate) const fn bind<A>(
    keys: &'static [KeyEvent],
    action: A,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding<A> {
    Binding {
        keys,
        action,
        help,
        hint,
    }
}

/// A character key without modifiers (shifted letters are their own characters).
pub(crate) const fn ch(c: char) -> KeyEvent {
    KeyEvent {
        code: KeyCode::Char(c),
        mods: Modifiers::NONE,
    }
}

/// A named key without modifiers.
pub(crate) const fn key(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        mods: Modifiers::NONE,
    }
}

pub(crate) const fn ctrl(c: char) -> KeyEvent {
    KeyEvent {
        code: KeyCode::Char(c),
        mods: Modifiers::CTRL,
    }
}

pub(crate) const fn alt(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        mods: Modifiers::ALT,
    }
}

/// The action bound to `pressed` in `table`, if any.
pub(crate) fn lookup<A: Copy>(table: &[Binding<A>], pressed: KeyEvent) -> Option<A> {
    table
        .iter()
        .find(|binding| binding.keys.iter().any(|&bound| matches(bound, pressed)))
        .map(|binding| binding.action)
}

/// Characters already carry Shift (`'G'`), so a stray shift flag on one is ignored.
fn matches(bound: KeyEvent, pressed: KeyEvent) -> bool {
    match pressed.code {
        KeyCode::Char(_) => {
            bound.code == pressed.code
                && bound.mods.ctrl == pressed.mods.ctrl
                && bound.mods.alt == pressed.mods.alt
        }
        _ => bound == pressed,
    }
}

/// A titled block of the help page.
pub struct HelpSection {
    pub title: &'static str,
    /// (keys as shown, e.g. "j, Down"; what they do)
    pub rows: Vec<(String, &'static str)>,
}

/// The help page section for one key table.
pub(crate) fn help_section<A>(title: &'static str, table: &[Binding<A>]) -> HelpSection {
    let rows = table
        .iter()
        .map(|binding| (keys_label(binding.keys), binding.help))
        .collect();
    HelpSection { title, rows }
}

/// The keys of a binding as the help shows them: "j, Down", or a run of three or more
/// consecutive characters as "1…9".
fn keys_label(keys: &[KeyEvent]) -> String {
    let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
    let chars: Option<Vec<char>> = shown
        .iter()
        .map(|s| {
            let mut c = s.chars();
            match (c.next(), c.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        })
        .collect();
    if let Some(cs) = chars {
        let run = cs.windows(2).all(|w| w[1] as u32 == w[0] as u32 + 1);
        if cs.len() >= 3 && run {
            return format!("{}…{}", cs[0], cs[cs.len() - 1]);
        }
    }
    shown.join(", ")
}

/// (first key, hint) for every binding that has a hint, in table order.
pub(crate) fn hints<A>(table: &[Binding<A>]) -> Vec<(String, &'static str)> {
    table
        .iter()
        .filter_map(|binding| Some((binding.keys.first()?.to_string(), binding.hint?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Act {
        Down,
        Bottom,
        Send,
    }

    const TABLE: &[Binding<Act>] = &[
        bind(&[ch('j'), key(KeyCode::Down)], Act::Down, "down", None),
        bind(
            &[ch('G'), key(KeyCode::End)],
            Act::Bottom,
            "bottom",
            Some("end"),
        ),
        bind(
            &[ctrl('s'), alt(KeyCode::Enter)],
            Act::Send,
            "send",
            Some("send"),
        ),
    ];

    #[test]
    fn lookup_matches_keys_and_modifiers() {
        assert_eq!(lookup(TABLE, ch('j')), Some(Act::Down));
        assert_eq!(lookup(TABLE, key(KeyCode::Down)), Some(Act::Down));
        let shifted_g = KeyEvent::new(KeyCode::Char('G'), Modifiers::SHIFT);
        assert_eq!(lookup(TABLE, shifted_g), Some(Act::Bottom));
        assert_eq!(lookup(TABLE, ctrl('s')), Some(Act::Send));
        assert_eq!(lookup(TABLE, ch('s')), None);
        assert_eq!(lookup(TABLE, alt(KeyCode::Enter)), Some(Act::Send));
        assert_eq!(lookup(TABLE, key(KeyCode::Enter)), None);
        let shift_down = KeyEvent::new(KeyCode::Down, Modifiers::SHIFT);
        assert_eq!(lookup(TABLE, shift_down), None);
    }

    #[test]
    fn help_and_hints_come_from_the_table() {
        let section = help_section("Test", TABLE);
        assert_eq!(section.rows[0], ("j, Down".to_string(), "down"));
        assert_eq!(section.rows[2], ("Ctrl-S, Alt-Enter".to_string(), "send"));
        assert_eq!(keys_label(&[ch('1'), ch('2'), ch('3')]), "1…3");
        assert_eq!(keys_label(&[ch('a'), ch('c'), ch('d')]), "a, c, d");
        assert_eq!(
            hints(TABLE),
            [("G".to_string(), "end"), ("Ctrl-S".to_string(), "send")]
        );
    }
}
