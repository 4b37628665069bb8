//! Saved replies managed from the TUI (Ctrl-T in the queue): a list to add, edit,
//! rename and remove them, with a text area of its own (not the reply editor, whose
//! Ctrl-S sends mail). Like the picker it never calls the desk: it answers
//! [`Action::ChangeTemplate`] and [`change`] carries that out, then shows it again.

use super::{centered, frame_popup, Outcome};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{bind, ch, ctrl, hints as table_hints, key, lookup, Binding};
use crate::screens::Ctx;
use crate::theme::{Role, Theme};
use crate::widgets::list::ScrollList;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};
use ratatui::Frame;
use sealdesk_model::{sanitize, AgentRole, Visibility};

/// A change to a saved reply the manager asks for; [`change`] carries it out.
pub(crate) enum TemplateChange {
    Add { name: String, text: String },
    Edit { name: String, text: String },
    Rename { name: String, new: String },
    Remove { name: String },
}

#[derive(Clone, Copy)]
enum ManageKey {
    Add,
    Edit,
    Rename,
    Remove,
    Close,
}

const MANAGE_KEYS: &[Binding<ManageKey>] = &[
    bind(&[ch('a')], ManageKey::Add, "add a saved reply", Some("add")),
    bind(
        &[key(KeyCode::Enter), ch('e')],
        ManageKey::Edit,
        "edit its text",
        Some("edit"),
    ),
    bind(&[ch('r')], ManageKey::Rename, "rename it", Some("rename")),
    bind(
        &[ch('d')],
        ManageKey::Remove,
        "remove it (asks first)",
        Some("remove"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        ManageKey::Close,
        "close",
        Some("close"),
    ),
];

/// What the manager is doing.
enum Mode {
    List,
    /// Typing a name: for a new saved reply (`None`) or to rename this one.
    Naming {
        name: String,
        renaming: Option<String>,
    },
    /// Writing the text of `name` (`new`: not saved yet).
    Writing {
        name: String,
        text: super::draft::Draft,
        new: bool,
    },
    /// Asked: remove `name`?
    Removing(String),
}

/// Saved replies to add, edit, rename and remove from the TUI: shared ones if the agent
/// is an admin, personal ones otherwise (the desk checks it either way).
pub(crate) struct TemplateManager {
    /// (name, text, "shared"/"personal", by)
    templates: Vec<(String, String, &'static str, String)>,
    list: ScrollList,
    mode: Mode,
    error: Option<String>,
}

impl TemplateManager {
    pub(crate) fn handle(&mut self, pressed: KeyEvent) -> Outcome {
        self.error = None;
        match &mut self.mode {
            Mode::List => {
                let len = self.templates.len();
                if self.list.handle_key(pressed, len).is_some() {
                    return Outcome::Stay;
                }
                let selected = self.templates.get(self.list.selected());
                match (lookup(MANAGE_KEYS, pressed), selected) {
                    (Some(ManageKey::Close), _) => return Outcome::Close,
                    (Some(ManageKey::Add), _) => {
                        self.mode = Mode::Naming {
                            name: String::new(),
                            renaming: None,
                        }
                    }
                    (Some(ManageKey::Edit), Some((name, text, ..))) => {
                        self.mode = Mode::Writing {
                            name: name.clone(),
                            text: super::draft::Draft::new(text),
                            new: false,
                        }
                    }
                    (Some(ManageKey::Rename), Some((name, ..))) => {
                        self.mode = Mode::Naming {
                            name: name.clone(),
                            renaming: Some(name.clone()),
                        }
                    }
                    (Some(ManageKey::Remove), Some((name, ..))) => {
                        self.mode = Mode::Removing(name.clone())
                    }
                    _ => {}
                }
            }
            Mode::Naming { name, renaming } => match pressed.code {
                KeyCode::Esc => self.mode = Mode::List,
                KeyCode::Enter if name.trim().is_empty() => {
                    self.error = Some("type a name first, or Esc".into())
                }
                KeyCode::Enter => {
                    let name = name.trim().to_string();
                    if let Some(old) = renaming.take() {
                        return Outcome::Done(Action::ChangeTemplate(TemplateChange::Rename {
                            name: old,
                            new: name,
                        }));
                    }
                    self.mode = Mode::Writing {
                        name,
                        text: super::draft::Draft::new(""),
                        new: true,
                    };
                }
                KeyCode::Backspace => _ = name.pop(),
                KeyCode::Char(c)
                    if !pressed.mods.ctrl
                        && !pressed.mods.alt
                        && !sanitize::is_unsafe(c)
                        && name.chars().count() < 64 =>
                {
                    name.push(c)
                }
                _ => {}
            },
            Mode::Writing { name, text, new } => {
                if pressed == ctrl('s') {
                    let body = text.text();
                    if body.trim().is_empty() {
                        self.error = Some("the text is empty: write something, or Esc".into());
                        return Outcome::Stay;
                    }
                    let name = name.clone();
                    return Outcome::Done(Action::ChangeTemplate(match new {
                        true => TemplateChange::Add { name, text: body },
                        false => TemplateChange::Edit { name, text: body },
                    }));
                }
                if !write_key(text, pressed) {
                    self.mode = Mode::List;
                }
            }
            Mode::Removing(name) => match pressed.code {
                KeyCode::Char('y') => {
                    let name = std::mem::take(name);
                    return Outcome::Done(Action::ChangeTemplate(TemplateChange::Remove { name }));
                }
                KeyCode::Char('n') | KeyCode::Esc => self.mode = Mode::List,
                _ => {}
            },
        }
        Outcome::Stay
    }

    pub(crate) fn paste(&mut self, pasted: &str) {
        match &mut self.mode {
            Mode::Writing { text, .. } => {
                let fitted = text.insert_str(&sanitize::multiline(pasted));
                self.error = (!fitted).then(|| "the text is at its limit: shorten it".into());
            }
            Mode::Naming { name, .. } => name.extend(
                sanitize::line(pasted)
                    .chars()
                    .take(64 - name.chars().count().min(64)),
            ),
            _ => {}
        }
    }

    pub(crate) fn hints(&self) -> Vec<(String, &'static str)> {
        match self.mode {
            Mode::List => table_hints(MANAGE_KEYS),
            Mode::Naming { .. } => vec![
                ("Enter".to_string(), "accept"),
                ("Esc".to_string(), "cancel"),
            ],
            Mode::Writing { .. } => vec![
                ("Ctrl-S".to_string(), "save"),
                ("Esc".to_string(), "cancel"),
            ],
            Mode::Removing(_) => vec![("y".to_string(), "remove"), ("n".to_string(), "keep")],
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = area.width.saturating_sub(6).clamp(30, 100);
        let height = area.height.saturating_sub(4).clamp(8, 30);
        let title = match &self.mode {
            Mode::Writing { name, .. } => format!("Saved reply {}", sanitize::line(name)),
            _ => "Saved replies".to_string(),
        };
        let inner = frame_popup(frame, centered(area, width, height), theme, &title);
        let [body, footer] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let footer_text = match &self.mode {
            Mode::List => "a: add   Enter/e: edit   r: rename   d: remove   Esc: close".to_string(),
            Mode::Naming {
                renaming: None,
                name,
            } => format!("name of the new saved reply: {name}▏"),
            Mode::Naming { name, .. } => format!("new name: {name}▏"),
            Mode::Writing { .. } => format!(
                "Ctrl-S: save   Esc: cancel   placeholders: {}",
                sealdesk_model::PLACEHOLDER_NAMES.join(" ")
            ),
            Mode::Removing(name) => format!(
                "Remove the saved reply {}?  y: remove   n: keep",
                sanitize::line(name)
            ),
        };
        let footer_style = match (&self.error, &self.mode) {
            (Some(_), _) | (None, Mode::Removing(_)) => theme.style(Role::MessageError),
            _ => theme.style(Role::Muted),
        };
        let footer_text = self.error.clone().unwrap_or(footer_text);
        frame.render_widget(
            Paragraph::new(Line::styled(
                sanitize::line(&footer_text).into_owned(),
                footer_style,
            )),
            footer,
        );
        if let Mode::Writing { text, .. } = &mut self.mode {
            text.render(
                frame.buffer_mut(),
                body,
                theme.style(Role::Input),
                theme.style(Role::InputCursor),
            );
            return;
        }
        if self.templates.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "No saved replies yet: a adds one.",
                    theme.style(Role::Muted),
                )),
                body,
            );
            return;
        }
        let window = self
            .list
            .keep_in_view(body.height as usize, self.templates.len());
        let rows: Vec<ListItem> = self.templates[window.clone()]
            .iter()
            .map(|(name, text, scope, by)| {
                let preview = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                ListItem::new(Line::from(vec![
                    Span::raw(format!("{:<24} ", sanitize::line(name))),
                    Span::styled(
                        format!("{scope:<8} {:<12} ", sanitize::line(by)),
                        theme.style(Role::Muted),
                    ),
                    Span::raw(sanitize::line(preview).into_owned()),
                ]))
            })
            .collect();
        let widget = List::new(rows)
            .highlight_style(theme.style(Role::Selected))
            .highlight_symbol("> ");
        let mut state =
            ListState::default().with_selected(Some(self.list.selected() - window.start));
        frame.render_stateful_widget(widget, body, &mut state);
    }
}

