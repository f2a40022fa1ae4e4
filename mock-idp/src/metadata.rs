//! The provider metadata of a tenant (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): what
//! its discovery document says, built from its configuration.

use serde::Serialize;

use crate::tenant::Tenant;
use crate::types::GrantType;

/// The provider metadata, fields in a stable order.
#[derive(Debug, Serialize)]
pub struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    end_session_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_authorization_endpoint: Option<String>,
    /// RFC 9126 §5, with `[par] enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pushed_authorization_request_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    require_pushed_authorization_requests: Option<bool>,
    /// RFC 7591 §3, with `[registration] enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_endpoint: Option<String>,
    /// Session Management §3.3, with `[session_management] enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    check_session_iframe: Option<String>,
    /// RFC 9449 §5.1, with `[dpop] enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop_signing_alg_values_supported: Option<Vec<&'static str>>,
    response_types_supported: Vec<&'static str>,
    response_modes_supported: Vec<&'static str>,
    grant_types_supported: Vec<&'static str>,
    subject_types_supported: Vec<&'static str>,
    id_token_signing_alg_values_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_endpoint_auth_signing_alg_values_supported: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    introspection_endpoint_auth_signing_alg_values_supported: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_endpoint_auth_signing_alg_values_supported: Option<Vec<&'static str>>,
    introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    scopes_supported: Vec<&'static str>,
    claims_supported: Vec<String>,
    /// OIDC Discovery §3: the tenant sends normal claims, and aggregated and distributed
    /// ones (OIDC Core §5.6.2) when a test arms `groups_aggregated` / `groups_distributed`.
    claim_types_supported: Vec<&'static str>,
    code_challenge_methods_supported: Vec<&'static str>,
    prompt_values_supported: Vec<&'static str>,
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    /// RFC 9101 §10.1, with `[jar] enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_object_signing_alg_values_supported: Option<Vec<&'static str>>,
    /// RFC 9101 §10.5, with `[jar] enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    require_signed_request_object: Option<bool>,
    request_uri_parameter_supported: bool,
    /// OIDC Discovery §3, with `[jar] enabled`: a `request_uri` must be registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    require_request_uri_registration: Option<bool>,
    authorization_response_iss_parameter_supported: bool,
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    frontchannel_logout_supported: bool,
    frontchannel_logout_session_supported: bool,
}

/// What a `private_key_jwt` assertion may be signed with (the client's own key).
const KEY_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// What a `client_secret_jwt` assertion may be signed with (HMAC with the secret).
const SECRET_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];

/// The client authentication methods the tenant's clients declare (every one, where
/// clients may register), in a fixed order.
fn auth_methods(t: &Tenant) -> Vec<&'static str> {
    use crate::types::AuthMethod as M;
    [
        M::ClientSecretPost,
        M::ClientSecretBasic,
        M::ClientSecretJwt,
        M::PrivateKeyJwt,
        M::None,
    ]
    .into_iter()
    .filter(|m| {
        t.config.registration.enabled || t.config.clients.iter().any(|c| c.auth_methods.contains(m))
    })
    .map(M::as_str)
    .collect()
}

/// The assertion algorithms for the JWT methods listed (RFC 8414 §2: present exactly
/// when one is).
fn assertion_algs(methods: &[&str]) -> Option<Vec<&'static str>> {
    let mut algs = Vec::new();
    if methods.contains(&"private_key_jwt") {
        algs.extend(KEY_ALGS);
    }
    if methods.contains(&"client_secret_jwt") {
        algs.extend(SECRET_ALGS);
    }
    (!algs.is_empty()).then_some(algs)
}

