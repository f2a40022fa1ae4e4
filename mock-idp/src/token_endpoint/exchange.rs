//! The token-exchange grant (RFC 8693): reads the presented tokens with the IdP's own
//! checks (access tokens, ID tokens, trusted issuers' JWTs), then mints. The rules of the
//! RFC itself (token types, `may_act`, `act`, scope) are in `token_exchange.rs`.

use std::sync::Arc;

use serde_json::Value;

use super::{TokenError, TokenRequest};
use crate::config::ClientConfig;
use crate::directory::User;
use crate::grants::Grant;
use crate::journal::Entry;
use crate::tenant::Tenant;
use crate::token_exchange::{self, Named, TokenType};
use crate::tokens::{Mint, TokenResponse};
use crate::types::GrantType;

/// A presented token, read: who it names, their user (none for a client's own token), the
/// scope it carries (access tokens), and who already acts in it.
struct Read {
    named: Named,
    user: Option<User>,
    scope: Option<Vec<String>>,
    act: Option<Value>,
}

/// The grant: an access token for the subject's user, for `audience`, with `act`.
pub fn exchange(
    t: &Tenant,
    client: &ClientConfig,
    req: &TokenRequest<'_>,
    entry: &mut Entry,
) -> Result<TokenResponse, TokenError> {
    let bad = |why: String| TokenError::invalid_request(why);
    if let Some(r) = req.requested_token_type
        && r != token_exchange::ACCESS_TOKEN
    {
        return Err(bad(format!(
            "requested_token_type {r:?}: this IdP issues access tokens ({})",
            token_exchange::ACCESS_TOKEN
        )));
    }
    let subject_type = TokenType::parse(TokenRequest::require(
        req.subject_token_type,
        "subject_token_type",
    )?)
    .map_err(bad)?;
    let subject_token = TokenRequest::require(req.subject_token, "subject_token")?;
    let subject =
        read(t, subject_token, subject_type).map_err(|e| bad(format!("subject_token: {e}")))?;
    let Some(user) = subject.user.clone() else {
        return Err(bad(
            "subject_token: a client's own token has no user to act for".into(),
        ));
    };
    entry.user = Some(user.username.clone());
    let actor = match req.actor_token {
        None => None,
        Some(token) => {
            let kind = req.actor_token_type.ok_or_else(|| {
                bad("actor_token without actor_token_type (RFC 8693 §2.1)".into())
            })?;
            let kind = TokenType::parse(kind).map_err(bad)?;
            Some(read(t, token, kind).map_err(|e| bad(format!("actor_token: {e}")))?)
        }
    };
    if let Some(a) = &actor {
        token_exchange::may_act(subject.named.may_act.as_ref(), &a.named).map_err(bad)?;
    }
    let audience = req.audience;
    if let Some(aud) = audience
        && t.client(aud).is_none()
    {
        return Err(TokenError::new(
            "invalid_target",
            format!("audience {aud:?} is not a client of this IdP"),
        ));
    }
    if req.resource.is_some() {
        return Err(TokenError::new(
            "invalid_target",
            "resource is not supported; name a client as audience",
        ));
    }
    let scope = token_exchange::scope(req.scope.clone(), subject.scope.as_deref())
        .map_err(|e| TokenError::new("invalid_scope", e))?;
    let lineage = t.random_token(16);
    let grant = Arc::new(Grant::without_login(
        &client.id,
        Some(&user),
        scope,
        t.clock.now(),
    ));
    let act = actor
        .as_ref()
        .map(|a| token_exchange::act(&a.named, a.act.as_ref()));
    let mut body = crate::tokens::mint(
        t,
        &Mint {
            client,
            grant: &grant,
            user: Some(&user),
            nonce: None,
            code: None,
            lineage: Some(&lineage),
            grant_type: GrantType::TokenExchange,
            refresh: None,
            audience,
            act,
            jkt: req.dpop_jkt,
        },
    )
    .map_err(TokenError::server_error)?;
    body.issued_token_type = Some(token_exchange::ACCESS_TOKEN);
    Ok(body)
}

/// Reads a presented token with the check its type calls for.
fn read(t: &Tenant, token: &str, kind: TokenType) -> Result<Read, String> {
    match kind {
        TokenType::AccessToken => {
            let view = crate::tokens::check_access(t, token).map_err(|r| r.0)?;
            let user = match view.grant.username {
                Some(_) => Some(crate::lifecycle::active_user(t, &view.grant).map_err(|r| r.0)?),
                None => None,
            };
            // Verified by check_access (or opaque): what it says of acting.
            let claims = claims(token);
            Ok(Read {
                named: Named {
                    sub: t.subject(&view.grant),
                    may_act: claims.as_ref().and_then(|c| c.get("may_act").cloned()),
                },
                user,
                scope: Some(view.grant.scope.clone()),
                act: claims.and_then(|c| c.get("act").cloned()),
            })
        }
        TokenType::IdToken => id_token(t, token),
        TokenType::Jwt => {
            let (accepted, peeked) =
                super::jwt_bearer::trusted_assertion(t, token).map_err(|r| r.0)?;
            Ok(Read {
                named: Named {
                    sub: accepted.user.sub.clone(),
                    may_act: peeked.claims.get("may_act").cloned(),
                },
                user: Some(accepted.user),
                scope: None,
                act: peeked.claims.get("act").cloned(),
            })
        }
    }
}

/// The claims of a JWT whose signature was checked already (none for an opaque token).
fn claims(token: &str) -> Option<Value> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).ok()
}

/// An ID token this IdP signed, unexpired, for one of its clients; its user.
fn id_token(t: &Tenant, token: &str) -> Result<Read, String> {
    let c = crate::tokens::own_id_token(t, token, crate::keys::KeySet::verifier)?;
    let now = t.clock.now();
    if c.get("exp")
        .and_then(Value::as_i64)
        .is_none_or(|exp| exp <= now)
    {
        return Err("expired (or no exp)".into());
    }
    let aud = crate::tokens::first_aud(&c)?;
    if t.client(&aud).is_none() {
        return Err(format!("aud {aud:?} is not a client of this IdP"));
    }
    let sub = c.get("sub").and_then(Value::as_str).ok_or("no sub")?;
    let user = {
        let dir = t.directory();
        dir.users()
            .find(|u| crate::tokens::subject(&t.config.quirks, &aud, &u.sub) == sub)
            .cloned()
            .ok_or_else(|| format!("sub {sub:?} is no user of this IdP"))?
    };
    if user.disabled {
        return Err(format!("the user {:?} is disabled", user.username));
    }
    Ok(Read {
        named: Named {
            sub: sub.to_owned(),
            may_act: c.get("may_act").cloned(),
        },
        user: Some(user),
        scope: None,
        act: None,
    })
}
