//! `/admin/faults`: arm, list and clear faults.

use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::{json_body, json_status, status};
use crate::faults::{Fault, FaultScope};
use crate::http::errors::OAuthError;
use crate::tenant::Tenant;

/// `{"fault": {"kind": "id_token_expired"}, "times": 1, "client_id": "…", "user": "…",
/// "grant_type": "refresh_token"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Arm {
    fault: Fault,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    grant_type: Option<String>,
}

pub fn list(t: &Tenant) -> Result<Response, OAuthError> {
    Ok(json_status(&t.faults(), StatusCode::OK))
}

pub fn arm(t: &Tenant, body: &[u8]) -> Result<Response, OAuthError> {
    let Arm {
        fault,
        times,
        client_id,
        user,
        grant_type,
    } = json_body(body)?;
    if let Some(g) = &grant_type
        && crate::types::GrantType::parse(g).is_none()
    {
        return Err(OAuthError::invalid_request(format!(
            "grant_type {g:?}: use authorization_code, refresh_token or client_credentials"
        )));
    }
    if times == Some(0) {
        return Err(OAuthError::invalid_request(
            "times must be at least 1 (leave it out: until cleared)",
        ));
    }
    let id = t.arm_fault(
        fault,
        FaultScope {
            times,
            client_id,
            user,
            grant_type,
        },
    );
    Ok(json_status(&json!({ "id": id }), StatusCode::CREATED))
}

pub fn clear(t: &Tenant, id: Option<&str>) -> Result<Response, OAuthError> {
    let id = match id {
        None => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| OAuthError::invalid_request(format!("{s:?} is not a fault id")))?,
        ),
    };
    match (id, t.clear_faults(id)) {
        (Some(id), 0) => Err(status(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no fault {id}"),
        )),
        _ => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
