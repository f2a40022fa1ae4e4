//! `idtoken`: ID-token validation (OIDC Core §3.1.3.7, OIDF Basic/Config RP, RFC 8725).

use std::time::{Duration, Instant};

use mock_idp::faults::Fault;

use super::groups::shown;
use super::support::{
    control, login_ok, login_with_faults, refused_forged_signature, refused_login, scenario,
};
use crate::browser::{Browser, Login};
use crate::scenario::{Ctx, Phase, Scenario};
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{Judged, MeReading, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "idtoken.bad-signature",
            Idtoken,
            "the ID token's signature is verified with the provider's published key; OIDC Core §3.1.3.7 (6), which lets TLS server validation stand in for it only for a token received directly over TLS (accepting it then is a warn); OIDF oidcc-client-test-invalid-sig-rs256",
            "an ID token whose signature does not verify opens no session",
            bad_signature
        ),
        scenario!(
            "idtoken.bad-signature-hs256",
            Idtoken,
            "an ID token signed with HS256 and the client secret is verified like any other; OIDC Core §10.1; OIDF oidcc-client-test-invalid-sig-hs256",
            "an HS256 ID token (keyed with the client secret) whose signature does not verify opens no session",
            bad_signature_hs256
        ),
        scenario!(
            "idtoken.bad-signature-es256",
            Idtoken,
            "an ID token signed with ES256 is verified with the provider's published key like any other; OIDC Core §3.1.3.7 (6) (over TLS, a warn where the RP relies on TLS instead); OIDF oidcc-client-test-invalid-sig-es256",
            "against a provider that signs with ES256, an ID token whose signature does not verify opens no session (launch mode: the RP is started once more)",
            super::signing_alg::bad_signature_es256
        ),
        scenario!(
            "idtoken.bad-signature-ps256",
            Idtoken,
            "an ID token signed with PS256 is verified with the provider's published key like any other; OIDC Core §3.1.3.7 (6) (over TLS, a warn where the RP relies on TLS instead)",
            "against a provider that signs with PS256, an ID token whose signature does not verify opens no session (launch mode: the RP is started once more)",
            super::signing_alg::bad_signature_ps256
        ),
        scenario!(
            "idtoken.at-hash-mismatch",
            Idtoken,
            "an at_hash that does not match the access token is refused where the RP checks it (optional in the code flow, required where present for RPs that validate it); OIDC Core §3.1.3.6, §3.1.3.8; OIDF oidcc-client-test-invalid-athash",
            "an ID token whose at_hash is not the access token's opens no session (accepting it is a warn: the code flow leaves the check optional)",
            at_hash_mismatch
        ),
        scenario!(
            "idtoken.at-hash-absent",
            Idtoken,
            "at_hash is optional in the code flow: an ID token without it is accepted; OIDC Core §3.1.3.6; OIDF oidcc-client-test-missing-athash",
            "a valid ID token without at_hash logs the user in",
            at_hash_absent
        ),
        scenario!(
            "idtoken.alg-none",
            Idtoken,
            "an unsigned ID token is never accepted from the token endpoint of a provider that signs; RFC 8725 §3.1; OIDF oidcc-client-test-idtoken-sig-none",
            "an unsigned ID token (alg none) opens no session",
            alg_none
        ),
        scenario!(
            "idtoken.alg-hs256-confusion",
            Idtoken,
            "the algorithm comes from the provider's key, not from the token header (no HMAC with a public key); RFC 8725 §2.1, §3.1",
            "an HS256 ID token keyed with the RSA public key opens no session",
            hs256
        ),
        scenario!(
            "idtoken.wrong-iss",
            Idtoken,
            "iss is exactly the configured issuer; OIDC Core §3.1.3.7 (2); OIDF oidcc-client-test-invalid-iss",
            "an ID token from another issuer opens no session",
            wrong_iss
        ),
        scenario!(
            "idtoken.wrong-aud",
            Idtoken,
            "aud lists this client; a token issued to another client is refused; OIDC Core §3.1.3.7 (3)-(5); OIDF oidcc-client-test-invalid-aud",
            "an ID token for another client opens no session",
            wrong_aud
        ),
        scenario!(
            "idtoken.extra-untrusted-aud",
            Idtoken,
            "an ID token with additional audiences the client does not trust is refused; OIDC Core §3.1.3.7 (3)",
            "an ID token whose aud also names an untrusted audience opens no session",
            extra_aud
        ),
        scenario!(
            "idtoken.expired",
            Idtoken,
            "an ID token past its exp is refused; OIDC Core §3.1.3.7 (9)",
            "an expired ID token opens no session",
            expired
        ),
        scenario!(
            "idtoken.missing-aud",
            Idtoken,
            "an ID token carries aud naming this client; OIDC Core §2, §3.1.3.7 (3); OIDF oidcc-client-test-missing-aud",
            "an ID token without aud opens no session",
            missing_aud
        ),
        scenario!(
            "idtoken.missing-iat",
            Idtoken,
            "an ID token carries iat; OIDC Core §2; OIDF oidcc-client-test-missing-iat",
            "an ID token without iat opens no session",
            missing_iat
        ),
        scenario!(
            "idtoken.nonce-mismatch",
            Idtoken,
            "the nonce is the one the login sent; OIDC Core §3.1.3.7 (11); OIDF oidcc-client-test-nonce-invalid",
            "an ID token whose nonce is not the one sent opens no session",
            nonce_mismatch
        ),
        scenario!(
            "idtoken.kid-absent-single-key",
            Idtoken,
            "with a single key in the JWKS, a token without kid is verified with it; OIDC Core §10.1; OIDF oidcc-client-test-kid-absent-single-jwks",
            "a validly signed ID token without kid is accepted when the JWKS has one key",
            kid_absent
        ),
        scenario!(
            "idtoken.key-rotation",
            Idtoken,
            "after the provider rotates its signing key, the RP fetches the new key and logs users in; OIDC Core §10.1.1; OIDF oidcc-client-test-signing-key-rotation",
            "after a signing-key rotation the RP refetches the JWKS and logs users in",
            key_rotation,
            phase = Phase::Last
        ),
        scenario!(
            "idtoken.kid-absent-multiple-keys",
            Idtoken,
            "with several keys in the JWKS, a token without kid is either verified against them or refused, and never accepted unverified; OIDC Core §10.1; OIDF oidcc-client-test-kid-absent-multiple-jwks",
            "mid-rotation (two keys published), a token without kid with a bad signature opens no session; a valid one logs in or is refused cleanly",
            kid_absent_multiple,
            phase = Phase::Last
        ),
        scenario!(
            "idtoken.refresh-same-sub",
            Idtoken,
            "a refreshed ID token names the same sub as the session's; OIDC Core §12.2",
            "a refreshed ID token with another sub is not taken as the session's user",
            refresh_same_sub
        ),
        scenario!(
            "idtoken.refresh-bad-signature",
            Idtoken,
            "a refreshed ID token is validated as at login, its signature included; OIDC Core §12.2, §3.1.3.7 (6) (over TLS, a warn where the RP relies on TLS instead)",
            "a refreshed ID token whose signature does not verify is not applied to the session",
            refresh_bad_signature
        ),
        scenario!(
            "idtoken.refresh-wrong-aud",
            Idtoken,
            "a refreshed ID token names the same audience, this client; OIDC Core §12.2, §3.1.3.7 (3)",
            "a refreshed ID token issued to another client is not applied to the session",
            refresh_wrong_aud
        ),
        scenario!(
            "idtoken.refresh-expired",
            Idtoken,
            "a refreshed ID token is validated as at login, exp included; OIDC Core §12.2, §3.1.3.7 (9)",
            "an expired refreshed ID token is not applied to the session",
            refresh_expired
        ),
        scenario!(
            "idtoken.refresh-same-iss",
            Idtoken,
            "a refreshed ID token comes from the same issuer as the session's; OIDC Core §12.2; OIDF oidcc-client-test-refresh-token-invalid-issuer",
            "a refreshed ID token from another issuer is not applied to the session",
            refresh_same_iss
        ),
    ]
}

