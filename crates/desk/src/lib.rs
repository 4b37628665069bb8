//! Operations on the desk: what agents, admins and arriving mail can do. Adapters (CLI,
//! SSH, mail) call these; these call the store. Every action is audited here, once.

mod agents;
mod alarms;
mod attachments;
pub use attachments::{content_type_for, export_file_name, ReplyFile};
mod audit;
mod bulk;
pub use bulk::BULK_MAX;
pub mod config;
mod consent;
mod customers;
mod drafts;
pub use drafts::{ATTACHMENTS_PER_DRAFT, ATTACHMENT_MAX};
mod erasure;
mod export;
mod gate;
// Part 11: IMAP progress and the sink for fetched mail.
mod imap;
mod import;
pub use import::{ImportMessage, ImportOutcome, Imported};
mod inbound;
mod links;
mod login;
mod mail_sink;
mod marks;
pub use marks::SeenCounts;
mod notices;
pub mod notify;
mod outbox;
mod outbox_worker;
mod participants;
mod port;
mod presence;
mod queue;
mod redact;
mod reports;
mod request_mail;
mod requests;
mod restriction;
mod retention;
mod saved_views;
mod search;
mod signatures;
mod sla;
mod split;
mod templates;
mod ticket_set;
mod tickets;
pub mod totp;
mod triage;
mod views;
// Part 11
pub mod webhooks;
mod write;
#[cfg(test)]
mod write_tests;

pub use agents::{fingerprint, AgentChanges, AgentUpdate, SecondFactor};
pub use alarms::AlarmReport;
pub use audit::AuditReport;
pub use consent::{NewConsent, PurposeState};
pub use customers::CustomerRow;
pub use export::archive as export_archive;
pub use export::{ExportFile, EXPORT_SCHEMA_VERSION};
pub use gate::Authority;
pub use inbound::{message_time, DateFrom, Filed, Incoming};
pub use login::{CodeCheck, LoginRefusal};
pub use mail_sink::DeskSink;
pub use notices::{delivery_json, Audience, NewNotice, NoticePreview, NoticeRow, SendProgress};
pub use outbox::DueMail;
pub use outbox_worker::run_outbox;
pub use presence::{Activity, Viewer};
pub use queue::{
    AssigneeFilter, BodyHits, BodyProgress, QueueQuery, QueueRow, QueueView, SharedRow, SortKey,
};
pub use request_mail::CODE_MASK;
pub use requests::{is_finished, request_json, urgency, Urgency};
pub use restriction::{MailPurpose, Refusal, MARKETING_PURPOSE};
pub use retention::RetentionReport;
pub use sla::run_snooze_timer;
pub use ticket_set::{FieldChange, TicketChanges};
pub use tickets::{NewTicket, ThreadEntry, TicketFilter};
pub use views::privacy::{AuditFilter, AuditPage, ConsentPage, Found, RequestRow};
pub use webhooks::run_webhooks;

pub use sealdesk_api::{bulk_summary, BulkChange, BulkOutcome};
pub use sealdesk_api::{link_words, links_line, reverse_link};
pub use sealdesk_api::{path_safe_name, ticket_files, TicketFile};
pub use sealdesk_api::{Actor, ActorKind, Change, DeskError, DeskPort, Result, StoreFailure};

use crate::config::Config;
use parking_lot::{Mutex, RwLock};
use queue::QueueIndex;
use sealdesk_model::{AgentRole, Catalogue, TicketNo};
use sealdesk_store::Store;
use tokio::sync::broadcast;
use write::{Hold, Stripes};

pub struct Desk {
    store: Store,
    /// Replaced whole by `config set` while serving.
    config: RwLock<Config>,
    /// Where `config set` writes.
    config_path: std::path::PathBuf,
    catalogue: RwLock<Catalogue>,
    /// Built on first use: the CLI rarely needs it, the TUI always.
    queue: RwLock<QueueSlot>,
    /// One builder of the queue index at a time.
    queue_build: Mutex<()>,
    /// What units of work hold (see `write`).
    stripes: Stripes,
    changes: broadcast::Sender<Change>,
    presence: Mutex<presence::Presence>,
    senders: Mutex<inbound::SenderLimiter>,
    /// The last TOTP step each agent logged in with: a code is good once.
    used_code_steps: Mutex<login::UsedCodeSteps>,
    /// Goes up whenever a privacy request is stored, so screens showing request
    /// markers re-read them only when there is something new.
    request_generation: std::sync::atomic::AtomicU64,
    /// Replies the outbox worker is handing to the relay: `unsend` refuses them.
    sending: Mutex<std::collections::HashSet<(TicketNo, u32)>>,
    /// Each agent's seen counts once read (see `marks`).
    seen: Mutex<std::collections::HashMap<String, SeenCounts>>,
    /// `[sla]` with its business calendar built (replaced with the config).
    sla: RwLock<std::sync::Arc<sla::SlaRules>>,
    /// The in-memory index over message bodies (see `search`).
    bodies: search::BodySearch,
    /// Where agents reach the SSH server, for notification deep links.
    notifier: notify::NotifyState,
    /// Part 11: the next webhook delivery id.
    webhooks: webhooks::WebhookState,
    /// Part 12: the times customer messages came in, for the `hours` report.
    arrivals: reports::Arrivals,
}

