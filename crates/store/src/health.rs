//! When the disk fails us (full, most often) and how the store comes back without a
//! restart.
//!
//! sled 0.34 records the first I/O error of a `Db` and returns it from every later
//! write and flush, even once the cause is gone. So on such an error the store marks
//! itself failing (one log line), refuses writes at once with a clear error (the SMTP
//! listener answers 451, `ingest` exits 75), and [`Store::recover_if_due`], called
//! before each unit of work and by `sealdesk status`, retries with backoff: once the
//! data dir's disk has room again it drops the database, opens the same path again
//! (sled recovers the prefix of its log that reached the disk), finishes or drops the
//! last unit from its write set as at open time, proves a write reaches the disk, and
//! reloads the audit head (one log line). Nothing acknowledged is lost: a unit is
//! acknowledged only after a flush that covered it succeeded, and whatever reached the
//! disk of a unit that was not acknowledged is either completed from its write set or
//! absent.

use super::{open_live, Result, Store, StoreError, META_AUDIT_HEAD, META_NEXT_TICKET};
use parking_lot::Mutex;
use sealdesk_model::{EventHash, Timestamp};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// First retry after a failure, then doubling up to [`MAX_BACKOFF`].
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A full disk is retried only once it has at least this much room.
const ROOM_NEEDED: u64 = 4 * 1024 * 1024;
/// How long closing the failed database may take before it counts as stuck.
const CLOSE_WAIT: Duration = Duration::from_secs(3);
/// Written and removed again after reopening: proves the disk takes writes.
const PROBE_KEY: &[u8] = b"probe";

/// Why the store stopped taking writes, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub since: Timestamp,
    /// The operating system's words for it, e.g. "No space left on device".
    pub cause: String,
    pub disk_full: bool,
}

/// The last time the store came back by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    pub at: Timestamp,
    /// What it recovered from.
    pub from: Failure,
}

/// What `sealdesk status` shows about the store.
#[derive(Clone, Debug)]
pub struct HealthReport {
    pub data: PathBuf,
    pub keys: PathBuf,
    pub failing: Option<Failure>,
    pub last_recovery: Option<Recovery>,
    /// Bytes available to us on the disks holding the data and the keys dir.
    pub data_free: Option<u64>,
    pub keys_free: Option<u64>,
}

#[derive(Default)]
pub(super) struct Health {
    state: Mutex<State>,
    /// `state.failing.is_some()`, for the check every unit of work makes.
    failing: std::sync::atomic::AtomicBool,
    /// One reopen at a time.
    reopening: Mutex<()>,
    /// The commit count right after the last reopen (0: none yet).
    reopened_at: std::sync::atomic::AtomicU64,
    /// Commits made in memory, not known to have reached the disk, before a reopen:
    /// (first, last). Whoever still waits for one hears it failed.
    lost: Mutex<Vec<(u64, u64)>>,
}

#[derive(Default)]
struct State {
    /// The old database could not be closed (see [`set_aside_stuck_log`]).
    stuck: bool,
    failing: Option<Failure>,
    last_recovery: Option<Recovery>,
    next_try: Option<Instant>,
    backoff: Duration,
}

/// Whether an I/O error means the disk is full (or the user's quota is used up).
fn is_disk_full(e: &std::io::Error) -> bool {
    // sled hands out copies of its stored error that keep the kind, not the OS code.
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
}

/// Drops a database on another thread; false if that did not finish within `limit`.
///
/// sled 0.34 closes a database by flushing it, and a flush can wait forever: when
/// writing a large value's blob file fails (disk full), the log buffer that value had
/// claimed a place in is never written, and nothing after it ever becomes stable. Such
/// a database is left to its thread, holding its files, until the process ends.
fn close_within(open: super::live::Open, limit: Duration) -> bool {
    let (done, closed) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("sealdesk-close-db".into())
        .spawn(move || {
            drop(open);
            let _ = done.send(());
        });
    spawned.is_ok() && closed.recv_timeout(limit).is_ok()
}

