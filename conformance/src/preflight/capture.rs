//! `--write-profile`: what preflight learned of the tenant's shape, written as a mock-idp
//! profile file, so CI can rehearse against a mock shaped like this customer's tenant
//! (`mock-idp serve --profile-file`, `conformance run --idp-profile-file`). Only shape is
//! written: paths, algorithm, lifetimes, where groups sit and in what form, whether refresh
//! tokens rotate, claim quirks. No secret, token, user or group name.

use std::path::Path;

use serde_json::{Map, Value};

use super::discovery::Discovery;
use super::groups::{Found, Source, access_claims, locate};
use super::jwt::decode_parts;
use super::login::Tokens;
use super::offline::RefreshRule;
use super::refresh::Refreshed;
use super::values::looks_like_id;

/// The tenant's shape as observed.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub(super) issuer: String,
    pub(super) endpoints: Vec<(&'static str, String)>,
    pub(super) signing_alg: Option<String>,
    pub(super) id_token_typ: Option<String>,
    pub(super) access_lifetime: Option<i64>,
    pub(super) id_lifetime: Option<i64>,
    pub(super) refresh_lifetime: Option<i64>,
    pub(super) placements: Vec<Found>,
    pub(super) group_ids: bool,
    pub(super) overage: bool,
    pub(super) opaque_access: bool,
    pub(super) refresh_issued: Option<bool>,
    pub(super) refresh_rule: Option<RefreshRule>,
    pub(super) rotates: Option<bool>,
    pub(super) pairwise_sub: bool,
    pub(super) tenant_id: Option<String>,
    pub(super) omit_email: bool,
    pub(super) hosted_domain: bool,
    pub(super) userinfo_sub_only: bool,
    pub(super) client_id: String,
    /// Discovery members as published (the lists and flags mock-idp can state).
    pub(super) published: Vec<(String, Value)>,
    /// Members of mock-idp's document the provider does not publish.
    pub(super) unpublished: Vec<&'static str>,
    /// Members the provider publishes that mock-idp does not emulate.
    pub(super) not_emulated: Vec<String>,
    /// The algorithms of the provider's signing keys that mock-idp holds keys for.
    pub(super) key_algs: Vec<String>,
    /// Whether the token response named the granted scope.
    pub(super) token_scope: Option<bool>,
    /// Whether the ID token had an email without `email_verified`.
    pub(super) no_email_verified: bool,
    /// Whether the provider refused the app's PKCE.
    pub(super) pkce_refused: bool,
    /// Whether a refresh returned an ID token.
    pub(super) refresh_id_token: Option<bool>,
    /// Whether the refreshed ID token repeated the login's nonce.
    pub(super) refresh_nonce: bool,
    /// The claims mock-idp adds that the provider's ID token lacked.
    pub(super) id_token_lacks: Vec<&'static str>,
    /// Whether the ID token's header had no `typ`.
    pub(super) id_token_untyped: bool,
    /// Whether the login's ID token had `c_hash`.
    pub(super) c_hash: bool,
    /// The login's ID token's `amr`.
    pub(super) amr: Vec<String>,
    /// Pushed authorization requests: whether the provider requires them, when it takes
    /// them at all (its discovery names the endpoint).
    pub(super) par_required: Option<bool>,
    /// Whether the provider registers clients (its discovery names a
    /// `registration_endpoint`, RFC 7591).
    pub(super) registration: bool,
    /// Whether it takes DPoP proofs (it lists `dpop_signing_alg_values_supported`).
    pub(super) dpop: bool,
    /// Whether it does session management (it names a `check_session_iframe`).
    pub(super) session_management: bool,
}

impl Shape {
    /// The discovery document's issuer and endpoints, its lists and flags as published, and
    /// the algorithms of its signing keys.
    pub fn discovery(&mut self, d: &Discovery) {
        use mock_idp::config::{DISCOVERY_FLAGS, DISCOVERY_LISTS, DISCOVERY_OPTIONAL_ENDPOINTS};
        self.issuer = d.issuer.clone();
        let members = [
            DISCOVERY_LISTS,
            DISCOVERY_FLAGS,
            DISCOVERY_OPTIONAL_ENDPOINTS,
        ];
        for key in members.iter().flat_map(|m| m.iter()) {
            match d.doc.get(*key) {
                None => self.unpublished.push(key),
                Some(v) if DISCOVERY_LISTS.contains(key) => {
                    if v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                        self.published.push(((*key).to_owned(), v.clone()));
                    }
                }
                Some(v) if DISCOVERY_FLAGS.contains(key) && v.is_boolean() => {
                    self.published.push(((*key).to_owned(), v.clone()));
                }
                Some(_) => {}
            }
        }
        // The endpoints mock-idp serves under [endpoints], and what any document has.
        let served = [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "require_pushed_authorization_requests",
        ];
        if let Some(doc) = d.doc.as_object() {
            self.not_emulated = doc
                .keys()
                .filter(|k| {
                    !served.contains(&k.as_str())
                        && !members.iter().any(|m| m.contains(&k.as_str()))
                })
                .cloned()
                .collect();
        }
        for key in &d.jwks.keys {
            use jsonwebtoken::jwk::{AlgorithmParameters, PublicKeyUse};
            if matches!(key.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let alg = match (&key.common.key_algorithm, &key.algorithm) {
                (Some(a), _) => format!("{a:?}"),
                (None, AlgorithmParameters::RSA(_)) => "RS256".to_owned(),
                (None, AlgorithmParameters::EllipticCurve(_)) => "ES256".to_owned(),
                (None, _) => continue,
            };
            if ["RS256", "PS256", "ES256"].contains(&alg.as_str()) && !self.key_algs.contains(&alg)
            {
                self.key_algs.push(alg);
            }
        }
        for (name, key) in [
            ("authorization", "authorization_endpoint"),
            ("token", "token_endpoint"),
            ("userinfo", "userinfo_endpoint"),
            ("introspection", "introspection_endpoint"),
            ("revocation", "revocation_endpoint"),
            ("end_session", "end_session_endpoint"),
            ("device_authorization", "device_authorization_endpoint"),
            ("jwks", "jwks_uri"),
            ("par", "pushed_authorization_request_endpoint"),
            ("registration", "registration_endpoint"),
        ] {
            if let Some(u) = d.get(key) {
                self.endpoints.push((name, u.to_owned()));
            }
        }
        self.registration = d.get("registration_endpoint").is_some();
        self.dpop = d.doc.get("dpop_signing_alg_values_supported").is_some();
        self.session_management = d.get("check_session_iframe").is_some();
        if d.get("pushed_authorization_request_endpoint").is_some() {
            let required = d.doc.get("require_pushed_authorization_requests");
            self.par_required = Some(required.and_then(Value::as_bool).unwrap_or(false));
        }
    }

