//! The configuration file: serde types, loading with located errors, validation.

mod features;
mod load;
mod provider;
mod validate;

pub use features::{Dpop, Jar, Registration, SessionManagement};
pub use load::{ConfigError, KeyFiles};
pub use provider::{
    DISCOVERY_FLAGS, DISCOVERY_LISTS, DISCOVERY_OPTIONAL_ENDPOINTS, DiscoveryAsPublished,
    ID_TOKEN_OPTIONAL, Quirks,
};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::{AuthMethod, GrantType, SigningAlg};

/// A tenant: issuer, keys, clients, users and token policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A provider profile this tenant is shaped like (`okta`, `keycloak`…; see
    /// [`crate::profiles`]); the file's own keys win over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The issuer URL. Its origin follows the bound address unless pinned (see the book,
    /// docs/src/mock/configuration.md).
    pub issuer: String,
    /// Algorithm of ID tokens and JWT access tokens unless a client asks for another.
    #[serde(default)]
    pub signing_alg: SigningAlg,
    /// Token and session lifetimes.
    #[serde(default)]
    pub lifetimes: Lifetimes,
    /// Where groups are placed in tokens.
    #[serde(default)]
    pub groups: Groups,
    /// Endpoint paths, relative to the server root.
    #[serde(default)]
    pub endpoints: Endpoints,
    /// Signing keys.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// The directory's users.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// How many requests the journal keeps (oldest dropped first).
    #[serde(default = "default_journal_capacity")]
    pub journal_capacity: usize,
    /// How much live state the tenant may hold.
    #[serde(default)]
    pub limits: Limits,
    /// Provider behaviours beyond the standard (profiles switch them on).
    #[serde(default)]
    pub quirks: Quirks,
    /// The discovery document as a provider publishes it (a captured profile says it).
    #[serde(default, skip_serializing_if = "DiscoveryAsPublished::is_empty")]
    pub discovery: DiscoveryAsPublished,
    /// Parties whose signed JWTs the token endpoint takes as authorization grants
    /// (`urn:ietf:params:oauth:grant-type:jwt-bearer`, RFC 7523 §2.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertion_issuers: Vec<AssertionIssuer>,
    /// Pushed authorization requests (RFC 9126).
    #[serde(default, skip_serializing_if = "Par::is_off")]
    pub par: Par,
    /// Sender-constrained tokens (RFC 9449).
    #[serde(default, skip_serializing_if = "Dpop::is_off")]
    pub dpop: Dpop,
    /// Signed request objects (RFC 9101).
    #[serde(default, skip_serializing_if = "Jar::is_off")]
    pub jar: Jar,
    /// OpenID Connect Session Management 1.0.
    #[serde(default, skip_serializing_if = "SessionManagement::is_off")]
    pub session_management: SessionManagement,
    /// Dynamic client registration (RFC 7591, RFC 7592).
    #[serde(default, skip_serializing_if = "Registration::is_off")]
    pub registration: Registration,
}

/// Pushed authorization requests (RFC 9126): a client POSTs its authorization request to
/// the tenant first (authenticated as at the token endpoint) and sends the browser to the
/// authorization endpoint with only `client_id` and the `request_uri` it got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Par {
    /// Serve the pushed authorization request endpoint and list it in discovery.
    pub enabled: bool,
    /// Every client must push its authorization requests
    /// (`require_pushed_authorization_requests`).
    pub required: bool,
    /// Seconds a `request_uri` is good for; it is good for one use.
    pub lifetime: u64,
}

impl Default for Par {
    fn default() -> Par {
        Par {
            enabled: false,
            required: false,
            lifetime: 60,
        }
    }
}

impl Par {
    fn is_off(&self) -> bool {
        *self == Par::default()
    }
}

/// A party that may present JWT bearer grants about the tenant's users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionIssuer {
    /// The `iss` of its assertions.
    pub issuer: String,
    /// Its public keys, inline (a JWK Set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    /// Where it publishes them (fetched like a client's `jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// How an assertion's `sub` names a user: by `username` or by `sub`.
    #[serde(default)]
    pub subject: SubjectMatch,
}

/// What an assertion's `sub` is matched with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectMatch {
    /// The user's `username` (the default).
    #[default]
    Username,
    /// The user's `sub`.
    Sub,
}

/// Caps on what a tenant holds, so memory follows them and not the requests served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// At most this many records of each kind (codes, pending logins, sessions, refresh
    /// tokens, grants, opaque access tokens, revoked JWT ids, device authorizations); past it the oldest record
    /// of that kind is evicted and the eviction journaled — but a revocation, which is
    /// refused instead (evicting it would bring the token back). JWT access tokens are not
    /// records.
    pub live_records: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            live_records: 20_000,
        }
    }
}

/// How many requests a journal keeps unless configured.
pub(crate) const DEFAULT_JOURNAL_CAPACITY: usize = 1000;

