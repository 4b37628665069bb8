//! What the queue shows of body search: the line of a message that matched, beside the
//! rows in view (read from the desk for those rows only, and kept until the search text
//! changes), and the body index's progress while it is being built.

use super::Ctx;
use sealdesk_api::{QueueQuery, SharedRow};
use sealdesk_model::TicketNo;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct BodyLines {
    /// The search text the lines below are for.
    text: String,
    /// Per ticket asked: the matching line, or `None` when its bodies did not match.
    lines: HashMap<TicketNo, Option<String>>,
    /// "indexing bodies 45%" while the desk builds its index.
    progress: Option<String>,
}

impl BodyLines {
    /// Fetches the lines of the `visible` rows not asked for yet (only those whose
    /// bodies matched a word of the query).
    pub(crate) fn fetch(&mut self, ctx: &Ctx, query: &QueueQuery, visible: &[SharedRow]) {
        if self.text != query.text {
            self.text.clone_from(&query.text);
            self.lines.clear();
        }
        let Some(hits) = query.bodies.as_deref().filter(|b| b.text() == query.text) else {
            return;
        };
        let wanted: Vec<TicketNo> = visible
            .iter()
            .map(|r| r.ticket.number)
            .filter(|n| !self.lines.contains_key(n))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let matched: Vec<TicketNo> = wanted.iter().copied().filter(|&n| hits.any(n)).collect();
        let found: HashMap<TicketNo, String> = match matched.is_empty() {
            true => HashMap::new(),
            false => ctx
                .desk
                .body_lines(&matched, &query.text)
                .into_iter()
                .collect(),
        };
        for n in wanted {
            self.lines.insert(n, found.get(&n).cloned());
        }
    }

    /// The matching line of ticket `number`, if fetched and there is one.
    pub(crate) fn line(&self, number: TicketNo) -> Option<&str> {
        self.lines.get(&number).and_then(|l| l.as_deref())
    }

    /// A ticket changed: its line is read again when next in view.
    pub(crate) fn forget(&mut self, number: TicketNo) {
        self.lines.remove(&number);
    }

    /// Reads the build progress; true when the build has just finished (the queue
    /// then searches again, now over every body).
    pub(crate) fn poll_progress(&mut self, ctx: &Ctx) -> bool {
        let was_building = self.progress.is_some();
        self.progress = ctx.desk.body_progress().label();
        was_building && self.progress.is_none()
    }

    pub(crate) fn progress(&self) -> Option<&str> {
        self.progress.as_deref()
    }
}
