//! The refresh_token grant (RFC 6749 §6, OIDC Core §12): the family's policy (rotation,
//! reuse, idle and absolute lifetimes), a narrower scope, the user still active.

use std::sync::Arc;

use super::{TokenError, TokenRequest};
use crate::config::ClientConfig;
use crate::journal::{Entry, Lint};
use crate::tenant::Tenant;
use crate::tokens::{Mint, NewRefresh, TokenResponse};
use crate::types::GrantType;

/// A refused refresh, worded as the provider words it (`quirks.invalid_grant_description`)
/// or with the mock's own explanation; a disabled user's with the provider's status.
pub fn refused_refresh(t: &Tenant, detail: String) -> TokenError {
    let q = &t.config.quirks;
    let disabled = detail == crate::lifecycle::DISABLED;
    if let (true, Some(status)) = (disabled, q.disabled_user_status) {
        return TokenError {
            status,
            ..TokenError::invalid_grant("user is blocked")
        };
    }
    TokenError::invalid_grant(q.invalid_grant_description.clone().unwrap_or(detail))
}

pub(super) fn refresh_token(
    t: &Tenant,
    client: &ClientConfig,
    req: &TokenRequest<'_>,
    entry: &mut Entry,
) -> Result<TokenResponse, TokenError> {
    let token = TokenRequest::require(req.refresh_token, "refresh_token")?;
    let now = t.clock.now();
    let policy = &client.refresh_policy;
    let used = t
        .lock_grants()
        .use_refresh(token, &client.id, policy, now, req.dpop_jkt, |g| {
            crate::lifecycle::active_user(t, g).map(|_| ())
        })
        .map_err(|r| refused_refresh(t, r.0))?;
    let presented = used.grant;
    let mut grant = presented.clone();
    entry.user = grant.username.clone();
    if used.reused {
        entry.lints.push(Lint::RefreshTokenReused);
    }
    if !req.scope.is_empty() {
        if let Some(extra) = req.scope.iter().find(|s| !grant.has_scope(s)) {
            return Err(TokenError::new(
                "invalid_scope",
                format!("scope {extra:?} was not granted originally (RFC 6749 §6)"),
            ));
        }
        Arc::make_mut(&mut grant).scope = req.scope.clone();
    }
    let user = crate::lifecycle::active_user(t, &grant).map_err(|r| refused_refresh(t, r.0))?;
    crate::tokens::mint(
        t,
        &Mint {
            client,
            grant: &grant,
            user: Some(&user),
            nonce: None,
            code: None,
            lineage: Some(&used.family),
            grant_type: GrantType::RefreshToken,
            refresh: policy.rotate.then(|| NewRefresh {
                expires_at: used.family_expires_at,
                idle: policy.idle,
                // The presented token's scope, however narrow this request's (RFC 6749 §6).
                grant: (!Arc::ptr_eq(&grant, &presented)).then(|| presented.clone()),
            }),
            audience: None,
            act: None,
            jkt: req.dpop_jkt,
        },
    )
    .map_err(TokenError::server_error)
}
