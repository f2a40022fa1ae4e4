//! Step 1: the provider's discovery document (OpenID Connect Discovery 1.0) and JWKS,
//! checked against what the RP needs.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

use super::Findings;
use super::http::Client;
use super::provider::Fixes;
use crate::rp::RpDescription;

const STEP: &str = "discovery";

/// What later steps use of the discovery document.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The document.
    pub doc: Value,
    /// The issuer it states.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization: String,
    /// The token endpoint.
    pub token: String,
    /// The userinfo endpoint, when published.
    pub userinfo: Option<String>,
    /// The signing keys.
    pub jwks: JwkSet,
}

impl Discovery {
    /// A string member of the document.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.doc.get(key).and_then(Value::as_str)
    }

    fn list(&self, key: &str) -> Option<Vec<&str>> {
        self.doc
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
    }
}

/// Fetches and checks discovery; `None` when there is nothing to log in with.
pub async fn check(
    client: &Client,
    configured: &str,
    app: &RpDescription,
    fixes: &Fixes,
    f: &mut Findings,
) -> Option<Discovery> {
    // Discovery §4: a trailing slash is removed before the well-known suffix is added.
    let url = format!(
        "{}/.well-known/openid-configuration",
        configured.trim_end_matches('/')
    );
    let doc = match client.get_json(&url).await {
        Ok(doc) if doc.is_object() => doc,
        Ok(other) => {
            f.problem(
                "discovery.fetch",
                STEP,
                format!("{url} is not a JSON object: {other}"),
                None,
            );
            return None;
        }
        Err(e) => {
            let fix = if e.contains("certificate") {
                "The provider's TLS certificate is not trusted here. If a private CA signed it, give preflight that CA (--ca-file ca.pem), and make sure the app's runtime trusts it too"
            } else {
                "Check the issuer URL: the app fetches <issuer>/.well-known/openid-configuration"
            };
            f.problem(
                "discovery.fetch",
                STEP,
                format!("GET {url}: {e}"),
                Some(fix.into()),
            );
            return None;
        }
    };
    f.ok("discovery.fetch", STEP, format!("GET {url}: 200"));
    let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let issuer = s("issuer").unwrap_or_default();
    if issuer == configured {
        f.ok(
            "discovery.issuer",
            STEP,
            format!("issuer {issuer:?} is the configured one, exactly"),
        );
    } else if issuer.trim_end_matches('/') == configured.trim_end_matches('/') {
        f.problem(
            "discovery.issuer",
            STEP,
            format!(
                "the provider's issuer is {issuer:?} and the app is configured with {:?}: they differ by a trailing slash, and an ID token's iss must equal the configured issuer exactly (OIDC Core §3.1.3.7 step 2; Discovery §4.3), so every login would be refused",
                configured
            ),
            Some(fixes.issuer(&issuer)),
        );
    } else {
        f.problem(
            "discovery.issuer",
            STEP,
            format!(
                "the document at {url} states issuer {issuer:?}, not {:?} (Discovery §4.3: they must be identical)",
                configured
            ),
            Some(fixes.issuer(&issuer)),
        );
    }
    let (Some(authorization), Some(token), Some(jwks_uri)) = (
        s("authorization_endpoint"),
        s("token_endpoint"),
        s("jwks_uri"),
    ) else {
        f.problem(
            "discovery.code-flow",
            STEP,
            "the document lacks authorization_endpoint, token_endpoint or jwks_uri (Discovery §3: all three are required for the code flow)",
            None,
        );
        return None;
    };
    let mut d = Discovery {
        doc: doc.clone(),
        issuer,
        authorization,
        token,
        userinfo: s("userinfo_endpoint"),
        jwks: JwkSet { keys: Vec::new() },
    };
    https(&d, f);
    code_flow(&d, f);
    client_auth(&d, app, fixes, f);
    scopes(&d, app, f);
    refresh_grant(&d, f);
    claims(&d, app, f);
    dpop(&d, app, f);
    match client.get_json(&jwks_uri).await {
        Ok(v) => match serde_json::from_value::<JwkSet>(v.clone()) {
            Ok(set) => {
                keys(&d, &set, &v, f);
                d.jwks = set;
            }
            Err(e) => f.problem(
                "discovery.jwks",
                STEP,
                format!("{jwks_uri} is not a JWK set the app can read: {e}"),
                None,
            ),
        },
        Err(e) => f.problem("discovery.jwks", STEP, format!("GET {jwks_uri}: {e}"), None),
    }
    Some(d)
}

