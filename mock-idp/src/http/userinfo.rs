//! The userinfo endpoint (OIDC Core §5.3): GET or POST with a bearer token (RFC 6750).

use std::sync::Arc;

use serde_json::{Value, json};
use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::Response;

use super::errors::OAuthError;
use super::json_no_store;
use super::params::Params;
use crate::config::TokenKind;
use crate::directory::User;
use crate::faults::{Fault, FaultPoint, Target};
use crate::grants::Grant;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::tokens::{identity_claims, place_groups_of, user_claims};

/// GET or POST userinfo.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::bearer_get_post(reg, |p| &p.userinfo, Endpoint::Userinfo, userinfo)
}

/// The access token of a request: the Authorization header (`Bearer`, or `DPoP` for a
/// DPoP-bound token: the flag), or `access_token` in a form body (RFC 6750 §2.1, §2.2);
/// both at once is an error.
pub fn bearer(headers: &HeaderMap, form: &Params) -> Result<(String, bool), OAuthError> {
    let header = match headers.get(warp::http::header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| OAuthError::invalid_token("the Authorization header is not ASCII"))?;
            match v.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                {
                    Some((token.trim().to_owned(), false))
                }
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("dpop") && !token.trim().is_empty() =>
                {
                    Some((token.trim().to_owned(), true))
                }
                _ => {
                    return Err(OAuthError::invalid_token(
                        "the Authorization header must be `Bearer <access token>` (or `DPoP <access token>` for a DPoP-bound one)",
                    ));
                }
            }
        }
    };
    let body = form.get("access_token")?;
    match (header, body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the access token was sent in both the header and the body (RFC 6750 §2)",
        )),
        (Some(h), None) => Ok(h),
        (None, Some(b)) => Ok((b.to_owned(), false)),
        (None, None) => Err(OAuthError {
            challenge: Some("Bearer realm=\"mock-idp\"".into()),
            ..OAuthError::invalid_token("no access token: send Authorization: Bearer <token>")
        }),
    }
}

/// The grant behind a request's live bearer access token, noted in its journal entry.
pub fn bearer_grant(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Grant, OAuthError> {
    let (token, dpop_scheme) = bearer(headers, form)?;
    let grant = match crate::tokens::check_access(t, &token) {
        Ok(view) => {
            let at = (entry.endpoint, entry.method.as_str());
            if let Err(e) =
                super::dpop::at_resource(t, headers, at, (&token, dpop_scheme), view.jkt.as_deref())
            {
                entry.user = view.grant.username.clone();
                return Err(e);
            }
            entry.dpop = view.jkt.clone();
            view.grant
        }
        Err(r) => {
            // Refused, but still about someone: the journal says whom.
            entry.user = crate::tokens::access_owner(t, &token);
            return Err(OAuthError::invalid_token(r.0));
        }
    };
    entry.client_id = Some(grant.client_id.clone());
    entry.user = grant.username.clone();
    Ok(grant)
}

/// The live grant behind a request's bearer access token and its user as the directory
/// has them now (a deleted or disabled user's token is `invalid_token`).
pub fn bearer_user(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<(Grant, User), OAuthError> {
    let grant = bearer_grant(t, headers, form, entry)?;
    let user =
        crate::lifecycle::active_user(t, &grant).map_err(|r| OAuthError::invalid_token(r.0))?;
    Ok((grant, user))
}

fn userinfo(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let grant = bearer_grant(t, headers, form, entry)?;
    if !grant.has_scope("openid") {
        return Err(OAuthError::insufficient_scope(
            "userinfo needs an access token with the openid scope",
        ));
    }
    let user =
        crate::lifecycle::active_user(t, &grant).map_err(|r| OAuthError::invalid_token(r.0))?;
    let quirks = &t.config.quirks;
    let mut claims = user_claims(&user, &grant, quirks);
    let sub = t.subject(&grant);
    claims.insert("sub".into(), json!(sub));
    identity_claims(&mut claims, quirks, &grant.sub);
    place_groups_of(
        &mut claims,
        &t.groups_for(&grant.client_id),
        TokenKind::Userinfo,
        &user.groups,
    );
    entry.faults = t.fire_faults(
        Target {
            client_id: &grant.client_id,
            user: Some(&user.username),
            grant_type: None,
        },
        FaultPoint::Userinfo,
    );
    if quirks.userinfo_sub_only {
        claims.retain(|k, _| k == "sub");
    }
    for f in &entry.faults {
        match f {
            // What an RP that skips the sub comparison would take on.
            Fault::UserinfoSubChanged => crate::tokens::another_person(&mut claims),
            Fault::UserinfoRemoveClaim { claim } => {
                claims.remove(claim);
            }
            _ => {}
        }
    }
    Ok(json_no_store(&Value::Object(claims)))
}
