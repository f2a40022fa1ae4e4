//! The `Scenario` type and the context a scenario runs in: its own users at the IdP, its
//! own browsers, and the evidence it gathers.

mod idp_side;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::browser::{Browser, Sites};
use mock_idp::faults::{Fault, FaultPoint};

use crate::idp::{Admin, JournalEntry, TestUser, kind};
use crate::profile::IdpShape;
use crate::rp::{Pointer, RpDescription, SyncMode};
use crate::stage::Stage;
use crate::verdict::{Evidence, Judged, LatencyStat, MeReading, Stop};

/// A scenario's category (SCENARIOS.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The authorization code flow.
    Login,
    /// ID-token validation.
    Idtoken,
    /// Who is who.
    Identity,
    /// Group → permission sync.
    Permissions,
    /// Sync timing through refresh tokens.
    Sync,
    /// Access ends.
    Revocation,
    /// Logout channels: the IdP tells the RP a session ended.
    Logout,
}

impl Category {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Login => "login",
            Category::Idtoken => "idtoken",
            Category::Identity => "identity",
            Category::Permissions => "permissions",
            Category::Sync => "sync",
            Category::Revocation => "revocation",
            Category::Logout => "logout",
        }
    }
}

/// When a scenario runs within a sync mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Concurrently with the others.
    Concurrent,
    /// Alone, after the concurrent ones (it moves the tenant's clock).
    Alone,
    /// Alone, at the very end (a key rotation may leave an RP unable to verify anything).
    Last,
}

/// A scenario's body.
pub type RunFn = for<'a> fn(&'a Ctx) -> Pin<Box<dyn Future<Output = Judged> + Send + 'a>>;

/// One check of the catalogue.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Stable id, `category.name`.
    pub id: &'static str,
    /// Category.
    pub category: Category,
    /// The requirement, in words, with the spec section or OIDF test where one exists.
    pub requirement: &'static str,
    /// One line: what the RP must do.
    pub description: &'static str,
    /// When it runs: with the others, or alone because it changes the tenant for everyone.
    pub phase: Phase,
    /// The sync modes it applies to (empty: all); in the others it is skipped.
    pub modes: &'static [SyncMode],
    /// It changes users' groups and reads permissions: skipped against a provider profile
    /// that puts no groups where an RP can read them.
    pub needs_groups: bool,
    /// The body.
    pub run: RunFn,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// The authorization request of a login, as the provider took it
/// ([`Ctx::authorization_request`]).
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// Its parameters: the front channel's, or those of the request pushed.
    pub params: BTreeMap<String, String>,
    /// The journal's entry of the push, for a pushed request (RFC 9126).
    pub push: Option<JournalEntry>,
    /// The journal's entry of the authorization request whose request object the
    /// provider fetched from the `request_uri` the browser carried (RFC 9101 §5.2).
    pub by_reference: Option<JournalEntry>,
}

/// What every scenario of a run shares.
#[derive(Debug)]
pub struct Shared {
    /// The RP description.
    pub rp: RpDescription,
    /// The two bases.
    pub sites: Arc<Sites>,
    /// The tenant's admin API.
    pub admin: Admin,
    /// A random id making this run's users unique.
    pub run_id: String,
    /// The sync mode the RP runs in.
    pub mode: SyncMode,
    /// The tenant's name.
    pub tenant: String,
    /// How to bring up more RPs and tenants (`permissions.claim-location`).
    pub stage: Arc<Stage>,
    /// The IdP's shape: the run's own tenant, or a provider profile.
    pub idp: IdpShape,
    /// Whether the launched RP has exited on its own, and when it was seen gone.
    pub rp_exit: Arc<RpExit>,
    /// How late the harness itself ran: what a timing verdict's miss is weighed against.
    pub lag: Arc<crate::load::LagProbe>,
}

/// The launched RP's exit, once the runner has seen it: every verdict reached after it is
/// about an RP that is no longer there.
#[derive(Debug, Default)]
pub struct RpExit(Mutex<Option<String>>);

impl RpExit {
    /// How the RP exited, once seen.
    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records the exit (the first one seen stands).
    pub fn set(&self, why: String) {
        let mut e = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_none() {
            *e = Some(why);
        }
    }
}