/// Applies an editing key to `text`; `false` for Esc (leave the text).
fn write_key(text: &mut super::draft::Draft, pressed: KeyEvent) -> bool {
    use super::draft::Move as To;
    let plain = !pressed.mods.ctrl && !pressed.mods.alt;
    match pressed.code {
        KeyCode::Esc => return false,
        KeyCode::Char(c) if plain && !sanitize::is_unsafe(c) => _ = text.insert_char(c),
        KeyCode::Enter if plain => _ = text.newline(),
        KeyCode::Tab if plain => _ = text.tab(),
        KeyCode::Backspace => text.backspace(),
        KeyCode::Delete => text.delete(),
        KeyCode::Left => text.move_cursor(To::Left),
        KeyCode::Right => text.move_cursor(To::Right),
        KeyCode::Up => text.move_cursor(To::Up),
        KeyCode::Down => text.move_cursor(To::Down),
        KeyCode::Home => text.move_cursor(To::Home),
        KeyCode::End => text.move_cursor(To::End),
        _ => {}
    }
    true
}

/// The saved-replies manager, with the templates the agent sees; `writing` reopens it
/// on a text that could not be saved, so nothing typed is lost.
/// `focus` is the name to select (the one just changed).
pub(crate) fn manager(
    ctx: &Ctx,
    writing: Option<(String, String, bool)>,
    focus: Option<&str>,
) -> Action {
    let templates = match ctx.desk.reply_templates(&ctx.session.actor) {
        Ok(templates) => templates,
        Err(e) => return Action::Error(e.to_string()),
    };
    let mode = match writing {
        Some((name, text, new)) => Mode::Writing {
            name,
            text: super::draft::Draft::new(&text),
            new,
        },
        None => Mode::List,
    };
    let mut list = ScrollList::default();
    if let Some(at) = focus.and_then(|name| templates.iter().position(|t| t.name == name)) {
        list.select(at, templates.len());
    }
    let templates = templates
        .into_iter()
        .map(|t| {
            let scope = match t.visibility {
                Visibility::Shared => "shared",
                Visibility::Personal => "personal",
            };
            (t.name, t.text, scope, t.created_by)
        })
        .collect();
    Action::popup(super::Popup::ManageTemplates(Box::new(TemplateManager {
        templates,
        list,
        mode,
        error: None,
    })))
}

