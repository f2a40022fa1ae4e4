//! The RP description (`rp.toml`): where the RP under test listens, how to read its `/me`,
//! what it declares (client auth, sync modes, groups claim, group map, capabilities), and
//! optionally how to launch it.

mod load;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A bad `rp.toml`: the file, line and what is wrong (naming the field).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct RpError {
    /// The file.
    pub file: String,
    /// The line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The permission-sync modes: strict, additive, or none.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Permissions are exactly the mapped groups.
    Strict,
    /// Mapped groups are added, never removed by sync.
    Additive,
    /// Groups are ignored.
    None,
}

impl SyncMode {
    /// The `SYNC_MODE` value.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Strict => "strict",
            SyncMode::Additive => "additive",
            SyncMode::None => "none",
        }
    }
}

impl std::str::FromStr for SyncMode {
    type Err = String;

    /// `strict`, `additive` or `none` (the command line's `--mode`).
    fn from_str(s: &str) -> Result<SyncMode, String> {
        [SyncMode::Strict, SyncMode::Additive, SyncMode::None]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("{s:?}: use strict, additive or none"))
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// Credentials in the form body (the default).
    #[default]
    ClientSecretPost,
    /// HTTP Basic.
    ClientSecretBasic,
    /// A JWT signed with the client secret (RFC 7523 §2.2, OIDC Core §9).
    ClientSecretJwt,
    /// A JWT signed with the RP's private key; the IdP holds its public keys
    /// (`client_jwks`, `client_jwks_uri`, or in launch mode a key the runner makes).
    PrivateKeyJwt,
}

impl ClientAuth {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::ClientSecretPost => "client_secret_post",
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::ClientSecretJwt => "client_secret_jwt",
            ClientAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// An RFC 6901 JSON pointer (`""` or starting with `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pointer(pub String);

impl TryFrom<String> for Pointer {
    type Error = String;
    fn try_from(s: String) -> Result<Pointer, String> {
        if s.is_empty() || s.starts_with('/') {
            Ok(Pointer(s))
        } else {
            Err(format!("{s:?} is not a JSON pointer: it must start with /"))
        }
    }
}

impl Pointer {
    /// Whether the RP shows this field: `""` in rp.toml says it does not (RFC 6901's
    /// whole-document pointer is never a field's value).
    pub fn shown(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<Pointer> for String {
    fn from(p: Pointer) -> String {
        p.0
    }
}

/// Which token carries the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupsToken {
    /// The ID token.
    IdToken,
    /// The access token (JWT).
    AccessToken,
}

/// `TOKEN:/pointer`, e.g. `access_token:/resource_access/reinfer.io/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupsClaim {
    /// The token.
    pub token: GroupsToken,
    /// Where in it.
    pub pointer: Pointer,
}

impl TryFrom<String> for GroupsClaim {
    type Error = String;
    fn try_from(s: String) -> Result<GroupsClaim, String> {
        let (token, pointer) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: expected TOKEN:/json/pointer, e.g. id_token:/groups"))?;
        let token = match token {
            "id_token" => GroupsToken::IdToken,
            "access_token" => GroupsToken::AccessToken,
            _ => return Err(format!("{token:?}: the token is id_token or access_token")),
        };
        Ok(GroupsClaim {
            token,
            pointer: Pointer::try_from(pointer.to_owned())?,
        })
    }
}

impl From<GroupsClaim> for String {
    fn from(g: GroupsClaim) -> String {
        let token = match g.token {
            GroupsToken::IdToken => "id_token",
            GroupsToken::AccessToken => "access_token",
        };
        format!("{token}:{}", g.pointer.0)
    }
}

/// Optional features of an RP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `POST /grant {"permission": "x"}` grants a permission through the webapp.
    Grant,
}

