//! Colour themes for the agent TUI.
//!
//! A theme gives every UI [`Role`] (what a piece of text is *for*) a ratatui [`Style`], so
//! drawing code asks for `theme.style(Role::Selected)` and never names a colour. Themes are
//! TOML files in `themes/` (format in `themes/README.md`); the shipped ones are also compiled
//! in, so an installed binary without that directory still offers them. A broken theme must
//! never lock an agent out of the desk, so loading always yields a usable theme and reports
//! problems as a one-line warning that says what to fix.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The theme used when none is chosen or the chosen one cannot be loaded.
pub const DEFAULT_THEME: &str = "dark";

/// Shipped themes as (name, TOML text). The default comes first.
const SHIPPED: [(&str, &str); 4] = [
    (DEFAULT_THEME, include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../../themes/mono.toml")),
];

/// Declares [`Role`] and its theme-file keys in one list, so the two cannot drift apart.
macro_rules! roles {
    ($($(#[doc = $doc:literal])* $variant:ident = $key:literal,)*) => {
        /// What a piece of text is for; every theme gives each role a style.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Role {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Role {
            /// Every role, in declaration order.
            pub const ALL: [Role; [$($key),*].len()] = [$(Role::$variant),*];

            /// The role's key in a theme file's `[roles]` table.
            pub fn key(self) -> &'static str {
                match self {
                    $(Role::$variant => $key,)*
                }
            }
        }
    };
}

roles! {
    /// Default text and background; fill the whole frame with it first.
    Base = "base",
    Title = "title",
    Border = "border",
    /// Border of the pane that has keyboard focus.
    BorderFocused = "border_focused",
    /// The selected row of a list or table.
    Selected = "selected",
    /// Table header row.
    Header = "header",
    StatusBar = "status_bar",
    /// Key hints inside the status bar.
    StatusBarKey = "status_bar_key",
    MessageInfo = "message_info",
    MessageError = "message_error",
    /// Secondary text such as times and counts.
    Muted = "muted",
    StatusNew = "status_new",
    StatusOpen = "status_open",
    StatusPending = "status_pending",
    StatusSolved = "status_solved",
    StatusClosed = "status_closed",
    PriorityLow = "priority_low",
    PriorityNormal = "priority_normal",
    PriorityHigh = "priority_high",
    PriorityUrgent = "priority_urgent",
    /// Thread entry: mail from the customer.
    MsgInbound = "msg_inbound",
    /// Thread entry: reply sent to the customer.
    MsgOutbound = "msg_outbound",
    /// Thread entry: internal note the customer never sees.
    MsgNote = "msg_note",
    Overdue = "overdue",
    DueSoon = "due_soon",
    Tag = "tag",
    /// Text being edited.
    Input = "input",
    /// The cell under the editor's cursor.
    InputCursor = "input_cursor",
    /// Body of a popup dialog.
    Popup = "popup",
    /// The series of a report's bar chart, in column order (a fifth column takes the
    /// first again); bars also carry a letter, so they read without colour.
    Chart1 = "chart_1",
    Chart2 = "chart_2",
    Chart3 = "chart_3",
    Chart4 = "chart_4",
    /// The cells of a heat grid by how busy they are; the cell's character
    /// (` .:-=+*#%@`) carries the level too.
    HeatLow = "heat_low",
    HeatMid = "heat_mid",
    HeatHigh = "heat_high",
}

impl Role {
    /// The role a theme-file key names, if any.
    pub(crate) fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.key() == key)
    }
}

/// A loaded theme: one [`Style`] per [`Role`].
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// The name agents select it by: the file name without `.toml`.
    pub name: String,
    /// One line for theme pickers.
    pub description: String,
    styles: [Style; Role::ALL.len()],
}

impl Theme {
    /// The built-in default theme, which needs no files on disk.
    pub(crate) fn default_dark() -> Theme {
        parse_theme(DEFAULT_THEME, SHIPPED[0].1)
            .expect("the embedded dark.toml is valid (checked by the tests)")
    }

