//! The captured profile's text: what `Shape` observed, written in mock-idp's profile
//! format, each value with why (a comment), and what was not observed said so.

use super::capture::Shape;
use super::groups::escape;
use super::offline::RefreshRule;
use serde_json::Value;
use std::fmt::Write as _;

impl Shape {
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
        if let Some(required) = self.par_required {
            let _ = writeln!(
                out,
                "\n[par]   # pushed authorization requests (RFC 9126): the provider takes them\nenabled = true\nrequired = {required}"
            );
        }
        if self.registration {
            let _ = writeln!(
                out,
                "\n[registration]   # the provider registers clients (RFC 7591): its registration_endpoint\nenabled = true\n# initial_access_token: the provider's is not observable; set one to require it"
            );
        }
        if self.dpop {
            let _ = writeln!(
                out,
                "\n[dpop]   # the provider takes DPoP proofs (RFC 9449): dpop_signing_alg_values_supported\nenabled = true"
            );
        }
        if self.session_management {
            let _ = writeln!(
                out,
                "\n[session_management]   # the provider names a check_session_iframe (OIDC Session Management 1.0)\nenabled = true"
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
}
