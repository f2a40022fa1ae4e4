//! The RP's view of the OpenID Provider: discovery (fetched at start-up, then cached), the
//! JWKS cache, and the token, refresh and userinfo calls.

use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::defects::Defect;
use crate::settings::{ClientAuth, Settings};

/// The provider metadata the RP uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `userinfo_endpoint`.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `end_session_endpoint` (RP-Initiated Logout 1.0).
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
}

/// A successful token response.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: String,
    /// `id_token`.
    #[serde(default)]
    pub id_token: Option<String>,
    /// `refresh_token`.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// `expires_in` (of the access token).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// `token_type`: `Bearer`, or `DPoP` for a DPoP-bound token.
    #[serde(default)]
    pub token_type: String,
}

impl TokenResponse {
    /// When the access token expires, if the provider said.
    pub fn access_expires_at(&self) -> Option<std::time::Instant> {
        self.expires_in
            .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s))
    }
}

/// One token request's outcome: done (tokens or a refusal), or a DPoP nonce asked for.
enum TokenAnswer {
    /// The tokens, or why not.
    Done(Result<TokenResponse, TokenError>),
    /// `use_dpop_nonce`, with the provider's `DPoP-Nonce`.
    WantsNonce(String),
}

/// A failed token request: the OAuth error code, or none for transport and server errors.
#[derive(Debug, Clone)]
pub struct TokenError {
    /// `error` of an RFC 6749 error response.
    pub error: Option<String>,
    /// What happened.
    pub detail: String,
}

/// Discovery and keys, shared by every request.
#[derive(Debug)]
pub struct Provider {
    settings: Arc<Settings>,
    http: reqwest::Client,
    metadata: Mutex<Option<Metadata>>,
    jwks: Mutex<Option<JwkSet>>,
    /// Since when a refetch has been wanted (defect `jwks-refetch-cooldown`).
    unknown_since: Mutex<Option<std::time::Instant>>,
    /// The one client assertion defect `reuses-client-assertion` sends every time.
    first_assertion: Mutex<Option<String>>,
    /// The DPoP key, with `DPOP=true`.
    dpop: Option<crate::dpop::Dpop>,
}

/// How long defect `jwks-refetch-cooldown` waits before refetching for an unknown kid.
const REFETCH_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(2);

