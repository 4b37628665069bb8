//! Operations on the desk: what agents, admins and arriving mail can do. Adapters (CLI,
//! SSH, mail) call these; these call the store. Every action is audited here, once.

mod agents;
mod audit;
mod customers;
mod tickets;

pub use agents::fingerprint;
pub use audit::AuditReport;
pub use tickets::{NewTicket, ThreadEntry, TicketFilter};

use crate::config::Config;
use crate::model::{AuditEvent, Catalogue, CustomerId, EventHash, Timestamp};
use crate::store::{Store, StoreError};

/// Who is acting, and from where: goes into every audit event.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Agent name, or `cli:<user>` for the admin CLI.
    pub name: String,
    pub key_fingerprint: Option<String>,
    pub source: String,
}

impl Actor {
    /// The local admin running the CLI.
    pub fn local_admin() -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor {
            name: format!("cli:{}", crate::sanitize::line(&user)),
            key_fingerprint: None,
            source: format!("local pid {}", std::process::id()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = DeskError> = std::result::Result<T, E>;

pub struct Desk {
    store: Store,
    config: Config,
    catalogue: Catalogue,
}

impl Desk {
    pub fn new(store: Store, config: Config) -> Desk {
        let catalogue = config.catalogue();
        Desk {
            store,
            config,
            catalogue,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Appends one audit event; `customer` is turned into its pseudonym.
    fn audit(
        &self,
        actor: &Actor,
        action: &str,
        targets: Vec<String>,
        customer: Option<&CustomerId>,
    ) -> Result<()> {
        self.store.append_audit(AuditEvent {
            seq: 0,
            at: Timestamp::now(),
            actor: actor.name.clone(),
            key_fingerprint: actor.key_fingerprint.clone(),
            source: actor.source.clone(),
            action: action.into(),
            targets,
            customer: customer.map(|c| self.store.pseudonym(c)),
            prev_hash: EventHash::GENESIS,
        })?;
        Ok(())
    }
}
