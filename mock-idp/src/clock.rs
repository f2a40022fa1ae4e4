//! The injected clock: one per tenant, driving every lifetime.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// A clock that tests can move. Clones share the same time.
///
/// `Clock::system()` follows the wall clock plus an offset that [`Clock::advance`] grows;
/// `Clock::fixed(t)` stands still at `t` until advanced or set.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fixed: bool,
    /// Offset from the wall clock (system) or the time itself (fixed).
    value: AtomicI64,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Clock {
        Clock {
            inner: Arc::new(Inner {
                fixed: false,
                value: AtomicI64::new(0),
            }),
        }
    }

    /// A clock stopped at `now` (deterministic tokens for snapshots).
    pub fn fixed(now: UnixTime) -> Clock {
        Clock {
            inner: Arc::new(Inner {
                fixed: true,
                value: AtomicI64::new(now),
            }),
        }
    }

    /// The current time.
    pub fn now(&self) -> UnixTime {
        let v = self.inner.value.load(Ordering::SeqCst);
        if self.inner.fixed { v } else { wall() + v }
    }

    /// The time on a client's clock, for what a client signs with it (a client
    /// assertion's `exp`): the wall clock for a system clock, since moving the IdP's time
    /// ages the IdP's records, not its clients' clocks; the time itself when fixed.
    pub fn peer_now(&self) -> UnixTime {
        if self.inner.fixed { self.now() } else { wall() }
    }

    /// Moves time forward (or back, with a negative value).
    pub fn advance(&self, seconds: i64) {
        self.inner.value.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the time.
    pub fn set(&self, now: UnixTime) {
        let v = if self.inner.fixed { now } else { now - wall() };
        self.inner.value.store(v, Ordering::SeqCst);
    }

    /// Whether this clock stands still.
    pub fn is_fixed(&self) -> bool {
        self.inner.fixed
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

fn wall() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let c = Clock::fixed(1_000);
        assert_eq!(c.now(), 1_000);
        c.advance(30);
        assert_eq!(c.clone().now(), 1_030);
        c.set(5);
        assert_eq!(c.now(), 5);
    }

    #[test]
    fn system_clock_advances_by_offset() {
        let c = Clock::system();
        let before = c.now();
        c.advance(3_600);
        assert!(c.now() >= before + 3_600);
        c.set(42);
        assert!((42..=43).contains(&c.now()));
    }
}
