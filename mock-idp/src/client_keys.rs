//! Public keys of the parties that sign assertions — clients (`private_key_jwt`) and
//! assertion issuers (the jwt-bearer grant): inline (`jwks`) or fetched from their
//! `jwks_uri`, cached until an assertion names a key the cache does not hold (a party
//! that rotated its key).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;

use crate::config::{AssertionIssuer, ClientConfig};

/// Whose keys, and where they are.
#[derive(Debug, Clone, Copy)]
pub struct KeySource<'a> {
    /// Which party (a client, or an assertion issuer).
    pub party: Party<'a>,
    /// Inline keys.
    pub jwks: Option<&'a JwkSet>,
    /// Or where they are published.
    pub jwks_uri: Option<&'a str>,
}

/// A party that signs assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party<'a> {
    /// A client, by id.
    Client(&'a str),
    /// An assertion issuer, by `iss`.
    Issuer(&'a str),
}

impl<'a> KeySource<'a> {
    /// A client's keys.
    pub fn client(c: &'a ClientConfig) -> KeySource<'a> {
        KeySource {
            party: Party::Client(&c.id),
            jwks: c.jwks.as_ref(),
            jwks_uri: c.jwks_uri.as_deref(),
        }
    }

    /// An assertion issuer's keys.
    pub fn issuer(a: &'a AssertionIssuer) -> KeySource<'a> {
        KeySource {
            party: Party::Issuer(&a.issuer),
            jwks: a.jwks.as_ref(),
            jwks_uri: a.jwks_uri.as_deref(),
        }
    }

    fn key(&self) -> (bool, String) {
        match self.party {
            Party::Client(id) => (true, id.to_owned()),
            Party::Issuer(iss) => (false, iss.to_owned()),
        }
    }
}

/// How long the IdP waits for a client's `jwks_uri`.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest key set read from a `jwks_uri`.
pub const MAX_BYTES: usize = 64 * 1024;

/// A `jwks_uri` is fetched again for an unknown `kid` at most this often (an attacker's
/// made-up kids must not turn the IdP into a request loop against the client).
pub const REFETCH_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
struct Fetched {
    keys: Result<JwkSet, String>,
    at: Instant,
}

/// Key sets fetched from `jwks_uri`s, one per party (bounded by the configuration).
#[derive(Debug, Default)]
pub struct RemoteKeys {
    cache: Mutex<HashMap<(bool, String), Fetched>>,
}

impl RemoteKeys {
    /// The keys an assertion by this party is checked against: the inline set, or the
    /// last fetch of its `jwks_uri` (or why that failed). `None`: no keys registered.
    pub fn get(&self, src: &KeySource<'_>) -> Option<Result<JwkSet, String>> {
        if let Some(set) = src.jwks {
            return Some(Ok(set.clone()));
        }
        let uri = src.jwks_uri?;
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        Some(match cache.get(&src.key()) {
            Some(f) => f.keys.clone(),
            None => Err(format!("the jwks_uri {uri:?} was not fetched")),
        })
    }

    /// Fetches the party's `jwks_uri` when nothing is cached, or when `kid` is not among
    /// the cached keys and the last fetch is older than [`REFETCH_AFTER`].
    pub async fn refresh(&self, src: &KeySource<'_>, kid: Option<&str>) {
        let Some(uri) = src.jwks_uri else {
            return;
        };
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(f) = cache.get(&src.key()) {
                let holds = match (&f.keys, kid) {
                    (Ok(set), Some(kid)) => set.find(kid).is_some(),
                    (Ok(_), None) => true,
                    (Err(_), _) => false,
                };
                if holds || f.at.elapsed() < REFETCH_AFTER {
                    return;
                }
            }
        }
        let keys = fetch(uri).await;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            src.key(),
            Fetched {
                keys,
                at: Instant::now(),
            },
        );
    }
}

async fn fetch(uri: &str) -> Result<JwkSet, String> {
    let body = get(uri, "application/json", MAX_BYTES)
        .await
        .map_err(|e| format!("jwks_uri {uri:?}: {e}"))?;
    serde_json::from_slice::<JwkSet>(&body)
        .map_err(|e| format!("jwks_uri {uri:?}: not a JWK Set: {e}"))
}

/// GETs `uri` (plain HTTP: the parties a test runs are on loopback) asking for `accept`:
/// the body of a 2xx answer, at most `max` bytes, within [`FETCH_TIMEOUT`].
pub(crate) async fn get(uri: &str, accept: &str, max: usize) -> Result<Bytes, String> {
    let req = warp::http::Request::get(uri)
        .header("accept", accept)
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let read = async {
        let res = client.request(req).await.map_err(|e| chain(&e))?;
        if !res.status().is_success() {
            return Err(format!("answered {}", res.status().as_u16()));
        }
        Limited::new(res.into_body(), max)
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e} (at most {max} bytes)"))
            .map(|b| b.to_bytes())
    };
    tokio::time::timeout(FETCH_TIMEOUT, read)
        .await
        .map_err(|_| format!("no answer within {} s", FETCH_TIMEOUT.as_secs()))
        .and_then(|r| r)
}

/// An error and its sources, joined by `: `.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}
