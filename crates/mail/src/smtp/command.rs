//! Parsing one SMTP/LMTP command line (without its line ending) into a [`Command`].
//!
//! Verbs, `FROM:`/`TO:` and parameter names are case-insensitive (RFC 5321 §2.4). We are
//! strict where a mistake would misroute mail (addresses, SIZE) and lenient where real
//! senders are sloppy: `MAIL FROM: <a@b>` (space after the colon) and addresses without
//! angle brackets are accepted. A parse failure carries the full reply line to send.

/// One command from the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Helo(String),
    Ehlo(String),
    Lhlo(String),
    /// `from` is empty for the null sender `<>` (bounces).
    Mail {
        from: String,
        size: Option<u64>,
    },
    Rcpt {
        to: String,
    },
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    /// Known verbs we deliberately do not offer (STARTTLS, BDAT, AUTH, …).
    NotImplemented,
}

/// A reply line for a command we could not parse.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError(pub &'static str);

pub(crate) const UNRECOGNIZED: ParseError = ParseError("500 5.5.2 Command not recognized");

/// RFC 5321 §4.5.3.1.3: a reverse or forward path is at most 256 octets.
const MAX_PATH: usize = 256;

pub(crate) fn parse(line: &str) -> Result<Command, ParseError> {
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line, ""),
    };
    let no_argument = |command: Command, usage: &'static str| {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err(ParseError(usage))
        }
    };
    match verb.to_ascii_uppercase().as_str() {
        "HELO" => domain(rest, "501 5.5.4 Syntax: HELO hostname").map(Command::Helo),
        "EHLO" => domain(rest, "501 5.5.4 Syntax: EHLO hostname").map(Command::Ehlo),
        "LHLO" => domain(rest, "501 5.5.4 Syntax: LHLO hostname").map(Command::Lhlo),
        "MAIL" => mail(rest),
        "RCPT" => rcpt(rest),
        "DATA" => no_argument(Command::Data, "501 5.5.4 Syntax: DATA"),
        "RSET" => no_argument(Command::Rset, "501 5.5.4 Syntax: RSET"),
        // NOOP and HELP may carry an argument, which we ignore.
        "NOOP" => Ok(Command::Noop),
        "HELP" => Ok(Command::Help),
        "QUIT" => no_argument(Command::Quit, "501 5.5.4 Syntax: QUIT"),
        "VRFY" if rest.is_empty() => Err(ParseError("501 5.5.4 Syntax: VRFY address")),
        "VRFY" => Ok(Command::Vrfy),
        "STARTTLS" | "BDAT" | "AUTH" | "EXPN" | "ETRN" | "TURN" | "ATRN" | "BURL" => {
            Ok(Command::NotImplemented)
        }
        _ => Err(UNRECOGNIZED),
    }
}

/// The HELO/EHLO/LHLO argument: one word (a domain or an address literal). We do not
/// check it against the peer's address: it is only recorded.
fn domain(rest: &str, usage: &'static str) -> Result<String, ParseError> {
    if rest.is_empty() || rest.contains(char::is_whitespace) || rest.len() > MAX_PATH {
        return Err(ParseError(usage));
    }
    Ok(rest.to_string())
}

fn mail(rest: &str) -> Result<Command, ParseError> {
    const USAGE: ParseError = ParseError("501 5.5.4 Syntax: MAIL FROM:<address>");
    let arg = strip_keyword(rest, "FROM:").ok_or(USAGE)?;
    let (from, params) = path(arg).ok_or(USAGE)?;
    if !from.is_empty() && !is_mailbox(&from) {
        return Err(ParseError("501 5.1.7 Bad sender address syntax"));
    }
    let mut size = None;
    for (name, value) in parameters(params)? {
        match (name.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) => {
                let n = v
                    .parse::<u64>()
                    .map_err(|_| ParseError("501 5.5.4 Syntax: SIZE=<number of octets>"))?;
                size = Some(n);
            }
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => {}
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => {}
            ("SMTPUTF8", None) => {}
            _ => return Err(ParseError("555 5.5.4 Unsupported MAIL FROM parameter")),
        }
    }
    Ok(Command::Mail { from, size })
}

fn rcpt(rest: &str) -> Result<Command, ParseError> {
    const USAGE: ParseError = ParseError("501 5.5.4 Syntax: RCPT TO:<address>");
    let arg = strip_keyword(rest, "TO:").ok_or(USAGE)?;
    let (to, params) = path(arg).ok_or(USAGE)?;
    // RFC 5321 requires accepting the bare local part "postmaster".
    if !is_mailbox(&to) && !to.eq_ignore_ascii_case("postmaster") {
        return Err(ParseError("501 5.1.3 Bad recipient address syntax"));
    }
    if !parameters(params)?.is_empty() {
        return Err(ParseError("555 5.5.4 Unsupported RCPT TO parameter"));
    }
    Ok(Command::Rcpt { to })
}