impl Provider {
    /// A provider for these settings; nothing is fetched yet.
    pub fn new(settings: Arc<Settings>) -> Result<Provider, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs_f64(settings.idp_timeout_s))
            .build()
            .unwrap_or_default();
        let dpop = match settings.dpop {
            true => Some(crate::dpop::Dpop::new(
                settings.defects.has(Defect::DpopReusesProof),
            )?),
            false => None,
        };
        Ok(Provider {
            settings,
            http,
            metadata: Mutex::new(None),
            jwks: Mutex::new(None),
            unknown_since: Mutex::new(None),
            first_assertion: Mutex::new(None),
            dpop,
        })
    }

    /// The discovery document, fetched on first use.
    pub async fn metadata(&self) -> Result<Metadata, String> {
        let mut slot = self.metadata.lock().await;
        if let Some(m) = &*slot {
            return Ok(m.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let m: Metadata = self.get_json(&url).await?;
        if m.issuer != self.settings.issuer
            && !self.settings.defects.has(Defect::TrustsDiscoveryIssuer)
        {
            return Err(format!(
                "discovery names issuer {:?}, expected {:?}",
                m.issuer, self.settings.issuer
            ));
        }
        *slot = Some(m.clone());
        Ok(m)
    }

    /// The JWKS: cached; `refetch` asks the provider again (unless the RP is told never to).
    pub async fn jwks(&self, refetch: bool) -> Result<JwkSet, String> {
        let mut slot = self.jwks.lock().await;
        let never = self.settings.defects.has(Defect::NeverRefetchesJwks);
        match &*slot {
            Some(k) if !refetch || never => return Ok(k.clone()),
            Some(k) if self.settings.defects.has(Defect::JwksRefetchCooldown) => {
                let mut since = self.unknown_since.lock().await;
                let first = *since.get_or_insert_with(std::time::Instant::now);
                if first.elapsed() < REFETCH_COOLDOWN {
                    return Ok(k.clone());
                }
                *since = None;
            }
            _ => {}
        }
        let uri = self.metadata().await?.jwks_uri;
        let set: JwkSet = self.get_json(&uri).await?;
        *slot = Some(set.clone());
        Ok(set)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let res = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("GET {url}: {}", res.status()));
        }
        res.json().await.map_err(|e| format!("GET {url}: {e}"))
    }

    /// A token request (`authorization_code` or `refresh_token`), authenticated with
    /// client_secret_post (or basic, when that defect is on).
    pub async fn token(&self, form: Vec<(&str, String)>) -> Result<TokenResponse, TokenError> {
        let m = self.metadata().await.map_err(|detail| TokenError {
            error: None,
            detail,
        })?;
        let answer = self.token_once(&m, form.clone(), None).await?;
        // Asked for the provider's nonce (RFC 9449 §8): once more, with it.
        match answer {
            TokenAnswer::WantsNonce(nonce)
                if !self.settings.defects.has(Defect::DpopIgnoresNonce) =>
            {
                match self.token_once(&m, form, Some(&nonce)).await? {
                    TokenAnswer::Done(r) => r,
                    TokenAnswer::WantsNonce(_) => Err(TokenError {
                        error: Some("use_dpop_nonce".into()),
                        detail: "token endpoint: use_dpop_nonce again, with its own nonce".into(),
                    }),
                }
            }
            TokenAnswer::WantsNonce(_) => Err(TokenError {
                error: Some("use_dpop_nonce".into()),
                detail: "token endpoint answered 400 use_dpop_nonce".into(),
            }),
            TokenAnswer::Done(r) => r,
        }
    }

    /// One token request, its DPoP proof carrying `nonce` when given.
    async fn token_once(
        &self,
        m: &Metadata,
        mut form: Vec<(&str, String)>,
        nonce: Option<&str>,
    ) -> Result<TokenAnswer, TokenError> {
        let transport = |detail: String| TokenError {
            error: None,
            detail,
        };
        let mut req = self
            .authenticated(&m.token_endpoint, &mut form)
            .await
            .map_err(transport)?;
        if let Some(d) = &self.dpop {
            req = req.header(
                "DPoP",
                d.proof("POST", &m.token_endpoint, None, nonce)
                    .map_err(transport)?,
            );
        }
        let res = req
            .form(&form)
            .send()
            .await
            .map_err(|e| transport(format!("token endpoint: {e}")))?;
        let status = res.status();
        let dpop_nonce = res
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res
            .bytes()
            .await
            .map_err(|e| transport(format!("token endpoint: {e}")))?;
        if status.is_success() {
            let tokens: TokenResponse = serde_json::from_slice(&body)
                .map_err(|e| transport(format!("token endpoint: invalid response: {e}")))?;
            // Asked for a DPoP-bound token, a bearer one is discarded (RFC 9449 §5).
            if self.dpop.is_some()
                && !tokens.token_type.eq_ignore_ascii_case("dpop")
                && !self.settings.defects.has(Defect::DpopAcceptsBearer)
            {
                return Err(transport(format!(
                    "token endpoint: token_type {:?} to a DPoP-proved request: not a DPoP-bound token",
                    tokens.token_type
                )));
            }
            return Ok(TokenAnswer::Done(Ok(tokens)));
        }
        let error = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .filter(|_| status.is_client_error());
        if let (Some("use_dpop_nonce"), Some(n), Some(_)) =
            (error.as_deref(), dpop_nonce, &self.dpop)
        {
            return Ok(TokenAnswer::WantsNonce(n));
        }
        Ok(TokenAnswer::Done(Err(TokenError {
            detail: format!(
                "token endpoint answered {status}: {}",
                String::from_utf8_lossy(&body)
            ),
            error,
        })))
    }

    /// A POST to `endpoint` authenticated as the client (the token endpoint's way, which the
    /// pushed authorization request endpoint shares): credentials added to `form`, or HTTP
    /// Basic on the request.
    async fn authenticated(
        &self,
        endpoint: &str,
        form: &mut Vec<(&str, String)>,
    ) -> Result<reqwest::RequestBuilder, String> {
        let s = &self.settings;
        let req = self.http.post(endpoint);
        let basic = s.client_auth == ClientAuth::ClientSecretBasic
            || s.defects.has(Defect::ClientSecretBasic);
        match s.client_auth {
            ClientAuth::ClientSecretJwt | ClientAuth::PrivateKeyJwt => {
                let assertion = self.assertion(endpoint).await?;
                form.push(("client_id", s.client_id.clone()));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion", assertion));
                Ok(req)
            }
            _ if basic => Ok(req.basic_auth(
                form_encode(&s.client_id),
                Some(form_encode(&s.client_secret)),
            )),
            _ => {
                form.push(("client_id", s.client_id.clone()));
                form.push(("client_secret", s.client_secret.clone()));
                Ok(req)
            }
        }
    }

    /// Pushes an authorization request (RFC 9126 §2): its `request_uri`.
    pub async fn push(&self, mut form: Vec<(&str, String)>) -> Result<String, String> {
        let m = self.metadata().await?;
        let endpoint = m.pushed_authorization_request_endpoint.ok_or(
            "the provider's discovery document names no pushed_authorization_request_endpoint",
        )?;
        let req = self.authenticated(&endpoint, &mut form).await?;
        let res = req
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("POST {endpoint}: {e}"))?;
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        if status != reqwest::StatusCode::CREATED {
            return Err(format!("POST {endpoint}: {status} {body}"));
        }
        serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["request_uri"].as_str().map(str::to_owned))
            .ok_or_else(|| format!("POST {endpoint}: no request_uri in {body}"))
    }

    /// An authorization request as a request object (RFC 9101 §4): its parameters as
    /// claims, the client as `iss`, the issuer as `aud`, a minute to live; HS256 with the
    /// secret, or RS256 with the client key for private_key_jwt.
    pub fn request_object(&self, params: &[(&str, String)]) -> Result<String, String> {
        let s = &self.settings;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let mut claims = serde_json::Map::new();
        for (k, v) in params {
            claims.insert((*k).to_owned(), Value::String(v.clone()));
        }
        claims.insert("iss".into(), Value::String(s.client_id.clone()));
        claims.insert("aud".into(), Value::String(s.issuer.clone()));
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 60).into());
        claims.insert("jti".into(), Value::String(crate::random_token()));
        let claims = Value::Object(claims);
        if s.defects.has(Defect::JarUnsigned) {
            use base64::Engine;
            let b64 =
                |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            return Ok(format!(
                "{}.{}.",
                b64(&serde_json::json!({ "alg": "none" })),
                b64(&claims)
            ));
        }
        sign_as_client(s, &claims).map_err(|e| format!("cannot sign the request object: {e}"))
    }

    /// A client assertion for one token request (RFC 7523 §3, OIDC Core §9): the client
    /// as `iss` and `sub`, the issuer as its only audience (RFC 7523bis), a minute to live,
    /// a fresh `jti`; HS256 with the secret or RS256 with the client's key.
    async fn assertion(&self, token_endpoint: &str) -> Result<String, String> {
        let s = &self.settings;
        let mut first = self.first_assertion.lock().await;
        if s.defects.has(Defect::ReusesClientAssertion)
            && let Some(a) = first.as_ref()
        {
            return Ok(a.clone());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let aud = if s.defects.has(Defect::AssertionAudTokenEndpoint) {
            token_endpoint.to_owned()
        } else {
            s.issuer.clone()
        };
        let claims = serde_json::json!({
            "iss": s.client_id,
            "sub": s.client_id,
            "aud": aud,
            "iat": now,
            // Its lifetime covers one use; the defect's reused assertion must outlive the
            // login to be sent again, as a cached one would.
            "exp": now + if s.defects.has(Defect::ReusesClientAssertion) { 3600 } else { 60 },
            "jti": crate::random_token(),
        });
        let signed = sign_as_client(s, &claims)
            .map_err(|e| format!("cannot sign the client assertion: {e}"))?;
        *first = Some(signed.clone());
        Ok(signed)
    }

    /// The issuer tokens must name: the configured one (or, with a defect, whatever the
    /// discovery document says).
    pub async fn expected_issuer(&self) -> Result<String, String> {
        if self.settings.defects.has(Defect::TrustsDiscoveryIssuer) {
            return Ok(self.metadata().await?.issuer);
        }
        Ok(self.settings.issuer.clone())
    }

    /// Whether the RP refuses tokens without `kid` (a defect).
    pub fn requires_kid(&self) -> bool {
        self.settings.defects.has(Defect::RequiresKid)
    }

    /// Whether a token without `kid` is refused when the JWKS has several keys (a correct
    /// RP of another shape, `NO_KID_ONE_KEY_ONLY`).
    pub fn no_kid_one_key_only(&self) -> bool {
        self.settings.no_kid_one_key_only
    }

    /// Whether, with several keys to choose from, a token without `kid` goes unverified
    /// (a defect).
    pub fn unverified_without_kid(&self) -> bool {
        self.settings.defects.has(Defect::UnverifiedWithoutKid)
    }

    /// The userinfo response for this access token (none when there is no endpoint).
    /// The body of a distributed claims source (OIDC Core §5.6.2), fetched with the
    /// bearer token.
    pub async fn claims_source(&self, endpoint: &str, token: &str) -> Result<String, String> {
        let res = self
            .with_token(self.http.get(endpoint), endpoint, token)?
            .send()
            .await
            .map_err(|e| format!("the claims source {endpoint}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!(
                "the claims source {endpoint} answered {}",
                res.status()
            ));
        }
        res.text()
            .await
            .map_err(|e| format!("the claims source {endpoint}: {e}"))
    }

    pub async fn userinfo(&self, access_token: &str) -> Result<Option<Value>, String> {
        let Some(url) = self.metadata().await?.userinfo_endpoint else {
            return Ok(None);
        };
        let in_query = self.settings.defects.has(Defect::UserinfoTokenInQuery);
        let req = if in_query {
            self.http.get(&url).query(&[("access_token", access_token)])
        } else {
            self.with_token(self.http.get(&url), &url, access_token)?
        };
        let res = req.send().await.map_err(|e| format!("userinfo: {e}"))?;
        if in_query && !res.status().is_success() {
            // The defect's other half: a refused userinfo call is shrugged off.
            return Ok(None);
        }
        if !res.status().is_success() {
            return Err(format!("userinfo answered {}", res.status()));
        }
        res.json()
            .await
            .map(Some)
            .map_err(|e| format!("userinfo: {e}"))
    }
}

impl Provider {
    /// A GET presenting `token`: as a bearer token, or, with DPoP, as a bound one with a
    /// proof for this request (RFC 9449 §7.1).
    fn with_token(
        &self,
        req: reqwest::RequestBuilder,
        url: &str,
        token: &str,
    ) -> Result<reqwest::RequestBuilder, String> {
        match &self.dpop {
            Some(d) => Ok(req
                .header("Authorization", format!("DPoP {token}"))
                .header("DPoP", d.proof("GET", url, Some(token), None)?)),
            _ => Ok(req.bearer_auth(token)),
        }
    }
}

/// A JWT of the client's (a client assertion, a request object): RS256 with the client
/// key for private_key_jwt, HS256 with the secret otherwise.
fn sign_as_client(s: &Settings, claims: &Value) -> jsonwebtoken::errors::Result<String> {
    match (&s.client_key, s.client_auth) {
        (Some(k), ClientAuth::PrivateKeyJwt) => {
            let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            h.kid = Some(k.kid.clone());
            jsonwebtoken::encode(&h, claims, &k.key)
        }
        _ => jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(s.client_secret.as_bytes()),
        ),
    }
}

/// RFC 6749 §2.3.1: client_secret_basic credentials are form-encoded first.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
