//! The JWT bearer grant (RFC 7523 §2.1): an access token for the user a trusted issuer's
//! assertion names; no refresh token, no ID token. Also the reading of such an issuer's
//! JWT that token exchange shares.

use std::sync::Arc;

use super::{TokenError, TokenRequest, access_only_scope};
use crate::assertion::Peeked;
use crate::bearer_grant::{self, Accepted, Refusal};
use crate::client_keys::KeySource;
use crate::config::ClientConfig;
use crate::grants::Grant;
use crate::journal::Entry;
use crate::tenant::Tenant;
use crate::tokens::{Mint, TokenResponse};
use crate::types::GrantType;

pub(super) fn jwt_bearer(
    t: &Tenant,
    client: &ClientConfig,
    req: &TokenRequest<'_>,
    entry: &mut Entry,
) -> Result<TokenResponse, TokenError> {
    let scope = access_only_scope(
        &req.scope,
        "the jwt-bearer grant issues an access token only",
    )?;
    let assertion = TokenRequest::require(req.assertion, "assertion")?;
    let (accepted, _) =
        trusted_assertion(t, assertion).map_err(|r| TokenError::invalid_grant(r.0))?;
    entry.user = Some(accepted.user.username.clone());
    // A lineage of its own: the token stands for a user (introspection, userinfo and
    // revocation find the grant), and dies with the user or a revocation.
    let lineage = t.random_token(16);
    let grant = Arc::new(Grant::without_login(
        &client.id,
        Some(&accepted.user),
        scope,
        t.clock.now(),
    ));
    crate::tokens::mint(
        t,
        &Mint {
            client,
            grant: &grant,
            user: Some(&accepted.user),
            nonce: None,
            code: None,
            lineage: Some(&lineage),
            grant_type: GrantType::JwtBearer,
            refresh: None,
            audience: None,
            act: None,
            jkt: req.dpop_jkt,
        },
    )
    .map_err(TokenError::server_error)
}

/// A JWT from a trusted assertion issuer, checked with the issuer's keys and its `jti`
/// spent: the jwt-bearer grant's assertion, or a token exchange's `…:jwt` token.
pub(super) fn trusted_assertion(t: &Tenant, jwt: &str) -> Result<(Accepted, Peeked), Refusal> {
    let (peeked, iss) = bearer_grant::peek(jwt)?;
    let issuer = bearer_grant::issuer(&t.config.assertion_issuers, &iss)?;
    let keys = match t.remote_keys.get(&KeySource::issuer(issuer)) {
        Some(Err(why)) => {
            return Err(Refusal(format!(
                "assertion: the issuer's keys could not be read: {why}"
            )));
        }
        keys => keys.and_then(Result::ok),
    };
    // The issuer signed with its own clock, which a test moving the IdP's time leaves.
    let now = t.clock.peer_now();
    let accepted = t.with_assertion_audiences(&t.paths.token, |audiences| {
        let dir = t.directory();
        bearer_grant::verify(issuer, keys.as_ref(), jwt, &peeked, audiences, &dir, now)
    })?;
    let mut spent = t.spent_jtis.lock().unwrap_or_else(|e| e.into_inner());
    bearer_grant::spend(&mut spent, &issuer.issuer, &accepted, now)?;
    Ok((accepted, peeked))
}
