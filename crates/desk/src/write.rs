//! The one write path. Every desk operation that changes anything runs as a unit of
//! work through [`Desk::write`]:
//!
//! 1. it holds what it reads and changes: lock stripes for tickets, customers and
//!    addresses (a fixed array of mutexes, always taken in ascending order, so two
//!    units never wait for each other in a circle);
//! 2. it stages sealed writes and audit events in a [`Tx`], which nobody sees yet;
//! 3. the store applies the whole unit in one transaction (all of it or none of it,
//!    also across a crash) and chains its audit events;
//! 4. the queue rows of the tickets it touched are refreshed (still holding them, so
//!    rows follow the order of commits), the stripes are let go;
//! 5. it waits for a flush covering the commit (shared with concurrent units: group
//!    commit), and only then are sessions told and the caller answered.
//!
//! A unit that finds it needs something it does not hold (the ticket a mail threads
//! into is known only after looking it up) asks for it with [`Unit::hold`]; its
//! staged writes are thrown away, and it runs again holding more. So an operation's
//! closure may run more than once and must not do anything but read and stage.

use super::{Actor, Change, Desk, DeskError, Result};
use parking_lot::{Mutex, MutexGuard};
use sealdesk_model::{AuditEvent, CustomerId, EventHash, TicketNo, Timestamp};
use sealdesk_store::Tx;
use std::cell::Cell;
use std::collections::BTreeSet;

/// Number of lock stripes. Two things that share a stripe are merely serialised.
const STRIPES: usize = 256;

/// Something a unit of work holds while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hold {
    Ticket(TicketNo),
    Customer(CustomerId),
    /// An address (its keyed hash): who may create the customer for it.
    Address([u8; 32]),
    /// Every stripe: for erasure and retention, which rewrite many tickets.
    Everything,
    /// The desk's own settings (agents, config) and the quarantine: one stripe.
    Settings,
}

impl Hold {
    fn stripe(&self) -> usize {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match self {
            Hold::Ticket(n) => (0u8, n.0).hash(&mut h),
            Hold::Customer(c) => (1u8, c.as_bytes()).hash(&mut h),
            Hold::Address(k) => (2u8, k).hash(&mut h),
            Hold::Settings => 3u8.hash(&mut h),
            Hold::Everything => unreachable!("Everything is every stripe"),
        }
        (h.finish() % STRIPES as u64) as usize
    }
}

/// The lock stripes of one desk.
pub(super) struct Stripes {
    locks: Box<[Mutex<()>]>,
}

impl Default for Stripes {
    fn default() -> Self {
        Stripes {
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl Stripes {
    fn indices(holds: &[Hold]) -> BTreeSet<usize> {
        if holds.contains(&Hold::Everything) {
            return (0..STRIPES).collect();
        }
        holds.iter().map(Hold::stripe).collect()
    }

    fn lock(&self, indices: &BTreeSet<usize>) -> Vec<MutexGuard<'_, ()>> {
        // Ascending order, always: no two units can wait for each other in a circle.
        indices.iter().map(|&i| self.locks[i].lock()).collect()
    }
}

thread_local! {
    /// A unit of work must not start another: it would take stripes out of order.
    static IN_UNIT: Cell<bool> = const { Cell::new(false) };
}

struct InUnit;

impl InUnit {
    fn enter() -> InUnit {
        assert!(
            !IN_UNIT.with(Cell::get),
            "a desk unit of work was started inside another one"
        );
        IN_UNIT.with(|u| u.set(true));
        InUnit
    }
}

impl Drop for InUnit {
    fn drop(&mut self) {
        IN_UNIT.with(|u| u.set(false));
    }
}

/// Done after the unit is durable, before its locks are let go (destroying a key).
type AfterCommit<'d> = Box<dyn FnOnce(&Desk) -> Result<()> + 'd>;

/// One desk operation's writes in the making.
pub(super) struct Unit<'d> {
    pub tx: Tx<'d>,
    desk: &'d Desk,
    actor: &'d Actor,
    held: &'d BTreeSet<usize>,
    wanted: Vec<Hold>,
    touched: BTreeSet<TicketNo>,
    changes: Vec<Change>,
    after: Vec<AfterCommit<'d>>,
    /// Activity for the queue markers, recorded with the unit (see `marks`).
    activity: Vec<(TicketNo, sealdesk_model::ActivityKind)>,
    /// Notifications to record once the unit is done (see `notify`).
    notices: Vec<crate::notify::Event>,
    /// Set by imports (Part 11): the unit files old mail and tells nobody (no
    /// notifications, webhooks or acknowledgements).
    quiet: bool,
    /// Set by imports (Part 11): the unit does not wait for its flush; the importer
    /// makes a batch durable at once with [`Desk::make_durable`].
    deferred: bool,
}

impl<'d> Unit<'d> {
    /// Makes sure the unit holds `what`; if it does not, the unit is run again holding
    /// it (return the error at once with `?`).
    pub(crate) fn hold(&mut self, what: Hold) -> Result<()> {
        let held = match what {
            Hold::Everything => self.held.len() == STRIPES,
            other => self.held.contains(&other.stripe()),
        };
        if held {
            return Ok(());
        }
        self.wanted.push(what);
        Err(DeskError::NeedsLocks)
    }

