//! The floor for `mock-idp/bench/peers.sh`: a bare hyper HTTP/1.1 server, on the same
//! runtime as mock-idp, answering fixed bytes (the discovery document and JWKS mock-idp
//! served, read from files) and 404 for anything else. mock-idp ÷ this is what routing,
//! the tenant lookup, the journal and building the answer cost.
//!
//! Usage: `bare_server DISCOVERY_FILE JWKS_FILE` — prints `ready addr=127.0.0.1:PORT`.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use warp::hyper::server::conn::http1;
use warp::hyper::service::service_fn;
use warp::hyper::{Request, Response};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [discovery, jwks] = args.as_slice() else {
        eprintln!("usage: bare_server DISCOVERY_FILE JWKS_FILE");
        std::process::exit(2);
    };
    let discovery = Bytes::from(std::fs::read(discovery)?);
    let jwks = Bytes::from(std::fs::read(jwks)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("ready addr={}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let (discovery, jwks) = (discovery.clone(), jwks.clone());
        let service = service_fn(move |req: Request<warp::hyper::body::Incoming>| {
            let body = match req.uri().path() {
                "/.well-known/openid-configuration" => Some(discovery.clone()),
                "/jwks" => Some(jwks.clone()),
                _ => None,
            };
            async move {
                let res = match body {
                    Some(b) => Response::builder()
                        .header("content-type", "application/json")
                        .body(Full::new(b)),
                    None => Response::builder()
                        .status(404)
                        .body(Full::new(Bytes::new())),
                };
                Ok::<_, Infallible>(res.unwrap_or_default())
            }
        });
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
