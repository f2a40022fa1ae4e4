//! The RP's settings: the conformance contract's environment variables.

use std::collections::BTreeMap;

use crate::defects::Defects;

/// Permission sync mode: strict, additive or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Permissions are exactly the mapped groups.
    Strict,
    /// Mapped groups are added; nothing is removed by sync.
    Additive,
    /// Groups are ignored.
    None,
}

/// Which token carries the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupsToken {
    /// The ID token.
    IdToken,
    /// The (JWT) access token.
    AccessToken,
}

/// How the RP authenticates at the token endpoint (`CLIENT_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form (the default).
    ClientSecretPost,
    /// HTTP Basic.
    ClientSecretBasic,
    /// A JWT signed HS256 with the client secret.
    ClientSecretJwt,
    /// A JWT signed RS256 with `CLIENT_KEY_FILE`'s key.
    PrivateKeyJwt,
}

/// The private key for `private_key_jwt`: `CLIENT_KEY_FILE` (PKCS#8 PEM) and `CLIENT_KEY_ID`.
#[derive(Clone)]
pub struct ClientKey {
    /// The signing key.
    pub key: jsonwebtoken::EncodingKey,
    /// Its `kid`.
    pub kid: String,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Everything the RP is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `ISSUER`.
    pub issuer: String,
    /// `CLIENT_ID`.
    pub client_id: String,
    /// `CLIENT_SECRET`.
    pub client_secret: String,
    /// `PORT` (0: any free port).
    pub port: u16,
    /// `BASE_URL` (default `http://127.0.0.1:PORT`).
    pub base_url: Option<String>,
    /// `SCOPES`.
    pub scopes: String,
    /// `SYNC_MODE`.
    pub sync_mode: SyncMode,
    /// `GROUPS_CLAIM`: token and JSON pointer.
    pub groups_claim: (GroupsToken, String),
    /// `GROUP_MAP`: IdP group → permissions.
    pub group_map: BTreeMap<String, Vec<String>>,
    /// `SYNC_INTERVAL_S`: seconds between background refreshes.
    pub sync_interval_s: f64,
    /// `IDP_TIMEOUT_S`: seconds to wait for the provider before giving up.
    pub idp_timeout_s: f64,
    /// `DEFECTS`: mistakes to make on purpose.
    pub defects: Defects,
    /// `CLIENT_AUTH`.
    pub client_auth: ClientAuth,
    /// For `private_key_jwt`.
    pub client_key: Option<ClientKey>,
    /// `ME_SHOWS_SUB` (default true): `false` leaves `sub` out of `/me`, as an app that keys
    /// its users by username shows them.
    pub me_shows_sub: bool,
    /// `APPLY_DELAY_S` (default 0): a refresh's claims are applied this long after it, by
    /// another job (a correct RP shaped like one that refreshes in one worker and applies
    /// claims in a slower one, within its deadline).
    pub apply_delay_s: f64,
    /// `NO_KID_ONE_KEY_ONLY` (default false): a token without `kid` is verified only when
    /// the JWKS has a single key, and refused when it has several (as OIDC Core §10.1
    /// allows, and as several libraries do): a correct RP of another shape.
    pub no_kid_one_key_only: bool,
    /// `EXIT_AFTER_LOGINS` (default none): the RP goes down (its server and sync stop, as
    /// a crashed process's would) at its first sync tick after this many logins: an RP that
    /// dies mid-run.
    pub exit_after_logins: Option<u32>,
    /// `LOCK_FILE` (default none): a file the RP creates at start-up and removes when it
    /// stops, like a PID file. An instance that finds it there still starts, but its
    /// callback answers 500 once the code is redeemed (its session store is the other
    /// instance's): an RP that cannot run a second instance.
    pub lock_file: Option<std::path::PathBuf>,
    /// `STRICT_REFUSES_GRANTS` (default false): in strict mode `POST /grant` answers 403
    /// (permissions come from groups only) instead of granting until the next sync: a
    /// correct RP of another shape.
    pub strict_refuses_grants: bool,
    /// `VALIDATES_WITH_USERINFO` (default false): each sync first checks the session's
    /// access token at userinfo and ends access on a 401, before refreshing: a correct RP
    /// that learns of a revocation through userinfo.
    pub validates_with_userinfo: bool,
    /// `LOGOUT_LAG_S` (default 0): a valid logout token is answered 200 at once and
    /// processed this long after, by a queue worker: a correct RP that logs out
    /// asynchronously (within its sync deadline).
    pub logout_lag_s: f64,
    /// `USERINFO_AT_LOGIN` (default true): read userinfo at login (and compare its sub);
    /// `false` leaves it to background sync, as an RP that takes its profile from the ID
    /// token does.
    pub userinfo_at_login: bool,
    /// `PAR` (default false): push each authorization request to the provider's
    /// pushed_authorization_request_endpoint (RFC 9126) and send the browser with
    /// `client_id` and the `request_uri` alone.
    pub par: bool,
    /// `DPOP` (default false): send a DPoP proof (RFC 9449) with every token request, take
    /// only DPoP-bound access tokens, and use them with a proof each time.
    pub dpop: bool,
    /// `JAR` (default false): send each authorization request as a request object (RFC
    /// 9101) signed HS256 with the secret, or RS256 with the client key for private_key_jwt.
    pub jar: bool,
    /// `REGISTRATION_TOKEN` (default none): with an empty `CLIENT_ID`, register at the
    /// provider's registration_endpoint with this initial access token at start-up (RFC
    /// 7591) and use the client id and secret it gets.
    pub registration_token: Option<String>,
    /// `JAR_BY_REFERENCE` (default false): with `JAR`, publish each request object at
    /// `BASE_URL/request-objects/<id>` and send the browser with its `request_uri` (RFC
    /// 9101 §5.2) instead of the object itself.
    pub jar_by_reference: bool,
}

