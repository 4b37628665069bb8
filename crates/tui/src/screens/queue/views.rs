//! The queue's saved views and markers (Part 10).
//!
//! Markers: one column, `●` unread (someone else did something since this agent last
//! opened the ticket), `↩` the customer wrote after our latest reply, `✎` this agent
//! keeps a draft. The agent's side (what they saw, their drafts) is held in the query
//! as [`AgentMarks`] and re-read on a desk change from the desk's memory, never per
//! row or per keystroke.
//!
//! Views: keys `1`…`9` switch to the desk's saved views in the order the desk lists
//! them (shared ones by name, then the agent's own by name); `V` manages them. The
//! title names the view, with `*` once the filter differs from what was saved.

use super::{QueueScreen, StatusFilter};
use crate::action::Action;
use crate::popups::views::{self as popup, ViewChoice, ViewRef};
use crate::screens::Ctx;
use crate::theme::{Role, Theme};
use ratatui::widgets::Cell;
use sealdesk_api::{AgentMarks, QueueQuery, QueueRow};
use sealdesk_model::{sanitize, AgentRole, SavedView, Status, ViewQuery};
use std::collections::HashSet;
use std::sync::Arc;

/// The view the queue shows and a view being renamed.
#[derive(Default)]
pub(crate) struct State {
    current: Option<Current>,
    renaming: Option<ViewRef>,
}

/// A saved view as it was when switched to.
struct Current {
    at: ViewRef,
    query: ViewQuery,
}

impl QueueScreen {
    /// "Queue", or "Queue: NAME" (with `*` when the filter was changed since).
    pub(super) fn title(&self) -> String {
        match &self.views.current {
            None => "Queue".into(),
            Some(v) => {
                let changed = if self.query.to_view() != v.query {
                    "*"
                } else {
                    ""
                };
                format!("Queue: {}{changed}", sanitize::line(&v.at.name))
            }
        }
    }

    /// Re-reads this agent's marks (from the desk's memory); true if they changed.
    pub(super) fn refresh_marks(&mut self, ctx: &Ctx) -> bool {
        let actor = &ctx.session.actor;
        let old = self.query.marks.clone();
        let drafts: HashSet<_> = match ctx.desk.tickets_with_drafts(actor) {
            Ok(d) => d.into_iter().collect(),
            Err(_) => old.as_ref().map(|m| m.drafts.clone()).unwrap_or_default(),
        };
        let seen = match ctx.desk.seen_counts(actor) {
            Ok(seen) => seen,
            Err(_) => old.as_ref().map(|m| m.seen.clone()).unwrap_or_default(),
        };
        if let Some(m) = &old {
            if Arc::ptr_eq(&m.seen, &seen) && m.drafts == drafts {
                return false;
            }
        }
        self.query.marks = Some(Arc::new(AgentMarks {
            agent: ctx.session.agent.name.clone(),
            seen,
            drafts,
        }));
        true
    }

    fn views(ctx: &Ctx) -> Result<Vec<SavedView>, Action> {
        ctx.desk
            .saved_views(&ctx.session.actor)
            .map_err(|e| Action::Error(e.to_string()))
    }

    /// Key `1`…`9`: the `nth` view (from 0).
    pub(super) fn switch_to_nth_view(&mut self, ctx: &Ctx, nth: usize) -> Option<Action> {
        let views = match Self::views(ctx) {
            Ok(v) => v,
            Err(said) => return Some(said),
        };
        match views.into_iter().nth(nth) {
            Some(view) => self.apply_view(ctx, view),
            None => Some(Action::Error(format!(
                "there is no saved view {}: V saves the current queue as one",
                nth + 1
            ))),
        }
    }

    /// Switches to the view called `name` (shared first, then the agent's own); for
    /// `ssh -t … queue NAME`.
    pub(crate) fn switch_to_view_named(&mut self, ctx: &Ctx, name: &str) -> Option<Action> {
        let views = match Self::views(ctx) {
            Ok(v) => v,
            Err(said) => return Some(said),
        };
        match views.into_iter().find(|v| v.name == name) {
            Some(view) => self.apply_view(ctx, view),
            None => Some(Action::Error(format!(
                "there is no saved view {:?}: here is the queue (V lists the views)",
                sanitize::line(name)
            ))),
        }
    }

    fn apply_view(&mut self, ctx: &Ctx, view: SavedView) -> Option<Action> {
        let marks = self.query.marks.take();
        self.query = QueueQuery::from_view(&view.query, &ctx.session.agent.name);
        self.query.marks = marks;
        self.status_filter = status_filter_of(&self.query.statuses);
        self.views.current = Some(Current {
            at: ViewRef {
                owner: view.owner.clone(),
                name: view.name.clone(),
            },
            query: view.query,
        });
        self.reload(ctx, false)
    }

