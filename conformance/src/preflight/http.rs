//! Preflight's HTTP: HTTPS through hyper and rustls (on aws-lc-rs, with the system's
//! trusted roots; plain http too, for loopback stand-ins), redirects never followed on
//! their own, answers capped, and the token endpoint's calls with the RP's declared client
//! authentication.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::PreflightError;
use crate::rp::ClientAuth;

/// The most of a provider's answer read (discovery, JWKS, tokens, error pages).
const BODY_CAP: usize = 1 << 20;

/// How long one request may take, answer included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The client preflight talks to the provider with.
#[derive(Debug, Clone)]
pub struct Client {
    hyper: Hyper<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// Builds the client: the system's trusted roots, and the CA certificates of `ca_file`
/// (PEM) for a provider behind a private CA.
pub fn client(ca_file: Option<&std::path::Path>) -> Result<Client, PreflightError> {
    let tls = crate::wire::Trust::new(ca_file)
        .map_err(|e| PreflightError(format!("--ca-file {e}")))?
        .config();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client {
        hyper: Hyper::builder(TokioExecutor::new()).build(https),
    })
}

/// An answer: status, `Location`, body text (capped).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Location`, when any.
    pub location: Option<String>,
    /// The body, at most 1 MiB.
    pub body: String,
    /// The `Set-Cookie` headers.
    pub set_cookies: Vec<hyper::header::HeaderValue>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body).map_err(|e| {
            format!(
                "HTTP {}, not JSON ({e}): {}",
                self.status,
                excerpt(&self.body)
            )
        })
    }
}

impl Client {
    async fn send(&self, req: Request<Full<Bytes>>) -> Result<Answer, String> {
        let uri = req.uri().to_string();
        let resp = tokio::time::timeout(TIMEOUT, self.hyper.request(req))
            .await
            .map_err(|_| format!("{uri}: no answer within {} s", TIMEOUT.as_secs()))?
            .map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies = resp
            .headers()
            .get_all(hyper::header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        let body =
            tokio::time::timeout(TIMEOUT, Limited::new(resp.into_body(), BODY_CAP).collect())
                .await
                .map_err(|_| {
                    format!(
                        "{uri}: the answer did not finish within {} s",
                        TIMEOUT.as_secs()
                    )
                })?
                .map_err(|e| format!("{uri}: reading the answer: {e}"))?
                .to_bytes();
        Ok(Answer {
            status,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
            set_cookies,
        })
    }

    /// A GET, with a bearer token when given.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Answer, String> {
        let mut req = Request::get(url).header("accept", "application/json, text/html");
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req
            .body(Full::default())
            .map_err(|e| format!("{url}: {e}"))?;
        self.send(req).await
    }

    /// A GET as a browser makes it: the jar's cookies for `url` sent, the answer's stored.
    pub async fn browse(&self, url: &str, jar: &reqwest::cookie::Jar) -> Result<Answer, String> {
        use reqwest::cookie::CookieStore;
        let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let mut req = Request::get(url).header("accept", "text/html, application/json");
        if let Some(c) = jar.cookies(&parsed) {
            req = req.header(hyper::header::COOKIE, c);
        }
        let req = req
            .body(Full::default())
            .map_err(|e| format!("{url}: {e}"))?;
        let a = self.send(req).await?;
        jar.set_cookies(&mut a.set_cookies.iter(), &parsed);
        Ok(a)
    }

    /// A GET answering 200 JSON, or why not.
    pub async fn get_json(&self, url: &str) -> Result<Value, String> {
        let a = self.get(url, None).await?;
        if a.status != 200 {
            return Err(format!("HTTP {}: {}", a.status, excerpt(&a.body)));
        }
        a.json()
    }

    /// A token-endpoint POST of `form`, authenticated as the RP declares.
    pub async fn token_request(
        &self,
        endpoint: &str,
        auth: ClientAuth,
        client_id: &str,
        secret: &str,
        key: Option<&super::ClientKey>,
        form: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.extend_pairs(form);
        let mut req = Request::post(endpoint)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded");
        match auth {
            ClientAuth::ClientSecretPost => {
                body.append_pair("client_id", client_id);
                body.append_pair("client_secret", secret);
            }
            ClientAuth::ClientSecretBasic => {
                // RFC 6749 §2.3.1: both form-encoded before Basic's base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let basic = STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)));
                req = req.header("authorization", format!("Basic {basic}"));
            }
            ClientAuth::ClientSecretJwt => {
                let assertion = secret_jwt(endpoint, client_id, secret)?;
                body.append_pair("client_id", client_id);
                body.append_pair("client_assertion_type", mock_idp::JWT_BEARER);
                body.append_pair("client_assertion", &assertion);
            }
            ClientAuth::PrivateKeyJwt => {
                let Some(key) = key else {
                    return Err(
                        "private_key_jwt: preflight holds no private key of the app, so it cannot authenticate as it at the token endpoint (give it with --client-key)".into(),
                    );
                };
                let assertion = key_jwt(endpoint, client_id, key)?;
                body.append_pair("client_id", client_id);
                body.append_pair("client_assertion_type", mock_idp::JWT_BEARER);
                body.append_pair("client_assertion", &assertion);
            }
        }
        let req = req
            .body(Full::new(Bytes::from(body.finish())))
            .map_err(|e| format!("{endpoint}: {e}"))?;
        self.send(req).await
    }
}

/// A client assertion's claims (RFC 7523 §3; OIDC Core §9) for one request to
/// `endpoint`, its audience (what providers have accepted longest), living a minute.
fn assertion_claims(endpoint: &str, client_id: &str) -> Result<serde_json::Value, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    Ok(serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": crate::random::hex(16),
    }))
}

/// A `client_secret_jwt` assertion: HS256 with the secret.
fn secret_jwt(endpoint: &str, client_id: &str, secret: &str) -> Result<String, String> {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &assertion_claims(endpoint, client_id)?,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot sign a client assertion: {e}"))
}

/// A `private_key_jwt` assertion: RS256 with an RSA key, ES256 with an EC P-256 one.
fn key_jwt(endpoint: &str, client_id: &str, key: &super::ClientKey) -> Result<String, String> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let (alg, encoding) = match EncodingKey::from_rsa_pem(key.pem.as_bytes()) {
        Ok(k) => (Algorithm::RS256, k),
        Err(_) => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(key.pem.as_bytes())
                .map_err(|e| format!("--client-key: neither an RSA nor an EC private key: {e}"))?,
        ),
    };
    let mut header = Header::new(alg);
    header.kid.clone_from(&key.kid);
    jsonwebtoken::encode(&header, &assertion_claims(endpoint, client_id)?, &encoding)
        .map_err(|e| format!("cannot sign a client assertion: {e}"))
}

/// An error in words, with its causes (TLS, connection refused…).
fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

/// The start of a body, on one line, for a finding.
pub fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        out.push('…');
    }
    out
}