impl Settings {
    /// Settings for this issuer and client, the contract's defaults otherwise.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> Settings {
        Settings {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            port: 0,
            base_url: None,
            scopes: "openid profile email offline_access".into(),
            sync_mode: SyncMode::Strict,
            groups_claim: (GroupsToken::IdToken, "/groups".into()),
            group_map: BTreeMap::new(),
            sync_interval_s: 600.0,
            idp_timeout_s: 10.0,
            defects: Defects::default(),
            client_auth: ClientAuth::ClientSecretPost,
            client_key: None,
            me_shows_sub: true,
            apply_delay_s: 0.0,
            no_kid_one_key_only: false,
            exit_after_logins: None,
            lock_file: None,
            strict_refuses_grants: false,
            validates_with_userinfo: false,
            logout_lag_s: 0.0,
            userinfo_at_login: true,
            par: false,
            dpop: false,
            jar: false,
            registration_token: None,
            jar_by_reference: false,
        }
    }

    /// Reads the environment variables through `var`; the error names the variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let required = |name: &str| var(name).ok_or_else(|| format!("{name} is not set"));
        let registration_token = var("REGISTRATION_TOKEN").filter(|t| !t.is_empty());
        let mut s = match &registration_token {
            // It registers: the client id and secret are what it gets.
            Some(_) => Settings::new(
                &required("ISSUER")?,
                &var("CLIENT_ID").unwrap_or_default(),
                &var("CLIENT_SECRET").unwrap_or_default(),
            ),
            None => Settings::new(
                &required("ISSUER")?,
                &required("CLIENT_ID")?,
                &required("CLIENT_SECRET")?,
            ),
        };
        s.registration_token = registration_token;
        if let Some(p) = var("PORT") {
            s.port = p.parse().map_err(|e| format!("PORT={p:?}: {e}"))?;
        }
        s.base_url = var("BASE_URL");
        if let Some(v) = var("SCOPES") {
            s.scopes = v;
        }
        if let Some(v) = var("SYNC_MODE") {
            s.sync_mode = match v.as_str() {
                "strict" => SyncMode::Strict,
                "additive" => SyncMode::Additive,
                "none" => SyncMode::None,
                _ => return Err(format!("SYNC_MODE={v:?}: use strict, additive or none")),
            };
        }
        if let Some(v) = var("GROUPS_CLAIM") {
            s.groups_claim = parse_groups_claim(&v).map_err(|e| format!("GROUPS_CLAIM: {e}"))?;
        }
        if let Some(v) = var("GROUP_MAP") {
            s.group_map = serde_json::from_str(&v).map_err(|e| format!("GROUP_MAP: {e}"))?;
        }
        if let Some(v) = var("SYNC_INTERVAL_S") {
            s.sync_interval_s = v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("SYNC_INTERVAL_S={v:?}: a positive number of seconds"))?;
        }
        if let Some(v) = var("IDP_TIMEOUT_S") {
            s.idp_timeout_s = v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("IDP_TIMEOUT_S={v:?}: a positive number of seconds"))?;
        }
        if let Some(x) = seconds(&var, "APPLY_DELAY_S")? {
            s.apply_delay_s = x;
        }
        if let Some(b) = flag(&var, "NO_KID_ONE_KEY_ONLY")? {
            s.no_kid_one_key_only = b;
        }
        if let Some(v) = var("EXIT_AFTER_LOGINS") {
            s.exit_after_logins = Some(
                v.parse()
                    .map_err(|_| format!("EXIT_AFTER_LOGINS={v:?}: a number of logins"))?,
            );
        }
        s.lock_file = var("LOCK_FILE").map(Into::into);
        if let Some(b) = flag(&var, "STRICT_REFUSES_GRANTS")? {
            s.strict_refuses_grants = b;
        }
        if let Some(b) = flag(&var, "VALIDATES_WITH_USERINFO")? {
            s.validates_with_userinfo = b;
        }
        if let Some(x) = seconds(&var, "LOGOUT_LAG_S")? {
            s.logout_lag_s = x;
        }
        if let Some(b) = flag(&var, "USERINFO_AT_LOGIN")? {
            s.userinfo_at_login = b;
        }
        if let Some(b) = flag(&var, "PAR")? {
            s.par = b;
        }
        if let Some(b) = flag(&var, "DPOP")? {
            s.dpop = b;
        }
        if let Some(b) = flag(&var, "JAR")? {
            s.jar = b;
        }
        if let Some(b) = flag(&var, "JAR_BY_REFERENCE")? {
            s.jar_by_reference = b;
        }
        if let Some(v) = var("ME_SHOWS_SUB") {
            s.me_shows_sub = v
                .parse()
                .map_err(|_| format!("ME_SHOWS_SUB={v:?}: true or false"))?;
        }
        if let Some(v) = var("DEFECTS") {
            s.defects = Defects::parse(&v).map_err(|e| format!("DEFECTS: {e}"))?;
        }
        if let Some(v) = var("CLIENT_AUTH") {
            s.client_auth = match v.as_str() {
                "client_secret_post" => ClientAuth::ClientSecretPost,
                "client_secret_basic" => ClientAuth::ClientSecretBasic,
                "client_secret_jwt" => ClientAuth::ClientSecretJwt,
                "private_key_jwt" => ClientAuth::PrivateKeyJwt,
                _ => {
                    return Err(format!(
                        "CLIENT_AUTH={v:?}: use client_secret_post, client_secret_basic, client_secret_jwt or private_key_jwt"
                    ));
                }
            };
        }
        if s.client_auth == ClientAuth::PrivateKeyJwt {
            let file = required("CLIENT_KEY_FILE")?;
            let pem = std::fs::read(&file).map_err(|e| format!("CLIENT_KEY_FILE={file:?}: {e}"))?;
            let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem)
                .map_err(|e| format!("CLIENT_KEY_FILE={file:?}: not an RSA private key: {e}"))?;
            s.client_key = Some(ClientKey {
                key,
                kid: required("CLIENT_KEY_ID")?,
            });
        }
        Ok(s)
    }
}

/// A `true`/`false` variable, if set; the error names it.
fn flag(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<bool>, String> {
    var(name)
        .map(|v| {
            v.parse()
                .map_err(|_| format!("{name}={v:?}: true or false"))
        })
        .transpose()
}

/// A number of seconds, 0 or more, if set; the error names it.
fn seconds(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<f64>, String> {
    var(name)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| format!("{name}={v:?}: a number of seconds, 0 or more"))
        })
        .transpose()
}

/// `id_token:/groups` or `access_token:/resource_access/reinfer.io/roles`.
pub fn parse_groups_claim(v: &str) -> Result<(GroupsToken, String), String> {
    let (token, pointer) = v
        .split_once(':')
        .ok_or_else(|| format!("{v:?}: expected TOKEN:/json/pointer"))?;
    let token = match token {
        "id_token" => GroupsToken::IdToken,
        "access_token" => GroupsToken::AccessToken,
        _ => return Err(format!("{token:?}: use id_token or access_token")),
    };
    if !pointer.starts_with('/') {
        return Err(format!("{pointer:?}: a JSON pointer starts with /"));
    }
    Ok((token, pointer.to_owned()))
}
