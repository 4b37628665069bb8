//! One ticket: its header, the whole thread, and what an agent does to it (reply, note,
//! assign, status, priority, tags, merge), plus the customer's consent (`C`) and "this
//! mail is a privacy request" (`P`).
//!
//! Replies and notes are written in an editor pane below the thread (beside it on a wide
//! terminal), so the thread stays readable while writing. What is written is the
//! agent's draft, kept by the desk: saved a moment after typing stops, at once on Esc
//! and when the session ends, and brought back by `r` / `n`. A reply sent waits
//! `mail.send_delay` in the outbox, in which `u` takes it back into the draft.
//!
//! Inbound mail, replies and internal notes must never be mistaken for each other, so
//! each entry has a role-coloured header line and gutter *and* a word saying what it is
//! ("inbound", "reply", "note"), which survives a monochrome terminal.

pub(crate) mod links;
mod writing;

use super::{Ctx, Look};
use crate::action::{Action, Choice};
use crate::display::{delivery, human_size, minute, priority_role, status_role, when, wrap};
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{bind, ch, key, lookup, Binding, HelpSection};
use crate::popups::{Confirm, Editor, Picker, Popup, Prompt};
use crate::privacy;
use crate::theme::{Role, Theme};
use crate::widgets::list::{self, ScrollView, Words};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use sealdesk_api::{ticket_files, Activity, Change, DeskError, ThreadEntry, Viewer};
use sealdesk_model::sanitize;
use sealdesk_model::{Attachment, AttachmentId, Message};
use sealdesk_model::{MessageKind, Status, Ticket, TicketNo, Timestamp};
use std::collections::HashMap;

/// From this width the editor sits beside the thread rather than below it.
const SIDE_BY_SIDE: u16 = 140;

#[derive(Clone, Copy)]
enum TicketKey {
    Reply,
    Note,
    Take,
    Assign,
    Status,
    Priority,
    Tags,
    Merge,
    Customer,
    Consent,
    PrivacyRequest,
    Macro,
    Unsend,
    Split,
    Link,
    Snooze,
    Due,
    Back,
}

const MOVES: Words = Words {
    down: "scroll down",
    up: "scroll up",
    top: "first message",
    bottom: "latest message",
};

const KEYS: &[Binding<TicketKey>] = &[
    bind(
        &[ch('r')],
        TicketKey::Reply,
        "reply to the customer",
        Some("reply"),
    ),
    bind(
        &[ch('n')],
        TicketKey::Note,
        "add an internal note",
        Some("note"),
    ),
    bind(&[ch('a')], TicketKey::Take, "assign to me", None),
    bind(
        &[ch('A')],
        TicketKey::Assign,
        "assign to an agent, or unassign",
        None,
    ),
    bind(
        &[ch('S')],
        TicketKey::Status,
        "set the status",
        Some("status"),
    ),
    bind(&[ch('p')], TicketKey::Priority, "set the priority", None),
    bind(&[ch('t')], TicketKey::Tags, "edit tags", None),
    bind(
        &[ch('z')],
        TicketKey::Snooze,
        "snooze until a time: it wakes by itself",
        None,
    ),
    bind(&[ch('D')], TicketKey::Due, "set the due time by hand", None),
    bind(
        &[ch('m')],
        TicketKey::Merge,
        "merge into another ticket",
        None,
    ),
    bind(&[ch('c')], TicketKey::Customer, "open the customer", None),
    bind(
        &[ch('C')],
        TicketKey::Consent,
        "the customer's consent: per purpose, since when",
        None,
    ),
    bind(
        &[ch('P')],
        TicketKey::PrivacyRequest,
        "this mail is a privacy request: open one, pick its kind",
        None,
    ),
    bind(
        &[ch('M')],
        TicketKey::Macro,
        "apply a macro: a saved reply plus workflow changes",
        None,
    ),
    bind(
        &[ch('u')],
        TicketKey::Unsend,
        "undo send: the reply still waiting becomes the draft",
        None,
    ),
    bind(
        &[ch('X')],
        TicketKey::Split,
        "split a message off into a new ticket",
        None,
    ),
    bind(
        &[ch('K')],
        TicketKey::Link,
        "link to another ticket (related, duplicate), or unlink",
        None,
    ),
    bind(
        &[key(KeyCode::Esc), ch('q')],
        TicketKey::Back,
        "back",
        Some("back"),
    ),
];

pub(super) fn help() -> Vec<HelpSection> {
    let mut sections = vec![list::help_section("Ticket", &MOVES, KEYS)];
    sections.extend(Editor::help());
    sections
}

