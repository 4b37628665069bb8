//! Operations on the desk: what agents, admins and arriving mail can do. Adapters (CLI,
//! SSH, mail) call these; these call the store. Every action is audited here, once.

mod agents;
mod audit;
mod consent;
mod customers;
mod erasure;
mod export;
mod inbound;
mod outbox;
mod presence;
mod privacy_views;
mod queue;
mod requests;
mod retention;
mod sessions;
mod tickets;
mod triage;
mod views;

pub use agents::{fingerprint, AgentChanges, AgentUpdate, SecondFactor};
pub use audit::AuditReport;
pub use consent::{NewConsent, PurposeState};
pub use export::{ExportFile, EXPORT_SCHEMA_VERSION};
pub use inbound::{Filed, Incoming};
pub use outbox::OutgoingReply;
pub use presence::{Activity, Viewer};
pub use privacy_views::{AuditFilter, AuditPage, ConsentPage, Found, RequestRow};
pub use queue::{AssigneeFilter, QueueQuery, QueueRow, QueueView, SharedRow, SortKey};
pub use requests::{is_finished, request_json, urgency, Urgency};
pub use retention::RetentionReport;
pub use sessions::{CodeCheck, LoginRefusal};
pub use tickets::{NewTicket, ThreadEntry, TicketFilter};

use crate::config::Config;
use crate::model::{AuditEvent, Catalogue, CustomerId, EventHash, TicketNo, Timestamp};
use crate::store::{Store, StoreError};
use parking_lot::{Mutex, RwLock};
use queue::QueueIndex;
use tokio::sync::broadcast;

/// What changed, announced to every open session so screens refresh without a keypress.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// A ticket was created or changed (status, thread, anything).
    Ticket(TicketNo),
    /// Agents were added, removed or changed.
    Agents,
    /// Who is viewing or replying on a ticket changed.
    Presence(TicketNo),
}

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
    /// Replaced whole by `config set` while serving.
    config: RwLock<Config>,
    /// Where `config set` writes.
    config_path: std::path::PathBuf,
    catalogue: RwLock<Catalogue>,
    /// Built on first use: the CLI rarely needs it, the TUI always.
    queue: RwLock<Option<QueueIndex>>,
    changes: broadcast::Sender<Change>,
    presence: Mutex<presence::Presence>,
    senders: Mutex<inbound::SenderLimiter>,
    /// The last TOTP step each agent logged in with: a code is good once.
    used_code_steps: Mutex<sessions::UsedCodeSteps>,
    /// Goes up whenever a privacy request is stored, so screens showing request
    /// markers re-read them only when there is something new.
    request_generation: std::sync::atomic::AtomicU64,
}

