//! DPoP proofs (RFC 9449 §4), as plain functions over a tenant: a proof is checked against
//! the request it came with (method, URL, the access token it presents), its key's
//! thumbprint is what tokens are bound to (`cnf.jkt`), its `jti` is good once, and with
//! `[dpop] nonce` it must carry a nonce the server handed out.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::ThumbprintHash;
use serde_json::Value;

use crate::tenant::Tenant;

/// The proof algorithms taken (asymmetric only, RFC 9449 §4.2), as discovery lists them.
pub const ALGS: [&str; 5] = ["ES256", "ES384", "RS256", "PS256", "EdDSA"];

/// A proof's JWK members that only a private key has.
const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// What a proof must match: the request it came with.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The HTTP method (`htm`).
    pub method: &'a str,
    /// The endpoint's URL (`htu`, compared without query and fragment).
    pub url: &'a str,
    /// The access token presented with it (`ath`), at a resource endpoint.
    pub access_token: Option<&'a str>,
    /// The key thumbprint the presented token is bound to.
    pub jkt: Option<&'a str>,
    /// The proof must carry a current nonce of the server (`[dpop] nonce`, or a
    /// `dpop_nonce` fault for this request).
    pub nonce: bool,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopError {
    /// `invalid_dpop_proof` (RFC 9449 §7.1).
    Invalid(String),
    /// `use_dpop_nonce`: the proof lacks the server's current nonce (§8, §9).
    UseNonce(String),
}

impl DpopError {
    /// The error code.
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::Invalid(_) => "invalid_dpop_proof",
            DpopError::UseNonce(_) => "use_dpop_nonce",
        }
    }

    /// Why, in words.
    pub fn description(&self) -> &str {
        match self {
            DpopError::Invalid(d) | DpopError::UseNonce(d) => d,
        }
    }
}

/// Checks a proof; the thumbprint of its key (`jkt`, RFC 7638 with SHA-256).
pub fn check(t: &Tenant, proof: &str, e: &Expect<'_>) -> Result<String, DpopError> {
    let bad = |why: String| DpopError::Invalid(why);
    let header = jsonwebtoken::decode_header(proof)
        .map_err(|err| bad(format!("the DPoP proof is not a signed JWT: {err}")))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(bad(format!(
            "the DPoP proof's typ is {:?}, not dpop+jwt (RFC 9449 §4.2)",
            header.typ
        )));
    }
    let alg = format!("{:?}", header.alg);
    if !ALGS.contains(&alg.as_str()) {
        return Err(bad(format!(
            "the DPoP proof is signed {alg}; this provider takes {} (asymmetric only, RFC 9449 §4.2)",
            ALGS.join(", ")
        )));
    }
    let jwk = header
        .jwk
        .as_ref()
        .ok_or_else(|| bad("the DPoP proof's header has no jwk (RFC 9449 §4.2)".into()))?;
    if let Some(found) = private_member(proof) {
        return Err(bad(format!(
            "the DPoP proof's jwk carries the private member {found:?}: it must be the public key alone (RFC 9449 §4.2)"
        )));
    }
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|err| bad(format!("the DPoP proof's jwk is not a usable key: {err}")))?;
    let claims = crate::assertion::check_signature(proof, header.alg, &key).map_err(|err| {
        bad(format!(
            "the DPoP proof's signature does not verify with its own jwk ({err})"
        ))
    })?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|j| !j.is_empty())
        .ok_or_else(|| bad("the DPoP proof has no jti (RFC 9449 §4.2)".into()))?;
    if text("htm") != Some(e.method) {
        return Err(bad(format!(
            "the DPoP proof's htm is {:?}; this request is a {} (RFC 9449 §4.3)",
            text("htm"),
            e.method
        )));
    }
    match text("htu") {
        Some(htu) if same_target(htu, e.url) => {}
        htu => {
            return Err(bad(format!(
                "the DPoP proof's htu is {htu:?}; this request is to {} (RFC 9449 §4.3)",
                e.url
            )));
        }
    }
    let now = t.clock.peer_now();
    let window = t.config.dpop.window as i64;
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("the DPoP proof has no numeric iat (RFC 9449 §4.2)".into()))?;
    if (iat - now).abs() > window {
        return Err(bad(format!(
            "the DPoP proof's iat is {} s from the server's time; it is taken within {window} s (RFC 9449 §4.3, §11.1)",
            iat - now
        )));
    }
    if let Some(token) = e.access_token {
        let want = URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()));
        if text("ath") != Some(want.as_str()) {
            return Err(bad(match text("ath") {
                None => "the DPoP proof has no ath, the hash of the access token it comes with (RFC 9449 §4.2, §7)".into(),
                Some(_) => "the DPoP proof's ath is not the hash of the access token it comes with (RFC 9449 §4.3)".into(),
            }));
        }
    }
    if e.nonce && !text("nonce").is_some_and(|n| fresh_nonce(t, n)) {
        return Err(DpopError::UseNonce(match text("nonce") {
            None => "this provider wants a nonce in the DPoP proof: use the DPoP-Nonce header's (RFC 9449 §8)".into(),
            Some(_) => "the DPoP proof's nonce is not a current one of this provider: use the DPoP-Nonce header's (RFC 9449 §8)".into(),
        }));
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|err| bad(format!("the DPoP proof's jwk has no thumbprint: {err}")))?;
    if let Some(bound) = e.jkt
        && bound != jkt
    {
        return Err(bad(
            "the DPoP proof is signed by another key than the token is bound to (cnf.jkt; RFC 9449 §7.1)".into(),
        ));
    }
    t.spent_jtis
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .spend_one(
            "a DPoP proof",
            &format!("DPoP key {jkt}"),
            jti,
            iat + window,
            now,
        )
        .map_err(bad)?;
    Ok(jkt)
}

/// The nonce proofs must carry now (with `[dpop] nonce`), sent as `DPoP-Nonce`.
pub fn nonce(t: &Tenant) -> String {
    nonce_at(t, bucket(t))
}

/// Whether a proof's nonce is the current one or the one before (a client that fetched
/// it just before it changed).
fn fresh_nonce(t: &Tenant, n: &str) -> bool {
    let b = bucket(t);
    n == nonce_at(t, b) || n == nonce_at(t, b - 1)
}

/// Nonces change every `[dpop] window` seconds of the tenant's clock.
fn bucket(t: &Tenant) -> i64 {
    t.clock.now().div_euclid(t.config.dpop.window.max(1) as i64)
}

fn nonce_at(t: &Tenant, bucket: i64) -> String {
    let mut input = t.dpop_seed.to_vec();
    input.extend_from_slice(&bucket.to_be_bytes());
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, &input).as_ref()[..18])
}

/// Whether `htu` names the endpoint at `url`: scheme, host, port and path, the query and
/// fragment ignored (RFC 9449 §4.3), parsed as URLs (normalized, RFC 3986 §6.2.2–6.2.3).
fn same_target(htu: &str, url: &str) -> bool {
    match (url::Url::parse(htu), url::Url::parse(url)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path() == b.path()
        }
        _ => false,
    }
}

/// A private member of the proof header's jwk, if any (jsonwebtoken drops them).
fn private_member(proof: &str) -> Option<&'static str> {
    let segment = proof.split('.').next()?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()?;
    let jwk = header.get("jwk")?.as_object()?;
    PRIVATE.into_iter().find(|m| jwk.contains_key(*m))
}