pub(crate) struct TicketScreen {
    ticket: Ticket,
    thread: Vec<ThreadEntry>,
    customer_label: String,
    /// Restriction and withdrawn or refused consents of the customer, in words.
    privacy_marks: Vec<String>,
    /// The reply or note being written, if the editor is open (boxed: it is large next
    /// to the rest of the screen).
    editor: Option<Box<Editor>>,
    /// This agent's replies still waiting out `mail.send_delay`: (seq, when it goes).
    undoable: Vec<(u32, Timestamp)>,
    /// While the editor is closed: this agent's draft here, in words ("draft reply,
    /// 2 files"), for the thread's title.
    draft_summary: Option<String>,
    /// Other sessions on this ticket.
    viewers: Vec<Viewer>,
    /// The participants a reply is Cc'd to by default (the header's "Cc:" line).
    cc: Vec<String>,
    /// The thread lines in view; it follows the end, so new messages show up.
    scroll: ScrollView,
    /// The thread's bodies wrapped for the last width drawn; dropped when the thread is
    /// re-read.
    wrapped: Option<WrappedThread>,
    /// `sftp -P PORT NAME@HOST:`, printed before each file's path in the tree.
    sftp: Option<String>,
    /// The files on this agent's draft reply (uploaded to `outgoing/` or attached).
    draft_files: Vec<Attachment>,
    /// Search words (lower-cased) the next frame scrolls to: the first message holding
    /// one of them starts the view (opened from a search).
    find: Option<Vec<String>>,
}

/// Message bodies and attachment lines wrapped to a width: the costly part of drawing a
/// thread (a message may be a megabyte), so done once per thread and width, not on every
/// key and frame; a frame then builds only the lines in view.
struct WrappedThread {
    width: usize,
    /// Per thread entry, its body lines; `true` marks an attachment line.
    bodies: Vec<Vec<(String, bool)>>,
}

impl WrappedThread {
    /// `sftp` is the command's start (`sftp -P PORT NAME@HOST:`) for the line under
    /// each file that fetches it.
    fn new(thread: &[ThreadEntry], width: usize, sftp: Option<&str>) -> WrappedThread {
        let body_width = width.saturating_sub(2);
        let messages: Vec<&Message> = thread
            .iter()
            .filter_map(|e| match e {
                ThreadEntry::Message(m) => Some(&m.message),
                ThreadEntry::Erased => None,
            })
            .collect();
        let paths: HashMap<AttachmentId, String> = ticket_files(messages.iter().copied())
            .into_iter()
            .filter_map(|f| {
                let number = messages.iter().find(|m| m.seq == f.seq)?.ticket.0;
                let path = format!("/tickets/{number}/attachments/{}", f.name);
                Some((f.attachment.id, path))
            })
            .collect();
        let bodies = thread
            .iter()
            .map(|entry| {
                let ThreadEntry::Message(message) = entry else {
                    return Vec::new();
                };
                let mut lines = Vec::new();
                for text_line in sanitize::multiline(&message.text).lines() {
                    lines.extend(wrap(text_line, body_width).into_iter().map(|l| (l, false)));
                }
                for file in &message.attachments {
                    let text = format!(
                        "attachment: {} ({}, {})",
                        sanitize::line(&file.name),
                        sanitize::line(&file.content_type),
                        human_size(file.size)
                    );
                    lines.extend(wrap(&text, body_width).into_iter().map(|l| (l, true)));
                    if let Some(path) = paths.get(&file.id) {
                        let fetch = format!("  {}{path}", sftp.unwrap_or(""));
                        lines.extend(wrap(&fetch, body_width).into_iter().map(|l| (l, true)));
                    }
                }
                lines
            })
            .collect();
        WrappedThread { width, bodies }
    }

    /// Screen lines of entry `i`: a blank line before all but the first, its head, its body.
    fn lines_of(&self, i: usize) -> usize {
        usize::from(i > 0) + 1 + self.bodies[i].len()
    }

    fn total(&self) -> usize {
        (0..self.bodies.len())
            .map(|i| self.lines_of(i))
            .sum::<usize>()
            .max(1)
    }
}

/// The agent has the thread on screen: what is there is read (the queue's unread
/// marker goes). Failing to record it only leaves the marker, so it is not an error
/// worth interrupting the agent for.
fn mark_seen(ctx: &Ctx, number: TicketNo) {
    let _ = ctx.desk.mark_seen(&ctx.session.actor, number);
}

