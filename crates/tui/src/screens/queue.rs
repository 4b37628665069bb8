//! The queue: every ticket the filters let through, one row each.
//!
//! The desk's in-memory index does the filtering, so search runs on every keystroke;
//! typing on only narrows the rows already listed. The rows are shared with the index
//! (no copy per session), and a change to one ticket moves that one row
//! ([`QueueView::apply`]) rather than re-running the query. Drawing builds cells only
//! for the rows in view: with 100,000 tickets the table is still a screenful of `Row`s.
//!
//! Tickets that carry an open privacy request are marked `§` (`§!` when overdue). The
//! set of those tickets is read when the queue opens, and again on a desk change only
//! if a request was stored since or the markers are a minute old (urgency moves with
//! the clock): never per row, per search keystroke, or per arriving mail.

mod views;

use super::body_lines::BodyLines;
use super::{Ctx, Look};
use crate::action::{Action, Choice};
use crate::display::{due_cell, priority_role, status_role};
use crate::event::{KeyCode, KeyEvent};
use crate::keymap::{self, bind, ch, ctrl, key, lookup, Binding, HelpSection};
use crate::popups::{Picker, Popup, Prompt};
use crate::theme::Role;
use crate::widgets::list::{self, Move, ScrollList, Words};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row};
use ratatui::Frame;
use sealdesk_api::{
    AgentMarks, AssigneeFilter, Change, MarkerFilter, QueueQuery, QueueRow, QueueView, SortKey,
    Urgency,
};
use sealdesk_model::sanitize;
use sealdesk_model::{Status, TicketNo, Timestamp};
use std::collections::{BTreeSet, HashMap};

/// Request markers older than this are re-read on the next desk change.
const MARKERS_MAX_AGE_SECS: i64 = 60;

#[derive(Clone, Copy)]
enum QueueKey {
    Open,
    Search,
    StatusFilter,
    AssigneeFilter,
    TagFilter,
    Sort,
    ClearSearch,
    Requests,
    Reports,
    Quarantine,
    Audit,
    Mark,
    MarkAll,
    Bulk,
    Macro,
    Templates,
    Markers,
    SwitchView,
    ManageViews,
    Snooze,
    Due,
    Quit,
}

const MOVES: Words = Words {
    down: "next ticket",
    up: "previous ticket",
    top: "first ticket",
    bottom: "last ticket",
};

