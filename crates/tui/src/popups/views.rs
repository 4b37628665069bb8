//! The saved-views manager (queue key `V`, Part 10): a picker of "save the current
//! queue as…" and every view, each leading to what may be done with it. It only
//! answers [`ViewChoice`]s; the queue screen calls the desk.

use super::{Confirm, Picker, Popup, Prompt};
use crate::action::{Action, Choice};
use sealdesk_model::{sanitize, SavedView};

/// A view: shared (`owner` None) or an agent's own, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ViewRef {
    pub owner: Option<String>,
    pub name: String,
}

/// What the agent chose in the view manager.
pub(crate) enum ViewChoice {
    /// Ask for the name to save the current queue under.
    SaveAs,
    /// Save the current queue as the agent's view of this name.
    Save(String),
    /// Show what can be done with this view.
    Actions(ViewRef),
    Switch(ViewRef),
    /// Ask for the new name.
    Rename(ViewRef),
    /// The new name of the view being renamed.
    Renamed(String),
    /// Confirmed: delete it.
    Remove(ViewRef),
    /// Make it shared (true) or the admin's own (false).
    Share(ViewRef, bool),
}

impl Choice {
    /// A view manager's answer, for the queue.
    pub(crate) fn view(choice: ViewChoice) -> Action {
        Action::Choice(Choice::View(choice))
    }
}

fn label(nth: usize, view: &SavedView) -> String {
    let key = if nth < 9 {
        format!("{} ", nth + 1)
    } else {
        "  ".into()
    };
    let whose = if view.is_shared() { " (shared)" } else { "" };
    format!("{key}{}{whose}", sanitize::line(&view.name))
}

/// The manager: save the current queue, or pick a view (keys 1…9 in this order).
pub(crate) fn manager(views: &[SavedView], current: Option<&ViewRef>) -> Action {
    let mut items = vec![(
        "save the current queue as…".to_string(),
        Choice::view(ViewChoice::SaveAs),
    )];
    let mut selected = 0;
    for (i, view) in views.iter().enumerate() {
        let at = ViewRef {
            owner: view.owner.clone(),
            name: view.name.clone(),
        };
        if current == Some(&at) {
            selected = i + 1;
        }
        items.push((label(i, view), Choice::view(ViewChoice::Actions(at))));
    }
    Action::popup(Popup::Picker(Picker::new("Saved views", items, selected)))
}

/// What may be done with one view: agents manage their own, admins every one.
pub(crate) fn actions(at: ViewRef, admin: bool, me: &str) -> Action {
    let mine = at.owner.as_deref() == Some(me);
    let mut items = vec![(
        "switch to it".to_string(),
        Choice::view(ViewChoice::Switch(at.clone())),
    )];
    if mine || admin {
        items.push((
            "rename…".into(),
            Choice::view(ViewChoice::Rename(at.clone())),
        ));
        let question = format!("Delete the view {:?}?", sanitize::line(&at.name));
        let confirm = Confirm::new(question, Choice::view(ViewChoice::Remove(at.clone())));
        items.push(("delete…".into(), Action::popup(Popup::Confirm(confirm))));
    }
    if admin {
        let (text, shared) = match at.owner {
            None => ("make it yours (not shared)", false),
            Some(_) => ("share it with every agent", true),
        };
        items.push((
            text.into(),
            Choice::view(ViewChoice::Share(at.clone(), shared)),
        ));
    }
    let title = format!("View {}", sanitize::line(&at.name));
    Action::popup(Popup::Picker(Picker::new(title, items, 0)))
}

pub(crate) fn save_prompt(current: &str) -> Action {
    let prompt = Prompt::new("Save the current queue as (a name)", current, |name| {
        Choice::view(ViewChoice::Save(name))
    })
    .with_detail("The filter, sort and search as they are now; the same name replaces it.");
    Action::popup(Popup::Prompt(prompt))
}

pub(crate) fn rename_prompt(current: &str) -> Action {
    let prompt = Prompt::new("New name of the view", current, |name| {
        Choice::view(ViewChoice::Renamed(name))
    });
    Action::popup(Popup::Prompt(prompt))
}
