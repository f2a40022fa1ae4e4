//! Pushed authorization requests (RFC 9126), as plain functions over a tenant's state: a
//! validated request is held under a `request_uri` for `[par] lifetime` seconds, for one
//! use by the client that pushed it; which clients must push.

use crate::config::ClientConfig;
use crate::grants::PendingLogin;
use crate::tenant::Tenant;

/// What every `request_uri` this tenant hands out starts with (RFC 9126 §2.2).
pub const URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Parameters a pushed request must not keep: the client's credentials (they were for the
/// push alone) and a `request_uri` (RFC 9126 §2.1).
const NOT_KEPT: [&str; 4] = [
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "request_uri",
];

/// The parameters a pushed request keeps: all the client sent but its credentials, with
/// the authenticated client's id.
pub fn kept(client_id: &str, params: &[(String, String)]) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !NOT_KEPT.contains(&k.as_str()) && k != "client_id")
        .cloned()
        .collect();
    kept.push(("client_id".into(), client_id.to_owned()));
    kept
}

/// Holds a validated authorization request (its [`kept`] parameters); its `request_uri`
/// and how many seconds it is good for.
pub fn push(t: &Tenant, kept: Vec<(String, String)>) -> (String, u64) {
    let now = t.clock.now();
    let lifetime = t.config.par.lifetime;
    let uri = format!("{URI_PREFIX}{}", t.random_token(24));
    t.lock_grants().insert_pending(
        &uri,
        PendingLogin {
            params: kept,
            expires_at: now + lifetime as i64,
        },
        now,
    );
    (uri, lifetime)
}

/// The pushed request `request_uri` names, taken (it is good for one use): refused when it
/// is unknown, spent or expired, or was pushed by another client than `client_id`.
pub fn take(
    t: &Tenant,
    request_uri: &str,
    client_id: &str,
) -> Result<Vec<(String, String)>, String> {
    let now = t.clock.now();
    if !request_uri.starts_with(URI_PREFIX) {
        return Err(format!(
            "request_uri {request_uri:?} was not issued by this provider's pushed authorization request endpoint"
        ));
    }
    let mut grants = t.lock_grants();
    let pushed_by = grants.pending_client(request_uri);
    match pushed_by {
        Some(by) if by != client_id => Err(format!(
            "request_uri was pushed by another client than {client_id:?} (RFC 9126 §4)"
        )),
        _ => grants
            .take_pending(request_uri, now)
            .map(|p| p.params)
            .ok_or_else(|| {
                "request_uri is unknown, already used or expired (it is good for one use, for a short time; RFC 9126 §4)".to_owned()
            }),
    }
}

/// Whether `client` must push its authorization requests (the tenant's `[par] required`,
/// or the client's own `require_pushed_authorization_requests`).
pub fn required(t: &Tenant, client: &ClientConfig) -> bool {
    t.config.par.enabled && (t.config.par.required || client.require_pushed_authorization_requests)
}
