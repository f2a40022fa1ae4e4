//! Step 3: the refresh token used once, as the app's background sync uses it: it works
//! with the app's client authentication, rotates or not, keeps `sub`, and still carries
//! the groups where the app reads them.

use serde_json::{Map, Value};

use super::Findings;
use super::discovery::Discovery;
use super::groups::access_claims;
use super::http::{Client, excerpt};
use super::jwt::{shown, verify_id};
use super::login::Tokens;
use super::options::App;
use super::provider::Fixes;
use crate::rp::GroupsToken;

const STEP: &str = "refresh";

/// What one refresh showed.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// Whether a new refresh token replaced the old one.
    pub rotated: bool,
    /// Whether it returned an ID token.
    pub id_token: bool,
    /// Whether that ID token repeated the login's nonce.
    pub nonce_kept: bool,
}

/// Refreshes once; what it showed, or `None` (with the reason among the findings).
pub async fn check(
    client: &Client,
    app: &App<'_>,
    d: &Discovery,
    login: &Tokens,
    id: Option<&Map<String, Value>>,
    fixes: &Fixes,
    f: &mut Findings,
) -> Option<Refreshed> {
    let old = login.refresh_token.as_deref()?;
    let method = app.rp.client_auth.as_str();
    let answer = match client
        .token_request(
            &d.token,
            app.rp.client_auth,
            app.client_id,
            app.secret,
            app.key,
            &[("grant_type", "refresh_token"), ("refresh_token", old)],
        )
        .await
    {
        Ok(a) => a,
        Err(e) => {
            f.problem(
                "refresh.works",
                STEP,
                format!("POST {}: {e}", d.token),
                None,
            );
            return None;
        }
    };
    if answer.status != 200 {
        let error = answer
            .json()
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        f.problem(
            "refresh.works",
            STEP,
            format!(
                "refreshing with {method} answered HTTP {}: {}",
                answer.status,
                excerpt(&answer.body)
            ),
            (error == "invalid_client" || error == "unauthorized_client")
                .then(|| fixes.client_auth(method)),
        );
        return None;
    }
    let tokens = Tokens::from_response(answer.json().unwrap_or(Value::Null), login.nonce.clone());
    let rotated = tokens
        .refresh_token
        .as_deref()
        .is_some_and(|new| new != old);
    f.ok(
        "refresh.works",
        STEP,
        format!(
            "the refresh token works with {method}; {}",
            if rotated {
                "it rotates (a new refresh token on every use: the app must store the new one each time)"
            } else {
                "it does not rotate (the same token serves again)"
            }
        ),
    );
    if let Some(jwt) = tokens.id_token.as_deref() {
        f.tokens.push(shown("id_token (refreshed)", jwt));
    }
    // The refreshed ID token, verified once for both checks: `None` when there is none.
    let refreshed = tokens
        .id_token
        .as_deref()
        .map(|jwt| verify_id(d, jwt, app.secret));
    same_sub(refreshed.as_ref(), id, f);
    groups_after(app, refreshed.as_ref(), &tokens, fixes, f);
    let nonce_kept = match &refreshed {
        Some(Ok(c)) => c.get("nonce").and_then(Value::as_str) == Some(login.nonce.as_str()),
        _ => false,
    };
    Some(Refreshed {
        rotated,
        id_token: tokens.id_token.is_some(),
        nonce_kept,
    })
}

type Verified = Result<Map<String, Value>, String>;

fn same_sub(refreshed: Option<&Verified>, id: Option<&Map<String, Value>>, f: &mut Findings) {
    let Some(verified) = refreshed else {
        f.ok(
            "refresh.same-sub",
            STEP,
            "the refresh returns no ID token (OIDC Core §12.2 allows it): the app keeps the login's identity",
        );
        return;
    };
    let Some(before) = id.and_then(|c| c.get("sub")).and_then(Value::as_str) else {
        f.unknown(
            "refresh.same-sub",
            STEP,
            "the login's ID token was not accepted (see the idtoken lines), so there is no sub to compare the refreshed one with",
        );
        return;
    };
    let before = Some(before);
    match verified {
        Ok(c) => {
            let after = c.get("sub").and_then(Value::as_str);
            if after == before {
                f.ok("refresh.same-sub", STEP, "the refreshed ID token keeps sub");
            } else {
                f.problem(
                    "refresh.same-sub",
                    STEP,
                    format!("the refreshed ID token has sub {after:?}, the login's {before:?} (OIDC Core §12.2: it must be the same)"),
                    None,
                );
            }
        }
        Err(e) => f.problem(
            "refresh.same-sub",
            STEP,
            format!("the refreshed ID token is refused: {e}"),
            None,
        ),
    }
}

/// The background sync re-reads groups from the refreshed tokens: they must be there.
fn groups_after(
    app: &App<'_>,
    refreshed: Option<&Verified>,
    tokens: &Tokens,
    fixes: &Fixes,
    f: &mut Findings,
) {
    let claim = &app.rp.groups_claim;
    let at = String::from(claim.clone());
    let claims = match claim.token {
        GroupsToken::IdToken => match refreshed {
            Some(verified) => verified.as_ref().ok().cloned(),
            None => {
                f.problem(
                    "refresh.groups",
                    STEP,
                    format!("the app's sync reads groups at {at}, but a refresh returns no ID token: permissions would never update after the login"),
                    Some(fixes.refresh_without_id_token(&claim.pointer.0)),
                );
                return;
            }
        },
        GroupsToken::AccessToken => access_claims(tokens),
    };
    let Some(claims) = claims else {
        f.unknown(
            "refresh.groups",
            STEP,
            match claim.token {
                GroupsToken::IdToken => format!("the refreshed ID token was refused (refresh.same-sub says why): what it carries at {at} cannot be read"),
                GroupsToken::AccessToken => format!("the refreshed access token is not a JWT whose claims can be read: whether it carries the groups at {at} cannot be told"),
            },
        );
        return;
    };
    if Value::Object(claims).pointer(&claim.pointer.0).is_some() {
        f.ok(
            "refresh.groups",
            STEP,
            format!("the refreshed tokens carry the groups at {at}, for the background sync"),
        );
    } else {
        f.unknown(
            "refresh.groups",
            STEP,
            format!("the refreshed tokens carry nothing at {at} (as at the login, or the provider sends groups only at the login): the sync cannot tell a removed group from a missing claim"),
        );
    }
}
