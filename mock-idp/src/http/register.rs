//! The registration endpoint (RFC 7591 §3): `POST <registration>` with the client's
//! metadata as JSON; and a registration's management (RFC 7592 §2): `GET`, `PUT` and
//! `DELETE` at `<registration>/<client_id>`, with the registration access token. Served
//! with `[registration] enabled`; the logic is [`crate::registration`]'s.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::path::FullPath;
use warp::reply::{Reply, Response};

use super::errors::OAuthError;
use super::params::Params;
use super::{bounded_body, journaled, json_no_store};
use crate::journal::{Endpoint, Entry};
use crate::registration::{self, Refusal};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::types::AuthMethod;

/// Every registration route of every tenant.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    let lookup = reg.clone();
    let under = warp::path::full().and_then(move |path: FullPath| {
        let found = lookup.under(path.as_str(), |p| &p.registration);
        async move { found.ok_or_else(warp::reject::not_found) }
    });
    under
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(bounded_body())
        .map(
            |(t, rest): (Arc<Tenant>, String),
             method: Method,
             headers: HeaderMap,
             body: Result<Bytes, OAuthError>| {
                let none = Params::default();
                let mut entry = Entry::new(Endpoint::Register, method.as_str(), &none, &none);
                let result =
                    body.and_then(|b| answer(&t, &rest, &method, &headers, &b, &mut entry));
                journaled(&t, entry, result)
            },
        )
        .boxed()
}

fn answer(
    t: &Tenant,
    rest: &str,
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    if !t.config.registration.enabled {
        return Err(OAuthError {
            status: StatusCode::NOT_FOUND,
            ..OAuthError::invalid_request(
                "this provider registers no clients ([registration] enabled = false)",
            )
        });
    }
    let token = bearer(headers)?;
    let token = token.as_deref();
    let id = match rest.strip_prefix('/') {
        None => None,
        Some(id) if !id.is_empty() && !id.contains('/') => Some(id),
        Some(_) => {
            return Err(OAuthError {
                status: StatusCode::NOT_FOUND,
                ..OAuthError::invalid_request(
                    "no endpoint at this path: a registration is managed at the registration endpoint followed by /<client_id>",
                )
            });
        }
    };
    entry.client_id = id.map(str::to_owned);
    let not_allowed = |allowed: &str| OAuthError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        ..OAuthError::invalid_request(format!("this endpoint takes {allowed}"))
    };
    match (id, method) {
        (None, &Method::POST) => {
            registration::may_register(t, token).map_err(refused)?;
            let metadata = json_object(headers, body, entry)?;
            let registered = registration::register(t, &metadata).map_err(refused)?;
            note(entry, &registered);
            let mut res = json_no_store(&registered);
            *res.status_mut() = StatusCode::CREATED;
            Ok(res)
        }
        (None, _) => Err(not_allowed("POST (RFC 7591 §3)")),
        (Some(id), &Method::GET) => {
            let registered = registration::read(t, id, token).map_err(refused)?;
            note(entry, &registered);
            Ok(json_no_store(&registered))
        }
        (Some(id), &Method::PUT) => {
            let metadata = json_object(headers, body, entry)?;
            let registered = registration::update(t, id, token, &metadata).map_err(refused)?;
            note(entry, &registered);
            Ok(json_no_store(&registered))
        }
        (Some(id), &Method::DELETE) => {
            registration::delete(t, id, token).map_err(refused)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (Some(_), _) => Err(not_allowed("GET, PUT and DELETE (RFC 7592 §2)")),
    }
}

/// The registration's client, authentication and first redirect URI, in the journal.
fn note(entry: &mut Entry, registered: &Map<String, Value>) {
    let text = |k: &str| registered.get(k).and_then(Value::as_str);
    entry.client_id = text("client_id").map(str::to_owned);
    entry.auth_method = text("token_endpoint_auth_method").and_then(AuthMethod::parse);
    entry.redirect_uri = registered
        .get("redirect_uris")
        .and_then(|u| u.get(0))
        .and_then(Value::as_str)
        .map(str::to_owned);
}

/// The bearer token of the request, if it sent one.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    if !headers.contains_key(warp::http::header::AUTHORIZATION) {
        return Ok(None);
    }
    match super::userinfo::bearer(headers, &Params::default())? {
        (_, true) => Err(OAuthError::invalid_token(
            "the registration endpoint takes a Bearer token, not a DPoP-bound one",
        )),
        (token, false) => Ok(Some(token)),
    }
}

/// The body as a JSON object (RFC 7591 §3.1), kept in the journal entry.
fn json_object(
    headers: &HeaderMap,
    body: &[u8],
    entry: &mut Entry,
) -> Result<Map<String, Value>, OAuthError> {
    let json =
        super::media_type(headers).is_some_and(|t| t.eq_ignore_ascii_case("application/json"));
    let bad = |why: String| OAuthError::bad_request("invalid_client_metadata", why);
    if !json {
        return Err(bad(
            "the client metadata must be sent as application/json (RFC 7591 §3.1)".into(),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => {
            entry.metadata = Some(Value::Object(map.clone()));
            Ok(map)
        }
        Ok(_) => Err(bad(
            "the client metadata must be a JSON object (RFC 7591 §3.1)".into(),
        )),
        Err(e) => Err(bad(format!("the body is not JSON: {e}"))),
    }
}

/// A refusal as the wire says it.
fn refused(r: Refusal) -> OAuthError {
    match r {
        Refusal::NoToken(why) => OAuthError {
            challenge: Some("Bearer realm=\"mock-idp\"".into()),
            ..OAuthError::invalid_token(why)
        },
        Refusal::Token(why) => OAuthError::invalid_token(why),
        Refusal::Metadata(error, why) => OAuthError::bad_request(error, why),
        Refusal::Full(why) => OAuthError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            ..OAuthError::bad_request("temporarily_unavailable", why)
        },
    }
}
