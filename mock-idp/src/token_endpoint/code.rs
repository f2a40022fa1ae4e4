//! The authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3): the code redeemed
//! once, bound to its client, redirect URI and PKCE; the tokens of a new lineage.

use super::{TokenError, TokenRequest};
use crate::config::{ClientConfig, RefreshPolicy};
use crate::grants::{Grant, Redemption};
use crate::journal::Entry;
use crate::tenant::Tenant;
use crate::tokens::{Mint, NewRefresh, TokenResponse};
use crate::types::GrantType;

pub(super) fn authorization_code(
    t: &Tenant,
    client: &ClientConfig,
    req: &TokenRequest<'_>,
    entry: &mut Entry,
) -> Result<TokenResponse, TokenError> {
    let code = TokenRequest::require(req.code, "code")?;
    let now = t.clock.now();
    let lineage = t.random_token(16);
    let record = t
        .lock_grants()
        .redeem_code(
            code,
            &Redemption {
                client_id: &client.id,
                redirect_uri: req.redirect_uri,
                code_verifier: req.code_verifier,
                lineage: &lineage,
            },
            now,
        )
        .map_err(|r| TokenError::invalid_grant(r.0))?;
    entry.user = record.grant.username.clone();
    let user = crate::lifecycle::active_user(t, &record.grant)
        .map_err(|r| TokenError::invalid_grant(r.0))?;
    crate::tokens::mint(
        t,
        &Mint {
            client,
            grant: &record.grant,
            user: Some(&user),
            nonce: record.grant.nonce.as_deref(),
            code: Some(code),
            lineage: Some(&lineage),
            grant_type: GrantType::AuthorizationCode,
            refresh: first_refresh(t, client, &record.grant, now),
            audience: None,
            act: None,
            jkt: req.dpop_jkt,
        },
    )
    .map_err(TokenError::server_error)
}

/// The refresh token a login's first token response carries, per the client's policy.
pub(super) fn first_refresh(
    t: &Tenant,
    client: &ClientConfig,
    grant: &Grant,
    now: i64,
) -> Option<NewRefresh> {
    let wanted = match client.refresh_tokens {
        RefreshPolicy::Always => true,
        // Without consent, offline_access was never granted (authorization::issue_code).
        RefreshPolicy::WithOfflineAccess | RefreshPolicy::WithConsent => {
            grant.has_scope("offline_access")
        }
        RefreshPolicy::Never => false,
    };
    (wanted && client.grant_types.contains(&GrantType::RefreshToken)).then(|| {
        let policy = &client.refresh_policy;
        NewRefresh {
            expires_at: now + policy.absolute.unwrap_or(t.config.lifetimes.refresh_token) as i64,
            idle: policy.idle,
            grant: None,
        }
    })
}
