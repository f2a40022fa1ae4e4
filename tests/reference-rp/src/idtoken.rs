//! ID-token (and JWT access-token) validation, OIDC Core §3.1.3.7, with the defects'
//! shortcuts. Signatures are verified by jsonwebtoken; the claim rules are spelled out
//! here so that each defect switches off exactly one of them.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::defects::Defect;
use crate::provider::Provider;
use crate::settings::Settings;

/// Claims of a token that passed.
pub type Claims = Map<String, Value>;

/// What a token is checked for beyond its signature and issuer.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    /// An ID token from the authorization-code grant: audience, expiry, `iat`, this nonce.
    Login {
        /// The nonce sent in the authorization request.
        nonce: &'a str,
    },
    /// An ID token from a refresh: audience, expiry, `iat`.
    Refresh,
    /// A JWT access token read for its groups: signature and issuer only.
    AccessToken,
    /// Aggregated or distributed claims (OIDC Core §5.6.2) whose claims provider is the
    /// provider itself: signature and issuer only (the caller compares `sub`).
    ClaimsSource,
    /// A back-channel logout token: audience, expiry, `iat` (its own claims are checked
    /// by the back-channel endpoint).
    LogoutToken,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

fn part(jwt: &str, i: usize) -> Result<Value, String> {
    let p = jwt.split('.').nth(i).ok_or("not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|e| format!("not a JWT: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not a JWT: {e}"))
}

/// Validates `jwt`; its claims, or why it was refused.
pub async fn validate(
    provider: &Provider,
    settings: &Settings,
    jwt: &str,
    check: Check<'_>,
) -> Result<Claims, String> {
    if jwt.split('.').count() != 3 {
        return Err("not a JWT".into());
    }
    let header: Header =
        serde_json::from_value(part(jwt, 0)?).map_err(|e| format!("bad JWT header: {e}"))?;
    let d = &settings.defects;
    let refresh_unverified = matches!(check, Check::Refresh) && d.has(Defect::RefreshUnverified);
    let claims = if d.has(Defect::NoSignatureCheck)
        || refresh_unverified
        || (header.alg == "none" && d.has(Defect::AcceptsAlgNone))
    {
        part(jwt, 1)?
    } else {
        // Defect refresh-never-refetches-jwks: an unknown kid is looked up afresh at
        // login only.
        let refetch =
            !(matches!(check, Check::Refresh) && d.has(Defect::RefreshNeverRefetchesJwks));
        verify_signature(
            provider,
            jwt,
            &header,
            d.has(Defect::Hs256PublicKey),
            refetch,
        )
        .await?
    };
    let Value::Object(claims) = claims else {
        return Err("the JWT payload is not an object".into());
    };
    let issuer = provider.expected_issuer().await?;
    check_claims(settings, &issuer, &claims, check)?;
    Ok(claims)
}

async fn verify_signature(
    provider: &Provider,
    jwt: &str,
    header: &Header,
    hs256_with_public_key: bool,
    refetch: bool,
) -> Result<Value, String> {
    let alg = match header.alg.as_str() {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" => {
            Algorithm::from_str(&header.alg).map_err(|e| e.to_string())?
        }
        "HS256" if hs256_with_public_key => {
            let jwks = provider.jwks(false).await?;
            let pem = jwks
                .keys
                .iter()
                .find_map(rsa_public_pem)
                .ok_or("no RSA key in the JWKS")?;
            return decode(
                jwt,
                &DecodingKey::from_secret(pem.as_bytes()),
                Algorithm::HS256,
            );
        }
        other => return Err(format!("ID tokens signed with alg {other:?} are refused")),
    };
    let Some(kid) = &header.kid else {
        return verify_without_kid(provider, jwt, alg).await;
    };
    let jwk = match provider.jwks(false).await?.find(kid) {
        Some(k) => k.clone(),
        // An unknown kid: the provider may have rotated; refetch once.
        None if !refetch => return Err(format!("no key {kid:?} in the cached JWKS")),
        None => provider
            .jwks(true)
            .await?
            .find(kid)
            .cloned()
            .ok_or_else(|| format!("no key {kid:?} in the provider's JWKS"))?,
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable JWK: {e}"))?;
    decode(jwt, &key, alg)
}

/// A token without `kid`: with one key, that key; with several (a provider mid-rotation),
/// each in turn until one verifies (OIDC Core §10.1 asks the provider for a kid then,
/// but trying them is as safe and keeps users logging in).
async fn verify_without_kid(
    provider: &Provider,
    jwt: &str,
    alg: Algorithm,
) -> Result<Value, String> {
    if provider.requires_kid() {
        return Err("the ID token has no kid".into());
    }
    let jwks = provider.jwks(false).await?;
    if jwks.keys.len() > 1 && provider.unverified_without_kid() {
        return part(jwt, 1);
    }
    if jwks.keys.len() > 1 && provider.no_kid_one_key_only() {
        return Err(format!(
            "the ID token has no kid and the JWKS has {} keys to choose from",
            jwks.keys.len()
        ));
    }
    let mut last = format!(
        "the ID token has no kid and the JWKS has {} keys",
        jwks.keys.len()
    );
    for jwk in &jwks.keys {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match decode(jwt, &key, alg) {
            Ok(claims) => return Ok(claims),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn decode(jwt: &str, key: &DecodingKey, alg: Algorithm) -> Result<Value, String> {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, key, &v)
        .map(|t| t.claims)
        .map_err(|e| format!("the signature does not verify: {e}"))
}

/// The SPKI PEM of an RSA JWK: what a careless RP keeps as "the provider's key".
fn rsa_public_pem(jwk: &Jwk) -> Option<String> {
    use rsa::pkcs8::EncodePublicKey;
    let AlgorithmParameters::RSA(p) = &jwk.algorithm else {
        return None;
    };
    let int = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .map(|b| rsa::BigUint::from_bytes_be(&b))
    };
    let key = rsa::RsaPublicKey::new(int(&p.n)?, int(&p.e)?).ok()?;
    let der = key.to_public_key_der().ok()?;
    Some(pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_bytes())))
}

