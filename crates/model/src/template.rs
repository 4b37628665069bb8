//! Saved replies, macros and the placeholders their text may hold.
//!
//! [`fill`] is the one place placeholders are replaced: saved replies and macros use it,
//! and signatures can too. The values come from the desk ([`Placeholders`]); this module
//! only knows how to put them into text.

use super::{Priority, Status, Timestamp};
use serde::{Deserialize, Serialize};

/// What the placeholders of a saved reply (or a signature) stand for on one ticket.
/// Fields are plain text; an unknown or erased value is empty (an erased customer's
/// name fills as nothing, never as what it was).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// `{customer.name}`: the requester's display name.
    pub customer_name: String,
    /// `{customer.email}`: the requester's primary address.
    pub customer_email: String,
    /// `{ticket}`: the ticket number as agents see it, e.g. `#12`.
    pub ticket: String,
    /// `{agent}`: the name of the agent writing.
    pub agent: String,
    /// `{address.name}`: the display name of the support address the reply goes from.
    pub address_name: String,
    /// `{address.email}`: that support address.
    pub address_email: String,
}

/// Every placeholder [`fill`] knows, as written in text.
pub const PLACEHOLDER_NAMES: [&str; 6] = [
    "{customer.name}",
    "{customer.email}",
    "{ticket}",
    "{agent}",
    "{address.name}",
    "{address.email}",
];

impl Placeholders {
    fn value(&self, name: &str) -> Option<&str> {
        Some(match name {
            "customer.name" => &self.customer_name,
            "customer.email" => &self.customer_email,
            "ticket" => &self.ticket,
            "agent" => &self.agent,
            "address.name" => &self.address_name,
            "address.email" => &self.address_email,
            _ => return None,
        })
    }
}

/// Replaces the placeholders of [`PLACEHOLDER_NAMES`] in `text` with `values`. A `{…}`
/// that is not one of them is left as written (a brace in prose stays a brace); `{{`
/// writes a literal `{`, so `{{ticket}` gives `{ticket}`. Values are inserted as one
/// line each, stripped of control characters (a customer's name came from their mail).
pub fn fill(text: &str, values: &Placeholders) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if let Some(tail) = after.strip_prefix('{') {
            out.push('{');
            rest = tail;
            continue;
        }
        let known = after
            .find('}')
            .and_then(|close| Some((close, values.value(&after[..close])?)));
        match known {
            Some((close, value)) => {
                out.push_str(&crate::sanitize::line(value));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Who may use a saved reply or a macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visibility {
    /// Every agent (managed by admins).
    Shared,
    /// Only the agent who made it (who manages it).
    Personal,
}

/// A saved reply: a named text with placeholders, inserted into a reply or note.
/// Holds no customer data, so it is sealed with the master key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTemplate {
    /// Unique among the templates an agent sees (see `is_valid_template_name`).
    pub name: String,
    pub text: String,
    pub visibility: Visibility,
    /// The agent (or `cli:…` admin) who made it.
    pub created_by: String,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A change to tags that a macro makes: `+tag` adds, `-tag` removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagChange {
    Add(String),
    Remove(String),
}

impl TagChange {
    /// The tags that `changes` add (to check them before anything changes).
    pub fn added(changes: &[TagChange]) -> Vec<String> {
        changes
            .iter()
            .filter_map(|c| match c {
                TagChange::Add(t) => Some(t.clone()),
                TagChange::Remove(_) => None,
            })
            .collect()
    }

    /// `+billing` or `-billing` (a bare word adds).
    pub fn parse(word: &str) -> Option<TagChange> {
        let word = word.trim();
        let (add, tag) = match word.strip_prefix('-') {
            Some(tag) => (false, tag),
            None => (true, word.strip_prefix('+').unwrap_or(word)),
        };
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            return None;
        }
        Some(if add {
            TagChange::Add(tag)
        } else {
            TagChange::Remove(tag)
        })
    }

    /// Applies the change to a ticket's tags.
    pub fn apply(&self, tags: &mut Vec<String>) {
        match self {
            TagChange::Add(tag) if !tags.contains(tag) => tags.push(tag.clone()),
            TagChange::Add(_) => {}
            TagChange::Remove(tag) => tags.retain(|t| t != tag),
        }
    }
}

impl std::fmt::Display for TagChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagChange::Add(tag) => write!(f, "+{tag}"),
            TagChange::Remove(tag) => write!(f, "-{tag}"),
        }
    }
}

/// What a macro does to a ticket's assignee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssigneeChange {
    /// The agent applying the macro.
    Me,
    Agent(String),
    Nobody,
}

