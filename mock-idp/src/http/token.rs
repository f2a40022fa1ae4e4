//! The token endpoint (RFC 6749 §3.2): authorization_code, refresh_token,
//! client_credentials, jwt-bearer, token exchange and device_code.

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::client_auth::authenticate;
use super::errors::OAuthError;
use super::json_no_store;
use super::params::Params;
use crate::bearer_grant;
use crate::client_keys::KeySource;
use crate::config::{ClientConfig, RefreshPolicy};
use crate::faults::{Fault, FaultPoint, Target};
use crate::grants::{Grant, Redemption};
use crate::journal::{Endpoint, Entry, Lint};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::tokens::{Mint, NewRefresh};
use crate::types::GrantType;

/// POST a token request.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::client_post(reg, |p| &p.token, Endpoint::Token, token)
}

fn token(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let grant_type = form.require("grant_type")?;
    let Some(grant_type) = GrantType::parse(grant_type) else {
        return Err(OAuthError::bad_request(
            "unsupported_grant_type",
            format!("grant_type {grant_type:?} is not supported"),
        ));
    };
    // The user of the code or refresh token presented, known before the client is
    // authenticated or the grant checked: refused requests (a wrong secret, a spent client
    // assertion, a deleted user, an expired token) are journaled under their user too.
    let user = presented_user(t, grant_type, form);
    entry.user.clone_from(&user);
    let (client, _method) = authenticate(t, headers, form, entry)?;
    if !client.grant_types.contains(&grant_type) {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            format!(
                "client {:?} may not use the {} grant",
                client.id,
                grant_type.as_str()
            ),
        ));
    }
    entry.faults = t.fire_faults(
        Target {
            client_id: &client.id,
            user: user.as_deref(),
            grant_type: Some(grant_type.as_str()),
        },
        FaultPoint::TokenEndpoint,
    );
    let fault = |f: &Fault| entry.faults.contains(f);
    if let Some(status) = entry.faults.iter().find_map(|f| match f {
        Fault::HttpStatus { status } => StatusCode::from_u16(*status).ok(),
        _ => None,
    }) {
        return Err(OAuthError {
            status,
            ..OAuthError::bad_request(
                "temporarily_unavailable",
                "the server is unavailable (injected fault)",
            )
        });
    }
    if grant_type == GrantType::RefreshToken && fault(&Fault::RefreshInvalidGrant) {
        return Err(refused_refresh(
            t,
            "the refresh token is invalid or expired".into(),
        ));
    }
    let mut body = match grant_type {
        GrantType::AuthorizationCode => authorization_code(t, client, form, entry)?,
        GrantType::RefreshToken => refresh_token(t, client, form, entry)?,
        GrantType::ClientCredentials => client_credentials(t, client, form)?,
        GrantType::JwtBearer => jwt_bearer(t, client, form, entry)?,
        GrantType::TokenExchange => super::exchange::exchange(t, client, form, entry)?,
        GrantType::DeviceCode => device_code(t, client, form, entry)?,
    };
    entry.faults.extend(body.faults.iter().cloned());
    if entry.faults.contains(&Fault::NoRefreshToken) {
        body.refresh_token = None;
    }
    if entry.faults.contains(&Fault::MalformedJson) {
        let json = serde_json::to_string(&body).unwrap_or_default();
        let cut = &json[..json.len() / 2];
        let mut res = warp::reply::with_header(cut.to_owned(), "content-type", "application/json")
            .into_response();
        res.headers_mut().insert(
            "cache-control",
            warp::http::HeaderValue::from_static("no-store"),
        );
        return Ok(res);
    }
    Ok(json_no_store(&body))
}

/// The user behind the presented code or refresh token, for faults scoped by user.
fn presented_user(t: &Tenant, grant_type: GrantType, form: &Params) -> Option<String> {
    let grants = t.lock_grants();
    let grant = match grant_type {
        GrantType::AuthorizationCode => grants.codes.get(form.get("code").ok()??).map(|c| &c.grant),
        GrantType::RefreshToken => grants
            .refresh
            .get(form.get("refresh_token").ok()??)
            .map(|r| &r.grant),
        GrantType::DeviceCode => return grants.device_user(form.get("device_code").ok()??),
        GrantType::ClientCredentials | GrantType::JwtBearer | GrantType::TokenExchange => None,
    };
    grant.and_then(|g| g.username.clone())
}

