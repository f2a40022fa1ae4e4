//! `MockIdp`: a running IdP on a socket, started from a builder, stopped on drop.

mod start;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{Clock, UnixTime};
use crate::config::{ClientConfig, Config, ConfigError, KeyFiles, UserConfig};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// Why the IdP could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config file is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The keys or issuer are unusable.
    #[error("{0}")]
    Setup(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Edits applied to the configuration before start.
#[derive(Clone, Default)]
struct Edits(Vec<ConfigEdit>);

type ConfigEdit = Arc<dyn Fn(&mut Config) + Send + Sync>;

impl std::fmt::Debug for Edits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} config edit(s)", self.0.len())
    }
}

/// Configures a [`MockIdp`] before it starts.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `.start().await`"]
pub struct Builder {
    config: Option<Config>,
    config_file: Option<PathBuf>,
    profile: Option<String>,
    key_files: Option<KeyFiles>,
    addr: SocketAddr,
    issuer: Option<String>,
    clock: Clock,
    seed: Option<u64>,
    admin_token: Option<String>,
    extra_users: Vec<UserConfig>,
    extra_clients: Vec<ClientConfig>,
    edits: Edits,
    header_read_timeout: Duration,
    tls: Option<TlsSource>,
    plain_alongside: bool,
}

/// Where the HTTPS certificate comes from.
#[derive(Debug, Clone)]
enum TlsSource {
    /// A throw-away CA and a certificate it signs, made at start.
    Generated,
    /// The user's certificate chain and key (PEM files).
    Files(PathBuf, PathBuf),
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            config: None,
            config_file: None,
            profile: None,
            key_files: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            issuer: None,
            clock: Clock::system(),
            seed: None,
            admin_token: None,
            extra_users: Vec::new(),
            extra_clients: Vec::new(),
            edits: Edits::default(),
            header_read_timeout: crate::serve::HEADER_READ_TIMEOUT,
            tls: None,
            plain_alongside: false,
        }
    }
}

impl Builder {
    /// Uses this configuration instead of the built-in one. Relative `pem_file`s are read
    /// from the current directory unless [`Builder::key_dir`] says otherwise.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Reads the configuration from a file (keys relative to it).
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Self {
        self.config_file = Some(path.as_ref().to_owned());
        self
    }

    /// Shapes the tenant like a real provider (`okta`, `keycloak`…, see
    /// [`crate::profiles::PROFILES`]): over a config file, the file's own keys win; over
    /// the built-in demo tenant or a [`Builder::config`], the profile wins.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Where `pem_file`s are read from.
    pub fn key_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.key_files = Some(KeyFiles::Dir(dir.as_ref().to_owned()));
        self
    }

    /// Listens here (default `127.0.0.1:0`, a random port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Pins the issuer URL (default: the config's issuer path on the bound address).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Uses this clock (keep a clone to move time).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Stops the clock at `now`, and seeds every random value: byte-identical tokens.
    pub fn deterministic(mut self, now: UnixTime, seed: u64) -> Self {
        self.clock = Clock::fixed(now);
        self.seed = Some(seed);
        self
    }

    /// Requires `Authorization: Bearer <token>` on the admin API. Without a token the server
    /// only starts on a loopback address.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// Edits the configuration (the built-in one unless another was given) before start;
    /// the built-in keys stay usable.
    ///
    /// ```no_run
    /// # async fn f() {
    /// let idp = mock_idp::MockIdp::builder()
    ///     .edit_config(|c| c.clients[0].refresh_policy.rotate = true)
    ///     .start()
    ///     .await
    ///     .unwrap();
    /// # }
    /// ```
    pub fn edit_config(mut self, edit: impl Fn(&mut Config) + Send + Sync + 'static) -> Self {
        self.edits.0.push(Arc::new(edit));
        self
    }

    /// How long a client may take to send a request's headers (default 30 s); a slower
    /// or idle connection is closed.
    pub fn header_read_timeout(mut self, limit: Duration) -> Self {
        self.header_read_timeout = limit;
        self
    }

    /// Adds (or replaces, by username) a user.
    pub fn user(mut self, user: UserConfig) -> Self {
        self.extra_users.push(user);
        self
    }

    /// Adds (or replaces, by id) a client.
    pub fn client(mut self, client: ClientConfig) -> Self {
        self.extra_clients.push(client);
        self
    }

    /// `127.0.0.1`, `localhost` and the issuer's host: the RP trusts [`MockIdp::ca_pem`].
    pub fn tls(mut self) -> Self {
        self.tls = Some(TlsSource::Generated);
        self
    }

    /// Serves HTTPS with this certificate chain and private key (PEM files).
    pub fn tls_files(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.tls = Some(TlsSource::Files(
            cert.as_ref().to_owned(),
            key.as_ref().to_owned(),
        ));
        self
    }

    /// With HTTPS: also serves plain HTTP on another loopback port
    /// ([`MockIdp::plain_url`]), the same tenants behind it, for a harness that drives the
    /// browser itself without a TLS client. Discovery and tokens still name the https
    /// issuer: the RP under test speaks HTTPS, the harness maps the origin.
    pub fn plain_alongside(mut self) -> Self {
        self.plain_alongside = true;
        self
    }
}

