//! The harness's own lag: how late a timer that should fire every [`TICK`] fired. On a
//! loaded machine (a shared CI runner, another build) the harness, the embedded IdP and an
//! in-process RP all run late. A timing verdict whose miss is no larger than that lag says
//! nothing about the RP: it is an `error` naming the load, never a `fail`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the probe's timer should fire.
pub const TICK: Duration = Duration::from_millis(50);

/// Lateness below this is the timer's ordinary jitter, not kept.
const NOTED: Duration = Duration::from_millis(5);

/// The most late ticks kept (the oldest go first): memory bounded by this, not by the
/// run's length.
const KEPT: usize = 100_000;

/// Late ticks of the probe's timer, while it runs; it stops when dropped.
#[derive(Debug)]
pub struct LagProbe {
    late: Arc<Mutex<VecDeque<(Instant, Duration)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LagProbe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How late the harness ran over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// The latest single tick.
    pub max: Duration,
    /// All the ticks' lateness added up.
    pub total: Duration,
}

impl Lag {
    /// Whether this lag can account for a timing miss of `miss`: the harness itself lost
    /// that much time, or stalled that long at once, while it measured.
    pub fn explains(&self, miss: Duration) -> bool {
        !miss.is_zero() && (self.total >= miss || self.max >= miss)
    }

    /// `its own 50 ms timer ran up to 0.62 s late (1.40 s in all)`.
    pub fn describe(&self) -> String {
        format!(
            "its own {} ms timer ran up to {:.2} s late ({:.2} s in all)",
            TICK.as_millis(),
            self.max.as_secs_f64(),
            self.total.as_secs_f64()
        )
    }
}

impl LagProbe {
    /// Starts the probe on the current runtime.
    pub fn start() -> LagProbe {
        let late: Arc<Mutex<VecDeque<(Instant, Duration)>>> = Arc::default();
        let record = late.clone();
        let task = tokio::spawn(async move {
            let mut next = Instant::now() + TICK;
            loop {
                tokio::time::sleep_until(next.into()).await;
                let now = Instant::now();
                let by = now.saturating_duration_since(next);
                if by >= NOTED {
                    let mut l = record.lock().unwrap_or_else(|p| p.into_inner());
                    if l.len() == KEPT {
                        l.pop_front();
                    }
                    l.push_back((now, by));
                }
                next = now + TICK;
            }
        });
        LagProbe { late, task }
    }

    /// How late the harness ran between `from` and `to` (a tick that fired late within the
    /// window counts).
    pub fn during(&self, from: Instant, to: Instant) -> Lag {
        let l = self.late.lock().unwrap_or_else(|p| p.into_inner());
        l.iter()
            .filter(|(at, _)| *at >= from && *at <= to + TICK)
            .fold(Lag::default(), |acc, (_, by)| Lag {
                max: acc.max.max(*by),
                total: acc.total + *by,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lag_explains_a_miss_it_covers_and_nothing_else() {
        let lag = Lag {
            max: Duration::from_millis(300),
            total: Duration::from_millis(900),
        };
        assert!(lag.explains(Duration::from_millis(800)));
        assert!(!lag.explains(Duration::from_millis(1200)));
        assert!(!lag.explains(Duration::ZERO), "no miss, nothing to explain");
        assert!(!Lag::default().explains(Duration::from_millis(1)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_blocked_runtime_shows_as_lag() {
        let probe = LagProbe::start();
        tokio::time::sleep(TICK * 2).await;
        let from = Instant::now();
        // The only thread busy for 400 ms: the probe's tick fires that late.
        std::thread::sleep(Duration::from_millis(400));
        tokio::time::sleep(TICK * 2).await;
        let lag = probe.during(from, Instant::now());
        assert!(lag.max >= Duration::from_millis(300), "{lag:?}");
        assert!(lag.explains(Duration::from_millis(300)));
    }
}
