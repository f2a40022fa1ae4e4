//! Fresh signing keys made ahead of need.
//!
//! A tenant created at runtime gets keys of its own, never shared with another tenant: a
//! key-rotation test, or a test that forges a token with its tenant's key, must not touch
//! any other test's tenant. An RSA-2048 key takes tens of milliseconds to generate (the
//! primes are searched for), and made inside the creating request it was nearly all of a
//! tenant's cost. So RSA keys come from a pool: a thread of its own (never a runtime
//! worker) keeps [`TARGET`] keys ready and makes another each time one is taken; a taker
//! finds one ready, or, when a burst has emptied the pool, makes its own on the spot (as
//! before, counted as a miss). The thread starts at the first take, so a process that never
//! creates a tenant or rotates a key never pays for it; [`warm`] starts it early. EC keys
//! cost microseconds and are made on the spot.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use crate::key_material::{self, KeyMaterial};
use crate::keys::generate_pem;
use crate::types::SigningAlg;

/// How many RSA keys the pool keeps ready unless [`warm`] says otherwise: enough for a
/// burst of tests that each create a tenant, a few kilobytes each.
pub const TARGET: usize = 8;

/// What the pool has done in this process (for a test, or an embedder sizing it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Keys ready now.
    pub ready: usize,
    /// Keys taken ready from the pool.
    pub hits: u64,
    /// Keys a taker had to make itself (the pool was empty).
    pub misses: u64,
}

struct State {
    keys: Vec<Arc<KeyMaterial>>,
    target: usize,
    filling: bool,
    stats: PoolStats,
}

struct Pool {
    state: Mutex<State>,
    /// Signalled when a key is taken (the filler may have room).
    taken: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State {
            keys: Vec::new(),
            target: TARGET,
            filling: false,
            stats: PoolStats::default(),
        }),
        taken: Condvar::new(),
    })
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the filler thread unless it runs.
    fn start(&'static self, state: &mut State) {
        if state.filling {
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("mock-idp-key-pool".into())
            .spawn(move || self.fill());
        // Without a thread (the system refuses one) every taker makes its own key: slower,
        // never wrong.
        state.filling = spawned.is_ok();
    }

    /// The filler: makes keys while the pool is below its target, sleeps while it is full.
    fn fill(&self) {
        loop {
            {
                let mut state = self.lock();
                while state.keys.len() >= state.target {
                    state = self.taken.wait(state).unwrap_or_else(|p| p.into_inner());
                }
            }
            // Made and parsed outside the lock: a taker never waits for the filler's key.
            match fresh(SigningAlg::RS256) {
                Ok(key) => self.lock().keys.push(key),
                Err(e) => {
                    tracing::warn!("key pool: {e}; takers make their own keys");
                    self.lock().filling = false;
                    return;
                }
            }
        }
    }
}

/// A new key, parsed.
fn fresh(alg: SigningAlg) -> Result<Arc<KeyMaterial>, String> {
    key_material::parse(alg, &generate_pem(alg)?)
}

/// A private key of its own for `alg`, parsed: an RSA key from the pool (or made now when
/// it is empty), an EC key made now.
pub fn take(alg: SigningAlg) -> Result<Arc<KeyMaterial>, String> {
    if alg == SigningAlg::ES256 {
        return fresh(alg);
    }
    let pool = pool();
    let ready = {
        let mut state = pool.lock();
        let ready = state.keys.pop();
        match ready {
            Some(_) => state.stats.hits += 1,
            None => state.stats.misses += 1,
        }
        pool.start(&mut state);
        ready
    };
    pool.taken.notify_one();
    match ready {
        Some(key) => Ok(key),
        None => fresh(alg),
    }
}

/// The process's shared RSA key (made, or taken from the pool, once), or a new EC key:
/// for tenants created with [`crate::registry::Keys::Shared`].
pub fn shared(alg: SigningAlg) -> Result<Arc<KeyMaterial>, String> {
    static SHARED: OnceLock<Arc<KeyMaterial>> = OnceLock::new();
    if alg == SigningAlg::ES256 {
        return fresh(alg);
    }
    if let Some(key) = SHARED.get() {
        return Ok(key.clone());
    }
    // A ready key if there is one, else one made now: a process whose tenants all share
    // never starts the filler for keys it would not use.
    let ready = pool().lock().keys.pop();
    let key = match ready {
        Some(key) => key,
        None => fresh(alg)?,
    };
    // Two first callers at once: the first set wins, the other key is dropped.
    Ok(SHARED.get_or_init(|| key).clone())
}

/// Keeps `target` RSA keys ready from now on (`mock-idp serve --key-pool N`): a server
/// that will create many tenants fills its pool before the first is asked for.
pub fn warm(target: usize) {
    let pool = pool();
    let mut state = pool.lock();
    state.target = target;
    if target > 0 {
        pool.start(&mut state);
    }
    drop(state);
    pool.taken.notify_one();
}

/// What the pool has done so far in this process.
pub fn stats() -> PoolStats {
    let state = pool().lock();
    PoolStats {
        ready: state.keys.len(),
        ..state.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_taker_gets_a_key_of_its_own_whether_the_pool_had_one_or_not() {
        let before = stats();
        let keys: Vec<String> = (0..3)
            .map(|_| take(SigningAlg::RS256).expect("a key").pem().to_owned())
            .collect();
        let after = stats();
        assert_eq!(
            (after.hits + after.misses) - (before.hits + before.misses),
            3,
            "every take is a hit or a miss"
        );
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), 3, "no key is handed out twice");
        for pem in &keys {
            crate::keys::SigningKey::from_pem("k", SigningAlg::RS256, pem).expect("a usable key");
        }
        let ec = take(SigningAlg::ES256).expect("an EC key");
        crate::keys::SigningKey::from_material("e", SigningAlg::ES256, &ec)
            .expect("a usable EC key");
        assert!(
            crate::keys::SigningKey::from_material("e", SigningAlg::RS256, &ec).is_err(),
            "an EC key does not sign RS256"
        );
    }
}
