//! Each defect of the reference RP is caught by the scenarios meant to catch it, and by
//! nothing else; the correct RP passes everything. The README's table is this table.

use std::collections::BTreeSet;
use std::sync::Arc;

use reference_rp::Defect;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::support::{launch, not_passing};

/// Defect → the scenarios that catch it in some sync mode (`login.pkce` warns; every other
/// one fails).
const TABLE: &[(&str, &[&str])] = &[
    ("username-from-email", &["login.code-flow"]),
    ("no-offline-access", &["login.scopes"]),
    (
        "client-secret-basic",
        &["login.client-auth", "sync.uses-refresh-token"],
    ),
    ("secret-in-authorize", &["login.client-auth"]),
    ("no-pkce", &["login.pkce"]),
    (
        "no-state-check",
        &["login.state-mismatch", "login.state-missing"],
    ),
    ("state-optional", &["login.state-missing"]),
    ("crashes-on-idp-error", &["login.idp-error"]),
    ("accepts-missing-email", &["login.missing-claim.email"]),
    (
        "accepts-missing-username",
        &["login.missing-claim.preferred_username"],
    ),
    ("accepts-missing-sub", &["login.missing-claim.sub"]),
    ("accepts-no-refresh-token", &["login.no-refresh-token"]),
    ("userinfo-sub-unchecked", &["login.userinfo"]),
    (
        "no-signature-check",
        &[
            "idtoken.bad-signature",
            "idtoken.alg-none",
            "idtoken.alg-hs256-confusion",
        ],
    ),
    ("accepts-alg-none", &["idtoken.alg-none"]),
    ("hs256-public-key", &["idtoken.alg-hs256-confusion"]),
    ("ignores-iss", &["idtoken.wrong-iss"]),
    (
        "ignores-aud",
        &["idtoken.wrong-aud", "idtoken.extra-untrusted-aud"],
    ),
    ("accepts-extra-aud", &["idtoken.extra-untrusted-aud"]),
    ("ignores-exp", &["idtoken.expired"]),
    ("accepts-missing-iat", &["idtoken.missing-iat"]),
    ("skips-nonce-check", &["idtoken.nonce-mismatch"]),
    ("requires-kid", &["idtoken.kid-absent-single-key"]),
    ("never-refetches-jwks", &["idtoken.key-rotation"]),
    ("refresh-sub-unchecked", &["idtoken.refresh-same-sub"]),
    (
        "keyed-by-email",
        &[
            "identity.keyed-by-sub",
            "identity.email-reuse",
            "revocation.others-unaffected",
        ],
    ),
    (
        "links-by-email",
        &["identity.email-reuse", "revocation.others-unaffected"],
    ),
    ("no-profile-sync", &["identity.profile-sync"]),
    ("maps-unknown-groups", &["permissions.initial"]),
    (
        "sync-ignores-groups",
        &[
            "permissions.strict.add",
            "permissions.strict.remove",
            "permissions.strict.webapp-grant-wiped",
            "permissions.additive.add",
            "sync.background-deadline",
        ],
    ),
    (
        "strict-as-additive",
        &[
            "permissions.strict.remove",
            "permissions.strict.webapp-grant-wiped",
        ],
    ),
    ("never-removes", &["permissions.strict.remove"]),
    (
        "additive-as-strict",
        &[
            "permissions.additive.remove-kept",
            "permissions.additive.webapp-grant-kept",
        ],
    ),
    ("none-applies-groups", &["permissions.none.ignored"]),
    (
        "relogin-keeps-stale",
        &[
            "permissions.relogin-forces-sync",
            "revocation.relogin-restores",
        ],
    ),
    ("groups-from-wrong-token", &["permissions.claim-location"]),
    ("slow-sync", &["sync.background-deadline"]),
    ("reuses-refresh-token", &["sync.rotation"]),
    ("revokes-on-error", &["sync.transient-idp-failure"]),
    (
        "ignores-invalid-grant",
        &[
            "revocation.deleted-user",
            "revocation.refresh-expired",
            "revocation.disabled-user",
        ],
    ),
    (
        "keeps-sessions",
        &[
            "revocation.deleted-user",
            "revocation.refresh-expired",
            "revocation.disabled-user",
        ],
    ),
    ("revokes-by-email", &["revocation.others-unaffected"]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_defect_is_caught_by_its_scenarios_and_nothing_else() {
    let listed: BTreeSet<&str> = TABLE.iter().map(|(d, _)| *d).collect();
    let all: BTreeSet<&str> = Defect::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(listed, all, "every defect is in the table");
    let catalogue: BTreeSet<&str> = conformance::catalogue().iter().map(|s| s.id).collect();
    let caught: BTreeSet<&str> = TABLE.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    assert_eq!(
        caught, catalogue,
        "every scenario catches at least one defect"
    );

    let gate = Arc::new(Semaphore::new(8));
    let mut runs = JoinSet::new();
    // The correct RP passing everything is `modes::in_process_launch_the_correct_rp_passes_every_mode`.
    for (name, expected) in TABLE {
        let gate = gate.clone();
        runs.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let defect: Defect = name.parse().unwrap();
            let report = launch(&[defect]).await;
            (*name, *expected, not_passing(&report))
        });
    }
    let mut problems = Vec::new();
    while let Some(run) = runs.join_next().await {
        let (name, expected, got) = run.unwrap();
        let got_ids: BTreeSet<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        let want: BTreeSet<&str> = expected.iter().copied().collect();
        let label = name;
        if got_ids != want {
            problems.push(format!(
                "{label}: expected {want:?} to catch it, got {got:#?}"
            ));
        }
        for (id, verdict) in &got {
            let want = if id == "login.pkce" { "Warn" } else { "Fail" };
            if !verdict.starts_with(want) {
                problems.push(format!("{label}: {id} should be {want}, is {verdict}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_table_is_this_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    for (name, scenarios) in TABLE {
        let d: Defect = name.parse().unwrap();
        let ids: Vec<String> = scenarios.iter().map(|s| format!("`{s}`")).collect();
        let row = format!("| `{name}` | {} | {} |", d.description(), ids.join(", "));
        assert!(readme.contains(&row), "README lacks the row\n{row}");
    }
}
