//! Token introspection (RFC 7662), for authenticated clients.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::Response;

use super::client_auth::authenticate;
use super::errors::OAuthError;
use super::json_no_store;
use super::params::Params;
use crate::grants::Grant;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// POST an introspection request.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::client_post(reg, |p| &p.introspection, Endpoint::Introspect, introspect)
}

fn introspect(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    authenticate(t, headers, form, entry)?;
    let token = form.require("token")?;
    let now = t.clock.now();
    let access = crate::tokens::check_access(t, token).ok().map(|a| {
        (
            "access_token",
            a.grant,
            a.issued_at,
            a.expires_at,
            Some(a.jti),
            a.jkt,
        )
    });
    let found = access.or_else(|| {
        let grants = t.lock_grants();
        grants.live_refresh(token, now).map(|r| {
            (
                "refresh_token",
                Grant::clone(&r.grant),
                r.issued_at,
                r.expires_at,
                None,
                r.jkt.clone(),
            )
        })
    });
    // Whose token it is, active or not: an inactive answer is how an RP learns that the
    // user's access ended, and the journal shows it about that user.
    entry.user = found.as_ref().and_then(|(_, g, ..)| g.username.clone());
    let active = found.filter(|(_, grant, ..)| user_exists(t, grant));
    let body = match active {
        None => json!({"active": false}),
        Some((kind, grant, iat, exp, jti, jkt)) => {
            let mut m = Map::new();
            m.insert("active".into(), json!(true));
            m.insert(
                "token_type".into(),
                json!(match (kind, &jkt) {
                    ("access_token", Some(_)) => "DPoP",
                    ("access_token", None) => "Bearer",
                    _ => "refresh_token",
                }),
            );
            // The key a DPoP-bound token is bound to (RFC 9449 §6.2).
            if let Some(jkt) = jkt {
                m.insert("cnf".into(), json!({ "jkt": jkt }));
            }
            m.insert("scope".into(), json!(grant.scope_string()));
            m.insert("client_id".into(), json!(grant.client_id));
            if let Some(u) = &grant.username {
                m.insert("username".into(), json!(u));
            }
            m.insert("sub".into(), json!(t.subject(&grant)));
            m.insert("aud".into(), json!(grant.client_id));
            m.insert("iss".into(), json!(t.iss()));
            m.insert("iat".into(), json!(iat));
            m.insert("exp".into(), json!(exp));
            if let Some(jti) = jti {
                m.insert("jti".into(), json!(jti));
            }
            Value::Object(m)
        }
    };
    Ok(json_no_store(&body))
}

/// Client-credentials tokens have no user; user tokens die with their user.
fn user_exists(t: &Tenant, grant: &Grant) -> bool {
    grant.username.is_none() || crate::lifecycle::active_user(t, grant).is_ok()
}