    /// The login's tokens and userinfo.
    pub fn tokens(
        &mut self,
        client_id: &str,
        tokens: &Tokens,
        id: Option<&Map<String, Value>>,
        userinfo: Option<&Map<String, Value>>,
    ) {
        self.client_id = client_id.to_owned();
        if let Some((header, _)) = tokens.id_token.as_deref().and_then(decode_parts) {
            self.signing_alg = header.get("alg").and_then(Value::as_str).map(str::to_owned);
            self.id_token_untyped = header.get("typ").is_none();
        }
        self.access_lifetime = tokens.expires_in();
        self.refresh_lifetime = tokens
            .response
            .get("refresh_expires_in")
            .and_then(Value::as_i64)
            .filter(|s| *s > 0);
        self.refresh_issued = Some(tokens.refresh_token.is_some());
        self.token_scope = Some(tokens.response.get("scope").is_some());
        self.opaque_access = tokens
            .access_token
            .as_deref()
            .is_some_and(|t| decode_parts(t).is_none());
        if let Some(id) = id {
            let n = |k: &str| id.get(k).and_then(Value::as_i64);
            if let (Some(exp), Some(iat)) = (n("exp"), n("iat")) {
                self.id_lifetime = Some(exp - iat);
            }
            let sub = id.get("sub").and_then(Value::as_str);
            self.pairwise_sub = id
                .get("oid")
                .and_then(Value::as_str)
                .is_some_and(|o| Some(o) != sub);
            self.tenant_id = id.get("tid").and_then(Value::as_str).map(str::to_owned);
            // Keycloak's ID tokens say what they are in a `typ` claim.
            self.id_token_typ = id.get("typ").and_then(Value::as_str).map(str::to_owned);
            self.omit_email = !id.contains_key("email");
            self.c_hash = id.contains_key("c_hash");
            self.amr = id
                .get("amr")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            self.id_token_lacks = mock_idp::config::ID_TOKEN_OPTIONAL
                .iter()
                .copied()
                .filter(|c| !id.contains_key(*c))
                .collect();
            self.no_email_verified = id.contains_key("email") && !id.contains_key("email_verified");
            self.hosted_domain = id.contains_key("hd");
            self.overage = id
                .get("_claim_names")
                .and_then(|c| c.get("groups"))
                .is_some();
            self.placements.extend(locate(Source::IdToken, id));
        }
        if let Some(access) = access_claims(tokens) {
            self.placements.extend(locate(Source::AccessToken, &access));
        }
        if let Some(u) = userinfo {
            self.userinfo_sub_only = u.keys().all(|k| k == "sub");
            self.placements.extend(locate(Source::Userinfo, u));
        }
        self.group_ids = !self.placements.is_empty()
            && self.placements.iter().all(|p| match &p.value {
                Value::String(s) => looks_like_id(s),
                Value::Array(a) => {
                    !a.is_empty() && a.iter().filter_map(Value::as_str).all(looks_like_id)
                }
                _ => false,
            });
    }

    /// How refresh tokens were issued.
    pub fn refresh_rule(&mut self, r: Option<RefreshRule>) {
        self.refresh_rule = r;
    }

    /// The refresh.
    pub fn refresh(&mut self, r: Option<&Refreshed>) {
        self.rotates = r.map(|r| r.rotated);
        self.refresh_id_token = r.map(|r| r.id_token);
        self.refresh_nonce = r.is_some_and(|r| r.nonce_kept);
    }

    /// Whether the provider refused the app's PKCE.
    pub fn pkce_refused(&mut self, refused: bool) {
        self.pkce_refused = refused;
    }

    /// What the run did not observe, that the profile would otherwise state: empty for a
    /// complete capture.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if self.signing_alg.is_none() {
            m.push("the login's tokens (algorithm, lifetimes, where groups sit)");
        }
        if self.refresh_rule.is_none() {
            m.push("how refresh tokens are issued");
        }
        if self.refresh_rule != Some(RefreshRule::Never) && self.rotates.is_none() {
            m.push("what a refresh returns (whether the token rotates)");
        }
        m
    }

    /// Writes the profile, and checks mock-idp shapes a tenant with it (else removes it).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, self.to_profile())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let reference = match path.to_str() {
            Some(s) if mock_idp::profiles::is_file(s) => s.to_owned(),
            Some(s) => format!("./{s}"),
            None => return Err(format!("{}: not a UTF-8 path", path.display())),
        };
        mock_idp::Config::builtin_with_profile(&reference)
            .map(|_| ())
            .map_err(|e| {
                let _ = std::fs::remove_file(path);
                format!("the captured profile does not shape a mock-idp tenant: {e}")
            })
    }
}
