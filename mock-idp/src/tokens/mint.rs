//! Issues a token response: access token (JWT or opaque), ID token, refresh token.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::claims::{at_hash, identity_claims, place_groups_of, user_claims};
use super::sources::{Shape, by_reference};
use crate::config::{AccessTokenFormat, ClientConfig, TokenKind};
use crate::directory::User;
use crate::grants::{AccessRecord, Grant, RefreshRecord, access_jti};
use crate::tenant::Tenant;
use crate::types::GrantType;

/// The token endpoint's success body (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a DPoP-bound access token (RFC 9449 §5).
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The ID token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// A refresh token, per the client's policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scope (left out with `quirks.omit_token_scope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// What was issued, for a token exchange (RFC 8693 §2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// Faults fired while minting (for the journal; never sent).
    #[serde(skip)]
    pub faults: Vec<crate::faults::Fault>,
}

/// What to issue.
#[derive(Debug)]
pub struct Mint<'a> {
    /// The client.
    pub client: &'a ClientConfig,
    /// What was granted.
    pub grant: &'a Arc<Grant>,
    /// The user (none for client_credentials).
    pub user: Option<&'a User>,
    /// The authorization request's nonce (code grant only).
    pub nonce: Option<&'a str>,
    /// The code redeemed (code grant only), for `c_hash` where the provider sends it.
    pub code: Option<&'a str>,
    /// The authorization grant these tokens are issued under (see
    /// [`crate::grants::Lineage`]): a new one per code, the refresh token's family on a
    /// refresh, none for client_credentials.
    pub lineage: Option<&'a str>,
    /// The grant they are minted for.
    pub grant_type: GrantType,
    /// The refresh token to issue, if any.
    pub refresh: Option<NewRefresh>,
    /// The access token's `aud` instead of the client's (a token exchange's `audience`).
    pub audience: Option<&'a str>,
    /// The access token's `act` claim: who acts for the subject (RFC 8693 §4.1).
    pub act: Option<Value>,
    /// The DPoP key the tokens are bound to (the request's proof, RFC 9449 §5): the access
    /// token always, the refresh token for a public client (only a public client's refresh
    /// tokens are bound, so a bound one's successor is bound too).
    pub jkt: Option<&'a str>,
}

/// A refresh token to issue; its family is the mint's lineage.
#[derive(Debug, Clone)]
pub struct NewRefresh {
    /// The family's absolute expiry.
    pub expires_at: i64,
    /// Idle lifetime in seconds.
    pub idle: Option<u64>,
    /// What the refresh token grants, when not the minted tokens' grant: a refresh that
    /// asked for a narrower scope gets it in its access token, while the new refresh token
    /// keeps the scope of the one presented (RFC 6749 §6).
    pub grant: Option<Arc<Grant>>,
}

/// Signs and records the tokens of one token response. A JWT access token is not
/// stored: its lineage is (once per login), an opaque one is.
pub(crate) fn mint(t: &Tenant, m: &Mint<'_>) -> Result<TokenResponse, String> {
    let now = t.clock.now();
    let life = &t.config.lifetimes;
    let access_expires = now + life.access_token as i64;
    let jti = access_jti(m.lineage, &t.random_token(16));
    let opaque = m.client.access_token_format == AccessTokenFormat::Opaque;
    let mut faults = match m.user {
        Some(user) => t.fire_faults(
            crate::faults::Target {
                client_id: &m.client.id,
                user: Some(&user.username),
                grant_type: Some(m.grant_type.as_str()),
            },
            crate::faults::FaultPoint::Groups,
        ),
        None => Vec::new(),
    };
    let shape = Shape::from_faults(&faults);
    let access_token = if opaque {
        t.random_token(32)
    } else {
        access_jwt(t, m, &jti, now, shape)?
    };
    let refresh_without_id =
        m.grant_type == GrantType::RefreshToken && t.config.quirks.refresh_without_id_token;
    let id_token = match (m.grant.has_scope("openid") && !refresh_without_id, m.user) {
        (true, Some(user)) => {
            let mut fired = Vec::new();
            let t = id_token(t, m, user, &access_token, now, shape, &mut fired)?;
            faults.extend(fired);
            Some(t)
        }
        _ => None,
    };
    let refresh = m.refresh.as_ref().zip(m.lineage);
    let refresh_token = refresh.map(|_| t.random_token(32));

    let mut grants = t.lock_grants();
    if let Some(lineage) = m.lineage {
        let last = refresh.map_or(access_expires, |(r, _)| r.expires_at.max(access_expires));
        grants.extend_lineage(lineage, m.grant, last, now);
    }
    if opaque {
        grants.insert_access(
            &access_token,
            AccessRecord {
                grant: m.grant.clone(),
                jti,
                issued_at: now,
                expires_at: access_expires,
                revoked: false,
                lineage: m.lineage.map(str::to_owned),
                jkt: m.jkt.map(str::to_owned),
            },
            now,
        );
    }
    if let (Some(rt), Some((new, family))) = (&refresh_token, refresh) {
        grants.insert_refresh(
            rt,
            RefreshRecord {
                grant: new.grant.clone().unwrap_or_else(|| m.grant.clone()),
                family: family.to_owned(),
                issued_at: now,
                expires_at: new.expires_at,
                idle_expires_at: new.idle.map(|i| now + i as i64),
                spent_at: None,
                revoked: false,
                jkt: m.jkt.filter(|_| m.client.is_public()).map(str::to_owned),
            },
            now,
        );
    }
    drop(grants);
    let user = m.user.map(|u| u.username.clone());
    for (kind, jwt) in [
        ("id_token", id_token.as_deref()),
        ("access_token", Some(access_token.as_str())),
    ] {
        if let Some(jwt) = jwt.filter(|j| j.split('.').count() == 3) {
            t.remember(crate::tenant::RecentToken {
                issued_at: now,
                kind,
                client_id: m.client.id.clone(),
                user: user.clone(),
                token: jwt.to_owned(),
            });
        }
    }
    Ok(TokenResponse {
        access_token,
        token_type: if m.jkt.is_some() { "DPoP" } else { "Bearer" },
        expires_in: life.access_token,
        id_token,
        refresh_token,
        scope: (!t.config.quirks.omit_token_scope).then(|| m.grant.scope_string()),
        issued_token_type: None,
        faults,
    })
}

