//! Signed request objects (RFC 9101), as plain functions over a tenant: a `request` JWT the
//! client signed with its registered keys (or HS256 with its secret) stands for the whole
//! authorization request; checked (signature, `iss`, `aud`, `exp`, `nbf`, `client_id`) and
//! turned into the parameters it carries. Encrypted and unsigned ones are refused, saying so.

use serde_json::Value;

use crate::assertion;
use crate::client_keys::KeySource;
use crate::config::ClientConfig;
use crate::tenant::Tenant;

/// The algorithms a request object may be signed with, as discovery lists them.
pub const ALGS: [&str; 6] = ["RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"];

/// Claims of the JWT itself, not authorization parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// Leeway (seconds) for `exp` and `nbf` against the client's clock.
const LEEWAY: i64 = 30;

/// The `kid` a request object names, read before anything is checked (to fetch the
/// client's keys first).
pub fn kid(jwt: &str) -> Option<String> {
    assertion::peek(jwt).ok()?.kid
}

/// The authorization parameters `jwt` carries for `client`, which the query named
/// (`client_id`): the request object checked, the JWT's own claims left out, `client_id`
/// the client's. Why not, in words (`invalid_request_object` on the wire).
pub fn resolve(
    t: &Tenant,
    client: &ClientConfig,
    jwt: &str,
) -> Result<Vec<(String, String)>, String> {
    match jwt.split('.').count() {
        3 => {}
        5 => {
            return Err(
                "the request object is encrypted (a JWE): this provider takes signed request objects only (RFC 9101 §6.1)".into(),
            );
        }
        _ => return Err("the request object is not a JWT".into()),
    }
    let peeked = assertion::peek(jwt).map_err(|e| {
        format!(
            "the request object is not signed: {e}; sign it with the client's key (RFC 9101 §6.2)"
        )
    })?;
    let claims = if assertion::is_hmac(peeked.alg) {
        let secret = client.secret.as_deref().ok_or_else(|| {
            format!(
                "the request object is signed {:?}, an HMAC, and client {:?} has no secret",
                peeked.alg, client.id
            )
        })?;
        assertion::by_secret(jwt, peeked.alg, secret)
    } else {
        match t.remote_keys.get(&KeySource::client(client)) {
            None => Err(format!(
                "client {:?} registers no public keys (jwks or jwks_uri) to check its request object with",
                client.id
            )),
            Some(Err(e)) => Err(e),
            Some(Ok(keys)) => assertion::by_public_key(jwt, &peeked, &keys, "the client's"),
        }
    }
    .map_err(|e| format!("the request object's signature: {e}"))?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if let Some(iss) = text("iss")
        && iss != client.id
    {
        return Err(format!(
            "the request object's iss is {iss:?}, not the client {:?} (RFC 9101 §4)",
            client.id
        ));
    }
    let issuer = t.iss();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(format!(
            "the request object's aud is {}, not this provider's issuer {issuer:?} (RFC 9101 §4)",
            claims.get("aud").map_or("missing".into(), Value::to_string)
        ));
    }
    let now = t.clock.peer_now();
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
        && exp + LEEWAY < now
    {
        return Err(format!("the request object expired {} s ago", now - exp));
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
        && nbf > now + LEEWAY
    {
        return Err(format!(
            "the request object is not valid for another {} s (nbf)",
            nbf - now
        ));
    }
    if let Some(id) = text("client_id")
        && id != client.id
    {
        return Err(format!(
            "the request object's client_id is {id:?}, the request's {:?}: they must match (RFC 9101 §5)",
            client.id
        ));
    }
    let Value::Object(map) = claims else {
        return Err("the request object's claims are not a JSON object".into());
    };
    let mut params: Vec<(String, String)> = map
        .into_iter()
        .filter(|(k, _)| !JWT_CLAIMS.contains(&k.as_str()) && k != "client_id")
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect();
    params.push(("client_id".into(), client.id.clone()));
    Ok(params)
}

/// The most bytes of a request object fetched by reference.
const MAX_OBJECT_BYTES: usize = 64 * 1024;

/// Whether `client` may have its request objects fetched from `uri` (RFC 9101 §5.2): one
/// of its `request_uris`, or under one that ends in `*` (a fragment is not compared).
pub fn registered_request_uri(client: &ClientConfig, uri: &str) -> Result<(), String> {
    let bare = uri.split('#').next().unwrap_or(uri);
    let registered = client
        .request_uris
        .iter()
        .any(|r| match r.strip_suffix('*') {
            Some(prefix) => bare.starts_with(prefix),
            None => r.split('#').next() == Some(bare),
        });
    if registered {
        Ok(())
    } else {
        Err(format!(
            "request_uri {uri:?} is not one of client {:?}'s request_uris: a request object is fetched only from where the client registered (OIDC Core §6.2)",
            client.id
        ))
    }
}

/// The request object at `uri` (RFC 9101 §5.2: `application/oauth-authz-req+jwt`).
pub async fn fetch(uri: &str) -> Result<String, String> {
    let body = crate::client_keys::get(uri, "application/oauth-authz-req+jwt", MAX_OBJECT_BYTES)
        .await
        .map_err(|e| format!("request_uri {uri:?} could not be fetched: {e}"))?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| format!("request_uri {uri:?} answered something that is not text"))?;
    Ok(text.trim().to_owned())
}

/// Whether `client` must send signed request objects (the tenant's `[jar] required`, or
/// its own `require_signed_request_object`).
pub fn required(t: &Tenant, client: &ClientConfig) -> bool {
    t.config.jar.enabled && (t.config.jar.required || client.require_signed_request_object)
}
