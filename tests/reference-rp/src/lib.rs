//! A reference relying party: a small web app that logs users in with OpenID Connect the
//! way the conformance contract (README, "Test your RP in CI") describes, and syncs their
//! profile and permissions in the background through refresh tokens.
//!
//! It is correct by default; [`Defect`]s switch on realistic mistakes, one at a time or
//! together, so that the conformance suite can be shown to catch each of them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let settings = reference_rp::Settings::new("http://127.0.0.1:9400", "demo-rp", "demo-secret");
//! let rp = reference_rp::start(settings).await?;
//! println!("log in at {}/login", rp.base_url());
//! # Ok(()) }
//! ```

mod defects;
mod http;
mod idtoken;
mod profile;
mod provider;
mod settings;
mod store;
mod sync;

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use defects::{Defect, Defects};
pub use settings::{GroupsToken, Settings, SyncMode, parse_groups_claim};

use provider::Provider;
use store::Store;

/// The running app's shared state.
#[derive(Debug)]
struct App {
    settings: Arc<Settings>,
    base_url: String,
    provider: Provider,
    store: Mutex<Store>,
}

impl App {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running reference RP; dropping it stops the server and the sync task.
#[derive(Debug)]
pub struct RunningRp {
    base_url: String,
    jwks_uri: String,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningRp {
    /// Where it listens, e.g. `http://127.0.0.1:8081`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Where it fetched the provider's keys (the discovery document's `jwks_uri`).
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }
}

impl Drop for RunningRp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the RP on `127.0.0.1:PORT` (any free port for 0). Like most production RPs
/// (Spring Security with `issuer-uri`, ASP.NET), it fetches the provider's discovery
/// document and JWKS at start-up, and refuses to start without them.
pub async fn start(settings: Settings) -> Result<RunningRp, String> {
    let settings = Arc::new(settings);
    let provider = Provider::new(settings.clone());
    provider
        .jwks(false)
        .await
        .map_err(|e| format!("the provider is not ready at {}: {e}", settings.issuer))?;
    let jwks_uri = provider.metadata().await?.jwks_uri;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", settings.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let app = Arc::new(App {
        provider,
        settings,
        base_url: base_url.trim_end_matches('/').to_owned(),
        store: Mutex::new(Store::default()),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        warp::serve(http::routes(app.clone()))
            .incoming(listener)
            .graceful(async move {
                let _ = stopped.await;
            })
            .run(),
    );
    let sync = tokio::spawn(sync::run(app));
    Ok(RunningRp {
        base_url,
        jwks_uri,
        stop: Some(stop),
        tasks: vec![server, sync],
    })
}

/// 32 random bytes, base64url: state, nonce, session ids, assertion ids.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