    /// Adds an audit event by the unit's actor; `customer` becomes their pseudonym.
    pub(crate) fn audit(
        &mut self,
        action: &str,
        targets: Vec<String>,
        customer: Option<&CustomerId>,
    ) {
        let actor = self.actor;
        let event = AuditEvent {
            seq: 0,
            at: Timestamp::now(),
            actor: actor.name.clone(),
            key_fingerprint: actor.key_fingerprint.clone(),
            source: actor.source.clone(),
            action: action.into(),
            targets,
            customer: customer.map(|c| self.desk.store.pseudonym(c)),
            prev_hash: EventHash::GENESIS,
        };
        self.tx.audit(event);
    }

    /// Who acts in this unit.
    pub(crate) fn actor_name(&self) -> &str {
        &self.actor.name
    }

    /// The ticket changed: its queue row is refreshed and sessions are told.
    pub(crate) fn touch(&mut self, ticket: TicketNo) {
        self.touched.insert(ticket);
    }

    /// Someone did something agents should see on `ticket` (a message, a change): the
    /// ticket's activity count goes up with this unit (the unread markers). The caller
    /// holds the ticket.
    pub(crate) fn activity(&mut self, ticket: TicketNo, kind: sealdesk_model::ActivityKind) {
        self.activity.push((ticket, kind));
    }

    /// Something else sessions should hear about once the unit is durable.
    pub(crate) fn announce(&mut self, change: Change) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    /// Tells the notifier of `event` once the unit is durable and its locks are let go.
    pub(crate) fn notify(&mut self, event: crate::notify::Event) {
        if !self.quiet {
            self.notices.push(event);
        }
    }

    /// This unit tells nobody: no notifications, webhooks or acknowledgements (imports
    /// of old mail). Writers that send or announce outward check [`Unit::is_quiet`].
    pub(crate) fn set_quiet(&mut self) {
        self.quiet = true;
    }

    /// Whether this unit tells nobody (see [`Unit::set_quiet`]).
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Part 11: queues `event` for every hook that wants it, in this unit (so it is
    /// queued if and only if the change commits); nothing in a quiet unit.
    pub(crate) fn webhook(
        &mut self,
        event: sealdesk_model::WebhookEvent,
        about: crate::webhooks::About,
    ) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        crate::webhooks::stage(self.desk, &mut self.tx, self.actor, event, about)
    }

    /// Part 11: [`Unit::webhook`] about `ticket` (its customer's text for the hooks
    /// that include it).
    pub(crate) fn ticket_webhook(
        &mut self,
        event: sealdesk_model::WebhookEvent,
        ticket: &sealdesk_model::Ticket,
    ) -> Result<()> {
        let about = crate::webhooks::About {
            ticket: Some(crate::webhooks::snapshot(ticket)),
            request: None,
            customer: Some(ticket.customer),
        };
        self.webhook(event, about)
    }

    /// The unit returns once committed, without waiting for its flush (a unit with
    /// work after commit still waits). Its caller must [`Desk::make_durable`] before it
    /// reports anything as stored: imports, which file thousands of messages and flush
    /// once per batch. A crash loses a suffix of such units, each whole or not at all.
    pub(crate) fn defer_durability(&mut self) {
        self.deferred = true;
    }

