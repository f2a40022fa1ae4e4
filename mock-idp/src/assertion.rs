//! What every JWT assertion presented to the IdP is checked for (RFC 7523 §3), whoever
//! signed it: a client authenticating (`client_assertion.rs`) or a trusted issuer's
//! authorization grant (`bearer_grant.rs`). The signature against an HMAC secret or the
//! party's public keys, the audience, the times, and a `jti` used once. Protocol only.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::clock::UnixTime;

/// Seconds an assertion may still have to live (`exp` − now). RFC 7523 §3 lets the server
/// refuse an `exp` unreasonably far ahead; it also bounds how long a `jti` is remembered.
pub const MAX_LIFETIME: i64 = 3600;

/// Seconds the signer's clock may run ahead, for `iat` and `nbf`.
pub const LEEWAY: i64 = 60;

/// An assertion's header and claims, read before the signature is checked (to find whose
/// keys check it).
#[derive(Debug, Clone, PartialEq)]
pub struct Peeked {
    /// The header's `alg`.
    pub alg: Algorithm,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// The claims, unverified.
    pub claims: Value,
}

impl Peeked {
    /// A string claim.
    pub fn text(&self, claim: &str) -> Option<&str> {
        self.claims.get(claim).and_then(Value::as_str)
    }
}

/// Reads an assertion's header and unverified claims.
pub fn peek(assertion: &str) -> Result<Peeked, String> {
    let header = match jsonwebtoken::decode_header(assertion) {
        Ok(h) => h,
        Err(e) if assertion.split('.').next().is_some_and(alg_none) => {
            return Err(format!("alg \"none\" is not a signature ({e})"));
        }
        Err(e) => return Err(format!("not a signed JWT: {e}")),
    };
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|e| format!("its claims are not a JSON object: {e}"))?;
    Ok(Peeked {
        alg: header.alg,
        kid: header.kid,
        claims,
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

/// Whether `alg` is an HMAC (keyed with a shared secret).
pub fn is_hmac(alg: Algorithm) -> bool {
    alg.family() == jsonwebtoken::AlgorithmFamily::Hmac
}

/// Checks an HMAC signature with `secret`; the verified claims.
pub fn by_secret(assertion: &str, alg: Algorithm, secret: &str) -> Result<Value, String> {
    check_signature(assertion, alg, &DecodingKey::from_secret(secret.as_bytes())).map_err(|e| {
        format!("the {alg:?} signature does not verify with the client's secret ({e})")
    })
}

pub(crate) fn check_signature(
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
/// every key that fits the algorithm; the verified claims. `whose`: "the client's", …
pub fn by_public_key(
    assertion: &str,
    peeked: &Peeked,
    keys: &JwkSet,
    whose: &str,
) -> Result<Value, String> {
    if is_hmac(peeked.alg) {
        return Err(format!(
            "alg {:?} is an HMAC; {whose} assertions are checked with public keys",
            peeked.alg
        ));
    }
    let candidates: Vec<&Jwk> = match &peeked.kid {
        Some(kid) => {
            let Some(k) = keys.find(kid) else {
                return Err(format!("no key with kid {kid:?} among {whose} keys"));
            };
            if !fits(k, peeked.alg) {
                return Err(format!("the key {kid:?} is not for alg {:?}", peeked.alg));
            }
            vec![k]
        }
        None => keys.keys.iter().filter(|k| fits(k, peeked.alg)).collect(),
    };
    if candidates.is_empty() {
        return Err(format!("none of {whose} keys fits alg {:?}", peeked.alg));
    }
    let mut last = String::new();
    for k in candidates {
        let key = DecodingKey::from_jwk(k).map_err(|e| e.to_string())?;
        match check_signature(assertion, peeked.alg, &key) {
            Ok(claims) => return Ok(claims),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "the {:?} signature does not verify with {whose} keys ({last})",
        peeked.alg
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

/// Which audiences identify this IdP.
#[derive(Debug, Clone, Copy)]
pub struct Audiences<'a> {
    /// The issuer identifier (what RFC 7523bis asks for, alone).
    pub issuer: &'a str,
    /// Other URLs accepted during the transition: the token endpoint, the endpoint the
    /// assertion was sent to, the issuer as configured when tokens advertise another.
    pub also: &'a [&'a str],
}

/// Checks `aud` names this IdP; whether it names the issuer alone (RFC 7523bis).
pub fn audience(claims: &Value, audiences: Audiences<'_>) -> Result<bool, String> {
    let aud: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err("no aud".into()),
    };
    let ours = |a: &&str| *a == audiences.issuer || audiences.also.contains(a);
    if !aud.iter().any(ours) {
        return Err(format!(
            "aud {aud:?} does not name this IdP (its issuer {:?} or token endpoint)",
            audiences.issuer
        ));
    }
    Ok(aud == [audiences.issuer])
}

/// Checks `exp` (present, ahead, at most [`MAX_LIFETIME`] ahead), and `nbf` and `iat`
/// (not more than [`LEEWAY`] ahead) against the signer's clock `now`; the `exp`.
pub fn times(claims: &Value, now: UnixTime) -> Result<UnixTime, String> {
    let time = |k: &str| claims.get(k).and_then(Value::as_i64);
    let Some(exp) = time("exp") else {
        return Err("no exp (a number of seconds)".into());
    };
    if exp <= now {
        return Err(format!("expired {}s ago", now - exp));
    }
    if exp > now + MAX_LIFETIME {
        return Err(format!(
            "exp is {}s ahead; at most {MAX_LIFETIME}s is accepted",
            exp - now
        ));
    }
    for k in ["nbf", "iat"] {
        if let Some(t) = time(k)
            && t > now + LEEWAY
        {
            return Err(format!("{k} is {}s in the future", t - now));
        }
    }
    Ok(exp)
}

/// The `jti`s of assertions already accepted, each kept until its `exp` (single use).
/// Bounded: at most `capacity` live at once. Keyed by the signer (a client id, or an
/// assertion issuer) and the `jti`.
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

    /// Spends `signer`'s `jti`, valid until `exp`: refused if it was used before.
    pub fn spend(
        &mut self,
        signer: &str,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<(), String> {
        self.spend_one("an assertion", signer, jti, exp, now)
    }

    /// [`SpentJtis::spend`] for JWTs of another kind (`what`: "a DPoP proof"), named so in
    /// the refusal.
    pub fn spend_one(
        &mut self,
        what: &str,
        signer: &str,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<(), String> {
        while let Some(Reverse((e, ..))) = self.by_exp.peek()
            && *e < now
        {
            if let Some(Reverse((_, s, j))) = self.by_exp.pop() {
                self.seen.remove(&(s, j));
            }
        }
        let key = (signer.to_owned(), jti.to_owned());
        if self.seen.contains(&key) {
            return Err(format!(
                "jti {jti:?} was already used ({what} is good for one request)"
            ));
        }
        if self.seen.len() >= self.capacity {
            return Err(format!(
                "{} JWTs of one use are live; the IdP holds no more until some expire",
                self.capacity
            ));
        }
        self.by_exp
            .push(Reverse((exp, key.0.clone(), key.1.clone())));
        self.seen.insert(key);
        Ok(())
    }
}