    /// Key `V`: the view manager.
    pub(super) fn view_manager(&self, ctx: &Ctx) -> Action {
        match Self::views(ctx) {
            Ok(views) => popup::manager(&views, self.views.current.as_ref().map(|c| &c.at)),
            Err(said) => said,
        }
    }

    pub(super) fn view_choice(&mut self, ctx: &Ctx, choice: ViewChoice) -> Option<Action> {
        let actor = &ctx.session.actor;
        let me = ctx.session.agent.name.as_str();
        let admin = ctx.session.agent.role == AgentRole::Admin;
        let done = |what: &str, view: &SavedView| {
            Action::Info(format!("view {:?} {what}", sanitize::line(&view.name)))
        };
        match choice {
            ViewChoice::SaveAs => Some(popup::save_prompt(
                self.views
                    .current
                    .as_ref()
                    .map_or("", |c| c.at.name.as_str()),
            )),
            ViewChoice::Save(name) => {
                let name = name.trim().to_string();
                // Saving over the shared view on screen keeps it shared (admins).
                let owner = match &self.views.current {
                    Some(c) if c.at.name == name && c.at.owner.is_none() && admin => None,
                    _ => Some(me),
                };
                let query = self.query.to_view();
                match ctx.desk.save_view(actor, owner, &name, &query) {
                    Ok(view) => {
                        let said = done("saved", &view);
                        self.views.current = Some(Current {
                            at: ViewRef {
                                owner: view.owner.clone(),
                                name: view.name.clone(),
                            },
                            query,
                        });
                        Some(said)
                    }
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            ViewChoice::Actions(at) => Some(popup::actions(at, admin, me)),
            ViewChoice::Switch(at) => self.switch_to_view_named_at(ctx, &at),
            ViewChoice::Rename(at) => {
                let prompt = popup::rename_prompt(&at.name);
                self.views.renaming = Some(at);
                Some(prompt)
            }
            ViewChoice::Renamed(new) => {
                let at = self.views.renaming.take()?;
                match ctx
                    .desk
                    .rename_view(actor, at.owner.as_deref(), &at.name, new.trim())
                {
                    Ok(view) => {
                        self.follow(&at, &view);
                        Some(done("renamed", &view))
                    }
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            ViewChoice::Remove(at) => {
                match ctx.desk.remove_view(actor, at.owner.as_deref(), &at.name) {
                    Ok(view) => {
                        if self.views.current.as_ref().is_some_and(|c| c.at == at) {
                            self.views.current = None;
                        }
                        Some(done("deleted", &view))
                    }
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
            ViewChoice::Share(at, shared) => {
                match ctx
                    .desk
                    .set_view_shared(actor, at.owner.as_deref(), &at.name, shared)
                {
                    Ok(view) => {
                        self.follow(&at, &view);
                        Some(done(if shared { "shared" } else { "made yours" }, &view))
                    }
                    Err(e) => Some(Action::Error(e.to_string())),
                }
            }
        }
    }

    fn switch_to_view_named_at(&mut self, ctx: &Ctx, at: &ViewRef) -> Option<Action> {
        let views = match Self::views(ctx) {
            Ok(v) => v,
            Err(said) => return Some(said),
        };
        let found = views
            .into_iter()
            .find(|v| v.name == at.name && v.owner == at.owner)?;
        self.apply_view(ctx, found)
    }

    /// The view on screen was renamed or moved: the title follows.
    fn follow(&mut self, was: &ViewRef, now: &SavedView) {
        if let Some(c) = &mut self.views.current {
            if c.at == *was {
                c.at = ViewRef {
                    owner: now.owner.clone(),
                    name: now.name.clone(),
                };
            }
        }
    }
}

fn status_filter_of(statuses: &[Status]) -> StatusFilter {
    match statuses {
        [] => StatusFilter::NotClosed,
        [one] => StatusFilter::Only(*one),
        _ => StatusFilter::All,
    }
}

/// The markers cell of a row: `●` unread, `↩` customer replied, `✎` draft.
pub(super) fn markers_cell(
    row: &QueueRow,
    agent: Option<&AgentMarks>,
    theme: &Theme,
) -> Cell<'static> {
    let unread = agent.is_some_and(|a| a.unread(row));
    let replied = row.customer_replied();
    let draft = agent.is_some_and(|a| a.draft(row.ticket.number));
    let text: String = [(unread, '●'), (replied, '↩'), (draft, '✎')]
        .iter()
        .map(|&(on, c)| if on { c } else { ' ' })
        .collect();
    let role = if unread || replied {
        Role::Header
    } else {
        Role::MsgOutbound
    };
    Cell::from(text).style(theme.style(role))
}
