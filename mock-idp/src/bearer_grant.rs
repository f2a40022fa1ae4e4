//! The JWT bearer authorization grant (RFC 7523 §2.1 and §3): a JWT signed by a trusted
//! issuer (`assertion_issuers`) about one of the tenant's users, exchanged at the token
//! endpoint for an access token. Its signature is checked with the issuer's keys, never
//! accepted on sight. Protocol only: the token endpoint adapts it to HTTP.

use jsonwebtoken::jwk::JwkSet;

use crate::assertion::{self, Audiences, Peeked, SpentJtis};
use crate::clock::UnixTime;
use crate::config::{AssertionIssuer, SubjectMatch};
use crate::directory::{Directory, User};

/// Why a grant is refused (`invalid_grant` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

fn refusal(why: impl Into<String>) -> Refusal {
    Refusal(format!("assertion: {}", why.into()))
}

/// Reads an assertion's header and unverified `iss`, to find its issuer and keys.
pub fn peek(jwt: &str) -> Result<(Peeked, String), Refusal> {
    let peeked = assertion::peek(jwt).map_err(refusal)?;
    let iss = peeked
        .text("iss")
        .ok_or_else(|| refusal("no iss naming the issuer"))?
        .to_owned();
    Ok((peeked, iss))
}

/// The trusted issuer of this `iss`.
pub fn issuer<'a>(
    trusted: &'a [AssertionIssuer],
    iss: &str,
) -> Result<&'a AssertionIssuer, Refusal> {
    trusted.iter().find(|a| a.issuer == iss).ok_or_else(|| {
        refusal(format!(
            "the issuer {iss:?} is not trusted (assertion_issuers)"
        ))
    })
}

/// A verified grant: whose it is, and what to remember.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The user the assertion is about.
    pub user: User,
    /// `jti`, when given (single use until `exp`).
    pub jti: Option<String>,
    /// `exp`.
    pub exp: UnixTime,
}

/// Verifies an assertion from `issuer` (with its keys) about a user of `dir`.
pub fn verify(
    issuer: &AssertionIssuer,
    keys: Option<&JwkSet>,
    jwt: &str,
    peeked: &Peeked,
    audiences: Audiences<'_>,
    dir: &Directory,
    now: UnixTime,
) -> Result<Accepted, Refusal> {
    let Some(keys) = keys else {
        return Err(refusal(format!(
            "the issuer {:?} has no keys (jwks or jwks_uri)",
            issuer.issuer
        )));
    };
    let claims = assertion::by_public_key(jwt, peeked, keys, "the issuer's").map_err(refusal)?;
    if claims.get("iss").and_then(serde_json::Value::as_str) != Some(&issuer.issuer) {
        return Err(refusal("the signed iss is not the issuer's"));
    }
    let Some(sub) = claims.get("sub").and_then(serde_json::Value::as_str) else {
        return Err(refusal("no sub naming the user (RFC 7523 §3)"));
    };
    let user = match issuer.subject {
        SubjectMatch::Username => dir.get(sub),
        SubjectMatch::Sub => dir.by_sub(sub),
    }
    .ok_or_else(|| refusal(format!("sub {sub:?} is no user of this IdP")))?;
    if user.disabled {
        return Err(refusal(format!("the user {:?} is disabled", user.username)));
    }
    assertion::audience(&claims, audiences).map_err(refusal)?;
    let exp = assertion::times(&claims, now).map_err(refusal)?;
    let jti = claims
        .get("jti")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    Ok(Accepted {
        user: user.clone(),
        jti,
        exp,
    })
}

/// Spends the grant's `jti`, when it has one: an assertion is good for one grant.
pub fn spend(
    spent: &mut SpentJtis,
    issuer: &str,
    a: &Accepted,
    now: UnixTime,
) -> Result<(), Refusal> {
    match &a.jti {
        Some(jti) => spent
            .spend(&format!("issuer {issuer}"), jti, a.exp, now)
            .map_err(refusal),
        None => Ok(()),
    }
}
