//! The runner as IdP administrator: a mock IdP embedded or attached, a fresh tenant per
//! run, and the admin API calls scenarios make (users, faults, keys, journal).

mod admin;
use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use mock_idp::faults::Fault;

use crate::rp::{ClientAuth, GroupsClaim, GroupsToken, RpDescription};

/// Why the IdP could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct IdpError(pub String);

/// A user the runner creates at the IdP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestUser {
    /// Login name (also `preferred_username`).
    pub username: String,
    /// Subject.
    pub sub: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// One journal record, as the admin API returns it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct JournalEntry {
    /// Sequence number.
    pub seq: u64,
    /// Endpoint (`authorize`, `token`, `userinfo`, …).
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// Client.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Client-auth method used.
    #[serde(default)]
    pub auth_method: Option<String>,
    /// Grant type.
    #[serde(default)]
    pub grant_type: Option<String>,
    /// PKCE: the challenge method at authorize, `code_verifier` at the token endpoint.
    #[serde(default)]
    pub pkce: Option<String>,
    /// The user concerned.
    #[serde(default)]
    pub user: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// OAuth error answered.
    #[serde(default)]
    pub error: Option<String>,
    /// Why, in the IdP's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// What the RP should not have done.
    #[serde(default)]
    pub lints: Vec<String>,
    /// Faults fired.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// A pushed authorization request's `request_uri`: handed out (`par`), presented
    /// (`authorize`).
    #[serde(default)]
    pub request_uri: Option<String>,
    /// At `authorize`: the request was a pushed one.
    #[serde(default)]
    pub pushed: bool,
    /// At `authorize` and `par`: the request came as a signed request object (RFC 9101).
    #[serde(default)]
    pub request_object: bool,
    /// The thumbprint of the key of the request's accepted DPoP proof (RFC 9449).
    #[serde(default)]
    pub dpop: Option<String>,
    /// At `par`: the parameters pushed, credentials left out.
    #[serde(default)]
    pub parameters: Option<BTreeMap<String, String>>,
    /// At `register`: the client metadata the request sent (RFC 7591).
    #[serde(default)]
    pub metadata: Option<Value>,
    /// `redirect_uri` (at `register`, the first registered).
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

/// The last sequence number of `entries`, or `mark` when they hold none later: where the
/// next read of the journal starts.
pub fn last_seq(entries: &[JournalEntry], mark: u64) -> u64 {
    entries.iter().map(|e| e.seq).fold(mark, u64::max)
}

impl JournalEntry {
    /// A refresh-token grant at the token endpoint.
    pub fn is_refresh(&self) -> bool {
        self.endpoint == "token" && self.grant_type.as_deref() == Some("refresh_token")
    }

    /// Answered successfully.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the IdP held the answer `timeout_s` or longer (a latency fault): past an
    /// RP's timeout, no answer reached it.
    pub fn held_past(&self, timeout_s: f64) -> bool {
        let timeout_ms = (timeout_s * 1000.0) as u64;
        self.faults
            .iter()
            .any(|f| matches!(f, Fault::Latency { ms } if *ms >= timeout_ms))
    }

    /// Whether the request presented a spent (rotated-away) refresh token, accepted only
    /// within the IdP's grace period.
    pub fn reused_spent_token(&self) -> bool {
        self.lints.iter().any(|l| l == "refresh_token_reused")
    }

    /// Whether this call of the RP's could have told it that the user's access ended: a
    /// refused refresh, a refused bearer call (userinfo, the groups endpoint, a claims
    /// source: 401 once the user is gone), or an introspection (it answers the token's
    /// state). An RP may learn of a revocation through any of them.
    pub fn tells_of_end(&self) -> bool {
        match self.endpoint.as_str() {
            "token" => self.is_refresh() && !self.ok(),
            "userinfo" | "groups" | "claims" => self.status >= 400,
            "introspect" => true,
            _ => false,
        }
    }