const KEYS: &[Binding<QueueKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        QueueKey::Open,
        "open the ticket",
        Some("open"),
    ),
    bind(
        &[ch('/')],
        QueueKey::Search,
        "search subject, customer, tags and messages",
        Some("search"),
    ),
    bind(
        &[ch('f')],
        QueueKey::StatusFilter,
        "filter by status",
        Some("status"),
    ),
    bind(
        &[ch('a')],
        QueueKey::AssigneeFilter,
        "cycle assignee filter: anyone, mine, unassigned",
        None,
    ),
    bind(&[ch('t')], QueueKey::TagFilter, "filter by tag", None),
    bind(
        &[ch('z')],
        QueueKey::Snooze,
        "snooze until a time: it wakes by itself",
        None,
    ),
    bind(&[ch('D')], QueueKey::Due, "set the due time by hand", None),
    bind(
        &[ch('s')],
        QueueKey::Sort,
        "cycle sort: updated, number, priority, due",
        Some("sort"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        QueueKey::ClearSearch,
        "clear the search (then: the marks)",
        None,
    ),
    bind(
        &[ch(' ')],
        QueueKey::Mark,
        "mark or unmark the ticket (marked: *), for a macro or B",
        None,
    ),
    bind(
        &[ch('*')],
        QueueKey::MarkAll,
        "mark every ticket listed (again: unmark all)",
        None,
    ),
    bind(
        &[ch('B')],
        QueueKey::Bulk,
        "change the marked tickets (or this one): status, priority, assignee, tags, macro, merge",
        Some("bulk"),
    ),
    bind(
        &[ch('M')],
        QueueKey::Macro,
        "apply a macro to the marked tickets (or this one)",
        None,
    ),
    bind(
        &[ctrl('t')],
        QueueKey::Templates,
        "saved replies: add, edit, rename, remove",
        None,
    ),
    bind(
        &[ch('m')],
        QueueKey::Markers,
        "markers: all, unread ●, customer replied ↩, my drafts ✎",
        None,
    ),
    bind(
        &[
            ch('1'),
            ch('2'),
            ch('3'),
            ch('4'),
            ch('5'),
            ch('6'),
            ch('7'),
            ch('8'),
            ch('9'),
        ],
        QueueKey::SwitchView,
        "switch to saved view N (shared first, then yours)",
        None,
    ),
    bind(
        &[ch('V')],
        QueueKey::ManageViews,
        "saved views: save as…, rename, delete, share",
        Some("views"),
    ),
    bind(
        &[ch('R')],
        QueueKey::Requests,
        "privacy requests, most urgent first",
        Some("requests"),
    ),
    bind(
        &[ch('%')],
        QueueKey::Reports,
        "reports: volume, backlog, response times, SLA, busiest hours, privacy",
        Some("reports"),
    ),
    bind(
        &[ch('L')],
        QueueKey::Audit,
        "the audit log (admins only)",
        None,
    ),
    bind(
        &[ch('Q')],
        QueueKey::Quarantine,
        "quarantined mail (admins only)",
        None,
    ),
    bind(&[ch('q')], QueueKey::Quit, "quit sealdesk", Some("quit")),
];

#[derive(Clone, Copy)]
enum SearchKey {
    Keep,
    Clear,
    DeleteChar,
    ClearText,
    Move(Move),
}

/// Keys while typing a search; any other character is added to it.
const SEARCH_KEYS: &[Binding<SearchKey>] = &[
    bind(
        &[key(KeyCode::Enter)],
        SearchKey::Keep,
        "keep the search, back to the list",
        Some("done"),
    ),
    bind(
        &[key(KeyCode::Esc)],
        SearchKey::Clear,
        "clear the search",
        Some("clear"),
    ),
    bind(
        &[key(KeyCode::Backspace)],
        SearchKey::DeleteChar,
        "delete a character",
        None,
    ),
    bind(&[ctrl('u')], SearchKey::ClearText, "clear the text", None),
    bind(
        &[key(KeyCode::Down)],
        SearchKey::Move(Move::Down),
        "next ticket",
        None,
    ),
    bind(
        &[key(KeyCode::Up)],
        SearchKey::Move(Move::Up),
        "previous ticket",
        None,
    ),
];

/// Which statuses the queue shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum StatusFilter {
    /// Everything but closed: the work still to do.
    #[default]
    NotClosed,
    Only(Status),
    All,
}

impl StatusFilter {
    fn statuses(self) -> Vec<Status> {
        match self {
            StatusFilter::NotClosed => Vec::new(),
            StatusFilter::Only(status) => vec![status],
            StatusFilter::All => Status::ALL.to_vec(),
        }
    }

    fn label(self) -> String {
        match self {
            StatusFilter::NotClosed => "not closed".into(),
            StatusFilter::Only(status) => status.to_string(),
            StatusFilter::All => "all".into(),
        }
    }
}

pub(crate) struct QueueScreen {
    query: QueueQuery,
    status_filter: StatusFilter,
    rows: QueueView,
    /// Tickets with an open privacy request, and how urgent the most urgent one is.
    requests: HashMap<TicketNo, Urgency>,
    /// The desk's request generation and the time when `requests` was read.
    markers_read: (u64, Timestamp),
    list: ScrollList,
    searching: bool,
    /// Tickets marked with Space, for a macro to apply to all at once.
    marks: BTreeSet<TicketNo>,
    /// The tickets the bulk action under way (`B`) is for.
    bulk: Vec<TicketNo>,
    /// The saved view the queue was switched to, if any (its name is in the title).
    views: views::State,
    /// Matching body lines beside the rows in view, and the body index's progress.
    bodies: BodyLines,
    /// Table rows the last frame had room for (where body lines are fetched for).
    table_rows: usize,
}