async fn bad_signature(cx: &Ctx) -> Judged {
    refused_forged_signature(
        cx,
        "an ID token with a bad signature",
        &[Fault::IdTokenBadSignature],
    )
    .await
}

/// The OIDF invalid-sig-hs256 module: an HS256 ID token keyed with the client secret,
/// its signature broken, must open no session (then the control). A valid one tells which
/// kind of RP refused it: one that verifies HS256, or one that takes no HS256 at all.
async fn bad_signature_hs256(cx: &Ctx) -> Judged {
    let refused = refused_forged_signature(
        cx,
        "an HS256 ID token keyed with the client secret whose signature does not verify",
        &[Fault::IdTokenHs256ClientSecret, Fault::IdTokenBadSignature],
    )
    .await?;
    if refused.outcome != crate::verdict::Outcome::Pass {
        return Ok(refused);
    }
    cx.step("a valid HS256 ID token keyed with the client secret, no kid");
    let (u, _, _, me) = login_with_faults(cx, &[Fault::IdTokenHs256ClientSecret], None).await?;
    Ok(match (me.logged_in(), me.is_user(&u)) {
        (true, true) => Verdict::pass(format!(
            "takes HS256 ID tokens keyed with its secret (a valid one logged its user in) and {}",
            refused.reason
        )),
        (true, false) => Verdict::fail(format!(
            "a valid HS256 login as {} reached {}",
            u.username,
            me.who()
        )),
        (false, _) => Verdict::pass(format!(
            "{}; it refuses valid HS256 ID tokens too (/me {}): it takes none, as a client registered for RS256 (the default id_token_signed_response_alg) should",
            refused.reason, me.status
        )),
    })
}