/// A macro: an optional reply (text with placeholders) and workflow changes, applied to
/// one ticket or several at once. Stored like a [`ReplyTemplate`] (master key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Macro {
    pub name: String,
    /// The reply it sends, filled per ticket; `None` sends nothing.
    pub reply: Option<String>,
    pub status: Option<Status>,
    pub tags: Vec<TagChange>,
    pub assignee: Option<AssigneeChange>,
    pub priority: Option<Priority>,
    pub visibility: Visibility,
    pub created_by: String,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Macro {
    /// One line saying what it does, e.g. `reply, status=solved, +billing, assignee=me`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.reply.is_some() {
            parts.push("reply".to_string());
        }
        if let Some(status) = self.status {
            parts.push(format!("status={status}"));
        }
        parts.extend(self.tags.iter().map(ToString::to_string));
        match &self.assignee {
            Some(AssigneeChange::Me) => parts.push("assignee=me".into()),
            Some(AssigneeChange::Agent(name)) => parts.push(format!("assignee={name}")),
            Some(AssigneeChange::Nobody) => parts.push("assignee=none".into()),
            None => {}
        }
        if let Some(priority) = self.priority {
            parts.push(format!("priority={priority}"));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Names of saved replies and macros: 1-64 characters, letters, digits, `-`, `_`, `.`
/// and spaces inside, so they are easy to type on the command line and in a filter.
pub fn is_valid_template_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=64).contains(&n)
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values() -> Placeholders {
        Placeholders {
            customer_name: "Ada Lovelace".into(),
            customer_email: "ada@example.com".into(),
            ticket: "#12".into(),
            agent: "alice".into(),
            address_name: "Example Support".into(),
            address_email: "support@example.com".into(),
        }
    }

    #[test]
    fn fills_every_placeholder() {
        let text = "Dear {customer.name} <{customer.email}>, re {ticket}: {agent}, {address.name} <{address.email}>";
        assert_eq!(
            fill(text, &values()),
            "Dear Ada Lovelace <ada@example.com>, re #12: alice, Example Support <support@example.com>"
        );
        for name in PLACEHOLDER_NAMES {
            assert!(!fill(name, &values()).contains('{'), "{name} is filled");
        }
    }

    #[test]
    fn unknown_placeholders_and_lone_braces_stay_and_double_braces_escape() {
        let v = values();
        assert_eq!(fill("{customer.phone} {x", &v), "{customer.phone} {x");
        assert_eq!(fill("a } b {", &v), "a } b {");
        assert_eq!(fill("{{ticket}", &v), "{ticket}");
        assert_eq!(fill("{{{ticket}", &v), "{#12");
        assert_eq!(fill("{{}", &v), "{}");
        assert_eq!(fill("{ {ticket}", &v), "{ #12");
        assert_eq!(fill("", &v), "");
    }

    #[test]
    fn an_erased_name_fills_as_nothing_and_values_cannot_carry_controls() {
        let erased = Placeholders {
            customer_name: String::new(),
            ..values()
        };
        assert_eq!(fill("Dear {customer.name},", &erased), "Dear ,");
        let hostile = Placeholders {
            customer_name: "Eve\u{1b}[2J\nBcc: x".into(),
            ..values()
        };
        let filled = fill("{customer.name}", &hostile);
        assert!(
            !filled.contains('\u{1b}') && !filled.contains('\n'),
            "{filled:?}"
        );
    }

    #[test]
    fn tag_changes_parse_and_apply() {
        assert_eq!(
            TagChange::parse("+Billing"),
            Some(TagChange::Add("billing".into()))
        );
        assert_eq!(TagChange::parse("vip"), Some(TagChange::Add("vip".into())));
        assert_eq!(
            TagChange::parse("-vip"),
            Some(TagChange::Remove("vip".into()))
        );
        assert_eq!(TagChange::parse("-"), None);
        let mut tags = vec!["vip".to_string()];
        TagChange::Add("billing".into()).apply(&mut tags);
        TagChange::Add("billing".into()).apply(&mut tags);
        TagChange::Remove("vip".into()).apply(&mut tags);
        assert_eq!(tags, ["billing"]);
    }

    #[test]
    fn names() {
        assert!(is_valid_template_name("refund-policy"));
        assert!(is_valid_template_name("Refund policy 2"));
        for bad in ["", " x", "x ", "a/b", "a\u{1b}b", &"x".repeat(65)] {
            assert!(!is_valid_template_name(bad), "{bad:?}");
        }
    }

    proptest! {
        /// Text without braces comes back as it was; any text fills without panicking,
        /// and a filled text holds no placeholder unless the template escaped it.
        #[test]
        fn fill_is_total(text in "\\PC{0,80}") {
            let filled = fill(&text, &values());
            if !text.contains('{') {
                prop_assert_eq!(&filled, &text);
            }
            if !text.contains("{{") {
                for name in PLACEHOLDER_NAMES {
                    prop_assert!(!filled.contains(name));
                }
            }
        }
    }
}
