//! What the desk offers its front ends: the view and argument types its operations take
//! and return, [`DeskError`], and [`DeskPort`], the operations the terminal UI calls.
//! The desk (`sealdesk-desk`) implements the port and re-exports these types; the TUI
//! depends on this crate and the model only, so it cannot reach the store or sled.

mod bulk;
mod files;
mod links;
mod notify;
mod port;
mod privacy;
mod queue;
mod tickets;
mod views;

pub use bulk::{bulk_summary, tag_words, BulkChange, BulkOutcome};
pub use files::{path_safe_name, ticket_files, TicketFile};
pub use links::{link_words, links_line, reverse_link};
pub use notify::NotifySettings;
pub use port::DeskPort;
pub use privacy::{
    is_finished, urgency, AuditFilter, AuditPage, AuditReport, Authority, ConsentPage,
    ErasureCounts, Found, NewConsent, PurposeState, Refusal, RequestRow, Urgency,
};
pub use queue::{
    AgentMarks, AssigneeFilter, BodyHits, BodyProgress, MarkerFilter, Matcher, QueueQuery,
    QueueRow, QueueView, SharedRow, SortKey, TicketSet,
};
pub use tickets::{Activity, Filed, OutboxState, ThreadEntry, ThreadMessage, Viewer};

use sealdesk_model::TicketNo;

/// Largest draft the desk keeps, in bytes of UTF-8: more than the TUI's editor holds.
pub const DRAFT_BYTES_MAX: usize = 2 * 1024 * 1024;

/// What changed, announced to every open session so screens refresh without a keypress.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// A ticket was created or changed (status, thread, anything).
    Ticket(TicketNo),
    /// Agents were added, removed or changed.
    Agents,
    /// Who is viewing or replying on a ticket changed.
    Presence(TicketNo),
    /// This agent's notification list changed (Part 10).
    Notified(String),
}

/// Who is acting, and from where: goes into every audit event. What they may do is
/// looked up by the desk at the moment of each operation (see `Desk::require_admin`),
/// never carried here, so a role change takes effect in open sessions at once.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Agent name, `cli:<user>` for the admin CLI, `system` for the desk itself.
    pub name: String,
    pub key_fingerprint: Option<String>,
    pub source: String,
    pub kind: ActorKind,
}

/// What kind of actor: decides where the desk looks up their rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// An agent logged in over SSH: rights are the agent record's current role.
    Agent,
    /// Someone at the server's shell who can read the keys dir: an admin by access.
    LocalAdmin,
    /// The desk itself (arriving mail, housekeeping).
    System,
}

impl Actor {
    /// The local admin running the CLI: whoever can read the keys dir holds every key,
    /// so the desk treats them as an admin, and the audit log says so.
    pub fn local_admin() -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor {
            name: format!("cli:{}", sealdesk_model::sanitize::line(&user)),
            key_fingerprint: None,
            source: format!(
                "local pid {} (admin: OS user with the keys dir)",
                std::process::id()
            ),
            kind: ActorKind::LocalAdmin,
        }
    }

    /// An agent, by name (their role is looked up when they act).
    pub fn agent(name: &str, key_fingerprint: Option<String>, source: &str) -> Actor {
        Actor {
            name: name.to_string(),
            key_fingerprint,
            source: source.to_string(),
            kind: ActorKind::Agent,
        }
    }

    /// The desk itself, e.g. for arriving mail (`source`: where it came from).
    pub fn system(source: &str) -> Actor {
        Actor {
            name: "system".into(),
            key_fingerprint: None,
            source: sealdesk_model::sanitize::line(source).into_owned(),
            kind: ActorKind::System,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The store failed; its message, unchanged (`From<StoreError>` is in the store crate).
    #[error(transparent)]
    Store(StoreFailure),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The actor's current role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// A word, id or ticket number typed by the actor did not parse.
    #[error(transparent)]
    Parse(#[from] sealdesk_model::ParseError),
    /// A unit of work needs a lock it did not take; it is run again with it (never
    /// leaves `Desk::write`).
    #[error("internal: a unit of work needs more locks")]
    NeedsLocks,
}

pub type Result<T, E = DeskError> = std::result::Result<T, E>;

/// A store error, opaque to the front ends: its text is the store error's text, its
/// source the store error's source. The desk looks inside with [`StoreFailure::downcast_ref`].
#[derive(Debug)]
pub struct StoreFailure(Box<dyn std::error::Error + Send + Sync>);

impl StoreFailure {
    /// Wraps a store error (the store crate's `From<StoreError> for DeskError` does).
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> StoreFailure {
        StoreFailure(Box::new(error))
    }

    /// The store error inside, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }
}

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StoreFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