    /// The style for `role`. A role a user theme leaves out is the empty style, which
    /// inherits whatever it is drawn over (normally `Role::Base`).
    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// The same theme with every foreground and background colour removed, for NO_COLOR.
    ///
    /// Modifiers stay, so bold, reversed and the rest still carry meaning. The selected row
    /// and the focused border are what an agent navigates by, so if a theme marked them by
    /// colour alone they are given a modifier here rather than vanishing.
    pub(crate) fn without_colours(mut self) -> Theme {
        for style in &mut self.styles {
            style.fg = None;
            style.bg = None;
        }
        self.styles[Role::Selected as usize]
            .add_modifier
            .insert(Modifier::REVERSED);
        let border = self.style(Role::Border).add_modifier;
        let focused = &mut self.styles[Role::BorderFocused as usize].add_modifier;
        if *focused == border {
            focused.insert(if border.contains(Modifier::BOLD) {
                Modifier::REVERSED
            } else {
                Modifier::BOLD
            });
        }
        self
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::default_dark()
    }
}

/// Whether the NO_COLOR convention (<https://no-color.org>) asks for no colour: the
/// variable is present and not empty. It takes the value rather than reading the
/// environment because over SSH it is the agent's client environment that counts.
pub fn no_color_requested(value: Option<&str>) -> bool {
    value.is_some_and(|value| !value.is_empty())
}

/// Loads theme `name` from `dir/<name>.toml`, or the embedded copy of a shipped theme when
/// `dir` has no such file, and strips its colours if `no_color`.
///
/// Never fails: on any problem it returns the default theme and a one-line warning naming
/// the file, the key and what to fix, for the caller to show or log.
pub fn load_theme(dir: &Path, name: &str, no_color: bool) -> (Theme, Option<String>) {
    let (theme, warning) = match find_theme(dir, name) {
        Ok(theme) => (theme, None),
        Err(problem) => (
            Theme::default_dark(),
            Some(format!("{problem}; using the default theme")),
        ),
    };
    let theme = if no_color {
        theme.without_colours()
    } else {
        theme
    };
    (theme, warning)
}

/// Sorted names of the themes an agent can choose: the shipped ones plus every
/// `dir/*.toml` whose name is a valid theme name. A missing `dir` is not an error.
pub fn available_themes(dir: &Path) -> Vec<String> {
    let in_dir = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let stem = path.file_stem()?.to_str()?;
            (path.extension()? == "toml" && is_valid_name(stem)).then(|| stem.to_owned())
        });
    let mut names: Vec<String> = SHIPPED.iter().map(|(name, _)| name.to_string()).collect();
    names.extend(in_dir);
    names.sort();
    names.dedup();
    names
}

/// Theme names become file names, so only `[a-z0-9-]+` is accepted: no separators, no
/// dots, nothing that could climb out of the themes directory.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Why a theme could not be loaded (the default is used instead, with this as warning).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "theme name {0:?} is not allowed: use only lowercase letters, digits and '-' \
         (like \"high-contrast\")"
    )]
    BadName(String),
    #[error("{path}: no such theme (available: {available})")]
    NoSuchTheme { path: String, available: String },
    #[error("{path}: cannot read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: ThemeProblem },
}

/// What is wrong inside a theme file; names the offending key but not the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThemeProblem {
    /// toml's report squeezed to "line N: message".
    #[error("{0}")]
    NotToml(String),
    #[error("roles.{key}: unknown role (known roles: {known})")]
    UnknownRole { key: String, known: String },
    #[error("roles.{key}.{which}: {colour}")]
    BadColour {
        key: String,
        which: &'static str,
        colour: BadColour,
    },
    #[error(
        "roles.{key}.modifiers: unknown modifier {modifier:?} \
         (use bold, dim, italic, underlined or reversed)"
    )]
    UnknownModifier { key: String, modifier: String },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown colour {0:?} (use a name like \"blue\", \"#rrggbb\" or 0-255)")]
