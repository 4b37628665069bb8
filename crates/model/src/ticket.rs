use super::{CustomerId, Personal, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};

/// A conversation with one customer. The subject is the customer's personal data; the
/// rest is workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNo,
    pub subject: Personal,
    pub status: Status,
    pub priority: Priority,
    /// Agent name.
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub customer: CustomerId,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub due: Option<Timestamp>,
    /// The support address the customer wrote to (normalised), if it is one of
    /// `mail.addresses`; replies go out from it. None: the default, `mail.from`.
    pub address: Option<String>,
    /// The others in the conversation besides `customer` (people in Cc, a colleague who
    /// wrote in), each a customer record with their own key. Replies Cc them.
    pub participants: Vec<CustomerId>,
    // Part 10 (stored records grow only at the end; see the store's `upgrade`):
    /// Links to other tickets, kept on both ends (related, duplicate).
    pub links: Vec<TicketLink>,
    /// Snoozed: pending until then, when it wakes by itself (a customer reply wakes it
    /// earlier). None: not snoozed.
    pub snoozed_until: Option<Timestamp>,
    /// `due` was set by an agent: it stays until they clear it, whatever the SLA says.
    pub due_by_hand: bool,
    /// What the SLA targets start and stop on (see `sla::SlaClock`).
    pub sla: crate::SlaClock,
}

/// One end of a link between two tickets; the other ticket holds the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLink {
    pub kind: LinkKind,
    pub other: TicketNo,
}

word_enum!(
    /// How two tickets are linked, seen from the ticket holding the link: `duplicate-of`
    /// on the duplicate, `duplicated-by` on the one it duplicates.
    LinkKind { Related => "related", DuplicateOf => "duplicate-of", DuplicatedBy => "duplicated-by" }
);

word_enum!(
    /// Where a ticket is in its life.
    Status { New => "new", Open => "open", Pending => "pending", Solved => "solved", Closed => "closed" }
);
word_enum!(Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });

impl Ticket {
    /// A new ticket as it starts: new, normal priority, nobody's, no tags, no due date.
    pub fn new(number: TicketNo, subject: String, customer: CustomerId, now: Timestamp) -> Ticket {
        Ticket {
            number,
            subject: Personal::Text(subject),
            status: Status::New,
            priority: Priority::Normal,
            assignee: None,
            tags: Vec::new(),
            customer,
            created: now,
            updated: now,
            due: None,
            address: None,
            participants: Vec::new(),
            links: Vec::new(),
            snoozed_until: None,
            due_by_hand: false,
            sla: crate::SlaClock::start(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_and_print() {
        assert_eq!("Pending".parse::<Status>().unwrap(), Status::Pending);
        assert_eq!(Priority::Urgent.to_string(), "urgent");
        let err = "later".parse::<Status>().unwrap_err();
        assert!(
            err.to_string()
                .contains("new, open, pending, solved, closed"),
            "{err}"
        );
    }
}