impl TicketScreen {
    /// Loads the ticket (an audited view).
    pub(crate) fn open(ctx: &Ctx, number: TicketNo) -> Result<TicketScreen, DeskError> {
        let (ticket, thread) = ctx.desk.ticket_thread(&ctx.session.actor, number)?;
        mark_seen(ctx, number);
        let mut screen = TicketScreen {
            ticket,
            thread,
            customer_label: String::new(),
            privacy_marks: Vec::new(),
            editor: None,
            undoable: Vec::new(),
            draft_summary: None,
            viewers: ctx.desk.viewers(number, ctx.session.id),
            cc: Vec::new(),
            scroll: ScrollView::default(),
            wrapped: None,
            sftp: ctx.session.sftp.clone(),
            draft_files: Vec::new(),
            find: None,
        };
        screen.customer_label = screen.load_customer_label(ctx);
        screen.cc = screen.load_cc(ctx);
        screen.undoable = ctx
            .desk
            .undoable_replies(&ctx.session.actor, number)
            .unwrap_or_default();
        screen.reload_draft_files(ctx);
        screen.privacy_marks = ctx
            .desk
            .privacy_marks(&screen.ticket.customer)
            .unwrap_or_default();
        Ok(screen)
    }

    pub(crate) fn number(&self) -> TicketNo {
        self.ticket.number
    }

    fn load_customer_label(&self, ctx: &Ctx) -> String {
        match ctx.desk.queue_row(self.ticket.number) {
            Ok(Some(row)) => row.customer_label.to_string(),
            _ => String::new(),
        }
    }

    fn load_cc(&self, ctx: &Ctx) -> Vec<String> {
        ctx.desk
            .reply_parties(&ctx.session.actor, self.ticket.number)
            .map(|p| p.cc)
            .unwrap_or_default()
    }

