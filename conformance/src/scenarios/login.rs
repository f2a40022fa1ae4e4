//! `login`: the authorization code flow, the scopes, client authentication and required claims.

use mock_idp::faults::Fault;

use super::login_binding::{pkce, state_mismatch, state_missing};
use super::login_userinfo::userinfo;
use super::support::{control, login_ok, login_with_faults, refused_login, scenario, status};
use crate::idp::TestUser;
use crate::rp::ClientAuth;
use crate::scenario::{Ctx, Scenario};
use crate::verdict::{Judged, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "login.code-flow",
            Login,
            "log in with the authorization code flow at the registered redirect URI (/login/oauth2/callback); OIDC Core §3.1; OIDF oidcc-client-test",
            "response_type=code, the registered redirect_uri, state and nonce; /me shows the user's claims",
            code_flow
        ),
        scenario!(
            "login.scopes",
            Login,
            "request the openid, profile and email scopes, and offline_access when configured for a long-lived refresh token; OIDC Core §5.4, §11",
            "requests openid, profile, email, and offline_access when configured",
            scopes
        ),
        scenario!(
            "login.client-auth",
            Login,
            "authenticate to the token endpoint with client_secret_post (or the declared method), never with the secret in a URL; a JWT assertion (private_key_jwt, client_secret_jwt) is good for one request and names the issuer as its audience; RFC 6749 §2.3.1; RFC 7523 §3; OIDC Core §9",
            "the token requests use the declared client authentication; the secret is never in a URL; each JWT assertion is accepted once, with a fresh jti",
            client_auth
        ),
        scenario!(
            "login.par",
            Login,
            "an RP that pushes its authorization requests pushes each one to the pushed_authorization_request_endpoint, authenticated as at the token endpoint, and sends the browser with client_id and the request_uri alone; RFC 9126 §2, §4",
            "declared par: each login pushes its request (201, the declared client authentication), the browser carries only client_id and request_uri (warn if more)",
            super::login_par::par
        ),
        scenario!(
            "login.jar",
            Login,
            "an RP that signs its authorization requests sends each as a request object signed with its key or secret, naming itself (iss) and the provider (aud), which the provider takes; RFC 9101 §4, §5",
            "declared jar: the login's authorization request is a signed request object the provider accepts",
            super::login_jar::jar
        ),
        scenario!(
            "login.dpop",
            Login,
            "an RP that uses DPoP proves possession of one key with a fresh proof at every token request, the refreshes included, and at every use of its bound access tokens; RFC 9449 §4, §5, §7",
            "declared dpop: the code exchange and the refreshes carry proofs by one key, none refused (a reused jti, a wrong htm, htu or ath)",
            super::login_dpop::dpop
        ),
        scenario!(
            "login.dpop-nonce",
            Login,
            "an RP that uses DPoP and is refused use_dpop_nonce retries with a proof carrying the provider's DPoP-Nonce; RFC 9449 §8",
            "declared dpop: a code exchange refused use_dpop_nonce is retried with the nonce and the user logs in",
            super::login_dpop::nonce
        ),
        scenario!(
            "login.dpop-unbound",
            Login,
            "an RP that asked for a DPoP-bound token may discard a response with a bearer token instead; RFC 9449 §5",
            "declared dpop: a bearer token response to a proved code exchange opens no session and the token is not used (warn if taken)",
            super::login_dpop::unbound
        ),
        scenario!(
            "login.registration",
            Login,
            "an RP that registers itself does so at the registration_endpoint with the initial access token, its callback as a redirect URI and its declared client authentication, and logs users in with the client_id and credentials it gets; RFC 7591 §2, §3",
            "declared registration: started with REGISTRATION_TOKEN and no client id, the RP registers (201) and logs a user in as the client it registered",
            super::login_registration::registration
        ),
        scenario!(
            "login.pkce",
            Login,
            "PKCE with S256 is recommended for every client, confidential ones too; RFC 9700 §2.1.1; RFC 7636",
            "sends a PKCE S256 code_challenge and its verifier (warn if not)",
            pkce
        ),
        scenario!(
            "login.state-mismatch",
            Login,
            "the state of the callback is the one the login sent (CSRF); RFC 9700 §4.7; RFC 6749 §10.12; an RP that takes the wrong state but refuses an attacker's authorization response through PKCE or nonce is protected as RFC 9700 §4.7.1 allows (a warn)",
            "a callback whose state is not the one sent opens no session (else an attacker's code in a victim's browser must be refused)",
            state_mismatch
        ),
        scenario!(
            "login.state-missing",
            Login,
            "the state of the callback is the one the login sent (CSRF); RFC 9700 §4.7; RFC 6749 §10.12; an RP that takes a missing state but refuses an attacker's authorization response through PKCE or nonce is protected as RFC 9700 §4.7.1 allows (a warn)",
            "a callback without state opens no session (else an attacker's code in a victim's browser must be refused)",
            state_missing
        ),
        scenario!(
            "login.idp-error",
            Login,
            "an error from the provider (access_denied) ends the login with a clear answer and no session; RFC 6749 §4.1.2.1",
            "error=access_denied from the IdP gives a clear error and no session",
            idp_error
        ),
        scenario!(
            "login.discovery-issuer-mismatch",
            Login,
            "the discovery document's issuer is exactly the configured issuer URL, or the document is not used; OIDC Discovery §4.3; OIDF oidcc-client-test-discovery-issuer-mismatch",
            "a discovery document naming another issuer (and tokens from it) logs no one in",
            super::discovery::issuer_mismatch
        ),
        scenario!(
            "login.missing-claim.email",
            Login,
            "the ID token must carry iss, aud, sub, exp, preferred_username and email; a login without one is refused",
            "no email claim: login refused, no user created",
            missing_email
        ),
        scenario!(
            "login.missing-claim.preferred_username",
            Login,
            "the ID token must carry iss, aud, sub, exp, preferred_username and email; a login without one is refused",
            "no preferred_username claim: login refused, no user created",
            missing_username
        ),
        scenario!(
            "login.missing-claim.sub",
            Login,
            "the ID token must carry sub; OIDC Core §2; OIDF oidcc-client-test-missing-sub",
            "no sub claim in the ID token: login refused, no user created",
            missing_sub
        ),
        scenario!(
            "login.no-refresh-token",
            Login,
            "the token response must carry a refresh token (background sync depends on it)",
            "a token response without refresh_token is refused",
            no_refresh_token
        ),
        scenario!(
            "login.userinfo",
            Login,
            "userinfo about another sub than the ID token's is refused; OIDC Core §5.3.2; OIDF oidcc-client-test-userinfo-invalid-sub",
            "when the RP reads userinfo, at login or during background sync, a response about another sub is not used",
            userinfo
        ),
    ]
}

