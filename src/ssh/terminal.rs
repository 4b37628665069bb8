//! A ratatui terminal that renders into a byte buffer instead of a local tty.
//!
//! The agent's terminal is at the far end of an SSH channel, so its size comes from the
//! pty request and window-change messages, never from querying a tty, and every frame's
//! escape sequences are collected here for the session to send as one piece.

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect, Size};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};
use std::io;

/// Largest window we draw for. A client may claim any size; ratatui keeps two buffers
/// of width × height cells, so an absurd claim must not become an absurd allocation.
pub(super) const MAX_COLS: u16 = 500;
pub(super) const MAX_ROWS: u16 = 200;

/// Used when a client asks for a pty of size 0 (some do, then send window-change).
const FALLBACK_SIZE: (u16, u16) = (80, 24);

/// Alternate screen, cleared and homed; cursor hidden; bracketed paste on (the input
/// parser turns pastes into one event, and they cannot then be mistaken for keys).
const ENTER: &[u8] = b"\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l\x1b[?2004h";
/// Undo everything ENTER and the frames did: attributes, paste mode, cursor, screen.
pub(super) const LEAVE: &[u8] = b"\x1b[0m\x1b[?2004l\x1b[?25h\x1b[?1049l";

/// The terminal of one SSH session. Drawing appends escape sequences to an internal
/// buffer; [`take_output`](Self::take_output) hands them over.
pub(super) struct SshTerminal {
    terminal: Terminal<BufferBackend>,
}

impl SshTerminal {
    /// A terminal of `cols` × `rows` that starts by entering the alternate screen.
    pub(super) fn new(cols: u32, rows: u32) -> SshTerminal {
        let area = area_for(cols, rows);
        let mut backend = BufferBackend::new(area.as_size());
        backend.out.extend_from_slice(ENTER);
        let terminal = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )
        .expect("a buffer backend cannot fail");
        SshTerminal { terminal }
    }

    pub(super) fn size(&self) -> (u16, u16) {
        let size = self.terminal.backend().size;
        (size.width, size.height)
    }

    /// Adopts a new window size; the next draw repaints the whole screen.
    /// Returns the size actually used (clamped).
    pub(super) fn resize(&mut self, cols: u32, rows: u32) -> (u16, u16) {
        let area = area_for(cols, rows);
        self.terminal.backend_mut().size = area.as_size();
        // Clears the screen and forgets the previous frame, so nothing stale survives
        // the terminal's own reflow.
        self.terminal
            .resize(area)
            .expect("a buffer backend cannot fail");
        (area.width, area.height)
    }

    /// Renders one whole frame; its bytes wait in the buffer.
    ///
    /// ratatui keeps two buffers of cells: the frame last drawn, which the next frame is
    /// compared with, and the one drawn into. Only the first is needed between frames, so
    /// the second is made for each frame and let go after it: an idle session holds one
    /// buffer, not two (about 190 KB less at 120×40; `j` → frame measured no slower:
    /// BENCHMARKS.md, Part 10, fourth pass).
    pub(super) fn draw(&mut self, render: impl FnOnce(&mut Frame)) {
        let area = Rect::from((Position::ORIGIN, self.terminal.backend().size));
        *self.terminal.current_buffer_mut() = Buffer::empty(area);
        self.terminal
            .draw(render)
            .expect("a buffer backend cannot fail");
        *self.terminal.current_buffer_mut() = Buffer::default();
    }

    /// The bytes produced since the last call.
    pub(super) fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.terminal.backend_mut().out)
    }

    /// Ends the session's use of the screen: pending output, then the sequences that
    /// give the agent's terminal back as it was (their shell reappears).
    pub(super) fn leave(mut self) -> Vec<u8> {
        let mut out = self.take_output();
        out.extend_from_slice(LEAVE);
        out
    }
}

fn area_for(cols: u32, rows: u32) -> Rect {
    let (cols, rows) = if cols == 0 || rows == 0 {
        FALLBACK_SIZE
    } else {
        (
            cols.min(u32::from(MAX_COLS)) as u16,
            rows.min(u32::from(MAX_ROWS)) as u16,
        )
    };
    Rect::new(0, 0, cols, rows)
}

/// A ratatui backend that knows its size from SSH and writes into a `Vec`. Escape
/// sequences are produced by ratatui's crossterm backend, borrowed for each call over
/// the buffer, so colour and attribute encoding stays ratatui's.
struct BufferBackend {
    out: Vec<u8>,
    size: Size,
    cursor: Position,
}

impl BufferBackend {
    fn new(size: Size) -> BufferBackend {
        BufferBackend {
            out: Vec::with_capacity(16 * 1024),
            size,
            cursor: Position::ORIGIN,
        }
    }

    fn ansi(&mut self) -> CrosstermBackend<&mut Vec<u8>> {
        CrosstermBackend::new(&mut self.out)
    }
}

impl Backend for BufferBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        self.ansi().draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.ansi().hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.ansi().show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let position = position.into();
        self.cursor = position;
        self.ansi().set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.ansi().clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.ansi().clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::Paragraph;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn first_output_enters_alt_screen_then_draws() {
        let mut t = SshTerminal::new(20, 3);
        t.draw(|f| f.render_widget(Paragraph::new("hello"), f.area()));
        let out = text(&t.take_output());
        assert!(out.starts_with("\x1b[?1049h"), "{out:?}");
        assert!(out.contains("hello"));
        assert!(out.contains("\x1b[?25l"), "cursor hidden");
        // Nothing changed, so the next frame repaints nothing.
        t.draw(|f| f.render_widget(Paragraph::new("hello"), f.area()));
        assert!(!text(&t.take_output()).contains("hello"));
        // A change is drawn alone: the frame before it was kept to compare with.
        t.draw(|f| f.render_widget(Paragraph::new("hellO"), f.area()));
        let out = text(&t.take_output());
        assert!(out.contains('O') && !out.contains("hell"), "{out:?}");
        // Between frames only that frame's cells are held.
        assert_eq!(t.terminal.current_buffer_mut().area, Rect::ZERO);
    }

    #[test]
    fn resize_repaints_everything() {
        let mut t = SshTerminal::new(20, 3);
        t.draw(|f| f.render_widget(Paragraph::new("hello"), f.area()));
        t.take_output();
        assert_eq!(t.resize(30, 5), (30, 5));
        t.draw(|f| {
            assert_eq!(f.area(), Rect::new(0, 0, 30, 5));
            f.render_widget(Paragraph::new("hello"), f.area())
        });
        let out = text(&t.take_output());
        assert!(out.contains("\x1b[J") || out.contains("\x1b[2J"), "{out:?}");
        assert!(out.contains("hello"));
    }

    #[test]
    fn sizes_are_clamped() {
        let mut t = SshTerminal::new(0, 0);
        assert_eq!(t.size(), FALLBACK_SIZE);
        assert_eq!(t.resize(100_000, 100_000), (MAX_COLS, MAX_ROWS));
        assert_eq!(t.resize(1, 1), (1, 1));
    }

    #[test]
    fn leave_restores_the_terminal() {
        let mut t = SshTerminal::new(10, 2);
        t.draw(|f| f.render_widget(Paragraph::new("x"), f.area()));
        let out = text(&t.leave());
        assert!(out.contains('x'), "pending output comes first");
        assert!(out.ends_with("\x1b[?25h\x1b[?1049l"), "{out:?}");
    }
}
