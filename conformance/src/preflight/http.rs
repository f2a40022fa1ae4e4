//! Preflight's HTTP: a client that speaks HTTPS (rustls on aws-lc-rs, the system's
//! trusted roots) and never follows redirects on its own, and the token endpoint's calls
//! with the RP's declared client authentication.

use std::time::Duration;

use serde_json::Value;

use super::PreflightError;
use crate::rp::ClientAuth;

/// The most of a provider's answer read (discovery, JWKS, tokens, error pages).
const BODY_CAP: usize = 1 << 20;

/// The client preflight talks to the provider with.
pub fn client() -> Result<reqwest::Client, PreflightError> {
    // Several calls in one process install the same provider: only the first takes.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| PreflightError(format!("cannot build the HTTP client: {e}")))
}

/// An answer: status, headers that matter, body text (capped).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Location`, when any.
    pub location: Option<String>,
    /// The body, at most 1 MiB.
    pub body: String,
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

/// Sends a request and reads its answer.
pub async fn send(req: reqwest::RequestBuilder) -> Result<Answer, String> {
    let mut resp = req.send().await.map_err(|e| describe(&e))?;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() >= BODY_CAP {
            body.truncate(BODY_CAP);
            break;
        }
    }
    Ok(Answer {
        status,
        location,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A GET answering 200 JSON, or why not.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let a = send(client.get(url).header("accept", "application/json")).await?;
    if a.status != 200 {
        return Err(format!("HTTP {}: {}", a.status, excerpt(&a.body)));
    }
    a.json()
}

/// A token-endpoint POST of `form`, authenticated as the RP declares.
pub async fn token_request(
    client: &reqwest::Client,
    endpoint: &str,
    auth: ClientAuth,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Result<Answer, String> {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut req = client.post(endpoint).header("accept", "application/json");
    match auth {
        ClientAuth::ClientSecretPost => {
            fields.push(("client_id", client_id));
            fields.push(("client_secret", secret));
        }
        ClientAuth::ClientSecretBasic => {
            // RFC 6749 §2.3.1: both form-encoded before Basic's base64.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(client_id), Some(enc(secret)));
        }
    }
    send(req.form(&fields)).await
}

/// A reqwest error in words, with its cause (TLS, connection refused…).
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
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
