//! Client metadata (RFC 7591 §2, OIDC Dynamic Registration §2), checked member by member
//! and turned into the client the tenant takes.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{Refusal, metadata, redirect};
use crate::config::ClientConfig;
use crate::tenant::Tenant;
use crate::types::{AuthMethod, GrantType, SigningAlg};

/// Informational members kept as sent (RFC 7591 §2, OIDC Dynamic Registration §2): each a
/// string, or (`contacts`) an array of strings.
const KEPT_STRINGS: [&str; 9] = [
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
    "application_type",
];

/// Client metadata, checked.
pub(super) struct Requested {
    redirect_uris: Vec<String>,
    pub(super) method: AuthMethod,
    grant_types: Vec<GrantType>,
    jwks: Option<jsonwebtoken::jwk::JwkSet>,
    jwks_uri: Option<String>,
    signing_alg: Option<SigningAlg>,
    post_logout_redirect_uris: Vec<String>,
    request_uris: Vec<String>,
    backchannel_logout_uri: Option<String>,
    frontchannel_logout_uri: Option<String>,
    dpop_bound: bool,
    require_par: bool,
    require_jar: bool,
    /// The metadata as registered, defaults filled in.
    pub(super) echo: Map<String, Value>,
}

/// A member of the metadata: absent or null is `None`; a value of the wrong type is
/// refused, naming the member.
fn member<T: DeserializeOwned>(
    body: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, Refusal> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| metadata(format!("{name}: {e}"))),
    }
}

/// An absolute URI without a fragment (RFC 6749 §3.1.2), as member `name` needs.
fn absolute(uri: &str, name: &str, refuse: fn(String) -> Refusal) -> Result<(), Refusal> {
    match url::Url::parse(uri) {
        Err(e) => Err(refuse(format!(
            "{name}: {uri:?} is not an absolute URI ({e})"
        ))),
        Ok(u) if u.fragment().is_some() => Err(refuse(format!(
            "{name}: {uri:?} has a fragment (RFC 6749 §3.1.2)"
        ))),
        Ok(_) => Ok(()),
    }
}