/// Carries out what the manager asked, then shows it again with the outcome. New saved
/// replies are shared when an admin makes them, personal otherwise.
pub(crate) fn change(ctx: &Ctx, change: TemplateChange) -> Action {
    let (desk, actor) = (ctx.desk, &ctx.session.actor);
    let visibility = match ctx.session.agent.role {
        AgentRole::Admin => Visibility::Shared,
        _ => Visibility::Personal,
    };
    let focus = match &change {
        TemplateChange::Add { name, .. } | TemplateChange::Edit { name, .. } => Some(name.clone()),
        TemplateChange::Rename { new, .. } => Some(new.clone()),
        TemplateChange::Remove { .. } => None,
    };
    let (done, kept) = match &change {
        TemplateChange::Add { name, text } => (
            desk.add_reply_template(actor, name, text, visibility)
                .map(|t| {
                    format!(
                        "saved reply {} added ({})",
                        t.name,
                        scope_word(t.visibility)
                    )
                }),
            Some((name.clone(), text.clone(), true)),
        ),
        TemplateChange::Edit { name, text } => (
            desk.edit_reply_template(actor, name, Some(text), None)
                .map(|t| format!("saved reply {} saved", t.name)),
            Some((name.clone(), text.clone(), false)),
        ),
        TemplateChange::Rename { name, new } => (
            desk.edit_reply_template(actor, name, None, Some(new))
                .map(|t| format!("saved reply {name} is now {}", t.name)),
            None,
        ),
        TemplateChange::Remove { name } => (
            desk.remove_reply_template(actor, name)
                .map(|t| format!("saved reply {} removed", t.name)),
            None,
        ),
    };
    match done {
        Ok(said) => Action::Many(vec![
            manager(ctx, None, focus.as_deref()),
            Action::Info(sanitize::line(&said).into_owned()),
        ]),
        Err(e) => Action::Many(vec![
            manager(ctx, kept, focus.as_deref()),
            Action::Error(e.to_string()),
        ]),
    }
}