impl QueueScreen {
    /// The default queue: every ticket not closed, most recently updated first.
    pub(crate) fn open(ctx: &Ctx) -> (QueueScreen, Option<Action>) {
        let mut screen = QueueScreen {
            query: QueueQuery::default(),
            status_filter: StatusFilter::default(),
            rows: QueueView::default(),
            requests: HashMap::new(),
            markers_read: (0, Timestamp(0)),
            list: ScrollList::default(),
            searching: false,
            marks: BTreeSet::new(),
            bulk: Vec::new(),
            views: views::State::default(),
            bodies: BodyLines::default(),
            table_rows: 0,
        };
        screen.refresh_marks(ctx);
        screen.bodies.poll_progress(ctx);
        let problem = screen.reload(ctx, false);
        let markers = screen.reload_markers(ctx);
        (screen, problem.or(markers))
    }

    pub(crate) fn searching(&self) -> bool {
        self.searching
    }

    fn selected_number(&self) -> Option<TicketNo> {
        self.rows
            .get(self.list.selected())
            .map(|row| row.ticket.number)
    }

    /// Re-runs the query, keeping the selected ticket selected if it is still listed;
    /// otherwise keeps the position (`keep_position`) or goes to the top.
    fn reload(&mut self, ctx: &Ctx, keep_position: bool) -> Option<Action> {
        let before = self.selected_number();
        self.query.bodies = ctx.desk.body_hits(&self.query.text);
        match ctx.desk.queue(&self.query) {
            Ok(rows) => self.rows = QueueView::new(rows),
            Err(e) => return Some(Action::Error(e.to_string())),
        }
        self.reselect(before, keep_position);
        None
    }

    /// After the search text changed from `before`: typing on filters the rows already
    /// listed; anything else re-runs the query.
    fn search_changed(&mut self, ctx: &Ctx, before: &QueueQuery) -> Option<Action> {
        if !self.query.narrows(before) {
            return self.reload(ctx, false);
        }
        let selected = self.selected_number();
        self.query.bodies = ctx.desk.body_hits(&self.query.text);
        self.rows.narrow(&self.query);
        self.reselect(selected, false);
        None
    }

    /// Selects ticket `number` if listed; otherwise keeps the position
    /// (`keep_position`) or goes to the top.
    fn reselect(&mut self, number: Option<TicketNo>, keep_position: bool) {
        let at = match number.and_then(|n| self.rows.position(n)) {
            Some(i) => i,
            None if keep_position => self.list.selected(),
            None => 0,
        };
        self.list.select(at, self.rows.len());
    }

    /// One ticket changed: moves its row (in, out or along the list) without
    /// re-running the query; the selection stays on the same ticket.
    fn ticket_changed(&mut self, ctx: &Ctx, number: TicketNo) -> Option<Action> {
        if !self.query.text.is_empty() {
            // The change may have brought the words into (or out of) its bodies.
            self.query.bodies = ctx.desk.body_hits(&self.query.text);
            self.bodies.forget(number);
        }
        // A draft saved, sent or discarded touches its ticket: the marks first, and
        // a queue filtered by them is queried again when they moved.
        if self.refresh_marks(ctx) && self.query.marker != MarkerFilter::All {
            if let Some(problem) = self.reload(ctx, true) {
                return Some(problem);
            }
        } else {
            let row = match ctx.desk.queue_row(number) {
                Ok(row) => row,
                Err(e) => return Some(Action::Error(e.to_string())),
            };
            let selected = self.selected_number();
            self.rows.apply(&self.query, number, row);
            self.reselect(selected, true);
        }
        let (generation, read_at) = self.markers_read;
        let stale = generation != ctx.desk.request_generation()
            || Timestamp::now().0 - read_at.0 >= MARKERS_MAX_AGE_SECS;
        if stale {
            self.reload_markers(ctx)
        } else {
            None
        }
    }

