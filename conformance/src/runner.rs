//! The runner: sets up the IdP tenant and the RP (launched or attached), runs the
//! applicable scenarios concurrently with a timeout each, and assembles the report.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::browser::Sites;
use crate::expected::ExpectedFailures;
use crate::glob::matches_any;
use crate::idp::IdpServer;
use crate::launch::Launcher;
use crate::profile::IdpShape;
use crate::report::{IdpSummary, ModeRun, Report, RpSummary, ScenarioResult, progress_line};
use crate::rp::{RpDescription, SyncMode, tenant_of};
use crate::scenario::{Ctx, Phase, Scenario, Shared};
use crate::scenarios::catalogue;
use crate::stage::{GroupsAt, Stage, TenantShape};
use crate::verdict::{Evidence, NOT_THIS_MODE, Outcome, Stop, Verdict};

/// Which IdP to use.
#[derive(Debug, Clone)]
pub enum IdpChoice {
    /// Start one in this process on this address (port 0: any free port; default when
    /// rp.toml names an issuer: its host and port).
    Embedded(Option<SocketAddr>),
    /// A running `mock-idp serve`: its issuer URL and admin token.
    Attached {
        /// Its default issuer.
        url: String,
        /// `--admin-token`, when it has one.
        token: Option<String>,
        /// For an https issuer: the same server's plain loopback origin, which the runner's
        /// own clients (they speak no TLS) use (`mock-idp serve --tls --plain-alongside`).
        plain: Option<String>,
        /// For an https issuer: the CA file a launched RP is told to trust.
        ca_file: Option<std::path::PathBuf>,
    },
}

/// A run's options.
#[derive(Clone)]
pub struct Options {
    /// The RP.
    pub rp: RpDescription,
    /// Only scenarios matching one of these globs (empty: all).
    pub only: Vec<String>,
    /// The IdP.
    pub idp: IdpChoice,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Per-scenario time limit (default: [`default_timeout`]).
    pub scenario_timeout: Option<Duration>,
    /// Known failures.
    pub expected: ExpectedFailures,
    /// Where the RP's log goes (launch mode).
    pub report_dir: Option<PathBuf>,
    /// Print a line per finished scenario on stderr.
    pub progress: bool,
    /// Only these of the RP's sync modes (empty: all it declares; attach mode: the first).
    pub modes: Vec<SyncMode>,
    /// Provider profiles of the mock IdP to run the catalogue against, one after the other
    /// (empty: the run's own tenant). Launch mode only: the RP is configured for each.
    pub idp_profiles: Vec<String>,
    /// Starts the RP instead of rp.toml's `[launch]` command (e.g. in-process, in a Rust
    /// test); rp.toml must still have a `[launch]` section (its sync interval applies).
    pub launcher: Option<Launcher>,
    /// Serves the embedded IdP over HTTPS with a throw-away CA, handed to a launched RP
    /// (`IDP_CA_FILE` and the runtimes' own variables, [`crate::launch::CA_VARS`]).
    pub tls: bool,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("rp", &self.rp)
            .field("only", &self.only)
            .field("idp", &self.idp)
            .field("jobs", &self.jobs)
            .field("modes", &self.modes)
            .field("launcher", &self.launcher.is_some())
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Defaults for this RP: embedded IdP, every scenario, 16 at once.
    pub fn new(rp: RpDescription) -> Options {
        Options {
            rp,
            only: Vec::new(),
            idp: IdpChoice::Embedded(None),
            jobs: 16,
            scenario_timeout: None,
            expected: ExpectedFailures::default(),
            report_dir: None,
            progress: false,
            modes: Vec::new(),
            idp_profiles: Vec::new(),
            launcher: None,
            tls: false,
        }
    }
}

/// Why a run could not happen at all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

