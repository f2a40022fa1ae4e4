//! The loopback redirect URI preflight listens on (RFC 8252 §7.3): the provider sends the
//! browser back here with the authorization response.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use warp::Filter;

use super::PreflightError;

/// The page the person's browser lands on.
const RECEIVED: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Preflight: login received</title></head><body><main><h1>Login received</h1><p>conformance preflight has the authorization response; the report is in your terminal. You can close this tab.</p></main></body></html>";

/// A listener on the redirect URI.
#[derive(Debug)]
pub struct Listener {
    redirect_uri: String,
    received: mpsc::Receiver<BTreeMap<String, String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Binds the redirect URI's loopback address (a free port when it names none): the
    /// URI `asked` for, else the app's `callback` path on 127.0.0.1.
    pub async fn bind(asked: Option<&str>, callback: &str) -> Result<Listener, PreflightError> {
        let asked = asked
            .map(str::to_owned)
            .unwrap_or_else(|| format!("http://127.0.0.1{callback}"));
        let bad = |why: &str| PreflightError(format!("--redirect-uri {asked:?}: {why}"));
        let mut url = url::Url::parse(&asked).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad(
                "preflight listens on a loopback http URI (RFC 8252 §7.3), e.g. http://127.0.0.1:8765/login/oauth2/callback",
            ));
        }
        let ip = match url.host_str() {
            Some("127.0.0.1") => "127.0.0.1",
            Some("localhost") => "127.0.0.1",
            Some("[::1]") => "::1",
            _ => {
                return Err(bad(
                    "the host must be 127.0.0.1, localhost or [::1]: preflight listens there",
                ));
            }
        };
        let port = url.port().unwrap_or(0);
        let addr: SocketAddr = format!("{}:{port}", if ip == "::1" { "[::1]" } else { ip })
            .parse()
            .map_err(|e| bad(&format!("{e}")))?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| bad(&format!("cannot listen on {addr}: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| bad(&format!("cannot listen on {addr}: {e}")))?;
        if url.port().is_none() {
            let _ = url.set_port(Some(bound.port()));
        }
        let path = url.path().to_owned();
        let (tx, received) = mpsc::channel(4);
        let route = warp::get()
            .and(warp::path::full())
            .and(warp::query::<BTreeMap<String, String>>())
            .map(
                move |full: warp::path::FullPath, query: BTreeMap<String, String>| {
                    if full.as_str() != path {
                        return warp::reply::with_status(
                            warp::reply::html("not the redirect URI".to_owned()),
                            warp::http::StatusCode::NOT_FOUND,
                        );
                    }
                    let _ = tx.try_send(query);
                    warp::reply::with_status(
                        warp::reply::html(RECEIVED.to_owned()),
                        warp::http::StatusCode::OK,
                    )
                },
            );
        let task = tokio::spawn(warp::serve(route).incoming(listener).run());
        Ok(Listener {
            redirect_uri: url.to_string(),
            received,
            task,
        })
    }

    /// The redirect URI, with the port bound.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The first authorization response to arrive within `limit`.
    pub async fn wait(&mut self, limit: Duration) -> Option<BTreeMap<String, String>> {
        tokio::time::timeout(limit, self.received.recv())
            .await
            .ok()
            .flatten()
    }
}
