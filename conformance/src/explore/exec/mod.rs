//! Carrying a plan out against the RP and its tenant: the lanes at once, the world actions
//! at their times, each action timed and what it saw kept in the trace.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use mock_idp::faults::Fault;
use serde_json::json;

mod idp;
mod stream;
mod world;

use super::plan::{Action, Lane, Plan};
use super::trace::{Entry, Ident, Person, What};
use crate::browser::Browser;
use crate::idp::TestUser;
use crate::scenario::Shared;
use crate::verdict::{Evidence, MeReading};

/// How often a watching browser reads `/me`.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// Identities per lane, at most (a lane's identities are numbered `lane × this + k`).
const PER_LANE: usize = 1000;

/// How the round's trace is kept while it runs.
#[derive(Clone)]
struct Log {
    start: Instant,
    entries: Arc<Mutex<Vec<Entry>>>,
    /// The round's users: username → lane and identity.
    who: Arc<Mutex<BTreeMap<String, (usize, Ident)>>>,
}

impl Log {
    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn push(&self, lane: Option<usize>, step: Option<usize>, t0: f64, what: What) {
        let e = Entry {
            lane,
            step,
            t0,
            t1: self.now(),
            what,
        };
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }
}

/// Runs the plan once (users named after `tag`), starting at `start`; the trace, in time
/// order. `journal` is the last entry of the tenant's journal an earlier round saw (0 at
/// first), left at the last this one saw.
pub async fn execute(
    shared: &Arc<Shared>,
    plan: &Plan,
    tag: &str,
    start: Instant,
    journal: &mut u64,
) -> Vec<Entry> {
    let log = Log {
        start,
        entries: Arc::default(),
        who: Arc::default(),
    };
    let lanes = plan.lanes.iter().enumerate().map(|(k, lane)| {
        let mut run = LaneRun::new(shared.clone(), log.clone(), k, tag);
        async move { run.go(lane).await }
    });
    let watching = std::sync::atomic::AtomicBool::new(true);
    let acting = async {
        tokio::join!(join_all(lanes), world::run(shared, plan, &log, tag));
        watching.store(false, std::sync::atomic::Ordering::Relaxed);
    };
    tokio::join!(acting, stream::watch(shared, &log, &watching, journal));
    let mut entries = std::mem::take(&mut *log.entries.lock().unwrap_or_else(|p| p.into_inner()));
    entries.sort_by(|a, b| a.t0.total_cmp(&b.t0));
    entries
}

/// One lane's run.
struct LaneRun {
    shared: Arc<Shared>,
    log: Log,
    lane: usize,
    tag: String,
    /// The lane's identities, the current one last.
    people: Vec<Person>,
    deleted: bool,
    disabled: bool,
    devices: Vec<(Browser, Ident)>,
    /// The armed outage: its fault, when it ends, how long each refresh hangs.
    outage: Option<(u64, Instant, f64)>,
    /// Faults that keep logout tokens from being sent, by username.
    no_logout_token: BTreeMap<String, u64>,
    renames: usize,
    evidence: Arc<Mutex<Evidence>>,
}

/// Why a lane stopped early.
type Broken = String;

impl LaneRun {
    fn new(shared: Arc<Shared>, log: Log, lane: usize, tag: &str) -> LaneRun {
        LaneRun {
            shared,
            log,
            lane,
            tag: tag.to_owned(),
            people: Vec::new(),
            deleted: false,
            disabled: false,
            devices: Vec::new(),
            outage: None,
            no_logout_token: BTreeMap::new(),
            renames: 0,
            evidence: Arc::default(),
        }
    }

    fn ident(&self) -> Ident {
        self.lane * PER_LANE + self.people.len() - 1
    }

    fn person(&self) -> &Person {
        &self.people[self.people.len() - 1]
    }

    fn record(&self, step: Option<usize>, t0: f64, what: What) {
        self.log.push(Some(self.lane), step, t0, what);
    }

    async fn go(&mut self, lane: &Lane) {
        let t0 = self.log.now();
        let username = format!("{}-{}-l{}-0", self.shared.run_id, self.tag, self.lane);
        let person = Person {
            sub: format!("sub-{username}"),
            email: format!("{username}@example.test"),
            name: format!("Lane {} user", self.lane),
            groups: lane.groups.clone(),
            username,
        };
        let mut broken = self.create(None, t0, person).await.err();
        for (step, a) in lane.actions.iter().enumerate() {
            if broken.is_some() {
                break;
            }
            if let Err(e) = self.end_outage_if_due().await {
                broken = Some(e);
                break;
            }
            let t0 = self.log.now();
            if let Err(why) = self.act(step, a, t0).await {
                broken = Some(why);
            }
        }
        if let Err(e) = self.end_outage().await {
            broken.get_or_insert(e);
        }
        for (_, id) in std::mem::take(&mut self.no_logout_token) {
            let _ = self.shared.admin.clear(id).await;
        }
        if let Some(why) = broken {
            self.record(None, self.log.now(), What::Broken { why });
        }
        self.journals(lane.actions.len()).await;
    }