impl Shared {
    /// The sync deadline.
    pub fn deadline(&self) -> Duration {
        Duration::from_secs_f64(self.rp.sync_deadline_s)
    }

    /// How long a scenario waits for the RP to act on a change before judging what it
    /// has ([`RpDescription::patience_s`]).
    pub fn patience(&self) -> Duration {
        Duration::from_secs_f64(self.rp.patience_s())
    }
}

/// What waiting for the RP to act on a change found.
#[derive(Debug, Clone)]
pub struct Awaited {
    /// The last `/me` reading (recorded).
    pub me: MeReading,
    /// How long until the awaited state showed, if it did.
    pub latency: Option<Duration>,
    /// The refresh-token grants for the user since the change, as the journal has them.
    pub refreshes: Vec<JournalEntry>,
}

/// One scenario's run.
#[derive(Debug)]
pub struct Ctx {
    /// Shared state.
    pub shared: Arc<Shared>,
    /// The scenario's id.
    pub id: &'static str,
    /// Evidence so far.
    pub evidence: Arc<Mutex<Evidence>>,
    browsers: AtomicU32,
    faulty_logins: AtomicU32,
    /// The users this scenario created at the IdP, whose sessions end with it.
    created: Mutex<Vec<String>>,
}

impl Ctx {
    /// A context for this scenario.
    pub fn new(shared: Arc<Shared>, id: &'static str) -> Ctx {
        Ctx {
            shared,
            id,
            evidence: Arc::default(),
            browsers: AtomicU32::new(0),
            faulty_logins: AtomicU32::new(0),
            created: Mutex::default(),
        }
    }

    fn evidence(&self) -> std::sync::MutexGuard<'_, Evidence> {
        self.evidence.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a step.
    pub fn step(&self, s: impl Into<String>) {
        self.evidence().steps.push(s.into());
    }

    /// Cites a journal entry.
    pub fn cite(&self, e: &JournalEntry) {
        self.evidence().journal.push(e.line());
    }

    /// A new user for this scenario (not yet at the IdP: see [`Ctx::create`]).
    pub fn new_user(&self, tag: &str, groups: &[&str]) -> TestUser {
        let username = format!("{}-{}-{tag}", self.shared.run_id, self.id.replace('.', "-"));
        TestUser {
            sub: format!("sub-{username}"),
            email: format!("{username}@example.test"),
            name: format!("{tag} of {}", self.id),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            username,
        }
    }

    /// The user tag of the scenario's next faulty login: `u`, then `u2`, `u3`… (each
    /// faulty login has a user of its own, whose earlier sessions cannot take its fault).
    pub fn faulty_login_tag(&self) -> String {
        match self.faulty_logins.fetch_add(1, Ordering::Relaxed) + 1 {
            1 => "u".to_owned(),
            n => format!("u{n}"),
        }
    }

    /// A new user for this scenario, created at the IdP.
    pub async fn user(&self, tag: &str, groups: &[&str]) -> Result<TestUser, Stop> {
        self.create(self.new_user(tag, groups)).await
    }

    /// Creates this user at the IdP.
    pub async fn create(&self, u: TestUser) -> Result<TestUser, Stop> {
        self.shared.admin.put_user(&u).await?;
        self.created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(u.username.clone());
        self.step(format!(
            "created user {} with groups {:?}",
            u.username, u.groups
        ));
        Ok(u)
    }

    /// Once the verdict is in: revokes every grant of the users this scenario created, so
    /// that the RP stops refreshing their sessions (it learns it at its next refresh, or at
    /// once from a back-channel logout token). Without it every session of every finished
    /// scenario went on refreshing until the RP stopped, and on two cores those refreshes
    /// took most of the machine from the scenarios still running. Not evidence: a user
    /// already deleted, or an IdP that refuses, changes nothing judged.
    pub async fn end_sessions(&self) {
        let users = std::mem::take(&mut *self.created.lock().unwrap_or_else(|p| p.into_inner()));
        for u in users {
            let _ = self.shared.admin.revoke(&u).await;
        }
    }

