//! The discovery document and the JWKS as bytes, built once and served as they are: they
//! change only with the keys (a rotation, a retired key's grace running out), not per
//! request.

use std::sync::RwLock;

use bytes::Bytes;

use crate::documents::Jwks;
use crate::tenant::Tenant;

/// The discovery document's JSON (its signing algorithms are fixed at creation: a
/// rotation replaces a key of the same algorithm).
pub(crate) fn discovery(t: &Tenant) -> Bytes {
    t.published
        .discovery
        .get_or_init(|| {
            let metadata = crate::metadata::metadata(t);
            let published = &t.config.discovery;
            if published.is_empty() {
                return json_bytes(&metadata);
            }
            match serde_json::to_value(&metadata) {
                Ok(serde_json::Value::Object(doc)) => json_bytes(&published.apply(doc)),
                _ => json_bytes(&metadata),
            }
        })
        .clone()
}

/// The JWKS's JSON at the tenant's now.
pub(crate) fn jwks(t: &Tenant) -> Bytes {
    let now = t.clock.now();
    let keys = t.keys();
    let (generation, from, until) = keys.stable_window(now);
    let fresh = |c: &Jwks| c.generation == generation && c.from <= now && now < c.until;
    if let Some(c) = read(&t.published.jwks).as_ref().filter(|c| fresh(c)) {
        return c.bytes.clone();
    }
    let bytes = json_bytes(&keys.jwks(now));
    drop(keys);
    *t.published.jwks.write().unwrap_or_else(|p| p.into_inner()) = Some(Jwks {
        generation,
        from,
        until,
        bytes: bytes.clone(),
    });
    bytes
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn json_bytes<T: serde::Serialize>(value: &T) -> Bytes {
    // Plain data of strings and numbers: serialising cannot fail.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}
