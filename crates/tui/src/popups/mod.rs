//! Dialogs drawn over the current screen: help, pickers, one-line prompts,
//! confirmations and small forms (the reply/note editor, a pane of the ticket screen,
//! lives here too as it shares the text model). A popup takes every key while it is open
//! and answers with an [`Outcome`]; it never touches the desk itself, so the screen that
//! opened it stays the one place its operation happens.

pub(crate) mod bulk;
mod draft;
mod editor;
mod form;
mod help;
mod messages;
mod picker;
mod prompt;
pub(crate) mod template_manager;
pub(crate) mod templates;
pub(crate) mod views;

pub(crate) use editor::{Editor, EditorEvent};
pub(crate) use form::{Form, FormAnswer};
pub(crate) use help::HelpPopup;
pub(crate) use messages::MessagesPopup;
pub(crate) use picker::Picker;
pub(crate) use prompt::{Confirm, Prompt};
pub(crate) use templates::TemplatePicker;

use super::action::Action;
use super::event::KeyEvent;
use super::theme::{Role, Theme};
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

pub(crate) enum Popup {
    Help(HelpPopup),
    Picker(Picker),
    Prompt(Prompt),
    Confirm(Confirm),
    /// Boxed: a form holds several fields and their options.
    Form(Box<Form>),
    /// Saved replies or macros to pick from, with type-to-filter (boxed: it holds
    /// every item's text).
    Templates(Box<TemplatePicker>),
    /// Saved replies to add, edit, rename and remove.
    ManageTemplates(Box<template_manager::TemplateManager>),
    /// The status line's last messages, whole.
    Messages(MessagesPopup),
}

/// What a popup's key press amounts to.
pub(crate) enum Outcome {
    /// Still open.
    Stay,
    /// Closed without an answer.
    Close,
    /// Closed with an answer for the app to carry out.
    Done(Action),
}

impl Popup {
    pub(crate) fn handle(&mut self, key: KeyEvent) -> Outcome {
        match self {
            Popup::Help(p) => p.handle(key),
            Popup::Picker(p) => p.handle(key),
            Popup::Prompt(p) => p.handle(key),
            Popup::Confirm(p) => p.handle(key),
            Popup::Form(p) => p.handle(key),
            Popup::Templates(p) => p.handle(key),
            Popup::ManageTemplates(p) => p.handle(key),
            Popup::Messages(p) => p.handle(key),
        }
    }

    /// Pasted text goes to popups that take text; the others ignore it.
    pub(crate) fn paste(&mut self, text: &str) {
        match self {
            Popup::Prompt(p) => p.paste(text),
            Popup::Form(p) => p.paste(text),
            Popup::Templates(p) => p.paste(text),
            Popup::ManageTemplates(p) => p.paste(text),
            Popup::Help(_) | Popup::Picker(_) | Popup::Confirm(_) | Popup::Messages(_) => {}
        }
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match self {
            Popup::Help(p) => p.draw(frame, area, theme),
            Popup::Picker(p) => p.draw(frame, area, theme),
            Popup::Prompt(p) => p.draw(frame, area, theme),
            Popup::Confirm(p) => p.draw(frame, area, theme),
            Popup::Form(p) => p.draw(frame, area, theme),
            Popup::Templates(p) => p.draw(frame, area, theme),
            Popup::ManageTemplates(p) => p.draw(frame, area, theme),
            Popup::Messages(p) => p.draw(frame, area, theme),
        }
    }

    /// Keys for the status line while this popup is open.
    pub(crate) fn hints(&self) -> Vec<(String, &'static str)> {
        match self {
            Popup::Help(_) => help::hints(),
            Popup::Picker(_) => picker::hints(),
            Popup::Prompt(_) => prompt::prompt_hints(),
            Popup::Confirm(_) => prompt::confirm_hints(),
            Popup::Form(_) => form::hints(),
            Popup::Templates(_) => templates::hints(),
            Popup::ManageTemplates(p) => p.hints(),
            Popup::Messages(_) => messages::hints(),
        }
    }
}

/// A `width` × `height` box centred in `area`, shrunk to fit it.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Clears `area` and draws the popup frame; returns the inner area.
pub(crate) fn frame_popup(frame: &mut Frame, area: Rect, theme: &Theme, title: &str) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(format!(" {title} "))
        .style(theme.style(Role::Popup))
        .border_style(theme.style(Role::BorderFocused))
        .title_style(theme.style(Role::Title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centered_fits_inside_any_area() {
        let area = Rect::new(2, 3, 10, 4);
        let r = centered(area, 40, 20);
        assert_eq!(r, area);
        let r = centered(Rect::new(0, 0, 80, 24), 20, 4);
        assert_eq!(r, Rect::new(30, 10, 20, 4));
        assert_eq!(centered(Rect::new(5, 5, 0, 0), 3, 3), Rect::new(5, 5, 0, 0));
    }
}