/// An app that sends DPoP proofs (rp.toml `dpop`): preflight's own requests carry none
/// yet, so whether the provider binds the app's tokens is not rehearsed; said as unknown,
/// with what the provider's discovery document says of DPoP.
fn dpop(d: &Discovery, app: &RpDescription, f: &mut Findings) {
    if !app.dpop {
        return;
    }
    let listed = match d.list("dpop_signing_alg_values_supported") {
        Some(algs) => format!("the provider lists DPoP proof algorithms {}", algs.join(", ")),
        None => "the provider's discovery document does not list dpop_signing_alg_values_supported (RFC 9449 §5.1), which says nothing either way".into(),
    };
    f.unknown(
        "login.dpop",
        STEP,
        format!("the app sends DPoP proofs (rp.toml dpop = true), and preflight's login and refresh send none: whether the provider binds the app's tokens to its key is not rehearsed here ({listed}); `conformance run` judges the app's proofs against the mock"),
    );
}

fn https(d: &Discovery, f: &mut Findings) {
    let urls: Vec<&str> = [
        Some(d.issuer.as_str()),
        Some(d.authorization.as_str()),
        Some(d.token.as_str()),
        d.get("jwks_uri"),
        d.userinfo.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let loopback = |u: &str| {
        url::Url::parse(u)
            .ok()
            .is_some_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
    };
    let plain: Vec<&str> = urls
        .iter()
        .copied()
        .filter(|u| !u.starts_with("https://"))
        .collect();
    if plain.is_empty() {
        f.ok(
            "discovery.https",
            STEP,
            "the issuer and every endpoint use https",
        );
    } else if plain.iter().all(|u| loopback(u)) {
        f.ok(
            "discovery.https",
            STEP,
            "plain http on loopback (a local test provider); a real provider must use https",
        );
    } else {
        f.problem(
            "discovery.https",
            STEP,
            format!("not https: {} (Discovery §3: the issuer is an https URL; tokens and secrets would cross the network in clear)", plain.join(", ")),
            Some("Serve the provider over https".into()),
        );
    }
}

fn code_flow(d: &Discovery, f: &mut Findings) {
    match d.list("response_types_supported") {
        Some(types) if types.contains(&"code") => f.ok(
            "discovery.code-flow",
            STEP,
            "response type code supported; authorization and token endpoints published",
        ),
        Some(types) => f.problem(
            "discovery.code-flow",
            STEP,
            format!("response_types_supported is {types:?}: no \"code\", the app's flow"),
            None,
        ),
        None => f.unknown(
            "discovery.code-flow",
            STEP,
            "response_types_supported is missing (Discovery §3 requires it); the login below tells",
        ),
    }
}

fn client_auth(d: &Discovery, app: &RpDescription, fixes: &Fixes, f: &mut Findings) {
    let want = app.client_auth.as_str();
    match d.list("token_endpoint_auth_methods_supported") {
        Some(m) if m.contains(&want) => f.ok(
            "discovery.client-auth",
            STEP,
            format!("{want} is among the token endpoint's methods ({})", m.join(", ")),
        ),
        Some(m) => f.problem(
            "discovery.client-auth",
            STEP,
            format!("the app authenticates with {want}; the provider lists only {}", m.join(", ")),
            Some(fixes.client_auth(want)),
        ),
        None if want == "client_secret_basic" => f.ok(
            "discovery.client-auth",
            STEP,
            "token_endpoint_auth_methods_supported not published: client_secret_basic, the app's method, is the default (Discovery §3)",
        ),
        None => f.unknown(
            "discovery.client-auth",
            STEP,
            format!("token_endpoint_auth_methods_supported not published (the default is client_secret_basic); the code exchange below tells whether {want} works"),
        ),
    }
}

fn scopes(d: &Discovery, app: &RpDescription, f: &mut Findings) {
    let wanted: Vec<&str> = app.scopes.split_whitespace().collect();
    match d.list("scopes_supported") {
        Some(have) => {
            let missing: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|s| !have.contains(s))
                .collect();
            if missing.is_empty() {
                f.ok(
                    "discovery.scopes",
                    STEP,
                    format!(
                        "every scope the app asks for is supported: {}",
                        wanted.join(" ")
                    ),
                );
            } else {
                // Providers may leave scopes out (Okta's custom scopes are unpublished by
                // default): what the login is granted tells.
                f.unknown(
                    "discovery.scopes",
                    STEP,
                    format!(
                        "the app asks for {}; scopes_supported lacks {} (a provider may leave scopes out of it); the login below tells",
                        wanted.join(" "),
                        missing.join(" ")
                    ),
                );
            }
        }
        None => f.unknown(
            "discovery.scopes",
            STEP,
            "scopes_supported not published; the login below tells",
        ),
    }
}