impl Requested {
    pub(super) fn parse(t: &Tenant, body: &Map<String, Value>) -> Result<Requested, Refusal> {
        let mut echo = Map::new();
        for name in KEPT_STRINGS {
            if let Some(v) = member::<String>(body, name)? {
                echo.insert(name.into(), json!(v));
            }
        }
        if let Some(contacts) = member::<Vec<String>>(body, "contacts")? {
            echo.insert("contacts".into(), json!(contacts));
        }
        match echo.get("application_type").and_then(Value::as_str) {
            None => {
                echo.insert("application_type".into(), json!("web"));
            }
            Some("web" | "native") => {}
            Some(other) => {
                return Err(metadata(format!(
                    "application_type {other:?}: web or native (OIDC Dynamic Registration §2)"
                )));
            }
        }
        let method = match member::<String>(body, "token_endpoint_auth_method")? {
            // RFC 7591 §2: the default.
            None => AuthMethod::ClientSecretBasic,
            Some(m) => AuthMethod::parse(&m).ok_or_else(|| {
                metadata(format!(
                    "token_endpoint_auth_method {m:?}: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none"
                ))
            })?,
        };
        let grants: Vec<String> =
            member(body, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
        let grant_types = grants
            .iter()
            .map(|g| {
                GrantType::parse(g).ok_or_else(|| {
                    metadata(format!(
                        "grant_types: {g:?} is not a grant this provider serves (authorization_code, refresh_token, client_credentials, jwt-bearer, token-exchange, device_code)"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let code = grant_types.contains(&GrantType::AuthorizationCode);
        // RFC 7591 §2: `code` by default, for a client of the code grant.
        let response_types: Vec<String> = member(body, "response_types")?.unwrap_or_else(|| {
            if code {
                vec!["code".into()]
            } else {
                Vec::new()
            }
        });
        if let Some(r) = response_types.iter().find(|r| *r != "code") {
            return Err(metadata(format!(
                "response_types: {r:?} is not served (this provider does the code flow: code)"
            )));
        }
        // Only `code` is served, so a response type is `code`.
        let code_response = !response_types.is_empty();
        if code != code_response {
            return Err(metadata(
                "grant_types and response_types disagree: authorization_code goes with response type code (RFC 7591 §2.1)",
            ));
        }
        let redirect_uris: Vec<String> = member(body, "redirect_uris")?.unwrap_or_default();
        if code && redirect_uris.is_empty() {
            return Err(redirect(
                "redirect_uris: a client of the authorization_code grant registers at least one (RFC 7591 §2)",
            ));
        }
        for uri in &redirect_uris {
            absolute(uri, "redirect_uris", redirect)?;
        }
        let jwks: Option<jsonwebtoken::jwk::JwkSet> = member(body, "jwks")?;
        let jwks_uri: Option<String> = member(body, "jwks_uri")?;
        if jwks.is_some() && jwks_uri.is_some() {
            return Err(metadata(
                "jwks and jwks_uri must not both be sent (RFC 7591 §2)",
            ));
        }
        if let Some(uri) = &jwks_uri {
            absolute(uri, "jwks_uri", metadata)?;
        }
        if method == AuthMethod::PrivateKeyJwt && jwks.is_none() && jwks_uri.is_none() {
            return Err(metadata(
                "token_endpoint_auth_method private_key_jwt needs the client's public keys: jwks or jwks_uri",
            ));
        }
        let signing_alg = match member::<String>(body, "id_token_signed_response_alg")? {
            None => None,
            Some(a) => {
                let alg = t.keys().algs().into_iter().find(|k| k.as_str() == a);
                Some(alg.ok_or_else(|| {
                    metadata(format!(
                        "id_token_signed_response_alg {a:?}: this provider signs with {}",
                        t.keys()
                            .algs()
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?)
            }
        };
        let post_logout_redirect_uris: Vec<String> =
            member(body, "post_logout_redirect_uris")?.unwrap_or_default();
        for uri in &post_logout_redirect_uris {
            absolute(uri, "post_logout_redirect_uris", metadata)?;
        }
        let request_uris: Vec<String> = member(body, "request_uris")?.unwrap_or_default();
        if !request_uris.is_empty() && !t.config.jar.enabled {
            return Err(metadata(
                "request_uris: this provider takes no request objects ([jar] enabled = false)",
            ));
        }
        for uri in &request_uris {
            absolute(uri, "request_uris", metadata)?;
        }
        let backchannel_logout_uri: Option<String> = member(body, "backchannel_logout_uri")?;
        let frontchannel_logout_uri: Option<String> = member(body, "frontchannel_logout_uri")?;
        for (name, uri) in [
            ("backchannel_logout_uri", &backchannel_logout_uri),
            ("frontchannel_logout_uri", &frontchannel_logout_uri),
        ] {
            if let Some(uri) = uri {
                absolute(uri, name, metadata)?;
            }
        }
        let flag = |name: &str, needs: Option<&str>| -> Result<bool, Refusal> {
            let on = member::<bool>(body, name)?.unwrap_or(false);
            match needs {
                Some(section) if on => Err(metadata(format!(
                    "{name}: this provider does not offer it ([{section}] enabled = false)"
                ))),
                _ => Ok(on),
            }
        };
        let dpop_bound = flag(
            "dpop_bound_access_tokens",
            (!t.config.dpop.enabled).then_some("dpop"),
        )?;
        let require_par = flag(
            "require_pushed_authorization_requests",
            (!t.config.par.enabled).then_some("par"),
        )?;
        let require_jar = flag(
            "require_signed_request_object",
            (!t.config.jar.enabled).then_some("jar"),
        )?;
        echo.insert("redirect_uris".into(), json!(redirect_uris));
        echo.insert("token_endpoint_auth_method".into(), json!(method.as_str()));
        echo.insert(
            "grant_types".into(),
            json!(grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>()),
        );
        echo.insert("response_types".into(), json!(response_types));
        for (name, on) in [
            ("dpop_bound_access_tokens", dpop_bound),
            ("require_pushed_authorization_requests", require_par),
            ("require_signed_request_object", require_jar),
        ] {
            if on {
                echo.insert(name.into(), json!(true));
            }
        }
        for name in [
            "jwks",
            "jwks_uri",
            "id_token_signed_response_alg",
            "backchannel_logout_uri",
            "frontchannel_logout_uri",
        ] {
            if let Some(v) = body.get(name).filter(|v| !v.is_null()) {
                echo.insert(name.into(), v.clone());
            }
        }
        if !request_uris.is_empty() {
            echo.insert("request_uris".into(), json!(request_uris));
        }
        if !post_logout_redirect_uris.is_empty() {
            echo.insert(
                "post_logout_redirect_uris".into(),
                json!(post_logout_redirect_uris),
            );
        }
        Ok(Requested {
            redirect_uris,
            method,
            grant_types,
            jwks,
            jwks_uri,
            signing_alg,
            post_logout_redirect_uris,
            request_uris,
            backchannel_logout_uri,
            frontchannel_logout_uri,
            dpop_bound,
            require_par,
            require_jar,
            echo,
        })
    }

    /// The client the tenant takes: the registration template's settings (or a
    /// configured client's defaults) under what was registered.
    pub(super) fn client(&self, t: &Tenant, id: String, secret: Option<String>) -> ClientConfig {
        let template = t
            .config
            .registration
            .template
            .as_deref()
            .and_then(|name| t.config.clients.iter().find(|c| c.id == name));
        let mut c = template.cloned().unwrap_or_else(|| ClientConfig::new(""));
        c.id = id;
        c.secret = secret;
        c.redirect_uris = self.redirect_uris.clone();
        c.post_logout_redirect_uris = self.post_logout_redirect_uris.clone();
        c.request_uris = self.request_uris.clone();
        c.auth_methods = vec![self.method];
        c.grant_types = self.grant_types.clone();
        c.signing_alg = self.signing_alg.or(c.signing_alg);
        c.backchannel_logout_uri = self.backchannel_logout_uri.clone();
        c.frontchannel_logout_uri = self.frontchannel_logout_uri.clone();
        c.jwks = self.jwks.clone();
        c.jwks_uri = self.jwks_uri.clone();
        c.dpop_bound_access_tokens = self.dpop_bound;
        c.require_pushed_authorization_requests = self.require_par;
        c.require_signed_request_object = self.require_jar;
        c
    }
}
