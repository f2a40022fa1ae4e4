//! The reference RP against every provider profile of the mock IdP (`--idp-profile all`),
//! every sync mode. Where a real provider breaks this RP, the gap is listed here with its
//! reason; the list may not go stale (every entry must still be observed).

use std::collections::BTreeSet;

use conformance::Outcome;

use crate::support::launch_with;

/// `(profile, scenario glob, why)`: what this RP cannot do with that provider.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[
    (
        "entra",
        "*",
        "Entra ID sends no email claim unless the optional claim is configured; this RP requires email (a required claim), so no one logs in",
    ),
    (
        "auth0",
        "sync.transient-idp-failure",
        "Auth0 rotation without a reuse interval: a refresh answer lost to a timeout spends the token, the retry revokes the family",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_rp_across_every_provider_profile() {
    // fapi2 takes only FAPI clients (pushed requests, private_key_jwt with its demo key,
    // DPoP): the mock's own test runs its flow (mock-idp tests/it/fapi2.rs).
    let all: Vec<String> = mock_idp::profiles::PROFILES
        .iter()
        .filter(|p| p.name != "fapi2")
        .map(|p| p.name.to_string())
        .collect();
    let report = launch_with(&[], |o| o.idp_profiles = all.clone()).await;
    let profiles: BTreeSet<&str> = report
        .runs
        .iter()
        .filter_map(|r| r.idp_profile.as_deref())
        .collect();
    assert_eq!(profiles.len(), all.len(), "every profile ran");
    assert_eq!(report.runs.len(), all.len() * 3, "in every sync mode");

    let mut unexplained = Vec::new();
    let mut seen = BTreeSet::new();
    for run in &report.runs {
        let profile = run.idp_profile.as_deref().unwrap_or_default();
        for r in &run.results {
            if matches!(r.verdict, Outcome::Pass | Outcome::Skip) {
                continue;
            }
            match KNOWN_GAPS
                .iter()
                .position(|(p, glob, _)| *p == profile && conformance::matches(glob, &r.id))
            {
                Some(i) => {
                    seen.insert(i);
                }
                None => unexplained.push(format!(
                    "{profile} {} {}: {:?}: {}",
                    run.sync_mode, r.id, r.verdict, r.reason
                )),
            }
        }
    }
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
    let stale: Vec<_> = (0..KNOWN_GAPS.len())
        .filter(|i| !seen.contains(i))
        .map(|i| KNOWN_GAPS[i])
        .collect();
    assert!(stale.is_empty(), "gaps no longer observed: {stale:?}");

    // No one logs in against Entra ID: said once per mode, with the cause and Microsoft's
    // fix; every other scenario is skipped with that reason.
    for run in report
        .runs
        .iter()
        .filter(|r| r.idp_profile.as_deref() == Some("entra"))
    {
        let why = run.no_login.as_deref().unwrap_or_default();
        assert!(why.contains("no `email` claim"), "{why}");
        assert!(why.contains("Add optional claim"), "{why}");
        let others = run.results.iter().filter(|r| r.id != "login.code-flow");
        assert!(
            others.clone().all(|r| r.verdict == Outcome::Skip),
            "{:?}",
            others.map(|r| (&r.id, r.verdict)).collect::<Vec<_>>()
        );
    }
    let summary = conformance::report::summary(&report);
    assert!(
        summary.trim_start().starts_with("NO LOGIN (entra/"),
        "{summary}"
    );
    let matrix = conformance::report::matrix(&report);
    assert!(matrix.contains("scenario \\ profile"), "{matrix}");
    assert!(matrix.lines().any(|l| l.starts_with("login.code-flow")
        && l.split_whitespace().filter(|c| *c == "PASS").count() == all.len() - 1));
}

/// The rehearsal loop: preflight captures a "customer's real tenant" (here mock-idp
/// shaped like Keycloak) as a profile file, and the catalogue run against that file gives
/// every scenario the verdict it gets against the tenant itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_captured_by_preflight_rehearses_like_the_tenant() {
    use conformance::preflight::{self, PreflightOptions};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme-keycloak.toml");
    let customer = mock_idp::MockIdp::builder()
        .profile("keycloak")
        .start()
        .await
        .unwrap();
    let opts = PreflightOptions {
        write_profile: Some(file.clone()),
        ..PreflightOptions::unattended(customer.issuer(), "demo-rp", "demo-secret", "alice")
    };
    let readiness = preflight::preflight(&opts).await.unwrap();
    assert!(
        readiness.profile_written.is_some(),
        "{}",
        preflight::terminal(&readiness)
    );

    let verdicts = |profile: String| async move {
        let report = launch_with(&[], |o| {
            o.idp_profiles = vec![profile];
            o.modes = vec![conformance::SyncMode::Strict];
        })
        .await;
        let run = &report.runs[0];
        let label = run.idp_profile.clone().unwrap_or_default();
        let verdicts: Vec<(String, Outcome)> = run
            .results
            .iter()
            .map(|r| (r.id.clone(), r.verdict))
            .collect();
        (label, verdicts)
    };
    let (label, captured) = verdicts(file.display().to_string()).await;
    assert_eq!(
        label, "captured-127-0-0-1",
        "the run names the captured profile"
    );
    let (_, original) = verdicts("keycloak".into()).await;
    assert_eq!(captured, original);
    assert!(
        captured
            .iter()
            .any(|(id, v)| id == "sync.rotation" && *v == Outcome::Skip),
        "Keycloak's refresh tokens do not rotate, and the captured tenant's do not either"
    );
}
