//! `/admin/tenants` (default tenant only): create, list, reset and delete isolated tenants.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::{json_body, json_status, status};
use crate::config::Config;
use crate::http::errors::OAuthError;
use crate::registry::Registry;

/// `{"name": "t1"}`, optionally with a whole `config` (the config file's shape, as JSON).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    #[serde(default)]
    config: Option<Config>,
}

fn conflict(e: String) -> OAuthError {
    if e.starts_with("no tenant") {
        status(StatusCode::NOT_FOUND, "not_found", e)
    } else if e.starts_with("tenant name") {
        OAuthError::invalid_request(e)
    } else {
        status(StatusCode::CONFLICT, "invalid_request", e)
    }
}

pub fn list(reg: &Arc<Registry>) -> Result<Response, OAuthError> {
    let tenants: Vec<_> = reg
        .list()
        .iter()
        .map(|t| json!({ "issuer": t.issuer }))
        .collect();
    Ok(json_status(&tenants, StatusCode::OK))
}

pub fn create(reg: &Arc<Registry>, body: &[u8]) -> Result<Response, OAuthError> {
    let Create { name, config } = json_body(body)?;
    if let Some(c) = &config {
        c.check()
            .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    }
    let t = reg.create(&name, config).map_err(conflict)?;
    Ok(json_status(
        &json!({ "name": name, "issuer": t.issuer }),
        StatusCode::CREATED,
    ))
}

pub fn reset(reg: &Arc<Registry>, name: &str) -> Result<Response, OAuthError> {
    let t = reg.reset(name).map_err(conflict)?;
    Ok(json_status(
        &json!({ "name": name, "issuer": t.issuer }),
        StatusCode::OK,
    ))
}

pub fn delete(reg: &Arc<Registry>, name: &str) -> Result<Response, OAuthError> {
    reg.delete(name).map_err(conflict)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