async fn code_flow(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (_, login, me) = login_ok(cx, &u).await?;
    let rp = &cx.shared.rp;
    let a = &cx.authorization_request(&login).await?.params;
    let expected_redirect = format!("{}{}", cx.shared.sites.rp, rp.paths.callback);
    let mut problems = Vec::new();
    if a.get("response_type").map(String::as_str) != Some("code") {
        problems.push(format!(
            "response_type is {:?}, not code",
            a.get("response_type")
        ));
    }
    if a.get("client_id") != Some(&rp.client_id) {
        problems.push(format!("client_id is {:?}", a.get("client_id")));
    }
    if a.get("redirect_uri") != Some(&expected_redirect) {
        problems.push("redirect_uri is not exactly the registered one".to_owned());
    }
    for p in ["state", "nonce"] {
        if a.get(p).is_none_or(String::is_empty) {
            problems.push(format!("no {p} in the authorization request"));
        }
    }
    let shown = &rp.me;
    let want = [
        ("sub", shown.sub.shown(), &me.sub, &u.sub),
        ("email", shown.email.shown(), &me.email, &u.email),
        (
            "username",
            shown.username.shown(),
            &me.username,
            &u.username,
        ),
        ("name", shown.name.shown(), &me.name, &u.name),
    ];
    // A field rp.toml says /me does not show ("") is not judged.
    for (field, _, got, expected) in want.into_iter().filter(|w| w.1) {
        if got.as_ref() != Some(expected) {
            problems.push(format!(
                "/me {field} is {got:?}, the claims say {expected:?}"
            ));
        }
    }
    Ok(if problems.is_empty() {
        Verdict::pass(
            "code flow with state and nonce; /me shows the claims (sub, email, username and name, where it shows them)",
        )
    } else {
        Verdict::fail(problems.join("; "))
    })
}

