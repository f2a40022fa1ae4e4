//! JWTs as the app reads them: decoded, verified with the provider's JWKS (or, for HS256, the client secret, OIDC Core §10.1), shown with their secrets masked; the clock skew allowed.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::ShownToken;
use super::discovery::Discovery;

/// Seconds of clock skew allowed.
pub(super) const LEEWAY: i64 = 60;

/// A JWT's header and claims, undecoded signature aside.
pub fn decode_parts(jwt: &str) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let mut part = || -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let header = part()?;
    let claims = part()?;
    (jwt.split('.').count() == 3).then_some((header, claims))
}

/// A token as the report shows it: decoded when a JWT, the signature and nonce masked.
pub fn shown(name: &str, token: &str) -> ShownToken {
    match decode_parts(token) {
        Some((header, mut claims)) => {
            if let Some(n) = claims.get_mut("nonce") {
                *n = Value::String("•••".into());
            }
            ShownToken {
                name: name.to_owned(),
                chars: token.len(),
                header: Some(header),
                claims: Some(claims),
                note: Some("signature not shown".into()),
            }
        }
        None => ShownToken {
            name: name.to_owned(),
            chars: token.len(),
            header: None,
            claims: None,
            note: Some("opaque: not a JWT, nothing to decode".into()),
        },
    }
}

/// Verifies an ID token's signature: with the provider's keys, or, for HS256/384/512, with
/// the client secret as OIDC Core §10.1 allows (`secret`; none for an access token, which
/// is never keyed with it). Its claims, or why not.
pub fn verify_id(d: &Discovery, jwt: &str, secret: &str) -> Result<Map<String, Value>, String> {
    let (header, _) = decode_parts(jwt).ok_or("not a JWT (three base64url JSON parts)")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(alg, "HS256" | "HS384" | "HS512") {
        return verify(d, jwt);
    }
    if secret.is_empty() {
        return Err(format!(
            "signed with {alg} (keyed with the client secret, OIDC Core §10.1), and the app has no client secret to verify it with"
        ));
    }
    let alg = Algorithm::from_str(alg).map_err(|e| e.to_string())?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let key = DecodingKey::from_secret(secret.as_bytes());
    match jsonwebtoken::decode::<Value>(jwt, &key, &v)
        .map_err(|e| format!("the {alg:?} signature does not verify with the client secret: {e}"))?
        .claims
    {
        Value::Object(m) => Ok(m),
        _ => Err("the payload is not a JSON object".into()),
    }
}

/// Verifies a JWT's signature with the provider's keys; its claims, or why not.
pub fn verify(d: &Discovery, jwt: &str) -> Result<Map<String, Value>, String> {
    let (header, _) = decode_parts(jwt).ok_or("not a JWT (three base64url JSON parts)")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let alg = match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "EdDSA" => {
            Algorithm::from_str(alg).map_err(|e| e.to_string())?
        }
        other => {
            return Err(format!(
                "signed with alg {other:?}: an app verifies only asymmetric signatures against the provider's JWKS"
            ));
        }
    };
    let kid = header.get("kid").and_then(Value::as_str);
    let jwk = match kid {
        Some(kid) => d
            .jwks
            .find(kid)
            .ok_or_else(|| format!("kid {kid:?} is not in the provider's JWKS"))?,
        None => match d.jwks.keys.as_slice() {
            [only] => only,
            keys => {
                return Err(format!(
                    "no kid, and the JWKS has {} keys: the app cannot tell which verifies it",
                    keys.len()
                ));
            }
        },
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable JWK: {e}"))?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &v)
        .map_err(|e| format!("the signature does not verify: {e}"))?
        .claims;
    match claims {
        Value::Object(m) => Ok(m),
        _ => Err("the payload is not a JSON object".into()),
    }
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
