//! The login's ID token validated as the app validates it (OIDC Core §3.1.3.7): signature
//! against the provider's JWKS, issuer, audience, expiry, nonce; then the claims the app
//! requires, present and typed.

use serde_json::{Map, Value};

use super::Findings;
use super::discovery::Discovery;
use super::jwt::{LEEWAY, decode_parts, now, shown, verify_id};
use super::login::Tokens;
use super::options::App;
use super::provider::Fixes;
use super::values::REQUIRED;
use crate::rp::TokenLimits;

const STEP: &str = "tokens";

/// Validates the login's ID token and checks its claims; its claims when the app would
/// accept it.
pub fn check(
    issuer: &str,
    app: &App<'_>,
    d: &Discovery,
    tokens: &Tokens,
    userinfo: Option<&Map<String, Value>>,
    fixes: &Fixes,
    f: &mut Findings,
) -> Option<Map<String, Value>> {
    let jwt = tokens.id_token.as_deref()?;
    f.tokens.push(shown("id_token", jwt));
    if let Some(at) = &tokens.access_token {
        f.tokens.push(shown("access_token", at));
    }
    let claims = match verify_id(d, jwt, app.secret) {
        Ok(c) => {
            let alg = decode_parts(jwt)
                .and_then(|(h, _)| h.get("alg").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            f.ok(
                "idtoken.signature",
                STEP,
                if alg.starts_with("HS") {
                    format!("{alg} signature verified with the client secret (OIDC Core §10.1); the app must verify it that way, not with the JWKS")
                } else {
                    format!("{alg} signature verified with the provider's JWKS")
                },
            );
            c
        }
        Err(e) => {
            f.problem(
                "idtoken.signature",
                STEP,
                format!("the ID token is refused: {e}"),
                None,
            );
            return None;
        }
    };
    let mut accepted = true;
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if iss == issuer {
        f.ok(
            "idtoken.iss",
            STEP,
            format!("iss is {iss:?}, the configured issuer"),
        );
    } else {
        accepted = false;
        f.problem(
            "idtoken.iss",
            STEP,
            format!(
                "iss is {iss:?}, not the configured issuer {:?} (OIDC Core §3.1.3.7 step 2)",
                issuer
            ),
            Some(fixes.issuer(iss)),
        );
    }
    let auds: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let azp = claims.get("azp").and_then(Value::as_str);
    if !auds.contains(&app.client_id) {
        accepted = false;
        f.problem(
            "idtoken.aud",
            STEP,
            format!(
                "aud {auds:?} does not name client {:?} (OIDC Core §3.1.3.7 step 3)",
                app.client_id
            ),
            None,
        );
    } else if auds.len() > 1 {
        accepted = false;
        f.problem(
            "idtoken.aud",
            STEP,
            format!(
                "aud {auds:?} names audiences besides this client (azp {azp:?}): an app that trusts only its own client id refuses the token (OIDC Core §3.1.3.7 steps 3–5)"
            ),
            Some("Configure the provider to issue ID tokens to this client alone".into()),
        );
    } else {
        f.ok(
            "idtoken.aud",
            STEP,
            format!("aud is {:?}, this client", app.client_id),
        );
    }
    let exp = claims.get("exp").and_then(Value::as_i64);
    let iat = claims.get("iat").and_then(Value::as_i64);
    match (exp, iat) {
        (Some(exp), Some(iat)) if exp + LEEWAY >= now() && iat <= now() + LEEWAY && exp > iat => f
            .ok(
                "idtoken.exp",
                STEP,
                format!(
                    "valid for {} s from iat (clocks agree within {LEEWAY} s)",
                    exp - iat
                ),
            ),
        (Some(exp), Some(iat)) => {
            accepted = false;
            f.problem(
                "idtoken.exp",
                STEP,
                format!(
                    "exp {exp} and iat {iat} against this machine's clock {}: expired, issued in the future, or exp before iat; check the provider's clock (and this machine's)",
                    now()
                ),
                None,
            );
        }
        _ => {
            accepted = false;
            f.problem(
                "idtoken.exp",
                STEP,
                "exp or iat is missing or not a number (OIDC Core §2)",
                None,
            );
        }
    }
    match claims.get("nonce").and_then(Value::as_str) {
        Some(n) if n == tokens.nonce => f.ok("idtoken.nonce", STEP, "nonce is the one sent"),
        other => {
            accepted = false;
            f.problem(
                "idtoken.nonce",
                STEP,
                format!(
                    "nonce {} (OIDC Core §3.1.3.7 step 11: it must be the one sent)",
                    if other.is_some() {
                        "differs from the one sent"
                    } else {
                        "is missing"
                    }
                ),
                None,
            );
        }
    }
    required_claims(&claims, userinfo, fixes, f);
    email_verified(&claims, userinfo, f);
    accepted.then_some(claims)
}

fn required_claims(
    claims: &Map<String, Value>,
    userinfo: Option<&Map<String, Value>>,
    fixes: &Fixes,
    f: &mut Findings,
) {
    let mut missing = Vec::new();
    let mut mistyped = Vec::new();
    for name in REQUIRED {
        let typed = match (name, claims.get(name)) {
            (_, None) => {
                missing.push(name);
                continue;
            }
            ("exp", Some(v)) => v.is_i64() || v.is_u64(),
            ("aud", Some(v)) => {
                v.is_string() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            }
            ("sub", Some(Value::String(s))) => !s.is_empty() && s.len() <= 255,
            ("email", Some(Value::String(s))) => s.contains('@'),
            (_, Some(v)) => v.as_str().is_some_and(|s| !s.is_empty()),
        };
        if !typed {
            mistyped.push(format!("{name} = {}", claims[name]));
        }
    }
    if missing.is_empty() && mistyped.is_empty() {
        f.ok(
            "claims.required",
            STEP,
            format!(
                "the ID token carries {}, each well typed",
                REQUIRED.join(", ")
            ),
        );
        return;
    }
    let mut detail = Vec::new();
    if !missing.is_empty() {
        let in_userinfo: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|m| userinfo.is_some_and(|u| u.contains_key(*m)))
            .collect();
        detail.push(format!(
            "the ID token lacks {}{}",
            missing.join(", "),
            if in_userinfo.is_empty() {
                String::new()
            } else {
                format!(
                    " (userinfo has {}; the app reads the ID token)",
                    in_userinfo.join(", ")
                )
            }
        ));
    }
    if !mistyped.is_empty() {
        detail.push(format!("wrongly typed: {}", mistyped.join("; ")));
    }
    // A user without an address gets no email claim whatever the configuration.
    let fix = missing.first().map(|m| match *m {
        "email" => format!(
            "Check the test user has an email address at the provider (a user without one gets no email claim); if they have one: {}",
            fixes.claim_missing(m)
        ),
        _ => fixes.claim_missing(m),
    });
    f.problem(
        "claims.required",
        STEP,
        format!(
            "{}: the app refuses a login without every required claim",
            detail.join("; ")
        ),
        fix,
    );
}