    /// Runs `then` once the unit is durable, still holding its locks.
    pub(crate) fn after_commit(&mut self, then: impl FnOnce(&Desk) -> Result<()> + 'd) {
        self.after.push(Box::new(then));
    }
}

impl Desk {
    /// Makes every unit committed so far durable (see [`Unit::defer_durability`]).
    /// The body index reads the tickets those units touched now, too.
    pub(crate) fn make_durable(&self) -> Result<()> {
        let durable = self.store.wait_durable(self.store.latest_commit());
        self.refresh_deferred_bodies();
        Ok(durable?)
    }

    /// Fails at once while the store is failing, after giving it a chance to recover
    /// (see `store::health`).
    pub(super) fn ensure_writable(&self) -> Result<()> {
        if self.store.recover_if_due() {
            self.store_reopened();
        }
        Ok(self.store.check_writable()?)
    }

    /// Runs one operation as a unit of work (see the module doc). `holds` is what it is
    /// known to need before it starts; it can ask for more with [`Unit::hold`].
    pub(super) fn write<T>(
        &self,
        actor: &Actor,
        holds: &[Hold],
        mut operation: impl FnMut(&mut Unit<'_>) -> Result<T>,
    ) -> Result<T> {
        let _in_unit = InUnit::enter();
        // While the disk fails us nothing is tried (and nothing acknowledged); the
        // store is reopened from here once it can be, before the gate is taken.
        self.ensure_writable()?;
        // The backup gate comes before any stripe: whoever waits for the gate holds
        // no stripe, so a backup waiting for running units cannot close a circle.
        let mut op = Some(self.store.op());
        let mut holds = holds.to_vec();
        loop {
            let indices = Stripes::indices(&holds);
            let mut guards = Some(self.stripes.lock(&indices));
            let mut unit = Unit {
                tx: self.store.begin(),
                desk: self,
                actor,
                held: &indices,
                wanted: Vec::new(),
                touched: BTreeSet::new(),
                changes: Vec::new(),
                after: Vec::new(),
                activity: Vec::new(),
                notices: Vec::new(),
                quiet: false,
                deferred: false,
            };
            let value = match operation(&mut unit) {
                Err(DeskError::NeedsLocks) if !unit.wanted.is_empty() => {
                    holds.append(&mut unit.wanted);
                    continue;
                }
                Err(DeskError::NeedsLocks) => {
                    return Err(DeskError::Invalid(
                        "internal error: a desk operation asked for no lock it lacked".into(),
                    ))
                }
                Err(e) => return Err(e),
                Ok(v) => v,
            };
            let activity = std::mem::take(&mut unit.activity);
            crate::marks::stage_activity(&mut unit.tx, &actor.name, &activity)?;
            let Unit {
                tx,
                touched,
                changes,
                after,
                notices,
                deferred,
                ..
            } = unit;
            let commit = if tx.is_empty() {
                drop(tx);
                None
            } else {
                Some(self.store.commit(tx)?.0)
            };
            for &n in &touched {
                self.refresh_queue_row(n);
                self.refresh_arrivals(n);
                if deferred {
                    self.refresh_bodies_later(n);
                } else {
                    self.refresh_bodies(n);
                }
            }
            if after.is_empty() {
                // Others may build on this commit now: theirs are acknowledged only
                // after a flush that covers this one too.
                guards.take();
                // The unit is applied: a backup (or a reopen after a disk failure,
                // which must not wait on a flush that may never end) can go ahead.
                op.take();
            }
            // A unit that wrote nothing may still have read what others committed
            // but did not flush yet (a duplicate found, a thread shown): it answers
            // only once that is durable too.
            if !deferred || !after.is_empty() {
                self.store
                    .wait_durable(commit.unwrap_or_else(|| self.store.latest_commit()))?;
            }
            for then in after {
                then(self)?;
            }
            drop(guards);
            for n in touched {
                self.announce(Change::Ticket(n));
            }
            for change in changes {
                self.announce(change);
            }
            if !notices.is_empty() {
                // Recording them is a unit of its own.
                drop(op);
                drop(_in_unit);
                for event in notices {
                    self.notify(event);
                }
            }
            return Ok(value);
        }
    }
}