/// An at_hash that is not the access token's: refused is a pass; accepted a warn, as the
/// code flow lets an RP leave at_hash unchecked (OIDC Core §3.1.3.8).
async fn at_hash_mismatch(cx: &Ctx) -> Judged {
    let (u, _, login, me) = login_with_faults(cx, &[Fault::IdTokenWrongAtHash], None).await?;
    if me.logged_in() {
        return Ok(Verdict::warn(format!(
            "accepted an ID token whose at_hash is not the hash of the access token issued with it (/me answered 200 for {}): the code flow makes the check optional (OIDC Core §3.1.3.8), but a mismatch means the access token is not the one issued with this ID token",
            me.who()
        )));
    }
    control(cx, &u).await?;
    Ok(Verdict::pass(format!(
        "refused an ID token whose at_hash is not the access token's: the callback answered {}, /me {}; unbroken, the user logs in",
        super::support::status(login.callback_status),
        me.status
    )))
}

/// A valid ID token without at_hash must log its user in (optional in the code flow).
async fn at_hash_absent(cx: &Ctx) -> Judged {
    let f = [Fault::RemoveClaim {
        claim: "at_hash".into(),
    }];
    Ok(match accepted_login(cx, &f, "without at_hash").await? {
        None => {
            Verdict::pass("accepted a valid ID token without at_hash (optional in the code flow)")
        }
        Some((login, me)) => Verdict::fail(format!(
            "refused a valid ID token without at_hash (callback {}, /me {me}), which OIDC Core §3.1.3.6 makes optional in the code flow: providers that omit it log no one in; unbroken, the user logs in",
            super::support::status(login.callback_status),
        )),
    })
}

async fn alg_none(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an unsigned ID token (alg none)",
        &[Fault::IdTokenAlgNone],
        None,
    )
    .await
}

async fn hs256(cx: &Ctx) -> Judged {
    let f = [Fault::IdTokenHs256PublicKey];
    refused_login(
        cx,
        "an HS256 ID token keyed with the RSA public key",
        &f,
        None,
    )
    .await
}

async fn wrong_iss(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an ID token from another issuer",
        &[Fault::IdTokenWrongIss],
        None,
    )
    .await
}

async fn wrong_aud(cx: &Ctx) -> Judged {
    // Issued to another client: aud and azp name it, then aud alone (no azp), so that an
    // RP checking only one of them is caught. The first verdict that is not a pass stands.
    let variants = [
        ("aud and azp name it", Fault::IdTokenWrongAud),
        ("aud names it, no azp", Fault::IdTokenWrongAudNoAzp),
    ];
    for (how, fault) in variants {
        let what = format!("an ID token issued to another client ({how})");
        let v = refused_login(cx, &what, &[fault], None).await?;
        if v.outcome != crate::verdict::Outcome::Pass {
            return Ok(v);
        }
    }
    Ok(Verdict::pass(
        "refused ID tokens issued to another client, with and without azp; unbroken, the user logs in",
    ))
}

async fn extra_aud(cx: &Ctx) -> Judged {
    let f = [Fault::IdTokenExtraAud];
    refused_login(
        cx,
        "an ID token whose aud also names an audience it does not trust (\"untrusted-audience\", azp naming this client), which OIDC Core §3.1.3.7 (3) requires refusing",
        &f,
        None,
    )
    .await
}

async fn expired(cx: &Ctx) -> Judged {
    refused_login(cx, "an expired ID token", &[Fault::IdTokenExpired], None).await
}

async fn missing_iat(cx: &Ctx) -> Judged {
    refused_login(cx, "an ID token without iat", &[Fault::IdTokenNoIat], None).await
}

async fn nonce_mismatch(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an ID token with another nonce",
        &[Fault::IdTokenNonceMismatch],
        None,
    )
    .await
}

