//! OAuth 2.0 Token Exchange (RFC 8693): a client presents a user's token (the subject)
//! and, for delegation, the token of whoever acts for them (the actor), and gets an
//! access token for the same user, for another audience, saying who acts (`act`).
//! Protocol only: the token endpoint reads the request and mints the token.

use serde_json::{Value, json};

/// The token types of RFC 8693 §3 this IdP reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// An access token of this IdP.
    AccessToken,
    /// An ID token of this IdP (expired ones refused).
    IdToken,
    /// A JWT signed by a trusted assertion issuer (`[[assertion_issuers]]`).
    Jwt,
}

/// `urn:ietf:params:oauth:token-type:access_token`, what this IdP issues.
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

impl TokenType {
    /// Parses a `*_token_type`.
    pub fn parse(uri: &str) -> Result<TokenType, String> {
        match uri {
            ACCESS_TOKEN => Ok(TokenType::AccessToken),
            "urn:ietf:params:oauth:token-type:id_token" => Ok(TokenType::IdToken),
            "urn:ietf:params:oauth:token-type:jwt" => Ok(TokenType::Jwt),
            other => Err(format!(
                "token type {other:?} is not read here (access_token, id_token or jwt of RFC 8693 §3)"
            )),
        }
    }
}

/// Who a presented token names: its subject as the token says it, and, when the token
/// carries one, its `may_act` (who may act for it, RFC 8693 §4.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The token's `sub` (a user's, or a client's for a client_credentials token).
    pub sub: String,
    /// Its `may_act` claim.
    pub may_act: Option<Value>,
}

/// Whether `actor` may act for a subject whose token says `may_act`: with no `may_act`
/// any authenticated actor may (the requesting client vouches); with one, its `sub` must
/// be the actor's.
pub fn may_act(may_act: Option<&Value>, actor: &Named) -> Result<(), String> {
    let Some(m) = may_act else {
        return Ok(());
    };
    match m.get("sub").and_then(Value::as_str) {
        Some(allowed) if allowed == actor.sub => Ok(()),
        Some(allowed) => Err(format!(
            "the subject token's may_act names {allowed:?}, not the actor {:?}",
            actor.sub
        )),
        None => Err("the subject token's may_act names no sub".into()),
    }
}

/// The `act` claim of the issued token: the actor, and a chain of earlier actors when the
/// actor's own token said someone acted for it (§4.1).
pub fn act(actor: &Named, actor_act: Option<&Value>) -> Value {
    let mut a = json!({ "sub": actor.sub });
    if let Some(prior) = actor_act {
        a["act"] = prior.clone();
    }
    a
}

/// The issued token's scope: the requested one, which must be within the subject
/// token's when it has one (an access token; none requested: its scope); never `openid`
/// or `offline_access` (an access token is issued, nothing else).
pub fn scope(requested: Vec<String>, subject: Option<&[String]>) -> Result<Vec<String>, String> {
    let scope = match (requested.is_empty(), subject) {
        (true, Some(subject)) => subject
            .iter()
            .filter(|s| *s != "openid" && *s != "offline_access")
            .cloned()
            .collect(),
        _ => requested,
    };
    if let Some(s) = scope
        .iter()
        .find(|s| *s == "openid" || *s == "offline_access")
    {
        return Err(format!(
            "scope {s:?}: token exchange issues an access token only"
        ));
    }
    if let Some(subject) = subject
        && let Some(s) = scope.iter().find(|s| !subject.contains(s))
    {
        return Err(format!("scope {s:?} is not in the subject token's scope"));
    }
    Ok(scope)
}
