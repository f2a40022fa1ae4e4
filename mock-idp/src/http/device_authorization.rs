//! The device authorization endpoint (RFC 8628 §3.1, §3.2): a client that cannot show a
//! browser gets a device code to poll with and a user code for its user to enter at the
//! verification page.

use std::sync::Arc;

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::Response;

use super::client_auth::authenticate;
use super::errors::OAuthError;
use super::json_no_store;
use super::params::Params;
use crate::grants::{DeviceRecord, DeviceState, display_user_code, user_code};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::types::GrantType;

/// How many random user codes are tried before giving up on finding a free one.
const USER_CODE_TRIES: usize = 16;

/// The answer (RFC 8628 §3.2).
#[derive(Debug, Serialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// POST a device authorization request.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::client_post(
        reg,
        |p| &p.device_authorization,
        Endpoint::DeviceAuthorization,
        device_authorization,
    )
}

fn device_authorization(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let (client, _method) = authenticate(t, headers, form, entry)?;
    if !client.grant_types.contains(&GrantType::DeviceCode) {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            format!("client {:?} may not use the device_code grant", client.id),
        ));
    }
    let scope = form.list("scope")?;
    let now = t.clock.now();
    let lifetimes = &t.config.lifetimes;
    let device_code = t.random_token(32);
    let code = {
        let mut grants = t.lock_grants();
        let code = (0..USER_CODE_TRIES)
            .map(|_| user_code(&t.random_bytes()))
            .find(|c| !grants.user_code_taken(c, now))
            .ok_or_else(|| OAuthError::server_error("no free user code was found"))?;
        grants.insert_device(
            &device_code,
            DeviceRecord {
                client_id: client.id.clone(),
                scope,
                user_code: code.clone(),
                expires_at: now + lifetimes.device_code as i64,
                interval: lifetimes.device_poll_interval,
                last_poll: None,
                state: DeviceState::Pending,
            },
            now,
        );
        code
    };
    let shown = display_user_code(&code);
    let verification_uri = t.url_of(&t.paths.device);
    Ok(json_no_store(&DeviceAuthorization {
        device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        user_code: shown,
        verification_uri,
        expires_in: lifetimes.device_code,
        interval: lifetimes.device_poll_interval,
    }))
}