/// A login with a validly signed ID token changed by `faults` (no `kid`, no `at_hash`):
/// `None` when the user got in, else the refused login and `/me`'s status (after a
/// control, unbroken, succeeded). A login that reached someone else fails, saying `how`.
async fn accepted_login(
    cx: &Ctx,
    faults: &[Fault],
    how: &str,
) -> Result<Option<(Login, u16)>, Stop> {
    let (u, _, login, me) = login_with_faults(cx, faults, None).await?;
    if me.logged_in() && me.is_user(&u) {
        return Ok(None);
    }
    if me.logged_in() {
        return Err(Stop::with(Verdict::fail(format!(
            "a login {how} reached {}, not {}",
            me.who(),
            u.username
        ))));
    }
    control(cx, &u).await?;
    Ok(Some((login, me.status)))
}

async fn kid_absent(cx: &Ctx) -> Judged {
    // The precondition: the JWKS the RP sees has one key. A tenant rebuilt in attach mode
    // keeps its keys, and a previous run's kid-absent-multiple-keys leaves the old one
    // published for a day: a library may then (as §10.1 allows) refuse a token without kid.
    let jwks = cx.shared.admin.jwks().await?;
    let keys: Vec<&str> = jwks["keys"]
        .as_array()
        .map(|a| a.iter().map(|k| k["kid"].as_str().unwrap_or("?")).collect())
        .unwrap_or_default();
    if keys.len() != 1
        && let Some(p) = &cx.shared.idp.profile
    {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} profile {p} publishes {} keys, as that provider does: a token without kid and a JWKS of one key do not meet there",
            keys.len()
        )));
    }
    if keys.len() != 1 {
        return Ok(Verdict::error(format!(
            "this scenario needs a JWKS of one key, and the tenant publishes {} ({}): a token without kid may be refused when there are several (OIDC Core §10.1)",
            keys.len(),
            keys.join(", ")
        )));
    }
    cx.step(format!("the JWKS has one key, kid {}", keys[0]));
    let Some((login, me)) = accepted_login(cx, &[Fault::IdTokenNoKid], "without kid").await? else {
        return Ok(Verdict::pass(
            "accepted a validly signed ID token without kid (the JWKS has one key)",
        ));
    };
    // A refusal fails only an RP that holds that one-key JWKS: one that fetched it from
    // this run's tenant (which publishes one key until the rotations at the end). An RP
    // started before the run (attach mode) may still hold the keys of an earlier run.
    let fetches = cx
        .shared
        .admin
        .journal_since(0)
        .await?
        .into_iter()
        .filter(|e| e.endpoint == "jwks")
        .count();
    let callback = super::support::status(login.callback_status);
    Ok(if fetches == 0 {
        Verdict::error(format!(
            "refused a validly signed ID token without kid (callback {callback}, /me {me}), but the RP fetched no JWKS during this run: it may hold the keys of an earlier one, several of them, where OIDC Core §10.1 lets it refuse a token without kid; a run that starts the RP (launch mode) or restarts it judges this"
        ))
    } else {
        Verdict::fail(format!(
            "refused a validly signed ID token without kid although the JWKS has a single key, the one the RP fetched during this run ({fetches} fetch{}; callback {callback}, /me {me})",
            if fetches == 1 { "" } else { "es" }
        ))
    })
}