    /// What such a call told the RP, for reasons: `the refresh was refused (400
    /// invalid_grant)`, `userinfo answered 401 invalid_token`, `an introspection answered 200`.
    pub fn told(&self) -> String {
        let answer = format!("{} {}", self.status, self.error.as_deref().unwrap_or(""))
            .trim_end()
            .to_owned();
        match self.endpoint.as_str() {
            "token" => format!("the refresh was refused ({answer})"),
            "introspect" => format!("an introspection answered {answer}"),
            other => format!("{other} answered {answer}"),
        }
    }

    /// A one-line summary for evidence, e.g. `token POST authorization_code client_secret_post → 200`.
    pub fn line(&self) -> String {
        let mut s = format!("{} {}", self.endpoint, self.method);
        if self.pushed {
            s.push_str(" (a pushed request)");
        }
        for part in [&self.grant_type, &self.auth_method].into_iter().flatten() {
            s.push(' ');
            s.push_str(part);
        }
        s.push_str(&format!(" → {}", self.status));
        if let Some(e) = &self.error {
            s.push_str(&format!(" {e}"));
        }
        let kinds: Vec<String> = self.faults.iter().map(kind).collect();
        if !kinds.is_empty() {
            s.push_str(&format!(" [fault: {}]", kinds.join(", ")));
        }
        if !self.lints.is_empty() {
            s.push_str(&format!(" [lint: {}]", self.lints.join(", ")));
        }
        s
    }
}

/// A fault's kind as the admin API names it, with its parameter: `latency (2500 ms)`.
pub fn kind(fault: &Fault) -> String {
    let v = serde_json::to_value(fault).unwrap_or_default();
    let mut k = v["kind"].as_str().unwrap_or("?").to_owned();
    if let Some(c) = v["claim"].as_str() {
        k.push_str(&format!(" ({c})"));
    }
    if let Some(s) = v["status"].as_u64() {
        k.push_str(&format!(" ({s})"));
    }
    if let Some(ms) = v["ms"].as_u64() {
        k.push_str(&format!(" ({ms} ms)"));
    }
    k
}

/// The admin API of one tenant.
#[derive(Debug, Clone)]
pub struct Admin {
    http: crate::wire::Http,
    /// `<issuer>/admin`.
    base: String,
    token: Option<String>,
}

/// The IdP a run uses: embedded (owned) or attached.
pub struct IdpServer {
    /// The server's default issuer (its admin API manages tenants).
    pub root: String,
    /// Admin token.
    pub token: Option<String>,
    embedded: Option<mock_idp::MockIdp>,
    /// An attached IdP served over HTTPS and reached through a plain listener of the same
    /// server (`--idp-plain`): its https origin, and that plain origin, which the runner's
    /// own clients use instead. None: the runner speaks TLS to it.
    wire: Option<(String, String)>,
    /// Whom the runner's clients trust over TLS: the system's roots and the IdP's CA.
    trust: crate::wire::Trust,
    /// The HTTPS server's CA, for the RP to trust.
    ca_file: Option<std::path::PathBuf>,
    /// Whether this run wrote that file (an embedded server's: removed with it).
    owns_ca_file: bool,
}

impl Drop for IdpServer {
    fn drop(&mut self) {
        if let Some(f) = self.ca_file.as_ref().filter(|_| self.owns_ca_file) {
            let _ = std::fs::remove_file(f);
        }
    }
}

impl std::fmt::Debug for IdpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpServer")
            .field("root", &self.root)
            .field("embedded", &self.embedded.is_some())
            .finish()
    }
}

