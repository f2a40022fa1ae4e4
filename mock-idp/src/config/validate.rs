//! Checks a parsed config for what types cannot say: uniqueness, URLs, keys for every algorithm.

use super::load::{Seg, first_duplicate};
use super::{Config, Endpoints};
use crate::types::{AuthMethod, GrantType};

type Invalid = (Vec<Seg>, String);

fn bad(path: Vec<Seg>, message: impl Into<String>) -> Result<(), Invalid> {
    Err((path, message.into()))
}

impl Config {
    /// Validates the config; the error is the field's path and what is wrong with it.
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        self.validate_issuer()?;
        self.validate_lifetimes()?;
        self.validate_limits()?;
        self.validate_endpoints()?;
        self.validate_quirks()?;
        self.validate_discovery()?;
        self.validate_placements()?;
        self.validate_keys()?;
        self.validate_par()?;
        self.validate_jar()?;
        self.validate_dpop()?;
        self.validate_registration()?;
        self.validate_clients()?;
        self.validate_assertion_issuers()?;
        self.validate_users()
    }

    fn validate_par(&self) -> Result<(), Invalid> {
        let at = |field| vec![Seg::Key("par"), Seg::Key(field)];
        if self.par.required && !self.par.enabled {
            return bad(at("required"), "needs enabled = true");
        }
        if self.par.enabled && !(1..=600).contains(&self.par.lifetime) {
            return bad(
                at("lifetime"),
                "1 to 600 seconds (RFC 9126 §2.2: a request_uri is short-lived)",
            );
        }
        Ok(())
    }

    fn validate_jar(&self) -> Result<(), Invalid> {
        if self.jar.required && !self.jar.enabled {
            return bad(
                vec![Seg::Key("jar"), Seg::Key("required")],
                "needs enabled = true",
            );
        }
        Ok(())
    }

    fn validate_dpop(&self) -> Result<(), Invalid> {
        let at = |field| vec![Seg::Key("dpop"), Seg::Key(field)];
        if self.dpop.nonce && !self.dpop.enabled {
            return bad(at("nonce"), "needs enabled = true");
        }
        if !(1..=3600).contains(&self.dpop.window) {
            return bad(
                at("window"),
                "1 to 3600 seconds (RFC 9449 §11.1: a proof is good for a short time)",
            );
        }
        Ok(())
    }

    fn validate_registration(&self) -> Result<(), Invalid> {
        let r = &self.registration;
        let at = |field| vec![Seg::Key("registration"), Seg::Key(field)];
        if !r.enabled && !r.is_off() {
            let field = if r.initial_access_token.is_some() {
                "initial_access_token"
            } else if r.template.is_some() {
                "template"
            } else {
                "secret_lifetime"
            };
            return bad(at(field), "needs enabled = true");
        }
        if r.initial_access_token.as_deref() == Some("") {
            return bad(
                at("initial_access_token"),
                "empty: leave it out for open registration",
            );
        }
        if let Some(t) = &r.template
            && !self.clients.iter().any(|c| &c.id == t)
        {
            return bad(at("template"), format!("{t:?} is not a configured client"));
        }
        Ok(())
    }

    fn validate_discovery(&self) -> Result<(), Invalid> {
        use super::{DISCOVERY_FLAGS, DISCOVERY_LISTS, DISCOVERY_OPTIONAL_ENDPOINTS};
        let d = &self.discovery;
        for k in &d.omit {
            let known = [
                DISCOVERY_LISTS,
                DISCOVERY_FLAGS,
                DISCOVERY_OPTIONAL_ENDPOINTS,
            ]
            .iter()
            .any(|l| l.contains(&k.as_str()));
            if !known {
                return bad(
                    vec![Seg::Key("discovery"), Seg::Key("omit")],
                    format!(
                        "{k:?} cannot be left out (one of the *_supported lists, the flags, or {})",
                        DISCOVERY_OPTIONAL_ENDPOINTS.join(", ")
                    ),
                );
            }
        }
        for (k, v) in &d.values {
            let at = vec![Seg::Key("discovery"), Seg::Key("values")];
            let list = v
                .as_array()
                .is_some_and(|a| a.iter().all(serde_json::Value::is_string));
            if DISCOVERY_LISTS.contains(&k.as_str()) {
                if !list {
                    return bad(at, format!("{k} must be a list of strings"));
                }
            } else if DISCOVERY_FLAGS.contains(&k.as_str()) {
                if !v.is_boolean() {
                    return bad(at, format!("{k} must be true or false"));
                }
            } else {
                return bad(
                    at,
                    format!(
                        "{k:?} is not a discovery member a profile may state (the *_supported lists and flags; endpoints follow [endpoints])"
                    ),
                );
            }
            if d.omit.contains(k) {
                return bad(at, format!("{k} is both given and left out"));
            }
        }
        Ok(())
    }

    fn validate_assertion_issuers(&self) -> Result<(), Invalid> {
        for (i, a) in self.assertion_issuers.iter().enumerate() {
            let at = |field| {
                vec![
                    Seg::Key("assertion_issuers"),
                    Seg::Index(i),
                    Seg::Key(field),
                ]
            };
            if a.issuer.is_empty() {
                return bad(at("issuer"), "the issuer must not be empty");
            }
            if self.assertion_issuers[..i]
                .iter()
                .any(|b| b.issuer == a.issuer)
            {
                return bad(at("issuer"), format!("{:?} is listed twice", a.issuer));
            }
            if let Some((field, why)) = keys_problem(a.jwks.as_ref(), a.jwks_uri.as_deref(), true) {
                return bad(at(field), why);
            }
        }
        Ok(())
    }

    fn validate_issuer(&self) -> Result<(), Invalid> {
        issuer_url(vec![Seg::Key("issuer")], &self.issuer)?;
        match &self.quirks.advertised_issuer {
            Some(i) => issuer_url(vec![Seg::Key("quirks"), Seg::Key("advertised_issuer")], i),
            None => Ok(()),
        }
    }

    fn validate_lifetimes(&self) -> Result<(), Invalid> {
        let l = &self.lifetimes;
        for (name, value) in [
            ("code", l.code),
            ("access_token", l.access_token),
            ("id_token", l.id_token),
            ("refresh_token", l.refresh_token),
            ("session", l.session),
            ("device_code", l.device_code),
        ] {
            if value == 0 {
                return bad(
                    vec![Seg::Key("lifetimes"), Seg::Key(name)],
                    "a lifetime must be at least 1 second",
                );
            }
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), Invalid> {
        if self.limits.live_records == 0 {
            return bad(
                vec![Seg::Key("limits"), Seg::Key("live_records")],
                "must be at least 1: a tenant that may hold nothing cannot log anyone in",
            );
        }
        Ok(())
    }

    fn validate_quirks(&self) -> Result<(), Invalid> {
        if let Some(s) = self.quirks.disabled_user_status
            && !(400..600).contains(&s)
        {
            return bad(
                vec![Seg::Key("quirks"), Seg::Key("disabled_user_status")],
                format!("{s} is not an HTTP error status (400-599)"),
            );
        }
        if let Some(c) = self
            .quirks
            .id_token_omit
            .iter()
            .find(|c| !super::ID_TOKEN_OPTIONAL.contains(&c.as_str()))
        {
            return bad(
                vec![Seg::Key("quirks"), Seg::Key("id_token_omit")],
                format!(
                    "{c:?} cannot be left out of ID tokens (only {})",
                    super::ID_TOKEN_OPTIONAL.join(", ")
                ),
            );
        }
        Ok(())
    }

    fn validate_endpoints(&self) -> Result<(), Invalid> {
        let Endpoints {
            authorization,
            token,
            userinfo,
            introspection,
            revocation,
            end_session,
            device_authorization,
            jwks,
            groups,
            par,
            registration,
        } = &self.endpoints;
        for (name, value) in [
            ("authorization", authorization),
            ("token", token),
            ("userinfo", userinfo),
            ("introspection", introspection),
            ("revocation", revocation),
            ("end_session", end_session),
            ("device_authorization", device_authorization),
            ("jwks", jwks),
            ("groups", groups),
            ("par", par),
            ("registration", registration),
        ] {
            if let Some(p) = value
                && (!p.starts_with('/') || p.contains(['?', '#']))
            {
                return bad(
                    vec![Seg::Key("endpoints"), Seg::Key(name)],
                    format!("{p:?} must be an absolute path starting with '/', without query"),
                );
            }
        }
        Ok(())
    }

    fn validate_placements(&self) -> Result<(), Invalid> {
        for (i, p) in self.groups.placements.iter().enumerate() {
            if !p.pointer.starts_with('/') || p.pointer.len() < 2 {
                return bad(
                    vec![
                        Seg::Key("groups"),
                        Seg::Key("placements"),
                        Seg::Index(i),
                        Seg::Key("pointer"),
                    ],
                    format!(
                        "{:?} is not an RFC 6901 pointer to a member (it must start with '/', e.g. \"/groups\")",
                        p.pointer
                    ),
                );
            }
        }
        Ok(())
    }

    fn validate_keys(&self) -> Result<(), Invalid> {
        if self.keys.is_empty() {
            return bad(
                vec![Seg::Key("keys")],
                "at least one signing key is required",
            );
        }
        if let Some((i, kid)) = first_duplicate(self.keys.iter().map(|k| k.kid.as_str())) {
            return bad(
                vec![Seg::Key("keys"), Seg::Index(i), Seg::Key("kid")],
                format!("duplicate kid {kid:?}"),
            );
        }
        let has_key = |alg| self.keys.iter().any(|k| k.alg == alg);
        if !has_key(self.signing_alg) {
            return bad(
                vec![Seg::Key("signing_alg")],
                format!(
                    "no key in [[keys]] has alg = {:?}",
                    self.signing_alg.as_str()
                ),
            );
        }
        for (i, c) in self.clients.iter().enumerate() {
            if let Some(alg) = c.signing_alg
                && !has_key(alg)
            {
                return bad(
                    vec![Seg::Key("clients"), Seg::Index(i), Seg::Key("signing_alg")],
                    format!("no key in [[keys]] has alg = {:?}", alg.as_str()),
                );
            }
        }
        Ok(())
    }

    fn validate_clients(&self) -> Result<(), Invalid> {
        if let Some((i, id)) = first_duplicate(self.clients.iter().map(|c| c.id.as_str())) {
            return bad(
                vec![Seg::Key("clients"), Seg::Index(i), Seg::Key("id")],
                format!("duplicate client id {id:?}"),
            );
        }
        for (i, c) in self.clients.iter().enumerate() {
            let at = |field| vec![Seg::Key("clients"), Seg::Index(i), Seg::Key(field)];
            if c.id.is_empty() {
                return bad(at("id"), "the client id must not be empty");
            }
            if c.auth_methods.is_empty() {
                return bad(at("auth_methods"), "at least one method is required");
            }
            let confidential = c.auth_methods.iter().any(|m| *m != AuthMethod::None);
            if let Some(m) = c.auth_methods.iter().find(|m| m.uses_secret())
                && c.secret.as_deref().is_none_or(str::is_empty)
            {
                return bad(at("secret"), format!("a client with {m} needs a secret"));
            }
            if let Some((field, why)) = client_keys_problem(c) {
                return bad(at(field), why);
            }
            if c.require_pushed_authorization_requests && !self.par.enabled {
                return bad(
                    at("require_pushed_authorization_requests"),
                    "needs [par] enabled = true (the tenant must serve pushed authorization requests)",
                );
            }
            if c.require_signed_request_object && !self.jar.enabled {
                return bad(
                    at("require_signed_request_object"),
                    "needs [jar] enabled = true (the tenant must take signed request objects)",
                );
            }
            if !c.request_uris.is_empty() && !self.jar.enabled {
                return bad(
                    at("request_uris"),
                    "needs [jar] enabled = true (the tenant must take request objects)",
                );
            }
            if let Some(u) = c
                .request_uris
                .iter()
                .find(|u| url::Url::parse(u.trim_end_matches('*')).is_err())
            {
                return bad(at("request_uris"), format!("{u:?} is not an absolute URL"));
            }
            if c.dpop_bound_access_tokens && !self.dpop.enabled {
                return bad(
                    at("dpop_bound_access_tokens"),
                    "needs [dpop] enabled = true (the tenant must take DPoP proofs)",
                );
            }
            if !confidential && c.grant_types.contains(&GrantType::ClientCredentials) {
                return bad(
                    at("grant_types"),
                    "client_credentials needs a confidential client (auth_methods other than none)",
                );
            }
            if c.grant_types.contains(&GrantType::JwtBearer) && self.assertion_issuers.is_empty() {
                return bad(
                    at("grant_types"),
                    "jwt_bearer needs at least one [[assertion_issuers]] whose assertions it can trade",
                );
            }
            if c.grant_types.contains(&GrantType::AuthorizationCode) && c.redirect_uris.is_empty() {
                return bad(
                    at("redirect_uris"),
                    "authorization_code needs at least one redirect URI",
                );
            }
            for (field, uris) in [
                ("redirect_uris", &c.redirect_uris),
                ("post_logout_redirect_uris", &c.post_logout_redirect_uris),
            ] {
                for (j, uri) in uris.iter().enumerate() {
                    let mut path = at(field);
                    path.push(Seg::Index(j));
                    match url::Url::parse(uri) {
                        Err(e) => return bad(path, format!("{uri:?} is not a URL: {e}")),
                        Ok(u) if u.fragment().is_some() => {
                            return bad(path, format!("{uri:?} must not have a fragment"));
                        }
                        Ok(_) => {}
                    }
                }
            }
            if let Some(uri) = &c.backchannel_logout_uri {
                match url::Url::parse(uri) {
                    Err(e) => {
                        return bad(
                            at("backchannel_logout_uri"),
                            format!("{uri:?} is not a URL: {e}"),
                        );
                    }
                    // Back-Channel Logout §2.2: no fragment; delivery speaks plain HTTP.
                    Ok(u) if u.scheme() != "http" || u.fragment().is_some() => {
                        return bad(
                            at("backchannel_logout_uri"),
                            format!(
                                "{uri:?}: an http:// URL without a fragment (logout tokens are delivered over plain HTTP)"
                            ),
                        );
                    }
                    Ok(_) => {}
                }
            }
            if let Some(uri) = &c.frontchannel_logout_uri {
                match url::Url::parse(uri) {
                    Err(e) => {
                        return bad(
                            at("frontchannel_logout_uri"),
                            format!("{uri:?} is not a URL: {e}"),
                        );
                    }
                    // Front-Channel Logout §2: an absolute URL, no fragment.
                    Ok(u) if !matches!(u.scheme(), "http" | "https") || u.fragment().is_some() => {
                        return bad(
                            at("frontchannel_logout_uri"),
                            format!("{uri:?}: an http(s) URL without a fragment"),
                        );
                    }
                    Ok(_) => {}
                }
            }
        }
        Ok(())
    }

    fn validate_users(&self) -> Result<(), Invalid> {
        if let Some((i, name)) = first_duplicate(self.users.iter().map(|u| u.username.as_str())) {
            return bad(
                vec![Seg::Key("users"), Seg::Index(i), Seg::Key("username")],
                format!("duplicate username {name:?}"),
            );
        }
        if let Some((i, sub)) = first_duplicate(self.users.iter().map(|u| u.sub.as_str())) {
            return bad(
                vec![Seg::Key("users"), Seg::Index(i), Seg::Key("sub")],
                format!("duplicate sub {sub:?}"),
            );
        }
        for (i, u) in self.users.iter().enumerate() {
            let at = |field| vec![Seg::Key("users"), Seg::Index(i), Seg::Key(field)];
            if u.username.is_empty() {
                return bad(at("username"), "must not be empty");
            }
            if u.sub.is_empty() || u.sub.len() > 255 {
                return bad(at("sub"), "must be 1 to 255 characters (OIDC Core §2)");
            }
            for reserved in RESERVED_CLAIMS {
                if u.claims.contains_key(*reserved) {
                    return bad(
                        at("claims"),
                        format!("{reserved:?} is set by the IdP and cannot be an extra claim"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Claims the IdP computes; a user's extra claims may not override them.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "sid",
    "jti",
    "client_id",
    "scope",
];

/// An issuer: an http(s) URL without query or fragment (OIDC Discovery §3).
fn issuer_url(path: Vec<Seg>, issuer: &str) -> Result<(), Invalid> {
    match url::Url::parse(issuer) {
        Err(e) => bad(path, format!("not a URL: {e}")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            bad(path, "the issuer must be an http or https URL")
        }
        Ok(u) if u.query().is_some() || u.fragment().is_some() => bad(
            path,
            "the issuer must not have a query or fragment (OIDC Discovery §3)",
        ),
        Ok(_) => Ok(()),
    }
}

/// What is wrong with a client's public keys for `private_key_jwt`, and in which field.
fn client_keys_problem(c: &super::ClientConfig) -> Option<(&'static str, String)> {
    let wants_keys = c.auth_methods.contains(&AuthMethod::PrivateKeyJwt);
    match keys_problem(c.jwks.as_ref(), c.jwks_uri.as_deref(), wants_keys) {
        Some(("jwks", why)) if c.jwks.is_none() && c.jwks_uri.is_none() => {
            Some(("jwks", format!("a client with private_key_jwt: {why}")))
        }
        other => other,
    }
}

/// What is wrong with a party's public keys (`jwks` or `jwks_uri`; `needed`: one must be
/// given), and in which field.
fn keys_problem(
    jwks: Option<&jsonwebtoken::jwk::JwkSet>,
    jwks_uri: Option<&str>,
    needed: bool,
) -> Option<(&'static str, String)> {
    match (jwks, jwks_uri) {
        (Some(_), Some(_)) => Some((
            "jwks_uri",
            "give jwks or jwks_uri, not both (RFC 7591 §2)".into(),
        )),
        (None, None) if needed => Some((
            "jwks",
            "its public keys are needed: jwks (inline) or jwks_uri".into(),
        )),
        (Some(set), None) => {
            if set.keys.is_empty() {
                return Some(("jwks", "the key set has no keys".into()));
            }
            set.keys.iter().enumerate().find_map(|(i, k)| {
                let usable = crate::assertion::usable_key(k);
                usable
                    .err()
                    .map(|why| ("jwks", format!("keys[{i}]: {why}")))
            })
        }
        (None, Some(uri)) => match url::Url::parse(uri) {
            Err(e) => Some(("jwks_uri", format!("{uri:?} is not a URL: {e}"))),
            Ok(u) if u.scheme() != "http" || u.fragment().is_some() => Some((
                "jwks_uri",
                format!(
                    "{uri:?}: an http:// URL without a fragment (the IdP fetches it over plain HTTP)"
                ),
            )),
            Ok(_) => None,
        },
        (None, None) => None,
    }
}