async fn key_rotation(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    login_ok(cx, &u).await?;
    // The journal's newest line right before the rotation: a JWKS fetch after it holds the
    // new key (or, in the moment the rotation takes, the old; an RP's sync often refetches
    // at once, on a refreshed token's new kid).
    let mark = cx.mark(&u).await?;
    let before = cx
        .shared
        .admin
        .journal_since(mark)
        .await?
        .last()
        .map_or(mark, |e| e.seq);
    let r = cx.shared.admin.rotate_key(0).await?;
    cx.step(format!(
        "rotated the signing key: new kid {}, the old key unpublished",
        r["kid"].as_str().unwrap_or("?")
    ));
    let patience = rotation_patience(cx);
    let outcome = login_after_rotation(cx, &u, patience).await?;
    // The new key can be had from the JWKS alone: a pass rests on the RP having fetched it.
    let fetches: Vec<_> = cx
        .shared
        .admin
        .journal_since(before)
        .await?
        .into_iter()
        .filter(|e| e.endpoint == "jwks")
        .collect();
    if let Some(first) = fetches.first() {
        cx.cite(first);
    }
    Ok(match (outcome, fetches.len()) {
        (Some(_), 0) => Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP logged the user in with a token signed by the new key without fetching the JWKS since the rotation, so it verified no signature with that key (idtoken.bad-signature judges that); whether it refetches keys cannot show in an RP that uses none"
        )),
        (Some((1, _)), n) => Verdict::pass(format!(
            "right after the rotation the RP fetched the JWKS ({n} fetch{}) and logged the user in with the new key",
            if n == 1 { "" } else { "es" }
        )),
        (Some((attempts, outage)), _) => {
            cx.measure("login_outage_after_rotation", outage);
            Verdict::warn(format!(
                "after a signing-key rotation every login failed for {:.1} s ({} attempts) until the RP fetched the JWKS and accepted the new key: it refetches the JWKS only after a delay, and users cannot log in meanwhile",
                outage.as_secs_f64(),
                attempts - 1
            ))
        }
        (None, 0) => Verdict::fail(format!(
            "for {:.0} s after a signing-key rotation every login failed, half as long again as the RP's declared JWKS cooldown ({} s), and the RP never fetched the JWKS again: it does not refetch the keys on an unknown kid",
            patience.as_secs_f64(),
            cx.shared.rp.jwks_cooldown_s
        )),
        (None, n) => Verdict::fail(format!(
            "for {:.0} s after a signing-key rotation every login failed, although the RP fetched the JWKS with the new key {n} time{} since: it does not use the keys it fetches",
            patience.as_secs_f64(),
            if n == 1 { "" } else { "s" }
        )),
    })
}

/// How long logins are retried after a rotation: an RP may refetch the JWKS only after
/// its declared cooldown, which is an outage to measure, not a failure to refetch.
fn rotation_patience(cx: &Ctx) -> Duration {
    cx.shared
        .patience()
        .max(Duration::from_secs_f64(cx.shared.rp.jwks_cooldown_s * 1.5))
}

