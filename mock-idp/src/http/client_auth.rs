//! Client authentication (RFC 6749 §2.3, OIDC Core §9): each client accepts only the
//! methods it declares.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use warp::http::HeaderMap;

use super::errors::OAuthError;
use super::params::Params;
use crate::config::ClientConfig;
use crate::journal::{Entry, Lint};
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

/// Authenticates the client of a token, introspection or revocation request.
pub fn authenticate<'t>(
    tenant: &'t Tenant,
    headers: &HeaderMap,
    params: &Params,
    entry: &mut Entry,
) -> Result<(&'t ClientConfig, AuthMethod), OAuthError> {
    let header = basic(headers)?;
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
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
    if !client.auth_methods.contains(&method) {
        entry.lints.push(Lint::UndeclaredAuthMethod);
        let declared: Vec<_> = client.auth_methods.iter().map(|m| m.as_str()).collect();
        return Err(OAuthError::invalid_client(
            format!(
                "client {id:?} is registered for {}; the request used {method}",
                declared.join(", ")
            ),
            is_basic,
        ));
    }
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
