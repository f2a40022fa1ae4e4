//! A reference relying party: a small web app that logs users in with OpenID Connect the
//! way the conformance contract (the book, docs/src/ci/contract.md) describes, and syncs their
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
mod dpop;
mod http;
mod idtoken;
mod profile;
mod provider;
mod registration;
mod settings;
mod store;
mod sync;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, oneshot};
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
    /// Logins so far, and the RP going down (`EXIT_AFTER_LOGINS`).
    logins: AtomicU32,
    down: Arc<Down>,
    /// `LOCK_FILE` was taken by another instance: every login answers 500.
    locked_out: bool,
}

/// An RP gone down: why, and the wake-up of its server's shutdown.
#[derive(Debug, Default)]
struct Down {
    why: Mutex<Option<String>>,
    notify: Notify,
}

impl App {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a login.
    fn logged_in(&self) {
        self.logins.fetch_add(1, Ordering::Relaxed);
    }

    /// At a sync tick: once `EXIT_AFTER_LOGINS` logins have happened, the RP goes down
    /// (a process that crashes in its background job, its last logins complete).
    fn maybe_go_down(&self) {
        let n = self.logins.load(Ordering::Relaxed);
        if self
            .settings
            .exit_after_logins
            .is_some_and(|limit| n >= limit)
        {
            let mut why = self.down.why.lock().unwrap_or_else(|p| p.into_inner());
            if why.is_none() {
                *why = Some(format!(
                    "it went down in its background sync after {n} logins (EXIT_AFTER_LOGINS)"
                ));
                self.down.notify.notify_one();
            }
        }
    }

    fn is_down(&self) -> bool {
        self.down
            .why
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}

/// A running reference RP; dropping it stops the server and the sync task.
#[derive(Debug)]
pub struct RunningRp {
    base_url: String,
    jwks_uri: String,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
    down: Arc<Down>,
    /// The `LOCK_FILE` this instance created, removed when it stops.
    lock: Option<std::path::PathBuf>,
}

impl RunningRp {
    /// Where it listens, e.g. `http://127.0.0.1:8081`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether it went down on its own (`EXIT_AFTER_LOGINS`), and why.
    pub fn exited(&self) -> Option<String> {
        self.down
            .why
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
        if let Some(f) = self.lock.take() {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Starts the RP on `127.0.0.1:PORT` (any free port for 0). Like most production RPs
/// (Spring Security with `issuer-uri`, ASP.NET), it fetches the provider's discovery
/// document and JWKS at start-up, and refuses to start without them.
///
/// With `REGISTRATION_TOKEN` and no client id it first registers itself (RFC 7591).
pub async fn start(mut settings: Settings) -> Result<RunningRp, String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", settings.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    if settings.client_id.is_empty()
        && let Some(token) = settings.registration_token.clone()
    {
        registration::register(&mut settings, &token, base_url.trim_end_matches('/')).await?;
    }
    let settings = Arc::new(settings);
    let provider = Provider::new(settings.clone())?;
    provider
        .jwks(false)
        .await
        .map_err(|e| format!("the provider is not ready at {}: {e}", settings.issuer))?;
    let jwks_uri = provider.metadata().await?.jwks_uri;
    // Like a PID file: the first instance takes it; a second one finds it taken.
    let lock = settings.lock_file.clone().filter(|f| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(f)
            .is_ok()
    });
    let locked_out = settings.lock_file.is_some() && lock.is_none();
    let app = Arc::new(App {
        provider,
        settings,
        base_url: base_url.trim_end_matches('/').to_owned(),
        store: Mutex::new(Store::default()),
        logins: AtomicU32::new(0),
        down: Arc::default(),
        locked_out,
    });
    let down = app.down.clone();
    let app_for_sync = app.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let crashed = app.down.clone();
    let server = tokio::spawn(async move {
        let serve = warp::serve(http::routes(app.clone()))
            .incoming(listener)
            .graceful(async move {
                let _ = stopped.await;
            })
            .run();
        // Gone down: no more answers, not even to connections already open.
        tokio::select! {
            () = serve => {}
            () = crashed.notify.notified() => {}
        }
    });
    let sync = tokio::spawn(sync::run(app_for_sync));
    Ok(RunningRp {
        base_url,
        jwks_uri,
        stop: Some(stop),
        tasks: vec![server, sync],
        down,
        lock,
    })
}

/// 32 random bytes, base64url: state, nonce, session ids, assertion ids.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
