//! Dynamic client registration (RFC 7591) and its management (RFC 7592), as plain
//! functions over a tenant's state: client metadata checked and turned into a client the
//! tenant takes like a configured one; a registration read, replaced or deleted with its
//! registration access token.

use std::sync::Arc;

mod metadata;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde_json::{Map, Value, json};

use crate::clients::Registered;
use crate::tenant::Tenant;
use metadata::Requested;

/// Why a registration request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token where one is needed (RFC 6750 §3.1: a challenge without an error).
    NoToken(String),
    /// A wrong initial or registration access token, or one for another client (RFC 7591
    /// §3, RFC 7592 §3: `invalid_token`, 401).
    Token(String),
    /// The metadata is refused (RFC 7591 §3.2.2): `invalid_redirect_uri` or
    /// `invalid_client_metadata`, and why.
    Metadata(&'static str, String),
    /// The tenant holds as many registered clients as it keeps.
    Full(String),
}

fn metadata(why: impl Into<String>) -> Refusal {
    Refusal::Metadata("invalid_client_metadata", why.into())
}

fn redirect(why: impl Into<String>) -> Refusal {
    Refusal::Metadata("invalid_redirect_uri", why.into())
}

/// Metadata members a client may not send, set by the server (RFC 7592 §2.2).
const SERVER_SET: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

/// Whether a registration may be made with this bearer token (`None`: none was sent).
pub fn may_register(t: &Tenant, bearer: Option<&str>) -> Result<(), Refusal> {
    let Some(expected) = &t.config.registration.initial_access_token else {
        return Ok(());
    };
    let Some(given) = bearer else {
        return Err(Refusal::NoToken(
            "this provider registers clients that present its initial access token as a bearer token (RFC 7591 §3)".into(),
        ));
    };
    if verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_err() {
        return Err(Refusal::Token(
            "the initial access token is not this provider's (RFC 7591 §3)".into(),
        ));
    }
    Ok(())
}

/// Registers a client from its metadata (RFC 7591 §3.1); the registration as answered
/// (RFC 7591 §3.2.1: the client's credentials and its metadata as registered).
pub fn register(t: &Tenant, body: &Map<String, Value>) -> Result<Map<String, Value>, Refusal> {
    if let Some(k) = SERVER_SET.iter().find(|k| body.contains_key(**k)) {
        return Err(metadata(format!(
            "{k} is set by the provider, not sent by the client (RFC 7591 §3.2.1)"
        )));
    }
    let requested = Requested::parse(t, body)?;
    let id = format!("dcr-{}", t.random_token(12));
    let secret = requested.method.uses_secret().then(|| t.random_token(32));
    let now = t.clock.now();
    let lifetime = t.config.registration.secret_lifetime;
    let registered = Registered {
        client: Arc::new(requested.client(t, id.clone(), secret)),
        access_token: t.random_token(32),
        issued_at: now,
        secret_expires_at: if lifetime == 0 {
            0
        } else {
            now + lifetime as i64
        },
        metadata: requested.echo,
    };
    let answer = answer(t, &registered);
    t.registered_mut().put(registered).map_err(Refusal::Full)?;
    Ok(answer)
}

/// The registration of client `id` (RFC 7592 §2.1), to the holder of its registration
/// access token.
pub fn read(t: &Tenant, id: &str, token: Option<&str>) -> Result<Map<String, Value>, Refusal> {
    let registered = t.registered();
    let r = held(registered.get(id), id, token)?;
    Ok(answer(t, r))
}

/// Replaces the registration of client `id` with the metadata sent (RFC 7592 §2.2: values
/// replace, omitted ones are deleted); its id, secret and registration access token stay.
pub fn update(
    t: &Tenant,
    id: &str,
    token: Option<&str>,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, Refusal> {
    let before = {
        let registered = t.registered();
        held(registered.get(id), id, token)?.clone()
    };
    if let Some(k) = SERVER_SET.iter().find(|k| body.contains_key(**k)) {
        return Err(metadata(format!(
            "an update must not carry {k} (RFC 7592 §2.2)"
        )));
    }
    match body.get("client_id") {
        Some(Value::String(sent)) if sent == id => {}
        Some(other) => {
            return Err(metadata(format!(
                "client_id {other} is not the client whose registration this is ({id:?}; RFC 7592 §2.2)"
            )));
        }
        None => {
            return Err(metadata(
                "an update must carry the client's client_id (RFC 7592 §2.2)",
            ));
        }
    }
    // A null is no value (RFC 7592 §2.2 lets the server ignore it).
    if let Some(sent) = body.get("client_secret").filter(|v| !v.is_null())
        && sent.as_str() != before.client.secret.as_deref()
    {
        return Err(metadata(
            "client_secret is not the client's current secret (RFC 7592 §2.2)",
        ));
    }
    let requested = Requested::parse(t, body)?;
    let secret = requested.method.uses_secret().then(|| {
        before
            .client
            .secret
            .clone()
            .unwrap_or_else(|| t.random_token(32))
    });
    let registered = Registered {
        client: Arc::new(requested.client(t, id.to_owned(), secret)),
        metadata: requested.echo,
        ..before
    };
    let answer = answer(t, &registered);
    t.registered_mut().put(registered).map_err(Refusal::Full)?;
    Ok(answer)
}

/// Deletes the registration of client `id` (RFC 7592 §2.3): the client is unknown from
/// now on, and the grants it holds are revoked with every token issued under them.
pub fn delete(t: &Tenant, id: &str, token: Option<&str>) -> Result<(), Refusal> {
    {
        let mut registered = t.registered_mut();
        held(registered.get(id), id, token)?;
        registered.remove(id);
    }
    t.lock_grants().revoke_client(id);
    Ok(())
}

/// The registration, when `token` is its registration access token (RFC 7592 §3: an
/// unknown client and a wrong token are told alike, 401).
fn held<'r>(
    registered: Option<&'r Registered>,
    id: &str,
    token: Option<&str>,
) -> Result<&'r Registered, Refusal> {
    let Some(token) = token else {
        return Err(Refusal::NoToken(
            "a registration is managed with its registration access token as a bearer token (RFC 7592 §3)".into(),
        ));
    };
    match registered {
        Some(r) if verify_slices_are_equal(token.as_bytes(), r.access_token.as_bytes()).is_ok() => {
            Ok(r)
        }
        _ => Err(Refusal::Token(format!(
            "no registration of client {id:?} is managed by this token (RFC 7592 §3)"
        ))),
    }
}

/// The answer for a registration (RFC 7591 §3.2.1, RFC 7592 §3).
fn answer(t: &Tenant, r: &Registered) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("client_id".into(), json!(r.client.id));
    if let Some(secret) = &r.client.secret {
        out.insert("client_secret".into(), json!(secret));
        out.insert(
            "client_secret_expires_at".into(),
            json!(r.secret_expires_at),
        );
    }
    out.insert("client_id_issued_at".into(), json!(r.issued_at));
    out.insert("registration_access_token".into(), json!(r.access_token));
    out.insert(
        "registration_client_uri".into(),
        json!(format!(
            "{}/{}",
            t.url_of(&t.paths.registration),
            r.client.id
        )),
    );
    out.extend(r.metadata.clone());
    out
}