/// `FROM:` / `TO:` in any case, followed by optional spaces (a common sloppiness).
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| text[keyword.len()..].trim_start())
}

/// Splits `<address> params` into the address (source route removed) and the rest.
/// A `>` inside a quoted local part (`"a>b"@example.com`) does not end the path.
fn path(text: &str) -> Option<(String, &str)> {
    let (inner, rest) = if let Some(body) = text.strip_prefix('<') {
        let end = closing_bracket(body)?;
        (&body[..end], &body[end + 1..])
    } else {
        // No brackets: the address runs to the first space.
        let end = text.find(' ').unwrap_or(text.len());
        if end == 0 {
            return None;
        }
        (&text[..end], &text[end..])
    };
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    // A source route (`<@relay1,@relay2:user@host>`) must be accepted and ignored.
    let address = match inner.strip_prefix('@') {
        Some(_) => &inner[inner.find(':')? + 1..],
        None => inner,
    };
    if address.len() > MAX_PATH || address.chars().any(|c| c.is_control()) {
        return None;
    }
    Some((address.to_string(), rest.trim()))
}

fn closing_bracket(body: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '>' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `local@domain` with both parts present and no unquoted spaces. Deliberately loose:
/// whether the address means anything is the sink's call.
fn is_mailbox(address: &str) -> bool {
    let Some(at) = address.rfind('@') else {
        return false;
    };
    let (local, domain) = (&address[..at], &address[at + 1..]);
    let local_ok = if local.starts_with('"') {
        local.len() >= 2 && local.ends_with('"')
    } else {
        !local.is_empty() && !local.contains(char::is_whitespace)
    };
    local_ok && !domain.is_empty() && !domain.contains(char::is_whitespace) && !domain.contains('@')
}

/// `NAME[=VALUE]` words separated by spaces.
fn parameters(text: &str) -> Result<Vec<(&str, Option<&str>)>, ParseError> {
    text.split_whitespace()
        .map(|word| {
            let (name, value) = match word.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (word, None),
            };
            let valid_name =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if valid_name && value != Some("") {
                Ok((name, value))
            } else {
                Err(ParseError("501 5.5.4 Syntax error in parameters"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail_from(line: &str) -> Result<(String, Option<u64>), ParseError> {
        match parse(line)? {
            Command::Mail { from, size } => Ok((from, size)),
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    fn rcpt_to(line: &str) -> Result<String, ParseError> {
        match parse(line)? {
            Command::Rcpt { to } => Ok(to),
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn verbs_are_case_insensitive() {
        assert_eq!(
            parse("ehlo mx.example.com"),
            Ok(Command::Ehlo("mx.example.com".into()))
        );
        assert_eq!(parse("HeLo a"), Ok(Command::Helo("a".into())));
        assert_eq!(
            parse("lhlo [127.0.0.1]"),
            Ok(Command::Lhlo("[127.0.0.1]".into()))
        );
        assert_eq!(parse("data"), Ok(Command::Data));
        assert_eq!(parse("QuIt"), Ok(Command::Quit));
        assert_eq!(parse("rset"), Ok(Command::Rset));
        assert_eq!(parse("noop anything"), Ok(Command::Noop));
        assert_eq!(parse("help mail"), Ok(Command::Help));
        assert_eq!(parse("vrfy someone"), Ok(Command::Vrfy));
        assert_eq!(parse("starttls"), Ok(Command::NotImplemented));
        assert_eq!(parse("BDAT 10 LAST"), Ok(Command::NotImplemented));
    }

    #[test]
    fn greetings_need_one_word() {
        assert!(parse("EHLO").is_err());
        assert!(parse("HELO   ").is_err());
        assert!(parse("EHLO two words").is_err());
    }

    #[test]
    fn addresses_with_and_without_brackets() {
        let plain = Ok(("a@example.com".to_string(), None));
        assert_eq!(mail_from("MAIL FROM:<a@example.com>"), plain);
        assert_eq!(mail_from("mail from:<a@example.com>"), plain);
        assert_eq!(mail_from("MAIL FROM: <a@example.com>"), plain);
        assert_eq!(mail_from("MAIL FROM:a@example.com"), plain);
        assert_eq!(
            rcpt_to("RCPT TO:<b@example.org>"),
            Ok("b@example.org".into())
        );
        assert_eq!(rcpt_to("rcpt to:b@example.org"), Ok("b@example.org".into()));
        assert_eq!(rcpt_to("RCPT TO:<Postmaster>"), Ok("Postmaster".into()));
    }

    #[test]
    fn null_sender_and_source_routes() {
        assert_eq!(mail_from("MAIL FROM:<>"), Ok((String::new(), None)));
        assert_eq!(
            mail_from("MAIL FROM:<> SIZE=12"),
            Ok((String::new(), Some(12)))
        );
        assert_eq!(
            rcpt_to("RCPT TO:<@relay.one,@relay.two:c@example.net>"),
            Ok("c@example.net".into())
        );
        // The null path is for senders only.
        assert!(rcpt_to("RCPT TO:<>").is_err());
    }

    #[test]
    fn quoted_and_international_local_parts() {
        assert_eq!(
            rcpt_to(r#"RCPT TO:<"odd>name"@example.com>"#),
            Ok(r#""odd>name"@example.com"#.into())
        );
        assert_eq!(
            mail_from("MAIL FROM:<jürgen@bücher.example> SMTPUTF8"),
            Ok(("jürgen@bücher.example".into(), None))
        );
    }

    #[test]
    fn parameters_are_parsed_case_insensitively() {
        assert_eq!(
            mail_from("MAIL FROM:<a@b.c> size=1000 body=8bitmime"),
            Ok(("a@b.c".into(), Some(1000)))
        );
        assert_eq!(
            mail_from("MAIL FROM:<a@b.c> BODY=7BIT SMTPUTF8 SIZE=5"),
            Ok(("a@b.c".into(), Some(5)))
        );
        assert_eq!(
            mail_from("MAIL FROM:<a@b.c> SIZE=lots"),
            Err(ParseError("501 5.5.4 Syntax: SIZE=<number of octets>"))
        );
        assert_eq!(
            mail_from("MAIL FROM:<a@b.c> BODY=BINARYMIME"),
            Err(ParseError("555 5.5.4 Unsupported MAIL FROM parameter"))
        );
        assert_eq!(
            rcpt_to("RCPT TO:<a@b.c> NOTIFY=NEVER"),
            Err(ParseError("555 5.5.4 Unsupported RCPT TO parameter"))
        );
        assert!(mail_from("MAIL FROM:<a@b.c> SIZE=").is_err());
    }

    #[test]
    fn garbage_is_refused_with_a_reply() {
        for line in [
            "",
            " ",
            "GET / HTTP/1.1",
            "MAIL",
            "MAIL TO:<a@b.c>",
            "MAIL FROM:",
            "MAIL FROM:<a@b.c",
            "MAIL FROM:<a@b.c>junk",
            "MAIL FROM:<no-at-sign>",
            "MAIL FROM:<@b.c>",
            "MAIL FROM:<a@>",
            "MAIL FROM:<a b@c.d>",
            "RCPT FROM:<a@b.c>",
            "RCPT TO:<a@b.c\u{7}>",
            "DATA now",
            "\u{0}\u{1}\u{2}",
        ] {
            let parsed = parse(line);
            assert!(parsed.is_err(), "{line:?} parsed as {parsed:?}");
            let reply = parsed.unwrap_err().0;
            assert!(reply.starts_with('5'), "{line:?}: {reply}");
        }
        let long = format!("RCPT TO:<{}@example.com>", "x".repeat(300));
        assert!(parse(&long).is_err());
    }
}

/// Command lines come straight from the network: any text gives a command or a reply
/// line to send, never a panic; what we accept round-trips.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn verb() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "HELO", "EHLO", "LHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "HELP",
            "AUTH", "mail", "Rcpt",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_line_parses_or_names_a_reply(line in "\\PC{0,300}") {
            if let Err(ParseError(reply)) = parse(&line) {
                prop_assert!(reply.len() > 4 && (reply.starts_with('5') || reply.starts_with('4')));
            }
        }

        #[test]
        fn verbs_with_hostile_arguments(verb in verb(), arg in "[ -~\u{80}-\u{10ffff}<>:@\"\\\\=]{0,120}") {
            let _ = parse(&format!("{verb} {arg}"));
            let _ = parse(&format!("{verb} FROM:{arg}"));
            let _ = parse(&format!("{verb} TO:<{arg}"));
        }

        #[test]
        fn a_mailbox_round_trips(
            local in "[a-zA-Z0-9._+-]{1,40}",
            domain in "[a-z0-9-]{1,30}\\.[a-z]{2,6}",
            size in proptest::option::of(0u64..u64::MAX),
            space in any::<bool>(),
        ) {
            let address = format!("{local}@{domain}");
            let gap = if space { " " } else { "" };
            let size_param = size.map(|n| format!(" SIZE={n}")).unwrap_or_default();
            prop_assert_eq!(
                parse(&format!("mail from:{gap}<{address}>{size_param}")),
                Ok(Command::Mail { from: address.clone(), size })
            );
            prop_assert_eq!(
                parse(&format!("RCPT TO:<{address}>")),
                Ok(Command::Rcpt { to: address })
            );
        }
    }
}