pub struct BadColour(String);

fn find_theme(dir: &Path, name: &str) -> Result<Theme, ThemeError> {
    if !is_valid_name(name) {
        return Err(ThemeError::BadName(name.to_string()));
    }
    let path = dir.join(format!("{name}.toml"));
    let text = match fs::read_to_string(&path) {
        Ok(text) => Cow::Owned(text),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            match SHIPPED.iter().find(|(shipped, _)| *shipped == name) {
                Some((_, text)) => Cow::Borrowed(*text),
                None => {
                    return Err(ThemeError::NoSuchTheme {
                        path: path.display().to_string(),
                        available: available_themes(dir).join(", "),
                    });
                }
            }
        }
        Err(err) => {
            return Err(ThemeError::Unreadable {
                path: path.display().to_string(),
                reason: err.to_string(),
            })
        }
    };
    parse_theme(name, &text).map_err(|problem| ThemeError::Invalid {
        path: path.display().to_string(),
        problem,
    })
}

/// A theme file as written, before colours and modifiers are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    /// Required so a file describes itself; the file name is what selects the theme.
    #[allow(dead_code)]
    name: String,
    description: String,
    roles: BTreeMap<String, RawStyle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

/// Parses a theme file's text; the error names the offending key but not the file.
fn parse_theme(name: &str, text: &str) -> Result<Theme, ThemeProblem> {
    let raw: RawTheme = toml::from_str(text)
        .map_err(|err| ThemeProblem::NotToml(describe_toml_error(&err, text)))?;
    let mut styles = [Style::new(); Role::ALL.len()];
    for (key, raw_style) in &raw.roles {
        let role = Role::from_key(key).ok_or_else(|| {
            let known: Vec<&str> = Role::ALL.iter().map(|role| role.key()).collect();
            ThemeProblem::UnknownRole {
                key: key.clone(),
                known: known.join(", "),
            }
        })?;
        styles[role as usize] = raw_style.to_style(key)?;
    }
    Ok(Theme {
        name: name.to_owned(),
        description: raw.description,
        styles,
    })
}

impl RawStyle {
    fn to_style(&self, key: &str) -> Result<Style, ThemeProblem> {
        let bad = |which, colour| ThemeProblem::BadColour {
            key: key.to_string(),
            which,
            colour,
        };
        let mut style = Style::new();
        if let Some(fg) = &self.fg {
            style.fg = Some(parse_colour(fg).map_err(|e| bad("fg", e))?);
        }
        if let Some(bg) = &self.bg {
            style.bg = Some(parse_colour(bg).map_err(|e| bad("bg", e))?);
        }
        for modifier in &self.modifiers {
            style.add_modifier |=
                parse_modifier(modifier).ok_or_else(|| ThemeProblem::UnknownModifier {
                    key: key.to_string(),
                    modifier: modifier.clone(),
                })?;
        }
        Ok(style)
    }
}

/// Accepts ratatui's colour names ("lightblue", "dark gray", "reset", …), "#rrggbb" and
/// palette indexes "0"–"255".
fn parse_colour(text: &str) -> Result<Color, BadColour> {
    Color::from_str(text).map_err(|_| BadColour(text.to_string()))
}

fn parse_modifier(text: &str) -> Option<Modifier> {
    Some(match text {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        _ => return None,
    })
}

