//! Aggregated and distributed claims (OIDC Core §5.6.2): a user's groups carried by
//! reference instead of inline, as a provider does when they overflow a token (Entra ID
//! past 200 groups) or come from another claims provider.

use serde_json::{Map, Value, json};

use super::claims::group_names;
use super::placement::{groups_value, segments};
use crate::config::{ClientConfig, Placement, TokenKind};
use crate::directory::User;
use crate::faults::Fault;
use crate::grants::Grant;
use crate::tenant::Tenant;

/// The one source the tenant names in `_claim_sources`.
const SOURCE: &str = "src1";

/// How the groups travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// In `_claim_sources.src1.JWT`.
    Aggregated,
    /// At `_claim_sources.src1.endpoint`.
    Distributed,
}

impl Shape {
    /// The shape the fired faults ask for, if any.
    pub fn from_faults(faults: &[Fault]) -> Option<Shape> {
        faults.iter().find_map(|f| match f {
            Fault::GroupsAggregated => Some(Shape::Aggregated),
            Fault::GroupsDistributed => Some(Shape::Distributed),
            _ => None,
        })
    }
}

/// The top-level claim names the client's groups go under in `kind` (`None`: any token).
/// A nested pointer (`/resource_access/x/roles`) has no name `_claim_names` could hold:
/// OIDC Core §5.6.2 names top-level claims only.
fn names(placements: &[Placement], kind: Option<TokenKind>) -> Vec<(String, bool)> {
    placements
        .iter()
        .filter(|p| kind.is_none_or(|k| p.token == k) && !p.pointer.contains("{client_id}"))
        .filter_map(|p| match segments(&p.pointer).as_slice() {
            [one] => Some((one.clone(), p.single_as_string)),
            _ => None,
        })
        .collect()
}

/// What the claims source vouches for: the user's groups under every top-level name the
/// client's placements use, signed by the tenant for the client (`aud`).
pub fn claims_jwt(
    t: &Tenant,
    client: &ClientConfig,
    grant: &Grant,
    user: &User,
) -> Result<String, String> {
    let now = t.clock.now();
    let mut c = Map::new();
    c.insert("iss".into(), json!(t.iss()));
    c.insert("sub".into(), json!(t.subject(grant)));
    c.insert("aud".into(), json!(client.id));
    c.insert("iat".into(), json!(now));
    c.insert(
        "exp".into(),
        json!(now + t.config.lifetimes.access_token as i64),
    );
    let groups = group_names(&t.config.quirks, &user.groups);
    for (name, single) in names(&t.config.groups.placements, None) {
        c.insert(name, groups_value(&groups, single, None));
    }
    t.signing_key(client).sign_jwt("JWT", &Value::Object(c))
}

/// Moves the top-level groups claims of a `kind` token out of `claims` into
/// `_claim_names` / `_claim_sources`. `access_token` goes with a distributed source (an
/// ID token can name the access token issued with it; an access token cannot).
pub fn by_reference(
    t: &Tenant,
    claims: &mut Map<String, Value>,
    kind: TokenKind,
    shape: Shape,
    (client, grant, user): (&ClientConfig, &Grant, &User),
    access_token: Option<&str>,
) -> Result<(), String> {
    let moved: Vec<String> = names(&t.config.groups.placements, Some(kind))
        .into_iter()
        .filter_map(|(name, _)| claims.remove(&name).map(|_| name))
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    let source = match shape {
        Shape::Aggregated => json!({ "JWT": claims_jwt(t, client, grant, user)? }),
        Shape::Distributed => {
            let endpoint = t.url_of(&t.paths.claims);
            match access_token {
                Some(at) => json!({ "endpoint": endpoint, "access_token": at }),
                None => json!({ "endpoint": endpoint }),
            }
        }
    };
    let names: Map<String, Value> = moved.into_iter().map(|n| (n, json!(SOURCE))).collect();
    claims.insert("_claim_names".into(), Value::Object(names));
    claims.insert("_claim_sources".into(), json!({ SOURCE: source }));
    Ok(())
}
