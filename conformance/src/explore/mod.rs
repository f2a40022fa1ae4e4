//! `conformance explore`: model-based exploration of an RP. Random lifecycles — several
//! users at once, each a lane of actions at the IdP and at the RP, and now and then a change
//! of the IdP's keys or clock — are checked against a model of the contract (the oracle);
//! a disagreement is confirmed on a re-run, shrunk to the shortest plan that still shows
//! it, re-run twice more, and handed back as a replay file.
//!
//! Floors inside: `plan` and `trace` (what is done, what was seen) → `model` (the
//! contract's time arithmetic) → `oracle` → `exec` (against the RP) → `shrink` → `report`
//! → this driver.

pub mod exec;
pub mod model;
pub mod oracle;
pub mod page;
pub mod plan;
pub mod report;
pub mod shrink;
pub mod trace;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::profile::IdpShape;
use crate::rp::{Capability, SyncMode};
use crate::runner::{Opening, Options, Prepared, RunError, open, prepare};
use crate::scenario::Shared;
use crate::stage::GroupsAt;
use model::Timing;
use oracle::{Contract, Disagreement};
use plan::{Draw, Drawer, Plan};
use report::{ExploreReport, Finding, ModeReport};
use shrink::{Runner, Target, shrink};

/// The replay file's format version.
pub const REPLAY_VERSION: u32 = 1;

/// A replay file: the plan that showed a disagreement, and where.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// [`REPLAY_VERSION`].
    pub version: u32,
    /// The sync mode it ran in.
    pub mode: SyncMode,
    /// The seed of the exploration that found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// What it showed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub showed: Option<String>,
    /// The plan.
    #[serde(flatten)]
    pub plan: Plan,
}

impl Replay {
    /// Reads a replay file; errors name the file (and line and field, where serde does).
    pub fn from_file(path: &std::path::Path) -> Result<Replay, RunError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RunError(format!("{}: {e}", path.display())))?;
        let r: Replay = serde_json::from_str(&text)
            .map_err(|e| RunError(format!("{}: {e}", path.display())))?;
        if r.version != REPLAY_VERSION {
            return Err(RunError(format!(
                "{}: version {}: this conformance reads version {REPLAY_VERSION}",
                path.display(),
                r.version
            )));
        }
        Ok(r)
    }
}

/// How to explore.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// The RP, the IdP, the modes, how the RP starts (as for `run`).
    pub run: Options,
    /// How long to explore, per sync mode (the modes explore at once).
    pub budget: Duration,
    /// How long shrinking one disagreement may take.
    pub shrink_budget: Duration,
    /// The seed of the random lifecycles.
    pub seed: u64,
    /// Users explored at once.
    pub users: usize,
    /// Actions per lane, at most.
    pub max_actions: usize,
    /// Run this replay instead of exploring.
    pub replay: Option<Replay>,
}

impl ExploreOptions {
    /// Defaults: two minutes, four users, a random seed.
    pub fn new(run: Options) -> ExploreOptions {
        ExploreOptions {
            run,
            budget: Duration::from_secs(120),
            shrink_budget: Duration::from_secs(180),
            seed: rand::random(),
            users: 4,
            max_actions: 18,
            replay: None,
        }
    }
}

/// A duration as the command line gives it: `90s`, `10m`, `1h`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (n, unit) = [("s", 1.0), ("m", 60.0), ("h", 3600.0)]
        .iter()
        .find_map(|(suffix, unit)| t.strip_suffix(suffix).map(|n| (n, *unit)))
        .unwrap_or((t, 1.0));
    n.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64(v * unit))
        .ok_or_else(|| format!("{s:?}: a duration such as 90s, 10m or 1h"))
}

/// The allowance on top of the sync deadline for the harness's own timing (a change is a
/// request to the IdP, a reading a request to the RP, each timed from the harness's side):
/// a tenth of the deadline, a quarter second at least.
pub fn allowance(deadline: f64) -> f64 {
    (deadline * 0.1).max(0.25)
}