/// The metadata of a tenant.
pub fn metadata(t: &Tenant) -> Metadata {
    let url = |path: &str| t.url_of(path);
    let auth_methods = auth_methods(t);
    let algs = assertion_algs(&auth_methods);
    Metadata {
        issuer: t.iss().to_owned(),
        authorization_endpoint: url(&t.paths.authorization),
        token_endpoint: url(&t.paths.token),
        userinfo_endpoint: url(&t.paths.userinfo),
        jwks_uri: url(&t.paths.jwks),
        introspection_endpoint: url(&t.paths.introspection),
        revocation_endpoint: url(&t.paths.revocation),
        end_session_endpoint: url(&t.paths.end_session),
        device_authorization_endpoint: allows(t, GrantType::DeviceCode)
            .then(|| url(&t.paths.device_authorization)),
        pushed_authorization_request_endpoint: t.config.par.enabled.then(|| url(&t.paths.par)),
        require_pushed_authorization_requests: t
            .config
            .par
            .enabled
            .then_some(t.config.par.required),
        registration_endpoint: t
            .config
            .registration
            .enabled
            .then(|| url(&t.paths.registration)),
        check_session_iframe: t
            .config
            .session_management
            .enabled
            .then(|| url(&t.paths.check_session)),
        dpop_signing_alg_values_supported: t
            .config
            .dpop
            .enabled
            .then(|| crate::dpop::ALGS.to_vec()),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query", "form_post"],
        grant_types_supported: grant_types(t),
        subject_types_supported: vec![if t.config.quirks.pairwise_sub {
            "pairwise"
        } else {
            "public"
        }],
        id_token_signing_alg_values_supported: t
            .keys()
            .algs()
            .into_iter()
            .map(|a| a.as_str())
            .collect(),
        token_endpoint_auth_methods_supported: auth_methods.clone(),
        token_endpoint_auth_signing_alg_values_supported: algs.clone(),
        introspection_endpoint_auth_signing_alg_values_supported: algs.clone(),
        revocation_endpoint_auth_signing_alg_values_supported: algs,
        introspection_endpoint_auth_methods_supported: auth_methods.clone(),
        revocation_endpoint_auth_methods_supported: auth_methods,
        scopes_supported: vec!["openid", "profile", "email", "offline_access"],
        claims_supported: claims_supported(t),
        claim_types_supported: vec!["normal", "aggregated", "distributed"],
        code_challenge_methods_supported: vec!["S256", "plain"],
        prompt_values_supported: vec!["none", "login", "consent"],
        claims_parameter_supported: false,
        request_parameter_supported: t.config.jar.enabled,
        request_object_signing_alg_values_supported: t
            .config
            .jar
            .enabled
            .then(|| crate::jar::ALGS.to_vec()),
        require_signed_request_object: t.config.jar.enabled.then_some(t.config.jar.required),
        request_uri_parameter_supported: t.config.jar.enabled,
        require_request_uri_registration: t.config.jar.enabled.then_some(true),
        authorization_response_iss_parameter_supported: true,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        frontchannel_logout_supported: true,
        frontchannel_logout_session_supported: true,
    }
}

/// Whether a client of the tenant may use a grant.
fn allows(t: &Tenant, grant: GrantType) -> bool {
    t.config
        .clients
        .iter()
        .any(|c| c.grant_types.contains(&grant))
}

/// The grants the token endpoint takes: jwt-bearer where issuers are trusted, token
/// exchange and device_code where a client may use them.
fn grant_types(t: &Tenant) -> Vec<&'static str> {
    let mut g = vec!["authorization_code", "refresh_token", "client_credentials"];
    for extra in [GrantType::TokenExchange, GrantType::DeviceCode] {
        if allows(t, extra) {
            g.push(extra.as_str());
        }
    }
    if !t.config.assertion_issuers.is_empty() {
        g.push(GrantType::JwtBearer.as_str());
    }
    g
}

/// The claims the tenant's ID tokens and userinfo can carry: the standard ones, and the
/// top-level claim of each place its groups go (`groups`, `resource_access`, …).
fn claims_supported(t: &Tenant) -> Vec<String> {
    let mut claims: Vec<String> = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "azp",
        "at_hash",
        "sid",
        "preferred_username",
        "name",
        "email",
        "email_verified",
    ]
    .map(str::to_owned)
    .to_vec();
    for p in &t.config.groups.placements {
        if p.token == crate::config::TokenKind::AccessToken {
            continue;
        }
        // RFC 6901: the first reference token, unescaped.
        let first = p.pointer.split('/').nth(1).unwrap_or("");
        let name = first.replace("~1", "/").replace("~0", "~");
        if !name.is_empty() && !claims.contains(&name) {
            claims.push(name);
        }
    }
    claims
}