    /// Re-reads the ticket; true if anything shown changed.
    fn reload(&mut self, ctx: &Ctx) -> Result<bool, DeskError> {
        let (ticket, thread) = ctx
            .desk
            .ticket_thread(&ctx.session.actor, self.ticket.number)?;
        mark_seen(ctx, self.ticket.number);
        let changed = ticket != self.ticket || thread.len() != self.thread.len();
        self.ticket = ticket;
        self.thread = thread;
        self.wrapped = None;
        self.customer_label = self.load_customer_label(ctx);
        self.cc = self.load_cc(ctx);
        self.undoable = ctx
            .desk
            .undoable_replies(&ctx.session.actor, self.ticket.number)
            .unwrap_or_default();
        self.reload_draft_files(ctx);
        self.privacy_marks = ctx
            .desk
            .privacy_marks(&self.ticket.customer)
            .unwrap_or_default();
        Ok(changed)
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        let n = self.ticket.number;
        if let Some(editor) = &mut self.editor {
            let event = editor.handle(pressed);
            return self.editor_event(ctx, event);
        }
        if self.scroll.handle_key(pressed).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            TicketKey::Reply => self.open_editor(ctx, MessageKind::Outbound),
            TicketKey::Note => self.open_editor(ctx, MessageKind::Note),
            TicketKey::Unsend => self.unsend(ctx),
            TicketKey::Take => {
                let me = ctx.session.agent.name.as_str();
                let result = ctx.desk.assign(&ctx.session.actor, n, Some(me));
                self.after(ctx, result, format!("{n} is assigned to you"))
            }
            TicketKey::Assign => self.agent_picker(ctx),
            TicketKey::Status => {
                let items = Status::ALL
                    .iter()
                    .map(|&s| (s.to_string(), Action::Choice(Choice::Status(s))))
                    .collect();
                let current = Status::ALL.iter().position(|&s| s == self.ticket.status);
                let picker = Picker::new(format!("Status of {n}"), items, current.unwrap_or(0));
                Some(Action::popup(Popup::Picker(picker)))
            }
            TicketKey::Priority => {
                let all = sealdesk_model::Priority::ALL;
                let items = all
                    .iter()
                    .map(|&p| (p.to_string(), Action::Choice(Choice::Priority(p))))
                    .collect();
                let current = all.iter().position(|&p| p == self.ticket.priority);
                let picker = Picker::new(format!("Priority of {n}"), items, current.unwrap_or(0));
                Some(Action::popup(Popup::Picker(picker)))
            }
            TicketKey::Tags => {
                let prompt = Prompt::new(
                    format!("Tags of {n} (comma-separated)"),
                    &self.ticket.tags.join(", "),
                    |text| Action::Choice(Choice::Tags(text)),
                );
                Some(Action::popup(Popup::Prompt(prompt)))
            }
            TicketKey::Merge => {
                let prompt = Prompt::new(format!("Merge {n} into ticket number"), "", |text| {
                    Action::Choice(Choice::MergeTarget(text))
                });
                Some(Action::popup(Popup::Prompt(prompt)))
            }
            TicketKey::Customer => Some(Action::OpenCustomer(self.ticket.customer)),
            TicketKey::Consent => Some(Action::OpenConsent(self.ticket.customer)),
            TicketKey::PrivacyRequest => Some(privacy::kind_picker(format!(
                "{n} is a privacy request of kind"
            ))),
            TicketKey::Macro => Some(Action::PickMacro(vec![n])),
            TicketKey::Split => Some(self.split_picker()),
            TicketKey::Link => Some(self.link_menu()),
            TicketKey::Snooze => Some(crate::sla::snooze_prompt(&self.ticket)),
            TicketKey::Due => Some(crate::sla::due_prompt(&self.ticket)),
            TicketKey::Back => Some(Action::Back),
        }
    }

    fn agent_picker(&self, ctx: &Ctx) -> Option<Action> {
        let agents = match ctx.desk.agents() {
            Ok(agents) => agents,
            Err(e) => return Some(Action::Error(e.to_string())),
        };
        let mut items = vec![("unassign".to_string(), Action::Choice(Choice::Assign(None)))];
        let mut selected = 0;
        for agent in agents {
            if self.ticket.assignee.as_deref() == Some(agent.name.as_str()) {
                selected = items.len();
            }
            let label = if agent.name == ctx.session.agent.name {
                format!("{} (me)", agent.name)
            } else {
                agent.name.clone()
            };
            items.push((label, Action::Choice(Choice::Assign(Some(agent.name)))));
        }
        let title = format!("Assign {}", self.ticket.number);
        Some(Action::popup(Popup::Picker(Picker::new(
            title, items, selected,
        ))))
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        let (desk, actor, n) = (ctx.desk, &ctx.session.actor, self.ticket.number);
        match choice {
            Choice::Status(s) => {
                self.after(ctx, desk.set_status(actor, n, s), format!("{n} is now {s}"))
            }
            Choice::Priority(p) => self.after(
                ctx,
                desk.set_priority(actor, n, p),
                format!("{n} has priority {p}"),
            ),
            Choice::Assign(agent) => {
                let done = match &agent {
                    Some(name) => format!("{n} is assigned to {name}"),
                    None => format!("{n} is unassigned"),
                };
                self.after(ctx, desk.assign(actor, n, agent.as_deref()), done)
            }
            Choice::Tags(text) => {
                let tags: Vec<String> = text.split(',').map(|t| t.trim().to_string()).collect();
                self.after(
                    ctx,
                    desk.set_tags(actor, n, &tags),
                    format!("tags of {n} saved"),
                )
            }
            Choice::MergeTarget(text) => Some(self.confirm_merge(ctx, &text)),
            Choice::Snooze(_) | Choice::Due(_) => {
                let result = crate::sla::apply(ctx, n, &choice)?;
                match result {
                    Ok(done) => self.after(ctx, Ok(()), done),
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            Choice::Merge(into) => self.after(
                ctx,
                desk.merge(actor, n, into),
                format!("{n} merged into {into}"),
            ),
            Choice::Links(step) => self.link_step(ctx, step),
            Choice::ReplyOverride(reason) => self.send(ctx, Some(&reason)),
            Choice::InsertTemplate { name, text } => self.insert_template(ctx, &name, &text),
            Choice::Detach(name) => {
                let result = desk.detach_from_draft(actor, n, &name);
                self.reload_draft_files(ctx);
                match result {
                    Ok(()) => Some(Action::Info(format!(
                        "{} taken off the draft",
                        sanitize::line(&name)
                    ))),
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            Choice::NewRequest(kind) => {
                // The desk needs the customer record; reading it is an audited view.
                Some(match desk.customer_view(actor, self.ticket.customer) {
                    Ok((customer, _)) => privacy::open_request(ctx, &customer, kind, Some(n)),
                    Err(e) => Action::Error(e.to_string()),
                })
            }
            _ => None,
        }
    }

    fn confirm_merge(&self, ctx: &Ctx, text: &str) -> Action {
        let n = self.ticket.number;
        let into: TicketNo = match text.parse() {
            Ok(into) => into,
            Err(problem) => return Action::Error(problem.to_string()),
        };
        if into == n {
            return Action::Error(format!("{n} cannot be merged into itself: pick another"));
        }
        match ctx.desk.queue_row(into) {
            Ok(Some(row)) => Action::popup(Popup::Confirm(Confirm::new(
                format!(
                    "Merge {n} into {into} \"{}\"? The thread of {n} moves there and {n} is closed.",
                    sanitize::line(row.ticket.subject.as_str())
                ),
                Action::Choice(Choice::Merge(into)),
            ))),
            Ok(None) => Action::Error(format!("there is no ticket {into}: check the number")),
            Err(e) => Action::Error(e.to_string()),
        }
    }

    /// After an operation: reload and say it worked, or say why not.
    fn after<T>(
        &mut self,
        ctx: &Ctx,
        result: Result<T, DeskError>,
        done: String,
    ) -> Option<Action> {
        if let Err(e) = result {
            return Some(Action::Error(e.to_string()));
        }
        match self.reload(ctx) {
            Ok(_) => Some(Action::Info(done)),
            Err(e) => Some(Action::Error(e.to_string())),
        }
    }

    /// Re-reads everything, after changes may have been missed.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        self.viewers = ctx.desk.viewers(self.ticket.number, ctx.session.id);
        self.update_warning(ctx);
        let problem = self.reload(ctx).err();
        problem.map(|e| Action::Error(e.to_string()))
    }

    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Ticket(n) if *n == self.ticket.number => {
                let reloaded = self.reload(ctx);
                self.update_warning(ctx);
                match reloaded {
                    Ok(true) => Some(Action::Info(format!("{n} was updated"))),
                    Ok(false) => None,
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            Change::Presence(n) if *n == self.ticket.number => {
                self.viewers = ctx.desk.viewers(*n, ctx.session.id);
                self.update_warning(ctx);
                None
            }
            _ => None,
        }
    }

    /// The header and thread, with the editor below them (beside them from
    /// [`SIDE_BY_SIDE`] columns) while it is open.
    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let (ticket_area, editor_area) = match &self.editor {
            None => (area, None),
            Some(_) if area.width >= SIDE_BY_SIDE => {
                let [left, right] =
                    Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)])
                        .areas(area);
                (left, Some(right))
            }
            Some(editor) => {
                // The thread keeps at least a few lines; the editor takes about half.
                let below_header = area.height.saturating_sub(5);
                let wanted = (below_header / 2).max(editor.min_height());
                let height = wanted
                    .min(below_header.saturating_sub(4))
                    .max(below_header.min(5));
                let [top, bottom] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(height)]).areas(area);
                (top, Some(bottom))
            }
        };
        self.draw_ticket(frame, ticket_area, look);
        if let (Some(editor), Some(editor_area)) = (&mut self.editor, editor_area) {
            editor.draw(frame, editor_area, look.theme);
        }
    }

    fn draw_ticket(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let header_lines = self.header_lines(theme);
        let [header_area, thread_area] = Layout::vertical([
            Constraint::Length(2 + header_lines.len() as u16),
            Constraint::Fill(1),
        ])
        .areas(area);
        let header = Block::bordered()
            .title(format!(" {} ", self.ticket.number))
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::Border));
        frame.render_widget(Paragraph::new(header_lines).block(header), header_area);

        let mut title = vec![Span::styled(
            format!(" Thread ({}) ", self.thread.len()),
            theme.style(Role::Title),
        )];
        if let (Some(summary), None) = (&self.draft_summary, &self.editor) {
            title.push(Span::styled(
                format!("✎ {summary}: r or n to go on "),
                theme.style(Role::MsgOutbound),
            ));
        }
        if let Some(left) = self.undo_window(look.now) {
            title.push(Span::styled(
                format!("sending in {left} s — u to undo "),
                theme.style(Role::DueSoon),
            ));
        }
        let focus = match self.editor {
            Some(_) => Role::Border,
            None => Role::BorderFocused,
        };
        let block = Block::bordered()
            .title(Line::from(title))
            .border_style(theme.style(focus));
        let inner = block.inner(thread_area);
        frame.render_widget(block, thread_area);
        let width = inner.width as usize;
        if self.wrapped.as_ref().is_none_or(|w| w.width != width) {
            self.wrapped = Some(WrappedThread::new(
                &self.thread,
                width,
                self.sftp.as_deref(),
            ));
        }
        let total = self.wrapped.as_ref().map_or(1, WrappedThread::total);
        if let Some(words) = self.find.take() {
            if let Some(line) = self.first_line_with(&words) {
                self.scroll.show_from(line);
            }
        }
        let window = self.scroll.keep_in_view(inner.height as usize, total);
        let visible = self.thread_lines(window, look);
        frame.render_widget(Paragraph::new(visible), inner);
    }

    /// The thread starts at the first message holding a word of `text` when next drawn.
    pub(crate) fn jump_to_words(&mut self, text: &str) {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        self.find = (!words.is_empty()).then_some(words);
    }

    /// The screen line where the first message holding one of `words` (or an
    /// attachment named with one) begins, with the thread wrapped as drawn.
    fn first_line_with(&self, words: &[String]) -> Option<usize> {
        let wrapped = self.wrapped.as_ref()?;
        let mut at = 0;
        for (i, entry) in self.thread.iter().enumerate() {
            if let ThreadEntry::Message(m) = entry {
                let text = m.message.text.to_lowercase();
                let names = m.message.attachments.iter().map(|a| a.name.to_lowercase());
                let holds = |w: &String| text.contains(w.as_str());
                if words.iter().any(holds)
                    || names
                        .into_iter()
                        .any(|n| words.iter().any(|w| n.contains(w.as_str())))
                {
                    return Some(at);
                }
            }
            at += wrapped.lines_of(i);
        }
        None
    }

    /// Seconds until the newest reply that can still be taken back goes out.
    fn undo_window(&self, now: Timestamp) -> Option<i64> {
        let wall = Timestamp::now().0.max(now.0);
        self.undoable
            .iter()
            .map(|&(_, due)| due.0 - wall)
            .filter(|&left| left > 0)
            .max()
    }

    fn header_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let t = &self.ticket;
        let muted = theme.style(Role::Muted);
        let mut facts = vec![
            Span::styled(t.status.as_str(), theme.style(status_role(t.status))),
            Span::styled(" · ", muted),
            Span::styled(t.priority.as_str(), theme.style(priority_role(t.priority))),
            Span::styled(" · assignee: ", muted),
            Span::raw(match &t.assignee {
                Some(name) => sanitize::line(name).into_owned(),
                None => "-".into(),
            }),
        ];
        if let Some((words, late)) = crate::sla::header_words(t, Timestamp::now()) {
            facts.push(Span::styled(" · ", muted));
            let role = if late { Role::Overdue } else { Role::DueSoon };
            facts.push(Span::styled(words, theme.style(role)));
        }
        if !t.tags.is_empty() {
            facts.push(Span::styled(" · tags: ", muted));
            let tags: Vec<String> = t
                .tags
                .iter()
                .map(|x| sanitize::line(x).into_owned())
                .collect();
            facts.push(Span::styled(tags.join(", "), theme.style(Role::Tag)));
        }
        let mut who = vec![
            Span::styled("customer: ", muted),
            Span::raw(sanitize::line(&self.customer_label).into_owned()),
        ];
        if !self.privacy_marks.is_empty() {
            who.push(Span::styled("   ", muted));
            who.push(Span::styled(
                self.privacy_marks.join(" · "),
                theme.style(Role::Overdue),
            ));
        }
        if !self.viewers.is_empty() {
            let others: Vec<String> = self
                .viewers
                .iter()
                .map(|v| {
                    let doing = match v.activity {
                        Activity::Viewing => "viewing",
                        Activity::Replying => "replying",
                    };
                    format!("{} ({doing})", sanitize::line(&v.agent))
                })
                .collect();
            who.push(Span::styled("   also here: ", theme.style(Role::DueSoon)));
            who.push(Span::styled(others.join(", "), theme.style(Role::DueSoon)));
        }
        let mut lines = vec![
            Line::styled(
                sanitize::line(t.subject.as_str()).into_owned(),
                theme.style(Role::Title),
            ),
            Line::from(facts),
            Line::from(who),
        ];
        if !t.links.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("links: ", muted),
                Span::styled(sealdesk_api::links_line(&t.links), theme.style(Role::Tag)),
            ]));
        }
        if !self.cc.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("Cc: ", muted),
                Span::raw(sanitize::line(&self.cc.join(", ")).into_owned()),
            ]));
        }
        // While the editor is open it lists the files itself.
        if self.editor.is_none() && !self.draft_files.is_empty() {
            let files: Vec<String> = self
                .draft_files
                .iter()
                .map(|f| format!("{} ({})", sanitize::line(&f.name), human_size(f.size)))
                .collect();
            lines.push(Line::from(vec![
                Span::styled("your draft carries: ", muted),
                Span::raw(files.join(", ")),
                Span::styled(
                    format!(
                        "   (in /tickets/{}/outgoing/; r, then Ctrl-O takes one off)",
                        t.number.0
                    ),
                    muted,
                ),
            ]));
        }
        lines
    }

    /// The thread's screen lines numbered `window` (as wrapped for the last width drawn);
    /// entries wholly outside it are skipped without building anything.
    fn thread_lines(&self, window: std::ops::Range<usize>, look: &Look) -> Vec<Line<'static>> {
        let theme = look.theme;
        let mut lines = Vec::new();
        let Some(wrapped) = &self.wrapped else {
            return lines;
        };
        let mut at = 0;
        for (i, entry) in self.thread.iter().enumerate() {
            let count = wrapped.lines_of(i);
            if at >= window.end {
                break;
            }
            if at + count <= window.start {
                at += count;
                continue;
            }
            let mut entry_lines = Vec::with_capacity(count);
            if i > 0 {
                entry_lines.push(Line::default());
            }
            let message = match entry {
                ThreadEntry::Message(message) => message,
                ThreadEntry::Erased => {
                    entry_lines.push(Line::styled(
                        "┃ [erased: this message's customer data was deleted]",
                        theme.style(Role::Muted),
                    ));
                    lines.extend(in_window(entry_lines, at, &window));
                    at += count;
                    continue;
                }
            };
            let (label, role) = match message.kind {
                MessageKind::Inbound => ("inbound", Role::MsgInbound),
                MessageKind::Outbound => ("reply", Role::MsgOutbound),
                MessageKind::Note => ("note", Role::MsgNote),
            };
            let style = theme.style(role);
            let mut head = vec![
                Span::styled("┃ ", style),
                Span::styled(label, style.bold()),
                Span::styled(
                    format!(
                        " · {} · {}",
                        sanitize::line(&message.author.display()),
                        when(message.at, look.now)
                    ),
                    style,
                ),
            ];
            if let Some(state) = &message.delivery {
                let (text, state_role) = delivery(state);
                head.push(Span::styled(" · ", style));
                head.push(Span::styled(text, theme.style(state_role)));
            }
            // A reply the relay did not take yet: why, and when it is tried again.
            let outbox = message.outbox.as_ref();
            if let Some((o, why)) = outbox.and_then(|o| Some((o, o.last_error.as_deref()?))) {
                let why = sanitize::line(why);
                let text = format!(" · next try {}: {why}", minute(o.next_attempt));
                head.push(Span::styled(text, theme.style(Role::MessageError)));
            }
            entry_lines.push(Line::from(head));
            // Only the body lines in view become Lines.
            let before = entry_lines.len();
            let skip = window.start.saturating_sub(at + before);
            let take = window.end.saturating_sub((at + before).max(window.start));
            for (text, attachment) in wrapped.bodies[i].iter().skip(skip).take(take) {
                let piece = match attachment {
                    true => Span::styled(text.clone(), theme.style(Role::Muted)),
                    false => Span::raw(text.clone()),
                };
                entry_lines.push(Line::from(vec![Span::styled("│ ", style), piece]));
            }
            // The lines before the body are numbered from `at`, the body from `at + before + skip`.
            let (head_lines, body_lines) = entry_lines.split_at(before);
            lines.extend(in_window(head_lines.to_vec(), at, &window));
            lines.extend(body_lines.iter().cloned());
            at += count;
        }
        if self.thread.is_empty() && window.contains(&0) {
            lines.push(Line::styled("No messages.", theme.style(Role::Muted)));
        }
        lines
    }
}

