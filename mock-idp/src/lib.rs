//! # mock-idp
//!
//! A mock OpenID Provider for testing relying parties: the authorization code flow with
//! PKCE, refresh tokens, userinfo, introspection, revocation, RP-initiated, back-channel
//! and front-channel logout, the client credentials, JWT bearer, token exchange and device
//! grants, client authentication by secret, by signed JWT or none, and groups placed
//! anywhere in the tokens.
//!
//! This page is the whole public API, in the order a test meets it.
//!
//! ## 1. Start an IdP
//!
//! [`MockIdp::start`] serves the built-in demo tenant (users alice, bob and carol; client
//! `demo-rp` / `demo-secret`) on a random loopback port. [`MockIdp::builder`] returns a
//! [`Builder`] that takes a [`Config`] (or a file, or a provider's [`profiles`]), users,
//! clients, HTTPS with a throw-away CA, and a deterministic seed. The IdP stops when
//! dropped, letting requests in flight finish within [`SHUTDOWN_GRACE`].
//!
//! ```no_run
//! # async fn example() {
//! let idp = mock_idp::MockIdp::start().await;
//! let discovery = idp.discovery_url();
//! // Point the relying party under test at `idp.issuer()`...
//! idp.clock().advance(3600); // ...and let an hour pass without sleeping.
//! # }
//! ```
//!
//! The same server runs standalone: `mock-idp serve [--config FILE] [--addr ADDR]`.
//!
//! ## 2. Configure what it issues
//!
//! [`config`] is the configuration model, the same as the TOML file's: [`Config`],
//! [`ClientConfig`], [`UserConfig`], [`Placement`]s (where the groups go: which token, which
//! JSON pointer), [`Quirks`] (how a real provider's tokens differ: a pairwise `sub`, group
//! ids, an overage…), [`AssertionIssuer`]s for the JWT bearer grant. [`AuthMethod`],
//! [`GrantType`] and [`SigningAlg`] name what a client or a key may use.
//!
//! ## 3. Change the world while the RP runs
//!
//! [`MockIdp::tenant`] gives the [`Tenant`]: its [`Clock`] (advance time instead of
//! sleeping), its users ([`Tenant::patch_user`] with a [`UserPatch`],
//! [`Tenant::delete_user`], [`Tenant::revoke_user`]), and its [`faults`]
//! ([`Tenant::arm_fault`]): a broken IdP or an attacker's token on demand, for the next
//! request or every one.
//!
//! ## 4. See what the RP did
//!
//! [`Tenant::journal`] returns the [`journal`]: every protocol request with its client,
//! user, outcome and the [`journal::Lint`]s it earned. [`inspect`] decodes a token the
//! tenant issued and checks its signature.
//!
//! A test of an RP's refusal and of its revocation, in those terms:
//!
//! ```no_run
//! use mock_idp::faults::{Fault, FaultScope};
//! use mock_idp::journal::Endpoint;
//! use mock_idp::{MockIdp, UserPatch};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let idp = MockIdp::start().await;
//! let tenant = idp.tenant();
//! // alice's next ID token is signed by a key the JWKS does not publish.
//! tenant.arm_fault(
//!     Fault::IdTokenUnknownKid,
//!     FaultScope { times: Some(1), user: Some("alice".into()), ..Default::default() },
//! );
//! // ...the RP logs alice in and must refuse her...
//! let redeemed = idp.journal().iter().any(|e| e.endpoint == Endpoint::Token && e.status == 200);
//! assert!(redeemed, "the RP never redeemed the code: the fault was never tested");
//!
//! // She leaves the "analysts" group, then the company: the RP must follow within its
//! // sync deadline, which the tenant's clock brings closer without sleeping.
//! tenant.patch_user("alice", UserPatch { groups: Some(vec![]), ..Default::default() })?;
//! idp.clock().advance(600);
//! tenant.delete_user("alice")?;
//! # Ok(())
//! # }
//! ```
//!
//! ## 5. Helpers
//!
//! Keys for a client that signs its own assertions ([`generate_pair`], [`SigningKey`]),
//! the group names a tenant puts in tokens ([`group_names`]), the `at_hash` of an access
//! token ([`at_hash`]), the back-channel logout event and delivery deadline, and the
//! bounds of the IdP's memory ([`LiveRecord`], [`KEEP_EXPIRED_FOR`]).
//!
//! ## 6. Embed the routes yourself
//!
//! [`routes`] (one tenant) and [`routes_for`] (a [`Registry`] of tenants) are the warp
//! filters behind [`MockIdp`], for a server of your own.
//!
//! ## How it is built: floors
//!
//! Each module imports only from its own floor or the floors below, and no import circle
//! runs inside a floor (`cargo test -p sso-tests --test floors` checks both):
//!
//! 1. values and time: `types`, `clock`, `key_material`, `faults`, `profiles`, `assertion`, `documents`, `token_exchange`, `tls`, `serve`
//! 2. the model: `config`, `keys`, `key_pool`, `client_keys`, `directory`, `grants`, `journal`, `bearer_grant`, `client_assertion`, `clients`
//! 3. the state: `tenant`, `registry`
//! 4. the protocol, plain functions over a tenant's state, no HTTP types: `tokens`, `par`, `jar`, `dpop`, `registration`, `session_state`, `metadata`, `published`, `authorization`, `backchannel`, `frontchannel`, `lifecycle`, `inspect`, `token_endpoint`
//! 5. the HTTP adapters: `http`
//! 6. the server, the command and this page: `server`, `cli`, `lib`, `main`

mod assertion;
mod authorization;
mod backchannel;
mod bearer_grant;
pub mod cli;
mod client_assertion;
mod client_keys;
mod clients;
mod clock;
pub mod config;
mod directory;
mod documents;
mod dpop;
pub mod faults;
mod frontchannel;
mod grants;
mod http;
mod inspect;
mod jar;
pub mod journal;
mod key_material;
pub mod key_pool;
mod keys;
mod lifecycle;
mod metadata;
mod par;
pub mod profiles;
mod published;
mod registration;
mod registry;
mod serve;
mod server;
mod session_state;
mod tenant;
mod tls;
mod token_endpoint;
mod token_exchange;
mod tokens;
mod types;

// 1. Start an IdP.
pub use server::{Builder, MockIdp, SHUTDOWN_GRACE, StartError};

// 2. Configure what it issues.
pub use client_assertion::JWT_BEARER;
pub use config::{
    AccessTokenFormat, AssertionIssuer, ClientConfig, Config, ConfigError, DiscoveryAsPublished,
    KeyFiles, Placement, Quirks, RefreshPolicy, SubjectMatch, TokenKind, UserConfig,
};
pub use types::{AuthMethod, GrantType, SigningAlg};

// 3. Change the world while the RP runs.
pub use clock::{Clock, UnixTime};
pub use directory::{Directory, User};
pub use lifecycle::{DirectoryError, UserPatch};
pub use registry::{Keys, Registry};
pub use tenant::{Paths, RecentToken, Tenant};

// 4. See what the RP did.
pub use inspect::{Claim, Inspection, Signature, inspect};

// 5. Helpers.
pub use backchannel::{
    DELIVERY_TIMEOUT as BACKCHANNEL_DELIVERY_TIMEOUT, EVENT as BACKCHANNEL_LOGOUT_EVENT,
};
pub use grants::{KEEP_EXPIRED_FOR, Record as LiveRecord};
pub use keys::{SigningKey, generate_pair, generate_pem};
pub use tokens::{at_hash, group_names};

// 6. Embed the routes yourself.
pub use http::{routes, routes_for};
