//! Caps on concurrent connections, checked right after `accept` so a flood from one
//! address costs a socket and a map entry, never a key exchange.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// This source already has the allowed number of connections.
    PerSource { open: usize },
    /// The server as a whole is full.
    Total { open: usize },
}

/// Counts open connections per source and in total.
#[derive(Debug)]
pub struct ConnectionLimiter {
    per_source: usize,
    total: usize,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct ConnectionSlot {
    limiter: Arc<ConnectionLimiter>,
    source: IpAddr,
}

impl ConnectionLimiter {
    pub fn new(per_source: usize, total: usize) -> Arc<Self> {
        Arc::new(ConnectionLimiter {
            per_source,
            total,
            open: Mutex::new(Counts::default()),
        })
    }

    /// Admits a connection from `ip` if both limits allow it.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionSlot, LimitHit> {
        let source = source_of(ip);
        let mut open = self.open.lock();
        if open.total >= self.total {
            return Err(LimitHit::Total { open: open.total });
        }
        let count = open.by_source.entry(source).or_insert(0);
        if *count >= self.per_source {
            return Err(LimitHit::PerSource { open: *count });
        }
        *count += 1;
        open.total += 1;
        Ok(ConnectionSlot {
            limiter: Arc::clone(self),
            source,
        })
    }

    /// Open connections from the source `ip` counts as.
    #[cfg(test)]
    fn open_from(&self, ip: IpAddr) -> usize {
        let open = self.open.lock();
        open.by_source.get(&source_of(ip)).copied().unwrap_or(0)
    }

    #[cfg(test)]
    fn open_total(&self) -> usize {
        self.open.lock().total
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_source.get_mut(&self.source) {
            *count -= 1;
            if *count == 0 {
                // Keep the map as small as the set of sources connected right now.
                open.by_source.remove(&self.source);
            }
        }
    }
}

/// The source a connection counts against. An IPv4-mapped address is its IPv4 address;
/// other IPv6 addresses count per /64, since one host usually holds a whole /64 and
/// could otherwise open unlimited connections from fresh addresses.
fn source_of(ip: IpAddr) -> IpAddr {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_source_limit_and_release() {
        let limiter = ConnectionLimiter::new(2, 100);
        let a = ip("192.0.2.1");
        let first = limiter.try_acquire(a).unwrap();
        let second = limiter.try_acquire(a).unwrap();
        assert_eq!(
            limiter.try_acquire(a).unwrap_err(),
            LimitHit::PerSource { open: 2 }
        );
        // Another source is unaffected.
        let other = limiter.try_acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(limiter.open_total(), 3);

        drop(first);
        assert_eq!(limiter.open_from(a), 1);
        let again = limiter.try_acquire(a).unwrap();
        drop((second, again, other));
        assert_eq!(limiter.open_total(), 0);
        assert_eq!(limiter.open_from(a), 0);
        assert!(limiter.open.lock().by_source.is_empty());
    }

    #[test]
    fn total_limit() {
        let limiter = ConnectionLimiter::new(10, 2);
        let _a = limiter.try_acquire(ip("192.0.2.1")).unwrap();
        let _b = limiter.try_acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(
            limiter.try_acquire(ip("192.0.2.3")).unwrap_err(),
            LimitHit::Total { open: 2 }
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let limiter = ConnectionLimiter::new(1, 100);
        let _a = limiter.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        assert!(limiter.try_acquire(ip("2001:db8:1:2:ffff::9")).is_err());
        let _b = limiter.try_acquire(ip("2001:db8:1:3::1")).unwrap();

        let _c = limiter.try_acquire(ip("192.0.2.7")).unwrap();
        assert!(limiter.try_acquire(ip("::ffff:192.0.2.7")).is_err());
    }

    #[test]
    fn slots_released_from_many_threads() {
        let limiter = ConnectionLimiter::new(1000, 1000);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let limiter = Arc::clone(&limiter);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let slot = limiter.try_acquire(ip(&format!("192.0.2.{i}"))).unwrap();
                        drop(slot);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(limiter.open_total(), 0);
    }
}