fn scope_word(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Shared => "shared with every agent",
        Visibility::Personal => "personal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager_with(names: &[&str]) -> TemplateManager {
        TemplateManager {
            templates: names
                .iter()
                .map(|n| {
                    (
                        n.to_string(),
                        format!("Text of {n}"),
                        "shared",
                        "alice".into(),
                    )
                })
                .collect(),
            list: ScrollList::default(),
            mode: Mode::List,
            error: None,
        }
    }

    fn typed(m: &mut TemplateManager, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            assert!(matches!(m.handle(key(code)), Outcome::Stay));
        }
    }

    #[test]
    fn the_manager_adds_edits_renames_and_removes() {
        let mut m = manager_with(&["one", "two"]);
        m.handle(ch('a'));
        assert!(matches!(m.handle(key(KeyCode::Enter)), Outcome::Stay));
        assert!(m.error.is_some(), "a name is needed");
        typed(&mut m, "new one\nHello\n{ticket}");
        match m.handle(ctrl('s')) {
            Outcome::Done(Action::ChangeTemplate(TemplateChange::Add { name, text })) => {
                assert_eq!(
                    (name.as_str(), text.as_str()),
                    ("new one", "Hello\n{ticket}")
                )
            }
            _ => panic!("Ctrl-S saves the new one"),
        }
        let mut m = manager_with(&["one", "two"]);
        m.handle(ch('j'));
        m.handle(ch('e'));
        typed(&mut m, "!");
        assert!(matches!(
            m.handle(ctrl('s')),
            Outcome::Done(Action::ChangeTemplate(TemplateChange::Edit { name, text }))
                if name == "two" && text == "Text of two!"
        ));
        let mut m2 = manager_with(&["one"]);
        m2.handle(ch('r'));
        m2.handle(key(KeyCode::Backspace));
        assert!(matches!(
            m2.handle(key(KeyCode::Enter)),
            Outcome::Done(Action::ChangeTemplate(TemplateChange::Rename { name, new }))
                if name == "one" && new == "on"
        ));
        let mut m = manager_with(&["one"]);
        m.handle(ch('d'));
        m.handle(ch('n'));
        assert!(matches!(m.mode, Mode::List), "n keeps it");
        m.handle(ch('d'));
        assert!(matches!(
            m.handle(ch('y')),
            Outcome::Done(Action::ChangeTemplate(TemplateChange::Remove { name })) if name == "one"
        ));
        assert!(matches!(
            manager_with(&[]).handle(key(KeyCode::Esc)),
            Outcome::Close
        ));
    }
}