    async fn create(&mut self, step: Option<usize>, t0: f64, p: Person) -> Result<(), Broken> {
        let u = TestUser {
            username: p.username.clone(),
            sub: p.sub.clone(),
            email: p.email.clone(),
            name: p.name.clone(),
            groups: p.groups.clone(),
        };
        self.shared.admin.put_user(&u).await.map_err(|e| e.0)?;
        self.people.push(p.clone());
        self.deleted = false;
        self.disabled = false;
        let identity = self.ident();
        self.log
            .who
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(p.username.clone(), (self.lane, identity));
        self.record(
            step,
            t0,
            What::Created {
                identity,
                person: p,
            },
        );
        Ok(())
    }

    async fn act(&mut self, step: usize, a: &Action, t0: f64) -> Result<(), Broken> {
        let s = Some(step);
        let identity = self.ident();
        let username = self.person().username.clone();
        let admin = self.shared.admin.clone();
        let gone = |what: &str| What::Skipped {
            why: format!("{what}: the user is deleted"),
        };
        match a {
            Action::Login if self.deleted || self.disabled => self.record(
                s,
                t0,
                What::Skipped {
                    why: "a login: the user cannot log in at the IdP now".into(),
                },
            ),
            Action::Login => {
                let device = self.devices.len();
                let b = Browser::new(
                    (self.lane * 100 + device) as u32,
                    self.shared.sites.clone(),
                    self.evidence.clone(),
                );
                let (reading, error, callback) = match b.login(&username, None).await {
                    Ok(login) => {
                        let (reading, error) = split(self.read(&b).await);
                        let opened = reading.as_ref().is_some_and(MeReading::logged_in);
                        let callback = (!opened).then(|| match login.callback_status {
                            Some(s) => {
                                let body: String =
                                    login.callback_body.trim().chars().take(300).collect();
                                format!("the callback answered {s} {body}")
                                    .trim_end()
                                    .to_owned()
                            }
                            None => "the IdP never redirected back to the callback".to_owned(),
                        });
                        (reading, error, callback)
                    }
                    Err(e) => (None, Some(e), None),
                };
                self.devices.push((b, identity));
                self.record(
                    s,
                    t0,
                    What::Login {
                        identity,
                        device,
                        reading,
                        error,
                        callback,
                    },
                );
            }
            Action::Me { device }
            | Action::Watch { device, .. }
            | Action::Logout { device }
            | Action::Grant { device, .. }
                if *device >= self.devices.len() =>
            {
                self.record(
                    s,
                    t0,
                    What::Skipped {
                        why: format!("browser {device} was never opened"),
                    },
                );
            }
            Action::Watch { device, s: secs } => {
                let until = Instant::now() + Duration::from_secs_f64(secs.max(0.0));
                let mut t0 = t0;
                loop {
                    let what = self.observe(*device).await;
                    self.record(s, t0, what);
                    if Instant::now() >= until {
                        break;
                    }
                    tokio::time::sleep(WATCH_EVERY.min(until - Instant::now())).await;
                    self.end_outage_if_due().await?;
                    t0 = self.log.now();
                }
            }
            Action::Me { device } => {
                let what = self.observe(*device).await;
                self.record(s, t0, what);
            }
            Action::Logout { device } => {
                let (b, identity) = &self.devices[*device];
                let (status, error) = split(b.get(&self.shared.rp.paths.logout).await);
                let what = What::Logout {
                    identity: *identity,
                    device: *device,
                    status,
                    error,
                };
                self.record(s, t0, what);
            }
            Action::Grant { device, permission } => {
                let (b, identity) = &self.devices[*device];
                let body = json!({ "permission": permission });
                let (status, error) = split(b.post_json(&self.shared.rp.paths.grant, &body).await);
                let what = What::Grant {
                    identity: *identity,
                    device: *device,
                    permission: permission.clone(),
                    status,
                    error,
                };
                self.record(s, t0, what);
            }
            Action::Idle { s: secs } => {
                self.idle(*secs).await?;
                self.record(s, t0, What::Idle);
            }
            _ if self.deleted && !matches!(a, Action::Recreate | Action::Outage { .. }) => {
                self.record(s, t0, gone("an IdP change"));
            }
            Action::Groups { groups } => {
                admin
                    .patch_user(&username, json!({ "groups": groups }))
                    .await
                    .map_err(|e| e.0)?;
                let groups = Some(groups.clone());
                let what = What::Changed {
                    identity,
                    groups,
                    name: None,
                    email: None,
                };
                self.record(s, t0, what);
            }
            Action::Rename => {
                self.renames += 1;
                let name = format!("Lane {} user, renamed {}", self.lane, self.renames);
                let email = format!("{username}.v{}@example.test", self.renames);
                admin
                    .patch_user(&username, json!({ "name": name, "email": email }))
                    .await
                    .map_err(|e| e.0)?;
                let what = What::Changed {
                    identity,
                    groups: None,
                    name: Some(name),
                    email: Some(email),
                };
                self.record(s, t0, what);
            }
            Action::ByReference { distributed } => {
                let fault = if *distributed {
                    Fault::GroupsDistributed
                } else {
                    Fault::GroupsAggregated
                };
                admin
                    .arm(&fault, &username, Some(1), Some("refresh_token"))
                    .await
                    .map_err(|e| e.0)?;
                let what = What::ByReference {
                    identity,
                    distributed: *distributed,
                };
                self.record(s, t0, what);
            }
            Action::Disable { logout_token } => {
                self.logout_tokens(&username, *logout_token).await?;
                admin
                    .patch_user(&username, json!({ "disabled": true }))
                    .await
                    .map_err(|e| e.0)?;
                self.disabled = true;
                let what = What::Disabled {
                    identity,
                    logout_token: self.sends_logout_tokens(*logout_token),
                };
                self.record(s, t0, what);
            }
            Action::Enable => {
                admin
                    .patch_user(&username, json!({ "disabled": false }))
                    .await
                    .map_err(|e| e.0)?;
                self.disabled = false;
                self.record(s, t0, What::Enabled { identity });
            }
            Action::Delete { logout_token } => self.delete(s, t0, *logout_token).await?,
            Action::Revoke { logout_token } => {
                self.logout_tokens(&username, *logout_token).await?;
                admin.revoke(&username).await.map_err(|e| e.0)?;
                let what = What::Revoked {
                    identity,
                    logout_token: self.sends_logout_tokens(*logout_token),
                };
                self.record(s, t0, what);
            }
            Action::Recreate => {
                if !self.deleted {
                    self.delete(s, t0, true).await?;
                }
                let old = self.person().clone();
                let k = self.people.len();
                let username = format!("{}-{}-l{}-{k}", self.shared.run_id, self.tag, self.lane);
                let p = Person {
                    sub: format!("sub-{username}"),
                    name: format!("Lane {} user, re-created", self.lane),
                    username,
                    ..old
                };
                let t0 = self.log.now();
                self.create(s, t0, p).await?;
            }
            Action::Outage { hang, s: secs } => {
                // The one before ends first, and this one begins after it.
                self.end_outage().await?;
                let t0 = self.log.now();
                let hang_s = if *hang {
                    self.shared.rp.idp_timeout_s + 0.5
                } else {
                    0.0
                };
                let fault = if *hang {
                    Fault::Latency {
                        ms: (hang_s * 1000.0) as u64,
                    }
                } else {
                    Fault::HttpStatus { status: 503 }
                };
                let id = admin
                    .arm(&fault, &username, None, Some("refresh_token"))
                    .await
                    .map_err(|e| e.0)?;
                let until = Instant::now() + Duration::from_secs_f64(*secs);
                self.outage = Some((id, until, hang_s));
                self.record(s, t0, What::OutageOn { identity, hang_s });
            }
        }
        Ok(())
    }

    /// `/me` in the lane's `device`-th browser (which exists).
    async fn observe(&self, device: usize) -> What {
        let (b, identity) = &self.devices[device];
        let (reading, error) = split(self.read(b).await);
        What::Me {
            identity: *identity,
            device,
            reading,
            error,
        }
    }

    async fn read(&self, b: &Browser) -> Result<MeReading, String> {
        let p = self.shared.rp.me.clone();
        b.me(&self.shared.rp.paths.me, false, move |v| {
            crate::scenario::read_me(&p, v)
        })
        .await
    }
}

fn split<T>(r: Result<T, String>) -> (Option<T>, Option<String>) {
    match r {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    }
}
