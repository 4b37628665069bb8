//! What the TUI tests share: a real desk on disk, our key events in, ratatui's TestBackend out.
#![allow(dead_code, unused_imports, unreachable_pub)] // each test file uses a part

pub use ratatui::backend::TestBackend;
pub use ratatui::buffer::Buffer;
pub use ratatui::Terminal;
pub use sealdesk_desk::config::Config;
pub use sealdesk_desk::{Actor, Change, Desk, NewTicket, QueueRow, ThreadEntry};
pub use sealdesk_model::sanitize::is_bidi_control;
pub use sealdesk_model::{
    AgentRole, Attachment, AttachmentId, Author, CustomerId, Message, MessageKind, Priority,
    Status, Ticket, TicketNo, Timestamp,
};
pub use sealdesk_store::Paths;
pub use sealdesk_tui::event::{Event, KeyCode, KeyEvent, Modifiers};
pub use sealdesk_tui::theme::{Role, Theme};
pub use sealdesk_tui::{App, SessionInfo};
pub use ssh_key::{private::Ed25519Keypair, PrivateKey};
pub use std::path::PathBuf;
pub use std::sync::Arc;
pub use tokio::sync::broadcast;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub desk: Arc<Desk>,
}

/// A desk on disk with two agents: alice (agent) and bob (admin).
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        data: dir.path().join("data"),
        keys: dir.path().join("keys"),
    };
    let desk = Desk::new(sealdesk_desk::testing::new_store(&paths), Config::default());
    for (seed, name, role) in [(1, "alice", AgentRole::Agent), (2, "bob", AgentRole::Admin)] {
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]));
        let line = key.public_key().to_openssh().unwrap();
        desk.add_agent(&Actor::local_admin(), name, role, &[line])
            .unwrap();
    }
    Fixture {
        dir,
        desk: Arc::new(desk),
    }
}

impl Fixture {
    pub fn ticket(&self, from: &str, name: &str, subject: &str, body: &str) -> TicketNo {
        let new = NewTicket {
            from,
            name,
            subject,
            body,
            message_id: None,
        };
        let (ticket, _) = self.desk.create_ticket(&actor("mail"), new).unwrap();
        ticket.number
    }

    pub fn session(&self, name: &str, id: u64) -> SessionInfo {
        SessionInfo {
            id,
            agent: self.desk.store().agent_by_name(name).unwrap().unwrap(),
            actor: actor(name),
            sftp: None,
        }
    }

    pub fn app(&self, name: &str, id: u64) -> App {
        self.app_with_themes(name, id, self.dir.path().join("no-themes"))
    }

    pub fn app_with_themes(&self, name: &str, id: u64, themes: PathBuf) -> App {
        let session = self.session(name, id);
        App::new(self.desk.clone(), session, Theme::default(), themes, false)
    }

    pub fn status(&self, n: TicketNo) -> Status {
        self.desk.queue_row(n).unwrap().unwrap().ticket.status
    }

    pub fn thread(&self, n: TicketNo) -> Vec<Message> {
        let (_, thread) = self.desk.ticket_thread(&actor("test"), n).unwrap();
        thread
            .into_iter()
            .filter_map(|e| match e {
                ThreadEntry::Message(m) => Some(m.message),
                ThreadEntry::Erased => None,
            })
            .collect()
    }
}

pub fn actor(name: &str) -> Actor {
    Actor::agent(name, None, "test")
}

pub fn press(app: &mut App, key: KeyEvent) {
    app.handle(Event::Key(key));
}

pub fn code(app: &mut App, code: KeyCode) {
    press(app, KeyEvent::plain(code));
}

/// Types each character as a plain key press.
pub fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        code(app, KeyCode::Char(c));
    }
}

pub fn render(app: &mut App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| app.draw(frame)).unwrap();
    terminal.backend().buffer().clone()
}

/// The buffer as text, one cell one character, rows separated by newlines.
pub fn text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push(buffer[(x, y)].symbol().chars().next().unwrap_or(' '));
        }
        out.push('\n');
    }
    out
}

pub fn screen(app: &mut App) -> String {
    text(&render(app, 80, 24))
}

/// Column and row where `needle` starts on screen.
pub fn locate(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let needle: Vec<char> = needle.chars().collect();
    text(buffer).lines().enumerate().find_map(|(y, row)| {
        let row: Vec<char> = row.chars().collect();
        let x = row
            .windows(needle.len())
            .position(|w| w == needle.as_slice())?;
        Some((x as u16, y as u16))
    })
}

/// Every page of the open `?` help at `width`×`height`: the help scrolls (j) when a
/// screen has more keys than fit, so the pages are read down to the last one.
pub fn help_pages(app: &mut App, width: u16, height: u16) -> String {
    let mut pages = text(&render(app, width, height));
    for _ in 0..60 {
        keys(app, "j");
        pages.push_str(&text(&render(app, width, height)));
    }
    pages
}

/// The row of the buffer that contains `needle`.
pub fn row_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row contains {needle:?}:\n{screen}"))
}

/// Feeds every change the desk announced to `app`, as the SSH loop will.
pub fn deliver(changes: &mut broadcast::Receiver<Change>, app: &mut App) {
    while let Ok(change) = changes.try_recv() {
        app.on_change(change);
    }
}
