//! Saved views (Part 10) as the queue uses them: a [`QueueQuery`] to and from the
//! stored [`ViewQuery`].

use crate::queue::{AssigneeFilter, MarkerFilter, QueueQuery, SortKey};
use sealdesk_model::{ViewAssignee, ViewMarker, ViewQuery, ViewSort};

impl QueueQuery {
    /// The filter, sort and search to save in a view ("mine" stays "mine": whoever
    /// uses the view sees their own tickets).
    pub fn to_view(&self) -> ViewQuery {
        ViewQuery {
            statuses: self.statuses.clone(),
            assignee: match self.assignee {
                AssigneeFilter::Anyone => ViewAssignee::Anyone,
                AssigneeFilter::Agent => ViewAssignee::Mine,
                AssigneeFilter::Unassigned => ViewAssignee::Unassigned,
            },
            tag: self.tag.clone(),
            text: self.text.clone(),
            sort: match self.sort {
                SortKey::Updated => ViewSort::Updated,
                SortKey::Number => ViewSort::Number,
                SortKey::Priority => ViewSort::Priority,
                SortKey::Due => ViewSort::Due,
            },
            marker: match self.marker {
                MarkerFilter::All => ViewMarker::All,
                MarkerFilter::Unread => ViewMarker::Unread,
                MarkerFilter::CustomerReplied => ViewMarker::Replied,
                MarkerFilter::MyDrafts => ViewMarker::Drafts,
            },
        }
    }

    /// The query a saved view stands for, for `agent` (the "mine" of the view). The
    /// marks are the session's to add.
    pub fn from_view(view: &ViewQuery, agent: &str) -> QueueQuery {
        QueueQuery {
            statuses: view.statuses.clone(),
            assignee: match view.assignee {
                ViewAssignee::Anyone => AssigneeFilter::Anyone,
                ViewAssignee::Mine => AssigneeFilter::Agent,
                ViewAssignee::Unassigned => AssigneeFilter::Unassigned,
            },
            agent: Some(agent.to_string()),
            tag: view.tag.clone(),
            text: view.text.clone(),
            sort: match view.sort {
                ViewSort::Updated => SortKey::Updated,
                ViewSort::Number => SortKey::Number,
                ViewSort::Priority => SortKey::Priority,
                ViewSort::Due => SortKey::Due,
            },
            marker: match view.marker {
                ViewMarker::All => MarkerFilter::All,
                ViewMarker::Unread => MarkerFilter::Unread,
                ViewMarker::Replied => MarkerFilter::CustomerReplied,
                ViewMarker::Drafts => MarkerFilter::MyDrafts,
            },
            marks: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::Status;

    #[test]
    fn a_query_survives_the_trip_through_a_view() {
        let q = QueueQuery {
            statuses: vec![Status::Pending],
            assignee: AssigneeFilter::Agent,
            agent: Some("alice".into()),
            tag: Some("billing".into()),
            text: "invoice".into(),
            sort: SortKey::Priority,
            marker: MarkerFilter::CustomerReplied,
            marks: None,
        };
        let back = QueueQuery::from_view(&q.to_view(), "alice");
        assert_eq!(back.to_view(), q.to_view());
        assert_eq!(back.agent.as_deref(), Some("alice"));
        let bob = QueueQuery::from_view(&q.to_view(), "bob");
        assert_eq!(bob.agent.as_deref(), Some("bob"), "mine is the viewer's");
    }
}
