//! The runner's HTTP: hyper over rustls (on aws-lc-rs, the project's one crypto library)
//! trusting the system's roots and the CA a run names (an HTTPS mock IdP's, a proxy's), so
//! that any https party can be attached; plain http too (loopback RPs and IdPs). Redirects
//! are never followed on their own, a cookie jar is kept when asked, and answers are capped.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reqwest::cookie::{CookieStore, Jar};

pub use hyper::Method;

/// Whom the runner's clients trust over TLS: the system's roots, and a run's CA.
#[derive(Debug, Clone)]
pub struct Trust(Arc<rustls::ClientConfig>);

/// The system's trusted roots, read once per process (a store that cannot be read leaves
/// only a run's CA, and plain http, usable).
fn native_roots() -> &'static rustls::RootCertStore {
    static ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        roots
    })
}

impl Trust {
    /// The system's roots, and the CA certificates of `ca_file` (PEM) when given. The
    /// error names the file and what is wrong with it.
    pub fn new(ca_file: Option<&Path>) -> Result<Trust, String> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = native_roots().clone();
        if let Some(path) = ca_file {
            let bad = |e: String| format!("{}: {e}", path.display());
            let mut added = 0;
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
                roots
                    .add(cert.map_err(|e| bad(e.to_string()))?)
                    .map_err(|e| bad(e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(bad("no certificate in it".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Trust(Arc::new(config)))
    }

    /// The system's roots alone.
    pub fn system() -> Trust {
        static SYSTEM: OnceLock<Trust> = OnceLock::new();
        SYSTEM
            .get_or_init(|| {
                // Without a file only the protocol versions could fail, and they are
                // rustls's own defaults for its own provider.
                Trust::new(None).unwrap_or_else(|e| unreachable!("{e}"))
            })
            .clone()
    }

    /// The rustls configuration (preflight's client is built on it too).
    pub fn config(&self) -> rustls::ClientConfig {
        (*self.0).clone()
    }
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// None within the client's patience.
    Timeout(Duration),
    /// The connection failed, with its causes (refused, reset, a certificate refused…).
    Other(String),
}

/// An answer: its status, headers, and body (at most the client's cap).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: hyper::HeaderMap,
    body: Result<Bytes, String>,
}

impl Answer {
    /// `Location`, when any.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The body as text; an error when it was larger than the cap or could not be read.
    pub fn text(&self) -> Result<String, String> {
        self.body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .map_err(Clone::clone)
    }
}

/// A request's body.
#[derive(Debug, Clone)]
pub enum Body<'a> {
    /// None.
    Empty,
    /// `application/x-www-form-urlencoded`.
    Form(&'a [(String, String)]),
    /// `application/json`.
    Json(&'a serde_json::Value),
}

/// One client: a connection pool, the TLS it trusts, its cookies (a browser's) or none.
#[derive(Debug, Clone)]
pub struct Http {
    hyper: Hyper<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    jar: Option<Arc<Jar>>,
    patience: Duration,
    cap: usize,
}

impl Http {
    /// A client trusting `trust`, waiting `patience` for each answer, reading at most
    /// `cap` bytes of a body, keeping cookies in `jar` when given.
    pub fn new(trust: &Trust, patience: Duration, cap: usize, jar: Option<Arc<Jar>>) -> Http {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(trust.config())
            .https_or_http()
            .enable_http1()
            .build();
        Http {
            hyper: Hyper::builder(TokioExecutor::new()).build(https),
            jar,
            patience,
            cap,
        }
    }

    /// Sends a request (with a bearer token when given) and reads the answer.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        body: Body<'_>,
    ) -> Result<Answer, Failure> {
        let parsed = url::Url::parse(url).map_err(|e| Failure::Other(format!("{e}")))?;
        // As a browser and reqwest do: some frameworks answer a request without Accept
        // otherwise than one with it.
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(url)
            .header(hyper::header::ACCEPT, "*/*");
        if let Some(jar) = &self.jar
            && let Some(c) = jar.cookies(&parsed)
        {
            req = req.header(hyper::header::COOKIE, c);
        }
        if let Some(t) = bearer {
            req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let bytes = match body {
            Body::Empty => Bytes::new(),
            Body::Form(pairs) => {
                req = req.header(
                    hyper::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
                Bytes::from(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs)
                        .finish(),
                )
            }
            Body::Json(v) => {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
                Bytes::from(v.to_string())
            }
        };
        let req = req
            .body(Full::new(bytes))
            .map_err(|e| Failure::Other(e.to_string()))?;
        let patience = self.patience;
        let res = tokio::time::timeout(patience, self.hyper.request(req))
            .await
            .map_err(|_| Failure::Timeout(patience))?
            .map_err(|e| Failure::Other(causes(&e)))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        if let Some(jar) = &self.jar {
            let mut set = headers.get_all(hyper::header::SET_COOKIE).iter();
            jar.set_cookies(&mut set, &parsed);
        }
        let cap = self.cap;
        let body = match tokio::time::timeout(
            patience,
            Limited::new(res.into_body(), cap).collect(),
        )
        .await
        {
            Err(_) => Err(format!(
                "the answer did not finish within {} s",
                patience.as_secs()
            )),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(format!(
                "the answer is larger than {}; the client stopped reading",
                size(cap)
            )),
            Ok(Err(e)) => Err(format!("reading the answer: {e}")),
            Ok(Ok(b)) => Ok(b.to_bytes()),
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// `1 MiB`, `64 KiB`.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// An error and its causes, joined by `: ` (hyper's own message leaves them out).
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.ends_with(&c) {
            s.push_str(&format!(": {c}"));
        }
        source = cause.source();
    }
    s
}
