//! The quiets of an RP's refresh stream (every refresh the IdP journals, anyone's): an RP
//! that refreshes users one after another goes quiet for everyone while it waits on a
//! refresh the IdP holds past its timeout; one that refreshes each user independently does
//! not. `sync.transient-idp-failure` and explore's stalled-sync check both read it so.

/// A refresh seen `t` seconds in, and whether the IdP held it past the RP's timeout.
pub type Seen = (f64, bool);

/// The longest time without a new refresh from `start` to `end`, but for the quiets that
/// follow a hung refresh (a hang, this one's or another's, is no measure of the calm).
pub fn calm(seen: &[Seen], start: f64, end: f64) -> f64 {
    let mut last = (start, false);
    let mut longest: f64 = 0.0;
    for &(t, hung) in seen.iter().chain(std::iter::once(&(end, false))) {
        if !last.1 {
            longest = longest.max(t - last.0);
        }
        last = (t, hung);
    }
    longest
}

/// The time from the `k`-th refresh to the next (or to `end`).
pub fn after(seen: &[Seen], k: usize, end: f64) -> f64 {
    seen.get(k + 1).map_or(end, |s| s.0) - seen[k].0
}

/// Whether a quiet after a hung refresh is the RP waiting on it: half its timeout or more,
/// and longer than the calm by a quarter of the timeout.
pub fn held(quiet: f64, calm: f64, timeout: f64) -> bool {
    quiet >= timeout / 2.0 && quiet >= calm + timeout / 4.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_after_a_hang_is_held_and_the_calm_leaves_it_out() {
        let seen = [
            (0.4, false),
            (0.8, false),
            (1.2, true),
            (3.7, false),
            (4.1, false),
        ];
        assert!((calm(&seen, 0.0, 4.3) - 0.4).abs() < 1e-9);
        assert!((after(&seen, 2, 4.3) - 2.5).abs() < 1e-9);
        assert!(held(2.5, 0.4, 2.5));
        // Control: a stream that goes on after the hang.
        assert!(!held(0.4, 0.4, 2.5));
        // A stream that is as quiet anyway tells nothing.
        assert!(!held(2.5, 2.0, 2.5));
    }
}
