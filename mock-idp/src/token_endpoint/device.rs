//! The device_code grant (RFC 8628 §3.4, §3.5): the device's poll, answered with tokens
//! once its user has allowed it at the verification page, and until then with
//! `authorization_pending`, `slow_down`, `access_denied` or `expired_token`.

use super::{TokenError, TokenRequest};
use crate::config::ClientConfig;
use crate::journal::Entry;
use crate::tenant::Tenant;
use crate::tokens::{Mint, TokenResponse};
use crate::types::GrantType;

pub(super) fn device_code(
    t: &Tenant,
    client: &ClientConfig,
    req: &TokenRequest<'_>,
    entry: &mut Entry,
) -> Result<TokenResponse, TokenError> {
    let device_code = TokenRequest::require(req.device_code, "device_code")?;
    let now = t.clock.now();
    let grant = t
        .lock_grants()
        .poll_device(device_code, &client.id, now)
        .map_err(|n| TokenError::new(n.code(), n.description()))?;
    entry.user = grant.username.clone();
    let user =
        crate::lifecycle::active_user(t, &grant).map_err(|r| TokenError::invalid_grant(r.0))?;
    let lineage = t.random_token(16);
    crate::tokens::mint(
        t,
        &Mint {
            client,
            grant: &grant,
            user: Some(&user),
            nonce: None,
            code: None,
            lineage: Some(&lineage),
            grant_type: GrantType::DeviceCode,
            refresh: super::code::first_refresh(t, client, &grant, now),
            audience: None,
            act: None,
            jkt: req.dpop_jkt,
        },
    )
    .map_err(TokenError::server_error)
}
