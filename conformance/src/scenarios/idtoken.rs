//! `idtoken`: ID-token validation (OIDC Core §3.1.3.7, OIDF Basic/Config RP, RFC 8725).

use std::time::{Duration, Instant};

use super::{fault, login_ok, login_with_faults, refused_login, scenario};
use crate::scenario::{Ctx, Phase, Scenario};
use crate::verdict::{Judged, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "idtoken.bad-signature",
            Idtoken,
            "OIDC Core §3.1.3.7 (6); OIDF oidcc-client-test-invalid-sig-rs256",
            "an ID token whose signature does not verify opens no session",
            bad_signature
        ),
        scenario!(
            "idtoken.alg-none",
            Idtoken,
            "RFC 8725 §3.1; OIDF oidcc-client-test-idtoken-sig-none",
            "an unsigned ID token (alg none) opens no session",
            alg_none
        ),
        scenario!(
            "idtoken.alg-hs256-confusion",
            Idtoken,
            "RFC 8725 §2.1, §3.1",
            "an HS256 ID token keyed with the RSA public key opens no session",
            hs256
        ),
        scenario!(
            "idtoken.wrong-iss",
            Idtoken,
            "OIDC Core §3.1.3.7 (2); OIDF oidcc-client-test-invalid-iss",
            "an ID token from another issuer opens no session",
            wrong_iss
        ),
        scenario!(
            "idtoken.wrong-aud",
            Idtoken,
            "OIDC Core §3.1.3.7 (3); OIDF oidcc-client-test-invalid-aud",
            "an ID token for another client opens no session",
            wrong_aud
        ),
        scenario!(
            "idtoken.extra-untrusted-aud",
            Idtoken,
            "OIDC Core §3.1.3.7 (3)",
            "an ID token whose aud also names an untrusted audience opens no session",
            extra_aud
        ),
        scenario!(
            "idtoken.expired",
            Idtoken,
            "OIDC Core §3.1.3.7 (9)",
            "an expired ID token opens no session",
            expired
        ),
        scenario!(
            "idtoken.missing-iat",
            Idtoken,
            "OIDC Core §2 (iat REQUIRED); OIDF oidcc-client-test-missing-iat",
            "an ID token without iat opens no session",
            missing_iat
        ),
        scenario!(
            "idtoken.nonce-mismatch",
            Idtoken,
            "OIDC Core §3.1.3.7 (11); OIDF oidcc-client-test-nonce-invalid",
            "an ID token whose nonce is not the one sent opens no session",
            nonce_mismatch
        ),
        scenario!(
            "idtoken.kid-absent-single-key",
            Idtoken,
            "OIDC Core §10.1; OIDF oidcc-client-test-kid-absent-single-jwks",
            "a validly signed ID token without kid is accepted when the JWKS has one key",
            kid_absent
        ),
        scenario!(
            "idtoken.key-rotation",
            Idtoken,
            "OIDC Core §10.1.1; OIDF oidcc-client-test-signing-key-rotation",
            "after a signing-key rotation the RP refetches the JWKS and logs users in",
            key_rotation,
            phase = Phase::Last
        ),
        scenario!(
            "idtoken.refresh-same-sub",
            Idtoken,
            "OIDC Core §12.2",
            "a refreshed ID token with another sub is not taken as the session's user",
            refresh_same_sub
        ),
    ]
}

async fn bad_signature(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an ID token with a bad signature",
        &[fault("id_token_bad_signature")],
        None,
    )
    .await
}

async fn alg_none(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an unsigned ID token (alg none)",
        &[fault("id_token_alg_none")],
        None,
    )
    .await
}

async fn hs256(cx: &Ctx) -> Judged {
    let f = [fault("id_token_hs256_public_key")];
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
        &[fault("id_token_wrong_iss")],
        None,
    )
    .await
}

async fn wrong_aud(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an ID token for another client",
        &[fault("id_token_wrong_aud")],
        None,
    )
    .await
}

async fn extra_aud(cx: &Ctx) -> Judged {
    let f = [fault("id_token_extra_aud")];
    refused_login(
        cx,
        "an ID token whose aud names an untrusted audience",
        &f,
        None,
    )
    .await
}

async fn expired(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an expired ID token",
        &[fault("id_token_expired")],
        None,
    )
    .await
}

async fn missing_iat(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an ID token without iat",
        &[fault("id_token_no_iat")],
        None,
    )
    .await
}

async fn nonce_mismatch(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "an ID token with another nonce",
        &[fault("id_token_nonce_mismatch")],
        None,
    )
    .await
}

async fn kid_absent(cx: &Ctx) -> Judged {
    let (u, _, login, me) = login_with_faults(cx, &[fault("id_token_no_kid")], None).await?;
    if me.logged_in() && me.sub.as_ref() == Some(&u.sub) {
        return Ok(Verdict::pass(
            "accepted a validly signed ID token without kid (the JWKS has one key)",
        ));
    }
    let (_, _, _) = login_ok(cx, &u).await?;
    Ok(Verdict::fail(format!(
        "refused a validly signed ID token without kid although the JWKS has a single key (callback {})",
        super::status(login.callback_status)
    )))
}

async fn key_rotation(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    login_ok(cx, &u).await?;
    let r = cx.shared.admin.rotate_key(true).await?;
    cx.step(format!(
        "rotated the signing key: new kid {}, the old key unpublished",
        r["kid"].as_str().unwrap_or("?")
    ));
    let b = cx.browser();
    b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    Ok(if me.logged_in() {
        Verdict::pass("after the rotation the RP verified the new key and logged the user in")
    } else {
        Verdict::fail(
            "after a signing-key rotation the RP refused the new kid: it does not refetch the JWKS",
        )
    })
}

async fn refresh_same_sub(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let id = cx.arm(fault("id_token_sub_changed"), &u).await?;
    let start = Instant::now();
    let mut wait = Duration::from_millis(20);
    let mut faulty: Option<u64> = None;
    loop {
        let journal = cx.journal(&u).await?;
        let refreshes = journal
            .iter()
            .filter(|e| e.endpoint == "token" && e.grant_type.as_deref() == Some("refresh_token"));
        if faulty.is_none()
            && let Some(e) = refreshes.clone().find(|e| !e.faults.is_empty())
        {
            cx.cite(e);
            faulty = Some(e.seq);
        }
        let settled = faulty.is_some_and(|seq| refreshes.clone().any(|e| e.seq > seq));
        if faulty.is_some() {
            let me = cx.peek(&b).await?;
            if !me.logged_in() || me.sub.as_ref() != Some(&u.sub) || settled {
                let me = cx.me(&b).await?;
                return Ok(if !me.logged_in() {
                    Verdict::pass("the RP ended the session when a refresh named another sub")
                } else if me.sub.as_ref() == Some(&u.sub) {
                    Verdict::pass("the RP kept the session's own sub after a refresh named another")
                } else {
                    Verdict::fail(format!(
                        "after a refresh whose ID token names sub {:?}, /me shows it: the RP did not compare it with the session's",
                        me.sub.unwrap_or_default()
                    ))
                });
            }
        }
        if start.elapsed() >= cx.shared.patience() {
            cx.shared.admin.clear(id).await;
            return Ok(match faulty {
                None => Verdict::fail(format!(
                    "the RP did not refresh within {:.1} s (three sync deadlines): the seed requires background sync",
                    cx.shared.patience().as_secs_f64()
                )),
                Some(_) => {
                    Verdict::pass("the RP kept the session's own sub after a refresh named another")
                }
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_millis(500));
    }
}
