//! The runner: sets up the IdP tenant and the RP (launched or attached), runs the
//! applicable scenarios concurrently with a timeout each, and assembles the report.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::browser::Sites;
use crate::expected::ExpectedFailures;
use crate::glob::matches_any;
use crate::idp::IdpServer;
use crate::launch::{Env, launch};
use crate::report::{IdpSummary, ModeRun, Report, RpSummary, ScenarioResult, progress_line};
use crate::rp::{RpDescription, tenant_of};
use crate::scenario::{Ctx, Scenario, Shared};
use crate::scenarios::catalogue;
use crate::verdict::{Evidence, Stop, Verdict};

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
    },
}

/// A run's options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The RP.
    pub rp: RpDescription,
    /// Only scenarios matching one of these globs (empty: all).
    pub only: Vec<String>,
    /// The IdP.
    pub idp: IdpChoice,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Per-scenario time limit (default: twice the sync deadline plus 30 s).
    pub scenario_timeout: Option<Duration>,
    /// Known failures.
    pub expected: ExpectedFailures,
    /// Where the RP's log goes (launch mode).
    pub report_dir: Option<PathBuf>,
    /// Print a line per finished scenario on stderr.
    pub progress: bool,
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
    let run_id = crate::random_hex(3);
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
        IdpChoice::Attached { url, token } => IdpServer::attached(url, token.clone()),
        IdpChoice::Embedded(addr) => {
            let from_issuer = named.as_ref().and_then(|u| {
                let port = u.port_or_known_default()?;
                format!("{}:{port}", u.host_str()?).parse().ok()
            });
            let addr = addr
                .or(from_issuer)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
            IdpServer::embedded(addr).await.map_err(|e| RunError(e.0))?
        }
    };
    let secret = rp
        .client_secret
        .clone()
        .unwrap_or_else(|| crate::random_hex(16));
    let issuer = format!("{}/t/{tenant}", origin(&server.root));
    let scenarios: Vec<Scenario> = catalogue()
        .into_iter()
        .filter(|s| matches_any(&opts.only, s.id))
        .collect();
    let mut runs = Vec::new();
    let mut base_url = rp.base_url.clone().unwrap_or_default();
    // Conformance I: the login, idtoken and identity scenarios do not depend on the sync
    // mode, so they run once, in the first mode the RP declares.
    for &mode in rp.sync_modes.iter().take(1) {
        let launched = match &rp.launch {
            Some(l) => {
                let env = Env {
                    issuer: &issuer,
                    client_secret: &secret,
                    mode,
                };
                Some(launch(rp, l, &env).await.map_err(RunError)?)
            }
            None => None,
        };
        if let Some(l) = &launched {
            base_url = l.base_url.clone();
        }
        let redirect = format!("{base_url}{}", rp.paths.callback);
        let admin = server
            .tenant(&tenant, rp, &redirect, &secret)
            .await
            .map_err(|e| RunError(e.0))?;
        let shared = Arc::new(Shared {
            rp: rp.clone(),
            sites: Arc::new(Sites {
                rp: base_url.clone(),
                idp: issuer.clone(),
                login: rp.paths.login.clone(),
                callback: rp.paths.callback.clone(),
            }),
            admin,
            run_id: run_id.clone(),
            mode,
        });
        let results = run_mode(opts, &shared, &scenarios).await;
        let rp_log = match launched {
            Some(l) => write_log(opts, mode.as_str(), l.stop().await),
            None => None,
        };
        runs.push(ModeRun {
            sync_mode: mode,
            rp_log,
            results,
        });
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
            embedded: server.is_embedded(),
        },
        summary: Report::count(&runs),
        wall_time_ms: started.elapsed().as_millis() as u64,
        runs,
    })
}

fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}

fn write_log(opts: &Options, mode: &str, lines: Vec<String>) -> Option<String> {
    let dir = opts.report_dir.as_ref()?;
    let name = format!("rp-{mode}.log");
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(dir.join(&name), lines.join("\n") + "\n").ok()?;
    Some(name)
}

/// Runs the scenarios of one mode: the concurrent ones, then the exclusive ones alone.
async fn run_mode(
    opts: &Options,
    shared: &Arc<Shared>,
    scenarios: &[Scenario],
) -> Vec<ScenarioResult> {
    let timeout = opts
        .scenario_timeout
        .unwrap_or_else(|| shared.deadline() * 2 + Duration::from_secs(30));
    let mut results: Vec<ScenarioResult> = Vec::new();
    for exclusive in [false, true] {
        let jobs = if exclusive { 1 } else { opts.jobs.max(1) };
        let gate = Arc::new(Semaphore::new(jobs));
        let mut set = JoinSet::new();
        for s in scenarios.iter().filter(|s| s.exclusive == exclusive) {
            let (s, shared, gate) = (*s, shared.clone(), gate.clone());
            let expected = opts.expected.covers(s.id);
            set.spawn(async move {
                let _permit = gate.acquire_owned().await;
                run_one(s, shared, timeout, expected).await
            });
        }
        while let Some(joined) = set.join_next().await {
            // A panicking scenario is reported by run_one's inner task; this join cannot panic.
            if let Ok(r) = joined {
                if opts.progress {
                    eprintln!("{}", progress_line(shared.mode.as_str(), &r));
                }
                results.push(r);
            }
        }
    }
    let order: Vec<&str> = scenarios.iter().map(|s| s.id).collect();
    results.sort_by_key(|r| order.iter().position(|id| *id == r.id));
    results
}

/// One scenario, in its own task (a panic is an `error`), under a time limit.
async fn run_one(
    s: Scenario,
    shared: Arc<Shared>,
    timeout: Duration,
    expected: bool,
) -> ScenarioResult {
    let started = Instant::now();
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
    let evidence: Evidence = cx.evidence.lock().map(|e| e.clone()).unwrap_or_default();
    ScenarioResult {
        id: s.id.to_owned(),
        category: s.category,
        requirement: s.requirement.to_owned(),
        description: s.description.to_owned(),
        verdict: verdict.outcome,
        reason: verdict.reason,
        expected_failure: expected,
        duration_ms: started.elapsed().as_millis() as u64,
        evidence,
    }
}
