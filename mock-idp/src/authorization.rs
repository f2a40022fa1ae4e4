//! The authorization endpoint's rules (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2): a
//! request's parameters validated, who signs in (the IdP session, `prompt`, `max_age`,
//! `login_hint`), and the code issued. No HTTP types: `http/authorize.rs` reads the
//! parameters, the cookie and the login form, and answers (a redirect, a form_post page,
//! the login page, an error page).

use std::sync::Arc;

use crate::clock::UnixTime;
use crate::config::{ClientConfig, Quirks, RefreshPolicy};
use crate::faults::{Fault, FaultPoint, Target};
use crate::grants::{CodeRecord, Grant, Pkce, PkceMethod, Session, valid_pkce_string};
use crate::journal::Entry;
use crate::tenant::Tenant;
use crate::types::{AuthMethod, GrantType};

/// The parameters as sent (each at most once; the adapter refuses duplicates).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'a> {
    /// `response_type`.
    pub response_type: Option<&'a str>,
    /// `response_mode`.
    pub response_mode: Option<&'a str>,
    /// `scope`, split on spaces.
    pub scope: Vec<String>,
    /// `nonce`.
    pub nonce: Option<&'a str>,
    /// `code_challenge`.
    pub code_challenge: Option<&'a str>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<&'a str>,
    /// `prompt`, split on spaces.
    pub prompt: Vec<String>,
    /// `max_age`.
    pub max_age: Option<&'a str>,
    /// `login_hint`.
    pub login_hint: Option<&'a str>,
    /// Whether a `request` object was sent.
    pub request: bool,
    /// Whether a `request_uri` was sent.
    pub request_uri: bool,
}

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The registered redirect URI it names.
    pub redirect_uri: &'a str,
    /// The scopes, in request order.
    pub scope: Vec<String>,
    /// `nonce`.
    pub nonce: Option<&'a str>,
    /// The PKCE challenge.
    pub pkce: Option<Pkce>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`.
    pub login_hint: Option<&'a str>,
}

/// An error sent back to the client (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// The `error` code.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl AuthError {
    /// An error with this code.
    pub fn new(error: &'static str, description: impl Into<String>) -> AuthError {
        AuthError {
            error,
            description: description.into(),
        }
    }
}

/// Checks a request for `client` whose `redirect_uri` is registered, at a tenant with
/// these quirks.
pub fn validate<'a>(
    p: &Params<'a>,
    client: &ClientConfig,
    redirect_uri: &'a str,
    quirks: &Quirks,
) -> Result<Request<'a>, AuthError> {
    let bad = |error, description: &str| Err(AuthError::new(error, description));
    match p.response_type {
        None => return bad("invalid_request", "missing parameter response_type"),
        Some("code") => {}
        Some(other) => {
            return bad(
                "unsupported_response_type",
                &format!("response_type {other:?} is not supported; use code"),
            );
        }
    }
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return bad(
            "unauthorized_client",
            "this client may not use the authorization code grant",
        );
    }
    if p.request {
        return bad("request_not_supported", "request objects are not supported");
    }
    if p.request_uri {
        return bad("request_uri_not_supported", "request_uri is not supported");
    }
    if let Some(mode) = p.response_mode
        && !matches!(mode, "query" | "form_post")
    {
        return bad(
            "invalid_request",
            &format!("response_mode {mode:?} is not supported; use query or form_post"),
        );
    }
    if p.scope.is_empty() {
        return bad(
            "invalid_scope",
            "missing scope (OpenID Connect requests need at least `openid`)",
        );
    }
    if quirks.pkce_refused && (p.code_challenge.is_some() || p.code_challenge_method.is_some()) {
        // As the provider answers it: the error alone.
        return bad("invalid_request", "");
    }
    let pkce = pkce(p, client)?;
    if let Some(v) = p
        .prompt
        .iter()
        .find(|v| !matches!(v.as_str(), "none" | "login" | "consent" | "select_account"))
    {
        return bad("invalid_request", &format!("unknown prompt value {v:?}"));
    }
    if p.prompt.len() > 1 && p.prompt.iter().any(|v| v == "none") {
        return bad(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    let max_age = match p.max_age {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => {
                return bad(
                    "invalid_request",
                    &format!("max_age {s:?} is not a number of seconds"),
                );
            }
        },
    };
    Ok(Request {
        redirect_uri,
        scope: p.scope.clone(),
        nonce: p.nonce,
        pkce,
        prompt: p.prompt.clone(),
        max_age,
        login_hint: p.login_hint,
    })
}

/// The PKCE challenge (RFC 7636 §4.3), required of public clients (RFC 9700 §2.1.1).
fn pkce(p: &Params<'_>, client: &ClientConfig) -> Result<Option<Pkce>, AuthError> {
    let bad = |d: &str| AuthError::new("invalid_request", d);
    let Some(challenge) = p.code_challenge else {
        if p.code_challenge_method.is_some() {
            return Err(bad("code_challenge_method without code_challenge"));
        }
        let public = client.auth_methods.iter().all(|m| *m == AuthMethod::None);
        if public {
            return Err(bad(
                "PKCE is required for public clients: send code_challenge (RFC 9700 §2.1.1)",
            ));
        }
        if client.require_pkce {
            return Err(bad(&format!(
                "PKCE with S256 is required of client {:?}: send code_challenge (require_pkce; FAPI 2.0 Security Profile, RFC 9700 §2.1.1)",
                client.id
            )));
        }
        return Ok(None);
    };
    let method = PkceMethod::parse(p.code_challenge_method)
        .ok_or_else(|| bad("code_challenge_method must be S256 or plain"))?;
    if client.require_pkce && method != PkceMethod::S256 {
        return Err(bad(&format!(
            "client {:?} must use code_challenge_method S256 (require_pkce; FAPI 2.0 Security Profile)",
            client.id
        )));
    }
    if !valid_pkce_string(challenge) {
        return Err(bad(
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)",
        ));
    }
    Ok(Some(Pkce {
        method,
        challenge: challenge.to_owned(),
    }))
}

/// The IdP session `sid`, if it exists, its user still does, and the request accepts it
/// (no `prompt=login`/`select_account`, a `max_age` not passed).
pub fn current_session(
    t: &Tenant,
    sid: Option<&str>,
    req: &Request<'_>,
    now: UnixTime,
) -> Option<(String, Session)> {
    let sid = sid?;
    let session = t.lock_grants().session(sid, now)?.clone();
    if req
        .prompt
        .iter()
        .any(|p| p == "login" || p == "select_account")
    {
        return None;
    }
    if req.max_age.is_some_and(|m| now - session.auth_time > m) {
        return None;
    }
    t.directory()
        .get(&session.username)
        .filter(|u| !u.disabled)?;
    Some((sid.to_owned(), session))
}

/// `login_hint` naming a user without a password logs in without the page.
pub fn hinted_user(t: &Tenant, hint: Option<&str>) -> Option<String> {
    let dir = t.directory();
    let user = dir.get(hint?)?;
    (user.password.is_none() && !user.disabled).then(|| user.username.clone())
}

/// Starts an IdP session for `username`; its id.
pub fn start_session(t: &Tenant, username: &str, now: UnixTime) -> String {
    let sid = t.random_token(16);
    t.lock_grants().insert_session(
        &sid,
        Session {
            username: username.to_owned(),
            auth_time: now,
            expires_at: now + t.config.lifetimes.session as i64,
        },
        now,
    );
    sid
}

/// Who signed in, in which IdP session, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The user.
    pub username: String,
    /// When they authenticated.
    pub auth_time: UnixTime,
    /// The IdP session.
    pub sid: String,
}

/// A code issued: its value, and the `state` to send back (a fault may alter it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The authorization code.
    pub code: String,
    /// The state to return.
    pub state: Option<String>,
}

/// Issues the code of `req` for `who` (the user must still exist and be enabled), after
/// the faults armed for the authorization response: `access_denied`, or an altered
/// `state`. The journal entry gets the user and the fired faults.
pub fn issue_code(
    t: &Tenant,
    client: &ClientConfig,
    req: Request<'_>,
    who: SignedIn,
    state: Option<&str>,
    entry: &mut Entry,
) -> Result<Issued, AuthError> {
    let sub = match t.directory().get(&who.username) {
        None => return Err(AuthError::new("access_denied", "the user no longer exists")),
        Some(u) if u.disabled => {
            return Err(AuthError::new("access_denied", "the user is disabled"));
        }
        Some(u) => u.sub.clone(),
    };
    entry.user = Some(who.username.clone());
    entry.faults = t.fire_faults(
        Target {
            client_id: &client.id,
            user: Some(&who.username),
            grant_type: None,
        },
        FaultPoint::Authorize,
    );
    if entry.faults.contains(&Fault::AccessDenied) {
        return Err(AuthError::new(
            "access_denied",
            "the user or the provider refused (injected fault)",
        ));
    }
    let state = match (entry.faults.contains(&Fault::StateAltered), state) {
        (true, s) => Some(format!("altered-{}", s.unwrap_or(""))),
        (false, s) => s.map(str::to_owned),
    };
    let now = t.clock.now();
    let code = t.random_token(32);
    // A tenant that grants offline_access only after consent (OIDC Core §11) drops it from
    // a request without prompt=consent.
    let mut scope = req.scope;
    if client.refresh_tokens == RefreshPolicy::WithConsent
        && !req.prompt.iter().any(|p| p == "consent")
    {
        scope.retain(|s| s != "offline_access");
    }
    let record = CodeRecord {
        grant: Arc::new(Grant {
            client_id: client.id.clone(),
            username: Some(who.username),
            sub,
            scope,
            auth_time: who.auth_time,
            sid: Some(who.sid),
            nonce: req.nonce.map(str::to_owned),
        }),
        redirect_uri: req.redirect_uri.to_owned(),
        pkce: req.pkce,
        expires_at: now + t.config.lifetimes.code as i64,
        lineage: None,
    };
    t.lock_grants().insert_code(&code, record, now);
    Ok(Issued { code, state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn client(public: bool) -> ClientConfig {
        let mut c = Config::builtin().clients[0].clone();
        if public {
            c.auth_methods = vec![AuthMethod::None];
            c.secret = None;
        }
        c
    }

    fn params() -> Params<'static> {
        Params {
            response_type: Some("code"),
            scope: vec!["openid".into()],
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            code_challenge_method: Some("S256"),
            ..Params::default()
        }
    }

    fn refused(p: Params<'_>, c: &ClientConfig) -> (&'static str, String) {
        let e = validate(&p, c, "http://rp/cb", &Quirks::default()).unwrap_err();
        (e.error, e.description)
    }

    #[test]
    fn a_sound_request_is_taken_as_sent() {
        let r = validate(
            &params(),
            &client(false),
            "http://rp/cb",
            &Quirks::default(),
        )
        .unwrap();
        assert_eq!(r.scope, vec!["openid".to_owned()]);
        assert_eq!(r.pkce.map(|p| p.method), Some(PkceMethod::S256));
        assert_eq!(r.redirect_uri, "http://rp/cb");
    }

    #[test]
    fn each_broken_rule_is_refused_with_its_code() {
        let c = client(false);
        let cases: Vec<(Params<'static>, &str, &str)> = vec![
            (
                Params {
                    response_type: None,
                    ..params()
                },
                "invalid_request",
                "response_type",
            ),
            (
                Params {
                    response_type: Some("token"),
                    ..params()
                },
                "unsupported_response_type",
                "token",
            ),
            (
                Params {
                    request: true,
                    ..params()
                },
                "request_not_supported",
                "request",
            ),
            (
                Params {
                    response_mode: Some("fragment"),
                    ..params()
                },
                "invalid_request",
                "fragment",
            ),
            (
                Params {
                    scope: vec![],
                    ..params()
                },
                "invalid_scope",
                "openid",
            ),
            (
                Params {
                    prompt: vec!["none".into(), "login".into()],
                    ..params()
                },
                "invalid_request",
                "prompt=none",
            ),
            (
                Params {
                    prompt: vec!["sometimes".into()],
                    ..params()
                },
                "invalid_request",
                "sometimes",
            ),
            (
                Params {
                    max_age: Some("-1"),
                    ..params()
                },
                "invalid_request",
                "max_age",
            ),
            (
                Params {
                    code_challenge_method: Some("S512"),
                    ..params()
                },
                "invalid_request",
                "S256 or plain",
            ),
            (
                Params {
                    code_challenge: Some("short"),
                    ..params()
                },
                "invalid_request",
                "43 to 128",
            ),
        ];
        for (p, error, says) in cases {
            let (e, d) = refused(p, &c);
            assert_eq!(e, error, "{d}");
            assert!(d.contains(says), "{d} should say {says}");
        }
    }

    #[test]
    fn pkce_is_required_of_public_clients_only() {
        let without = Params {
            code_challenge: None,
            code_challenge_method: None,
            ..params()
        };
        assert!(validate(&without, &client(false), "http://rp/cb", &Quirks::default()).is_ok());
        let (e, d) = refused(without, &client(true));
        assert_eq!(e, "invalid_request");
        assert!(d.contains("public clients"), "{d}");
    }
}
