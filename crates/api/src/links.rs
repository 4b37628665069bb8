//! Links between tickets as the front ends show them: "related #7 · duplicate of #3".

use sealdesk_model::{LinkKind, TicketLink};

/// The kind the other ticket holds for a link of `kind` held here.
pub fn reverse_link(kind: LinkKind) -> LinkKind {
    match kind {
        LinkKind::Related => LinkKind::Related,
        LinkKind::DuplicateOf => LinkKind::DuplicatedBy,
        LinkKind::DuplicatedBy => LinkKind::DuplicateOf,
    }
}

/// One link in words: "related #7", "duplicate of #3", "duplicated by #5".
pub fn link_words(link: &TicketLink) -> String {
    let kind = match link.kind {
        LinkKind::Related => "related",
        LinkKind::DuplicateOf => "duplicate of",
        LinkKind::DuplicatedBy => "duplicated by",
    };
    format!("{kind} {}", link.other)
}

/// A ticket's links in one line, " · " between them (empty when it has none).
pub fn links_line(links: &[TicketLink]) -> String {
    links.iter().map(link_words).collect::<Vec<_>>().join(" · ")
}
