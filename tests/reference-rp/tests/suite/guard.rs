//! The rule every scenario lives by: a pass needs a defect that fails it and a control that
//! proves it could have passed. This test walks the catalogue: each scenario must be failed
//! (or warned) by a reference-RP defect of the defect table, and must name its control
//! here. A new scenario without both fails it (the book, docs/src/built/adding-a-scenario.md, says how).

use std::collections::BTreeSet;

/// Each control, in words, and the scenarios it proves a pass possible for. The correct
/// reference RP passing every scenario (`modes`) shows each control holds.
const CONTROLS: &[(&str, &[&str])] = &[
    (
        "a positive observation: the pass is the behaviour itself, seen at the IdP (the journal) or at the RP (/me), which a defect's RP does not show",
        &[
            "login.code-flow",
            "login.scopes",
            "login.client-auth",
            "login.pkce",
            "idtoken.at-hash-absent",
            "identity.keyed-by-sub",
            "identity.profile-sync",
            "permissions.initial",
            "permissions.strict.add",
            "permissions.strict.remove",
            "permissions.additive.add",
            "permissions.relogin-forces-sync",
            "permissions.claim-location",
            "sync.background-deadline",
            "sync.uses-refresh-token",
            "sync.rotation",
            "logout.backchannel",
            "logout.rp-initiated",
        ],
    ),
    (
        "the same user logs in again with nothing broken and gets a session (scenarios::control); a refusal otherwise may be an RP that logs no one in",
        &[
            "login.state-mismatch",
            "login.state-missing",
            "login.idp-error",
            "login.missing-claim.email",
            "login.missing-claim.preferred_username",
            "login.missing-claim.sub",
            "login.no-refresh-token",
            "login.userinfo",
            "idtoken.bad-signature",
            "idtoken.bad-signature-hs256",
            "idtoken.at-hash-mismatch",
            "idtoken.alg-none",
            "idtoken.alg-hs256-confusion",
            "idtoken.wrong-iss",
            "idtoken.wrong-aud",
            "idtoken.extra-untrusted-aud",
            "idtoken.expired",
            "idtoken.missing-aud",
            "idtoken.missing-iat",
            "idtoken.nonce-mismatch",
        ],
    ),
    (
        "its premises checked: the JWKS has one key and the RP fetched it during the run (kid-absent-single-key); the RP fetched the JWKS after the rotation (key-rotation); a login with the new kid succeeded, so the RP holds both keys (kid-absent-multiple-keys)",
        &[
            "idtoken.kid-absent-single-key",
            "idtoken.key-rotation",
            "idtoken.kid-absent-multiple-keys",
        ],
    ),
    (
        "a third instance of the RP, started the same way against a tenant of the run's usual shape, logs a user in (restarted::control)",
        &[
            "login.discovery-issuer-mismatch",
            "idtoken.bad-signature-es256",
            "idtoken.bad-signature-ps256",
        ],
    ),
    (
        "unbroken refreshes keep the session open and bring a change at the IdP (good_refresh); the broken token's change shows once the fault is cleared",
        &[
            "idtoken.refresh-same-sub",
            "idtoken.refresh-same-iss",
            "idtoken.refresh-bad-signature",
            "idtoken.refresh-wrong-aud",
            "idtoken.refresh-expired",
        ],
    ),
    (
        "the new user with the reused email logs in to an account of their own, or, refused, a new user with an email of their own logs in",
        &["identity.email-reuse"],
    ),
    (
        "the sync that must keep a permission also adds another group's (or a new name), so it ran",
        &[
            "permissions.additive.remove-kept",
            "permissions.additive.webapp-grant-kept",
            "permissions.none.ignored",
        ],
    ),
    (
        "the grant is seen at /me and wiped by the next sync, or refused with /me unchanged while the same RP in additive mode grants it",
        &["permissions.strict.webapp-grant-wiped"],
    ),
    (
        "the same user's groups inline grant the permissions (inline_control), and the claims source was fetched",
        &[
            "permissions.groups-aggregated",
            "permissions.groups-distributed",
        ],
    ),
    (
        "the IdP told the RP (a refused refresh, userinfo answering 401, an introspection) before the session ended; past a revocation, the RP ended the revoked user's access first",
        &[
            "revocation.deleted-user",
            "revocation.refresh-expired",
            "revocation.disabled-user",
            "revocation.relogin-restores",
            "revocation.others-unaffected",
        ],
    ),
    (
        "a bystander's sync cadence measured before the outage; the next refresh after it succeeds; a stall the harness's own lag explains is an error",
        &["sync.transient-idp-failure"],
    ),
    (
        "a valid logout token ends another user's session first, and a session no token names stays open",
        &[
            "logout.backchannel-alg-none",
            "logout.backchannel-wrong-alg",
            "logout.backchannel-bad-signature",
            "logout.backchannel-wrong-iss",
            "logout.backchannel-wrong-aud",
            "logout.backchannel-no-events",
            "logout.backchannel-wrong-event",
            "logout.backchannel-nonce",
        ],
    ),
    (
        "the named session ends: the valid token works, so the other session staying is the sid's doing",
        &["logout.backchannel-session-only"],
    ),
    (
        "another user's refresh held past the RP's timeout leaves that session open (timeout_control)",
        &["logout.backchannel-deleted-user"],
    ),
    (
        "the named session ends, while the user's other IdP session, another user's, and the one named with a wrong iss stay",
        &["logout.frontchannel"],
    ),
    (
        "a logout with the state passed back unchanged answers below 400",
        &["logout.rp-initiated-other-state"],
    ),
    (
        "the copy of the session cookie opens the session before the logout",
        &["logout.session-ended"],
    ),
    (
        "the correct RP doing it (pushing, signing, proving possession) passes, judged by the same observation of the journal and the front channel (modes::the_correct_rp_pushing…, …signing…, …proving_possession…)",
        &["login.par", "login.jar", "login.dpop", "login.dpop-nonce"],
    ),
    (
        "the same user logs in again with nothing broken and gets a session (scenarios::control), and the refused response's token was never used",
        &["login.dpop-unbound"],
    ),
    (
        "the correct RP registering itself passes (modes::the_correct_rp_registering_itself…); a failure is backed by the same RP started with its configured client logging a user in (restarted::control)",
        &["login.registration"],
    ),
];

#[test]
fn every_scenario_has_a_defect_that_fails_it_and_a_control() {
    let catalogue: Vec<&str> = conformance::catalogue().iter().map(|s| s.id).collect();
    let mut controlled = BTreeSet::new();
    for (control, ids) in CONTROLS {
        for id in *ids {
            assert!(
                catalogue.contains(id),
                "{id} is not in the catalogue ({control})"
            );
            assert!(controlled.insert(*id), "{id} is listed under two controls");
        }
    }
    let failed_by = crate::defects::failing_or_warning();
    let mut missing = Vec::new();
    for id in &catalogue {
        if !controlled.contains(id) {
            missing.push(format!(
                "{id}: names no control (tests/suite/guard.rs CONTROLS)"
            ));
        }
        if !failed_by.contains(id) {
            missing.push(format!(
                "{id}: no reference-RP defect fails or warns it (tests/suite/defects.rs TABLE)"
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
