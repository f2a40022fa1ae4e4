//! Client authentication with a signed JWT (RFC 7523 §2.2 and §3, OIDC Core §9):
//! `client_secret_jwt`, an HMAC keyed with the client's secret, and `private_key_jwt`,
//! a signature checked against the client's registered public keys. Protocol only: the
//! token, introspection and revocation endpoints adapt it to HTTP.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::clock::UnixTime;
use crate::config::ClientConfig;
use crate::journal::Lint;
use crate::types::AuthMethod;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Seconds an assertion may still have to live (`exp` − now). RFC 7523 §3 lets the server
/// refuse an `exp` unreasonably far ahead; it also bounds how long a `jti` is remembered.
pub const MAX_LIFETIME: i64 = 3600;

/// Seconds the client's clock may run ahead, for `iat` and `nbf`.
pub const LEEWAY: i64 = 60;

/// Why an assertion does not authenticate its client (`invalid_client` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(format!("client_assertion: {}", why.into())))
}

/// What an assertion says before it is verified: the client it names and the key it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// `sub` (else `iss`): the client the assertion is about.
    pub client_id: String,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// The header's `alg`.
    pub alg: Algorithm,
}

/// Reads an assertion's header and unverified subject, to find the client and its keys.
pub fn claimed(assertion: &str) -> Result<Claimed, Refusal> {
    let header = match jsonwebtoken::decode_header(assertion) {
        Ok(h) => h,
        Err(e) if assertion.split('.').next().is_some_and(alg_none) => {
            return refuse(format!("alg \"none\" is not a signature ({e})"));
        }
        Err(e) => return refuse(format!("not a signed JWT: {e}")),
    };
    let claims: Value = match jsonwebtoken::dangerous::insecure_decode_claims(assertion) {
        Ok(c) => c,
        Err(e) => return refuse(format!("its claims are not a JSON object: {e}")),
    };
    let named = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    let Some(client_id) = named("sub").or_else(|| named("iss")) else {
        return refuse("no sub or iss naming the client");
    };
    Ok(Claimed {
        client_id,
        kid: header.kid,
        alg: header.alg,
    })
}

/// Whether a JWS header segment says `alg: none` (which jsonwebtoken cannot parse).
fn alg_none(segment: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|a| a.eq_ignore_ascii_case("none"))
}

/// The method an assertion signed with `alg` uses: HMAC is `client_secret_jwt`.
pub fn method(alg: Algorithm) -> AuthMethod {
    if alg.family() == jsonwebtoken::AlgorithmFamily::Hmac {
        AuthMethod::ClientSecretJwt
    } else {
        AuthMethod::PrivateKeyJwt
    }
}

/// Which audiences identify this IdP.
#[derive(Debug, Clone, Copy)]
pub struct Audiences<'a> {
    /// The issuer identifier (what RFC 7523bis asks clients to send, alone).
    pub issuer: &'a str,
    /// Other URLs accepted during the transition: the token endpoint, the endpoint the
    /// assertion was sent to, the issuer as configured when tokens advertise another.
    pub also: &'a [&'a str],
}

/// A verified assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The method it used.
    pub method: AuthMethod,
    /// `jti`: single use until `exp` (the caller spends it).
    pub jti: String,
    /// `exp`.
    pub exp: UnixTime,
    /// What a careful client would have done otherwise.
    pub lints: Vec<Lint>,
}

/// Verifies an assertion for `client` (already found by [`claimed`]). `keys` are the
/// client's public keys for `private_key_jwt` (inline or fetched from its `jwks_uri`).
pub fn verify(
    client: &ClientConfig,
    keys: Option<&JwkSet>,
    assertion: &str,
    claimed: &Claimed,
    audiences: Audiences<'_>,
    now: UnixTime,
) -> Result<Verified, Refusal> {
    let method = method(claimed.alg);
    let claims = match method {
        AuthMethod::ClientSecretJwt => {
            let secret = client.secret.as_deref().unwrap_or("");
            check_signature(
                assertion,
                claimed.alg,
                &DecodingKey::from_secret(secret.as_bytes()),
            )
            .map_err(|e| {
                Refusal(format!(
                    "client_assertion: the {:?} signature does not verify with the client's secret ({e})",
                    claimed.alg
                ))
            })?
        }
        _ => {
            let Some(keys) = keys else {
                return refuse(format!(
                    "client {:?} has no public keys registered (jwks or jwks_uri)",
                    client.id
                ));
            };
            by_public_key(assertion, claimed, keys)?
        }
    };
    let mut lints = Vec::new();
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    for k in ["iss", "sub"] {
        match text(k) {
            Some(v) if v == client.id => {}
            Some(v) => {
                return refuse(format!("{k} is {v:?}, not the client id {:?}", client.id));
            }
            None => return refuse(format!("no {k} (it must be the client id)")),
        }
    }
    let aud: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return refuse("no aud"),
    };
    let ours = |a: &&str| *a == audiences.issuer || audiences.also.contains(a);
    if !aud.iter().any(ours) {
        return refuse(format!(
            "aud {aud:?} does not name this IdP (its issuer {:?} or token endpoint)",
            audiences.issuer
        ));
    }
    if aud != [audiences.issuer] {
        lints.push(Lint::ClientAssertionAudience);
    }
    let time = |k: &str| claims.get(k).and_then(Value::as_i64);
    let Some(exp) = time("exp") else {
        return refuse("no exp (a number of seconds)");
    };
    if exp <= now {
        return refuse(format!("expired {}s ago", now - exp));
    }
    if exp > now + MAX_LIFETIME {
        return refuse(format!(
            "exp is {}s ahead; at most {MAX_LIFETIME}s is accepted",
            exp - now
        ));
    }
    for k in ["nbf", "iat"] {
        if let Some(t) = time(k)
            && t > now + LEEWAY
        {
            return refuse(format!("{k} is {}s in the future", t - now));
        }
    }
    let Some(jti) = text("jti").filter(|j| !j.is_empty()) else {
        return refuse("no jti (OIDC Core §9 requires one, used once)");
    };
    Ok(Verified {
        method,
        jti: jti.to_owned(),
        exp,
        lints,
    })
}