/// The RP's paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Paths {
    /// Starts a login.
    pub login: String,
    /// The registered redirect URI's path.
    pub callback: String,
    /// The current user, JSON, or 401.
    pub me: String,
    /// Ends the session.
    pub logout: String,
    /// Grants a permission (capability `grant`).
    pub grant: String,
    /// 2xx when ready; `""`: the RP has no health endpoint, and the runner waits for its
    /// port to accept connections.
    pub health: Option<String>,
    /// Where the IdP POSTs logout tokens (OpenID Connect Back-Channel Logout 1.0), if the
    /// RP supports it: registered as the client's `backchannel_logout_uri`, and the
    /// `logout.backchannel*` scenarios judge it. None: those scenarios do not apply.
    pub backchannel_logout: Option<String>,
    /// What the IdP's signed-out page loads in an iframe, with `iss` and `sid` (OpenID
    /// Connect Front-Channel Logout 1.0), if the RP supports it: registered as the
    /// client's `frontchannel_logout_uri`, and `logout.frontchannel` judges it. None: it
    /// does not apply.
    pub frontchannel_logout: Option<String>,
    /// Where the IdP sends the browser back after the RP's own logout, if the RP's
    /// `logout` is RP-initiated (OpenID Connect RP-Initiated Logout 1.0): it sends the
    /// browser to the IdP's `end_session_endpoint`, which returns it here. Registered as
    /// the client's `post_logout_redirect_uris`, and `logout.rp-initiated` judges it.
    /// None: it does not apply.
    pub post_logout_redirect: Option<String>,
    /// Where the RP publishes its request objects by reference (RFC 9101 §5.2), if it
    /// sends them so: the client's `request_uris` are registered as `BASE_URL`, this path
    /// and `*`, and the provider fetches each `request_uri` under it. None: request
    /// objects by reference are refused (an unregistered `request_uri`).
    pub request_objects: Option<String>,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            login: "/login".into(),
            callback: "/login/oauth2/callback".into(),
            me: "/me".into(),
            logout: "/logout".into(),
            grant: "/grant".into(),
            health: Some("/healthz".into()),
            backchannel_logout: None,
            frontchannel_logout: None,
            post_logout_redirect: None,
            request_objects: None,
        }
    }
}

/// JSON pointers into the RP's `/me` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MePointers {
    /// The IdP subject.
    pub sub: Pointer,
    /// Email.
    pub email: Pointer,
    /// Username.
    pub username: Pointer,
    /// Display name.
    pub name: Pointer,
    /// Permissions (an array of strings).
    pub permissions: Pointer,
    /// The RP's own account id, if it shows one (lets `identity.*` tell accounts apart).
    pub account: Option<Pointer>,
}

impl Default for MePointers {
    fn default() -> MePointers {
        let p = |s: &str| Pointer(s.into());
        MePointers {
            sub: p("/sub"),
            email: p("/email"),
            username: p("/username"),
            name: p("/name"),
            permissions: p("/permissions"),
            account: None,
        }
    }
}

/// The most characters of each token the RP can store (a database column, a cookie):
/// `conformance preflight` checks a real provider's tokens against them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLimits {
    /// ID token.
    pub id_token: Option<usize>,
    /// Access token.
    pub access_token: Option<usize>,
    /// Refresh token.
    pub refresh_token: Option<usize>,
}

/// Where the RP expects its IdP (attach mode).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpSection {
    /// The issuer the RP was started with: `<mock-idp origin>/t/<tenant>`.
    pub issuer: Option<String>,
}

/// How the runner starts the RP (launch mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Launch {
    /// Program and arguments; a relative program path is relative to the rp.toml's folder.
    pub command: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory (default: the rp.toml's folder).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// `SYNC_INTERVAL_S` given to the RP (default: a quarter of the sync deadline).
    #[serde(default)]
    pub sync_interval_s: Option<f64>,
    /// Seconds to wait for the health URL.
    #[serde(default = "default_startup")]
    pub startup_timeout_s: f64,
}

fn default_startup() -> f64 {
    60.0
}

fn default_client_id() -> String {
    "conformance-rp".into()
}

fn yes() -> bool {
    true
}

fn default_scopes() -> String {
    "openid profile email offline_access".into()
}

fn default_deadline() -> f64 {
    600.0
}

fn default_idp_timeout() -> f64 {
    10.0
}

/// The group map a launched RP gets when rp.toml names none: two groups of which one
/// extends the other, and a third apart from both, as the permission scenarios need.
pub fn default_group_map() -> BTreeMap<String, Vec<String>> {
    [
        ("analysts", &["read"][..]),
        ("admins", &["read", "write"]),
        ("auditors", &["audit"]),
    ]
    .into_iter()
    .map(|(g, ps)| (g.to_owned(), ps.iter().map(|p| (*p).to_owned()).collect()))
    .collect()
}

fn default_jwks_cooldown() -> f64 {
    60.0
}

fn default_modes() -> Vec<SyncMode> {
    vec![SyncMode::Strict]
}

