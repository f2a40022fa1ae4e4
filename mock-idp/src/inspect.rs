//! The token inspector's logic (no HTTP): a pasted token decoded, its signature checked
//! against the tenant's keys, its timestamps read as dates by the tenant's clock, and the
//! groups found where the tenant places them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::config::TokenKind;
use crate::tenant::Tenant;

/// Claims that hold a time (seconds since the epoch).
const TIMES: &[&str] = &["exp", "iat", "nbf", "auth_time", "updated_at"];

/// The longest token the inspector reads.
pub const MAX_TOKEN: usize = 64 * 1024;

/// What the signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Verified with this key.
    Valid {
        /// The key id.
        kid: String,
        /// The algorithm.
        alg: String,
    },
    /// `alg: none`: no signature at all.
    Unsigned,
    /// Not verifiable: why (unknown kid, symmetric alg, bad signature...).
    Invalid(String),
}

/// One claim as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// For a time claim: the date (UTC) and how far from the tenant's now.
    pub when: Option<String>,
    /// Whether it holds groups at one of the tenant's placements for this kind of token.
    pub groups: bool,
}

/// A decoded token.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// ID token, access token, or unknown (from `typ` and claims).
    pub kind: Option<TokenKind>,
    /// The JOSE header.
    pub header: Value,
    /// The claims, in order.
    pub claims: Vec<Claim>,
    /// The signature check.
    pub signature: Signature,
    /// Whether `iss` is this tenant's issuer.
    pub this_issuer: bool,
    /// Expired by the tenant's clock.
    pub expired: bool,
    /// The groups at each of the tenant's placements for this token: pointer, value.
    pub groups: Vec<(String, Value)>,
}

fn part(s: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
}

/// `2026-11-30T12:00:00Z (in 59 min)`.
fn date(t: i64, now: i64) -> Option<String> {
    let d = time::OffsetDateTime::from_unix_timestamp(t).ok()?;
    let iso = d
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    let delta = t - now;
    let span = |s: i64| match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    };
    let rel = if delta.abs() < 5 {
        "now".to_owned()
    } else if delta > 0 {
        format!("in {}", span(delta))
    } else {
        format!("{} ago", span(-delta))
    };
    Some(format!("{iso} ({rel})"))
}

/// Decodes and checks `token` against tenant `t`.
pub fn inspect(t: &Tenant, token: &str) -> Result<Inspection, String> {
    let token = token.trim();
    if token.len() > MAX_TOKEN {
        return Err(format!("longer than {MAX_TOKEN} characters"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(format!(
            "a JWT has three dot-separated parts; this has {} (an opaque token carries nothing to decode)",
            parts.len()
        ));
    }
    let header = part(parts[0]).map_err(|e| format!("header: {e}"))?;
    let Value::Object(claims) = part(parts[1]).map_err(|e| format!("claims: {e}"))? else {
        return Err("claims: not a JSON object".into());
    };
    let now = t.clock.now();
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = if typ.eq_ignore_ascii_case("at+jwt")
        || claims.contains_key("scope")
        || claims.contains_key("client_id")
    {
        Some(TokenKind::AccessToken)
    } else if claims.contains_key("aud") && claims.contains_key("sub") {
        Some(TokenKind::IdToken)
    } else {
        None
    };
    let doc = Value::Object(claims.clone());
    let client = claims
        .get("azp")
        .or_else(|| claims.get("client_id"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut groups = Vec::new();
    for p in &t.config.groups.placements {
        if Some(p.token) != kind {
            continue;
        }
        let pointer = p.pointer.replace("{client_id}", client);
        if let Some(v) = doc.pointer(&pointer) {
            groups.push((pointer, v.clone()));
        }
    }
    let tops: Vec<String> = groups
        .iter()
        .filter_map(|(p, _)| {
            p.split('/')
                .nth(1)
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
        })
        .collect();
    let shown = claims
        .iter()
        .map(|(k, v)| Claim {
            name: k.clone(),
            value: v.clone(),
            when: TIMES
                .contains(&k.as_str())
                .then(|| v.as_i64().and_then(|t| date(t, now)))
                .flatten(),
            groups: tops.contains(k),
        })
        .collect();
    Ok(Inspection {
        kind,
        signature: signature(t, token, &header, now),
        this_issuer: claims.get("iss").and_then(Value::as_str) == Some(t.iss()),
        expired: claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|e| e <= now),
        header,
        claims: shown,
        groups,
    })
}

fn signature(t: &Tenant, token: &str, header: &Value, now: i64) -> Signature {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if alg.eq_ignore_ascii_case("none") {
        return Signature::Unsigned;
    }
    let Some(kid) = header.get("kid").and_then(Value::as_str) else {
        return Signature::Invalid("no kid: this IdP always names its key".into());
    };
    let Some(key) = t.keys().by_kid(kid, now) else {
        return Signature::Invalid(format!(
            "kid {kid:?} is not one of this tenant's published keys"
        ));
    };
    if alg != key.alg.as_str() {
        return Signature::Invalid(format!(
            "alg {alg:?}, but key {kid:?} is {}: a forged header",
            key.alg.as_str()
        ));
    }
    match key.verify::<Map<String, Value>>(token) {
        Ok(_) => Signature::Valid {
            kid: kid.to_owned(),
            alg: alg.to_owned(),
        },
        Err(e) => Signature::Invalid(format!("the signature does not verify with {kid:?}: {e}")),
    }
}