fn authorization_code(
    t: &Tenant,
    client: &ClientConfig,
    form: &Params,
    entry: &mut Entry,
) -> Result<crate::tokens::TokenResponse, OAuthError> {
    let code = form.require("code")?;
    let now = t.clock.now();
    let lineage = t.random_token(16);
    let record = t
        .lock_grants()
        .redeem_code(
            code,
            &Redemption {
                client_id: &client.id,
                redirect_uri: form.get("redirect_uri")?,
                code_verifier: form.get("code_verifier")?,
                lineage: &lineage,
            },
            now,
        )
        .map_err(|r| OAuthError::invalid_grant(r.0))?;
    entry.user = record.grant.username.clone();
    let user = t
        .active_user(&record.grant)
        .map_err(|r| OAuthError::invalid_grant(r.0))?;
    t.mint(&Mint {
        client,
        grant: &record.grant,
        user: Some(&user),
        nonce: record.nonce.as_deref(),
        lineage: Some(&lineage),
        grant_type: GrantType::AuthorizationCode,
        refresh: first_refresh(t, client, &record.grant, now),
        audience: None,
        act: None,
    })
    .map_err(OAuthError::server_error)
}

/// The refresh token a login's first token response carries, per the client's policy.
fn first_refresh(t: &Tenant, client: &ClientConfig, grant: &Grant, now: i64) -> Option<NewRefresh> {
    let wanted = match client.refresh_tokens {
        RefreshPolicy::Always => true,
        RefreshPolicy::WithOfflineAccess => grant.has_scope("offline_access"),
        RefreshPolicy::Never => false,
    };
    (wanted && client.grant_types.contains(&GrantType::RefreshToken)).then(|| {
        let policy = &client.refresh_policy;
        NewRefresh {
            expires_at: now + policy.absolute.unwrap_or(t.config.lifetimes.refresh_token) as i64,
            idle: policy.idle,
        }
    })
}

/// The device_code grant (RFC 8628 §3.4): the device's poll, answered with tokens once
/// its user has allowed it, with `authorization_pending`, `slow_down`, `access_denied` or
/// `expired_token` until then.
fn device_code(
    t: &Tenant,
    client: &ClientConfig,
    form: &Params,
    entry: &mut Entry,
) -> Result<crate::tokens::TokenResponse, OAuthError> {
    let device_code = form.require("device_code")?;
    let now = t.clock.now();
    let grant = t
        .lock_grants()
        .poll_device(device_code, &client.id, now)
        .map_err(|n| OAuthError::bad_request(n.code(), n.description()))?;
    entry.user = grant.username.clone();
    let user = t
        .active_user(&grant)
        .map_err(|r| OAuthError::invalid_grant(r.0))?;
    let lineage = t.random_token(16);
    t.mint(&Mint {
        client,
        grant: &grant,
        user: Some(&user),
        nonce: None,
        lineage: Some(&lineage),
        grant_type: GrantType::DeviceCode,
        refresh: first_refresh(t, client, &grant, now),
        audience: None,
        act: None,
    })
    .map_err(OAuthError::server_error)
}

/// A refused refresh, worded as the provider words it (`quirks.invalid_grant_description`)
/// or with the mock's own explanation; a disabled user's with the provider's status.
fn refused_refresh(t: &Tenant, detail: String) -> OAuthError {
    let q = &t.config.quirks;
    let disabled = detail == crate::lifecycle::DISABLED;
    if let (true, Some(status)) = (disabled, q.disabled_user_status) {
        return OAuthError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
            ..OAuthError::invalid_grant("user is blocked")
        };
    }
    OAuthError::invalid_grant(q.invalid_grant_description.clone().unwrap_or(detail))
}

fn refresh_token(
    t: &Tenant,
    client: &ClientConfig,
    form: &Params,
    entry: &mut Entry,
) -> Result<crate::tokens::TokenResponse, OAuthError> {
    let token = form.require("refresh_token")?;
    let now = t.clock.now();
    let policy = &client.refresh_policy;
    let used = t
        .lock_grants()
        .use_refresh(token, &client.id, policy, now, |g| {
            t.active_user(g).map(|_| ())
        })
        .map_err(|r| refused_refresh(t, r.0))?;
    let mut grant = used.grant;
    entry.user = grant.username.clone();
    if used.reused {
        entry.lints.push(Lint::RefreshTokenReused);
    }
    let requested = form.list("scope")?;
    if !requested.is_empty() {
        if let Some(extra) = requested.iter().find(|s| !grant.has_scope(s)) {
            return Err(OAuthError::bad_request(
                "invalid_scope",
                format!("scope {extra:?} was not granted originally (RFC 6749 §6)"),
            ));
        }
        std::sync::Arc::make_mut(&mut grant).scope = requested;
    }
    let user = t.active_user(&grant).map_err(|r| refused_refresh(t, r.0))?;
    t.mint(&Mint {
        client,
        grant: &grant,
        user: Some(&user),
        nonce: None,
        lineage: Some(&used.family),
        grant_type: GrantType::RefreshToken,
        refresh: policy.rotate.then_some(NewRefresh {
            expires_at: used.family_expires_at,
            idle: policy.idle,
        }),
        audience: None,
        act: None,
    })
    .map_err(OAuthError::server_error)
}