/// Explores the RP (or runs the replay), each sync mode at once.
pub async fn explore(opts: &ExploreOptions) -> Result<ExploreReport, RunError> {
    let started = Instant::now();
    let run = &opts.run;
    let mut modes = crate::runner::modes(run)?;
    if let Some(r) = &opts.replay {
        if !run.rp.sync_modes.contains(&r.mode) {
            return Err(RunError(format!(
                "the replay ran in {} mode: rp.toml declares only {:?}",
                r.mode, run.rp.sync_modes
            )));
        }
        modes = vec![r.mode];
    }
    let Prepared {
        run_id,
        tenant,
        stage,
    } = prepare(run).await?;
    let lag = Arc::new(crate::load::LagProbe::start());
    let shape = IdpShape::standard();
    let groups = GroupsAt {
        claim: run.rp.groups_claim.clone(),
        single_as_string: false,
    };
    let per_mode = modes.iter().map(|&mode| {
        let name = if modes.len() > 1 {
            format!("{tenant}-{mode}-x")
        } else {
            tenant.clone()
        };
        let (stage, run_id, lag, groups, shape) = (&stage, &run_id, &lag, &groups, &shape);
        async move {
            let opening = Opening {
                launch_rp: &run.rp,
                scenario_rp: &run.rp,
                name,
                mode,
                groups,
                shape,
                run_id,
                lag,
            };
            let (shared, up) = open(stage, opening).await?;
            let running = Arc::new(tokio::sync::Mutex::new(up.running));
            let watcher = tokio::spawn(crate::runner::watch_exit(
                running.clone(),
                shared.rp_exit.clone(),
            ));
            let mut report = explore_mode(opts, &shared).await;
            watcher.abort();
            report.rp_exited = shared.rp_exit.get();
            if let Some(r) = running.lock().await.take() {
                let lines = r.stop().await;
                if let Some(dir) = &run.report_dir {
                    let _ = std::fs::create_dir_all(dir);
                    let _ = std::fs::write(
                        dir.join(format!("rp-explore-{mode}.log")),
                        lines.join("\n") + "\n",
                    );
                }
            }
            Ok::<_, RunError>(report)
        }
    });
    let done = crate::runner::each_mode(&run.rp, per_mode.collect())
        .await
        .into_iter()
        .collect::<Result<Vec<_>, RunError>>()?;
    Ok(ExploreReport {
        suite: format!("conformance {}", env!("CARGO_PKG_VERSION")),
        seed: opts.seed,
        replay: opts.replay.is_some(),
        budget_s: opts.budget.as_secs_f64(),
        users: opts.users,
        sync_deadline_s: run.rp.sync_deadline_s,
        allowance_s: allowance(run.rp.sync_deadline_s),
        wall_time_s: started.elapsed().as_secs_f64(),
        modes: done,
    })
}

/// The contract the oracle holds the RP to in this mode.
pub fn contract(shared: &Shared) -> Contract {
    let rp = &shared.rp;
    Contract {
        mode: shared.mode,
        group_map: rp.group_map.clone(),
        timing: Timing {
            need: rp.sync_deadline_s + allowance(rp.sync_deadline_s),
            jwks_cooldown: rp.jwks_cooldown_s,
            idp_timeout: rp.idp_timeout_s,
        },
    }
}

/// What plans are drawn from for this RP.
fn draw(shared: &Shared, max_actions: usize) -> Draw {
    let rp = &shared.rp;
    let mut groups: Vec<String> = rp.group_map.keys().cloned().collect();
    groups.push(crate::scenarios::unmapped_group().to_owned());
    let mut grantable: Vec<String> = rp.group_map.values().flatten().cloned().collect();
    grantable.sort();
    grantable.dedup();
    if !rp.can(Capability::Grant) {
        grantable.clear();
    }
    Draw {
        groups,
        grantable,
        deadline: rp.sync_deadline_s,
        backchannel: rp.paths.backchannel_logout.is_some(),
        max_actions,
    }
}

