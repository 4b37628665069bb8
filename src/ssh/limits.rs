//! Who gets a connection, checked right after `accept` so a flood costs a socket and a
//! map entry, never a key exchange.
//!
//! Two pools. [`StrangerPool`] holds connections that have not proved an agent's key:
//! when it is full a newcomer is let in and the oldest stranger of the address holding
//! the most goes, so silent connections can never keep a real agent out (they can
//! only push each other out). Once a connection proves a key it moves to the agents'
//! [`ConnectionLimiter`], which counts per agent and in total and refuses the newest.
//! [`AuditBudget`] bounds how many refused logins are written to the audit log.

use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LimitHit {
    /// This key (an agent; for strangers, an address) has all the places it may have.
    PerKey { open: usize },
    /// The pool as a whole is full.
    Total { open: usize },
}

/// Counts open connections per key and in total; refuses the newest when full.
#[derive(Debug)]
pub(super) struct ConnectionLimiter<K: Hash + Eq + Clone> {
    per_key: usize,
    total: usize,
    open: Mutex<Counts<K>>,
}

#[derive(Debug)]
struct Counts<K> {
    total: usize,
    by_key: HashMap<K, usize>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub(super) struct ConnectionSlot<K: Hash + Eq + Clone> {
    limiter: Arc<ConnectionLimiter<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> ConnectionLimiter<K> {
    pub(super) fn new(per_key: usize, total: usize) -> Arc<Self> {
        Arc::new(ConnectionLimiter {
            per_key,
            total,
            open: Mutex::new(Counts {
                total: 0,
                by_key: HashMap::new(),
            }),
        })
    }

    /// Admits a connection for `key` if both limits allow it.
    pub(super) fn try_acquire(self: &Arc<Self>, key: K) -> Result<ConnectionSlot<K>, LimitHit> {
        let mut open = self.open.lock();
        if open.total >= self.total {
            return Err(LimitHit::Total { open: open.total });
        }
        let count = open.by_key.entry(key.clone()).or_insert(0);
        if *count >= self.per_key {
            return Err(LimitHit::PerKey { open: *count });
        }
        *count += 1;
        open.total += 1;
        Ok(ConnectionSlot {
            limiter: Arc::clone(self),
            key,
        })
    }

    #[cfg(test)]
    fn open_for(&self, key: &K) -> usize {
        self.open.lock().by_key.get(key).copied().unwrap_or(0)
    }

    #[cfg(test)]
    fn open_total(&self) -> usize {
        self.open.lock().total
    }
}

impl<K: Hash + Eq + Clone> Drop for ConnectionSlot<K> {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_key.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                // Keep the map as small as the set of keys connected right now.
                open.by_key.remove(&self.key);
            }
        }
    }
}

/// Connections that have not proved an agent's key yet, per source and in total.
#[derive(Debug)]
pub(super) struct StrangerPool {
    per_source: usize,
    total: usize,
    state: Mutex<Strangers>,
}

#[derive(Debug, Default)]
struct Strangers {
    /// Admission numbers only grow: the smallest is the oldest.
    next: u64,
    by_id: BTreeMap<u64, Stranger>,
    by_source: HashMap<IpAddr, BTreeSet<u64>>,
}

#[derive(Debug)]
struct Stranger {
    source: IpAddr,
    evict: Arc<Notify>,
}

/// A stranger's place; dropping it (or [`StrangerPool`] evicting it) frees the place.
#[derive(Debug)]
pub(super) struct StrangerSlot {
    pool: Arc<StrangerPool>,
    id: u64,
    evict: Arc<Notify>,
}

/// Who made room for a newcomer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Evicted {
    pub source: IpAddr,
    /// Why: the newcomer's own address was at its limit, or the pool was.
    pub reason: LimitHit,
}

impl StrangerPool {
    /// At least one connection per source and in total.
    pub(super) fn new(per_source: usize, total: usize) -> Arc<Self> {
        Arc::new(StrangerPool {
            per_source: per_source.max(1),
            total: total.max(1),
            state: Mutex::new(Strangers::default()),
        })
    }

