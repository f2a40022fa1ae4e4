//! Claims of a user by scope (OIDC Core §5.4), plus the configured group placements.

use serde_json::{Map, Value, json};

use super::placement::{groups_value, place};
use crate::config::{Placement, TokenKind};
use crate::directory::User;
use crate::grants::Grant;

/// The profile and email claims the granted scope allows, plus the user's extra claims.
pub fn user_claims(user: &User, grant: &Grant) -> Map<String, Value> {
    let mut c = Map::new();
    if grant.has_scope("profile") {
        let preferred = user.preferred_username.as_ref().unwrap_or(&user.username);
        c.insert("preferred_username".into(), json!(preferred));
        if let Some(name) = &user.name {
            c.insert("name".into(), json!(name));
        }
    }
    if grant.has_scope("email")
        && let Some(email) = &user.email
    {
        c.insert("email".into(), json!(email));
        c.insert(
            "email_verified".into(),
            json!(user.email_verified.unwrap_or(true)),
        );
    }
    for (k, v) in &user.claims {
        c.insert(k.clone(), v.clone());
    }
    c
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
        place(claims, &p.pointer, groups_value(groups, p.single_as_string));
    }
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