impl IdpServer {
    /// Starts a mock IdP in this process on `addr` (port 0: any); with `tls`, over HTTPS
    /// with a throw-away CA, written to a file for the RP ([`IdpServer::ca_file`]).
    pub async fn embedded(addr: SocketAddr, tls: bool) -> Result<IdpServer, IdpError> {
        let token = crate::random::hex(16);
        let mut builder = mock_idp::MockIdp::builder()
            .addr(addr)
            .admin_token(token.clone());
        if tls {
            builder = builder.tls();
        }
        let idp = builder
            .start()
            .await
            .map_err(|e| IdpError(format!("cannot start the embedded mock IdP on {addr}: {e}")))?;
        let root = idp.issuer().to_owned();
        let ca_file = match idp.ca_pem() {
            None => None,
            Some(pem) => {
                let path = std::env::temp_dir()
                    .join(format!("conformance-idp-ca-{}.pem", crate::random::hex(4)));
                std::fs::write(&path, pem)
                    .map_err(|e| IdpError(format!("cannot write {}: {e}", path.display())))?;
                Some(path)
            }
        };
        let trust = crate::wire::Trust::new(ca_file.as_deref())
            .map_err(|e| IdpError(format!("the embedded IdP's CA: {e}")))?;
        Ok(IdpServer {
            root,
            token: Some(token),
            embedded: Some(idp),
            wire: None,
            trust,
            owns_ca_file: ca_file.is_some(),
            ca_file,
        })
    }

    /// The CA file of an IdP served over HTTPS.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }

    /// The https origin the RP sees and the plain one the runner uses, when an attached
    /// HTTPS IdP is reached through a plain listener (`--idp-plain`).
    pub fn wire(&self) -> Option<(String, String)> {
        self.wire.clone()
    }

    /// Whom the runner trusts over TLS: the system's roots and the IdP's CA.
    pub fn trust(&self) -> crate::wire::Trust {
        self.trust.clone()
    }

    /// `url` as the runner reaches it (the plain origin for the https one).
    fn wired(&self, url: &str) -> String {
        crate::browser::rewire(url, self.wire.as_ref())
    }

    /// A mock IdP already running at `root` (its default issuer), or a proxy in front of
    /// one. One served over HTTPS is reached over TLS, trusting the system's roots and
    /// `ca_file` (which is handed to a launched RP too), or through `plain`, a plain
    /// loopback origin of the same server (`mock-idp serve --tls --plain-alongside`).
    pub fn attached(
        root: &str,
        token: Option<String>,
        plain: Option<String>,
        ca_file: Option<std::path::PathBuf>,
    ) -> Result<IdpServer, IdpError> {
        let root = root.trim_end_matches('/').to_owned();
        let https = root.starts_with("https://");
        let wire = match plain {
            Some(p) if https => Some((
                crate::browser::origin_of(&root),
                crate::browser::origin_of(&p),
            )),
            Some(_) => {
                return Err(IdpError(
                    "--idp-plain is for an IdP served over HTTPS: this one is plain HTTP".into(),
                ));
            }
            None => None,
        };
        if let Some(f) = &ca_file
            && !f.is_file()
        {
            return Err(IdpError(format!("--idp-ca {}: no such file", f.display())));
        }
        let trust = crate::wire::Trust::new(ca_file.as_deref())
            .map_err(|e| IdpError(format!("--idp-ca {e}")))?;
        Ok(IdpServer {
            root,
            token,
            embedded: None,
            wire,
            trust,
            ca_file,
            owns_ca_file: false,
        })
    }

    /// Whether this process runs the IdP.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The admin API of the tenant with this issuer (one a scenario made, whose RP did not
    /// come up with an [`crate::stage::Up`] to hand it over).
    pub fn admin_of(&self, issuer: &str) -> Admin {
        Admin::trusting(&self.wired(issuer), self.token.clone(), &self.trust)
    }

