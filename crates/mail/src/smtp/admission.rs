//! Who gets a connection: a limit per client address and one in total. When the
//! listener is full, the oldest connection that is between messages (greeted or not,
//! but no MAIL under way) and has been open a little while is closed with 421 to make
//! room; only if there is none is the newcomer told 421. Closing a connection between
//! messages loses nothing: nothing was acknowledged, and a real MTA simply reconnects.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A connection younger than this is never pushed out: it is probably still greeting,
/// and a flood of newcomers must not be able to push out each client before it speaks.
pub(super) const EVICTABLE_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub(super) struct Admission {
    per_address: usize,
    total: usize,
    state: Mutex<Seats>,
}

#[derive(Debug, Default)]
struct Seats {
    /// Only grows: a smaller number is an older connection.
    next: u64,
    open: BTreeMap<u64, Occupant>,
    by_address: HashMap<IpAddr, usize>,
}

#[derive(Debug)]
struct Occupant {
    address: IpAddr,
    opened: Instant,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// A message is under way (MAIL accepted, not yet answered after DATA).
    busy: AtomicBool,
    evict: Notify,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub(super) struct Seat {
    admission: Arc<Admission>,
    id: u64,
    shared: Arc<Shared>,
}

/// Why a newcomer was told 421.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Full {
    /// Its address already holds the allowed number of connections.
    Address,
    /// Every connection is busy with a message or has only just connected.
    Everyone,
}

impl Admission {
    pub(super) fn new(per_address: usize, total: usize) -> Arc<Admission> {
        Arc::new(Admission {
            per_address: per_address.max(1),
            total: total.max(1),
            state: Mutex::new(Seats::default()),
        })
    }

    /// A seat for a connection from `ip`, and the address of the one pushed out for it.
    pub(super) fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        now: Instant,
    ) -> Result<(Seat, Option<IpAddr>), Full> {
        let address = plain(ip);
        let mut seats = self.state.lock();
        if seats.by_address.get(&address).copied().unwrap_or(0) >= self.per_address {
            return Err(Full::Address);
        }
        let mut pushed_out = None;
        if seats.open.len() >= self.total {
            let victim = seats
                .open
                .iter()
                .find(|(_, o)| {
                    !o.shared.busy.load(Ordering::Acquire)
                        && now.saturating_duration_since(o.opened) >= EVICTABLE_AFTER
                })
                .map(|(&id, _)| id)
                .ok_or(Full::Everyone)?;
            let gone = seats.remove(victim).expect("found above");
            gone.shared.evict.notify_one();
            pushed_out = Some(gone.address);
        }
        let id = seats.next;
        seats.next += 1;
        let shared = Arc::new(Shared::default());
        seats.open.insert(
            id,
            Occupant {
                address,
                opened: now,
                shared: Arc::clone(&shared),
            },
        );
        *seats.by_address.entry(address).or_insert(0) += 1;
        let seat = Seat {
            admission: Arc::clone(self),
            id,
            shared,
        };
        Ok((seat, pushed_out))
    }

    pub(super) fn open(&self) -> usize {
        self.state.lock().open.len()
    }
}

impl Seats {
    fn remove(&mut self, id: u64) -> Option<Occupant> {
        let gone = self.open.remove(&id)?;
        if let Some(n) = self.by_address.get_mut(&gone.address) {
            *n -= 1;
            if *n == 0 {
                self.by_address.remove(&gone.address);
            }
        }
        Some(gone)
    }
}

impl Seat {
    /// Whether a message is under way: a busy connection is never pushed out.
    pub(super) fn set_busy(&self, busy: bool) {
        self.shared.busy.store(busy, Ordering::Release);
    }

    /// Resolves once the seat was given to a newcomer.
    pub(super) async fn pushed_out(&self) {
        self.shared.evict.notified().await
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.admission.state.lock().remove(self.id);
    }
}

/// An IPv4-mapped address counts as its IPv4 address.
fn plain(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn pushed(seat: &Seat) -> bool {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(10), seat.pushed_out())
                .await
                .is_ok()
        })
    }

    #[test]
    fn per_address_limit_refuses_the_newcomer() {
        let admission = Admission::new(2, 100);
        let now = Instant::now();
        let _a = admission.admit(ip("192.0.2.1"), now).unwrap();
        let _b = admission.admit(ip("::ffff:192.0.2.1"), now).unwrap();
        assert_eq!(
            admission.admit(ip("192.0.2.1"), now).unwrap_err(),
            Full::Address
        );
        assert!(admission.admit(ip("192.0.2.2"), now).is_ok());
    }

    #[test]
    fn full_pushes_out_the_oldest_idle_connection_not_a_busy_or_new_one() {
        let admission = Admission::new(10, 3);
        let t0 = Instant::now();
        let (old_busy, _) = admission.admit(ip("192.0.2.1"), t0).unwrap();
        old_busy.set_busy(true);
        let (old_idle, _) = admission.admit(ip("192.0.2.2"), t0).unwrap();
        let (newer_idle, _) = admission
            .admit(ip("192.0.2.3"), t0 + EVICTABLE_AFTER)
            .unwrap();

        // Just after the last one connected: the old idle one goes.
        let t1 = t0 + EVICTABLE_AFTER + Duration::from_millis(100);
        let (newcomer, gone) = admission.admit(ip("192.0.2.9"), t1).unwrap();
        assert_eq!(gone, Some(ip("192.0.2.2")));
        assert!(pushed(&old_idle));
        assert!(!pushed(&old_busy) && !pushed(&newer_idle));

        // Now everyone is busy or too new: the next newcomer is refused.
        assert_eq!(
            admission.admit(ip("192.0.2.10"), t1).unwrap_err(),
            Full::Everyone
        );
        // Once the busy one is done with its message, it can make room.
        old_busy.set_busy(false);
        let (last, gone) = admission.admit(ip("192.0.2.10"), t1).unwrap();
        assert_eq!(gone, Some(ip("192.0.2.1")));
        assert!(pushed(&old_busy));
        drop((old_idle, old_busy, newcomer, newer_idle));
        assert_eq!(admission.open(), 1);
        drop(last);
        assert_eq!(admission.open(), 0);
    }
}