    /// Always admits `ip`. If its address already has `per_source` strangers, that
    /// address's oldest goes; else if the pool is full, the oldest stranger of the
    /// address holding the most goes (the one connected longest, among equals). The
    /// one that goes is told through [`StrangerSlot::evicted`].
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> (StrangerSlot, Option<Evicted>) {
        let source = source_of(ip);
        let mut s = self.state.lock();
        let from_source = s.by_source.get(&source).map_or(0, BTreeSet::len);
        let victim = if from_source >= self.per_source {
            s.by_source[&source]
                .first()
                .map(|&id| (id, LimitHit::PerKey { open: from_source }))
        } else if s.by_id.len() >= self.total {
            s.by_source
                .values()
                .filter_map(|ids| Some((ids.len(), *ids.first()?)))
                // Most connections first; among those, the oldest.
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                .map(|(_, id)| {
                    (
                        id,
                        LimitHit::Total {
                            open: s.by_id.len(),
                        },
                    )
                })
        } else {
            None
        };
        let evicted = victim.and_then(|(id, reason)| {
            let gone = s.remove(id)?;
            gone.evict.notify_one();
            Some(Evicted {
                source: gone.source,
                reason,
            })
        });
        let id = s.next;
        s.next += 1;
        let evict = Arc::new(Notify::new());
        s.by_id.insert(
            id,
            Stranger {
                source,
                evict: Arc::clone(&evict),
            },
        );
        s.by_source.entry(source).or_default().insert(id);
        let slot = StrangerSlot {
            pool: Arc::clone(self),
            id,
            evict,
        };
        (slot, evicted)
    }

    #[cfg(test)]
    fn open_from(&self, ip: IpAddr) -> usize {
        let s = self.state.lock();
        s.by_source.get(&source_of(ip)).map_or(0, BTreeSet::len)
    }

    #[cfg(test)]
    fn open_total(&self) -> usize {
        self.state.lock().by_id.len()
    }
}

impl Strangers {
    fn remove(&mut self, id: u64) -> Option<Stranger> {
        let gone = self.by_id.remove(&id)?;
        if let Some(ids) = self.by_source.get_mut(&gone.source) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_source.remove(&gone.source);
            }
        }
        Some(gone)
    }
}

impl StrangerSlot {
    /// Resolves once the pool has given this place to a newcomer.
    pub(super) fn evicted(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let evict = Arc::clone(&self.evict);
        async move { evict.notified().await }
    }
}

impl Drop for StrangerSlot {
    fn drop(&mut self) {
        self.pool.state.lock().remove(self.id);
    }
}

/// The source a connection counts against. An IPv4-mapped address is its IPv4 address;
/// other IPv6 addresses count per /64, since one host usually holds a whole /64 and
/// could otherwise open unlimited connections from fresh addresses.
pub(super) fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// How many refused logins are written to the audit log: `per_window` events per
/// window, the rest only counted and written as one summary when the window ends, so
/// a flood of connections costs the log one event per window, not one per attempt.
#[derive(Debug)]
pub(super) struct AuditBudget {
    per_window: usize,
    window: Duration,
    state: Mutex<Budget>,
}

#[derive(Debug)]
struct Budget {
    started: Instant,
    written: usize,
    suppressed: usize,
}

impl AuditBudget {
    pub(super) fn new(per_window: usize, window: Duration) -> AuditBudget {
        AuditBudget {
            per_window,
            window,
            state: Mutex::new(Budget {
                started: Instant::now(),
                written: 0,
                suppressed: 0,
            }),
        }
    }

    /// Whether one more event may be written now; if not, it is counted.
    pub(super) fn allow(&self, now: Instant) -> bool {
        let mut b = self.state.lock();
        if now.duration_since(b.started) >= self.window && b.suppressed == 0 {
            b.started = now;
            b.written = 0;
        }
        if b.written < self.per_window {
            b.written += 1;
            true
        } else {
            b.suppressed += 1;
            false
        }
    }

    /// Once the window is over: how many events it left out (to be written as one
    /// summary), and a new window begins. `None` while the window runs or if nothing
    /// was left out.
    pub(super) fn take_suppressed(&self, now: Instant) -> Option<usize> {
        let mut b = self.state.lock();
        if now.duration_since(b.started) < self.window || b.suppressed == 0 {
            return None;
        }
        let n = b.suppressed;
        *b = Budget {
            started: now,
            written: 0,
            suppressed: 0,
        };
        Some(n)
    }

