//! How a provider's tenant departs from the standard: its quirks (what its tokens and
//! answers do differently) and its discovery document as it publishes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Provider behaviours a profile switches on (a config file may too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quirks {
    /// `sub` differs per client (a hash of client and user), the user's own id goes in
    /// `oid` (Entra ID's pairwise subject).
    pub pairwise_sub: bool,
    /// A `tid` claim with this tenant id (Entra ID).
    pub tenant_id: Option<String>,
    /// No `email` claim even with scope `email` (Entra ID without the optional claim).
    pub omit_email: bool,
    /// Groups as stable object ids (UUIDs derived from the names) instead of names
    /// (Entra ID).
    pub group_ids: bool,
    /// Over this many groups, no groups claim: `_claim_names` / `_claim_sources` point at
    /// the groups endpoint, which answers them to the access token (Entra ID: 200).
    pub groups_overage: Option<usize>,
    /// The `error_description` of every refused refresh, as the provider words it.
    pub invalid_grant_description: Option<String>,
    /// The HTTP status of a refresh refused because the user is disabled (Auth0: 403).
    pub disabled_user_status: Option<u16>,
    /// A wrong client secret is 401 `unauthorized_client`, not `invalid_client` (Keycloak).
    pub bad_secret_unauthorized_client: bool,
    /// A `typ` claim in the ID token (Keycloak: `ID`).
    pub id_token_typ: Option<String>,
    /// An `hd` claim with the email's domain (Google Workspace users).
    pub hosted_domain: bool,
    /// Userinfo answers `sub` and nothing else (AD FS).
    pub userinfo_sub_only: bool,
    /// The issuer that discovery, every token and the authorization response name, while
    /// the tenant is still served at its own URL: a discovery document whose `issuer` is
    /// not where it was fetched from, which OIDC Discovery §4.3 says an RP must not use
    /// (an RP pointed at a multi-tenant endpoint, or at an attacker's copy, meets it).
    pub advertised_issuer: Option<String>,
    /// A refresh returns no ID token (OIDC Core §12.2 allows it; Glewlwyd does so).
    pub refresh_without_id_token: bool,
    /// The token response names no `scope` (RFC 6749 §5.1 allows it when the scope granted
    /// is the one asked; django-oidc-provider does so).
    pub omit_token_scope: bool,
    /// No `email_verified` claim (Glewlwyd sends none).
    pub omit_email_verified: bool,
    /// An authorization request carrying PKCE is refused with `invalid_request` and no
    /// description, as Glewlwyd does for a client without "PKCE allowed".
    pub pkce_refused: bool,
    /// A refreshed ID token carries the login's `nonce` (OIDC Core §12.2 as amended lets it
    /// be absent or the same; panva's oidc-provider keeps it).
    pub refresh_keeps_nonce: bool,
    /// Claims the provider's ID tokens lack among those the mock adds: `auth_time`, `azp`,
    /// `at_hash`, `sid`.
    pub id_token_omit: Vec<String>,
    /// ID tokens without a `typ` header (the mock's say `JWT`).
    pub omit_id_token_header_typ: bool,
    /// A `c_hash` claim (OIDC Core §3.3.2.11) in the ID token of a code exchange, as
    /// Glewlwyd sends in the code flow too.
    pub id_token_c_hash: bool,
    /// An `amr` claim with these authentication methods (RFC 8176), e.g. `["pwd"]`.
    pub id_token_amr: Vec<String>,
}

/// The ID token claims `quirks.id_token_omit` may leave out.
pub const ID_TOKEN_OPTIONAL: &[&str] = &["auth_time", "azp", "at_hash", "sid"];

/// The discovery document as a provider publishes it: metadata values in place of the
/// mock's own, and members the provider does not publish left out. The mock still serves
/// what it implements; this changes only what the document says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoveryAsPublished {
    /// Members left out of the document (one of [`DISCOVERY_LISTS`], [`DISCOVERY_FLAGS`]
    /// or [`DISCOVERY_OPTIONAL_ENDPOINTS`]).
    pub omit: Vec<String>,
    /// Members' values as the provider publishes them: a list of strings for one of
    /// [`DISCOVERY_LISTS`], a boolean for one of [`DISCOVERY_FLAGS`].
    pub values: BTreeMap<String, serde_json::Value>,
}

impl DiscoveryAsPublished {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.omit.is_empty() && self.values.is_empty()
    }

    /// The mock's document with the provider's values and omissions.
    pub fn apply(
        &self,
        mut doc: serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Map<String, serde_json::Value> {
        for (k, v) in &self.values {
            doc.insert(k.clone(), v.clone());
        }
        for k in &self.omit {
            doc.remove(k);
        }
        doc
    }
}

/// Discovery members that are lists of strings (OpenID Connect Discovery 1.0 §3, RFC 8414
/// §2, RFC 9207): a profile may state them as the provider publishes them.
pub const DISCOVERY_LISTS: &[&str] = &[
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported",
    "scopes_supported",
    "claims_supported",
    "claim_types_supported",
    "code_challenge_methods_supported",
    "prompt_values_supported",
    "dpop_signing_alg_values_supported",
];

/// Discovery members that are booleans.
pub const DISCOVERY_FLAGS: &[&str] = &[
    "claims_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "authorization_response_iss_parameter_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "frontchannel_logout_supported",
    "frontchannel_logout_session_supported",
];

/// Endpoints a provider may not publish (the authorization and token endpoints and the
/// JWKS always are).
pub const DISCOVERY_OPTIONAL_ENDPOINTS: &[&str] = &[
    "userinfo_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "end_session_endpoint",
    "device_authorization_endpoint",
    "pushed_authorization_request_endpoint",
    "registration_endpoint",
    "check_session_iframe",
];
