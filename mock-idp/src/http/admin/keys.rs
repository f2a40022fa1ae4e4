//! `/admin/keys`: the JWKS the tenant publishes now (read without counting as an RP's
//! fetch of it, which the journal records); `/admin/keys/rotate`: a new signing key, the
//! old one published for a grace period.

use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{json_body, json_status, status};
use crate::http::errors::OAuthError;
use crate::tenant::Tenant;
use crate::types::SigningAlg;

/// `{"alg": "RS256", "grace": 3600}` or `{"remove_old": true}`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotate {
    /// Which algorithm's key (default: the tenant's `signing_alg`).
    alg: Option<SigningAlg>,
    /// Seconds the old key stays in the JWKS (default: the ID-token lifetime).
    grace: Option<u64>,
    /// Remove the old key at once.
    #[serde(default)]
    remove_old: bool,
}

pub fn rotate(t: &Tenant, body: &[u8]) -> Result<Response, OAuthError> {
    let r: Rotate = if body.is_empty() {
        Rotate::default()
    } else {
        json_body(body)?
    };
    let alg = r.alg.unwrap_or(t.config.signing_alg);
    let grace = if r.remove_old {
        0
    } else {
        r.grace.unwrap_or(t.config.lifetimes.id_token)
    };
    let kid = t
        .rotate_key(alg, grace)
        .map_err(|e| status(StatusCode::CONFLICT, "invalid_request", e))?;
    Ok(json_status(
        &json!({ "kid": kid, "alg": alg, "old_key_published_for": grace }),
        StatusCode::OK,
    ))
}

/// The JWKS the tenant publishes now, as `GET <jwks>` answers it.
pub fn published(t: &Tenant) -> Response {
    let jwks = t.keys().jwks(t.clock.now());
    json_status(
        &serde_json::to_value(jwks).unwrap_or_default(),
        StatusCode::OK,
    )
}