    /// A fresh browser.
    pub fn browser(&self) -> Browser {
        let n = self.browsers.fetch_add(1, Ordering::Relaxed) + 1;
        Browser::new(n, self.shared.sites.clone(), self.evidence.clone())
    }

    /// A new browser holding a copy of `b`'s cookies for the RP now.
    pub fn copy_browser(&self, b: &Browser) -> Browser {
        let n = self.browsers.fetch_add(1, Ordering::Relaxed) + 1;
        b.copy_rp_cookies(n)
    }

    /// A fresh browser for another RP and tenant (`permissions.claim-location`).
    pub fn browser_at(&self, sites: Arc<Sites>) -> Browser {
        let n = self.browsers.fetch_add(1, Ordering::Relaxed) + 1;
        Browser::new(n, sites, self.evidence.clone())
    }

    /// Reads `/me` in this browser (recorded as evidence).
    pub async fn me(&self, b: &Browser) -> Result<MeReading, Stop> {
        self.read_me(b, true).await
    }

    /// Reads `/me` without recording it (for polling).
    pub async fn peek(&self, b: &Browser) -> Result<MeReading, Stop> {
        self.read_me(b, false).await
    }

    async fn read_me(&self, b: &Browser, record: bool) -> Result<MeReading, Stop> {
        let p = self.shared.rp.me.clone();
        Ok(
            b.me(&self.shared.rp.paths.me, record, move |v| read_me(&p, v))
                .await?,
        )
    }

    /// How many `/me` readings are recorded so far.
    pub fn readings(&self) -> usize {
        self.evidence().me.len()
    }

    /// Puts the readings recorded since `from` in browser order: concurrent waits record
    /// them in whatever order they finish, and evidence should not depend on it.
    pub fn order_readings(&self, from: usize) {
        let mut e = self.evidence();
        if from < e.me.len() {
            e.me[from..].sort_by_key(|m| m.browser);
        }
    }

    /// Records how long a change took to show at the RP, across the scenario's users.
    pub fn latency(&self, change: &str, samples: &[Duration]) {
        if let Some(stat) = LatencyStat::of(change, samples, self.shared.deadline()) {
            self.evidence().latency.push(stat);
        }
    }

    /// Logs out in this browser (the RP's logout path).
    pub async fn logout(&self, b: &Browser) -> Result<(), Stop> {
        b.get(&self.shared.rp.paths.logout).await?;
        Ok(())
    }

    /// Records a measurement in milliseconds.
    pub fn measure(&self, name: &str, d: Duration) {
        self.evidence()
            .measurements
            .insert(name.to_owned(), d.as_millis() as u64);
    }
}

impl MeReading {
    /// Whether `/me` shows user `u`: by `sub` where it shows one, else by username, else by
    /// email (an RP may key its users by username and show no `sub`).
    pub fn is_user(&self, u: &TestUser) -> bool {
        if let Some(s) = &self.sub {
            return *s == u.sub;
        }
        if let Some(n) = &self.username {
            return *n == u.username;
        }
        self.email.as_ref() == Some(&u.email)
    }

    /// Who `/me` shows, for reasons: `sub "x"`, else `username "y"`, else `email "z"`.
    pub fn who(&self) -> String {
        match (&self.sub, &self.username, &self.email) {
            (Some(s), _, _) => format!("sub {s:?}"),
            (None, Some(n), _) => format!("username {n:?}"),
            (None, None, Some(e)) => format!("email {e:?}"),
            _ => "a user it does not name".to_owned(),
        }
    }
}

/// A `/me` answer read through the RP's pointers.
pub(crate) fn read_me(p: &crate::rp::MePointers, v: &Value) -> MeReading {
    let text = |ptr: &Pointer| match v.pointer(&ptr.0).filter(|_| ptr.shown()) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let permissions = v
        .pointer(&p.permissions.0)
        .filter(|_| p.permissions.shown())
        .and_then(Value::as_array)
        .map(|a| {
            let mut ps: Vec<String> = a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            ps.sort();
            ps
        });
    MeReading {
        browser: 0,
        status: 200,
        sub: text(&p.sub),
        email: text(&p.email),
        username: text(&p.username),
        name: text(&p.name),
        permissions,
        account: p.account.as_ref().and_then(text),
    }
}
