//! Device authorizations (RFC 8628): a device code the device polls with, a user code its
//! user enters at the verification page, and what the user decided. Pure logic, no HTTP.

use std::sync::Arc;

use super::{Grant, Grants, Record};
use crate::clock::UnixTime;

/// The letters of a user code: no vowels (no words spelled by chance) and none that read
/// as a digit (RFC 8628 §6.1).
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Letters in a user code (20^8 ≈ 2^34.6 codes; RFC 8628 §5.1 asks for rate limiting on
/// top, which a mock does not do).
pub const USER_CODE_LEN: usize = 8;

/// How much a device's interval grows at each `slow_down` (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: u64 = 5;

/// A user code made of `random`'s bytes, normalised (no dash; see [`display_user_code`]).
pub fn user_code(random: &[u8; USER_CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A user code as people type it: case, spaces and dashes ignored (RFC 8628 §6.1).
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A normalised user code as shown: `WDJB-MJHT`.
pub fn display_user_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}-{b}"),
        _ => code.to_owned(),
    }
}

/// Where a device authorization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    /// Its user has not decided yet.
    Pending,
    /// Its user signed in and allowed it: the grant to issue tokens under.
    Approved(Arc<Grant>),
    /// Its user refused.
    Denied,
    /// The device received its tokens (the device code is spent).
    Redeemed,
}

/// A device authorization request.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    /// The client that asked.
    pub client_id: String,
    /// The scope it asked for.
    pub scope: Vec<String>,
    /// The normalised user code.
    pub user_code: String,
    /// Until when it may be decided and polled.
    pub expires_at: UnixTime,
    /// The seconds the device must wait between polls (grows at each `slow_down`).
    pub interval: u64,
    /// When the device last polled.
    pub last_poll: Option<UnixTime>,
    /// Where it stands.
    pub state: DeviceState,
}

/// A poll that gives no tokens (RFC 8628 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotYet {
    /// `authorization_pending`: the user has not decided.
    Pending,
    /// `slow_down`: polled sooner than the interval, which grew to this.
    SlowDown(u64),
    /// `access_denied`: the user refused.
    Denied,
    /// `expired_token`: the code's lifetime is over.
    Expired,
    /// `invalid_grant`: no such device code for this client, or already redeemed.
    Invalid(&'static str),
}

impl NotYet {
    /// The RFC 8628 §3.5 (or RFC 6749 §5.2) error code.
    pub fn code(&self) -> &'static str {
        match self {
            NotYet::Pending => "authorization_pending",
            NotYet::SlowDown(_) => "slow_down",
            NotYet::Denied => "access_denied",
            NotYet::Expired => "expired_token",
            NotYet::Invalid(_) => "invalid_grant",
        }
    }

    /// What happened, for `error_description`.
    pub fn description(&self) -> String {
        match self {
            NotYet::Pending => "the user has not yet approved the device".into(),
            NotYet::SlowDown(i) => {
                format!("polled sooner than the interval; wait {i} s between polls from now on")
            }
            NotYet::Denied => "the user denied the device".into(),
            NotYet::Expired => "the device code expired before the user approved it".into(),
            NotYet::Invalid(why) => (*why).to_owned(),
        }
    }
}

/// Why a user's decision was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this code is not valid: it was mistyped, has expired, or was already used")]
pub struct UnknownUserCode;

/// How many wrong user codes the verification page takes within [`GUESS_WINDOW`] seconds
/// before it refuses every code until the oldest of them is that old (RFC 8628 §5.1: an
/// 8-letter code from 20 letters has 2^34 values, and guessing is slowed to make finding
/// a live one hopeless). Tenant-wide: every client of a mock reaches it from loopback.
pub const GUESSES: usize = 5;

/// The window of [`GUESSES`], in seconds of the tenant's clock.
pub const GUESS_WINDOW: i64 = 60;

impl Grants {
    /// Seconds until the verification page takes a code again, when too many wrong ones
    /// were typed lately.
    pub fn guessing_blocked(&self, now: UnixTime) -> Option<u64> {
        let oldest = *self.guesses.front()?;
        (self.guesses.len() >= GUESSES && now - oldest < GUESS_WINDOW)
            .then(|| (GUESS_WINDOW - (now - oldest)) as u64)
    }