async fn explore_mode(opts: &ExploreOptions, shared: &Arc<Shared>) -> ModeReport {
    let started = Instant::now();
    let mode = shared.mode;
    let mut out = ModeReport::new(mode);
    if let Some((verdict, _)) = crate::runner::no_login(shared).await {
        out.no_login = Some(verdict.reason);
        out.wall_time_s = started.elapsed().as_secs_f64();
        return out;
    }
    let contract = contract(shared);
    let mut runner = Runner {
        shared,
        contract: &contract,
        rounds: 0,
        next: 0,
        prefix: "x".into(),
        rotated: None,
        journal: 0,
    };
    if let Some(r) = &opts.replay {
        let (trace, ds) = runner.run(&r.plan).await;
        out.rounds = 1;
        out.actions = r.plan.size();
        out.replayed = Some(report::Replayed {
            disagreements: ds,
            timeline: trace,
        });
        out.wall_time_s = started.elapsed().as_secs_f64();
        return out;
    }
    let mut drawer = Drawer::new(opts.seed, draw(shared, opts.max_actions));
    let mut seen_recommendations = Vec::new();
    while started.elapsed() < opts.budget && shared.rp_exit.get().is_none() {
        let plan = drawer.round(opts.users.max(1));
        let (trace, ds) = runner.run(&plan).await;
        out.rounds += 1;
        out.actions += plan.size();
        if opts.run.progress {
            eprintln!(
                "explore {mode}: round {} ({} actions, {:.0} s of {:.0} s): {}",
                out.rounds,
                out.actions,
                started.elapsed().as_secs_f64(),
                opts.budget.as_secs_f64(),
                if ds.is_empty() {
                    "all as the model says".to_owned()
                } else {
                    format!(
                        "{} disagreement(s), the first: {}",
                        ds.len(),
                        ds[0].kind.as_str()
                    )
                }
            );
        }
        let first = ds
            .iter()
            .find(|d| !d.recommendation)
            .or_else(|| ds.iter().find(|d| !seen_recommendations.contains(&d.kind)));
        let Some(d) = first.cloned() else {
            continue;
        };
        if d.recommendation {
            seen_recommendations.push(d.kind);
        }
        let found_after = started.elapsed().as_secs_f64();
        let first = Seen {
            plan: &plan,
            trace: &trace,
            d: &d,
            after: found_after,
        };
        let finding = pursue(opts, &mut runner, first).await;
        let stop = finding.confirmed() && !finding.disagreement.recommendation;
        if finding.confirmed() {
            out.findings.push(finding);
        } else {
            out.flaky.push(finding);
        }
        if stop {
            break;
        }
    }
    out.shrink_rounds = runner.rounds - out.rounds;
    out.wall_time_s = started.elapsed().as_secs_f64();
    out
}

/// A disagreement as a round showed it.
struct Seen<'a> {
    plan: &'a Plan,
    trace: &'a [trace::Entry],
    d: &'a Disagreement,
    after: f64,
}

