//! The token endpoint's grants as protocol (RFC 6749 §4.1.3, §4.4, §6; RFC 7523 §2.1;
//! RFC 8628 §3.4; RFC 8693): a typed request in, a token response or a refusal out, no
//! HTTP types. `http/token.rs` parses the form, authenticates the client, checks that it
//! may use the grant, fires the faults and answers; adding a grant is a module here and
//! one line in [`issue`].

mod client_credentials;
mod code;
mod device;
mod exchange;
mod jwt_bearer;
mod refresh;

pub use refresh::refused_refresh;

use crate::config::ClientConfig;
use crate::journal::Entry;
use crate::tenant::Tenant;
use crate::tokens::TokenResponse;
use crate::types::GrantType;

/// The parameters the grants read, each at most once (the adapter refuses duplicates).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TokenRequest<'a> {
    /// `code` (authorization_code).
    pub code: Option<&'a str>,
    /// `redirect_uri` (authorization_code).
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` (authorization_code, PKCE).
    pub code_verifier: Option<&'a str>,
    /// `refresh_token`.
    pub refresh_token: Option<&'a str>,
    /// `scope`, split on spaces.
    pub scope: Vec<String>,
    /// `assertion` (jwt-bearer).
    pub assertion: Option<&'a str>,
    /// `device_code` (device_code).
    pub device_code: Option<&'a str>,
    /// `subject_token` (token exchange).
    pub subject_token: Option<&'a str>,
    /// `subject_token_type`.
    pub subject_token_type: Option<&'a str>,
    /// `actor_token`.
    pub actor_token: Option<&'a str>,
    /// `actor_token_type`.
    pub actor_token_type: Option<&'a str>,
    /// `audience`.
    pub audience: Option<&'a str>,
    /// `resource`.
    pub resource: Option<&'a str>,
    /// `requested_token_type`.
    pub requested_token_type: Option<&'a str>,
    /// The key thumbprint of the request's checked DPoP proof (RFC 9449): the tokens are
    /// bound to it.
    pub dpop_jkt: Option<&'a str>,
}

impl<'a> TokenRequest<'a> {
    /// A parameter the grant cannot do without.
    fn require(value: Option<&'a str>, name: &str) -> Result<&'a str, TokenError> {
        value.ok_or_else(|| TokenError::invalid_request(format!("missing parameter {name}")))
    }
}

/// A refused token request (RFC 6749 §5.2): the error code, why, and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// The HTTP status (400 unless said otherwise).
    pub status: u16,
    /// The `error` code.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl TokenError {
    /// A 400 with this code.
    pub fn new(error: &'static str, description: impl Into<String>) -> TokenError {
        TokenError {
            status: 400,
            error,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_request", description)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_grant", description)
    }

    /// 500 `server_error`.
    pub fn server_error(description: impl Into<String>) -> TokenError {
        TokenError {
            status: 500,
            ..TokenError::new("server_error", description)
        }
    }
}

/// Issues what `grant_type` grants `client` (already authenticated and allowed the grant);
/// the journal entry gets the user the grant turned out to be for.
pub fn issue(
    t: &Tenant,
    client: &ClientConfig,
    grant_type: GrantType,
    req: &TokenRequest<'_>,
    entry: &mut Entry,
) -> Result<TokenResponse, TokenError> {
    match grant_type {
        GrantType::AuthorizationCode => code::authorization_code(t, client, req, entry),
        GrantType::RefreshToken => refresh::refresh_token(t, client, req, entry),
        GrantType::ClientCredentials => client_credentials::client_credentials(t, client, req),
        GrantType::JwtBearer => jwt_bearer::jwt_bearer(t, client, req, entry),
        GrantType::TokenExchange => exchange::exchange(t, client, req, entry),
        GrantType::DeviceCode => device::device_code(t, client, req, entry),
    }
}

/// The user behind the code, refresh token or device code a request presents, known
/// before the client is authenticated or the grant checked: refused requests are
/// journaled under their user too, and faults scoped by user find them.
pub fn presented_user(t: &Tenant, grant_type: GrantType, req: &TokenRequest<'_>) -> Option<String> {
    let grants = t.lock_grants();
    let grant = match grant_type {
        GrantType::AuthorizationCode => grants.codes.get(req.code?).map(|c| &c.grant),
        GrantType::RefreshToken => grants.refresh.get(req.refresh_token?).map(|r| &r.grant),
        GrantType::DeviceCode => return grants.device_user(req.device_code?),
        GrantType::ClientCredentials | GrantType::JwtBearer | GrantType::TokenExchange => None,
    };
    grant.and_then(|g| g.username.clone())
}

/// The requested scope of a grant that issues an access token alone: `openid` (an ID
/// token) and `offline_access` (a refresh token) are `invalid_scope`, saying `why`.
fn access_only_scope(scope: &[String], why: &str) -> Result<Vec<String>, TokenError> {
    match scope
        .iter()
        .find(|s| *s == "openid" || *s == "offline_access")
    {
        Some(s) => Err(TokenError::new(
            "invalid_scope",
            format!("scope {s:?}: {why}"),
        )),
        None => Ok(scope.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::config::{Config, KeyFiles};

    fn tenant() -> Tenant {
        let mut c = Config::builtin();
        c.clients[0].grant_types.push(GrantType::ClientCredentials);
        Tenant::new(
            c,
            "http://idp.test".into(),
            &KeyFiles::BuiltIn,
            Clock::fixed(1_800_000_000),
            Some(1),
        )
        .unwrap()
    }

    fn entry() -> Entry {
        let none = crate::http::Params::default();
        Entry::new(crate::journal::Endpoint::Token, "POST", &none, &none)
    }

    #[test]
    fn a_grant_is_issued_without_a_socket() {
        let t = tenant();
        let client = t.client("demo-rp").unwrap().clone();
        let req = TokenRequest {
            scope: vec!["profile".into()],
            ..TokenRequest::default()
        };
        let body = issue(
            &t,
            &client,
            GrantType::ClientCredentials,
            &req,
            &mut entry(),
        )
        .unwrap();
        assert_eq!(
            (body.scope.as_deref(), body.id_token.is_none()),
            (Some("profile"), true)
        );
    }

    #[test]
    fn refusals_carry_their_code_status_and_reason() {
        let t = tenant();
        let client = t.client("demo-rp").unwrap().clone();
        let openid = TokenRequest {
            scope: vec!["openid".into()],
            ..TokenRequest::default()
        };
        let e = issue(
            &t,
            &client,
            GrantType::ClientCredentials,
            &openid,
            &mut entry(),
        )
        .unwrap_err();
        assert_eq!((e.status, e.error), (400, "invalid_scope"));
        let e = issue(
            &t,
            &client,
            GrantType::AuthorizationCode,
            &TokenRequest::default(),
            &mut entry(),
        )
        .unwrap_err();
        assert_eq!(
            (e.error, e.description.as_str()),
            ("invalid_request", "missing parameter code")
        );
        let spent = TokenRequest {
            code: Some("no-such-code"),
            ..TokenRequest::default()
        };
        let e = issue(
            &t,
            &client,
            GrantType::AuthorizationCode,
            &spent,
            &mut entry(),
        )
        .unwrap_err();
        assert_eq!(e.error, "invalid_grant");
        assert_eq!(
            presented_user(&t, GrantType::AuthorizationCode, &spent),
            None
        );
    }
}
