//! Launch mode (the runner starts the reference-rp binary), attach mode, the report files,
//! expected failures, and a snapshot of the JSON report.

use conformance::{ExpectedFailures, Format, Options, RpDescription, SyncMode};
use reference_rp::Defect;

use crate::support::{
    INTERVAL_S, attach, attach_with, launch, not_passing, odd_attach_skips, odd_skips, rp_toml, run,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_mode_runs_the_binary_in_every_mode_writes_reports_and_matches_the_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let toml = rp_toml(
        r#"["strict", "additive", "none"]"#,
        "",
        &format!(
            "[launch]\ncommand = [{:?}]\nsync_interval_s = {INTERVAL_S}",
            env!("CARGO_BIN_EXE_reference-rp")
        ),
    );
    let desc = RpDescription::from_toml(&toml, "rp.toml").unwrap();
    let mut opts = Options::new(desc);
    opts.report_dir = Some(dir.path().to_owned());
    let report = run(&opts).await;
    assert_eq!(
        not_passing(&report),
        vec![],
        "the correct RP passes everything"
    );
    assert_eq!(odd_skips(&report), vec![], "skips are for other modes only");
    assert!(report.ok() && report.rp.launched && report.idp.embedded);
    let modes: Vec<SyncMode> = report.runs.iter().map(|r| r.sync_mode).collect();
    assert_eq!(
        modes,
        [SyncMode::Strict, SyncMode::Additive, SyncMode::None],
        "one run per declared mode"
    );
    assert_eq!(report.summary.total, 3 * conformance::catalogue().len());

    report
        .write(
            dir.path(),
            &[Format::Json, Format::Junit, Format::Md, Format::Html],
        )
        .unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    assert_eq!(json["summary"]["pass"], report.summary.pass);
    let junit = read("junit.xml");
    assert_eq!(junit.matches("<testcase ").count(), report.summary.total);
    assert!(junit.contains("failures=\"0\""));
    let summary = conformance::report::summary(&report);
    for mode in ["strict", "additive"] {
        assert!(
            summary.contains(&format!("slowest sync ({mode}): ")),
            "the terminal summary names the slowest sync: {summary}"
        );
    }
    let md = read("report.md");
    assert!(md.contains("| `login.code-flow` | PASS |"));
    let html = read("report.html");
    assert_eq!(
        html.matches("<details id=").count(),
        report.summary.total,
        "every scenario's evidence on the page"
    );
    assert!(!html.contains("Needs attention"), "nothing fails");
    assert!(
        md.contains("| `sync.background-deadline` | group admins added | 3 |"),
        "the Markdown report lists the sync latencies"
    );
    for mode in ["strict", "additive", "none"] {
        let log = read(&format!("rp-{mode}.log"));
        assert!(
            log.contains("reference-rp ready"),
            "the RP's log is kept: {log}"
        );
        // The JWKS is where discovery says, at a path of the run's own, not <issuer>/jwks.
        assert!(
            log.contains(&format!("-{mode}/keys-")),
            "the RP found a JWKS path only discovery names: {log}"
        );
    }

    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&report.run_id, "[run]");
    settings.add_filter(r"new kid [\w-]+", "new kid [kid]");
    // URLs in reasons and steps (the hops have their own placeholders): random ports.
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "[origin]");
    settings.bind(|| {
        let mut head = report.clone();
        head.runs.clear();
        insta::assert_json_snapshot!("reference_rp_report", head, {
            ".run_id" => "[run]",
            ".rp.base_url" => "[rp]",
            ".idp.issuer" => "[issuer]",
            ".wall_time_ms" => "[ms]",
        });
        for run in &report.runs {
            let name = format!("reference_rp_report_{}", run.sync_mode);
            insta::assert_json_snapshot!(name, run, {
                ".wall_time_ms" => "[ms]",
                ".critical_path_ms" => "[ms]",
                ".longest_concurrent" => "[id]",
                ".results[].duration_ms" => "[ms]",
                ".results[].evidence.measurements" => "[measured]",
                ".results[].evidence.latency[].min_ms" => "[ms]",
                ".results[].evidence.latency[].median_ms" => "[ms]",
                ".results[].evidence.latency[].max_ms" => "[ms]",
                ".results[].evidence.me[].account" => "[account]",
            });
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_mode_the_correct_rp_passes_everything() {
    let report = attach(&[], "attach").await;
    assert_eq!(not_passing(&report), vec![]);
    assert_eq!(odd_attach_skips(&report), vec![]);
    assert!(!report.rp.launched && !report.idp.embedded);
    assert!(report.idp.issuer.ends_with("/t/attach"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expected_failures_pass_the_run_and_stale_entries_are_reported() {
    let ids: Vec<&str> = conformance::catalogue().iter().map(|s| s.id).collect();
    let expected = ExpectedFailures::parse(
        "# known\nlogin.state-*   CSRF fix pending\nlogin.scopes    stale: fixed long ago\n",
        &ids,
    )
    .unwrap();
    let report = attach_with(&[Defect::LoginCsrf], "expected", |o| {
        o.only = vec!["login.*".into()];
        o.expected = expected;
    })
    .await;
    assert_eq!(report.summary.total, 19, "--only login.*");
    assert_eq!(
        (report.summary.fail, report.summary.expected_failures),
        (2, 2)
    );
    assert!(report.ok(), "listed failures do not fail the run");
    assert_eq!(report.summary.unexpected_passes, vec!["login.scopes"]);

    let bad = ExpectedFailures::parse("\nlogin.nope  x\n", &ids).unwrap_err();
    assert_eq!(
        bad,
        "2: \"login.nope\" matches no scenario (see `conformance list`)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_defect_the_same_options_fail_the_run() {
    let report = attach_with(&[Defect::LoginCsrf], "unexpected", |o| {
        o.only = vec!["login.state-*".into()];
    })
    .await;
    assert!(!report.ok(), "an unlisted failure fails the run");
    let failed: Vec<_> = not_passing(&report).into_iter().map(|(id, _)| id).collect();
    assert_eq!(failed, vec!["login.state-mismatch", "login.state-missing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_launch_the_correct_rp_passes_every_mode() {
    let report = launch(&[]).await;
    assert_eq!(not_passing(&report), vec![]);
    assert_eq!(odd_skips(&report), vec![]);
    assert_eq!(report.runs.len(), 3);
}

/// The control of the PAR defects (`par-front-channel`, `par-repeats-front-channel`), and
/// the catalogue judging an RP whose authorization requests the browser never sees: the
/// correct RP pushing each request passes every scenario, `login.par` included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_rp_pushing_its_requests_passes_every_scenario() {
    let features = crate::support::Features {
        par: true,
        ..Default::default()
    };
    let report = correct_in_strict_mode(features).await;
    let par = verdict(&report, "login.par");
    assert!(
        par.contains("the browser carried only client_id and request_uri"),
        "{par}"
    );
}

/// The control of the DPoP defects (`dpop-reuses-proof`, `dpop-accepts-bearer`), and the
/// catalogue judging an RP whose tokens are bound to its key: the correct RP proving
/// possession at every token request and every use of a token passes every scenario,
/// `login.dpop` and `login.dpop-unbound` included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_rp_proving_possession_passes_every_scenario() {
    let features = crate::support::Features {
        dpop: true,
        ..Default::default()
    };
    let report = correct_in_strict_mode(features).await;
    let dpop = verdict(&report, "login.dpop");
    assert!(dpop.contains("fresh DPoP proofs by one key"), "{dpop}");
    let unbound = verdict(&report, "login.dpop-unbound");
    assert!(unbound.starts_with("refused"), "{unbound}");
}

/// The control of the JAR defects (`jar-plain-request`, `jar-unsigned`), and the catalogue
/// judging an RP whose requests travel signed — by value, pushed, or by reference (the
/// provider fetching each object from the RP): the correct RP passes every scenario,
/// `login.jar` and `login.par` included, the login scenarios reading each request from the
/// object the provider took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_rp_signing_its_requests_passes_every_scenario() {
    for (par, jar_by_reference, how) in [
        (false, false, "signed HS256"),
        (true, false, "pushed"),
        (false, true, "by reference"),
    ] {
        let features = crate::support::Features {
            jar: true,
            par,
            jar_by_reference,
            ..Default::default()
        };
        let report = correct_in_strict_mode(features).await;
        let jar = verdict(&report, "login.jar");
        assert!(jar.contains(how), "{how}: {jar}");
    }
}

/// The control of the registration defects (`dcr-no-initial-token`,
/// `dcr-unregistered-redirect`): the correct RP, started with an initial access token and
/// no client id, registers itself and logs a user in as the client it registered. In each
/// sync mode, as the defects are judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_rp_registering_itself_passes_login_registration() {
    let features = crate::support::Features {
        registration: true,
        ..Default::default()
    };
    let mut opts = Options::new(crate::support::launched_as(
        &[],
        "client_secret_post",
        features,
    ));
    opts.launcher = Some(crate::support::in_process());
    opts.only = vec!["login.registration".into()];
    let report = run(&opts).await;
    assert_eq!(not_passing(&report), vec![]);
    for mode in &report.runs {
        let r = mode
            .results
            .iter()
            .find(|x| x.id == "login.registration")
            .expect("login.registration ran");
        assert_eq!(r.verdict, conformance::Outcome::Pass, "{}", r.reason);
        assert!(
            r.reason
                .starts_with("registered itself with the initial access token (201, client dcr-"),
            "{}",
            r.reason
        );
    }
}

/// The correct reference RP doing `features`, every scenario in strict mode: each passes
/// and nothing is skipped that applies.
async fn correct_in_strict_mode(features: crate::support::Features) -> conformance::Report {
    let mut opts = Options::new(crate::support::launched_as(
        &[],
        "client_secret_post",
        features,
    ));
    opts.launcher = Some(crate::support::in_process());
    opts.modes = vec![SyncMode::Strict];
    let report = run(&opts).await;
    assert_eq!(not_passing(&report), vec![]);
    assert_eq!(odd_skips(&report), vec![]);
    report
}

/// The reason of scenario `id`'s verdict (the first mode's).
fn verdict(report: &conformance::Report, id: &str) -> String {
    report.runs[0]
        .results
        .iter()
        .find(|x| x.id == id)
        .unwrap_or_else(|| panic!("{id} ran"))
        .reason
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_mode_an_rp_started_once_passes_run_after_run() {
    // One RP, started once (discovery and JWKS fetched at start-up), three runs: the tenant
    // keeps its issuer and keys (the rotated one included) while everything else resets.
    let idp = mock_idp::MockIdp::start().await;
    let attached = crate::support::Attached::start(&idp, &[], "again").await;
    for i in 1..=3 {
        let report = run(&attached.options(&idp)).await;
        let np = not_passing(&report);
        assert!(np.is_empty(), "run {i}: {np:#?}");
        let odd = odd_attach_skips(&report);
        assert!(odd.is_empty(), "run {i}: {odd:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_without_sub_in_me_a_long_timeout_and_no_health_endpoint_passes_every_mode() {
    // Three things real RPs do that the suite once misjudged: /me without `sub` (keyed by
    // username) was "refused a valid ID token"; an IdP timeout longer than three sync
    // deadlines was "stopped refreshing" after a hang; and the runner needed a health URL.
    let report = crate::support::launch_with(&[], |o| {
        o.rp.me.sub = conformance::Pointer(String::new());
        o.rp.idp_timeout_s = 7.0;
        o.rp.paths.health = Some(String::new());
        if let Some(l) = o.rp.launch.as_mut() {
            l.env.insert("ME_SHOWS_SUB".into(), "false".into());
        }
    })
    .await;
    assert!(
        report.rp.sync_deadline_s * 3.0 < 7.0,
        "the timeout outlasts the patience"
    );
    assert_eq!(not_passing(&report), vec![]);
    assert_eq!(odd_skips(&report), vec![]);
    let hang = report
        .runs
        .iter()
        .flat_map(|r| &r.results)
        .find(|r| r.id == "sync.transient-idp-failure")
        .expect("the outage scenario ran");
    assert!(hang.reason.contains("7 s timeout"), "{}", hang.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launched_rp_on_a_fixed_port_runs_its_modes_one_after_the_other() {
    // rp.toml fixes the port: the modes cannot run at once, and the claim-location variants
    // get ports of their own.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let report = crate::support::launch_with(&[], |o| o.rp.base_url = Some(base.clone())).await;
    assert_eq!(not_passing(&report), vec![]);
    assert_eq!(odd_skips(&report), vec![]);
    assert_eq!(report.runs.len(), 3);
    assert_eq!(report.rp.base_url, base);
}