async fn scopes(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (_, login, _) = login_ok(cx, &u).await?;
    let asked = cx.authorization_request(&login).await?.params;
    let sent: Vec<&str> = asked
        .get("scope")
        .map(|s| s.split(' ').collect())
        .unwrap_or_default();
    let configured: Vec<&str> = cx.shared.rp.scopes.split_whitespace().collect();
    let mut need = vec!["openid", "profile", "email"];
    if configured.contains(&"offline_access") {
        need.push("offline_access");
    }
    let missing: Vec<&str> = need.into_iter().filter(|s| !sent.contains(s)).collect();
    Ok(if missing.is_empty() {
        Verdict::pass(format!("requested {}", sent.join(" ")))
    } else {
        Verdict::fail(format!(
            "the authorization request lacks {} (sent: {:?})",
            missing.join(", "),
            sent.join(" ")
        ))
    })
}

async fn client_auth(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    let declared = cx.shared.rp.client_auth.as_str();
    let b = cx.browser();
    let login = b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    if !me.logged_in() {
        // Refused for its client authentication: this scenario's own failure.
        let refused = cx.journal(&u).await?.into_iter().find(|e| {
            e.endpoint == "token"
                && e.grant_type.as_deref() == Some("authorization_code")
                && refused_client_auth(e)
        });
        if let Some(e) = refused {
            cx.cite(&e);
            return Ok(Verdict::fail(format!(
                "the IdP refused the RP's client authentication ({declared}) at the code exchange: {}",
                e.error_description.as_deref().unwrap_or("no description")
            )));
        }
        return Ok(Verdict::error(format!(
            "{} could not log in (callback answered {}, /me {}{}): this scenario needs a working login",
            u.username,
            status(login.callback_status),
            me.status,
            super::support::refused_exchange(cx, &u)
                .await
                .unwrap_or_default()
        )));
    }
    let mut problems = Vec::new();
    if login.front_channel.contains_key("client_secret") {
        problems.push(
            "the client_secret is in the authorization request URL, where browsers, proxies and logs keep it".to_owned(),
        );
    }
    let journal = cx.journal(&u).await?;
    let code_grant = journal
        .iter()
        .find(|e| e.endpoint == "token" && e.grant_type.as_deref() == Some("authorization_code"));
    match code_grant {
        None => {
            problems.push("no authorization_code grant for this user in the IdP's journal".into())
        }
        Some(e) => {
            cx.cite(e);
            if e.auth_method.as_deref() != Some(declared) {
                problems.push(format!(
                    "the token request used {}, the RP declares {declared}",
                    e.auth_method
                        .as_deref()
                        .unwrap_or("no client authentication")
                ));
            }
        }
    }
    for e in journal
        .iter()
        .filter(|e| e.lints.iter().any(|l| l == "client_secret_in_url"))
    {
        cx.cite(e);
        problems.push(format!(
            "the client_secret was in the URL of a {} request",
            e.endpoint
        ));
    }
    if !problems.is_empty() {
        return Ok(Verdict::fail(problems.join("; ")));
    }
    let jwt = matches!(
        cx.shared.rp.client_auth,
        ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt
    );
    if !jwt {
        return Ok(Verdict::pass(format!(
            "the code was redeemed with {declared}; no secret in any URL"
        )));
    }
    assertions(cx, &u, declared).await
}