    /// Notes a wrong user code typed now.
    pub fn wrong_user_code(&mut self, now: UnixTime) {
        if self.guesses.len() >= GUESSES {
            self.guesses.pop_front();
        }
        self.guesses.push_back(now);
    }

    /// Records a device authorization under its device code.
    pub fn insert_device(&mut self, device_code: &str, record: DeviceRecord, now: UnixTime) {
        let evicted = self.devices.insert(device_code, record);
        self.note_insert(Record::DeviceCode, evicted, now);
    }

    /// Whether a live authorization already has this user code.
    pub fn user_code_taken(&self, user_code: &str, now: UnixTime) -> bool {
        self.pending_device(user_code, now).is_some()
    }

    /// The undecided, unexpired authorization a user code names.
    pub fn pending_device(&self, user_code: &str, now: UnixTime) -> Option<&DeviceRecord> {
        self.devices.values().find(|d| {
            d.user_code == user_code && d.state == DeviceState::Pending && now < d.expires_at
        })
    }

    /// The user's decision on the authorization a user code names: a grant to approve it,
    /// `None` to deny it.
    pub fn decide_device(
        &mut self,
        user_code: &str,
        approved: Option<Arc<Grant>>,
        now: UnixTime,
    ) -> Result<(), UnknownUserCode> {
        let record = self
            .devices
            .values_mut()
            .find(|d| {
                d.user_code == user_code && d.state == DeviceState::Pending && now < d.expires_at
            })
            .ok_or(UnknownUserCode)?;
        record.state = approved.map_or(DeviceState::Denied, DeviceState::Approved);
        Ok(())
    }

    /// The username an approved device code was approved by (the journal's user).
    pub fn device_user(&self, device_code: &str) -> Option<String> {
        match &self.devices.get(device_code)?.state {
            DeviceState::Approved(g) => g.username.clone(),
            _ => None,
        }
    }