fn email_verified(
    claims: &Map<String, Value>,
    userinfo: Option<&Map<String, Value>>,
    f: &mut Findings,
) {
    let v = claims
        .get("email_verified")
        .or_else(|| userinfo.and_then(|u| u.get("email_verified")));
    match v {
        Some(Value::Bool(true)) => f.ok("claims.email-verified", STEP, "email_verified is true"),
        Some(Value::String(s)) if s == "true" => f.ok("claims.email-verified", STEP, "email_verified is \"true\" (a string, where OIDC Core §5.1 says boolean)"),
        // Keycloak's and Auth0's test users default to an unverified address, and the app
        // keys accounts by sub: a caveat, not a stop.
        Some(other) => f.warn(
            "claims.email-verified",
            STEP,
            format!("email_verified is {other}: the provider does not vouch for this user's address. The app keys accounts by sub, so the login works; an app that matched accounts by email would let this user take another's account. Test users often default to unverified (Keycloak, Auth0): check real users' addresses are verified"),
        ),
        None => f.unknown(
            "claims.email-verified",
            STEP,
            "no email_verified claim: whether the provider verified the address cannot be told (Entra, for one, never sends it)",
        ),
    }
}

/// The `sub` of a token response's ID token, read without verifying it (to compare two
/// logins of one user; the one used is verified).
pub fn unverified_sub(t: &Tokens) -> Option<String> {
    let (_, claims) = decode_parts(t.id_token.as_deref()?)?;
    claims.get("sub").and_then(Value::as_str).map(str::to_owned)
}

