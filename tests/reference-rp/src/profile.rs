//! From a token response to a [`Profile`]: the ID token validated, userinfo read and
//! compared, the required claims (`sub`, `email`, `preferred_username`) checked,
//! and the groups read from the configured token and JSON pointer.

use serde_json::Value;

use crate::App;
use crate::defects::Defect;
use crate::idtoken::{Check, Claims, validate};
use crate::provider::TokenResponse;
use crate::settings::GroupsToken;
use crate::store::Profile;

/// The profile the tokens describe, or why they are refused.
pub async fn load(app: &App, tokens: &TokenResponse, check: Check<'_>) -> Result<Profile, String> {
    let s = &app.settings;
    let d = &s.defects;
    let id_token = tokens
        .id_token
        .as_deref()
        .ok_or("the token response has no id_token")?;
    let id = validate(&app.provider, s, id_token, check).await?;
    check_at_hash(&id, &tokens.access_token, d)?;
    // Userinfo is read at login; a refresh relies on the new ID token (and the session's sub).
    let at_login = s.userinfo_at_login && !d.has(Defect::SyncUserinfoSubUnchecked);
    let userinfo = match check {
        Check::Login { .. } if at_login => app.provider.userinfo(&tokens.access_token).await?,
        _ => None,
    };
    let ui = |name: &str| {
        userinfo
            .as_ref()
            .and_then(|u| u.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let claim = |name: &str| id.get(name).and_then(Value::as_str).map(str::to_owned);
    let sub = match claim("sub") {
        Some(sub) => sub,
        None if d.has(Defect::AcceptsMissingSub) => ui("sub").unwrap_or_default(),
        None => return Err("the ID token has no sub".into()),
    };
    if userinfo.is_some()
        && ui("sub").as_deref() != Some(&sub)
        && !d.has(Defect::UserinfoSubUnchecked)
    {
        return Err(format!(
            "userinfo is about sub {:?}, the ID token about {sub:?}",
            ui("sub")
        ));
    }
    let required = |name: &str, lenient: Defect| {
        claim(name)
            .or_else(|| ui(name))
            .or_else(|| d.has(lenient).then(String::new))
            .ok_or_else(|| format!("the required claim {name} is missing"))
    };
    let email = required("email", Defect::AcceptsMissingEmail)?;
    let mut username = required("preferred_username", Defect::AcceptsMissingUsername)?;
    if d.has(Defect::UsernameFromEmail) {
        username = email.clone();
    }
    let name = claim("name").or_else(|| ui("name")).unwrap_or_default();
    let groups = groups(app, tokens, &id).await?;
    Ok(Profile {
        sub,
        email,
        username,
        name,
        groups,
        sid: claim("sid"),
    })
}

/// The groups at the configured place; none when the claim is absent.
async fn groups(
    app: &App,
    tokens: &TokenResponse,
    id: &Claims,
) -> Result<Option<Vec<String>>, String> {
    let (token, pointer) = &app.settings.groups_claim;
    let wrong = app.settings.defects.has(Defect::GroupsFromWrongToken);
    let access;
    let claims = match token {
        GroupsToken::IdToken => id,
        GroupsToken::AccessToken if wrong => id,
        GroupsToken::AccessToken => {
            access = validate(
                &app.provider,
                &app.settings,
                &tokens.access_token,
                Check::AccessToken,
            )
            .await
            .map_err(|e| format!("the access token (read for groups): {e}"))?;
            &access
        }
    };
    let value = Value::Object(claims.clone());
    let found = match value.pointer(pointer) {
        Some(v) => Some(v.clone()),
        None if app.settings.defects.has(Defect::ClaimSourcesIgnored) => None,
        None => by_reference(app, tokens, claims, pointer).await?,
    };
    Ok(match found.as_ref() {
        Some(Value::String(g)) => Some(vec![g.clone()]),
        Some(Value::Array(gs)) => Some(
            gs.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Some(Value::Null) | None => None,
        Some(other) => return Err(format!("the groups claim at {pointer} is {other}")),
    })
}

/// A top-level claim sent by reference (OIDC Core §5.6.2): named in `_claim_names`, its
/// value in a JWT of `_claim_sources` (aggregated) or at a source's endpoint (distributed,
/// fetched with the source's access token, else the one just issued). The JWT must be
/// signed by the provider and be about the same `sub`.
async fn by_reference(
    app: &App,
    tokens: &TokenResponse,
    claims: &Claims,
    pointer: &str,
) -> Result<Option<Value>, String> {
    let [name] = pointer.split('/').skip(1).collect::<Vec<_>>()[..] else {
        return Ok(None);
    };
    let name = name.replace("~1", "/").replace("~0", "~");
    let Some(source) = claims
        .get("_claim_names")
        .and_then(|n| n.get(&name))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let def = claims
        .get("_claim_sources")
        .and_then(|s| s.get(source))
        .ok_or_else(|| {
            format!("_claim_names points {name} at {source:?}, which _claim_sources lacks")
        })?;
    let jwt = match (def.get("JWT"), def.get("endpoint")) {
        (Some(Value::String(jwt)), _) => jwt.clone(),
        (_, Some(Value::String(endpoint))) => {
            let token = def
                .get("access_token")
                .and_then(Value::as_str)
                .unwrap_or(&tokens.access_token);
            app.provider.claims_source(endpoint, token).await?
        }
        _ => {
            return Err(format!(
                "claim source {source:?} has neither JWT nor endpoint"
            ));
        }
    };
    let inner = validate(
        &app.provider,
        &app.settings,
        jwt.trim(),
        Check::ClaimsSource,
    )
    .await
    .map_err(|e| format!("the {name} claim's source: {e}"))?;
    if let Some(sub) = inner.get("sub")
        && sub != claims.get("sub").unwrap_or(&Value::Null)
    {
        return Err(format!("the {name} claim's source is about sub {sub}"));
    }
    Ok(inner.get(&name).cloned())
}

/// OIDC Core §3.1.3.8: where the ID token has an `at_hash`, it is the left half of the
/// access token's SHA-256 (the hash of every algorithm the provider signs with); optional
/// in the code flow, so its absence is fine.
fn check_at_hash(
    id: &Claims,
    access_token: &str,
    d: &crate::defects::Defects,
) -> Result<(), String> {
    match id.get("at_hash").and_then(Value::as_str) {
        None if d.has(Defect::RequiresAtHash) => Err("the ID token has no at_hash".into()),
        Some(_) if d.has(Defect::AtHashUnchecked) => Ok(()),
        Some(h) => {
            use base64::Engine;
            let digest =
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
            let want =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]);
            if h == want {
                Ok(())
            } else {
                Err(format!(
                    "at_hash {h:?} is not the access token's ({want:?})"
                ))
            }
        }
        None => Ok(()),
    }
}