    pub(super) fn window(&self) -> Duration {
        self.window
    }
}

/// Commands per key per minute over `ssh NAME@desk COMMAND`: a sliding window of
/// start times per key fingerprint (only registered agents' keys get here, so the map
/// stays small; keys idle for a window are forgotten).
#[derive(Debug)]
pub(super) struct ExecRate {
    per_window: usize,
    window: Duration,
    keys: Mutex<HashMap<String, std::collections::VecDeque<Instant>>>,
}

impl ExecRate {
    pub(super) fn new(per_window: u32, window: Duration) -> ExecRate {
        ExecRate {
            per_window: per_window.max(1) as usize,
            window,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may start one more command now; counted if so.
    pub(super) fn allow(&self, key: &str, now: Instant) -> bool {
        let mut keys = self.keys.lock();
        let window = self.window;
        keys.retain(|_, starts| {
            while starts
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                starts.pop_front();
            }
            !starts.is_empty()
        });
        let starts = keys.entry(key.to_string()).or_default();
        if starts.len() >= self.per_window {
            return false;
        }
        starts.push_back(now);
        true
    }

    pub(super) fn per_window(&self) -> usize {
        self.per_window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_rate_counts_per_key_within_the_window() {
        let rate = ExecRate::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(rate.allow("SHA256:a", t0 + Duration::from_secs(i)));
        }
        assert!(!rate.allow("SHA256:a", t0 + Duration::from_secs(10)));
        assert!(
            rate.allow("SHA256:b", t0 + Duration::from_secs(10)),
            "another key has its own count"
        );
        // The first start leaves the window: one more fits, not two.
        assert!(rate.allow("SHA256:a", t0 + Duration::from_secs(60)));
        assert!(!rate.allow("SHA256:a", t0 + Duration::from_secs(60)));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_key_limit_and_release() {
        let limiter = ConnectionLimiter::new(2, 100);
        let a = "alice";
        let first = limiter.try_acquire(a).unwrap();
        let second = limiter.try_acquire(a).unwrap();
        assert_eq!(
            limiter.try_acquire(a).unwrap_err(),
            LimitHit::PerKey { open: 2 }
        );
        // Another key is unaffected.
        let other = limiter.try_acquire("bob").unwrap();
        assert_eq!(limiter.open_total(), 3);

        drop(first);
        assert_eq!(limiter.open_for(&a), 1);
        let again = limiter.try_acquire(a).unwrap();
        drop((second, again, other));
        assert_eq!(limiter.open_total(), 0);
        assert_eq!(limiter.open_for(&a), 0);
        assert!(limiter.open.lock().by_key.is_empty());
    }

    #[test]
    fn total_limit() {
        let limiter = ConnectionLimiter::new(10, 2);
        let _a = limiter.try_acquire(1).unwrap();
        let _b = limiter.try_acquire(2).unwrap();
        assert_eq!(
            limiter.try_acquire(3).unwrap_err(),
            LimitHit::Total { open: 2 }
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let pool = StrangerPool::new(1, 100);
        let (_a, none) = pool.admit(ip("2001:db8:1:2::1"));
        assert_eq!(none, None);
        let (_b, evicted) = pool.admit(ip("2001:db8:1:2:ffff::9"));
        assert_eq!(evicted.unwrap().source, ip("2001:db8:1:2::"));
        let (_c, none) = pool.admit(ip("2001:db8:1:3::1"));
        assert_eq!(none, None);

        let (_d, none) = pool.admit(ip("192.0.2.7"));
        assert_eq!(none, None);
        let (_e, evicted) = pool.admit(ip("::ffff:192.0.2.7"));
        assert_eq!(evicted.unwrap().source, ip("192.0.2.7"));
        assert_eq!(pool.open_total(), 3);
    }

    /// Whether the slot was told to go (without waiting).
    fn was_evicted(slot: &StrangerSlot) -> bool {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(10), slot.evicted())
                .await
                .is_ok()
        })
    }

