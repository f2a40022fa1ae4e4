//! Client authentication (RFC 6749 §2.3, OIDC Core §9): each client accepts only the
//! methods it declares.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use warp::http::HeaderMap;

use super::errors::OAuthError;
use super::params::Params;
use crate::client_assertion;
use crate::client_keys::KeySource;
use crate::clients::ClientRef;
use crate::config::ClientConfig;
use crate::journal::{Endpoint, Entry, Lint};
use crate::tenant::Tenant;
use crate::types::AuthMethod;

/// Credentials from the Authorization header: `(id, secret)`, form-urldecoded.
fn basic(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(warp::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad =
        |why: &str| OAuthError::invalid_client(format!("malformed Basic credentials: {why}"), true);
    let value = value.to_str().map_err(|_| bad("not ASCII"))?;
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Err(bad("expected `Basic <base64>`"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            format!("unsupported authorization scheme {scheme:?} (use Basic or the form body)"),
            true,
        ));
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .map_err(|_| bad("not base64"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad("not UTF-8"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| bad("no ':' between id and secret"))?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Fetches the keys the signers of a request's assertions publish at their `jwks_uri`,
/// if they are needed: the client of a `client_assertion`, the issuer of a jwt-bearer
/// grant's `assertion`. The one step that waits on the network, done before the request
/// is judged.
pub async fn fetch_signer_keys(tenant: &Tenant, params: &Params) {
    if let Ok(Some(jwt)) = params.get("assertion")
        && let Ok((peeked, iss)) = crate::bearer_grant::peek(jwt)
        && let Ok(issuer) = crate::bearer_grant::issuer(&tenant.config.assertion_issuers, &iss)
    {
        tenant
            .remote_keys
            .refresh(&KeySource::issuer(issuer), peeked.kid.as_deref())
            .await;
    }
    let Ok(Some(assertion)) = params.get("client_assertion") else {
        return;
    };
    let Ok(claimed) = client_assertion::claimed(assertion) else {
        return;
    };
    if let Some(client) = tenant.client(&claimed.client_id) {
        tenant
            .remote_keys
            .refresh(&KeySource::client(&client), claimed.peeked.kid.as_deref())
            .await;
    }
}

/// Authenticates the client of a token, introspection or revocation request.
pub fn authenticate<'t>(
    tenant: &'t Tenant,
    headers: &HeaderMap,
    params: &Params,
    entry: &mut Entry,
) -> Result<(ClientRef<'t>, AuthMethod), OAuthError> {
    let header = basic(headers)?;
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    if let Some(assertion) = params.get("client_assertion")? {
        if header.is_some() || body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client authenticated with a client_assertion and a secret; use one method (RFC 6749 §2.3)",
            ));
        }
        return by_assertion(tenant, params, assertion, body_id, entry);
    }
    let (id, secret, method) = match (&header, body_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "the client authenticated with both Basic and client_secret in the body; use one method (RFC 6749 §2.3)",
            ));
        }
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_client(
                    "client_id in the body differs from the Basic credentials",
                    true,
                ));
            }
            (
                id.as_str(),
                Some(secret.as_str()),
                AuthMethod::ClientSecretBasic,
            )
        }
        (None, Some(secret)) => {
            let id = body_id.ok_or_else(|| {
                OAuthError::invalid_client("client_secret without client_id", false)
            })?;
            (id, Some(secret), AuthMethod::ClientSecretPost)
        }
        (None, None) => {
            let id = body_id.ok_or_else(|| {
                OAuthError::invalid_client(
                    "no client authentication: send client_id and client_secret, or Basic credentials",
                    false,
                )
            })?;
            (id, None, AuthMethod::None)
        }
    };
    entry.client_id = Some(id.to_owned());
    entry.auth_method = Some(method);
    let is_basic = method == AuthMethod::ClientSecretBasic;
    let client = tenant
        .client(id)
        .ok_or_else(|| OAuthError::invalid_client(format!("unknown client {id:?}"), is_basic))?;
    declared(&client, method, entry, is_basic)?;
    unexpired(tenant, id, method, is_basic)?;
    if let Some(given) = secret {
        let expected = client.secret.as_deref().unwrap_or("");
        if verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_err() {
            let mut e = OAuthError::invalid_client(
                format!("wrong client_secret for client {id:?}"),
                is_basic,
            );
            if tenant.config.quirks.bad_secret_unauthorized_client {
                e.error = "unauthorized_client";
                e.description = "Invalid client or Invalid client credentials".into();
            }
            return Err(e);
        }
    }
    Ok((client, method))
}