impl Desk {
    pub fn new(store: Store, config: Config) -> Desk {
        let catalogue = config.catalogue();
        store.set_suppress_after_erasure(config.privacy.suppress_after_erasure);
        let (changes, _) = broadcast::channel(1024);
        let sla = RwLock::new(sla::SlaRules::new(&config.sla));
        Desk {
            sla,
            config_path: Config::default_path(&store.paths().data),
            store,
            config: RwLock::new(config),
            catalogue: RwLock::new(catalogue),
            queue: RwLock::new(QueueSlot::default()),
            queue_build: Mutex::new(()),
            stripes: Stripes::default(),
            changes,
            presence: Mutex::new(presence::Presence::default()),
            senders: Mutex::new(inbound::SenderLimiter::default()),
            used_code_steps: Mutex::new(login::UsedCodeSteps::default()),
            request_generation: std::sync::atomic::AtomicU64::new(0),
            sending: Mutex::new(std::collections::HashSet::new()),
            seen: Mutex::new(std::collections::HashMap::new()),
            bodies: search::BodySearch::default(),
            notifier: notify::NotifyState::default(),
            webhooks: webhooks::WebhookState::default(),
            arrivals: reports::Arrivals::default(),
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
        let stale = query.bodies.as_ref().map(|b| b.text()) != Some(query.text.as_str());
        let with_bodies;
        let query = if stale && !query.text.trim().is_empty() {
            with_bodies = QueueQuery {
                bodies: self.body_hits(&query.text),
                ..query.clone()
            };
            &with_bodies
        } else {
            query
        };
        let slot = self.queue.read();
        Ok(slot
            .built
            .as_ref()
            .map(|idx| idx.query(query))
            .unwrap_or_default())
    }

    /// The queue row of one ticket, if it exists.
    pub fn queue_row(&self, number: TicketNo) -> Result<Option<SharedRow>> {
        self.ensure_queue_index()?;
        let slot = self.queue.read();
        Ok(slot.built.as_ref().and_then(|idx| idx.get(number).cloned()))
    }

    /// The store was reopened after a disk failure: rows read from it before may
    /// show units that never reached the disk, so the index is built again.
    fn store_reopened(&self) {
        let _builder = self.queue_build.lock();
        *self.queue.write() = QueueSlot::default();
        // The same goes for the seen counts kept in memory, and the body index.
        self.seen.lock().clear();
        self.bodies_reopened();
    }

    /// The store's health, after giving a failing store a chance to recover.
    pub fn store_health(&self) -> sealdesk_store::HealthReport {
        if self.store.recover_if_due() {
            self.store_reopened();
        }
        self.store.health()
    }

    /// The highest ticket number there is (0 on an empty desk).
    pub fn newest_ticket(&self) -> Result<TicketNo> {
        self.ensure_queue_index()?;
        let slot = self.queue.read();
        Ok(slot
            .built
            .as_ref()
            .and_then(QueueIndex::newest)
            .unwrap_or(TicketNo(0)))
    }

    /// Builds the queue index once. The store is read without holding the queue lock;
    /// rows refreshed meanwhile are kept aside and applied after, newest read winning.
    fn ensure_queue_index(&self) -> Result<()> {
        if self.queue.read().built.is_some() {
            return Ok(());
        }
        let _builder = self.queue_build.lock();
        if self.queue.read().built.is_some() {
            return Ok(());
        }
        self.queue.write().building = true;
        let version = self.store.commits();
        let built = (|| -> Result<QueueIndex> {
            let mut idx = QueueIndex::default();
            let mut customers = std::collections::HashMap::new();
            let mut activity = self.store.all_ticket_activity()?;
            for t in self.store.tickets()? {
                let c = customers
                    .entry(t.customer)
                    .or_insert_with(|| self.store.customer(&t.customer).ok().flatten());
                let number = t.number;
                let row = queue::QueueRow::new(t, c.as_ref())
                    .with_activity(activity.remove(&number).unwrap_or_default());
                idx.apply_read(number, version, Some(row));
            }
            Ok(idx)
        })();
        let mut slot = self.queue.write();
        slot.building = false;
        let early = std::mem::take(&mut slot.early);
        let mut idx = built?;
        for (number, v, row) in early {
            idx.apply_read(number, v, row);
        }
        slot.built = Some(idx);
        Ok(())
    }

    /// Re-reads one ticket into the queue index (if the index is built or being built).
    /// Reads happen before the queue lock is taken. A failure to read leaves the row
    /// as it was (the unit is already durable); the next full reload catches up.
    fn refresh_queue_row(&self, number: TicketNo) {
        {
            let slot = self.queue.read();
            if slot.built.is_none() && !slot.building {
                return;
            }
        }
        let version = self.store.commits();
        let row = match self.store.ticket(number) {
            Ok(Some(t)) => {
                let c = self.store.customer(&t.customer).ok().flatten();
                let activity = self.store.ticket_activity(number).unwrap_or_default();
                Some(queue::QueueRow::new(t, c.as_ref()).with_activity(activity))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("queue row of {number} not refreshed: {e}");
                return;
            }
        };
        let mut slot = self.queue.write();
        let slot = &mut *slot;
        match slot.built.as_mut() {
            Some(idx) => idx.apply_read(number, version, row),
            None if slot.building => slot.early.push((number, version, row)),
            None => {}
        }
    }

    /// Refuses unless the actor may do admin work *now*: an agent's role is read from
    /// their record at this moment, so a demotion takes effect in open sessions at
    /// once. The local CLI (which holds the keys) and the desk itself are admins.
    pub(crate) fn require_admin(&self, actor: &Actor, what: &str) -> Result<()> {
        match self.current_role(actor)? {
            Some(AgentRole::Admin) => Ok(()),
            Some(_) => Err(DeskError::Forbidden(format!(
                "only an admin can {what}: your role is agent now; ask an admin"
            ))),
            None => Err(DeskError::Forbidden(format!(
                "only an admin can {what}: agent {} no longer exists",
                sealdesk_model::sanitize::line(&actor.name)
            ))),
        }
    }

    /// Refuses unless the actor is an admin now (see [`Desk::require_admin`]): for
    /// front ends that run admin-only commands for agents (`ssh NAME@desk COMMAND`).
    pub fn check_admin(&self, actor: &Actor, what: &str) -> Result<()> {
        self.require_admin(actor, what)
    }

    /// The role an actor has right now (agents: their record; CLI and desk: admin).
    pub(crate) fn current_role(&self, actor: &Actor) -> Result<Option<AgentRole>> {
        Ok(match actor.kind {
            ActorKind::LocalAdmin | ActorKind::System => Some(AgentRole::Admin),
            ActorKind::Agent => self.store.agent_by_name(&actor.name)?.map(|a| a.role),
        })
    }

    /// Makes every write durable now (at shutdown, after the listeners stopped).
    pub fn flush(&self) -> Result<()> {
        Ok(self.store.flush()?)
    }

    /// Where this desk lives: its data and keys dirs.
    pub fn paths(&self) -> &sealdesk_store::Paths {
        self.store.paths()
    }

    /// Whether the desk holds no ticket yet (the demo fills only an empty desk).
    pub fn has_no_tickets(&self) -> Result<bool> {
        Ok(!self.store.has_tickets()?)
    }

    /// The agent record of `name`, if there is one.
    pub fn find_agent(&self, name: &str) -> Result<Option<sealdesk_model::Agent>> {
        Ok(self.store.agent_by_name(name)?)
    }

    /// After `keys restore`: condemns the record keys a keys backup's shred list names
    /// (destroying them); returns how many were new, and the customer and record keys
    /// that remain.
    pub fn apply_restored_shred_list(
        &self,
        ids: &[sealdesk_store::RecordKeyId],
    ) -> Result<(usize, (usize, usize))> {
        let added = self.store.condemn_record_keys(ids)?;
        Ok((added, self.store.key_counts()))
    }

    /// The store underneath, for tests that plant or inspect records directly. Not in
    /// the product: adapters go through the operations above.
    #[cfg(any(test, feature = "testing"))]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// One audit event as a unit of work of its own (for views: reading is audited).
    fn audit_only(
        &self,
        actor: &Actor,
        action: &str,
        targets: Vec<String>,
        customer: Option<&sealdesk_model::CustomerId>,
    ) -> Result<()> {
        self.write(actor, &[], |u| {
            u.audit(action, targets.clone(), customer);
            Ok(())
        })
    }

    /// Uses another config file than `DATA/sealdesk.toml` (from `--config`).
    pub fn with_config_path(mut self, path: std::path::PathBuf) -> Desk {
        self.config_path = path;
        self
    }

    /// Sets one config key in the file and puts the result in force.
    pub fn set_config_key(&self, actor: &Actor, key: &str, value: &str) -> Result<Config> {
        self.require_admin(actor, "change the configuration")?;
        let config = self.write(actor, &[Hold::Settings], |u| {
            // The file is outside the store: written (and checked) under the settings
            // lock, with the audit event in the same unit; a refused value audits
            // nothing.
            let config = crate::config::edit::set(&self.config_path, key, value)
                .map_err(|e| DeskError::Invalid(e.to_string()))?;
            u.audit("config.set", vec![key.to_string()], None);
            Ok(config)
        })?;
        self.replace_config(config.clone());
        if key.starts_with("sla.") {
            self.settle_all_dues()?;
        }
        Ok(config)
    }

    /// A consistent backup of the data (values stay sealed), audited.
    pub fn backup(
        &self,
        actor: &Actor,
        out: &std::path::Path,
    ) -> Result<sealdesk_store::BackupSummary> {
        self.require_admin(actor, "take a backup")?;
        self.audit_only(actor, "backup.create", vec![], None)?;
        Ok(self.store.backup(out)?)
    }

    /// Writes a keys backup (admin only; audited as `keys.backup`).
    pub fn backup_keys(
        &self,
        actor: &Actor,
        out: &std::path::Path,
    ) -> Result<sealdesk_store::KeysBackupSummary> {
        self.require_admin(actor, "back up the keys")?;
        self.audit_only(actor, "keys.backup", vec![], None)?;
        Ok(self.store.backup_keys(out)?)
    }

    /// A snapshot of the current config.
    pub fn config(&self) -> Config {
        self.config.read().clone()
    }

    /// Puts a new config in force (after `config set`).
    pub fn replace_config(&self, config: Config) {
        *self.catalogue.write() = config.catalogue();
        self.store
            .set_suppress_after_erasure(config.privacy.suppress_after_erasure);
        self.replace_sla(&config.sla);
        *self.config.write() = config;
    }

    pub fn catalogue(&self) -> Catalogue {
        self.catalogue.read().clone()
    }
}

/// The queue index and what arrived while it was being built.
#[derive(Default)]
struct QueueSlot {
    built: Option<QueueIndex>,
    building: bool,
    /// Rows refreshed during the build, with the version each was read at.
    early: Vec<(TicketNo, u64, Option<queue::QueueRow>)>,
}

/// Helpers for tests of the desk and of the crates above it (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use super::*;
    use sealdesk_store::{Paths, StoreError};