    #[test]
    fn a_full_address_makes_room_with_its_own_oldest() {
        let pool = StrangerPool::new(2, 100);
        let a = ip("192.0.2.1");
        let (first, _) = pool.admit(a);
        let (second, _) = pool.admit(a);
        let (other, _) = pool.admit(ip("192.0.2.2"));
        let (third, evicted) = pool.admit(a);
        assert_eq!(
            evicted,
            Some(Evicted {
                source: a,
                reason: LimitHit::PerKey { open: 2 }
            })
        );
        assert!(was_evicted(&first));
        assert!(!was_evicted(&second) && !was_evicted(&other) && !was_evicted(&third));
        assert_eq!(pool.open_from(a), 2);
        // The evicted one's slot going away later changes nothing.
        drop(first);
        assert_eq!(pool.open_from(a), 2);
        assert_eq!(pool.open_total(), 3);
        drop((second, third, other));
        assert_eq!(pool.open_total(), 0);
        assert!(pool.state.lock().by_source.is_empty());
    }

    #[test]
    fn a_full_pool_evicts_the_oldest_of_the_biggest_address_never_the_newcomer() {
        // 32 addresses with 8 silent connections each fill the pool of 256.
        let pool = StrangerPool::new(8, 256);
        let mut flood = Vec::new();
        for round in 0..8 {
            for host in 2..34 {
                let (slot, evicted) = pool.admit(ip(&format!("127.0.0.{host}")));
                assert_eq!(evicted, None, "round {round}");
                flood.push(slot);
            }
        }
        // An agent from elsewhere gets in; the very first flood connection makes room.
        let (agent, evicted) = pool.admit(ip("127.0.0.1"));
        assert_eq!(
            evicted,
            Some(Evicted {
                source: ip("127.0.0.2"),
                reason: LimitHit::Total { open: 256 }
            })
        );
        assert!(was_evicted(&flood[0]));
        // The flood reconnecting pushes out its own, not the agent: the agent's address
        // holds one connection, each flooding address several.
        for host in 2..34 {
            for _ in 0..8 {
                flood.push(pool.admit(ip(&format!("127.0.0.{host}"))).0);
            }
        }
        assert!(!was_evicted(&agent));
        assert_eq!(pool.open_from(ip("127.0.0.1")), 1);
        assert_eq!(pool.open_total(), 256);
    }

    #[test]
    fn among_equals_the_oldest_goes() {
        let pool = StrangerPool::new(10, 3);
        let (a, _) = pool.admit(ip("192.0.2.1"));
        let (b, _) = pool.admit(ip("192.0.2.2"));
        let (c, _) = pool.admit(ip("192.0.2.3"));
        let (_d, evicted) = pool.admit(ip("192.0.2.4"));
        assert_eq!(evicted.unwrap().source, ip("192.0.2.1"));
        assert!(was_evicted(&a) && !was_evicted(&b) && !was_evicted(&c));
    }

    #[test]
    fn slots_released_from_many_threads() {
        let limiter = ConnectionLimiter::new(1000, 1000);
        let pool = StrangerPool::new(1000, 1000);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let limiter = Arc::clone(&limiter);
                let pool = Arc::clone(&pool);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        drop(limiter.try_acquire(i).unwrap());
                        drop(pool.admit(ip(&format!("192.0.2.{i}"))));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(limiter.open_total(), 0);
        assert_eq!(pool.open_total(), 0);
    }

    #[test]
    fn the_audit_budget_counts_what_it_leaves_out() {
        let start = Instant::now();
        let budget = AuditBudget::new(3, Duration::from_secs(60));
        let allowed = (0..10).filter(|_| budget.allow(start)).count();
        assert_eq!(allowed, 3);
        assert_eq!(
            budget.take_suppressed(start + Duration::from_secs(30)),
            None
        );
        let later = start + Duration::from_secs(61);
        assert_eq!(budget.take_suppressed(later), Some(7));
        assert_eq!(budget.take_suppressed(later), None);
        // A new window: three more, and nothing left out if that is all.
        assert!((0..3).all(|_| budget.allow(later)));
        assert_eq!(
            budget.take_suppressed(later + Duration::from_secs(61)),
            None
        );
        // An idle spell resets the window by itself.
        let much_later = later + Duration::from_secs(600);
        assert!((0..3).all(|_| budget.allow(much_later)));
        assert!(!budget.allow(much_later));
    }
}