/// Refuses a method that proves the client with a registered secret past its
/// `client_secret_expires_at` (RFC 7591 §3.2.1).
fn unexpired(tenant: &Tenant, id: &str, method: AuthMethod, basic: bool) -> Result<(), OAuthError> {
    match tenant.secret_expired(id) {
        Some(at) if method.uses_secret() => Err(OAuthError::invalid_client(
            format!(
                "the secret of client {id:?} expired at {at} (its client_secret_expires_at, RFC 7591 §3.2.1): register again"
            ),
            basic,
        )),
        _ => Ok(()),
    }
}

/// Client authentication with a JWT assertion (RFC 7523 §2.2; OIDC Core §9).
fn by_assertion<'t>(
    tenant: &'t Tenant,
    params: &Params,
    assertion: &str,
    body_id: Option<&str>,
    entry: &mut Entry,
) -> Result<(ClientRef<'t>, AuthMethod), OAuthError> {
    let refused = |r: client_assertion::Refusal| OAuthError::invalid_client(r.0, false);
    match params.get("client_assertion_type")? {
        Some(client_assertion::JWT_BEARER) => {}
        Some(other) => {
            return Err(OAuthError::invalid_client(
                format!(
                    "client_assertion_type {other:?} is not supported (use {})",
                    client_assertion::JWT_BEARER
                ),
                false,
            ));
        }
        None => {
            return Err(OAuthError::invalid_request(format!(
                "client_assertion without client_assertion_type ({})",
                client_assertion::JWT_BEARER
            )));
        }
    }
    let claimed = client_assertion::claimed(assertion).map_err(refused)?;
    entry.client_id = Some(claimed.client_id.clone());
    if body_id.is_some_and(|b| b != claimed.client_id) {
        return Err(OAuthError::invalid_client(
            "client_id in the body differs from the client_assertion's sub",
            false,
        ));
    }
    let id = claimed.client_id.as_str();
    let client = tenant
        .client(id)
        .ok_or_else(|| OAuthError::invalid_client(format!("unknown client {id:?}"), false))?;
    // The method first: an HMAC assertion for a client that did not declare
    // client_secret_jwt is refused before any key is tried.
    let method = client_assertion::method(claimed.peeked.alg);
    entry.auth_method = Some(method);
    declared(&client, method, entry, false)?;
    unexpired(tenant, id, method, false)?;
    let keys = match tenant.remote_keys.get(&KeySource::client(&client)) {
        Some(Ok(keys)) => Some(keys),
        Some(Err(why)) if method == AuthMethod::PrivateKeyJwt => {
            return Err(OAuthError::invalid_client(
                format!("client {id:?}: its keys could not be read: {why}"),
                false,
            ));
        }
        _ => None,
    };
    let receiving = match entry.endpoint {
        Endpoint::Introspect => &tenant.paths.introspection,
        Endpoint::Revoke => &tenant.paths.revocation,
        _ => &tenant.paths.token,
    };
    // The client signed with its own clock, which a test moving the IdP's time leaves.
    let now = tenant.clock.peer_now();
    let verified = tenant
        .with_assertion_audiences(receiving, |audiences| {
            client_assertion::verify(&client, keys.as_ref(), assertion, &claimed, audiences, now)
        })
        .map_err(refused)?;
    entry.lints.extend(verified.lints.iter().copied());
    let mut spent = tenant.spent_jtis.lock().unwrap_or_else(|e| e.into_inner());
    client_assertion::spend(&mut spent, id, &verified, now).map_err(refused)?;
    Ok((client, verified.method))
}

/// Refuses a method the client did not declare (journaled as a lint).
fn declared(
    client: &ClientConfig,
    method: AuthMethod,
    entry: &mut Entry,
    challenge: bool,
) -> Result<(), OAuthError> {
    if client.auth_methods.contains(&method) {
        return Ok(());
    }
    entry.lints.push(Lint::UndeclaredAuthMethod);
    let declared: Vec<_> = client.auth_methods.iter().map(|m| m.as_str()).collect();
    Err(OAuthError::invalid_client(
        format!(
            "client {:?} is registered for {}; the request used {method}",
            client.id,
            declared.join(", ")
        ),
        challenge,
    ))
}
