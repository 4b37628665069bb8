//! What the agent is told about (global key `O`, Part 10): each topic on or off, and
//! where their notification mail goes.

use super::{Ctx, Look};
use crate::action::Action;
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, key, lookup, Binding, HelpSection};
use crate::theme::Role;
use crate::widgets::list::{self, ScrollList, Words};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Wrap};
use ratatui::Frame;
use sealdesk_api::{DeskError, NotifySettings};
use sealdesk_model::{sanitize, NotifyTopic};

#[derive(Clone, Copy)]
enum SettingsKey {
    Toggle,
    Back,
}

const MOVES: Words = Words {
    down: "next topic",
    up: "previous topic",
    top: "first topic",
    bottom: "last topic",
};

const KEYS: &[Binding<SettingsKey>] = &[
    bind(
        &[ch(' '), key(KeyCode::Enter)],
        SettingsKey::Toggle,
        "turn the topic on or off",
        Some("on/off"),
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        SettingsKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    vec![list::help_section("Notification settings", &MOVES, KEYS)]
}

pub(super) fn hints() -> Vec<(String, &'static str)> {
    keymap::hints(KEYS)
}

pub(crate) struct NotifySettingsScreen {
    settings: NotifySettings,
    list: ScrollList,
}

impl NotifySettingsScreen {
    pub(crate) fn open(ctx: &Ctx) -> Result<NotifySettingsScreen, DeskError> {
        let me = &ctx.session.agent.name;
        Ok(NotifySettingsScreen {
            settings: ctx.desk.notify_settings(&ctx.session.actor, me)?,
            list: ScrollList::default(),
        })
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        let topics = NotifyTopic::ALL;
        if self.list.handle_key(pressed, topics.len()).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            SettingsKey::Toggle => {
                let topic = *topics.get(self.list.selected())?;
                let on = !self.settings.prefs.wants(topic);
                let spec = format!("{}{}", if on { '+' } else { '-' }, topic.as_str());
                let me = ctx.session.agent.name.clone();
                match ctx.desk.set_notify_prefs(&ctx.session.actor, &me, &spec) {
                    Ok(prefs) => {
                        self.settings.prefs = prefs;
                        let state = if on { "on" } else { "off" };
                        Some(Action::Info(format!("{}: {state}", topic.label())))
                    }
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            SettingsKey::Back => Some(Action::Back),
        }
    }

    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let me = &ctx.session.agent.name;
        match ctx.desk.notify_settings(&ctx.session.actor, me) {
            Ok(s) => self.settings = s,
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        None
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let block = Block::bordered()
            .title(" Notification settings ")
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [mail_area, list_area] =
            Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(inner);
        let mail = match &self.settings.email {
            Some(e) => format!(
                "Mail goes to {} (at most one a minute). An admin changes it with `sealdesk agent set NAME --email ADDR`.",
                sanitize::line(e)
            ),
            None => "No mail address: you see notifications here only (N). An admin sets one with `sealdesk agent set NAME --email ADDR`.".into(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(mail, theme.style(Role::Muted))).wrap(Wrap { trim: true }),
            mail_area,
        );
        let topics = NotifyTopic::ALL;
        let window = self
            .list
            .keep_in_view((list_area.height as usize).saturating_sub(1), topics.len());
        let rows = topics[window].iter().map(|t| {
            let on = self.settings.prefs.wants(*t);
            Row::new([
                Cell::from(if on { "[x]" } else { "[ ]" }),
                Cell::from(t.as_str()),
                Cell::from(t.label()),
            ])
        });
        let widths = [
            Constraint::Length(3),
            Constraint::Length(10),
            Constraint::Fill(1),
        ];
        let header = Row::new(["on", "topic", "tell me when"]);
        self.list
            .render_table(frame, list_area, theme, header, rows, widths);
    }
}
