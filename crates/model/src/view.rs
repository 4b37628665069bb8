//! Saved queue views (Part 10): a name and the queue's filter, sort and search.
//!
//! This is the stored shape, apart from the queue's query type (`sealdesk_api::
//! QueueQuery`), which other parts grow: a stored struct only grows at the end with
//! fields that decode from zeros, and the query converts to and from it.

use super::{Status, Timestamp};
use serde::{Deserialize, Serialize};

word_enum! {
    /// Whose tickets a view shows.
    ViewAssignee { Anyone => "anyone", Mine => "mine", Unassigned => "unassigned" }
}

word_enum! {
    /// The order a view lists tickets in.
    ViewSort { Updated => "updated", Number => "number", Priority => "priority", Due => "due" }
}

word_enum! {
    /// The markers a view keeps to.
    ViewMarker { All => "all", Unread => "unread", Replied => "replied", Drafts => "drafts" }
}

/// A view's filter, sort and search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewQuery {
    /// Empty: every status but closed.
    pub statuses: Vec<Status>,
    pub assignee: ViewAssignee,
    pub tag: Option<String>,
    pub text: String,
    pub sort: ViewSort,
    pub marker: ViewMarker,
}

impl Default for ViewQuery {
    fn default() -> Self {
        ViewQuery {
            statuses: Vec::new(),
            assignee: ViewAssignee::Anyone,
            tag: None,
            text: String::new(),
            sort: ViewSort::Updated,
            marker: ViewMarker::All,
        }
    }
}

/// A saved view: shared (every agent sees it; admins manage it) or one agent's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    /// `None`: shared.
    pub owner: Option<String>,
    pub query: ViewQuery,
    pub created_by: String,
    pub updated: Timestamp,
}

impl SavedView {
    pub fn is_shared(&self) -> bool {
        self.owner.is_none()
    }
}

/// A view name: 1–40 characters, no control characters, not only spaces.
pub fn is_valid_view_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=40).contains(&n)
        && !name.trim().is_empty()
        && !name
            .chars()
            .any(|c| c.is_control() || crate::sanitize::is_unsafe(c))
}
