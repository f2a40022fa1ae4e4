//! The runner: sets up the IdP tenant and the RP (launched or attached), runs the
//! applicable scenarios concurrently with a timeout each, and assembles the report.

mod mode;
mod open;
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
pub(crate) use mode::no_login;
pub(crate) use mode::watch_exit;
use mode::{EXIT_WATCH, run_mode};
pub(crate) use open::{Opening, Prepared, each_mode, open, prepare};

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
    let modes = modes(opts)?;
    let Prepared {
        run_id,
        tenant,
        stage,
    } = prepare(opts).await?;
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
                let (shared, up) = open(
                    stage,
                    Opening {
                        launch_rp,
                        scenario_rp,
                        name,
                        mode,
                        groups,
                        shape,
                        run_id,
                        lag,
                    },
                )
                .await?;
                let running = Arc::new(tokio::sync::Mutex::new(up.running));
                let watcher = tokio::spawn(watch_exit(running.clone(), shared.rp_exit.clone()));
                let outcome = run_mode(opts, &shared, scenarios).await;
                let (mut results, no_login) = (outcome.results, outcome.no_login);
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
                let wall = started.elapsed();
                let (path, longest) =
                    mode::critical_path(wall, outcome.concurrent_phase, &results, scenarios);
                let run = ModeRun {
                    idp_profile: shape.profile.clone(),
                    sync_mode: mode,
                    rp_log,
                    wall_time_ms: wall.as_millis() as u64,
                    critical_path_ms: path.as_millis() as u64,
                    longest_concurrent: longest,
                    rp_exited,
                    no_login,
                    results,
                };
                Ok::<_, RunError>((up.base_url, up.issuer, run))
            }
        });
        for done in each_mode(rp, per_mode.collect()).await {
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
pub(crate) fn modes(opts: &Options) -> Result<Vec<SyncMode>, RunError> {
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

/// A scenario's default time limit: longer than its longest wait, which is a few waits of
/// the patience (one of them after a hang of the RP's own timeout), or the JWKS cooldown
/// and a half after a key rotation; plus 30 s.
pub fn default_timeout(rp: &RpDescription) -> Duration {
    let deadline = rp.sync_deadline_s;
    let waits = (rp.patience_s() * 3.0 + deadline + rp.idp_timeout_s * 2.0)
        .max(rp.jwks_cooldown_s * 1.5 + deadline);
    Duration::from_secs_f64(waits + 30.0)
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