    /// Re-reads which tickets carry an open privacy request, and this agent's marks
    /// (drafts, what they saw).
    pub(crate) fn reload_markers(&mut self, ctx: &Ctx) -> Option<Action> {
        if self.refresh_marks(ctx) && self.query.marker != MarkerFilter::All {
            if let Some(problem) = self.reload(ctx, true) {
                return Some(problem);
            }
        }
        // Read the generation first: a request stored meanwhile makes the next change
        // read again.
        let generation = ctx.desk.request_generation();
        let now = Timestamp::now();
        match ctx.desk.open_request_tickets(now) {
            Ok(requests) => {
                self.requests = requests;
                self.markers_read = (generation, now);
                None
            }
            Err(e) => Some(Action::Error(e.to_string())),
        }
    }

    pub(crate) fn handle_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        if self.searching {
            return self.handle_search_key(ctx, pressed);
        }
        if self.list.handle_key(pressed, self.rows.len()).is_some() {
            return None;
        }
        match lookup(KEYS, pressed)? {
            QueueKey::Open => {
                let n = self.selected_number()?;
                return Some(match self.query.text.trim().is_empty() {
                    true => Action::OpenTicket(n),
                    false => Action::OpenTicketFound(n, self.query.text.clone()),
                });
            }
            QueueKey::Search => self.searching = true,
            QueueKey::StatusFilter => return Some(Action::popup(self.status_picker())),
            QueueKey::AssigneeFilter => {
                self.query.assignee = match self.query.assignee {
                    AssigneeFilter::Anyone => AssigneeFilter::Agent,
                    AssigneeFilter::Agent => AssigneeFilter::Unassigned,
                    AssigneeFilter::Unassigned => AssigneeFilter::Anyone,
                };
                self.query.agent = Some(ctx.session.agent.name.clone());
                return self.reload(ctx, false);
            }
            QueueKey::TagFilter => {
                let current = self.query.tag.clone().unwrap_or_default();
                let prompt = Prompt::new("Filter by tag (empty: any tag)", &current, |tag| {
                    Action::Choice(Choice::TagFilter(tag))
                });
                return Some(Action::popup(Popup::Prompt(prompt)));
            }
            QueueKey::Sort => {
                self.query.sort = match self.query.sort {
                    SortKey::Updated => SortKey::Number,
                    SortKey::Number => SortKey::Priority,
                    SortKey::Priority => SortKey::Due,
                    SortKey::Due => SortKey::Updated,
                };
                return self.reload(ctx, false);
            }
            QueueKey::ClearSearch if !self.query.text.is_empty() => {
                self.query.text.clear();
                return self.reload(ctx, false);
            }
            QueueKey::ClearSearch => self.marks.clear(),
            QueueKey::Mark => {
                let number = self.selected_number()?;
                if !self.marks.remove(&number) {
                    self.marks.insert(number);
                }
                self.list.apply(Move::Down, self.rows.len());
            }
            QueueKey::MarkAll => {
                let listed: Vec<TicketNo> =
                    self.rows.rows().iter().map(|r| r.ticket.number).collect();
                if listed.iter().all(|n| self.marks.contains(n)) {
                    self.marks.clear();
                } else {
                    self.marks.extend(listed);
                }
            }
            QueueKey::Bulk => {
                self.bulk = self.marked_or_selected()?;
                return Some(crate::popups::bulk::menu(self.bulk.len()));
            }
            QueueKey::Macro => return Some(Action::PickMacro(self.marked_or_selected()?)),
            QueueKey::Templates => return Some(Action::ManageTemplates),
            QueueKey::Markers => {
                self.query.marker = match self.query.marker {
                    MarkerFilter::All => MarkerFilter::Unread,
                    MarkerFilter::Unread => MarkerFilter::CustomerReplied,
                    MarkerFilter::CustomerReplied => MarkerFilter::MyDrafts,
                    MarkerFilter::MyDrafts => MarkerFilter::All,
                };
                return self.reload(ctx, false);
            }
            QueueKey::SwitchView => {
                let KeyCode::Char(digit) = pressed.code else {
                    return None;
                };
                let nth = digit.to_digit(10)?.checked_sub(1)? as usize;
                return self.switch_to_nth_view(ctx, nth);
            }
            QueueKey::ManageViews => return Some(self.view_manager(ctx)),
            QueueKey::Snooze => {
                let row = self.rows.get(self.list.selected())?;
                return Some(crate::sla::snooze_prompt(&row.ticket));
            }
            QueueKey::Due => {
                let row = self.rows.get(self.list.selected())?;
                return Some(crate::sla::due_prompt(&row.ticket));
            }
            QueueKey::Requests => return Some(Action::OpenRequests),
            QueueKey::Reports => return Some(Action::OpenReports),
            QueueKey::Audit => return Some(Action::OpenAudit),
            QueueKey::Quarantine => return Some(Action::OpenQuarantine),
            QueueKey::Quit => return Some(Action::Quit),
        }
        None
    }

    /// The marked tickets, or the selected one when none is marked.
    fn marked_or_selected(&self) -> Option<Vec<TicketNo>> {
        if self.marks.is_empty() {
            return Some(vec![self.selected_number()?]);
        }
        Some(self.marks.iter().copied().collect())
    }

    fn handle_search_key(&mut self, ctx: &Ctx, pressed: KeyEvent) -> Option<Action> {
        match lookup(SEARCH_KEYS, pressed) {
            Some(SearchKey::Keep) => {
                self.searching = false;
                if !self.query.text.trim().is_empty() {
                    let kept = ctx
                        .desk
                        .record_queue_search(&ctx.session.actor, self.rows.len());
                    if let Err(e) = kept {
                        return Some(Action::Error(e.to_string()));
                    }
                }
            }
            Some(SearchKey::Clear) => {
                self.searching = false;
                self.query.text.clear();
                return self.reload(ctx, false);
            }
            Some(SearchKey::DeleteChar) => {
                self.query.text.pop();
                return self.reload(ctx, false);
            }
            Some(SearchKey::ClearText) => {
                self.query.text.clear();
                return self.reload(ctx, false);
            }
            Some(SearchKey::Move(step)) => self.list.apply(step, self.rows.len()),
            None => match pressed.code {
                KeyCode::Char(c)
                    if !pressed.mods.ctrl && !pressed.mods.alt && !sanitize::is_unsafe(c) =>
                {
                    let before = self.query.clone();
                    if !crate::field::push(&mut self.query.text, c) {
                        return Some(Action::Error(crate::field::full()));
                    }
                    return self.search_changed(ctx, &before);
                }
                _ => {}
            },
        }
        None
    }

    /// Pasting while searching searches for the pasted text.
    pub(crate) fn paste(&mut self, ctx: &Ctx, text: &str) -> Option<Action> {
        if !self.searching {
            return None;
        }
        let before = self.query.clone();
        let fitted = crate::field::push_str(&mut self.query.text, &sanitize::line(text));
        let said = self.search_changed(ctx, &before);
        match fitted {
            true => said,
            false => said.or(Some(Action::Error(crate::field::full()))),
        }
    }

    fn status_picker(&self) -> Popup {
        let mut filters = vec![StatusFilter::NotClosed];
        filters.extend(Status::ALL.iter().map(|&s| StatusFilter::Only(s)));
        filters.push(StatusFilter::All);
        let selected = filters
            .iter()
            .position(|&f| f == self.status_filter)
            .unwrap_or(0);
        let items = filters
            .into_iter()
            .map(|f| (f.label(), Action::Choice(Choice::StatusFilter(f))))
            .collect();
        Popup::Picker(Picker::new("Show tickets", items, selected))
    }

    pub(crate) fn choose(&mut self, ctx: &Ctx, choice: Choice) -> Option<Action> {
        match choice {
            Choice::StatusFilter(filter) => {
                self.status_filter = filter;
                self.query.statuses = filter.statuses();
            }
            Choice::TagFilter(tag) => {
                let tag = tag.trim().to_lowercase();
                self.query.tag = (!tag.is_empty()).then_some(tag);
            }
            Choice::MacroApplied => {
                self.marks.clear();
                return None;
            }
            Choice::Bulk(step) => return Some(crate::popups::bulk::step(ctx, &self.bulk, step)),
            Choice::View(choice) => return self.view_choice(ctx, choice),
            Choice::Snooze(_) | Choice::Due(_) => {
                let number = self.selected_number()?;
                return match crate::sla::apply(ctx, number, &choice)? {
                    Ok(done) => Some(Action::Info(done)),
                    Err(e) => Some(Action::Error(e.to_string())),
                };
            }
            _ => return None,
        }
        self.reload(ctx, false)
    }

    /// About once a second: follows the body index build; once it is done, a search
    /// is run again over every body.
    pub(crate) fn tick(&mut self, ctx: &Ctx) -> Option<Action> {
        if self.bodies.poll_progress(ctx) && !self.query.text.is_empty() {
            return self.reload(ctx, true);
        }
        None
    }

    /// Before drawing: the matching body lines of the rows about to be in view.
    pub(crate) fn prepare(&mut self, ctx: &Ctx) {
        if self.query.text.is_empty() || self.table_rows == 0 {
            return;
        }
        let window = self.list.keep_in_view(self.table_rows, self.rows.len());
        self.bodies
            .fetch(ctx, &self.query, &self.rows.rows()[window]);
    }

    /// Re-reads everything, after changes may have been missed.
    pub(crate) fn refresh(&mut self, ctx: &Ctx) -> Option<Action> {
        let problem = self.reload(ctx, true);
        problem.or(self.reload_markers(ctx))
    }

    pub(crate) fn on_change(&mut self, ctx: &Ctx, change: &Change) -> Option<Action> {
        match change {
            Change::Ticket(number) => self.ticket_changed(ctx, *number),
            Change::Agents | Change::Presence(_) | Change::Notified(_) => None,
        }
    }

    pub(crate) fn help(&self) -> Vec<HelpSection> {
        vec![
            list::help_section("Queue", &MOVES, KEYS),
            keymap::help_section("While searching (after /)", SEARCH_KEYS),
        ]
    }

    pub(crate) fn hints(&self) -> Vec<(String, &'static str)> {
        if self.searching {
            keymap::hints(SEARCH_KEYS)
        } else {
            keymap::hints(KEYS)
        }
    }

    fn filter_summary(&self) -> String {
        let assignee = match self.query.assignee {
            AssigneeFilter::Anyone => "anyone",
            AssigneeFilter::Agent => "mine",
            AssigneeFilter::Unassigned => "unassigned",
        };
        let sort = match self.query.sort {
            SortKey::Updated => "updated",
            SortKey::Number => "number",
            SortKey::Priority => "priority",
            SortKey::Due => "due",
        };
        let tag = match &self.query.tag {
            Some(tag) => format!(" · tag: {}", sanitize::line(tag)),
            None => String::new(),
        };
        let marker = match self.query.marker {
            MarkerFilter::All => "",
            MarkerFilter::Unread => " · unread",
            MarkerFilter::CustomerReplied => " · customer replied",
            MarkerFilter::MyDrafts => " · my drafts",
        };
        format!(
            " {} · {assignee}{tag}{marker} · sort: {sort} ",
            self.status_filter.label()
        )
    }

    pub(crate) fn draw(&mut self, frame: &mut Frame, area: Rect, look: &Look) {
        let theme = look.theme;
        let progress = match self.bodies.progress() {
            Some(p) => format!("· {p} "),
            None => String::new(),
        };
        let block = Block::bordered()
            .title(match self.marks.len() {
                0 => format!(" {} ({}) {progress}", self.title(), self.rows.len()),
                marked => format!(
                    " {} ({}, {marked} marked) {progress}",
                    self.title(),
                    self.rows.len()
                ),
            })
            .title_top(Line::from(self.filter_summary()).right_aligned())
            .title_style(theme.style(Role::Title))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        frame.render_widget(block, area);

        let show_search = self.searching || !self.query.text.is_empty();
        let [search, table_area] = Layout::vertical([
            Constraint::Length(u16::from(show_search)),
            Constraint::Fill(1),
        ])
        .areas(inner);
        if show_search {
            let mut spans = vec![
                Span::styled("/ ", theme.style(Role::Header)),
                Span::styled(self.query.text.clone(), theme.style(Role::Input)),
            ];
            if self.searching {
                spans.push(Span::styled(" ", theme.style(Role::InputCursor)));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), search);
        }
        if self.rows.is_empty() {
            let text = Line::styled("No tickets match these filters.", theme.style(Role::Muted));
            frame.render_widget(Paragraph::new(text), table_area);
            return;
        }

        // One line goes to the header row.
        self.table_rows = (table_area.height as usize).saturating_sub(1);
        let window = self.list.keep_in_view(self.table_rows, self.rows.len());
        let visible = &self.rows.rows()[window];
        let number_width = visible
            .iter()
            .map(|r| r.ticket.number.to_string().len())
            .max()
            .unwrap_or(2)
            + usize::from(!self.marks.is_empty());
        let agent = self.query.marks.as_deref();
        let rows = visible.iter().map(|row| {
            let n = row.ticket.number;
            let marked = self.marks.contains(&n);
            let line = self.bodies.line(n);
            queue_row(row, self.requests.get(&n), marked, agent, line, look)
        });
        // Below 100 columns the age column goes and the assignee narrows, so customer and
        // subject keep room to be read.
        let narrow = table_area.width < 100;
        let widths = [
            Constraint::Length(number_width as u16),
            Constraint::Length(2),
            Constraint::Length(3),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(if narrow { 0 } else { 4 }),
            Constraint::Fill(1),
            Constraint::Fill(2),
            Constraint::Length(if narrow { 8 } else { 10 }),
            Constraint::Length(12),
        ];
        let header = Row::new([
            "#", "§", "new", "status", "prio", "age", "customer", "subject", "assignee", "due",
        ]);
        self.list
            .render_table(frame, table_area, theme, header, rows, widths);
    }

    #[cfg(test)]
    pub(crate) fn set_rows_for_test(&mut self, rows: Vec<QueueRow>) {
        self.rows = QueueView::new(rows.into_iter().map(std::sync::Arc::new).collect());
    }
}

