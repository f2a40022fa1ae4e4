//! The user's groups, read where the app reads them (token, JSON pointer, string or
//! array), Entra's overage followed, other places searched when they are not there, and
//! the group map applied.

use serde_json::{Map, Value};

use super::discovery::{Discovery, groups_claim_name};
use super::http::{Client, excerpt};
use super::jwt::{decode_parts, verify};
use super::login::Tokens;
use super::mapping::form_check;
use super::provider::Fixes;
use super::{Findings, ShownToken, Status};
use crate::rp::{GroupsToken, RpDescription};

const STEP: &str = "groups";

/// Where a token's claims sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The ID token.
    IdToken,
    /// The access token (a JWT).
    AccessToken,
    /// The userinfo answer.
    Userinfo,
}

impl Source {
    /// The mock-idp config name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::IdToken => "id_token",
            Source::AccessToken => "access_token",
            Source::Userinfo => "userinfo",
        }
    }
}

/// A place groups were found: where, and the value there.
#[derive(Debug, Clone)]
pub struct Found {
    /// The token.
    pub source: Source,
    /// The RFC 6901 pointer.
    pub pointer: String,
    /// The value (a string or an array of strings).
    pub value: Value,
}

/// The userinfo answer for the login's access token (shown in the report).
pub async fn userinfo(
    client: &Client,
    d: &Discovery,
    tokens: &Tokens,
    f: &mut Findings,
) -> Option<Map<String, Value>> {
    let endpoint = d.userinfo.as_deref()?;
    let at = tokens.access_token.as_deref()?;
    let a = client.get(endpoint, Some(at)).await.ok()?;
    let Ok(Value::Object(m)) = a.json() else {
        return None;
    };
    f.tokens.push(ShownToken {
        name: "userinfo".into(),
        chars: a.body.len(),
        header: None,
        claims: Some(Value::Object(m.clone())),
        note: None,
    });
    Some(m)
}

/// A key as an RFC 6901 pointer segment.
pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn is_groups(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().all(Value::is_string),
        _ => false,
    }
}

/// Every place in these claims that holds groups or roles, by the names providers use:
/// `groups`, `roles`, `group`, namespaced `…/roles` or `…/groups`, Keycloak's
/// `realm_access.roles` and `resource_access.<client>.roles`.
pub fn locate(source: Source, claims: &Map<String, Value>) -> Vec<Found> {
    let mut out = Vec::new();
    for (k, v) in claims {
        let named = matches!(k.as_str(), "groups" | "roles" | "group")
            || k.ends_with("/roles")
            || k.ends_with("/groups");
        if named && is_groups(v) {
            out.push(Found {
                source,
                pointer: format!("/{}", escape(k)),
                value: v.clone(),
            });
        }
    }
    if let Some(v) = claims.get("realm_access").and_then(|r| r.get("roles"))
        && is_groups(v)
    {
        out.push(Found {
            source,
            pointer: "/realm_access/roles".into(),
            value: v.clone(),
        });
    }
    if let Some(Value::Object(clients)) = claims.get("resource_access") {
        for (c, v) in clients {
            if let Some(v) = v.get("roles")
                && is_groups(v)
            {
                out.push(Found {
                    source,
                    pointer: format!("/resource_access/{}/roles", escape(c)),
                    value: v.clone(),
                });
            }
        }
    }
    out
}