fn default_journal_capacity() -> usize {
    DEFAULT_JOURNAL_CAPACITY
}

/// Lifetimes in seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetimes {
    /// Authorization codes.
    pub code: u64,
    /// Access tokens.
    pub access_token: u64,
    /// ID tokens.
    pub id_token: u64,
    /// Refresh tokens (absolute, from issue).
    pub refresh_token: u64,
    /// The IdP's own login session (its cookie).
    pub session: u64,
    /// A device authorization: how long its user has to enter the code (RFC 8628 §3.2
    /// `expires_in`).
    pub device_code: u64,
    /// Not a lifetime: how many seconds a device waits between polls of the token
    /// endpoint (RFC 8628 §3.2 `interval`); a faster poll is told `slow_down` and the
    /// device's interval grows by 5 s. 0 lets devices poll at will.
    pub device_poll_interval: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: 60,
            access_token: 3600,
            id_token: 3600,
            refresh_token: 30 * 24 * 3600,
            session: 24 * 3600,
            device_code: 600,
            device_poll_interval: 5,
        }
    }
}

/// Group claims.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Groups {
    /// Every place the user's groups are written to.
    #[serde(default)]
    pub placements: Vec<Placement>,
}

/// One place a user's groups appear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Which token (or the userinfo response).
    pub token: TokenKind,
    /// An RFC 6901 JSON pointer, e.g. `/resource_access/reinfer.io/roles`.
    pub pointer: String,
    /// Write a single group as a string instead of a one-element array (as AD FS does).
    #[serde(default)]
    pub single_as_string: bool,
    /// Leave the claim out when the user is in no group (as Okta and Entra ID do), instead
    /// of writing an empty array.
    #[serde(default)]
    pub omit_when_empty: bool,
    /// Every group in one string, joined by this separator (Glewlwyd's access-token
    /// claims: `","`), instead of an array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<String>,
}

/// Where claims can be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The ID token.
    IdToken,
    /// The access token (JWT format only; opaque tokens carry no claims).
    AccessToken,
    /// The userinfo response.
    Userinfo,
}

/// Endpoint paths. Defaults put every endpoint under the issuer's path.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// Authorization endpoint (default `<issuer path>/authorize`).
    pub authorization: Option<String>,
    /// Token endpoint (default `<issuer path>/token`).
    pub token: Option<String>,
    /// Userinfo endpoint (default `<issuer path>/userinfo`).
    pub userinfo: Option<String>,
    /// Introspection endpoint (default `<issuer path>/introspect`).
    pub introspection: Option<String>,
    /// Revocation endpoint (default `<issuer path>/revoke`).
    pub revocation: Option<String>,
    /// RP-initiated logout (default `<issuer path>/end_session`).
    pub end_session: Option<String>,
    /// Device authorization (RFC 8628 §3.1; default `<issuer path>/device_authorization`).
    /// Its user-facing verification page is `<issuer path>/device`.
    pub device_authorization: Option<String>,
    /// JWKS (default `<issuer path>/jwks`).
    pub jwks: Option<String>,
    /// The groups of an overage (`quirks.groups_overage`; default `<issuer path>/groups`).
    pub groups: Option<String>,
    /// Pushed authorization requests (RFC 9126; served with `[par] enabled`; default
    /// `<issuer path>/par`).
    pub par: Option<String>,
    /// Dynamic client registration (RFC 7591; served with `[registration] enabled`;
    /// default `<issuer path>/register`). A registration is managed at this path
    /// followed by `/<client_id>` (RFC 7592).
    pub registration: Option<String>,
}

/// A signing key loaded from a PEM file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Key id, published in the JWKS and every token header.
    pub kid: String,
    /// The algorithm this key signs with.
    pub alg: SigningAlg,
    /// PKCS#8 (or PKCS#1 for RSA) PEM file, relative to the config file.
    pub pem_file: String,
}

/// When a client gets refresh tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshPolicy {
    /// On every authorization_code grant.
    Always,
    /// Only when the scope includes `offline_access`.
    #[default]
    WithOfflineAccess,
    /// Only when the scope includes `offline_access` and the authorization request had
    /// `prompt=consent`: without it `offline_access` is dropped from the granted scope (OIDC
    /// Core §11; panva's oidc-provider does this by default).
    WithConsent,
    /// Never.
    Never,
}

/// Access token format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// RFC 9068 JWT.
    #[default]
    Jwt,
    /// A random string; claims only through userinfo and introspection.
    Opaque,
}