    /// Creates the run's tenant, or rebuilds it when it exists: one RS256 key, the RP's
    /// client, groups where the RP reads them, a journal big enough for the run. A rebuilt
    /// tenant keeps its issuer and signing keys (an RP started once, in attach mode, keeps
    /// its cached discovery and JWKS across runs); users, grants, sessions, journal, faults
    /// and clock start afresh.
    pub async fn tenant(&self, name: &str, spec: &TenantSpec<'_>) -> Result<Admin, IdpError> {
        let root = Admin::trusting(&self.wired(&self.root), self.token.clone(), &self.trust);
        let config = tenant_config(spec)?;
        // A profile file is sent as its text: the IdP reads no file its caller names.
        let body = match spec.profile {
            Some(p) if mock_idp::profiles::is_file(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| IdpError(format!("profile file {p}: {e}")))?;
                json!({ "config": config, "profile_toml": text })
            }
            p => json!({ "config": config, "profile": p }),
        };
        let v = root
            .call(
                crate::wire::Method::PUT,
                &format!("/tenants/{name}"),
                Some(body),
            )
            .await?;
        let issuer = v["issuer"]
            .as_str()
            .ok_or_else(|| IdpError(format!("creating the tenant answered {v}")))?;
        Ok(Admin::trusting(
            &self.wired(issuer),
            self.token.clone(),
            &self.trust,
        ))
    }
}

/// The methods the run's client may authenticate with: the secret ones, so that an RP
/// using another than it declares still logs in and `login.client-auth` names the one it
/// used, and the JWT method it declares (its keys are registered only then).
fn auth_methods(declared: ClientAuth) -> Vec<&'static str> {
    let mut m = vec![
        "client_secret_post",
        "client_secret_basic",
        "client_secret_jwt",
    ];
    if declared == ClientAuth::PrivateKeyJwt {
        m.push("private_key_jwt");
    }
    m
}

/// A run's refresh tokens die this long after the login (a week), rotation or not;
/// `revocation.refresh-expired` moves the tenant's clock past it.
pub const REFRESH_LIFETIME_S: i64 = 7 * 24 * 3600;

/// What a run's tenant is made of.
#[derive(Debug, Clone)]
pub struct TenantSpec<'a> {
    /// The RP.
    pub rp: &'a RpDescription,
    /// Its redirect URI.
    pub redirect_uri: &'a str,
    /// Its back-channel logout URI, if it declares one.
    pub backchannel_logout_uri: Option<&'a str>,
    /// Its front-channel logout URI, if it declares one.
    pub frontchannel_logout_uri: Option<&'a str>,
    /// Where its RP-initiated logout returns, if it declares one.
    pub post_logout_redirect_uri: Option<&'a str>,
    /// Where it publishes request objects by reference, if it declares it: registered as
    /// the prefix of its `request_uris`.
    pub request_objects_uri: Option<&'a str>,
    /// Its client secret.
    pub secret: &'a str,
    /// Where the groups go (rp.toml's claim, or a variant).
    pub groups: &'a GroupsClaim,
    /// A single group as a string instead of an array (AD FS).
    pub single_as_string: bool,
    /// A provider profile shaping the tenant instead (its groups, lifetimes and refresh
    /// policy; the RP's client is still this run's).
    pub profile: Option<&'a str>,
    /// Another issuer for discovery and the tokens to name than the tenant's URL
    /// (`login.discovery-issuer-mismatch`).
    pub advertised_issuer: Option<&'a str>,
    /// The one algorithm the tenant signs with (none: RS256).
    pub signing_alg: Option<mock_idp::SigningAlg>,
    /// The JWKS's path, when not the default `<issuer path>/jwks`.
    pub jwks_path: Option<&'a str>,
    /// The RP's public keys for `private_key_jwt`.
    pub client_keys: &'a crate::client_keys::ClientKeys,
    /// The initial access token of dynamic client registration (RFC 7591), when clients
    /// may register (`login.registration`); registered clients get the run's client's
    /// token policy.
    pub registration: Option<&'a str>,
}