    /// A device's poll of the token endpoint (RFC 8628 §3.4, §3.5): the approved grant,
    /// once; otherwise why not. A poll sooner than the interval after the previous one is
    /// `slow_down` and adds [`SLOW_DOWN_STEP`] to the interval.
    pub fn poll_device(
        &mut self,
        device_code: &str,
        client_id: &str,
        now: UnixTime,
    ) -> Result<Arc<Grant>, NotYet> {
        let record = self
            .devices
            .get_mut(device_code)
            .filter(|d| d.client_id == client_id)
            .ok_or(NotYet::Invalid(
                "unknown device_code (or issued to another client)",
            ))?;
        if record.state == DeviceState::Redeemed {
            return Err(NotYet::Invalid("the device_code was already redeemed"));
        }
        if now >= record.expires_at {
            return Err(NotYet::Expired);
        }
        let previous = record.last_poll.replace(now);
        match &record.state {
            DeviceState::Approved(grant) => {
                let grant = grant.clone();
                record.state = DeviceState::Redeemed;
                Ok(grant)
            }
            DeviceState::Denied => Err(NotYet::Denied),
            DeviceState::Pending | DeviceState::Redeemed => match previous {
                Some(p) if now.saturating_sub(p) < record.interval as i64 => {
                    record.interval += SLOW_DOWN_STEP;
                    Err(NotYet::SlowDown(record.interval))
                }
                _ => Err(NotYet::Pending),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(interval: u64) -> DeviceRecord {
        DeviceRecord {
            client_id: "tv".into(),
            scope: vec!["openid".into()],
            user_code: "BCDFGHJK".into(),
            expires_at: 1_000,
            interval,
            last_poll: None,
            state: DeviceState::Pending,
        }
    }

    fn grant() -> Arc<Grant> {
        Arc::new(Grant {
            client_id: "tv".into(),
            username: Some("alice".into()),
            sub: "a".into(),
            scope: vec!["openid".into()],
            auth_time: 10,
            sid: None,
            nonce: None,
        })
    }

    #[test]
    fn user_codes_are_typed_loosely_and_shown_in_two_halves() {
        assert_eq!(user_code(&[0, 1, 2, 3, 19, 20, 255, 40]), "BCDFZBTB");
        assert_eq!(normalize_user_code(" bcdf-ghjk "), "BCDFGHJK");
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
        assert_eq!(display_user_code("BCD"), "BCD");
    }

    #[test]
    fn a_device_polls_until_approved_then_gets_its_grant_once() {
        let mut g = Grants::default();
        g.insert_device("dc", record(5), 0);
        assert_eq!(g.poll_device("dc", "tv", 0), Err(NotYet::Pending));
        assert_eq!(g.poll_device("dc", "tv", 5), Err(NotYet::Pending));
        assert_eq!(
            g.pending_device("BCDFGHJK", 6).map(|d| &d.client_id[..]),
            Some("tv")
        );
        g.decide_device("BCDFGHJK", Some(grant()), 6).unwrap();
        assert_eq!(g.device_user("dc").as_deref(), Some("alice"));
        // An approved device is answered however soon it polls.
        assert_eq!(g.poll_device("dc", "tv", 7), Ok(grant()));
        assert_eq!(
            g.poll_device("dc", "tv", 20),
            Err(NotYet::Invalid("the device_code was already redeemed"))
        );
        // The code was decided: the page no longer finds it.
        assert_eq!(g.decide_device("BCDFGHJK", None, 8), Err(UnknownUserCode));
    }

    #[test]
    fn polling_too_fast_slows_the_device_down_step_by_step() {
        let mut g = Grants::default();
        g.insert_device("dc", record(5), 0);
        assert_eq!(g.poll_device("dc", "tv", 100), Err(NotYet::Pending));
        assert_eq!(g.poll_device("dc", "tv", 104), Err(NotYet::SlowDown(10)));
        // Measured from the last poll, with the grown interval.
        assert_eq!(g.poll_device("dc", "tv", 113), Err(NotYet::SlowDown(15)));
        assert_eq!(g.poll_device("dc", "tv", 128), Err(NotYet::Pending));
        // An interval of 0 never slows a device down.
        g.insert_device("fast", record(0), 0);
        for _ in 0..3 {
            assert_eq!(g.poll_device("fast", "tv", 200), Err(NotYet::Pending));
        }
    }

    #[test]
    fn a_denied_expired_unknown_or_foreign_code_says_so() {
        let mut g = Grants::default();
        g.insert_device("dc", record(0), 0);
        g.decide_device("BCDFGHJK", None, 1).unwrap();
        assert_eq!(g.poll_device("dc", "tv", 2), Err(NotYet::Denied));
        assert_eq!(g.poll_device("dc", "tv", 1_000), Err(NotYet::Expired));
        assert!(matches!(
            g.poll_device("dc", "other", 2),
            Err(NotYet::Invalid(_))
        ));
        assert!(matches!(
            g.poll_device("nope", "tv", 2),
            Err(NotYet::Invalid(_))
        ));
        g.insert_device("late", record(0), 0);
        assert_eq!(
            g.decide_device("BCDFGHJK", Some(grant()), 1_000),
            Err(UnknownUserCode),
            "an expired code cannot be approved"
        );
        assert!(!g.user_code_taken("BCDFGHJK", 1_000));
        assert!(g.user_code_taken("BCDFGHJK", 999));
    }

    #[test]
    fn wrong_user_codes_past_the_limit_block_every_code_for_the_rest_of_the_window() {
        let mut g = Grants::default();
        for i in 0..GUESSES as i64 - 1 {
            g.wrong_user_code(1_000 + i);
            assert_eq!(g.guessing_blocked(1_000 + i), None, "{} wrong codes", i + 1);
        }
        g.wrong_user_code(1_010);
        assert_eq!(
            g.guessing_blocked(1_010),
            Some(50),
            "the oldest was typed at 1000"
        );
        assert_eq!(g.guessing_blocked(1_059), Some(1));
        assert_eq!(g.guessing_blocked(1_060), None, "a minute after the oldest");
        // One more wrong code: the oldest of the last five (1001) starts the wait.
        g.wrong_user_code(1_060);
        assert_eq!(g.guessing_blocked(1_060), Some(1));
        assert_eq!(g.guesses.len(), GUESSES, "memory stays at the limit");
    }
}