/// What one login can tell of `sub` (OIDC Core §2: locally unique, never reassigned, at
/// most 255 ASCII characters); a second login of the same user (the consented one, when
/// there was one) tells whether it keeps.
pub fn sub_stability(claims: &Map<String, Value>, earlier: Option<&str>, f: &mut Findings) {
    const ID: &str = "claims.sub-stability";
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        f.problem(
            ID,
            STEP,
            "no sub: the app has nothing to key the account by",
            None,
        );
        return;
    };
    if sub.is_empty() || sub.len() > 255 || !sub.is_ascii() {
        f.problem(
            ID,
            STEP,
            format!(
                "sub {sub:?} is {}: OIDC Core §2 requires a non-empty identifier of at most 255 ASCII characters, and the app keys accounts by it",
                if sub.is_empty() {
                    "empty".to_owned()
                } else {
                    format!("{} characters{}", sub.chars().count(), if sub.is_ascii() { "" } else { ", not all ASCII" })
                }
            ),
            None,
        );
        return;
    }
    if let Some(before) = earlier
        && before != sub
    {
        f.problem(
            ID,
            STEP,
            format!("the same user's two logins gave two subs ({before:?}, then {sub:?}): the app would make a new account at every login"),
            None,
        );
        return;
    }
    let twice = if earlier.is_some() {
        "; the same user's two logins gave the same sub"
    } else {
        "; the refresh below checks it keeps"
    };
    let pairwise = match claims.get("oid").and_then(Value::as_str) {
        Some(oid) if oid != sub => format!(
            " It is pairwise (unique to this application; the user's directory id is oid {oid:?}): a new app registration gives every user a new sub."
        ),
        _ => String::new(),
    };
    let mutable = ["email", "preferred_username"]
        .into_iter()
        .find(|k| claims.get(*k).and_then(Value::as_str) == Some(sub));
    match mutable {
        Some(k) => f.warn(
            ID,
            STEP,
            format!("sub {sub:?} is the user's {k}: it changes when the user is renamed, and the app, keying the account by sub, would then make a new account{twice}.{pairwise}"),
        ),
        None => f.ok(
            ID,
            STEP,
            format!("sub {sub:?} ({} ASCII character{}, at most 255 as OIDC Core §2 requires; not the user's email or username){twice}.{pairwise}", sub.len(), if sub.len() == 1 { "" } else { "s" }),
        ),
    }
}

/// Token sizes against the RP's declared limits.
pub fn sizes(limits: &TokenLimits, tokens: &Tokens, f: &mut Findings) {
    let rows = [
        ("id_token", tokens.id_token.as_deref(), limits.id_token),
        (
            "access_token",
            tokens.access_token.as_deref(),
            limits.access_token,
        ),
        (
            "refresh_token",
            tokens.refresh_token.as_deref(),
            limits.refresh_token,
        ),
    ];
    let mut over = Vec::new();
    let mut seen = Vec::new();
    for (name, token, limit) in rows {
        let Some(t) = token else { continue };
        seen.push(format!(
            "{name} {} chars{}",
            t.len(),
            limit.map(|l| format!(" (limit {l})")).unwrap_or_default()
        ));
        if let Some(l) = limit
            && t.len() > l
        {
            over.push(format!(
                "{name} has {} characters, over the app's {l}",
                t.len()
            ));
        }
    }
    if over.is_empty() {
        f.ok("tokens.size", STEP, seen.join(", "));
    } else {
        f.problem(
            "tokens.size",
            STEP,
            format!("{}: the app cannot store it", over.join("; ")),
            Some("Shorten the tokens at the provider (fewer claims, group ids instead of names, opaque tokens) or raise the app's limit".into()),
        );
    }
}
