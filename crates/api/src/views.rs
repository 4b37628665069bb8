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
            bodies: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::Status;

    #[test]
    fn marker_filters_test_the_row_and_the_agents_marks() {
        use crate::queue::{AgentMarks, QueueRow};
        use sealdesk_model::{ActivityKind, CustomerId, Ticket, TicketNo, Timestamp};
        use std::sync::Arc;
        let mut ticket = Ticket::new(
            TicketNo(1),
            "Printer".into(),
            CustomerId([0; 16]),
            Timestamp(1),
        );
        ticket.status = Status::Open;
        let mut activity = sealdesk_model::TicketActivity::default();
        activity.bump("system", &[ActivityKind::Inbound], Timestamp(1));
        activity.bump("alice", &[ActivityKind::Reply], Timestamp(2));
        activity.bump("system", &[ActivityKind::Inbound], Timestamp(3));
        let row = QueueRow::new(ticket, None).with_activity(activity);
        let marks = |seen: u64, draft: bool| {
            Some(Arc::new(AgentMarks {
                agent: "alice".into(),
                seen: Arc::new([(TicketNo(1), seen)].into_iter().collect()),
                drafts: if draft {
                    [TicketNo(1)].into_iter().collect()
                } else {
                    Default::default()
                },
            }))
        };
        let q = |marker, marks| QueueQuery {
            marker,
            marks,
            ..Default::default()
        };
        let hit = |q: &QueueQuery| q.matcher().matches(&row);
        assert!(hit(&q(MarkerFilter::Unread, marks(2, false))));
        assert!(
            !hit(&q(MarkerFilter::Unread, marks(3, false))),
            "seen it all"
        );
        assert!(
            !hit(&q(MarkerFilter::Unread, None)),
            "no marks: nobody to be unread for"
        );
        assert!(hit(&q(MarkerFilter::CustomerReplied, None)));
        assert!(hit(&q(MarkerFilter::MyDrafts, marks(3, true))));
        assert!(!hit(&q(MarkerFilter::MyDrafts, marks(3, false))));
        // Typing on narrows while the marks stay; new marks re-run the query.
        let m = marks(2, false);
        let before = q(MarkerFilter::Unread, m.clone());
        let mut after = q(MarkerFilter::Unread, m);
        after.text = "pr".into();
        assert!(after.narrows(&before));
        after.marks = marks(2, false);
        assert!(!after.narrows(&before));
    }

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
            bodies: None,
        };
        let back = QueueQuery::from_view(&q.to_view(), "alice");
        assert_eq!(back.to_view(), q.to_view());
        assert_eq!(back.agent.as_deref(), Some("alice"));
        let bob = QueueQuery::from_view(&q.to_view(), "bob");
        assert_eq!(bob.agent.as_deref(), Some("bob"), "mine is the viewer's");
    }
}
