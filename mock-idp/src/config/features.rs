//! `[dpop]`, `[jar]`, `[session_management]` and `[registration]`: sender-constrained tokens
//! (RFC 9449), signed request objects (RFC 9101), OIDC Session Management 1.0, dynamic
//! client registration (RFC 7591, RFC 7592).

use serde::{Deserialize, Serialize};

/// DPoP: a token request carrying a proof gets tokens bound to the proof's key, which the
/// resource endpoints (userinfo, groups, claims) then take only with a proof by that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dpop {
    /// Take DPoP proofs and list `dpop_signing_alg_values_supported` in discovery. Off, a
    /// `DPoP` header is ignored and tokens are bearer tokens, as at a provider without
    /// DPoP.
    pub enabled: bool,
    /// Proofs must carry a nonce the server handed out (`DPoP-Nonce`; the first request
    /// of a client is refused with `use_dpop_nonce`, RFC 9449 §8, §9).
    pub nonce: bool,
    /// How far (seconds) a proof's `iat` may be from the server's time; a proof's `jti` is
    /// refused a second time within it.
    pub window: u64,
}

impl Default for Dpop {
    fn default() -> Dpop {
        Dpop {
            enabled: false,
            nonce: false,
            window: 60,
        }
    }
}

impl Dpop {
    pub(crate) fn is_off(&self) -> bool {
        *self == Dpop::default()
    }
}

/// Signed request objects (RFC 9101, JAR): the authorization request (or a pushed one)
/// as a JWT the client signed, passed by value in `request`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Jar {
    /// Take `request` objects, signed with the client's registered keys (or HS256 with its
    /// secret), and say so in discovery (`request_parameter_supported`).
    pub enabled: bool,
    /// Every client must send its authorization requests as signed request objects
    /// (`require_signed_request_object`).
    pub required: bool,
}

impl Jar {
    pub(crate) fn is_off(&self) -> bool {
        *self == Jar::default()
    }
}

/// OpenID Connect Session Management 1.0: `session_state` in each authorization response
/// and a `check_session_iframe` an RP polls to learn that the browser's IdP session
/// changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionManagement {
    /// Serve `<issuer path>/check_session`, list it in discovery, send `session_state`.
    pub enabled: bool,
}

impl SessionManagement {
    pub(crate) fn is_off(&self) -> bool {
        *self == SessionManagement::default()
    }
}

/// Dynamic client registration (RFC 7591) and its management (RFC 7592): a client POSTs
/// its metadata to the registration endpoint and gets a `client_id` (and secret), which
/// the tenant then takes like a configured client's, and a registration access token to
/// read, update or delete its registration with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Registration {
    /// Serve the registration endpoint and list it in discovery (`registration_endpoint`).
    pub enabled: bool,
    /// The initial access token a registration must carry as a bearer token (RFC 7591
    /// §3); none: registration is open, as RFC 7591 allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_access_token: Option<String>,
    /// A configured client whose settings registered clients start from (its refresh
    /// token policy, access token format and audience, signing algorithm); what a
    /// client registers (redirect URIs, authentication, grants, keys) replaces the rest.
    /// None: a configured client's defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Seconds a registered client's secret is good for (`client_secret_expires_at`);
    /// 0: it does not expire. An expired secret is refused at the token endpoint, as a
    /// provider that rotates secrets would: the client registers again.
    pub secret_lifetime: u64,
}

impl Registration {
    pub(crate) fn is_off(&self) -> bool {
        *self == Registration::default()
    }
}