/// Logs `u` in until the RP accepts the rotated key: the attempts it took and the time
/// since the first, or `None` when every login within `patience` failed.
async fn login_after_rotation(
    cx: &Ctx,
    u: &crate::idp::TestUser,
    patience: Duration,
) -> Result<Option<(u32, Duration)>, Stop> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(250);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let b = cx.browser();
        b.login(&u.username, None).await?;
        let me = cx.peek(&b).await?;
        if me.logged_in() && me.is_user(u) {
            cx.me(&b).await?;
            return Ok(Some((attempts, start.elapsed())));
        }
        if start.elapsed() >= patience {
            cx.me(&b).await?;
            cx.step(format!("{attempts} logins failed"));
            return Ok(None);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// OIDF `oidcc-client-test-kid-absent-multiple-jwks`, as a real provider gets there: in
/// the middle of a key rotation the JWKS has the new key and the old one, and a token
/// without `kid` leaves the RP to find the right one. OIDC Core §10.1 asks the provider
/// for a `kid` then, so the RP may refuse; what it must never do is accept a token that
/// none of the keys verifies.
async fn kid_absent_multiple(cx: &Ctx) -> Judged {
    let r = cx.shared.admin.rotate_key(86_400).await?;
    cx.step(format!(
        "rotated the signing key, the old one kept published: the JWKS has two keys, new kid {}",
        r["kid"].as_str().unwrap_or("?")
    ));
    // The RP must hold that two-key JWKS: a login with the new kid proves a fetch since.
    let c = cx.user("with-kid", &[]).await?;
    if login_after_rotation(cx, &c, rotation_patience(cx))
        .await?
        .is_none()
    {
        return Ok(Verdict::error(
            "after the rotation no login with the new kid succeeded, so the RP never held the two-key JWKS this scenario needs (idtoken.key-rotation judges the refetch)",
        ));
    }
    cx.step(
        "a login whose token names the new key succeeded: the RP holds the JWKS with both keys",
    );
    let forged = [Fault::IdTokenNoKid, Fault::IdTokenBadSignature];
    let (_, _, _, me) = login_with_faults(cx, &forged, None).await?;
    if me.logged_in() {
        return Ok(super::support::unverified_signature(
            &cx.shared.sites.idp,
            "an ID token without kid whose signature none of the JWKS's two keys verifies",
            &me,
        ));
    }
    cx.step("an ID token without kid and with a bad signature opened no session");
    let Some((login, _)) = accepted_login(cx, &[Fault::IdTokenNoKid], "without kid").await? else {
        return Ok(Verdict::pass(
            "with two keys in the JWKS, the RP verified a token without kid against them and logged the user in, and refused one that neither key verifies",
        ));
    };
    Ok(match login.callback_status {
        Some(s) if s >= 500 => Verdict::warn(format!(
            "with two keys in the JWKS, the RP refused a validly signed token without kid with HTTP {s} instead of a clear error (OIDC Core §10.1 lets it refuse); with the kid the user logs in"
        )),
        _ => Verdict::pass(
            "with two keys in the JWKS, the RP refused a token without kid, valid or not, as OIDC Core §10.1 allows (a provider with several keys must send kid); with the kid the user logs in",
        ),
    })
}

async fn missing_aud(cx: &Ctx) -> Judged {
    let f = [Fault::RemoveClaim {
        claim: "aud".into(),
    }];
    refused_login(
        cx,
        "an ID token without aud (azp still naming this client)",
        &f,
        None,
    )
    .await
}

/// A change at the IdP that a refresh carries, shown by `/me`: the name (or, for an RP whose
/// /me shows none, the email).
struct Change {
    field: &'static str,
    new: String,
}

impl Change {
    fn of(cx: &Ctx, u: &crate::idp::TestUser, word: &str) -> Change {
        if cx.shared.rp.me.name.shown() {
            Change {
                field: "name",
                new: format!("{word} {}", u.name),
            }
        } else {
            Change {
                field: "email",
                new: format!("{}-{}", word.to_lowercase(), u.email),
            }
        }
    }

    fn shown(&self, m: &MeReading) -> Option<String> {
        match self.field {
            "name" => m.name.clone(),
            _ => m.email.clone(),
        }
    }

    fn shows(&self, m: &MeReading) -> bool {
        self.shown(m).as_deref() == Some(&self.new)
    }

    async fn make(&self, cx: &Ctx, u: &crate::idp::TestUser) -> Result<(), Stop> {
        let patch = serde_json::json!({ self.field: self.new });
        cx.shared.admin.patch_user(&u.username, patch).await?;
        cx.step(format!(
            "changed {}'s {} to {:?} at the IdP",
            u.username, self.field, self.new
        ));
        Ok(())
    }
}

/// The control of the refreshed-ID-token scenarios, before anything is broken: a change at
/// the IdP, unbroken refreshes, and the session must stay open (else a session ending at a
/// broken refresh proves nothing: the RP may end it at every refresh). `Ok(true)` when the
/// change showed (the RP applies refreshed claims), `Ok(false)` when the refreshes came and
/// kept the session but the change did not show.
async fn good_refresh(cx: &Ctx, b: &Browser, u: &crate::idp::TestUser) -> Result<bool, Stop> {
    cx.step("control: unbroken refreshes after a change at the IdP must keep the session");
    // From the login on: a refresh that ended the session before the change counts too.
    let mark = cx.mark(u).await?;
    let change = Change::of(cx, u, "Refreshed");
    change.make(cx, u).await?;
    let got = cx.await_sync(b, u, mark, |m| change.shows(m)).await?;
    if let Some(e) = got.refreshes.iter().find(|e| e.ok()) {
        cx.cite(e);
    }
    let ok = got.refreshes.iter().filter(|e| e.ok()).count();
    match (got.me.logged_in(), got.latency.is_some(), ok) {
        (true, true, _) => Ok(true),
        (true, false, 0) | (false, _, 0) => Err(Stop::with(Verdict::fail(format!(
            "the RP did not refresh within {:.1} s (the patience: three sync deadlines, or an access token's lifetime and one), so it never saw a refreshed ID token: background sync is required{}",
            cx.shared.patience().as_secs_f64(),
            if got.me.logged_in() {
                String::new()
            } else {
                format!(" (the session ended meanwhile, /me {})", got.me.status)
            }
        )))),
        (true, false, _) => Ok(false),
        (false, _, n) => Err(Stop::with(Verdict::error(format!(
            "the control failed: the session ended (/me {}) after {n} unbroken refresh{}, so what ends it at a broken one cannot be told (the sync scenarios judge a session lost at a refresh)",
            got.me.status,
            if n == 1 { "" } else { "es" }
        )))),
    }
}

async fn refresh_same_sub(cx: &Ctx) -> Judged {
    // Groups the other person's token changes, where the map has two to tell apart (with
    // sync off no groups show either way).
    let pair = super::groups::pair(&cx.shared.rp)
        .ok()
        .filter(|_| cx.shared.mode != crate::rp::SyncMode::None);
    let groups: Vec<&str> = pair.iter().map(|p| p.a.as_str()).collect();
    let u = cx.user("u", &groups).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let applies = good_refresh(cx, &b, &u).await?;
    let before = cx.me(&b).await?;
    let mark = cx.mark(&u).await?;
    // Every refresh answers another person's ID token (their sub, email, name, username)
    // until cleared: after two of them the RP has dealt with one, and no good refresh can
    // have put the session's own profile back before /me is read.
    let id = cx.arm_refresh(Fault::IdTokenSubChanged, &u, None).await?;
    // Armed first: no unbroken refresh can carry the groups changed now.
    if let Some(p) = &pair {
        cx.shared
            .admin
            .patch_user(&u.username, serde_json::json!({ "groups": [p.b] }))
            .await?;
        cx.step(format!(
            "{}'s groups at the IdP are now {:?}: the other person's token carries them",
            u.username,
            [&p.b]
        ));
    }
    let faulty = |r: &[crate::idp::JournalEntry]| r.iter().filter(|e| !e.faults.is_empty()).count();
    // Until the session ends, or two faulty refreshes have come, or the patience runs out.
    let start = Instant::now();
    let mut wait = Duration::from_millis(20);
    let got = loop {
        let got = cx.refreshes(&u, mark).await?;
        let n = faulty(&got);
        let ended = n >= 1 && !cx.peek(&b).await?.logged_in();
        if ended || n >= 2 || start.elapsed() >= cx.shared.patience() {
            break got;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_millis(250));
    };
    let me = cx.me(&b).await?;
    cx.disarm(id).await?;
    cite_first_faulty(cx, &got)?;
    if !me.logged_in() {
        return Ok(Verdict::pass(
            "the RP ended the session when a refresh named another sub, while unbroken refreshes kept it open",
        ));
    }
    if faulty(&got) < 2 {
        return Ok(Verdict::warn(format!(
            "after a refresh named another sub the RP neither ended the session nor refreshed again within {:.1} s: the session stays open on a profile it no longer syncs",
            cx.shared.patience().as_secs_f64()
        )));
    }
    if !me.is_user(&u) {
        return Ok(Verdict::fail(format!(
            "after refreshes whose ID token names another sub, /me shows {}: the RP did not compare it with the session's",
            me.who()
        )));
    }
    let permissions = pair.is_some() && shown(&me) != shown(&before);
    let taken: Vec<&str> = [
        (
            "email",
            me.email.as_deref() == Some(&format!("changed-{}", u.email)),
        ),
        (
            "name",
            me.name
                .as_deref()
                .is_some_and(|n| n.starts_with("Other than ")),
        ),
        (
            "username",
            me.username.as_deref() == Some(&format!("{}-changed", u.username)),
        ),
        ("groups", permissions),
    ]
    .into_iter()
    .filter_map(|(f, t)| t.then_some(f))
    .collect();
    if !taken.is_empty() {
        return Ok(Verdict::fail(format!(
            "after refreshes whose ID token names another sub, the session's account took that person's {}: the RP did not compare the refreshed sub with the session's (OIDC Core §12.2)",
            taken.join(", ")
        )));
    }
    if !applies {
        return Ok(Verdict::error(
            "through refreshes naming another sub the session kept its own profile, but unbroken refreshes brought no change to it either: the RP applies no refreshed claims, so what it made of the other sub cannot be told (identity.profile-sync judges the sync)",
        ));
    }
    Ok(Verdict::pass(
        "through refreshes naming another sub (and carrying other groups) the RP kept the session's own user, profile and permissions, while unbroken refreshes bring changes",
    ))
}

async fn refresh_same_iss(cx: &Ctx) -> Judged {
    refused_refreshed(
        cx,
        Fault::IdTokenWrongIss,
        "from another issuer",
        Accepted::Fails("OIDC Core §12.2 requires the same iss"),
    )
    .await
}

async fn refresh_bad_signature(cx: &Ctx) -> Judged {
    refused_refreshed(
        cx,
        Fault::IdTokenBadSignature,
        "whose signature does not verify",
        Accepted::Unverified,
    )
    .await
}

async fn refresh_wrong_aud(cx: &Ctx) -> Judged {
    refused_refreshed(
        cx,
        Fault::IdTokenWrongAud,
        "issued to another client",
        Accepted::Fails("OIDC Core §12.2 requires the same aud, validated as at login (§3.1.3.7)"),
    )
    .await
}

async fn refresh_expired(cx: &Ctx) -> Judged {
    refused_refreshed(cx, Fault::IdTokenExpired, "already expired", Accepted::Fails("OIDC Core §12.2 validates a refreshed ID token as at login, exp included (§3.1.3.7 (9))")).await
}

/// What accepting a broken refreshed ID token is.
enum Accepted {
    /// A fail, for this reason.
    Fails(&'static str),
    /// A signature not verified: a warn over TLS, a fail on plain HTTP (OIDC Core
    /// §3.1.3.7 (6), as at login).
    Unverified,
}

/// A refreshed ID token broken by `fault` (`what`) must not be applied (OIDC Core §12.2:
/// validated as at login). After a control (unbroken refreshes keep the session), every
/// refresh answers such a token while the user's profile changes at the IdP: the change
/// shows only through an RP that takes the broken token. Then the control of the verdict:
/// the fault cleared, the change must show (else the RP applies no refreshed claims).
async fn refused_refreshed(cx: &Ctx, fault: Fault, what: &str, accepted: Accepted) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    good_refresh(cx, &b, &u).await?;
    // A real change at the IdP, which a refresh carries. It shows only if the RP applies a
    // refreshed ID token.
    let change = Change::of(cx, &u, "Renamed");
    let (field, new) = (change.field, change.new.clone());
    let shows = |m: &MeReading| change.shown(m);
    let mark = cx.mark(&u).await?;
    // Every refresh answers a broken ID token, until cleared.
    let id = cx.arm_refresh(fault, &u, None).await?;
    change.make(cx, &u).await?;
    let faulty = |r: &[crate::idp::JournalEntry]| r.iter().filter(|e| !e.faults.is_empty()).count();
    let got = cx.await_refreshes(&u, mark, |r| faulty(r) >= 2).await?;
    let me = cx.me(&b).await?;
    cx.disarm(id).await?;
    cite_first_faulty(cx, &got)?;
    if !me.logged_in() {
        return Ok(Verdict::pass(format!(
            "the RP ended the session when a refreshed ID token {what} came, while unbroken refreshes kept it open"
        )));
    }
    if shows(&me).as_deref() == Some(&new) {
        let userinfo = cx
            .journal(&u)
            .await?
            .into_iter()
            .any(|e| e.seq > mark && e.endpoint == "userinfo");
        if userinfo {
            return Ok(Verdict::error(format!(
                "the new {field} showed while every refreshed ID token was one {what}, but the RP also read userinfo, which carries it: what it made of the ID token cannot be told"
            )));
        }
        let taken = format!(
            "the RP applied refreshed ID tokens {what}: the {field} changed at the IdP shows ({new:?})"
        );
        return Ok(match accepted {
            Accepted::Fails(why) => Verdict::fail(format!("{taken}; {why}")),
            Accepted::Unverified if cx.shared.sites.idp.starts_with("https://") => {
                Verdict::warn(format!(
                    "{taken}: it does not check the signature of a refreshed ID token, relying on TLS server validation instead, as OIDC Core §3.1.3.7 (6) allows for a token received directly over TLS; the token proves nothing once it leaves that connection"
                ))
            }
            Accepted::Unverified => Verdict::fail(format!(
                "{taken}, from an issuer on plain HTTP, where no TLS server validation can stand in for the signature check: anyone on the path can forge a refreshed name, email or groups (OIDC Core §12.2, §3.1.3.7 (6)). `conformance run --tls` judges it against an https issuer"
            )),
        });
    }
    // Control: the same change, refreshes unbroken, must show; else the RP syncs no
    // profile and the verdict above proves nothing.
    cx.step("control: the fault cleared, the next refreshes are unbroken");
    let after = cx.mark(&u).await?;
    let got = cx
        .await_sync(&b, &u, after, |m| shows(m).as_deref() == Some(&new))
        .await?;
    Ok(match got.latency {
        Some(_) => Verdict::pass(format!(
            "refreshed ID tokens {what} were not applied: /me kept the {field} {:?} while the IdP's was {new:?}; once the refreshes were unbroken the new {field} showed",
            shows(&me).unwrap_or_default()
        )),
        None => Verdict::error(format!(
            "the control failed: with unbroken refreshes the new {field} did not show either (/me {}), so what the RP made of a refreshed ID token {what} cannot be told (identity.profile-sync judges the sync)",
            got.me.status
        )),
    })
}

/// Cites the first refresh that took the armed fault; without one the RP never refreshed
/// within the patience and never saw the refreshed ID token, which fails the scenario.
fn cite_first_faulty(cx: &Ctx, got: &[crate::idp::JournalEntry]) -> Result<(), Stop> {
    let Some(first) = got.iter().find(|e| !e.faults.is_empty()) else {
        return Err(Stop::with(Verdict::fail(format!(
            "the RP did not refresh within {:.1} s (the patience: three sync deadlines, or an access token's lifetime and one), so it never saw the refreshed ID token: background sync is required",
            cx.shared.patience().as_secs_f64()
        ))));
    };
    cx.cite(first);
    Ok(())
}
