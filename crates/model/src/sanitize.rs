//! Making untrusted text (anything that came from mail: subjects, bodies, names, file
//! names) safe to put on a terminal, in a log line or in an error message.
//!
//! A terminal interprets C0 controls, DEL, C1 controls and escape sequences; bidi
//! overrides reorder what the agent reads ("Trojan Source"). We drop all of them. Whole
//! escape sequences are removed rather than just their ESC byte, so a payload such as
//! `ESC ] 52 ; c ; …` does not leave its argument behind as visible junk.

use std::borrow::Cow;

/// Cleans text for a single line (subjects, names, file names, log fields): line breaks
/// and tabs become spaces.
pub fn line(text: &str) -> Cow<'_, str> {
    clean(text, false)
}

/// Cleans text that may span lines (message bodies): keeps `\n`, turns tabs into spaces
/// and drops `\r`.
pub fn multiline(text: &str) -> Cow<'_, str> {
    clean(text, true)
}

/// True for characters that must never reach a terminal as they are.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Bidi embeddings, overrides, isolates and marks (U+061C, U+200E/F, U+202A–E, U+2066–9).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' | '\t' => out.push(' '),
            '\r' if keep_newlines => {}
            '\r' => out.push(' '),
            '\u{1b}' => skip_escape(&mut chars),
            // 8-bit CSI, OSC and string introducers: drop the sequence like its 7-bit form.
            '\u{9b}' => skip_until_final(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_until_final(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // Two-character sequences (ESC c, ESC 7, ESC ( B …): drop the next printable one.
        Some(c) if !c.is_control() => {
            chars.next();
            // Character-set designations take one more byte (ESC ( B).
            if matches!(c, '(' | ')' | '*' | '+' | '#' | '%') {
                chars.next();
            }
        }
        _ => {}
    }
}

/// CSI: parameters and intermediates up to a final byte in `@`..=`~`.
fn skip_until_final(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) || (c.is_control() && c != '\u{1b}') {
            break;
        }
    }
}

/// OSC, DCS, SOS, PM, APC: up to BEL, ST (ESC \) or 8-bit ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// JSON for a terminal: serde_json escapes C0 controls but passes DEL, C1 controls and
/// bidi controls through as raw UTF-8. They can only occur inside JSON strings, so
/// escaping them as `\uXXXX` keeps the document valid and the data lossless.
pub fn json_for_terminal(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOADS: &[&str] = &[
        "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}", // OSC 52 clipboard write
        "\u{1b}]0;owned title\u{1b}\\",      // OSC 0 title, ST-terminated
        "\u{1b}]2;owned title\u{7}",         // OSC 2
        "\u{1b}[2J\u{1b}[H",                 // CSI clear screen, home
        "\u{9b}31m",                         // 8-bit CSI
        "\u{9d}0;t\u{9c}",                   // 8-bit OSC
        "\u{202e}gnp.exe",                   // right-to-left override
        "\u{7f}\u{0}\u{8}\u{85}",            // DEL, NUL, BS, NEL
        "\u{1b}P1$r\u{1b}\\",                // DCS
    ];

    #[test]
    fn no_unsafe_char_survives() {
        for p in PAYLOADS {
            let s = format!("before {p} after");
            for out in [line(&s), multiline(&s)] {
                assert!(!out.chars().any(is_unsafe), "{out:?} from {p:?}");
                assert!(
                    out.starts_with("before ") && out.ends_with(" after"),
                    "{out:?}"
                );
            }
        }
    }

    #[test]
    fn sequences_are_removed_whole() {
        assert_eq!(line("a\u{1b}]52;c;ZWNobw==\u{7}b"), "ab");
        assert_eq!(line("a\u{1b}[1;31mred\u{1b}[0m"), "ared");
        assert_eq!(line("x\u{9b}2Jy"), "xy");
    }

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        assert!(matches!(line("Grüße, 你好 — ok"), Cow::Borrowed(_)));
        assert_eq!(multiline("a\r\nb\tc"), "a\nb c");
        assert_eq!(line("a\nb"), "a b");
    }

    #[test]
    fn json_escapes_stay_valid_and_lossless() {
        let v = serde_json::json!({ "s": "x\u{202e}y\u{9b}z\u{7f}" });
        let text = serde_json::to_string(&v).unwrap();
        let safe = json_for_terminal(&text);
        assert!(!safe.chars().any(is_unsafe));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }
}
