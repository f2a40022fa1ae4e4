//! `/admin/users`: list, read, create/replace, update, delete, revoke.

use serde_json::json;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::{json_body, json_status, status};
use crate::directory::User;
use crate::http::errors::OAuthError;
use crate::lifecycle::{DirectoryError, UserPatch};
use crate::tenant::Tenant;

fn directory_error(e: DirectoryError) -> OAuthError {
    match e {
        DirectoryError::NotFound(_) => status(StatusCode::NOT_FOUND, "not_found", e.to_string()),
        DirectoryError::Invalid(_) => {
            status(StatusCode::CONFLICT, "invalid_request", e.to_string())
        }
    }
}

pub fn list(t: &Tenant) -> Result<Response, OAuthError> {
    let users: Vec<User> = t.directory().users().cloned().collect();
    Ok(json_status(&users, StatusCode::OK))
}

pub fn get(t: &Tenant, username: &str) -> Result<Response, OAuthError> {
    let user = t
        .directory()
        .get(username)
        .cloned()
        .ok_or_else(|| directory_error(DirectoryError::NotFound(username.to_owned())))?;
    Ok(json_status(&user, StatusCode::OK))
}

pub fn put(t: &Tenant, username: &str, body: &[u8]) -> Result<Response, OAuthError> {
    let mut value: serde_json::Value = json_body(body)?;
    let Some(obj) = value.as_object_mut() else {
        return Err(OAuthError::invalid_request(
            "the body must be a JSON object (a user)",
        ));
    };
    match obj.get("username").and_then(|u| u.as_str()) {
        Some(u) if u != username => {
            return Err(OAuthError::invalid_request(format!(
                "body username {u:?} differs from the path's {username:?}"
            )));
        }
        _ => {
            obj.insert("username".into(), json!(username));
        }
    }
    let user: User = serde_json::from_value(value)
        .map_err(|e| OAuthError::invalid_request(format!("invalid user: {e}")))?;
    let created = t.put_user(user.clone()).map_err(directory_error)?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_status(&user, code))
}

pub fn patch(t: &Tenant, username: &str, body: &[u8]) -> Result<Response, OAuthError> {
    let patch: UserPatch = json_body(body)?;
    let user = t.patch_user(username, patch).map_err(directory_error)?;
    Ok(json_status(&user, StatusCode::OK))
}

pub fn delete(t: &Tenant, username: &str) -> Result<Response, OAuthError> {
    t.delete_user(username).map_err(directory_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub fn revoke(t: &Tenant, username: &str) -> Result<Response, OAuthError> {
    let n = t.revoke_user(username).map_err(directory_error)?;
    Ok(json_status(&json!({ "revoked": n }), StatusCode::OK))
}