fn refresh_grant(d: &Discovery, f: &mut Findings) {
    match d.list("grant_types_supported") {
        Some(g) if g.contains(&"refresh_token") && g.contains(&"authorization_code") => f.ok(
            "discovery.refresh-grant",
            STEP,
            "grant types authorization_code and refresh_token supported",
        ),
        // A provider may publish fewer grant types than it takes (Glewlwyd publishes the
        // default, authorization_code and implicit, and refreshes): the refresh tells.
        Some(g) => f.unknown(
            "discovery.refresh-grant",
            STEP,
            format!("grant_types_supported is {g:?}, without {}, which the app needs (its background sync refreshes); the refresh below tells", if g.contains(&"authorization_code") { "refresh_token" } else { "authorization_code and refresh_token" }),
        ),
        None => f.unknown(
            "discovery.refresh-grant",
            STEP,
            "grant_types_supported not published (the default lists no refresh_token); the refresh below tells",
        ),
    }
}

fn claims(d: &Discovery, app: &RpDescription, f: &mut Findings) {
    let Some(have) = d.list("claims_supported") else {
        f.unknown(
            "discovery.claims",
            STEP,
            "claims_supported not published (it is optional); the login below tells",
        );
        return;
    };
    let wanted = wanted_claims(app);
    let missing: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|c| !have.contains(c))
        .collect();
    if missing.is_empty() {
        f.ok(
            "discovery.claims",
            STEP,
            format!("claims_supported lists {}", wanted.join(", ")),
        );
    } else {
        f.unknown(
            "discovery.claims",
            STEP,
            format!("claims_supported does not list {} (providers often leave out claims added by mappers or rules); the login below tells", missing.join(", ")),
        );
    }
}

/// The claims the app needs that a provider may or may not send: its required claims but
/// those every ID token carries (OIDC Core §2: iss, sub, aud, exp, iat), and its groups
/// claim when it reads them from the ID token.
pub fn wanted_claims(app: &RpDescription) -> Vec<String> {
    let mut wanted: Vec<String> = super::values::REQUIRED
        .iter()
        .filter(|c| !["iss", "sub", "aud", "exp", "iat"].contains(c))
        .map(|c| (*c).to_owned())
        .collect();
    let reads_groups = app
        .sync_modes
        .iter()
        .any(|m| *m != crate::rp::SyncMode::None);
    if reads_groups && app.groups_claim.token == crate::rp::GroupsToken::IdToken {
        wanted.push(groups_claim_name(app));
    }
    wanted
}

/// The top-level claim the RP's groups pointer starts with.
pub fn groups_claim_name(app: &RpDescription) -> String {
    let first = app
        .groups_claim
        .pointer
        .0
        .split('/')
        .nth(1)
        .unwrap_or_default();
    first.replace("~1", "/").replace("~0", "~")
}

fn keys(d: &Discovery, set: &JwkSet, raw: &Value, f: &mut Findings) {
    let usable: Vec<String> = set
        .keys
        .iter()
        .filter(|k| {
            !matches!(
                k.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            )
        })
        .filter(|k| DecodingKey::from_jwk(k).is_ok())
        .map(|k| k.common.key_id.clone().unwrap_or_else(|| "(no kid)".into()))
        .collect();
    let algs = d
        .list("id_token_signing_alg_values_supported")
        .unwrap_or_default();
    let signed: Vec<&str> = algs.iter().copied().filter(|a| *a != "none").collect();
    let count = raw
        .get("keys")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if usable.is_empty() {
        f.problem(
            "discovery.jwks",
            STEP,
            format!("the JWKS has {count} key(s), none usable to verify signatures"),
            None,
        );
    } else if signed.is_empty() {
        f.problem(
            "discovery.jwks",
            STEP,
            format!("id_token_signing_alg_values_supported is {algs:?}: no signature algorithm the app can verify"),
            None,
        );
    } else {
        f.ok(
            "discovery.jwks",
            STEP,
            format!(
                "{} usable signing key(s) ({}); ID tokens signed with {}",
                usable.len(),
                usable.join(", "),
                signed.join(", ")
            ),
        );
    }
}