fn default_groups_claim() -> GroupsClaim {
    GroupsClaim {
        token: GroupsToken::IdToken,
        pointer: Pointer("/groups".into()),
    }
}

/// The RP description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpDescription {
    /// Where the RP listens (required in attach mode; in launch mode the runner picks a port).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The client id the RP uses.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// The client secret (default in launch mode: a fresh one per run).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The client authentication the RP declares.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// For `private_key_jwt`: a file holding the RP's public keys as a JWK Set (relative
    /// to the rp.toml).
    #[serde(default)]
    pub client_jwks: Option<PathBuf>,
    /// For `private_key_jwt`: where the RP publishes its public keys (the IdP fetches it).
    #[serde(default)]
    pub client_jwks_uri: Option<String>,
    /// The scopes it should request.
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// The `prompt` the app sends with its login (OIDC Core §3.1.2.1), e.g. `consent`:
    /// some providers grant `offline_access` only after a consent prompt (§11). Preflight
    /// sends it too.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Whether the app's login sends PKCE (RFC 7636, S256), as RFC 9700 §2.1.1 recommends
    /// for every client; on by default. Preflight does as the app does.
    #[serde(default = "yes")]
    pub pkce: bool,
    /// Whether the app pushes its authorization requests (RFC 9126) to the provider's
    /// `pushed_authorization_request_endpoint`, the browser carrying only `client_id` and
    /// the `request_uri`; off by default. The run's tenant then takes pushed requests
    /// (without requiring them) and `login.par` judges the pushes.
    #[serde(default)]
    pub par: bool,
    /// Whether the app sends DPoP proofs (RFC 9449) with its token requests and uses the
    /// DPoP-bound access tokens it gets with a proof each time; off by default. The run's
    /// tenant then takes proofs and `login.dpop*` judge them.
    #[serde(default)]
    pub dpop: bool,
    /// Whether the app sends its authorization requests as signed request objects (RFC
    /// 9101, `request`); off by default. The run's tenant then takes them and `login.jar`
    /// judges them.
    #[serde(default)]
    pub jar: bool,
    /// Whether the app can register itself at the provider (RFC 7591): started with
    /// `REGISTRATION_TOKEN` (an initial access token) and an empty `CLIENT_ID`, it POSTs its
    /// metadata to discovery's `registration_endpoint` and logs users in with the
    /// credentials it gets; off by default. `login.registration` then starts it once more
    /// that way (launch mode).
    #[serde(default)]
    pub registration: bool,
    /// The sync modes it supports.
    #[serde(default = "default_modes")]
    pub sync_modes: Vec<SyncMode>,
    /// Where it reads groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: GroupsClaim,
    /// IdP group → permissions.
    #[serde(default)]
    pub group_map: BTreeMap<String, Vec<String>>,
    /// Seconds within which an IdP change must show at the RP (10 minutes by default).
    #[serde(default = "default_deadline")]
    pub sync_deadline_s: f64,
    /// Seconds the RP waits for the IdP before giving up (its HTTP client's timeout;
    /// `IDP_TIMEOUT_S` when launched): `sync.transient-idp-failure` hangs a refresh longer.
    #[serde(default = "default_idp_timeout")]
    pub idp_timeout_s: f64,
    /// Seconds the RP may take to accept a new signing key: its JWKS refetch cooldown or
    /// cache lifetime (the `jose` npm package refetches at most every 30 s).
    /// `idtoken.key-rotation` retries logins this long (at least three sync deadlines).
    #[serde(default = "default_jwks_cooldown")]
    pub jwks_cooldown_s: f64,
    /// Optional features.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// The most characters of each token the RP can store.
    #[serde(default)]
    pub token_limits: TokenLimits,
    /// Paths.
    #[serde(default)]
    pub paths: Paths,
    /// `/me` pointers.
    #[serde(default)]
    pub me: MePointers,
    /// Where the RP expects its IdP.
    #[serde(default)]
    pub idp: IdpSection,
    /// How to start the RP.
    #[serde(default)]
    pub launch: Option<Launch>,
    /// The folder of the rp.toml (for relative paths).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The shortest access-token lifetime of the run's tenant ([`RpDescription::access_lifetime_s`]).
pub const ACCESS_FLOOR_S: u64 = 5;

/// The tenant name of an issuer `<origin>/t/<name>`.
pub fn tenant_of(issuer: &url::Url) -> Option<String> {
    let name = issuer.path().strip_prefix("/t/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
}