/// Re-runs the disagreeing lane alone; if it shows again, shrinks it and re-runs the
/// shrunk plan twice.
async fn pursue(opts: &ExploreOptions, runner: &mut Runner<'_>, seen: Seen<'_>) -> Finding {
    let Seen {
        plan,
        trace: first_trace,
        d,
        after: found_after,
    } = seen;
    let t = Target::of(d);
    let alone = shrink::alone(plan, d, first_trace);
    let mode = runner.shared.mode;
    let mut finding = Finding::new(d.clone(), found_after, plan.lanes[d.lane].actions.len());
    let (trace, ds) = runner.run(&alone).await;
    let Some(again) = t.in_lane(&ds, 0) else {
        // Not shown again: the timeline is the round that showed it (its lane and the
        // world), so that the report says what happened.
        finding.confirmations = (0, 1);
        finding.timeline = timeline(first_trace, d.lane, d.kind);
        finding.replay = replay(mode, opts.seed, d, alone);
        return finding;
    };
    let again = again.clone();
    let before = runner.rounds;
    let until = Instant::now() + opts.shrink_budget;
    let small = shrink(runner, alone.clone(), t, until).await;
    finding.shrink_runs = runner.rounds - before;
    let mut hits = 0;
    let mut last = (Vec::new(), again);
    for _ in 0..2 {
        let (trace, ds) = runner.run(&small).await;
        if let Some(d) = t.in_lane(&ds, 0) {
            hits += 1;
            last = (trace, d.clone());
        } else if hits == 0 {
            last.0 = trace;
        }
    }
    if hits == 0 {
        // The shrunk plan went too far to show it reliably: the lane as drawn is the replay.
        finding.confirmations = (1, 1);
        finding.shrunk_actions = finding.drawn_actions;
        finding.timeline = timeline(&trace, 0, d.kind);
        finding.replay = replay(mode, opts.seed, &last.1, alone);
        finding.disagreement = last.1;
        return finding;
    }
    finding.confirmations = (hits, 2);
    finding.shrunk_actions = small.lanes[0].actions.len();
    finding.disagreement = last.1.clone();
    finding.timeline = timeline(&last.0, 0, d.kind);
    finding.replay = replay(mode, opts.seed, &last.1, small);
    finding
}

/// What a finding's timeline shows: the lane and the world, and of the refresh stream the
/// hung refreshes, and for a stalled sync the lane's own.
fn timeline(trace: &[trace::Entry], lane: usize, kind: oracle::Kind) -> Vec<trace::Entry> {
    let stall = kind == oracle::Kind::SyncStalled;
    trace
        .iter()
        .filter(|e| e.lane.is_none_or(|l| l == lane))
        .filter(|e| match e.what {
            trace::What::Refresh { hung, .. } => hung || (stall && e.lane.is_some()),
            _ => true,
        })
        .cloned()
        .collect()
}

fn replay(mode: SyncMode, seed: u64, d: &Disagreement, plan: Plan) -> Replay {
    Replay {
        version: REPLAY_VERSION,
        mode,
        seed: Some(seed),
        showed: Some(format!("{}: {}", d.kind.as_str(), d.observed)),
        plan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("replay-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_bad_replay_file_is_refused_naming_the_file_and_what_is_wrong() {
        let lane = r#"{"groups":[],"actions":[{"do":"login"},{"do":"idle","s":1.5}]}"#;
        let good = file(
            "good",
            &format!(r#"{{"version":1,"mode":"strict","lanes":[{lane}]}}"#),
        );
        let r = Replay::from_file(&good).unwrap();
        assert_eq!(r.plan.lanes[0].actions.len(), 2);
        let cases = [
            ("version", format!(r#"{{"version":9,"mode":"strict","lanes":[{lane}]}}"#), "version 9"),
            ("mode", format!(r#"{{"version":1,"mode":"lax","lanes":[{lane}]}}"#), "unknown variant `lax`"),
            ("action", r#"{"version":1,"mode":"strict","lanes":[{"groups":[],"actions":[{"do":"dance"}]}]}"#.to_owned(), "unknown variant `dance`"),
            ("field", r#"{"version":1,"mode":"strict","lanes":[],"extra":1}"#.to_owned(), "unknown field `extra`"),
            ("cut", r#"{"version":1,"mode":"str"#.to_owned(), "line 1"),
        ];
        for (name, text, says) in cases {
            let p = file(name, &text);
            let e = Replay::from_file(&p).unwrap_err().0;
            assert!(e.starts_with(&p.display().to_string()), "{e}");
            assert!(e.contains(says), "{name}: {e}");
            let _ = std::fs::remove_file(p);
        }
        let e = Replay::from_file("/nonexistent/replay.json".as_ref())
            .unwrap_err()
            .0;
        assert!(e.contains("/nonexistent/replay.json"), "{e}");
        let _ = std::fs::remove_file(good);
    }

    #[test]
    fn durations_read_as_the_command_line_writes_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["", "ten", "-1s", "NaNs", "1d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
