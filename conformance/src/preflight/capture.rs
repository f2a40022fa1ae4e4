//! `--write-profile`: what preflight learned of the tenant's shape, written as a mock-idp
//! profile file, so CI can rehearse against a mock shaped like this customer's tenant
//! (`mock-idp serve --profile-file`, `conformance run --idp-profile-file`). Only shape is
//! written: paths, algorithm, lifetimes, where groups sit and in what form, whether refresh
//! tokens rotate, claim quirks. No secret, token, user or group name.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use super::PreflightOptions;
use super::discovery::Discovery;
use super::groups::{Found, Source, access_claims, escape, locate};
use super::idtoken::decode_parts;
use super::login::Tokens;
use super::offline::RefreshRule;
use super::refresh::Refreshed;
use super::values::looks_like_id;

/// The tenant's shape as observed.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    issuer: String,
    endpoints: Vec<(&'static str, String)>,
    signing_alg: Option<String>,
    id_token_typ: Option<String>,
    access_lifetime: Option<i64>,
    id_lifetime: Option<i64>,
    refresh_lifetime: Option<i64>,
    placements: Vec<Found>,
    group_ids: bool,
    overage: bool,
    opaque_access: bool,
    refresh_issued: Option<bool>,
    refresh_rule: Option<RefreshRule>,
    rotates: Option<bool>,
    pairwise_sub: bool,
    tenant_id: Option<String>,
    omit_email: bool,
    hosted_domain: bool,
    userinfo_sub_only: bool,
    client_id: String,
    /// Discovery members as published (the lists and flags mock-idp can state).
    published: Vec<(String, Value)>,
    /// Members of mock-idp's document the provider does not publish.
    unpublished: Vec<&'static str>,
    /// Members the provider publishes that mock-idp does not emulate.
    not_emulated: Vec<String>,
    /// The algorithms of the provider's signing keys that mock-idp holds keys for.
    key_algs: Vec<String>,
    /// Whether the token response named the granted scope.
    token_scope: Option<bool>,
    /// Whether the ID token had an email without `email_verified`.
    no_email_verified: bool,
    /// Whether the provider refused the app's PKCE.
    pkce_refused: bool,
    /// Whether a refresh returned an ID token.
    refresh_id_token: Option<bool>,
    /// Whether the refreshed ID token repeated the login's nonce.
    refresh_nonce: bool,
    /// The claims mock-idp adds that the provider's ID token lacked.
    id_token_lacks: Vec<&'static str>,
    /// Whether the ID token's header had no `typ`.
    id_token_untyped: bool,
    /// Whether the login's ID token had `c_hash`.
    c_hash: bool,
    /// The login's ID token's `amr`.
    amr: Vec<String>,
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
        ] {
            if let Some(u) = d.get(key) {
                self.endpoints.push((name, u.to_owned()));
            }
        }
    }

    /// The login's tokens and userinfo.
    pub fn tokens(
        &mut self,
        opts: &PreflightOptions,
        tokens: &Tokens,
        id: Option<&Map<String, Value>>,
        userinfo: Option<&Map<String, Value>>,
    ) {
        self.client_id = opts.client_id.clone();
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

    /// The profile file's text.
    pub fn to_profile(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let issuer = url::Url::parse(&self.issuer).ok();
        let host = issuer
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let issuer_path = issuer
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let mut out = String::new();
        let missing = self.missing();
        if !missing.is_empty() {
            let _ = writeln!(
                out,
                "# PARTIAL: the run that captured this did not observe {}; the mock's defaults stand in for them.",
                missing.join("; ")
            );
        }
        let _ = writeln!(
            out,
            "# A mock-idp provider profile captured by `conformance preflight` from"
        );
        let _ = writeln!(
            out,
            "# {} — the tenant's shape only: no secret, token, user or group name.",
            self.issuer
        );
        let _ = writeln!(
            out,
            "# Use it with `mock-idp serve --profile-file FILE` or `conformance run --idp-profile-file FILE`."
        );
        let _ = writeln!(
            out,
            "name = {}",
            q(&format!("captured-{}", host.replace('.', "-")))
        );
        let _ = writeln!(
            out,
            "description = {}",
            q(&format!(
                "captured from {} by conformance preflight",
                self.issuer
            ))
        );
        if !issuer_path.is_empty() {
            let _ = writeln!(out, "issuer_path = {}", q(&issuer_path));
        }
        if let Some(alg) = &self.signing_alg {
            let _ = writeln!(out, "signing_alg = {}", q(alg));
        }
        let mut key_algs = self.key_algs.clone();
        if let Some(alg) = self.signing_alg.as_ref().filter(|a| !key_algs.contains(a)) {
            key_algs.push(alg.clone());
        }
        if !key_algs.is_empty() {
            let list: Vec<String> = key_algs.iter().map(|a| q(a)).collect();
            let _ = writeln!(
                out,
                "key_algs = [{}]   # the JWKS's signing keys, one per algorithm",
                list.join(", ")
            );
        }
        let _ = writeln!(out, "\n[lifetimes]   # seconds");
        match self.access_lifetime {
            Some(s) => {
                let _ = writeln!(out, "access_token = {s}   # expires_in");
            }
            None => {
                let _ = writeln!(out, "# access_token: not observed (no expires_in)");
            }
        }
        match self.id_lifetime {
            Some(s) => {
                let _ = writeln!(out, "id_token = {s}   # exp - iat");
            }
            None => {
                let _ = writeln!(out, "# id_token: not observed");
            }
        }
        match self.refresh_lifetime {
            Some(s) => {
                let _ = writeln!(out, "refresh_token = {s}   # refresh_expires_in");
            }
            None => {
                let _ = writeln!(
                    out,
                    "# refresh_token: not observable from the outside (the mock's default applies)"
                );
            }
        }
        let _ = writeln!(out, "\n[endpoints]");
        for (name, u) in &self.endpoints {
            let Ok(parsed) = url::Url::parse(u) else {
                continue;
            };
            let path = parsed.path();
            let shown = match path.strip_prefix(&issuer_path) {
                Some(rest)
                    if !issuer_path.is_empty() && (rest.is_empty() || rest.starts_with('/')) =>
                {
                    format!("{{issuer_path}}{rest}")
                }
                _ => path.to_owned(),
            };
            let elsewhere = parsed.host_str().is_some_and(|h| h != host);
            let _ = writeln!(
                out,
                "{name} = {}{}",
                q(&shown),
                if elsewhere {
                    format!(
                        "   # on {} at the provider",
                        parsed.host_str().unwrap_or_default()
                    )
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(
            out,
            "\n[discovery]   # the provider's metadata as it publishes it"
        );
        if !self.not_emulated.is_empty() {
            let _ = writeln!(
                out,
                "# published by the provider, not emulated by mock-idp: {}",
                self.not_emulated.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "# (the document only: mock-idp serves what it implements, the code flow with query or form_post responses and no request objects, whatever it says)"
        );
        let list = |v: &[&str]| v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(out, "omit = [{}]", list(&self.unpublished));
        let _ = writeln!(out, "\n[discovery.values]");
        for (k, v) in &self.published {
            let value = match v {
                Value::Array(a) => format!(
                    "[{}]",
                    list(&a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                ),
                other => other.to_string(),
            };
            let _ = writeln!(out, "{k} = {value}");
        }
        let _ = writeln!(out, "\n[groups]");
        let mut placements = Vec::new();
        for p in &self.placements {
            // Keycloak's client roles sit under the client's own id: written as the
            // profile's placeholder, so the mock puts them under its client's.
            let client_roles = format!("/resource_access/{}/roles", escape(&self.client_id));
            let pointer = if p.pointer == client_roles {
                "/resource_access/{client_id}/roles".to_owned()
            } else {
                p.pointer.clone()
            };
            let single = match p.value.as_str() {
                Some(s) if s.contains(',') => ", joined = \",\"",
                Some(_) => ", single_as_string = true",
                None => "",
            };
            let line = format!(
                "  {{ token = {}, pointer = {}{single} }},",
                q(p.source.as_str()),
                q(&pointer)
            );
            if !placements.contains(&line) {
                placements.push(line);
            }
        }
        if placements.is_empty() {
            let _ = writeln!(
                out,
                "placements = []   # no groups seen (or the test user is in none)"
            );
        } else {
            let _ = writeln!(out, "placements = [\n{}\n]", placements.join("\n"));
        }
        let _ = writeln!(out, "\n[client_defaults]");
        match self.refresh_rule {
            Some(RefreshRule::Never) => {
                let _ = writeln!(
                    out,
                    "refresh_tokens = \"never\"   # none issued, with prompt=consent or without"
                );
            }
            Some(RefreshRule::WithConsent) => {
                let _ = writeln!(
                    out,
                    "refresh_tokens = \"with_consent\"   # offline_access granted only with prompt=consent"
                );
            }
            Some(RefreshRule::Issued) => {
                let _ = writeln!(out, "refresh_tokens = \"with_offline_access\"");
            }
            None => {}
        }
        if let Some(r) = self.rotates {
            let _ = writeln!(out, "refresh_policy = {{ rotate = {r} }}");
        }
        if self.opaque_access {
            let _ = writeln!(out, "access_token_format = \"opaque\"");
        }
        let _ = writeln!(out, "\n[quirks]");
        let flag = |out: &mut String, on: bool, key: &str, why: &str| {
            if on {
                let _ = writeln!(out, "{key} = true   # {why}");
            }
        };
        flag(
            &mut out,
            self.pairwise_sub,
            "pairwise_sub",
            "sub differs from oid",
        );
        if let Some(t) = &self.tenant_id {
            let _ = writeln!(out, "tenant_id = {}", q(t));
        }
        flag(
            &mut out,
            self.omit_email,
            "omit_email",
            "the ID token had no email",
        );
        flag(
            &mut out,
            self.group_ids,
            "group_ids",
            "groups arrived as object ids",
        );
        flag(
            &mut out,
            self.hosted_domain,
            "hosted_domain",
            "the ID token had hd",
        );
        flag(
            &mut out,
            self.userinfo_sub_only,
            "userinfo_sub_only",
            "userinfo answered sub alone",
        );
        if let Some(t) = &self.id_token_typ {
            let _ = writeln!(out, "id_token_typ = {}", q(t));
        }
        flag(
            &mut out,
            self.no_email_verified,
            "omit_email_verified",
            "the ID token had email without email_verified",
        );
        flag(
            &mut out,
            self.token_scope == Some(false),
            "omit_token_scope",
            "the token response named no scope",
        );
        flag(
            &mut out,
            self.refresh_id_token == Some(false),
            "refresh_without_id_token",
            "the refresh returned no ID token",
        );
        flag(
            &mut out,
            self.refresh_nonce,
            "refresh_keeps_nonce",
            "the refreshed ID token repeated the login's nonce",
        );
        if !self.id_token_lacks.is_empty() {
            let list: Vec<String> = self.id_token_lacks.iter().map(|c| q(c)).collect();
            let _ = writeln!(
                out,
                "id_token_omit = [{}]   # not in the provider's ID token",
                list.join(", ")
            );
        }
        flag(
            &mut out,
            self.c_hash,
            "id_token_c_hash",
            "the login's ID token had c_hash",
        );
        if !self.amr.is_empty() {
            let list: Vec<String> = self.amr.iter().map(|a| q(a)).collect();
            let _ = writeln!(
                out,
                "id_token_amr = [{}]   # the login's authentication methods",
                list.join(", ")
            );
        }
        flag(
            &mut out,
            self.id_token_untyped,
            "omit_id_token_header_typ",
            "the ID token's header had no typ",
        );
        flag(
            &mut out,
            self.pkce_refused,
            "pkce_refused",
            "the app's PKCE request was refused, the same without PKCE taken",
        );
        if self.overage {
            let _ = writeln!(
                out,
                "groups_overage = 200   # an overage was seen; 200 is Entra's threshold for JWTs"
            );
        }
        out
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