/// Runs the suite.
pub async fn run(opts: &Options) -> Result<Report, RunError> {
    let started = Instant::now();
    let rp = &opts.rp;
    let run_id = crate::random::hex(3);
    let named = rp
        .idp
        .issuer
        .as_deref()
        .and_then(|i| url::Url::parse(i).ok());
    let tenant = named
        .as_ref()
        .and_then(tenant_of)
        .unwrap_or_else(|| format!("run-{run_id}"));
    let server = match &opts.idp {
        IdpChoice::Attached { .. } if opts.tls => {
            return Err(RunError(
                "tls serves the embedded IdP over HTTPS; an attached IdP serves HTTPS itself (mock-idp serve --tls --plain-alongside, then --idp-plain and --idp-ca)".into(),
            ));
        }
        IdpChoice::Attached {
            url,
            token,
            plain,
            ca_file,
        } => IdpServer::attached(url, token.clone(), plain.clone(), ca_file.clone())
            .map_err(|e| RunError(e.0))?,
        IdpChoice::Embedded(addr) => {
            let from_issuer = named.as_ref().and_then(|u| {
                let port = u.port_or_known_default()?;
                format!("{}:{port}", u.host_str()?).parse().ok()
            });
            let addr = addr
                .or(from_issuer)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
            IdpServer::embedded(addr, opts.tls)
                .await
                .map_err(|e| RunError(e.0))?
        }
    };
    let secret = rp
        .client_secret
        .clone()
        .unwrap_or_else(|| crate::random::hex(16));
    let modes = modes(opts)?;
    let stage = Arc::new(Stage {
        rp: rp.clone(),
        server,
        secret,
        launcher: opts.launcher.clone(),
        client_keys: crate::client_keys::ClientKeys::for_run(rp).map_err(RunError)?,
    });
    let mut issuer = String::new();
    // One probe for the whole run, stopped with it.
    let lag = Arc::new(crate::load::LagProbe::start());
    let scenarios: Vec<Scenario> = catalogue()
        .into_iter()
        .filter(|s| matches_any(&opts.only, s.id))
        .collect();
    let mut runs = Vec::new();
    let mut base_url = rp.base_url.clone().unwrap_or_default();
    if !opts.idp_profiles.is_empty() && rp.launch.is_none() {
        return Err(RunError(
            "--idp-profile needs launch mode: the RP is configured anew for each provider".into(),
        ));
    }
    let mut shapes = Vec::new();
    if opts.idp_profiles.is_empty() {
        shapes.push((IdpShape::standard(), rp.clone(), rp.clone()));
    }
    for name in &opts.idp_profiles {
        shapes.push(IdpShape::of(name, rp).map_err(RunError)?);
    }
    for (shape, scenario_rp, launch_rp) in shapes {
        let groups = GroupsAt {
            claim: scenario_rp.groups_claim.clone(),
            single_as_string: false,
        };
        // The modes run at once, each against its own tenant and RP (what must run alone
        // runs alone within its tenant), unless the RP's port is fixed.
        let per_mode = modes.iter().map(|&mode| {
            let name = if modes.len() > 1 {
                format!("{tenant}-{mode}")
            } else {
                tenant.clone()
            };
            let (shape, scenario_rp, launch_rp, groups, stage, run_id, scenarios, lag) = (
                &shape,
                &scenario_rp,
                &launch_rp,
                &groups,
                &stage,
                &run_id,
                &scenarios,
                &lag,
            );
            async move {
                let started = Instant::now();
                let profile = shape.profile.as_deref();
                let up = stage
                    .up(
                        launch_rp,
                        &name,
                        mode,
                        groups,
                        TenantShape {
                            profile: shape.reference.as_deref(),
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(|e| RunError(e.into()))?;
                let shared = Arc::new(Shared {
                    rp: scenario_rp.clone(),
                    sites: Arc::new(Sites {
                        rp: up.base_url.clone(),
                        idp: up.issuer.clone(),
                        login: rp.paths.login.clone(),
                        callback: rp.paths.callback.clone(),
                        wire: stage.server.wire(),
                    }),
                    admin: up.admin,
                    run_id: run_id.clone(),
                    mode,
                    tenant: name,
                    stage: stage.clone(),
                    idp: shape.clone(),
                    rp_exit: Arc::default(),
                    lag: lag.clone(),
                });
                let running = Arc::new(tokio::sync::Mutex::new(up.running));
                let watcher = tokio::spawn(watch_exit(running.clone(), shared.rp_exit.clone()));
                let (mut results, no_login) = run_mode(opts, &shared, scenarios).await;
                watcher.abort();
                let log_name = match profile {
                    Some(p) => format!("{p}-{mode}"),
                    None => mode.to_string(),
                };
                let mut running = running.lock().await.take();
                // An RP that died at the very end: one that is going down (its socket
                // closed: the errors) may not be reaped yet; a moment is given for its exit
                // to show.
                let mut rp_exited = shared.rp_exit.get();
                if let Some(r) = running.as_mut()
                    && rp_exited.is_none()
                    && results.iter().any(|x| x.verdict == Outcome::Error)
                {
                    for _ in 0..25 {
                        tokio::time::sleep(EXIT_WATCH).await;
                        rp_exited = r.exited();
                        if rp_exited.is_some() {
                            break;
                        }
                    }
                }
                if let Some(why) = &rp_exited {
                    let first = why.lines().next().unwrap_or_default();
                    for r in results
                        .iter_mut()
                        .filter(|r| r.verdict == Outcome::Error && !r.reason.contains(first))
                    {
                        r.reason.push_str(&format!(" ({first} during the run)"));
                    }
                }
                let rp_log = match running {
                    Some(r) => write_log(opts, &log_name, r.stop().await),
                    None => None,
                };
                let run = ModeRun {
                    idp_profile: shape.profile.clone(),
                    sync_mode: mode,
                    rp_log,
                    wall_time_ms: started.elapsed().as_millis() as u64,
                    rp_exited,
                    no_login,
                    results,
                };
                Ok::<_, RunError>((up.base_url, up.issuer, run))
            }
        });
        // An RP launched on rp.toml's fixed base_url cannot run twice at once.
        let done = if rp.launch.is_some() && rp.base_url.is_some() {
            let mut done = Vec::new();
            for m in per_mode {
                done.push(m.await);
            }
            done
        } else {
            join_all(per_mode).await
        };
        for done in done {
            let (url, tenant_issuer, run) = done?;
            base_url = url;
            if issuer.is_empty() {
                issuer = tenant_issuer;
            }
            runs.push(run);
        }
    }
    Ok(Report {
        suite: format!("conformance {}", env!("CARGO_PKG_VERSION")),
        contract_version: crate::report::CONTRACT_VERSION,
        run_id,
        rp: RpSummary {
            base_url,
            launched: rp.launch.is_some(),
            client_auth: rp.client_auth.as_str().to_owned(),
            groups_claim: String::from(rp.groups_claim.clone()),
            sync_deadline_s: rp.sync_deadline_s,
        },
        idp: IdpSummary {
            issuer,
            embedded: stage.server.is_embedded(),
        },
        summary: Report::count(&runs),
        wall_time_ms: started.elapsed().as_millis() as u64,
        runs,
    })
}

/// Attach mode, before the RP starts: creates (or rebuilds, keeping its issuer and signing
/// keys) the tenant rp.toml's `[idp] issuer` names on a running mock IdP, configured for
/// the RP exactly as `run` will configure it; its issuer. An RP that fetches discovery and
/// the JWKS at start-up can then start, and keep running across many runs.
pub async fn setup(rp: &RpDescription, idp: &IdpChoice) -> Result<String, RunError> {
    let IdpChoice::Attached {
        url,
        token,
        plain,
        ca_file,
    } = idp
    else {
        return Err(RunError(
            "setup needs a running mock IdP (--idp): an embedded one ends with the command".into(),
        ));
    };
    if rp.launch.is_some() {
        return Err(RunError(
            "setup is for attach mode: in launch mode `run` creates the tenant before it starts the RP".into(),
        ));
    }
    let tenant = rp
        .idp
        .issuer
        .as_deref()
        .and_then(|i| url::Url::parse(i).ok())
        .as_ref()
        .and_then(tenant_of)
        .ok_or_else(|| {
            RunError("rp.toml: idp.issuer: required by setup (<mock-idp origin>/t/<tenant>)".into())
        })?;
    let stage = Stage {
        rp: rp.clone(),
        server: IdpServer::attached(url, token.clone(), plain.clone(), ca_file.clone())
            .map_err(|e| RunError(e.0))?,
        secret: rp.client_secret.clone().unwrap_or_default(),
        launcher: None,
        client_keys: crate::client_keys::ClientKeys::for_run(rp).map_err(RunError)?,
    };
    let groups = GroupsAt {
        claim: rp.groups_claim.clone(),
        single_as_string: false,
    };
    let up = stage
        .up(rp, &tenant, rp.sync_modes[0], &groups, Default::default())
        .await
        .map_err(|e| RunError(e.into()))?;
    Ok(up.issuer)
}

/// The modes to run: those asked for, of those declared; an attached RP runs in one.
fn modes(opts: &Options) -> Result<Vec<SyncMode>, RunError> {
    let declared = &opts.rp.sync_modes;
    if let Some(m) = opts.modes.iter().find(|m| !declared.contains(m)) {
        let names: Vec<&str> = declared.iter().map(|m| m.as_str()).collect();
        return Err(RunError(format!(
            "sync mode {m}: rp.toml declares only {}",
            names.join(", ")
        )));
    }
    let mut modes: Vec<SyncMode> = declared
        .iter()
        .copied()
        .filter(|m| opts.modes.is_empty() || opts.modes.contains(m))
        .collect();
    if opts.rp.launch.is_none() {
        // An attached RP was started in one mode: the first (or the one asked for).
        modes.truncate(1);
    }
    Ok(modes)
}

fn write_log(opts: &Options, mode: &str, lines: Vec<String>) -> Option<String> {
    let dir = opts.report_dir.as_ref()?;
    let name = format!("rp-{mode}.log");
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(dir.join(&name), lines.join("\n") + "\n").ok()?;
    Some(name)
}

/// The scenario that judges the login itself.
const CODE_FLOW: &str = "login.code-flow";

/// Runs the scenarios of one mode: the concurrent ones, then those that run alone; when no
/// one can log in, says why once instead (the reason is returned too).
async fn run_mode(
    opts: &Options,
    shared: &Arc<Shared>,
    scenarios: &[Scenario],
) -> (Vec<ScenarioResult>, Option<String>) {
    let timeout = opts
        .scenario_timeout
        .unwrap_or_else(|| default_timeout(&shared.rp));
    let mut results: Vec<ScenarioResult> = Vec::new();
    if let Some((verdict, evidence)) = no_login(shared).await {
        let why = verdict.reason.clone();
        // The gate's verdict is in the report whatever `--only` selected: a run whose
        // selection left out login.code-flow would otherwise skip everything and pass.
        let gate = catalogue().into_iter().find(|s| s.id == CODE_FLOW);
        let unselected = gate.filter(|g| !scenarios.iter().any(|s| s.id == g.id));
        for s in unselected.iter().chain(scenarios) {
            let expected = opts.expected.covers(s.id);
            let r = if !s.modes.is_empty() && !s.modes.contains(&shared.mode) {
                skipped(s, shared.mode, expected)
            } else if s.id == CODE_FLOW {
                result(
                    s,
                    verdict.clone(),
                    expected,
                    Duration::ZERO,
                    evidence.clone(),
                )
            } else {
                let v = Verdict::skip(format!("no user can log in ({CODE_FLOW} says why)"));
                result(s, v, expected, Duration::ZERO, Evidence::default())
            };
            if opts.progress {
                eprintln!("{}", progress_line(shared.mode.as_str(), &r));
            }
            results.push(r);
        }
        return (results, Some(why));
    }
    for phase in [Phase::Concurrent, Phase::Alone, Phase::Last] {
        let jobs = if phase == Phase::Concurrent {
            opts.jobs.max(1)
        } else {
            1
        };
        let gate = Arc::new(Semaphore::new(jobs));
        let mut set = JoinSet::new();
        for s in scenarios.iter().filter(|s| s.phase == phase) {
            if s.needs_groups
                && let Some(why) = &shared.idp.no_groups
            {
                let r = result(
                    s,
                    Verdict::skip(format!("{why}: no group claim for the RP to read")),
                    opts.expected.covers(s.id),
                    Duration::ZERO,
                    Evidence::default(),
                );
                results.push(r);
                continue;
            }
            if !s.modes.is_empty() && !s.modes.contains(&shared.mode) {
                let r = skipped(s, shared.mode, opts.expected.covers(s.id));
                if opts.progress {
                    eprintln!("{}", progress_line(shared.mode.as_str(), &r));
                }
                results.push(r);
                continue;
            }
            let (s, job_shared, gate) = (*s, shared.clone(), gate.clone());
            let expected = opts.expected.covers(s.id);
            set.spawn(async move {
                let _permit = gate.acquire_owned().await;
                run_one(s, job_shared, timeout, expected).await
            });
            if phase != Phase::Concurrent {
                // One at a time, in catalogue order (a later one may build on an earlier's
                // outcome: a key rotation before a rotation's mid-point).
                drain(&mut set, &mut results, opts.progress, shared).await;
            }
        }
        drain(&mut set, &mut results, opts.progress, shared).await;
    }
    let order: Vec<&str> = scenarios.iter().map(|s| s.id).collect();
    results.sort_by_key(|r| order.iter().position(|id| *id == r.id));
    (results, None)
}

/// Waits for the scenarios in `set`, keeping their results.
async fn drain(
    set: &mut JoinSet<ScenarioResult>,
    results: &mut Vec<ScenarioResult>,
    progress: bool,
    shared: &Shared,
) {
    while let Some(joined) = set.join_next().await {
        // A panicking scenario is reported by run_one's inner task; this join cannot panic.
        if let Ok(r) = joined {
            if progress {
                eprintln!("{}", progress_line(shared.mode.as_str(), &r));
            }
            results.push(r);
        }
    }
}

/// Before the scenarios: can anyone log in at all? A plain login of a new user, tried twice.
/// When neither gets a session, every scenario would fail or err for that one reason; it
/// is said once instead: why (the RP's own answer, and what the provider's ID token lacks
/// with the provider's fix where the profile knows it), with the login's evidence. The
/// verdict is a fail when the RP answered and opened no session, an error when the browser
/// could not get through at all both times (a hang, a redirect loop, an answer too large:
/// the suite cannot judge an RP it cannot reach).
async fn no_login(shared: &Arc<Shared>) -> Option<(Verdict, Evidence)> {
    let cx = Ctx::new(shared.clone(), CODE_FLOW);
    let u = cx.user("first", &[]).await.ok()?;
    let mut answer = String::new();
    let mut unreachable = Vec::new();
    for _ in 0..2 {
        let b = cx.browser();
        let login = match b.login(&u.username, None).await {
            Ok(login) => login,
            Err(e) => {
                unreachable.push(e);
                continue;
            }
        };
        let me = match cx.me(&b).await {
            Ok(me) => me,
            Err(Stop::Harness(e)) => {
                unreachable.push(e);
                continue;
            }
            Err(Stop::Verdict(v)) => {
                unreachable.push(v.reason);
                continue;
            }
        };
        if me.logged_in() {
            return None;
        }
        answer = match login.callback_status {
            Some(s) => format!(
                "the callback answered {s}{}, /me {}",
                if login.callback_body.trim().is_empty() {
                    String::new()
                } else {
                    format!(" ({})", login.callback_body.trim())
                },
                me.status
            ),
            None => "the IdP never redirected back to the RP's callback".to_owned(),
        };
    }
    let evidence = cx.evidence.lock().map(|e| e.clone()).unwrap_or_default();
    if unreachable.len() == 2 && unreachable[0] == unreachable[1] {
        let why = format!(
            "no login could be completed, twice the same way: {}",
            unreachable[0]
        );
        return Some((Verdict::error(why), evidence));
    }
    if !unreachable.is_empty() {
        // Reached once and not the other time: not one cause to say once; the scenarios
        // judge for themselves.
        return None;
    }
    let mut why = format!("no user can log in: {answer}");
    for (claim, fix) in &shared.idp.missing_claims {
        why.push_str(&format!(
            ". The provider's ID token has no `{claim}` claim, which the RP requires; the fix: {fix}"
        ));
    }
    Some((Verdict::fail(why), evidence))
}

/// A scenario's default time limit: longer than its longest wait, which is a few waits of
/// the patience (one of them after a hang of the RP's own timeout), or the JWKS cooldown
/// and a half after a key rotation; plus 30 s.
pub fn default_timeout(rp: &RpDescription) -> Duration {
    let deadline = rp.sync_deadline_s;
    let waits = (rp.patience_s() * 3.0 + deadline + rp.idp_timeout_s * 2.0)
        .max(rp.jwks_cooldown_s * 1.5 + deadline);
    Duration::from_secs_f64(waits + 30.0)
}

/// A scenario that does not apply to this sync mode.
fn skipped(s: &Scenario, mode: SyncMode, expected: bool) -> ScenarioResult {
    let names: Vec<&str> = s.modes.iter().map(|m| m.as_str()).collect();
    let v = Verdict::skip(format!(
        "{NOT_THIS_MODE} {}; the RP runs in {mode}",
        names.join(" and ")
    ));
    result(s, v, expected, Duration::ZERO, Evidence::default())
}

fn result(
    s: &Scenario,
    verdict: Verdict,
    expected: bool,
    took: Duration,
    evidence: Evidence,
) -> ScenarioResult {
    ScenarioResult {
        id: s.id.to_owned(),
        category: s.category,
        requirement: s.requirement.to_owned(),
        description: s.description.to_owned(),
        verdict: verdict.outcome,
        reason: verdict.reason,
        expected_failure: expected,
        duration_ms: took.as_millis() as u64,
        evidence,
    }
}

/// How often the launched RP is checked for an exit during the run.
const EXIT_WATCH: Duration = Duration::from_millis(20);

/// Watches the launched RP until it exits (recorded in `exit`), or until aborted.
async fn watch_exit(
    running: Arc<tokio::sync::Mutex<Option<Box<dyn crate::launch::RunningRp>>>>,
    exit: Arc<crate::scenario::RpExit>,
) {
    loop {
        tokio::time::sleep(EXIT_WATCH).await;
        let exited = match running.lock().await.as_mut() {
            Some(r) => r.exited(),
            None => return,
        };
        if let Some(why) = exited {
            exit.set(why);
            return;
        }
    }
}

/// The verdict of a scenario that ran while the RP exited, or after: whatever it observed
/// is about an RP that was going or gone, so it is an error naming the exit.
fn after_exit(why: &str, was: Option<&Verdict>) -> Verdict {
    let first = why.lines().next().unwrap_or_default();
    Verdict::error(match was {
        Some(v) => format!(
            "{first} while this scenario ran, so its verdict ({:?}: {}) is about an RP that was going or gone",
            v.outcome, v.reason
        ),
        None => format!("not run: {first} earlier in the run"),
    })
}

/// One scenario, in its own task (a panic is an `error`), under a time limit.
async fn run_one(
    s: Scenario,
    shared: Arc<Shared>,
    timeout: Duration,
    expected: bool,
) -> ScenarioResult {
    let started = Instant::now();
    if let Some(why) = shared.rp_exit.get() {
        let v = after_exit(&why, None);
        return result(&s, v, expected, Duration::ZERO, Evidence::default());
    }
    let exit = shared.rp_exit.clone();
    let cx = Arc::new(Ctx::new(shared, s.id));
    let mut task = {
        let cx = cx.clone();
        tokio::spawn(async move { (s.run)(&cx).await })
    };
    let outcome = tokio::time::timeout(timeout, &mut task).await;
    task.abort();
    let verdict = match outcome {
        Ok(Ok(Ok(v))) | Ok(Ok(Err(Stop::Verdict(v)))) => v,
        Ok(Ok(Err(Stop::Harness(e)))) => Verdict::error(e),
        Ok(Err(join)) => Verdict::error(format!("the scenario crashed: {join}")),
        Err(_) => Verdict::error(format!("timed out after {:.0} s", timeout.as_secs_f64())),
    };
    // The exit was seen before this scenario ended (it was not when it began): it ran
    // while the RP went.
    let verdict = match exit.get() {
        Some(why) => after_exit(&why, Some(&verdict)),
        None => verdict,
    };
    let evidence: Evidence = cx.evidence.lock().map(|e| e.clone()).unwrap_or_default();
    result(&s, verdict, expected, started.elapsed(), evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(toml: &str, modes: &[SyncMode]) -> Options {
        let mut o = Options::new(RpDescription::from_toml(toml, "rp.toml").unwrap());
        o.modes = modes.to_vec();
        o
    }

    const LAUNCHED: &str =
        "sync_modes = [\"strict\", \"additive\", \"none\"]\n[launch]\ncommand = [\"rp\"]\n";
    const ATTACHED: &str = "sync_modes = [\"additive\", \"strict\"]\nbase_url = \"http://127.0.0.1:1\"\nclient_secret = \"s\"\ngroup_map = { a = [\"r\"] }\n";

    #[test]
    fn launch_mode_runs_every_declared_mode_or_those_asked_for() {
        let all = [SyncMode::Strict, SyncMode::Additive, SyncMode::None];
        assert_eq!(modes(&opts(LAUNCHED, &[])).unwrap(), all);
        let some = [SyncMode::None, SyncMode::Strict];
        assert_eq!(
            modes(&opts(LAUNCHED, &some)).unwrap(),
            [SyncMode::Strict, SyncMode::None],
            "in declaration order"
        );
    }

    #[test]
    fn an_attached_rp_runs_in_one_mode() {
        assert_eq!(modes(&opts(ATTACHED, &[])).unwrap(), [SyncMode::Additive]);
        assert_eq!(
            modes(&opts(ATTACHED, &[SyncMode::Strict])).unwrap(),
            [SyncMode::Strict]
        );
        let e = modes(&opts(ATTACHED, &[SyncMode::None])).unwrap_err();
        assert_eq!(
            e.0,
            "sync mode none: rp.toml declares only additive, strict"
        );
    }
}
