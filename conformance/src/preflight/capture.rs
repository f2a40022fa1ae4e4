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
use super::groups::{Found, Source, access_claims, escape, locate, looks_like_id};
use super::idtoken::decode_parts;
use super::login::Tokens;
use super::offline::RefreshRule;
use super::refresh::Refreshed;

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
}

impl Shape {
    /// The discovery document's issuer and endpoints.
    pub fn discovery(&mut self, d: &Discovery) {
        self.issuer = d.issuer.clone();
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
        }
        self.access_lifetime = tokens.expires_in();
        self.refresh_lifetime = tokens
            .response
            .get("refresh_expires_in")
            .and_then(Value::as_i64)
            .filter(|s| *s > 0);
        self.refresh_issued = Some(tokens.refresh_token.is_some());
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
            let single = if p.value.is_string() {
                ", single_as_string = true"
            } else {
                ""
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
