//! # mock-idp
//!
//! A mock OpenID Provider for testing relying parties: authorization code flow with PKCE,
//! client_secret_post / client_secret_basic / client_secret_jwt / private_key_jwt / none,
//! refresh tokens, userinfo,
//! introspection, revocation and logout, with groups placed anywhere in the tokens.
//!
//! Embedded in a test, on a random port, with the built-in demo tenant
//! (users alice, bob, carol; client `demo-rp` / `demo-secret`):
//!
//! ```no_run
//! # async fn example() {
//! let idp = mock_idp::MockIdp::start().await;
//! let discovery = format!("{}/.well-known/openid-configuration", idp.issuer());
//! // Point the relying party under test at `idp.issuer()`...
//! idp.clock().advance(3600); // ...and let an hour pass without sleeping.
//! # }
//! ```
//!
//! The same server runs standalone: `mock-idp serve [--config FILE] [--addr ADDR]`.

mod assertion;
mod authorization;
pub mod backchannel;
mod bearer_grant;
mod client_assertion;
mod client_keys;
mod clock;
pub mod config;
mod directory;
pub mod faults;
mod frontchannel;
pub mod grants;
mod http;
pub mod inspect;
pub mod journal;
pub mod keys;
mod lifecycle;
pub mod profiles;
mod published;
mod registry;
pub mod serve;
mod server;
mod tenant;
pub mod tls;
mod token_endpoint;
mod token_exchange;
pub mod tokens;
mod types;

pub use client_assertion::JWT_BEARER;
pub use clock::{Clock, UnixTime};
pub use config::{
    AccessTokenFormat, AssertionIssuer, ClientConfig, Config, ConfigError, Placement, Quirks,
    RefreshPolicy, SubjectMatch, TokenKind, UserConfig,
};
pub use directory::{Directory, User};
pub use http::{OAuthError, Params, routes, routes_for};
pub use lifecycle::{DirectoryError, UserPatch};
pub use registry::Registry;
pub use server::{Builder, MockIdp, SHUTDOWN_GRACE, StartError};
pub use tenant::{Paths, Tenant};
pub use types::{AuthMethod, GrantType, SigningAlg};
