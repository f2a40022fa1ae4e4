//! The `Scenario` type and the context a scenario runs in: its own users at the IdP, its
//! own browsers, and the evidence it gathers.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::browser::{Browser, Sites};
use crate::idp::{Admin, JournalEntry, TestUser};
use crate::rp::{Pointer, RpDescription, SyncMode};
use crate::verdict::{Evidence, Judged, MeReading, Stop};

/// A scenario's category (SCENARIOS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The authorization code flow.
    Login,
    /// ID-token validation.
    Idtoken,
    /// Who is who.
    Identity,
}

impl Category {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Login => "login",
            Category::Idtoken => "idtoken",
            Category::Identity => "identity",
        }
    }
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
    /// The requirement it comes from (seed, RFC/OIDC section, OIDF test).
    pub requirement: &'static str,
    /// One line: what the RP must do.
    pub description: &'static str,
    /// Changes the tenant for everyone (key rotation): runs alone, after the others.
    pub exclusive: bool,
    /// The body.
    pub run: RunFn,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
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
}

impl Shared {
    /// The sync deadline.
    pub fn deadline(&self) -> Duration {
        Duration::from_secs_f64(self.rp.sync_deadline_s)
    }
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
}

impl Ctx {
    /// A context for this scenario.
    pub fn new(shared: Arc<Shared>, id: &'static str) -> Ctx {
        Ctx {
            shared,
            id,
            evidence: Arc::default(),
            browsers: AtomicU32::new(0),
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

    /// A new user for this scenario, created at the IdP.
    pub async fn user(&self, tag: &str, groups: &[&str]) -> Result<TestUser, Stop> {
        self.create(self.new_user(tag, groups)).await
    }

    /// Creates this user at the IdP.
    pub async fn create(&self, u: TestUser) -> Result<TestUser, Stop> {
        self.shared.admin.put_user(&u).await?;
        self.step(format!(
            "created user {} with groups {:?}",
            u.username, u.groups
        ));
        Ok(u)
    }

    /// A fresh browser.
    pub fn browser(&self) -> Browser {
        let n = self.browsers.fetch_add(1, Ordering::Relaxed) + 1;
        Browser::new(n, self.shared.sites.clone(), self.evidence.clone())
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

    /// Polls `/me` with backoff until `done` holds or the sync deadline passes; the last
    /// reading (recorded) and the time it took when `done` held.
    pub async fn poll_me(
        &self,
        b: &Browser,
        done: impl Fn(&MeReading) -> bool,
    ) -> Result<(MeReading, Option<Duration>), Stop> {
        let start = Instant::now();
        let deadline = self.shared.deadline();
        let mut wait = Duration::from_millis(20);
        loop {
            let r = self.peek(b).await?;
            let elapsed = start.elapsed();
            if done(&r) || elapsed >= deadline {
                let last = self.me(b).await?;
                return Ok((last, done(&r).then_some(elapsed)));
            }
            tokio::time::sleep(wait.min(deadline.saturating_sub(elapsed))).await;
            wait = (wait * 3 / 2).min(Duration::from_millis(500));
        }
    }

    /// Records a measurement in milliseconds.
    pub fn measure(&self, name: &str, d: Duration) {
        self.evidence()
            .measurements
            .insert(name.to_owned(), d.as_millis() as u64);
    }

    /// Arms a fault once for this user; its id.
    pub async fn arm(&self, fault: Value, user: &TestUser) -> Result<u64, Stop> {
        let id = self
            .shared
            .admin
            .arm(fault.clone(), &user.username, Some(1))
            .await?;
        self.step(format!(
            "armed fault {} once for {}",
            kind(&fault),
            user.username
        ));
        Ok(id)
    }

    /// The journal's entries about this user.
    pub async fn journal(&self, user: &TestUser) -> Result<Vec<JournalEntry>, Stop> {
        Ok(self.shared.admin.journal(&user.username).await?)
    }
}

/// A fault's kind, for steps.
pub fn kind(fault: &Value) -> String {
    let mut k = fault["kind"].as_str().unwrap_or("?").to_owned();
    if let Some(c) = fault["claim"].as_str() {
        k.push_str(&format!(" ({c})"));
    }
    k
}

fn read_me(p: &crate::rp::MePointers, v: &Value) -> MeReading {
    let text = |ptr: &Pointer| match v.pointer(&ptr.0) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let permissions = v
        .pointer(&p.permissions.0)
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
