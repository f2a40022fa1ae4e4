//! The accept loop: the routes served by hyper with the limits a server that anyone on
//! the host can reach needs — a client has [`HEADER_READ_TIMEOUT`] to send a request's
//! headers (slow or idle connections are closed, not kept forever), at most
//! [`MAX_CONNECTIONS`] connections are served at once (more wait in the kernel's backlog),
//! and a graceful stop lets the requests in flight finish. (warp's own `serve` sets no
//! timer, so hyper would wait for headers forever.) HTTP/1.1, over TLS when asked
//! ([`crate::tls`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use warp::filters::BoxedFilter;
use warp::hyper::server::conn::http1;
use warp::reply::Response;

/// How long a client may take to send a request's headers, the first or the next on a
/// kept-alive connection (an idle keep-alive connection is closed after it, as nginx's
/// `keepalive_timeout` does).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 4096;

/// The server's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
}

/// Serves `routes` on `listener` (over TLS when `tls` is given) until `stop` resolves, then
/// lets the connections finish.
pub async fn serve(
    listener: TcpListener,
    routes: BoxedFilter<(Response,)>,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    stop: impl Future<Output = ()> + Send,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut stop = std::pin::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: wait a moment rather than spin.
                    tracing::debug!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Taken now, so that a graceful stop waits for this connection too.
        let watcher = graceful.watcher();
        let (routes, tls) = (routes.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => connection(stream, routes, limits, watcher).await,
                // The handshake gets the header timeout too: a client that opens a
                // connection and says nothing is closed either way.
                Some(tls) => {
                    match tokio::time::timeout(limits.header_read_timeout, tls.accept(stream)).await
                    {
                        Ok(Ok(stream)) => connection(stream, routes, limits, watcher).await,
                        Ok(Err(e)) => tracing::debug!("TLS handshake: {e}"),
                        Err(_) => tracing::debug!("TLS handshake: too slow, closed"),
                    }
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One connection, HTTP/1.1 only: the header timeout then runs from the first byte
/// awaited (an auto-detecting builder would wait for a silent client's first bytes forever).
async fn connection<I>(io: I, routes: BoxedFilter<(Response,)>, limits: Limits, watcher: Watcher)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(warp::service(routes));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!("connection: {e}");
    }
}