fn access_jwt(
    t: &Tenant,
    m: &Mint<'_>,
    jti: &str,
    now: i64,
    shape: Option<Shape>,
) -> Result<String, String> {
    let mut c = Map::new();
    c.insert("iss".into(), json!(t.iss()));
    c.insert("sub".into(), json!(t.subject(m.grant)));
    let aud = m
        .audience
        .or(m.client.access_token_audience.as_deref())
        .unwrap_or(&m.client.id);
    c.insert("aud".into(), json!(aud));
    if let Some(act) = &m.act {
        c.insert("act".into(), act.clone());
    }
    c.insert("client_id".into(), json!(m.client.id));
    c.insert("iat".into(), json!(now));
    c.insert(
        "exp".into(),
        json!(now + t.config.lifetimes.access_token as i64),
    );
    c.insert("jti".into(), json!(jti));
    c.insert("scope".into(), json!(m.grant.scope_string()));
    if let Some(jkt) = m.jkt {
        c.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    if let Some(user) = m.user {
        c.insert("auth_time".into(), json!(m.grant.auth_time));
        if let Some(sid) = &m.grant.sid {
            c.insert("sid".into(), json!(sid));
        }
        identity_claims(&mut c, &t.config.quirks, &m.grant.sub);
        place_groups_of(
            &mut c,
            &t.groups_for(&m.client.id),
            TokenKind::AccessToken,
            &user.groups,
        );
        if let Some(shape) = shape {
            let whose = (m.client, m.grant.as_ref(), user);
            by_reference(t, &mut c, TokenKind::AccessToken, shape, whose, None)?;
        }
    }
    t.signing_key(m.client)
        .sign_jwt("at+jwt", &Value::Object(c))
}

fn id_token(
    t: &Tenant,
    m: &Mint<'_>,
    user: &User,
    access_token: &str,
    now: i64,
    shape: Option<Shape>,
    fired: &mut Vec<crate::faults::Fault>,
) -> Result<String, String> {
    let mut c = user_claims(user, m.grant, &t.config.quirks);
    c.insert("iss".into(), json!(t.iss()));
    c.insert("sub".into(), json!(t.subject(m.grant)));
    identity_claims(&mut c, &t.config.quirks, &m.grant.sub);
    if let Some(typ) = &t.config.quirks.id_token_typ {
        c.insert("typ".into(), json!(typ));
    }
    c.insert("aud".into(), json!(m.client.id));
    c.insert("azp".into(), json!(m.client.id));
    c.insert("iat".into(), json!(now));
    c.insert(
        "exp".into(),
        json!(now + t.config.lifetimes.id_token as i64),
    );
    c.insert("auth_time".into(), json!(m.grant.auth_time));
    let quirks = &t.config.quirks;
    // A refresh repeats the login's nonce only where the provider does (OIDC Core §12.2).
    let kept = (m.grant_type == GrantType::RefreshToken && quirks.refresh_keeps_nonce)
        .then_some(m.grant.nonce.as_deref())
        .flatten();
    if let Some(nonce) = m.nonce.or(kept) {
        c.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = &m.grant.sid {
        c.insert("sid".into(), json!(sid));
    }
    c.insert("at_hash".into(), json!(at_hash(access_token)));
    if let (true, Some(code)) = (quirks.id_token_c_hash, m.code) {
        // OIDC Core §3.3.2.11, computed as at_hash is.
        c.insert("c_hash".into(), json!(at_hash(code)));
    }
    if !quirks.id_token_amr.is_empty() {
        c.insert("amr".into(), json!(quirks.id_token_amr));
    }
    for claim in &quirks.id_token_omit {
        c.remove(claim);
    }
    place_groups_of(
        &mut c,
        &t.groups_for(&m.client.id),
        TokenKind::IdToken,
        &user.groups,
    );
    if let Some(shape) = shape {
        let whose = (m.client, m.grant.as_ref(), user);
        let at = Some(access_token);
        by_reference(t, &mut c, TokenKind::IdToken, shape, whose, at)?;
    }
    *fired = t.fire_faults(
        crate::faults::Target {
            client_id: &m.client.id,
            user: m.grant.username.as_deref(),
            grant_type: Some(m.grant_type.as_str()),
        },
        crate::faults::FaultPoint::IdToken,
    );
    super::faulty::break_claims(&mut c, fired, now);
    super::faulty::sign(
        &t.signing_key(m.client),
        if quirks.omit_id_token_header_typ {
            ""
        } else {
            "JWT"
        },
        &Value::Object(c),
        fired,
        m.client.secret.as_deref(),
    )
}