/// The access token's claims, when it is a JWT (unverified: for locating only).
pub fn access_claims(tokens: &Tokens) -> Option<Map<String, Value>> {
    match decode_parts(tokens.access_token.as_deref()?)?.1 {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn as_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// What the login produced: its tokens, the ID token's claims when accepted, userinfo.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The token response.
    pub tokens: &'a Tokens,
    /// The accepted ID token's claims.
    pub id: Option<&'a Map<String, Value>>,
    /// The userinfo answer.
    pub userinfo: Option<&'a Map<String, Value>>,
}

/// Reads the groups where the app reads them; the groups, or `None` with the reason
/// among the findings.
pub async fn check(
    client: &Client,
    app: &RpDescription,
    d: &Discovery,
    seen: Seen<'_>,
    fixes: &Fixes,
    f: &mut Findings,
) -> Option<Vec<String>> {
    let read = locate_groups(client, app, d, seen, fixes, f).await;
    // The form line never vanishes: when the groups could not be read as the app reads
    // them, it says so.
    let located = f.status("groups.location");
    if !app.group_map.is_empty()
        && located.is_some_and(|s| s != Status::Ok)
        && f.status("groups.form").is_none()
    {
        f.unknown(
            "groups.form",
            STEP,
            "not judged: the groups could not be read as the app reads them (groups.location says why)",
        );
    }
    read
}

async fn locate_groups(
    client: &Client,
    app: &RpDescription,
    d: &Discovery,
    seen: Seen<'_>,
    fixes: &Fixes,
    f: &mut Findings,
) -> Option<Vec<String>> {
    let Seen {
        tokens,
        id,
        userinfo,
    } = seen;
    if app
        .sync_modes
        .iter()
        .all(|m| *m == crate::rp::SyncMode::None)
    {
        f.ok(
            "groups.location",
            STEP,
            "the app ignores groups (its only sync mode is none): not read",
        );
        return None;
    }
    let claim = &app.groups_claim;
    let (token_name, source) = match claim.token {
        GroupsToken::IdToken => ("ID token", Source::IdToken),
        GroupsToken::AccessToken => ("access token", Source::AccessToken),
    };
    let at = String::from(claim.clone());
    let claims: Map<String, Value> = match claim.token {
        GroupsToken::IdToken => id?.clone(),
        GroupsToken::AccessToken => {
            let access = tokens.access_token.as_deref()?;
            if decode_parts(access).is_none() {
                f.problem(
                    "groups.location",
                    STEP,
                    format!("the app reads groups at {at}, but the access token is opaque ({} characters, not a JWT)", access.len()),
                    Some("Configure the app to read groups from the ID token, or the provider to issue JWT access tokens for this client".into()),
                );
                return None;
            }
            match verify(d, access) {
                Ok(c) => c,
                Err(e) => {
                    f.problem(
                        "groups.location",
                        STEP,
                        format!("the app reads groups at {at}, but the access token cannot be verified with the provider's JWKS: {e} (Entra's access tokens for Microsoft Graph, for one, are not for the app to verify)"),
                        Some("Read the groups from the ID token, or request an access token for the app's own API".into()),
                    );
                    return None;
                }
            }
        }
    };
    let value = Value::Object(claims.clone());
    if let Some(v) = value.pointer(&claim.pointer.0) {
        let groups = as_list(v);
        if !is_groups(v) {
            f.problem(
                "groups.location",
                STEP,
                format!("{at} holds {v}, not a string or an array of strings"),
                None,
            );
            return None;
        }
        if let Some(joined) = v.as_str().filter(|s| s.contains(',')) {
            f.problem(
                "groups.location",
                STEP,
                format!(
                    "{at} is one string with commas, {joined:?}: a provider that joins several groups into one string (Glewlwyd's additional access-token values do) gives the app, which reads a string as one group, a group named {joined:?} and none of the group map's"
                ),
                Some("Read the groups where the provider sends them as an array (Glewlwyd: the ID token's additional claim), or make the app split this claim on commas".into()),
            );
            return Some(groups);
        }
        let form = if v.is_string() {
            "a single group as a string, not an array: the app must read both forms (AD FS sends one group this way)"
        } else {
            "an array"
        };
        let detail = if groups.is_empty() {
            format!("{at}: an empty array (the user is in no group)")
        } else {
            format!(
                "{at}: {} group(s), {form}: {}",
                groups.len(),
                groups.join(", ")
            )
        };
        f.ok("groups.location", STEP, detail);
        form_check(app, &groups, f);
        return Some(groups);
    }
    let name = groups_claim_name(app);
    if let Some(groups) = overage(client, &claims, tokens, &at, &name, f).await {
        form_check(app, &groups, f);
        return Some(groups);
    }
    // Not where the app reads: anywhere else?
    let mut elsewhere = Vec::new();
    for (src, c) in [
        (Source::IdToken, id.cloned()),
        (Source::AccessToken, access_claims(tokens)),
        (Source::Userinfo, userinfo.cloned()),
    ] {
        if let Some(c) = c {
            elsewhere.extend(
                locate(src, &c)
                    .into_iter()
                    .filter(|g| !(g.source == source && g.pointer == claim.pointer.0)),
            );
        }
    }
    let name = groups_claim_name(app);
    if elsewhere.is_empty() && fixes.never_sends_groups() {
        f.problem(
            "groups.location",
            STEP,
            format!("no groups at {at}, nor anywhere else in the tokens or userinfo, and this provider sends no groups claim: in strict mode the app would give no one any permission"),
            Some(fixes.groups_missing(&name, token_name)),
        );
    } else if elsewhere.is_empty() {
        // A user in no group looks the same as a provider that sends no groups claim:
        // providers (and mock-idp's imitations of them) leave an empty claim out.
        f.unknown(
            "groups.location",
            STEP,
            format!(
                "no groups at {at}, nor anywhere else in the tokens or userinfo: either this test user is in no group (providers leave an empty groups claim out) or the provider sends no groups claim, and then in strict mode the app would give no one any permission. Log in as a user in a group to tell ({})",
                fixes.groups_missing(&name, token_name)
            ),
        );
    } else {
        let places: Vec<String> = elsewhere
            .iter()
            .map(|g| format!("{}:{} = {}", g.source.as_str(), g.pointer, g.value))
            .collect();
        f.problem(
            "groups.location",
            STEP,
            format!(
                "no groups at {at}, where the app reads them; they are at {}",
                places.join("; ")
            ),
            // The app reads groups from the ID or access token only (rp.toml's groups_claim):
            // a place at userinfo is for the provider to move, not for the app to read.
            Some(match elsewhere.iter().find(|g| g.source != Source::Userinfo) {
                Some(g) => format!(
                    "Configure the app's groups claim as {}:{} (rp.toml: groups_claim = \"{}:{}\") — or {}",
                    g.source.as_str(),
                    g.pointer,
                    g.source.as_str(),
                    g.pointer,
                    fixes.groups_missing(&name, token_name)
                ),
                None => format!(
                    "The app reads groups from the ID or access token, not from userinfo: {}",
                    fixes.groups_missing(&name, token_name)
                ),
            }),
        );
    }
    None
}

/// Claims by reference (OpenID Connect Core §5.6.2): `_claim_names` maps the claim the
/// app reads to a `_claim_sources` entry, either aggregated (a `JWT` carrying the claim) or
/// distributed (an `endpoint`, called with the source's `access_token` or else the
/// login's, answering a JWT, a JSON object with the claim, or Microsoft Graph's `value`
/// list, as Entra's groups overage does).
async fn overage(
    client: &Client,
    claims: &Map<String, Value>,
    tokens: &Tokens,
    at: &str,
    name: &str,
    f: &mut Findings,
) -> Option<Vec<String>> {
    let src = claims.get("_claim_names")?.get(name)?.as_str()?;
    let source = claims.get("_claim_sources")?.get(src)?;
    let fix = Some(format!(
        "The claim {name} is sent by reference, not in the token (Entra: a user in over 200 groups). Make the app follow _claim_sources (OpenID Connect Core §5.6.2), or have the provider send fewer values in the token (Entra: emit \"Groups assigned to the application\" only)"
    ));
    let (whence, read) = if let Some(jwt) = source.get("JWT").and_then(Value::as_str) {
        ("an aggregated JWT".to_owned(), Ok(jwt.to_owned()))
    } else {
        let endpoint = source.get("endpoint")?.as_str()?;
        let bearer = source
            .get("access_token")
            .and_then(Value::as_str)
            .or(tokens.access_token.as_deref());
        let read = match bearer {
            Some(b) => match client.get(endpoint, Some(b)).await {
                Ok(a) if a.status == 200 => Ok(a.body),
                Ok(a) => Err(format!("HTTP {}: {}", a.status, excerpt(&a.body))),
                Err(e) => Err(e),
            },
            None => Err("no access token to call it with".into()),
        };
        (endpoint.to_owned(), read)
    };
    match read.as_deref().map(|body| claim_from_source(body, name)) {
        Ok(Some(groups)) => {
            f.problem(
                "groups.location",
                STEP,
                format!(
                    "no groups at {at}: the token sends {name} by reference (an overage: _claim_names, OpenID Connect Core §5.6.2) to {whence}, which lists {} group(s). An app that reads only the token sees none, and in strict mode removes every permission",
                    groups.len()
                ),
                fix,
            );
            Some(groups)
        }
        Ok(None) => {
            f.problem(
                "groups.location",
                STEP,
                format!("no groups at {at}: the token sends {name} by reference to {whence}, whose answer carries no {name} (neither a JWT, a JSON object with it, nor a value list)"),
                fix,
            );
            None
        }
        Err(why) => {
            f.problem(
                "groups.location",
                STEP,
                format!("no groups at {at}: the token sends {name} by reference to {whence}, which could not be read ({why})"),
                fix,
            );
            None
        }
    }
}

/// The values of claim `name` in a claims source's answer: a JWT's claims (its signature is
/// the claims provider's, not checked here), a JSON object's member, or Microsoft Graph's
/// `value` list of names or objects with an `id`.
fn claim_from_source(body: &str, name: &str) -> Option<Vec<String>> {
    let doc = match decode_parts(body.trim()) {
        Some((_, claims)) => claims,
        None => serde_json::from_str::<Value>(body).ok()?,
    };
    if let Some(v) = doc.get(name).filter(|v| is_groups(v)) {
        return Some(as_list(v));
    }
    let list = doc.get("value")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|g| g.as_str().or_else(|| g.get("id").and_then(Value::as_str)))
            .map(str::to_owned)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claims_source_answers_a_jwt_an_object_or_a_value_list() {
        let b64 = |v: &str| URL_SAFE_NO_PAD.encode(v);
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"groups":["a","b"]}"#)
        );
        assert_eq!(
            claim_from_source(&jwt, "groups"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            claim_from_source(r#"{"roles":"admin"}"#, "roles"),
            Some(vec!["admin".into()])
        );
        assert_eq!(
            claim_from_source(r#"{"value":["g1",{"id":"g2"}]}"#, "groups"),
            Some(vec!["g1".into(), "g2".into()])
        );
        assert_eq!(claim_from_source(r#"{"other":1}"#, "groups"), None);
        assert_eq!(claim_from_source("not json", "groups"), None);
    }

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
}
