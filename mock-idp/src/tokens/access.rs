//! Presented access tokens: a JWT is checked by its signature and the records of its grant
//! (nothing is stored per JWT); an opaque token is looked up.

use serde::Deserialize;

use std::sync::Arc;

use serde_json::Value;

use crate::clock::UnixTime;
use crate::grants::{AccessView, Refused, RevokeError, SignedAccess};
use crate::keys::{KeySet, SigningKey};
use crate::tenant::Tenant;

/// The claims of a JWT access token beyond [`SignedAccess`], checked here.
#[derive(Deserialize)]
struct Issued {
    iss: String,
    #[serde(flatten)]
    access: SignedAccess,
}

/// A presented access token, if it is live: a JWT signed by this tenant (`typ`
/// `at+jwt`, this issuer, not expired by the tenant's clock, not revoked), or a live
/// opaque token.
pub(crate) fn check_access(t: &Tenant, token: &str) -> Result<AccessView, Refused> {
    let now = t.clock.now();
    match verify_access_jwt(t, token)? {
        Some(signed) => t.lock_grants().check_signed_access(&signed, now),
        None => t.lock_grants().check_opaque_access(token, now),
    }
}

/// Whose a presented access token of this tenant is, live or not (expired, revoked), while
/// the tenant holds its records: the journal shows a refused call about that user.
pub(crate) fn access_owner(t: &Tenant, token: &str) -> Option<String> {
    match verify_access_jwt(t, token).ok()? {
        Some(signed) => {
            let (lineage, _) = signed.jti.split_once('.')?;
            t.lock_grants().lineage_user(lineage)
        }
        None => t.lock_grants().opaque_access_user(token),
    }
}

/// Revokes a presented token of `client_id` (RFC 7009): a refresh token with its whole
/// grant, an access token alone. Unknown tokens are no error (§2.2).
pub(crate) fn revoke_token(t: &Tenant, token: &str, client_id: &str) -> Result<(), RevokeError> {
    let now = t.clock.now();
    match verify_access_jwt(t, token) {
        Ok(Some(signed)) => t
            .lock_grants()
            .revoke_signed_access(&signed, client_id, now),
        Ok(None) => t.lock_grants().revoke(token, client_id),
        // Not a token of ours: nothing to revoke.
        Err(_) => Ok(()),
    }
}

/// `Ok(None)`: not a JWT (look it up as opaque). `Err`: a JWT this tenant did not
/// issue as an access token.
fn verify_access_jwt(t: &Tenant, token: &str) -> Result<Option<SignedAccess>, Refused> {
    if token.split('.').count() != 3 {
        return Ok(None);
    }
    let unknown = |why: &str| Refused(format!("not an access token of this IdP: {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|e| unknown(&e.to_string()))?;
    if header.typ.as_deref() != Some("at+jwt") {
        return Err(unknown(
            "typ is not at+jwt (an ID token is not an access token)",
        ));
    }
    let kid = header.kid.as_deref().ok_or_else(|| unknown("no kid"))?;
    let key = t
        .keys()
        .verifier(kid, t.clock.now())
        .ok_or_else(|| unknown(&format!("kid {kid:?} is not a key this IdP holds")))?;
    let data = key
        .verify::<Issued>(token)
        .map_err(|e| unknown(&e.to_string()))?;
    if data.claims.iss != t.iss() {
        return Err(unknown("issued by another issuer"));
    }
    Ok(Some(data.claims.access))
}

/// How a tenant's key is found for an ID token it is shown: among the published keys
/// ([`KeySet::by_kid`]), or also among those it still holds ([`KeySet::verifier`]).
pub(crate) type KeyLookup = fn(&KeySet, &str, UnixTime) -> Option<Arc<SigningKey>>;

/// An ID token this tenant signed, shown back to it (a logout hint, a token-exchange
/// subject): not an access token, signed by the key `lookup` finds for its `kid`, its
/// `iss` the tenant's. Its claims; times and audience are the caller's to judge.
pub(crate) fn own_id_token(t: &Tenant, token: &str, lookup: KeyLookup) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
    not_an_access_token(&header)?;
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| lookup(&t.keys(), kid, t.clock.now()))
        .ok_or("not signed by a key of this IdP")?;
    let claims = key
        .verify::<Value>(token)
        .map_err(|e| e.to_string())?
        .claims;
    if claims.get("iss").and_then(Value::as_str) != Some(t.iss()) {
        return Err(format!("iss is not {}", t.iss()));
    }
    Ok(claims)
}

/// An ID token's audience: its `aud`, or the first of several.
pub(crate) fn first_aud(claims: &Value) -> Result<String, String> {
    match claims.get("aud") {
        Some(Value::String(a)) => Ok(a.clone()),
        Some(Value::Array(a)) => a
            .first()
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "empty aud".into()),
        _ => Err("no aud".into()),
    }
}

/// Refuses a JWT whose header says it is an access token (`typ: at+jwt`, RFC 9068 §4)
/// where an ID token is expected: both are signed by the same keys.
pub(crate) fn not_an_access_token(header: &jsonwebtoken::Header) -> Result<(), String> {
    match header.typ.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("at+jwt") => {
            Err("an access token (typ at+jwt), not an ID token".into())
        }
        _ => Ok(()),
    }
}
