//! `idtoken`: ID-token validation (OIDC Core §3.1.3.7, OIDF Basic/Config RP, RFC 8725).

use mock_idp::faults::Fault;

use super::idtoken_keys::{accepted_login, key_rotation, kid_absent, kid_absent_multiple};
use super::idtoken_refresh::{
    refresh_bad_signature, refresh_expired, refresh_same_iss, refresh_same_sub, refresh_wrong_aud,
};
use super::support::{
    control, login_with_faults, refused_forged_signature, refused_login, scenario,
};
use crate::scenario::{Ctx, Phase, Scenario};
use crate::verdict::{Judged, Verdict};

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