impl Desk {
    pub fn new(store: Store, config: Config) -> Desk {
        let catalogue = config.catalogue();
        let (changes, _) = broadcast::channel(1024);
        Desk {
            config_path: Config::default_path(&store.paths().data),
            store,
            config: RwLock::new(config),
            catalogue: RwLock::new(catalogue),
            queue: RwLock::new(None),
            changes,
            presence: Mutex::new(presence::Presence::default()),
            senders: Mutex::new(inbound::SenderLimiter::default()),
            used_code_steps: Mutex::new(sessions::UsedCodeSteps::default()),
            request_generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Subscribes to changes; a session that falls behind just reloads everything.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn announce(&self, change: Change) {
        // No receivers (the CLI) is fine.
        let _ = self.changes.send(change);
    }

    /// How many times privacy requests were stored through this desk: unchanged means
    /// request markers read before are still current.
    pub fn request_generation(&self) -> u64 {
        self.request_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    fn requests_changed(&self) {
        self.request_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The queue, filtered and sorted as asked.
    pub fn queue(&self, query: &QueueQuery) -> Result<Vec<SharedRow>> {
        self.ensure_queue_index()?;
        let guard = self.queue.read();
        Ok(guard
            .as_ref()
            .map(|idx| idx.query(query))
            .unwrap_or_default())
    }

    /// The queue row of one ticket, if it exists.
    pub fn queue_row(&self, number: TicketNo) -> Result<Option<SharedRow>> {
        self.ensure_queue_index()?;
        let guard = self.queue.read();
        Ok(guard.as_ref().and_then(|idx| idx.get(number).cloned()))
    }

    /// The highest ticket number there is (0 on an empty desk).
    pub fn newest_ticket(&self) -> Result<TicketNo> {
        self.ensure_queue_index()?;
        let guard = self.queue.read();
        Ok(guard
            .as_ref()
            .and_then(QueueIndex::newest)
            .unwrap_or(TicketNo(0)))
    }

    fn ensure_queue_index(&self) -> Result<()> {
        if self.queue.read().is_some() {
            return Ok(());
        }
        let mut idx = QueueIndex::default();
        let mut customers = std::collections::HashMap::new();
        for t in self.store.tickets()? {
            let c = customers
                .entry(t.customer)
                .or_insert_with(|| self.store.customer(&t.customer).ok().flatten());
            idx.upsert(queue::QueueRow::new(t, c.as_ref()));
        }
        *self.queue.write() = Some(idx);
        Ok(())
    }

    /// Re-reads one ticket into the queue index (if the index is built).
    fn refresh_queue_row(&self, number: TicketNo) -> Result<()> {
        let mut guard = self.queue.write();
        let Some(idx) = guard.as_mut() else {
            return Ok(());
        };
        match self.store.ticket(number)? {
            Some(t) => {
                let c = self.store.customer(&t.customer).ok().flatten();
                idx.upsert(queue::QueueRow::new(t, c.as_ref()));
            }
            None => idx.remove(number),
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Uses another config file than `DATA/sealdesk.toml` (from `--config`).
    pub fn with_config_path(mut self, path: std::path::PathBuf) -> Desk {
        self.config_path = path;
        self
    }

    /// Sets one config key in the file and puts the result in force.
    pub fn set_config_key(&self, actor: &Actor, key: &str, value: &str) -> Result<Config> {
        let _op = self.store.op();
        let config = crate::config::edit::set(&self.config_path, key, value)
            .map_err(|e| DeskError::Invalid(e.to_string()))?;
        self.replace_config(config.clone());
        self.audit(actor, "config.set", vec![key.to_string()], None)?;
        self.store.flush()?;
        Ok(config)
    }

    /// A consistent backup of the data (values stay sealed), audited.
    pub fn backup(
        &self,
        actor: &Actor,
        out: &std::path::Path,
    ) -> Result<crate::store::BackupSummary> {
        self.audit(actor, "backup.create", vec![], None)?;
        self.store.flush()?;
        Ok(self.store.backup(out)?)
    }

    /// A snapshot of the current config.
    pub fn config(&self) -> Config {
        self.config.read().clone()
    }

    /// Puts a new config in force (after `config set`).
    pub fn replace_config(&self, config: Config) {
        *self.catalogue.write() = config.catalogue();
        *self.config.write() = config;
    }

    pub fn catalogue(&self) -> Catalogue {
        self.catalogue.read().clone()
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::{Paths, StoreError};

    /// A new desk in `dir`, for tests of desk operations.
    pub(crate) fn desk(dir: &std::path::Path) -> Desk {
        let paths = Paths {
            data: dir.join("data"),
            keys: dir.join("keys"),
        };
        Desk::new(new_store(&paths), Config::default())
    }

    /// Makes a new store at `paths` and opens it. sled's flusher thread may hold the
    /// file lock for a moment after `init` drops its handle, so a lock error is retried
    /// briefly.
    pub(crate) fn new_store(paths: &Paths) -> Store {
        Store::init(paths, None).unwrap();
        for _ in 0..100 {
            match Store::open(paths, None) {
                Err(StoreError::Locked(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                opened => return opened.unwrap(),
            }
        }
        panic!("the store stayed locked after init");
    }

    /// The audit log, oldest first.
    pub(crate) fn audit_events(desk: &Desk) -> Vec<AuditEvent> {
        let mut events = Vec::new();
        desk.store()
            .for_each_audit(|e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        events
    }
}