/// A registered client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// client_id.
    pub id: String,
    /// client_secret (absent for public clients).
    #[serde(default)]
    pub secret: Option<String>,
    /// Registered redirect URIs. A loopback URI without a port matches any port.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where end_session may send the browser.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Client authentication methods accepted at the token, introspection and revocation endpoints.
    #[serde(default = "default_auth_methods")]
    pub auth_methods: Vec<AuthMethod>,
    /// Grant types this client may use.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    /// Access token format.
    #[serde(default)]
    pub access_token_format: AccessTokenFormat,
    /// When refresh tokens are issued.
    #[serde(default)]
    pub refresh_tokens: RefreshPolicy,
    /// Overrides the tenant's `signing_alg` for this client's tokens.
    #[serde(default)]
    pub signing_alg: Option<SigningAlg>,
    /// `aud` of JWT access tokens (default: the client id).
    #[serde(default)]
    pub access_token_audience: Option<String>,
    /// How this client's refresh tokens live, rotate and die.
    #[serde(default)]
    pub refresh_policy: RefreshTokenPolicy,
    /// Where the IdP POSTs a logout token when a session of this client's users ends
    /// (OpenID Connect Back-Channel Logout 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// What the IdP's signed-out page loads in an iframe, with `iss` and `sid`, when a
    /// session of this client's users ends there (OpenID Connect Front-Channel Logout 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// The client's public keys, for `private_key_jwt`: a JWK Set (RFC 7517 §5), inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    /// Where the client publishes its public keys, for `private_key_jwt` (fetched when an
    /// assertion names a key the IdP does not hold yet; RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// This client must push its authorization requests (RFC 9126 §6; needs `[par]
    /// enabled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// Every token request of this client must carry a DPoP proof, so every access token
    /// it gets is DPoP-bound (`dpop_bound_access_tokens`, RFC 9449 §5.2; needs `[dpop]
    /// enabled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// PKCE with S256 is required of this client though it is confidential (public
    /// clients always need PKCE): FAPI 2.0 Security Profile, RFC 9700 §2.1.1.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pkce: bool,
    /// This client must send its authorization requests as signed request objects (RFC
    /// 9101 §10.5 `require_signed_request_object`; needs `[jar] enabled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_signed_request_object: bool,
    /// Where this client publishes request objects by reference (RFC 9101 §5.2; OIDC Core
    /// §6.2 `request_uris`): a `request_uri` the authorization endpoint fetches must be
    /// one of these, or start with one that ends in `*` (needs `[jar] enabled`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_uris: Vec<String>,
}

impl ClientConfig {
    /// A client with this id and every other field at its default (as a config file's
    /// `[[clients]]` with `id` alone): no secret, no redirect URI, `client_secret_post`
    /// and `client_secret_basic`, the code and refresh grants.
    pub fn new(id: impl Into<String>) -> ClientConfig {
        ClientConfig {
            id: id.into(),
            secret: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            auth_methods: default_auth_methods(),
            grant_types: default_grant_types(),
            access_token_format: AccessTokenFormat::default(),
            refresh_tokens: RefreshPolicy::default(),
            signing_alg: None,
            access_token_audience: None,
            refresh_policy: RefreshTokenPolicy::default(),
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            jwks: None,
            jwks_uri: None,
            require_pushed_authorization_requests: false,
            dpop_bound_access_tokens: false,
            require_pkce: false,
            require_signed_request_object: false,
            request_uris: Vec::new(),
        }
    }

    /// A public client: no authentication but `none` (RFC 6749 §2.1).
    pub fn is_public(&self) -> bool {
        self.auth_methods.iter().all(|m| *m == AuthMethod::None)
    }
}

/// A client's refresh-token lifecycle (the knobs real providers expose).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RefreshTokenPolicy {
    /// Seconds a token may stay unused before it dies (none: no idle expiry).
    pub idle: Option<u64>,
    /// Seconds from the first issue after which the whole family dies, rotation or not
    /// (default: `lifetimes.refresh_token`).
    pub absolute: Option<u64>,
    /// Every use returns a new refresh token and spends the old one.
    pub rotate: bool,
    /// Seconds a spent token is still accepted (Okta's grace period). Outside it, a spent
    /// token presented again revokes its whole family (reuse detection, as Okta and Auth0).
    pub reuse_grace: u64,
    /// Tokens die with the IdP session (end_session) instead of outliving it (offline).
    pub session_bound: bool,
}

fn default_auth_methods() -> Vec<AuthMethod> {
    vec![AuthMethod::ClientSecretPost, AuthMethod::ClientSecretBasic]
}

fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
}

/// A user of the directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Login name; also `preferred_username` unless overridden.
    pub username: String,
    /// Stable subject identifier.
    pub sub: String,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// `email_verified` (default true when there is an email).
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `preferred_username` when it differs from the login name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// When set, the login page asks for it.
    #[serde(default)]
    pub password: Option<String>,
    /// Extra claims added to the ID token and userinfo (`given_name`, `locale`, anything).
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// A disabled user cannot log in, and their tokens stop working.
    #[serde(default)]
    pub disabled: bool,
}
