//! Client authentication with a signed JWT (RFC 7523 §2.2 and §3, OIDC Core §9):
//! `client_secret_jwt`, an HMAC keyed with the client's secret, and `private_key_jwt`,
//! a signature checked against the client's registered public keys. Protocol only: the
//! token, introspection and revocation endpoints adapt it to HTTP.

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;

use crate::assertion::{self, Audiences, Peeked};
use crate::clock::UnixTime;
use crate::config::ClientConfig;
use crate::journal::Lint;
use crate::types::AuthMethod;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Why an assertion does not authenticate its client (`invalid_client` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

fn refusal(why: impl Into<String>) -> Refusal {
    Refusal(format!("client_assertion: {}", why.into()))
}

/// What an assertion says before it is verified: the client it names and the key it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// `sub` (else `iss`): the client the assertion is about.
    pub client_id: String,
    /// The header and unverified claims.
    pub peeked: Peeked,
}

/// Reads an assertion's header and unverified subject, to find the client and its keys.
pub fn claimed(assertion: &str) -> Result<Claimed, Refusal> {
    let peeked = assertion::peek(assertion).map_err(refusal)?;
    let Some(client_id) = peeked.text("sub").or_else(|| peeked.text("iss")) else {
        return Err(refusal("no sub or iss naming the client"));
    };
    Ok(Claimed {
        client_id: client_id.to_owned(),
        peeked,
    })
}

/// The method an assertion signed with `alg` uses: HMAC is `client_secret_jwt`.
pub fn method(alg: Algorithm) -> AuthMethod {
    if assertion::is_hmac(alg) {
        AuthMethod::ClientSecretJwt
    } else {
        AuthMethod::PrivateKeyJwt
    }
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
    jwt: &str,
    claimed: &Claimed,
    audiences: Audiences<'_>,
    now: UnixTime,
) -> Result<Verified, Refusal> {
    let alg = claimed.peeked.alg;
    let method = method(alg);
    let claims = match method {
        AuthMethod::ClientSecretJwt => {
            assertion::by_secret(jwt, alg, client.secret.as_deref().unwrap_or(""))
        }
        _ => match keys {
            None => Err(format!(
                "client {:?} has no public keys registered (jwks or jwks_uri)",
                client.id
            )),
            Some(keys) => assertion::by_public_key(jwt, &claimed.peeked, keys, "the client's"),
        },
    }
    .map_err(refusal)?;
    let text = |k: &str| claims.get(k).and_then(serde_json::Value::as_str);
    for k in ["iss", "sub"] {
        match text(k) {
            Some(v) if v == client.id => {}
            Some(v) => {
                return Err(refusal(format!(
                    "{k} is {v:?}, not the client id {:?}",
                    client.id
                )));
            }
            None => return Err(refusal(format!("no {k} (it must be the client id)"))),
        }
    }
    let issuer_alone = assertion::audience(&claims, audiences).map_err(refusal)?;
    let exp = assertion::times(&claims, now).map_err(refusal)?;
    let Some(jti) = text("jti").filter(|j| !j.is_empty()) else {
        return Err(refusal("no jti (OIDC Core §9 requires one, used once)"));
    };
    let mut lints = Vec::new();
    if !issuer_alone {
        lints.push(Lint::ClientAssertionAudience);
    }
    Ok(Verified {
        method,
        jti: jti.to_owned(),
        exp,
        lints,
    })
}

/// Spends a verified assertion's `jti` for `client`: refused if it was used before.
pub fn spend(
    spent: &mut assertion::SpentJtis,
    client: &str,
    v: &Verified,
    now: UnixTime,
) -> Result<(), Refusal> {
    spent
        .spend(&format!("client {client}"), &v.jti, v.exp, now)
        .map_err(refusal)
}