/// Puts a fresh copy of the log file in place of the one a stuck database (see
/// [`close_within`]) keeps open and locked, so the same directory can be opened again.
/// The other files (config, snapshots, blobs) are only ever replaced whole, so hard
/// links to them do; the log is copied, which needs its size in free space. The stuck
/// database is frozen (nothing it had begun can complete), so what is copied is what
/// reached the disk, which sled's recovery reads as after a crash.
fn set_aside_stuck_log(db: &Path) -> Result<()> {
    let parent = db.parent().unwrap_or(Path::new("."));
    let fresh = parent.join("db.recovering");
    let aside = parent.join("db.stuck");
    let ctx = |what: &str, path: &Path| format!("cannot {what} {}", path.display());
    for old in [&fresh, &aside] {
        if old.exists() {
            std::fs::remove_dir_all(old).map_err(StoreError::io(ctx("remove", old)))?;
        }
    }
    let copied = copy_dir(db, &fresh, true);
    if let Err(e) = copied {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(e);
    }
    std::fs::rename(db, &aside).map_err(StoreError::io(ctx("move aside", db)))?;
    std::fs::rename(&fresh, db).map_err(StoreError::io(ctx("put in place", db)))?;
    // Its space comes back when the process ends (the stuck database holds the log).
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

/// Copies `from` into the new directory `to`: the top-level `db` log file by copying,
/// everything else by hard link.
fn copy_dir(from: &Path, to: &Path, top: bool) -> Result<()> {
    let ctx = |path: &Path| format!("cannot copy {}", path.display());
    super::keys::create_private_dir(to)?;
    for entry in std::fs::read_dir(from).map_err(StoreError::io(ctx(from)))? {
        let entry = entry.map_err(StoreError::io(ctx(from)))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(StoreError::io(ctx(&src)))?;
        if kind.is_dir() {
            copy_dir(&src, &dst, false)?;
        } else if top && entry.file_name() == "db" {
            std::fs::copy(&src, &dst).map_err(StoreError::io(ctx(&src)))?;
            std::fs::File::open(&dst)
                .and_then(|f| f.sync_all())
                .map_err(StoreError::io(ctx(&src)))?;
        } else {
            std::fs::hard_link(&src, &dst).map_err(StoreError::io(ctx(&src)))?;
        }
    }
    Ok(())
}

fn available(path: &Path) -> Option<u64> {
    fs2::available_space(path).ok()
}

impl Store {
    /// Passes `e` through; an I/O error of the database first marks the store failing
    /// and becomes [`StoreError::Unavailable`].
    pub(super) fn failed(&self, e: StoreError) -> StoreError {
        let StoreError::DiskIo(io) = &e else {
            return e;
        };
        let disk_full = is_disk_full(io);
        let cause = if disk_full {
            "No space left on device".to_string()
        } else {
            io.to_string()
        };
        let mut state = self.health.state.lock();
        if state.failing.is_none() {
            tracing::error!(
                "the store cannot write to {} ({cause}); writes are refused (mail gets 451) until it recovers, which it tries by itself",
                self.paths.data.display()
            );
            self.health.failing.store(true, Ordering::Release);
            state.failing = Some(Failure {
                since: Timestamp::now(),
                cause,
                disk_full,
            });
            state.backoff = FIRST_RETRY;
            state.next_try = Some(Instant::now() + FIRST_RETRY);
        }
        drop(state);
        self.unavailable()
    }

    /// The error for any write while the store is failing.
    pub(super) fn unavailable(&self) -> StoreError {
        let failure = self.health.state.lock().failing.clone();
        let (cause, disk_full) = failure.map_or_else(
            || ("the database is being reopened".to_string(), false),
            |f| (f.cause, f.disk_full),
        );
        StoreError::Unavailable {
            data: self.paths.data.clone(),
            cause,
            disk_full,
        }
    }

    /// Fails for a commit made before a reopen that was not known to be on disk then.
    pub(super) fn check_not_lost(&self, commit: u64) -> Result<()> {
        if commit > self.health.reopened_at.load(Ordering::Acquire) {
            return Ok(());
        }
        let lost = self.health.lost.lock();
        if lost.iter().any(|&(lo, hi)| lo <= commit && commit <= hi) {
            return Err(StoreError::NotDurable);
        }
        Ok(())
    }

    /// Whether writes are refused until the store recovers.
    pub(crate) fn is_failing(&self) -> bool {
        self.health.failing.load(Ordering::Acquire)
    }

    /// Fails with [`StoreError::Unavailable`] while the store is failing.
    pub fn check_writable(&self) -> Result<()> {
        if self.is_failing() {
            return Err(self.unavailable());
        }
        Ok(())
    }

    pub fn health(&self) -> HealthReport {
        let state = self.health.state.lock();
        HealthReport {
            data: self.paths.data.clone(),
            keys: self.paths.keys.clone(),
            failing: state.failing.clone(),
            last_recovery: state.last_recovery.clone(),
            data_free: available(&self.paths.data),
            keys_free: available(&self.paths.keys),
        }
    }

    /// If the store is failing and a retry is due, tries to reopen it; true if it
    /// recovered now (whatever the caller caches from the store should be read again).
    /// Call it holding no operation of the store (no [`Tx`](super::Tx) or op guard).
    pub fn recover_if_due(&self) -> bool {
        if !self.is_failing() {
            return false;
        }
        {
            let mut state = self.health.state.lock();
            let Some(failure) = &state.failing else {
                return false;
            };
            let now = Instant::now();
            if state.next_try.is_some_and(|t| now < t) {
                return false;
            }
            let no_room = failure.disk_full
                && available(&self.paths.data).is_some_and(|free| free < ROOM_NEEDED);
            if no_room {
                // Looking at the free space costs nothing: until there is room, look
                // again soon; only reopening backs off.
                state.next_try = Some(now + FIRST_RETRY);
                return false;
            }
            state.next_try = Some(now + state.backoff);
            state.backoff = (state.backoff * 2).clamp(FIRST_RETRY, MAX_BACKOFF);
        }
        let Some(_one) = self.health.reopening.try_lock() else {
            return false;
        };
        match self.reopen() {
            Ok(()) => {
                let mut state = self.health.state.lock();
                self.health.failing.store(false, Ordering::Release);
                if let Some(from) = state.failing.take() {
                    tracing::warn!(
                        "the store recovered: {} takes writes again (it had been failing since {}: {})",
                        self.paths.data.display(),
                        from.since.rfc3339(),
                        from.cause
                    );
                    state.last_recovery = Some(Recovery {
                        at: Timestamp::now(),
                        from,
                    });
                }
                true
            }
            Err(e) => {
                tracing::debug!("the store is still failing: {e}");
                false
            }
        }
    }

    /// Drops the database and opens it again, then makes it whole as at open time.
    fn reopen(&self) -> Result<()> {
        // Exclusive: no unit of work is half way while the database changes under it.
        let _exclusive = self
            .gate
            .try_write_for(Duration::from_secs(2))
            .ok_or_else(|| StoreError::Db("busy: operations still running".into()))?;
        let mut head = self.audit_head.lock();
        // Every handle on the old database goes, so its lock on the files is let go.
        if let Some(old) = self.live.write().take() {
            if !close_within(old, CLOSE_WAIT) {
                self.health.state.lock().stuck = true;
            }
        }
        if self.health.state.lock().stuck {
            set_aside_stuck_log(&self.paths.db())?;
            self.health.state.lock().stuck = false;
            tracing::info!("the failed database could not be closed: reopening a copy of its log (the old log's space returns when the server restarts)");
        }
        let open = open_live(&self.paths)?;
        *self.live.write() = Some(open);
        let made_whole = (|| -> Result<()> {
            self.replay_last_unit()?;
            self.t.units.tree.remove(super::tx::LAST_UNIT)?;
            self.t
                .units
                .tree
                .insert(PROBE_KEY, vec![0u8; 4096])
                .map_err(StoreError::from)?;
            self.t.units.tree.remove(PROBE_KEY)?;
            self.db()?.flush()?;
            Ok(())
        })();
        made_whole?;
        // Units counted in memory that never reached the disk left the chain head and
        // counter ahead of it: the disk is the truth for the chain; ticket numbers
        // only ever go up.
        *head = self
            .get(&self.t.meta, META_AUDIT_HEAD)?
            .unwrap_or((0, EventHash::GENESIS));
        let stored: u64 = self.get(&self.t.meta, META_NEXT_TICKET)?.unwrap_or(0);
        let mut counter = self.ticket_counter.lock();
        *counter = (*counter).max(stored).max(self.highest_ticket()?);
        self.half_applied.store(false, Ordering::Release);
        // Commits after the last good flush may or may not be on disk now: their
        // waiters fail. The reopen counts as a commit of its own, durable, so that a
        // unit that wrote nothing does not wait for one of those.
        let durable = self.durable.load(Ordering::Acquire);
        let committed = self.committed.load(Ordering::Acquire);
        if committed > durable {
            self.health.lost.lock().push((durable + 1, committed));
        }
        self.committed.store(committed + 1, Ordering::Release);
        self.health
            .reopened_at
            .store(committed + 1, Ordering::Release);
        self.durable.store(committed + 1, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::new_store;
    use sealdesk_model::{AuditEvent, Customer, Ticket};

    fn event(action: &str) -> AuditEvent {
        AuditEvent {
            seq: 0,
            at: Timestamp::now(),
            actor: "test".into(),
            key_fingerprint: None,
            source: "test".into(),
            action: action.into(),
            targets: vec![],
            customer: None,
            prev_hash: EventHash::GENESIS,
        }
    }

    fn disk_full() -> StoreError {
        StoreError::DiskIo(std::io::Error::from(std::io::ErrorKind::StorageFull))
    }

    /// A unit cut short by a failing disk, then the store reopened in place: the unit
    /// is completed from its write set, writes are refused until then, and afterwards
    /// they work and chain on from what is on disk.
    #[test]
    fn a_failed_store_refuses_writes_then_reopens_itself_and_finishes_the_last_unit() {
        let dir = tempfile::tempdir().unwrap();
        let paths = super::super::Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        let store = new_store(&paths);
        // Committed, but its flush never happened before the disk failed.
        let bob = Customer::new("bob@example.com", "Bob");
        let mut tx = store.begin();
        tx.insert_customer(&bob).unwrap();
        let (unflushed, _) = store.commit(tx).unwrap();
        let customer = Customer::new("ann@example.com", "Ann");
        let mut tx = store.begin();
        tx.insert_customer(&customer).unwrap();
        let number = tx.next_ticket_number();
        let ticket = Ticket::new(number, "Half".into(), customer.id, Timestamp::now());
        tx.put_ticket(&ticket).unwrap();
        tx.audit(event("ticket.create"));
        // The disk fails part way through the unit (the injected error stands for
        // what sled returns then).
        assert!(store.commit_applying(tx, 1).is_err());
        let refused = store.failed(disk_full());
        assert!(matches!(
            refused,
            StoreError::Unavailable {
                disk_full: true,
                ..
            }
        ));
        assert!(
            refused.to_string().contains("is full: free space"),
            "{refused}"
        );
        assert!(store.is_failing());

        let mut tx = store.begin();
        tx.audit(event("refused"));
        assert!(
            matches!(store.commit(tx), Err(StoreError::Unavailable { .. })),
            "no write is tried while failing"
        );
        assert!(!store.recover_if_due(), "not before the first retry is due");

        std::thread::sleep(FIRST_RETRY + Duration::from_millis(50));
        assert!(store.recover_if_due(), "the store reopened itself");
        assert!(!store.is_failing());
        let health = store.health();
        let recovery = health.last_recovery.expect("the recovery is recorded");
        assert!(recovery.from.disk_full);
        assert!(health.data_free.is_some());

        assert!(
            matches!(store.wait_durable(unflushed), Err(StoreError::NotDurable)),
            "a commit not known to be on disk before the reopen is not acknowledged after it"
        );
        assert_eq!(store.customer(&bob.id).unwrap().unwrap(), bob);
        store.wait_durable(store.latest_commit()).unwrap();
        assert_eq!(store.ticket(number).unwrap().unwrap().subject, "Half");
        assert_eq!(store.customer(&customer.id).unwrap().unwrap(), customer);
        let mut tx = store.begin();
        tx.audit(event("after"));
        let (commit, events) = store.commit(tx).unwrap();
        store.wait_durable(commit).unwrap();
        assert_eq!(
            events[0].seq, 2,
            "the chain goes on from the completed unit"
        );
        let mut chain = Vec::new();
        store
            .for_each_audit(|e| {
                chain.push(e);
                Ok(())
            })
            .unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1].prev_hash, chain[0].hash());
        assert_eq!(store.audit_head().unwrap(), (2, chain[1].hash()));
    }
}
