//! `/admin/clock`: read, advance, set the tenant's clock.

use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{json_body, json_status};
use crate::http::errors::OAuthError;
use crate::tenant::Tenant;

/// `{"advance": seconds}` or `{"set": unix_time}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Change {
    Advance(i64),
    Set(i64),
}

pub fn get(t: &Tenant) -> Result<Response, OAuthError> {
    Ok(json_status(
        &json!({ "now": t.clock.now(), "fixed": t.clock.is_fixed() }),
        StatusCode::OK,
    ))
}

pub fn post(t: &Tenant, body: &[u8]) -> Result<Response, OAuthError> {
    match json_body::<Change>(body)? {
        Change::Advance(s) => t.clock.advance(s),
        Change::Set(now) => t.clock.set(now),
    }
    get(t)
}
