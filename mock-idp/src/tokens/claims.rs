//! Claims of a user by scope (OIDC Core §5.4), plus the configured group placements.

use serde_json::{Map, Value, json};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::placement::{groups_value, place};
use crate::config::{Placement, Quirks, TokenKind};
use crate::directory::User;
use crate::grants::Grant;

/// The profile and email claims the granted scope allows, plus the user's extra claims.
pub fn user_claims(user: &User, grant: &Grant, quirks: &Quirks) -> Map<String, Value> {
    let mut c = Map::new();
    if grant.has_scope("profile") {
        let preferred = user.preferred_username.as_ref().unwrap_or(&user.username);
        c.insert("preferred_username".into(), json!(preferred));
        if let Some(name) = &user.name {
            c.insert("name".into(), json!(name));
        }
    }
    if grant.has_scope("email")
        && !quirks.omit_email
        && let Some(email) = &user.email
    {
        c.insert("email".into(), json!(email));
        if !quirks.omit_email_verified {
            c.insert(
                "email_verified".into(),
                json!(user.email_verified.unwrap_or(true)),
            );
        }
    }
    if quirks.hosted_domain
        && let Some((_, domain)) = user.email.as_deref().and_then(|e| e.rsplit_once('@'))
    {
        c.insert("hd".into(), json!(domain));
    }
    for (k, v) in &user.claims {
        c.insert(k.clone(), v.clone());
    }
    c
}

/// The `sub` a client sees: the user's own, or with `pairwise_sub` one per client (a
/// stable hash of the client and the user, as Entra ID does).
pub fn subject(quirks: &Quirks, client_id: &str, sub: &str) -> String {
    if !quirks.pairwise_sub {
        return sub.to_owned();
    }
    let d = digest(&SHA256, format!("{client_id}\n{sub}").as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// The claims that identify the user beyond `sub`: `oid` (the user's own id, when `sub`
/// is pairwise) and `tid`.
pub fn identity_claims(claims: &mut Map<String, Value>, quirks: &Quirks, sub: &str) {
    if quirks.pairwise_sub {
        claims.insert("oid".into(), json!(sub));
    }
    if let Some(tid) = &quirks.tenant_id {
        claims.insert("tid".into(), json!(tid));
    }
}

/// The groups as the provider names them: names, or with `group_ids` stable UUID-shaped
/// object ids derived from the names.
pub fn group_names(quirks: &Quirks, groups: &[String]) -> Vec<String> {
    if !quirks.group_ids {
        return groups.to_vec();
    }
    groups
        .iter()
        .map(|g| {
            let d = digest(&SHA256, g.as_bytes());
            let h: String = d.as_ref()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!(
                "{}-{}-4{}-8{}-{}",
                &h[..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..32]
            )
        })
        .collect()
}

/// Where a tenant writes a user's groups, for one client.
#[derive(Debug, Clone, Copy)]
pub struct GroupsFor<'a> {
    /// The configured placements.
    pub placements: &'a [Placement],
    /// The provider's quirks.
    pub quirks: &'a Quirks,
    /// Where an overage points.
    pub groups_url: &'a str,
    /// The client (`{client_id}` in a pointer, as Keycloak's
    /// `/resource_access/{client_id}/roles`).
    pub client_id: &'a str,
}

/// Writes the user's groups into every placement for `kind`; over the overage limit,
/// `_claim_names` / `_claim_sources` point at the groups URL instead (OIDC Core §5.6.2).
pub fn place_groups_of(
    claims: &mut Map<String, Value>,
    at: &GroupsFor<'_>,
    kind: TokenKind,
    groups: &[String],
) {
    let (placements, quirks) = (at.placements, at.quirks);
    let over = quirks.groups_overage.is_some_and(|n| groups.len() > n);
    if over && placements.iter().any(|p| p.token == kind) {
        claims.insert("_claim_names".into(), json!({ "groups": "src1" }));
        claims.insert(
            "_claim_sources".into(),
            json!({ "src1": { "endpoint": at.groups_url } }),
        );
        return;
    }
    let groups = group_names(quirks, groups);
    if !placements.iter().any(|p| p.pointer.contains("{client_id}")) {
        place_groups(claims, placements, kind, &groups);
        return;
    }
    let client = at.client_id.replace('~', "~0").replace('/', "~1");
    let placements: Vec<Placement> = placements
        .iter()
        .map(|p| Placement {
            pointer: p.pointer.replace("{client_id}", &client),
            ..p.clone()
        })
        .collect();
    place_groups(claims, &placements, kind, &groups);
}

/// Writes the user's groups into every placement for `kind`.
pub fn place_groups(
    claims: &mut Map<String, Value>,
    placements: &[Placement],
    kind: TokenKind,
    groups: &[String],
) {
    for p in placements.iter().filter(|p| p.token == kind) {
        if groups.is_empty() && p.omit_when_empty {
            continue;
        }
        place(
            claims,
            &p.pointer,
            groups_value(groups, p.single_as_string, p.joined.as_deref()),
        );
    }
}

/// OIDC Core §3.1.3.6: the left half of SHA-256 of the token, base64url.
pub fn at_hash(access_token: &str) -> String {
    let d = digest(&SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pointer: &str, omit_when_empty: bool) -> Placement {
        Placement {
            token: TokenKind::IdToken,
            pointer: pointer.into(),
            single_as_string: false,
            omit_when_empty,
            joined: None,
        }
    }

    #[test]
    fn an_empty_group_list_is_omitted_only_when_asked() {
        let placements = [at("/omitted", true), at("/kept", false)];
        let mut c = Map::new();
        place_groups(&mut c, &placements, TokenKind::IdToken, &[]);
        assert_eq!(Value::Object(c), json!({ "kept": [] }));
        let mut c = Map::new();
        place_groups(&mut c, &placements, TokenKind::IdToken, &["g".into()]);
        assert_eq!(Value::Object(c), json!({ "omitted": ["g"], "kept": ["g"] }));
    }
}
