//! A stand-in UI until the real App is joined in: the open queue, `q` to quit.
//! Swap [`factory`] for the App's factory in `cli/serve.rs`.

use super::ui::{SessionUi, UiContext, UiFactory};
use crate::desk::{Change, Desk, QueueQuery};
use crate::tui::event::{Event, KeyCode, KeyEvent};
use crate::tui::theme::{Role, Theme};
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::{Block, List, Paragraph};
use ratatui::Frame;
use std::sync::Arc;

pub fn factory() -> UiFactory {
    Arc::new(|ctx| Box::new(Placeholder::new(ctx)))
}

struct Placeholder {
    desk: Arc<Desk>,
    agent: String,
    theme: Theme,
    /// "#12  Subject", cleaned for the terminal.
    rows: Vec<String>,
    quit: bool,
}

impl Placeholder {
    fn new(ctx: UiContext) -> Placeholder {
        let theme = Theme::default_dark();
        let mut ui = Placeholder {
            desk: ctx.desk,
            agent: ctx.agent.name,
            theme: if ctx.no_color {
                theme.without_colours()
            } else {
                theme
            },
            rows: Vec::new(),
            quit: false,
        };
        ui.reload();
        ui
    }
}

impl SessionUi for Placeholder {
    fn handle(&mut self, event: Event) {
        if let Event::Key(key) = event {
            if key == KeyEvent::plain(KeyCode::Char('q')) || key == KeyEvent::ctrl('c') {
                self.quit = true;
            }
        }
    }

    fn on_change(&mut self, change: Change) {
        if matches!(change, Change::Ticket(_)) {
            self.reload();
        }
    }

    fn tick(&mut self) {}

    fn draw(&mut self, frame: &mut Frame) {
        let [main, hint] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(frame.area());
        let block = Block::bordered()
            .title(format!(" sealdesk · {} · queue ", self.agent))
            .title_style(self.theme.style(Role::Title))
            .border_style(self.theme.style(Role::Border))
            .style(self.theme.style(Role::Base));
        if self.rows.is_empty() {
            frame.render_widget(Paragraph::new("The queue is empty.").block(block), main);
        } else {
            frame.render_widget(List::new(self.rows.clone()).block(block), main);
        }
        frame.render_widget(
            Paragraph::new(" q quit").style(self.theme.style(Role::StatusBar)),
            hint,
        );
    }

    fn should_quit(&self) -> bool {
        self.quit
    }

    fn reload(&mut self) {
        self.rows = match self.desk.queue(&QueueQuery::default()) {
            Ok(rows) => rows
                .iter()
                .map(|r| {
                    format!(
                        "{:>6}  {}",
                        r.ticket.number.to_string(),
                        crate::sanitize::line(&r.ticket.subject)
                    )
                })
                .collect(),
            Err(e) => vec![format!(
                "cannot read the queue: {}",
                crate::sanitize::line(&e.to_string())
            )],
        };
    }
}