/// The tenant's configuration, in the mock IdP's config format: groups where the RP
/// reads them (an empty list left out, as Okta and Entra ID do); refresh tokens on every
/// login, rotated on every use, living a week; a spent token still accepted for a day but
/// journaled (so that a reused token fails `sync.rotation` and nothing else); access tokens
/// living twice the sync deadline, 5 s at least ([`RpDescription::access_lifetime_s`]).
fn tenant_config(spec: &TenantSpec<'_>) -> Result<Value, IdpError> {
    let rp = spec.rp;
    let token = match spec.groups.token {
        GroupsToken::IdToken => "id_token",
        GroupsToken::AccessToken => "access_token",
    };
    let access_lifetime = rp.access_lifetime_s();
    let config = json!({
        "issuer": "http://conformance.invalid",
        "journal_capacity": 200_000,
        "lifetimes": { "access_token": access_lifetime },
        "groups": { "placements": [{
            "token": token,
            "pointer": spec.groups.pointer.0,
            "single_as_string": spec.single_as_string,
            "omit_when_empty": true,
        }]},
        "keys": [{ "kid": "conformance-rs256-1", "alg": "RS256", "pem_file": "rs256.pem" }],
        "clients": [{
            "id": rp.client_id,
            "secret": spec.secret,
            "redirect_uris": [spec.redirect_uri],
            "auth_methods": auth_methods(rp.client_auth),
            "refresh_tokens": "always",
            "refresh_policy": {
                "rotate": true,
                "absolute": REFRESH_LIFETIME_S,
                "reuse_grace": 24 * 3600,
            },
        }],
    });
    let mut config = config;
    if let Some(Value::Object(c)) = config["clients"].get_mut(0) {
        for (key, uri) in [
            ("backchannel_logout_uri", spec.backchannel_logout_uri),
            ("frontchannel_logout_uri", spec.frontchannel_logout_uri),
        ] {
            if let Some(uri) = uri {
                c.insert(key.into(), json!(uri));
            }
        }
        if let Some(uri) = spec.post_logout_redirect_uri {
            c.insert("post_logout_redirect_uris".into(), json!([uri]));
        }
        if let Some(uri) = spec.request_objects_uri {
            c.insert("request_uris".into(), json!([format!("{uri}*")]));
        }
    }
    if let (Some((key, value)), Some(Value::Object(c))) = (
        spec.client_keys.registration(),
        config["clients"].get_mut(0),
    ) {
        c.insert(key.into(), value);
    }
    if let Some(i) = spec.advertised_issuer {
        config["quirks"] = json!({ "advertised_issuer": i });
    }
    if rp.dpop {
        config["dpop"] = json!({ "enabled": true });
    }
    if rp.jar || spec.request_objects_uri.is_some() {
        // Taken, not required: a plain request still logs in, and login.jar says so.
        config["jar"] = json!({ "enabled": true });
    }
    if rp.par {
        // Taken, not required: an RP that declares pushing but sends its request in the
        // front channel still logs in, and `login.par` says what it did.
        config["par"] = json!({ "enabled": true });
    }
    if let Some(token) = spec.registration {
        config["registration"] = json!({
            "enabled": true,
            "initial_access_token": token,
            "template": rp.client_id,
        });
    }
    if let Some(alg) = spec.signing_alg {
        let kid = format!("conformance-{}-1", alg.as_str().to_lowercase());
        config["keys"] = json!([{ "kid": kid, "alg": alg.as_str(), "pem_file": "signing.pem" }]);
        config["signing_alg"] = json!(alg.as_str());
    }
    if let Some(p) = spec.jwks_path {
        config["endpoints"] = json!({ "jwks": p });
    }
    if spec.profile.is_some()
        && let Some(obj) = config.as_object_mut()
    {
        // The profile decides these; the config's own keys would win over it.
        for key in ["lifetimes", "groups"] {
            obj.remove(key);
        }
        if let Some(Value::Object(c)) = obj["clients"].get_mut(0) {
            c.remove("refresh_tokens");
            c.remove("refresh_policy");
        }
    }
    mock_idp::Config::from_json(config.clone(), spec.profile)
        .map_err(|e| IdpError(format!("tenant config: {e}")))?;
    Ok(config)
}