fn check_signature(
    assertion: &str,
    alg: Algorithm,
    key: &DecodingKey,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(assertion, key, &v).map(|d| d.claims)
}

/// Checks the signature against the key the header names, or without a `kid` against
/// every key that fits the algorithm.
fn by_public_key(assertion: &str, claimed: &Claimed, keys: &JwkSet) -> Result<Value, Refusal> {
    let candidates: Vec<&Jwk> = match &claimed.kid {
        Some(kid) => {
            let Some(k) = keys.find(kid) else {
                return refuse(format!("no key with kid {kid:?} among the client's keys"));
            };
            vec![k]
        }
        None => keys.keys.iter().filter(|k| fits(k, claimed.alg)).collect(),
    };
    if candidates.is_empty() {
        return refuse(format!(
            "none of the client's keys fits alg {:?}",
            claimed.alg
        ));
    }
    let mut last = String::new();
    for k in candidates {
        if !fits(k, claimed.alg) {
            return refuse(format!(
                "the key {:?} is not for alg {:?}",
                claimed.kid.as_deref().unwrap_or(""),
                claimed.alg
            ));
        }
        let key = DecodingKey::from_jwk(k).map_err(|e| Refusal(e.to_string()))?;
        match check_signature(assertion, claimed.alg, &key) {
            Ok(claims) => return Ok(claims),
            Err(e) => last = e.to_string(),
        }
    }
    refuse(format!(
        "the {:?} signature does not verify with the client's keys ({last})",
        claimed.alg
    ))
}

/// Whether a public key can verify `alg`: its type matches, and its `alg` and `use`, when
/// given, agree.
fn fits(k: &Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    let family = match (&k.algorithm, alg) {
        (P::RSA(_), a) => matches!(
            a,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        (P::EllipticCurve(_), a) => matches!(a, Algorithm::ES256 | Algorithm::ES384),
        (P::OctetKeyPair(_), a) => a == Algorithm::EdDSA,
        _ => false,
    };
    let alg_agrees = k
        .common
        .key_algorithm
        .is_none_or(|ka| key_alg(ka) == Some(alg));
    let for_signing = k
        .common
        .public_key_use
        .as_ref()
        .is_none_or(|u| *u == PublicKeyUse::Signature);
    family && alg_agrees && for_signing
}

fn key_alg(ka: KeyAlgorithm) -> Option<Algorithm> {
    ka.to_string().parse().ok()
}

/// Whether a registered public key can verify assertions at all (config validation).
pub fn usable_key(k: &Jwk) -> Result<(), String> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    if matches!(k.algorithm, P::OctetKey(_)) {
        return Err("a symmetric (oct) key; client_secret_jwt uses the client's secret".into());
    }
    if k.common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return Err("its use is not \"sig\"".into());
    }
    DecodingKey::from_jwk(k)
        .map(|_| ())
        .map_err(|e| format!("not a usable public key: {e}"))
}

/// The `jti`s of assertions already accepted, each kept until its `exp` (single use,
/// OIDC Core §9). Bounded: at most `capacity` live at once.
#[derive(Debug)]
pub struct SpentJtis {
    seen: HashSet<(String, String)>,
    by_exp: BinaryHeap<Reverse<(UnixTime, String, String)>>,
    capacity: usize,
}

impl SpentJtis {
    /// An empty log holding at most `capacity` live `jti`s.
    pub fn new(capacity: usize) -> SpentJtis {
        SpentJtis {
            seen: HashSet::new(),
            by_exp: BinaryHeap::new(),
            capacity,
        }
    }

    /// Spends a verified assertion's `jti`: refused if the client used it before.
    pub fn spend(&mut self, client: &str, v: &Verified, now: UnixTime) -> Result<(), Refusal> {
        while let Some(Reverse((exp, ..))) = self.by_exp.peek()
            && *exp < now
        {
            if let Some(Reverse((_, c, j))) = self.by_exp.pop() {
                self.seen.remove(&(c, j));
            }
        }
        let key = (client.to_owned(), v.jti.clone());
        if self.seen.contains(&key) {
            return refuse(format!(
                "jti {:?} was already used (an assertion is good for one request)",
                v.jti
            ));
        }
        if self.seen.len() >= self.capacity {
            return refuse(format!(
                "{} assertions are live; the IdP holds no more until some expire",
                self.capacity
            ));
        }
        self.by_exp
            .push(Reverse((v.exp, key.0.clone(), key.1.clone())));
        self.seen.insert(key);
        Ok(())
    }
}
