//! Words of any language as search terms: Unicode letters and digits, lower-cased,
//! with full-width forms folded to ASCII; Han, Kana and Hangul (written without spaces)
//! as overlapping pairs of characters, so a word is found inside running text.

/// Calls `term` with every term of `text`, in order (duplicates included): each word,
/// and for a CJK run its pairs of neighbours and then its last character alone (so a
/// one-character query finds a character wherever it stands in a run).
pub(crate) fn terms(text: &str, mut term: impl FnMut(&str)) {
    let mut buf = String::new();
    segments(text, |segment| match segment {
        Segment::Word(word) => term(word),
        Segment::Cjk(run) => {
            for pair in run.windows(2) {
                buf.clear();
                buf.extend(pair);
                term(&buf);
            }
            if let Some(&last) = run.last() {
                buf.clear();
                buf.push(last);
                term(&buf);
            }
        }
    });
}

/// The distinct terms of `text`.
pub(crate) fn term_set(text: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    terms(text, |t| {
        if !out.contains(t) {
            out.insert(t.to_string());
        }
    });
    out
}

/// The terms of `text` as a list.
#[cfg(test)]
pub(crate) fn term_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    terms(text, |t| out.push(t.to_string()));
    out
}

/// The terms one typed query word must all match: its words, and for a CJK run its
/// pairs (a run of one character: that character).
pub(crate) fn query_terms(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    segments(word, |segment| match segment {
        Segment::Word(word) => out.push(word.to_string()),
        Segment::Cjk([one]) => out.push(one.to_string()),
        Segment::Cjk(run) => out.extend(run.windows(2).map(|p| p.iter().collect::<String>())),
    });
    out
}

enum Segment<'a> {
    /// Letters and digits, lower-cased.
    Word(&'a str),
    /// Han, Kana or Hangul characters next to each other.
    Cjk(&'a [char]),
}

fn segments(text: &str, mut each: impl FnMut(Segment<'_>)) {
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    let flush = |word: &mut String, cjk: &mut Vec<char>, each: &mut dyn FnMut(Segment<'_>)| {
        if !word.is_empty() {
            each(Segment::Word(word));
            word.clear();
        }
        if !cjk.is_empty() {
            each(Segment::Cjk(cjk));
            cjk.clear();
        }
    };
    for c in text.chars().map(fold) {
        if is_cjk(c) {
            if !word.is_empty() {
                flush(&mut word, &mut cjk, &mut each);
            }
            cjk.push(c);
        } else if c.is_alphanumeric() {
            if !cjk.is_empty() {
                flush(&mut word, &mut cjk, &mut each);
            }
            if c.is_ascii() {
                word.push(c.to_ascii_lowercase());
            } else {
                word.extend(c.to_lowercase());
            }
        } else {
            flush(&mut word, &mut cjk, &mut each);
        }
    }
    flush(&mut word, &mut cjk, &mut each);
}

/// Full-width ASCII (as typed with a CJK input method) as plain ASCII, the
/// ideographic space as a space: the cheap part of NFKC that matters for search.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'      // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}'    // Katakana extensions
        | '\u{3400}'..='\u{4DBF}'    // Han extension A
        | '\u{4E00}'..='\u{9FFF}'    // Han
        | '\u{F900}'..='\u{FAFF}'    // Han compatibility
        | '\u{FF66}'..='\u{FF9F}'    // half-width Katakana
        | '\u{1100}'..='\u{11FF}'    // Hangul Jamo
        | '\u{3130}'..='\u{318F}'    // Hangul compatibility Jamo
        | '\u{AC00}'..='\u{D7AF}'    // Hangul syllables
        | '\u{20000}'..='\u{2FA1F}'  // Han extensions B–F, compatibility supplement
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_split_on_anything_but_letters_and_digits() {
        assert_eq!(
            term_list("Hello, WORLD! Größe: 42x; naïve—café"),
            ["hello", "world", "größe", "42x", "naïve", "café"]
        );
        assert_eq!(term_list("ＡＢＣ１２３ ｘｙ"), ["abc123", "xy"]);
        assert_eq!(term_list("Привет мир"), ["привет", "мир"]);
    }

    #[test]
    fn cjk_runs_become_overlapping_pairs_and_the_last_character() {
        assert_eq!(term_list("東京都"), ["東京", "京都", "都"]);
        assert_eq!(
            term_list("見積もりnumber 1"),
            ["見積", "積も", "もり", "り", "number", "1"]
        );
        assert_eq!(term_list("한국어"), ["한국", "국어", "어"]);
        assert_eq!(term_list("猫"), ["猫"]);
    }

    #[test]
    fn a_query_word_drops_the_lone_last_character_of_a_longer_run() {
        assert_eq!(query_terms("東京都"), ["東京", "京都"]);
        assert_eq!(query_terms("京"), ["京"]);
        assert_eq!(query_terms("foo-bar"), ["foo", "bar"]);
        assert_eq!(query_terms("京都x猫"), ["京都", "x", "猫"]);
        assert_eq!(query_terms("--"), Vec::<String>::new());
    }
}