/// The cells of one row; every text from mail is sanitised here. `request` is the
/// urgency of the ticket's most urgent open privacy request, if it has one; `agent`
/// holds the agent's marks (unread, drafts). A `marked` row's number is starred. `line`
/// is the matching body line (already sanitised), shown after the subject.
fn queue_row<'a>(
    row: &'a QueueRow,
    request: Option<&Urgency>,
    marked: bool,
    agent: Option<&AgentMarks>,
    line: Option<&'a str>,
    look: &Look,
) -> Row<'a> {
    let theme = look.theme;
    let t = &row.ticket;
    let marker = match request {
        None => Cell::from(""),
        Some(Urgency::Overdue) => Cell::from("§!").style(theme.style(Role::Overdue)),
        Some(Urgency::DueSoon) => Cell::from("§").style(theme.style(Role::DueSoon)),
        Some(_) => Cell::from("§").style(theme.style(Role::Tag)),
    };
    let (due, due_role) = due_cell(t, look.now);
    let assignee = match &t.assignee {
        Some(name) => Cell::from(sanitize::line(name)),
        None => Cell::from("-").style(theme.style(Role::Muted)),
    };
    let number = match marked {
        true => Cell::from(format!("*{}", t.number)).style(theme.style(Role::Header)),
        false => Cell::from(t.number.to_string()),
    };
    Row::new([
        number,
        marker,
        views::markers_cell(row, agent, theme),
        Cell::from(t.status.as_str()).style(theme.style(status_role(t.status))),
        Cell::from(t.priority.as_str()).style(theme.style(priority_role(t.priority))),
        Cell::from(t.created.age_at(look.now)).style(theme.style(Role::Muted)),
        Cell::from(sanitize::line(row.customer_label.as_str())),
        match line {
            None => Cell::from(sanitize::line(t.subject.as_str())),
            Some(line) => Cell::from(Line::from(vec![
                Span::raw(sanitize::line(t.subject.as_str())),
                Span::styled(" · ", theme.style(Role::Muted)),
                Span::styled(line, theme.style(Role::Tag)),
            ])),
        },
        assignee,
        Cell::from(due).style(theme.style(due_role)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{KeyCode, KeyEvent};
    use crate::theme::Theme;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use sealdesk_api::QueueRow;
    use sealdesk_model::{CustomerId, Priority, Status, Ticket, TicketNo, Timestamp};

    /// The screen as text, one cell one character.
    fn text(buffer: &ratatui::buffer::Buffer) -> String {
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push(buffer[(x, y)].symbol().chars().next().unwrap_or(' '));
            }
            out.push('\n');
        }
        out
    }

    /// 100,000 tickets: a key and a redraw build a screenful of rows, not 100,000.
    #[test]
    fn a_huge_queue_draws_only_the_rows_in_view() {
        let fx = crate::test_desk::fixture();
        let desk = &*fx.desk;
        let session = fx.session("alice", 1);
        let ctx = Ctx {
            desk,
            session: &session,
        };
        let (mut queue, problem) = QueueScreen::open(&ctx);
        assert!(problem.is_none());
        let rows: Vec<QueueRow> = (1..=100_000)
            .rev()
            .map(|i| {
                let ticket = Ticket {
                    number: TicketNo(i),
                    subject: format!("Subject {i}").into(),
                    status: Status::Open,
                    priority: Priority::Normal,
                    assignee: None,
                    tags: Vec::new(),
                    customer: CustomerId::random(),
                    created: Timestamp(i as i64),
                    updated: Timestamp(i as i64),
                    due: None,
                    address: None,
                    participants: Vec::new(),
                    links: Vec::new(),
                    snoozed_until: None,
                    due_by_hand: false,
                    sla: Default::default(),
                };
                QueueRow::new(ticket, None)
            })
            .collect();
        queue.set_rows_for_test(rows);
        let theme = Theme::default();
        let look = Look {
            theme: &theme,
            now: Timestamp::now(),
        };
        let started = std::time::Instant::now();
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        queue.handle_key(&ctx, KeyEvent::plain(KeyCode::End));
        terminal
            .draw(|frame| queue.draw(frame, frame.area(), &look))
            .unwrap();
        for _ in 0..5 {
            queue.handle_key(&ctx, KeyEvent::plain(KeyCode::PageUp));
        }
        terminal
            .draw(|frame| queue.draw(frame, frame.area(), &look))
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let s = text(terminal.backend().buffer());
        assert!(s.contains("Queue (100000)"), "{s}");
        // 21 rows fit under the header: End selects #1, five pages up select #106, and the
        // window starts there.
        assert!(s.contains("Subject 106") && s.contains("Subject 86"), "{s}");
        assert!(
            !s.contains("Subject 107") && !s.contains("Subject 85"),
            "{s}"
        );
    }
}
