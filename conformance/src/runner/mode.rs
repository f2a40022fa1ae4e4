//! One mode's run: the concurrent scenarios then those that run alone, each in time, its verdict; a login nobody can make said once; an RP that exits named.

use super::*;

/// The scenario that judges the login itself.
pub(super) const CODE_FLOW: &str = "login.code-flow";

/// What one mode's run gave: the results, why no one could log in (when no one could), and
/// how long the concurrent phase took, start to last (for the critical path).
pub(super) struct ModeOutcome {
    pub results: Vec<ScenarioResult>,
    pub no_login: Option<String>,
    pub concurrent_phase: Duration,
}

/// Runs the scenarios of one mode: the concurrent ones, then those that run alone; when no
/// one can log in, says why once instead (the reason is returned too).
pub(super) async fn run_mode(
    opts: &Options,
    shared: &Arc<Shared>,
    scenarios: &[Scenario],
) -> ModeOutcome {
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
        return ModeOutcome {
            results,
            no_login: Some(why),
            concurrent_phase: Duration::ZERO,
        };
    }
    let mut concurrent_phase = Duration::ZERO;
    for phase in [Phase::Concurrent, Phase::Alone, Phase::Last] {
        let phase_started = Instant::now();
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
        if phase == Phase::Concurrent {
            concurrent_phase = phase_started.elapsed();
        }
    }
    let order: Vec<&str> = scenarios.iter().map(|s| s.id).collect();
    results.sort_by_key(|r| order.iter().position(|id| *id == r.id));
    ModeOutcome {
        results,
        no_login: None,
        concurrent_phase,
    }
}

/// The mode's critical path as measured: its wall time were the concurrent phase only as
/// long as its longest scenario (bringing up the tenant and RP, the login gate, the longest
/// concurrent scenario, each scenario that runs alone, stopping the RP). What the wall time
/// has beyond it is scenarios queueing for `--jobs` and for the machine. With that longest
/// scenario's id.
pub(super) fn critical_path(
    wall: Duration,
    concurrent_phase: Duration,
    results: &[ScenarioResult],
    scenarios: &[Scenario],
) -> (Duration, Option<String>) {
    let concurrent = |id: &str| {
        scenarios
            .iter()
            .any(|s| s.id == id && s.phase == Phase::Concurrent)
    };
    let longest = results
        .iter()
        .filter(|r| concurrent(&r.id))
        .max_by_key(|r| r.duration_ms);
    let longest_ms = longest.map_or(0, |r| r.duration_ms);
    let path = wall.saturating_sub(concurrent_phase) + Duration::from_millis(longest_ms);
    (path.min(wall), longest.map(|r| r.id.clone()))
}

/// Waits for the scenarios in `set`, keeping their results.
pub(super) async fn drain(
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
pub(crate) async fn no_login(shared: &Arc<Shared>) -> Option<(Verdict, Evidence)> {
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
            cx.end_sessions().await;
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
            None => match refused_authorization(shared).await {
                Some(why) => format!("the IdP refused the RP's authorization request ({why})"),
                None => "the IdP never redirected back to the RP's callback".to_owned(),
            },
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

/// Why the provider last refused an authorization request of the RP's client with an error
/// page (an unknown redirect_uri, a request object it could not take…), as its journal
/// says: the real reason a login never came back.
async fn refused_authorization(shared: &Shared) -> Option<String> {
    let client = shared.rp.client_id.as_str();
    let entries = shared.admin.journal_since(0).await.ok()?;
    let e = entries.iter().rev().find(|e| {
        e.endpoint == "authorize" && e.client_id.as_deref() == Some(client) && e.error.is_some()
    })?;
    Some(format!(
        "{}: {}",
        e.error.as_deref().unwrap_or_default(),
        e.error_description.as_deref().unwrap_or_default()
    ))
}

/// A scenario that does not apply to this sync mode.
pub(super) fn skipped(s: &Scenario, mode: SyncMode, expected: bool) -> ScenarioResult {
    let names: Vec<&str> = s.modes.iter().map(|m| m.as_str()).collect();
    let v = Verdict::skip(format!(
        "{NOT_THIS_MODE} {}; the RP runs in {mode}",
        names.join(" and ")
    ));
    result(s, v, expected, Duration::ZERO, Evidence::default())
}

pub(super) fn result(
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
pub(super) const EXIT_WATCH: Duration = Duration::from_millis(20);

/// Watches the launched RP until it exits (recorded in `exit`), or until aborted.
pub(crate) async fn watch_exit(
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
pub(super) fn after_exit(why: &str, was: Option<&Verdict>) -> Verdict {
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
pub(super) async fn run_one(
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
    let took = started.elapsed();
    cx.end_sessions().await;
    result(&s, verdict, expected, took, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_critical_path_is_the_wall_time_with_the_concurrent_phase_cut_to_its_longest_scenario() {
        let all = catalogue();
        let find = |id: &str| *all.iter().find(|s| s.id == id).expect(id);
        let (quick, slow, alone) = (
            find("login.code-flow"),
            find("sync.background-deadline"),
            find("sync.transient-idp-failure"),
        );
        assert_eq!(
            (quick.phase, slow.phase, alone.phase),
            (Phase::Concurrent, Phase::Concurrent, Phase::Alone)
        );
        let ran = |s: &Scenario, ms: u64| {
            result(
                s,
                Verdict::pass("ran"),
                false,
                Duration::from_millis(ms),
                Evidence::default(),
            )
        };
        let results = [ran(&quick, 2_000), ran(&slow, 3_500), ran(&alone, 9_000)];
        // 10 s in all, 6 s of it the concurrent phase: queueing made it longer than 3.5 s.
        let (path, longest) = critical_path(
            Duration::from_secs(10),
            Duration::from_secs(6),
            &results,
            &[quick, slow, alone],
        );
        assert_eq!(path, Duration::from_millis(7_500));
        assert_eq!(longest.as_deref(), Some("sync.background-deadline"));
        // No concurrent scenario ran: the path is the wall time less that empty phase.
        let (path, longest) = critical_path(
            Duration::from_secs(10),
            Duration::ZERO,
            &results[2..],
            &[alone],
        );
        assert_eq!((path, longest), (Duration::from_secs(10), None));
    }
}