    /// A new desk in `dir`, for tests of desk operations.
    pub fn desk(dir: &std::path::Path) -> Desk {
        let paths = Paths {
            data: dir.join("data"),
            keys: dir.join("keys"),
        };
        Desk::new(new_store(&paths), Config::default())
    }

    /// A ticket created by the local admin for a customer at `from` with one message
    /// (`body`); returns its number.
    pub fn new_ticket(desk: &Desk, from: &str, subject: &str, body: &str) -> TicketNo {
        let new = NewTicket {
            from,
            name: "",
            subject,
            body,
            message_id: None,
        };
        desk.create_ticket(&Actor::local_admin(), new)
            .unwrap()
            .0
            .number
    }

    /// Makes a new store at `paths` and opens it. sled's flusher thread may hold the
    /// file lock for a moment after `init` drops its handle, so a lock error is retried
    /// briefly.
    pub fn new_store(paths: &Paths) -> Store {
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

    /// An OpenSSH public key line made from a fixed seed.
    pub fn public_key_line(seed: u8) -> String {
        use ssh_key::{private::Ed25519Keypair, PrivateKey};
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]));
        key.public_key().to_openssh().unwrap()
    }

    /// The audit log, oldest first.
    pub fn audit_events(desk: &Desk) -> Vec<sealdesk_model::AuditEvent> {
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