fn check_claims(
    settings: &Settings,
    issuer: &str,
    c: &Claims,
    check: Check<'_>,
) -> Result<(), String> {
    let d = &settings.defects;
    let iss_unchecked = d.has(Defect::IgnoresIss)
        || (matches!(check, Check::Refresh) && d.has(Defect::RefreshIssUnchecked));
    if !iss_unchecked && c.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(format!(
            "iss {} is not our issuer",
            c.get("iss").unwrap_or(&Value::Null)
        ));
    }
    if let Check::AccessToken | Check::ClaimsSource = check {
        return Ok(());
    }
    if matches!(check, Check::Refresh) && d.has(Defect::RefreshUnverified) {
        return Ok(());
    }
    let auds: Vec<&str> = match c.get("aud") {
        Some(Value::String(a)) => vec![a],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let aud_optional = auds.is_empty() && d.has(Defect::AudOptional);
    if !d.has(Defect::IgnoresAud) && !aud_optional {
        if !auds.contains(&settings.client_id.as_str()) {
            return Err(format!("aud {auds:?} does not name this client"));
        }
        if !d.has(Defect::AcceptsExtraAud) && auds.iter().any(|a| *a != settings.client_id) {
            return Err(format!(
                "aud {auds:?} names audiences this client does not trust"
            ));
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let exp = c.get("exp").and_then(Value::as_i64);
    if !d.has(Defect::IgnoresExp) {
        match exp {
            None => return Err("no exp".into()),
            Some(exp) if exp + 60 < now => return Err(format!("expired at {exp}")),
            Some(_) => {}
        }
    }
    if !d.has(Defect::AcceptsMissingIat) && c.get("iat").and_then(Value::as_i64).is_none() {
        return Err("no iat".into());
    }
    if matches!(check, Check::Refresh)
        && d.has(Defect::RefreshRequiresNonce)
        && c.get("nonce").is_none()
    {
        return Err("the refreshed ID token has no nonce".into());
    }
    if let Check::Login { nonce } = check
        && !d.has(Defect::SkipsNonceCheck)
        && c.get("nonce").and_then(Value::as_str) != Some(nonce)
    {
        return Err("the nonce is not the one sent".into());
    }
    Ok(())
}