/// The RP's second assertion, at its first refresh: a fresh `jti` (the IdP refuses a
/// spent one) and an audience the IdP accepts; an audience other than the issuer alone is
/// a warn (RFC 7523bis: the audience-injection attack on JWT client authentication).
async fn assertions(cx: &Ctx, u: &TestUser, declared: &str) -> Judged {
    cx.step("a JWT assertion is good for one request: waiting for the RP's first refresh, its second assertion");
    let refreshes = cx.await_refreshes(u, 0, |r| !r.is_empty()).await?;
    let journal = cx.journal(u).await?;
    let linted: Vec<_> = journal
        .iter()
        .filter(|e| e.lints.iter().any(|l| l == "client_assertion_audience"))
        .collect();
    let second = match refreshes.first() {
        // The fresh-jti requirement is unexamined: never a pass (sync.* judges the sync).
        None => {
            return Ok(Verdict::error(format!(
                "the code was redeemed with {declared}, but the RP made no refresh within {:.0} s (the patience: three sync deadlines, or an access token's lifetime and one), so no second assertion came: whether it signs a fresh one (a new jti) for every request could not be checked (sync.* judges background sync)",
                cx.shared.patience().as_secs_f64()
            )));
        }
        Some(r) if r.status == 200 => {
            cx.cite(r);
            "its first refresh was accepted with a fresh assertion".into()
        }
        Some(r) if refused_client_auth(r) => {
            cx.cite(r);
            return Ok(Verdict::fail(format!(
                "the IdP refused the client authentication of the RP's first refresh ({}: {})",
                r.error.as_deref().unwrap_or("no error code"),
                r.error_description.as_deref().unwrap_or("no description")
            )));
        }
        Some(r) => {
            cx.cite(r);
            format!(
                "its first refresh was refused for another reason than its client authentication ({}: {}; sync.* judges refreshes)",
                r.error.as_deref().unwrap_or("no error code"),
                r.error_description.as_deref().unwrap_or("no description")
            )
        }
    };
    if let Some(e) = linted.first() {
        cx.cite(e);
        return Ok(Verdict::warn(format!(
            "the code was redeemed with {declared} and {second}, but {} of its assertions named another audience than the issuer alone (the token endpoint, or several): RFC 7523bis asks for the issuer identifier alone, since a malicious provider that advertises another's token endpoint as its own gets the RP to sign assertions that other provider accepts",
            linted.len()
        )));
    }
    Ok(Verdict::pass(format!(
        "the code was redeemed with {declared}, the assertion's audience the issuer; {second}"
    )))
}

/// Whether the IdP refused a token request for its client authentication: `invalid_client`,
/// or a malformed assertion request (`invalid_request` about the `client_assertion`).
fn refused_client_auth(e: &crate::idp::JournalEntry) -> bool {
    e.error.as_deref() == Some("invalid_client")
        || e.error_description
            .as_deref()
            .is_some_and(|d| d.contains("client_assertion"))
}

async fn idp_error(cx: &Ctx) -> Judged {
    let (u, _, login, me) = login_with_faults(cx, &[Fault::AccessDenied], None).await?;
    if me.logged_in() {
        return Ok(Verdict::fail(
            "after error=access_denied the RP opened a session",
        ));
    }
    control(cx, &u).await?;
    Ok(match login.callback_status {
        None => Verdict::error("the IdP never redirected back to the RP"),
        Some(s) if s >= 500 => Verdict::fail(format!(
            "the RP answered {s} to error=access_denied: a crash, not a clear error"
        )),
        Some(s) => Verdict::pass(format!("the RP answered {s} and opened no session")),
    })
}

/// The claim left out of the ID token and of userinfo (an RP may read either).
fn remove(claim: &str) -> [Fault; 2] {
    [
        Fault::RemoveClaim {
            claim: claim.into(),
        },
        Fault::UserinfoRemoveClaim {
            claim: claim.into(),
        },
    ]
}

async fn missing_email(cx: &Ctx) -> Judged {
    refused_login(cx, "tokens without email", &remove("email"), None).await
}

async fn missing_username(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "tokens without preferred_username",
        &remove("preferred_username"),
        None,
    )
    .await
}

async fn missing_sub(cx: &Ctx) -> Judged {
    let f = [Fault::RemoveClaim {
        claim: "sub".into(),
    }];
    refused_login(cx, "an ID token without sub", &f, None).await
}

async fn no_refresh_token(cx: &Ctx) -> Judged {
    refused_login(
        cx,
        "a token response without refresh_token",
        &[Fault::NoRefreshToken],
        None,
    )
    .await
}