fn client_credentials(
    t: &Tenant,
    client: &ClientConfig,
    form: &Params,
) -> Result<crate::tokens::TokenResponse, OAuthError> {
    let scope = access_only_scope(form, "needs a user; client_credentials has none")?;
    let grant = std::sync::Arc::new(Grant::without_login(&client.id, None, scope, t.clock.now()));
    t.mint(&Mint {
        client,
        grant: &grant,
        user: None,
        nonce: None,
        lineage: None,
        grant_type: GrantType::ClientCredentials,
        refresh: None,
        audience: None,
        act: None,
    })
    .map_err(OAuthError::server_error)
}

/// The JWT bearer grant (RFC 7523 §2.1): an access token for the user a trusted issuer's
/// assertion names; no refresh token, no ID token.
fn jwt_bearer(
    t: &Tenant,
    client: &ClientConfig,
    form: &Params,
    entry: &mut Entry,
) -> Result<crate::tokens::TokenResponse, OAuthError> {
    let scope = access_only_scope(form, "the jwt-bearer grant issues an access token only")?;
    let (accepted, _) = trusted_assertion(t, form.require("assertion")?)
        .map_err(|r| OAuthError::invalid_grant(r.0))?;
    entry.user = Some(accepted.user.username.clone());
    // A lineage of its own: the token stands for a user (introspection, userinfo and
    // revocation find the grant), and dies with the user or a revocation.
    let lineage = t.random_token(16);
    let grant = std::sync::Arc::new(Grant::without_login(
        &client.id,
        Some(&accepted.user),
        scope,
        t.clock.now(),
    ));
    t.mint(&Mint {
        client,
        grant: &grant,
        user: Some(&accepted.user),
        nonce: None,
        lineage: Some(&lineage),
        grant_type: GrantType::JwtBearer,
        refresh: None,
        audience: None,
        act: None,
    })
    .map_err(OAuthError::server_error)
}

/// The requested scope of a grant that issues an access token alone: `openid` (an ID
/// token) and `offline_access` (a refresh token) are `invalid_scope`, saying `why`.
fn access_only_scope(form: &Params, why: &str) -> Result<Vec<String>, OAuthError> {
    let scope = form.list("scope")?;
    match scope
        .iter()
        .find(|s| *s == "openid" || *s == "offline_access")
    {
        Some(s) => Err(OAuthError::bad_request(
            "invalid_scope",
            format!("scope {s:?}: {why}"),
        )),
        None => Ok(scope),
    }
}

/// A JWT from a trusted assertion issuer, checked with the issuer's keys and its `jti`
/// spent: the jwt-bearer grant's assertion, or a token exchange's `…:jwt` token.
pub(super) fn trusted_assertion(
    t: &Tenant,
    jwt: &str,
) -> Result<(bearer_grant::Accepted, crate::assertion::Peeked), bearer_grant::Refusal> {
    let (peeked, iss) = bearer_grant::peek(jwt)?;
    let issuer = bearer_grant::issuer(&t.config.assertion_issuers, &iss)?;
    let keys = match t.remote_keys.get(&KeySource::issuer(issuer)) {
        Some(Err(why)) => {
            return Err(bearer_grant::Refusal(format!(
                "assertion: the issuer's keys could not be read: {why}"
            )));
        }
        keys => keys.and_then(Result::ok),
    };
    // The issuer signed with its own clock, which a test moving the IdP's time leaves.
    let now = t.clock.peer_now();
    let accepted = super::client_auth::with_audiences(t, &t.paths.token, |audiences| {
        let dir = t.directory();
        bearer_grant::verify(issuer, keys.as_ref(), jwt, &peeked, audiences, &dir, now)
    })?;
    let mut spent = t.spent_jtis.lock().unwrap_or_else(|e| e.into_inner());
    bearer_grant::spend(&mut spent, &issuer.issuer, &accepted, now)?;
    Ok((accepted, peeked))
}