/// The lines of `lines` (numbered from `first`) that fall in `window`.
fn in_window<'a>(
    lines: Vec<Line<'a>>,
    first: usize,
    window: &std::ops::Range<usize>,
) -> Vec<Line<'a>> {
    lines
        .into_iter()
        .enumerate()
        .filter(|(j, _)| window.contains(&(first + j)))
        .map(|(_, line)| line)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_desk::{actor, fixture};

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    /// Any window of the thread is the same lines as the whole thread cut to it, and a
    /// big message is wrapped once, not on every frame.
    #[test]
    fn windows_of_the_thread_are_cuts_of_the_whole() {
        let fx = fixture();
        let n = fx.ticket("ann@example.com", "Ann", "Long", &"word ".repeat(600));
        fx.desk.add_note(&actor("alice"), n, "short note").unwrap();
        let body: String = (0..50).map(|i| format!("line {i}\n")).collect();
        fx.desk.add_note(&actor("alice"), n, &body).unwrap();
        let session = fx.session("alice", 1);
        let ctx = Ctx {
            desk: &*fx.desk,
            session: &session,
        };
        let mut screen = TicketScreen::open(&ctx, n).unwrap();
        let theme = Theme::default_dark();
        let look = Look {
            theme: &theme,
            now: sealdesk_model::Timestamp::now(),
        };
        screen.wrapped = Some(WrappedThread::new(&screen.thread, 40, None));
        let total = screen.wrapped.as_ref().unwrap().total();
        let whole = plain(&screen.thread_lines(0..usize::MAX, &look));
        assert_eq!(whole.len(), total);
        assert!(whole.iter().any(|l| l.contains("line 49")));
        for size in [1, 3, 7, 40] {
            let mut cut = Vec::new();
            for start in (0..total + size).step_by(size) {
                cut.extend(plain(&screen.thread_lines(start..start + size, &look)));
            }
            assert_eq!(cut, whole, "windows of {size}");
        }
    }

    /// Each file of the thread shows the command that fetches it over SFTP, under its
    /// unique name; the files on the agent's draft are listed in the header.
    #[test]
    fn files_show_their_sftp_command_and_the_draft_its_files() {
        let fx = fixture();
        let n = fx.ticket("ann@example.com", "Ann", "Scan", "see attached");
        let file = |name: &str| sealdesk_desk::ReplyFile {
            name: name.into(),
            bytes: b"%PDF".to_vec(),
        };
        fx.desk
            .reply_with_files(
                &actor("alice"),
                n,
                "Here.",
                &Default::default(),
                &[file("scan.pdf")],
                None,
            )
            .unwrap();
        fx.desk
            .reply_with_files(
                &actor("alice"),
                n,
                "Again.",
                &Default::default(),
                &[file("scan.pdf")],
                None,
            )
            .unwrap();
        fx.desk
            .attach_to_draft(&actor("alice"), n, "steps.txt", "text/plain", b"1. 2.")
            .unwrap();
        let session = fx.session("alice", 1);
        let ctx = Ctx {
            desk: &*fx.desk,
            session: &session,
        };
        let mut screen = TicketScreen::open(&ctx, n).unwrap();
        let theme = Theme::default_dark();
        let look = Look {
            theme: &theme,
            now: sealdesk_model::Timestamp::now(),
        };
        screen.wrapped = Some(WrappedThread::new(
            &screen.thread,
            200,
            screen.sftp.as_deref(),
        ));
        let lines = plain(&screen.thread_lines(0..usize::MAX, &look));
        for seq in [2, 3] {
            let fetch = format!(
                "sftp -P 2222 alice@desk.example:/tickets/{}/attachments/{seq}-scan.pdf",
                n.0
            );
            assert!(lines.iter().any(|l| l.contains(&fetch)), "{lines:#?}");
        }
        let header = plain(&screen.header_lines(&theme));
        assert!(
            header
                .iter()
                .any(|l| l.contains("your draft carries: steps.txt") && l.contains("outgoing")),
            "{header:#?}"
        );
    }

    #[test]
    fn opened_from_a_search_the_thread_starts_at_the_first_matching_message() {
        let fx = fixture();
        let long: String = (0..60).map(|i| format!("filler {i}\n")).collect();
        let n = fx.ticket("ann@example.com", "Ann", "Long", &long);
        fx.desk
            .add_note(&actor("alice"), n, "the Zeppelin part ships")
            .unwrap();
        fx.desk.add_note(&actor("alice"), n, &long).unwrap();
        let session = fx.session("alice", 1);
        let ctx = Ctx {
            desk: &*fx.desk,
            session: &session,
        };
        let theme = Theme::default_dark();
        let look = Look {
            theme: &theme,
            now: sealdesk_model::Timestamp::now(),
        };
        let draw = |screen: &mut TicketScreen| {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 30)).unwrap();
            terminal.draw(|f| screen.draw(f, f.area(), &look)).unwrap();
            let buffer = terminal.backend().buffer().clone();
            (0..buffer.area.height)
                .map(|y| {
                    (0..buffer.area.width)
                        .map(|x| buffer[(x, y)].symbol().to_string())
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut plain_open = TicketScreen::open(&ctx, n).unwrap();
        assert!(
            !draw(&mut plain_open).contains("Zeppelin"),
            "it follows the end"
        );
        let mut found = TicketScreen::open(&ctx, n).unwrap();
        found.jump_to_words("zeppel");
        let screen = draw(&mut found);
        assert!(screen.contains("Zeppelin part ships"), "{screen}");
        assert!(!screen.contains("filler 59"), "{screen}");
    }
}