/// A running mock OpenID Provider. Dropping it stops the server.
#[derive(Debug)]
pub struct MockIdp {
    addr: SocketAddr,
    ca_pem: Option<String>,
    tenant: Arc<Tenant>,
    registry: Arc<Registry>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    plain: Option<Plain>,
}

/// The plain-HTTP listener of [`Builder::plain_alongside`].
#[derive(Debug)]
struct Plain {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MockIdp {
    /// With [`Builder::plain_alongside`]: the plain-HTTP origin serving the same tenants
    /// (`http://127.0.0.1:<port>`).
    pub fn plain_url(&self) -> Option<String> {
        self.plain.as_ref().map(|p| format!("http://{}", p.addr))
    }

    /// The built-in demo tenant on a random loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound; use [`MockIdp::builder`] to handle that.
    pub async fn start() -> MockIdp {
        MockIdp::builder()
            .start()
            .await
            .unwrap_or_else(|e| panic!("mock-idp failed to start: {e}"))
    }

    /// A builder for everything else.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The issuer URL (discovery is at `{issuer}/.well-known/openid-configuration`).
    pub fn issuer(&self) -> &str {
        &self.tenant.issuer
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}{}",
            crate::http::origin(self.issuer()),
            self.tenant.paths.discovery
        )
    }

    /// The throw-away CA's certificate (PEM) of a server started with [`Builder::tls`]:
    /// what the RP must trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The clock; advance it to expire codes, tokens and sessions.
    pub fn clock(&self) -> &Clock {
        &self.tenant.clock
    }

    /// Every protocol request so far (the newest `journal_capacity`), oldest first.
    pub fn journal(&self) -> Vec<crate::journal::Entry> {
        self.tenant.journal(0)
    }

    /// The tenant: users (`patch_user`, `delete_user`, `revoke_user`…), grants, keys.
    pub fn tenant(&self) -> &Arc<Tenant> {
        &self.tenant
    }

    /// Creates an isolated tenant at `{origin}/t/{name}`: its own users, clients, clock and
    /// freshly generated keys (the built-in demo configuration unless `config` is given).
    pub fn create_tenant(&self, name: &str, config: Option<Config>) -> Result<Arc<Tenant>, String> {
        self.registry.create(name, config)
    }

    /// Puts a created tenant back as it was created.
    pub fn reset_tenant(&self, name: &str) -> Result<Arc<Tenant>, String> {
        self.registry.reset(name)
    }

    /// Deletes a created tenant.
    pub fn delete_tenant(&self, name: &str) -> Result<(), String> {
        self.registry.delete(name)
    }

    /// Stops accepting connections, lets the requests in flight finish (for at most
    /// [`SHUTDOWN_GRACE`]: an idle keep-alive connection would otherwise hold it forever),
    /// and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(p) = &mut self.plain
            && let Some(stop) = p.stop.take()
        {
            let _ = stop.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
            let _ = (&mut self.task).await;
        }
    }
}

/// How long [`MockIdp::shutdown`] lets requests in flight finish. Idle connections close
/// at once, so only a request still being served (or a client stuck sending its headers)
/// makes a stop take this long; on a loaded CI machine a held request needed more than
/// the 0.8 s this once was.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

impl Drop for MockIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Open keep-alive connections would hold a graceful shutdown forever.
        self.task.abort();
        if let Some(p) = &self.plain {
            p.task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::start::issuer_on;
    use super::*;

    #[test]
    fn issuer_follows_the_bound_address_and_keeps_the_path() {
        let bound = SocketAddr::from(([127, 0, 0, 1], 5555));
        assert_eq!(
            issuer_on("http://127.0.0.1:9400", bound, "http"),
            "http://127.0.0.1:5555"
        );
        assert_eq!(
            issuer_on("https://idp.example/realms/demo/", bound, "http"),
            "http://127.0.0.1:5555/realms/demo"
        );
        let any = SocketAddr::from(([0, 0, 0, 0], 80));
        assert_eq!(issuer_on("http://x", any, "https"), "https://127.0.0.1:80");
    }
}