/// Squeezes toml's multi-line report into "line N: message" for a one-line warning.
fn describe_toml_error(err: &toml::de::Error, text: &str) -> String {
    let lines: Vec<&str> = err.message().lines().map(str::trim).collect();
    let message = lines.join(": ");
    match err.span() {
        Some(span) => {
            let line = text.get(..span.start).unwrap_or(text).matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn theme_errors_read_as_the_old_messages() {
        assert_eq!(
            ThemeError::BadName("Up/".into()).to_string(),
            "theme name \"Up/\" is not allowed: use only lowercase letters, digits and '-' (like \"high-contrast\")"
        );
        let modifier = ThemeProblem::UnknownModifier {
            key: "title".into(),
            modifier: "blink".into(),
        };
        assert_eq!(
            modifier.to_string(),
            "roles.title.modifiers: unknown modifier \"blink\" (use bold, dim, italic, underlined or reversed)"
        );
        let colour = ThemeProblem::BadColour {
            key: "title".into(),
            which: "fg",
            colour: BadColour("blu".into()),
        };
        assert_eq!(
            colour.to_string(),
            "roles.title.fg: unknown colour \"blu\" (use a name like \"blue\", \"#rrggbb\" or 0-255)"
        );
    }

    /// A fresh directory for one test, holding the given theme files.
    fn theme_dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sealdesk-theme-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    /// Loads `text` as theme "custom" and returns the warning, checking the fallback.
    fn warning_for(test: &str, text: &str) -> String {
        let dir = theme_dir(test, &[("custom.toml", text)]);
        let (theme, warning) = load_theme(&dir, "custom", false);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(theme, Theme::default_dark());
        let warning = warning.expect("a broken theme must produce a warning");
        assert!(warning.contains("custom.toml: "), "{warning}");
        assert!(warning.ends_with("; using the default theme"), "{warning}");
        assert!(!warning.contains('\n'), "{warning}");
        warning
    }

    const HEADER: &str = "name = \"custom\"\ndescription = \"test\"\n[roles]\n";

    #[test]
    fn every_shipped_theme_parses_and_defines_every_role() {
        for (name, text) in SHIPPED {
            let raw: RawTheme = toml::from_str(text).unwrap();
            assert_eq!(raw.name, name, "{name}.toml: name must match the file name");
            for role in Role::ALL {
                assert!(
                    raw.roles.contains_key(role.key()),
                    "{name}.toml lacks {role:?}"
                );
            }
            let (theme, warning) = load_theme(Path::new("/nonexistent"), name, false);
            assert_eq!(warning, None);
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn mono_sets_no_colours() {
        let (mono, _) = load_theme(Path::new("/nonexistent"), "mono", false);
        for role in Role::ALL {
            let style = mono.style(role);
            assert_eq!((style.fg, style.bg), (None, None), "mono colours {role:?}");
        }
    }

    #[test]
    fn no_color_strips_colours_but_keeps_what_agents_navigate_by() {
        for (name, _) in SHIPPED {
            let (theme, _) = load_theme(Path::new("/nonexistent"), name, true);
            for role in Role::ALL {
                assert_eq!((theme.style(role).fg, theme.style(role).bg), (None, None));
            }
            let modifiers = |role| theme.style(role).add_modifier;
            assert!(
                modifiers(Role::Selected).contains(Modifier::REVERSED),
                "{name}"
            );
            assert_ne!(
                modifiers(Role::Border),
                modifiers(Role::BorderFocused),
                "{name}"
            );
            // Thread entries must stay distinct too: a note mistaken for a reply is a leak.
            let thread = [Role::MsgInbound, Role::MsgOutbound, Role::MsgNote].map(modifiers);
            assert!(thread[0] != thread[1] && thread[1] != thread[2] && thread[0] != thread[2]);
        }
    }

    #[test]
    fn no_color_marks_selection_and_focus_of_a_colour_only_theme() {
        let text = format!(
            "{HEADER}selected = {{ bg = \"blue\" }}\nborder = {{ fg = \"gray\" }}\n\
             border_focused = {{ fg = \"cyan\" }}\n"
        );
        let dir = theme_dir("colour-only", &[("custom.toml", &text)]);
        let (theme, warning) = load_theme(&dir, "custom", true);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(warning, None);
        assert_eq!(theme.style(Role::Selected), Style::new().reversed());
        assert_eq!(theme.style(Role::BorderFocused), Style::new().bold());
    }

    #[test]
    fn bad_colour_names_key_and_fix() {
        let warning = warning_for("colour", &format!("{HEADER}title = {{ fg = \"blu\" }}\n"));
        assert!(
            warning.contains("roles.title.fg: unknown colour \"blu\" (use a name like"),
            "{warning}"
        );
    }

    #[test]
    fn unknown_role_and_modifier_are_named() {
        let warning = warning_for("role", &format!("{HEADER}titel = {{ fg = \"blue\" }}\n"));
        assert!(warning.contains("roles.titel: unknown role"), "{warning}");
        assert!(warning.contains("border_focused"), "{warning}");
        let text = format!("{HEADER}title = {{ modifiers = [\"blink\"] }}\n");
        let warning = warning_for("modifier", &text);
        assert!(warning.contains("roles.title.modifiers: unknown modifier \"blink\""));
    }

    #[test]
    fn syntax_and_shape_errors_give_the_line() {
        let warning = warning_for("syntax", &format!("{HEADER}title = {{ fg = \"blue\"\n"));
        assert!(warning.contains("custom.toml: line 4: "), "{warning}");
        let warning = warning_for("field", &format!("{HEADER}title = {{ fgg = \"blue\" }}\n"));
        assert!(
            warning.contains("line 4: ") && warning.contains("fgg"),
            "{warning}"
        );
        let warning = warning_for("table", "name = \"custom\"\ndescription = \"x\"\n[role]\n");
        assert!(warning.contains("role"), "{warning}");
    }

    #[test]
    fn names_that_could_leave_the_directory_are_rejected() {
        for name in [
            "../etc/passwd",
            "dark/../light",
            "a\\b",
            "/tmp/x",
            "Dark",
            ".",
            "",
        ] {
            let (theme, warning) = load_theme(Path::new("themes"), name, false);
            assert_eq!(theme, Theme::default_dark());
            let warning = warning.unwrap();
            assert!(warning.contains("is not allowed"), "{warning}");
            assert!(warning.ends_with("using the default theme"), "{warning}");
        }
    }

    #[test]
    fn missing_theme_lists_the_available_ones() {
        let (theme, warning) = load_theme(Path::new("/nonexistent"), "solarized", false);
        assert_eq!(theme, Theme::default_dark());
        let warning = warning.unwrap();
        assert!(warning.contains("solarized.toml: no such theme (available: dark, high-contrast"));
    }

    #[test]
    fn dir_files_override_and_extend_the_shipped_themes() {
        let custom = format!("{HEADER}title = {{ fg = \"#ff8000\" }}\n");
        let files = [("light.toml", custom.as_str()), ("ocean.toml", &custom)];
        let dir = theme_dir("override", &[files[0], files[1], ("Bad Name.toml", "")]);
        let (light, warning) = load_theme(&dir, "light", false);
        assert_eq!(warning, None);
        assert_eq!(light.style(Role::Title).fg, Some(Color::Rgb(255, 128, 0)));
        assert_eq!(light.style(Role::Base), Style::new());
        let names = available_themes(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, ["dark", "high-contrast", "light", "mono", "ocean"]);
    }

    #[test]
    fn colours_parse_by_name_hex_and_index() {
        assert_eq!(parse_colour("lightblue"), Ok(Color::LightBlue));
        assert_eq!(parse_colour("reset"), Ok(Color::Reset));
        assert_eq!(parse_colour("#1E90ff"), Ok(Color::Rgb(0x1e, 0x90, 0xff)));
        assert_eq!(parse_colour("0"), Ok(Color::Indexed(0)));
        assert_eq!(parse_colour("255"), Ok(Color::Indexed(255)));
        for bad in ["256", "#12345", "#gggggg", "blu", ""] {
            assert!(parse_colour(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn no_color_follows_the_convention() {
        assert!(!no_color_requested(None));
        assert!(!no_color_requested(Some("")));
        assert!(no_color_requested(Some("1")));
    }
}
