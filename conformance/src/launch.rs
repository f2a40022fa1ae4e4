//! Launch mode: the runner starts the RP with the contract's environment variables, waits
//! for its health URL, keeps its log, and stops it afterwards.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::group::Group;
use crate::rp::{GroupsClaim, Launch, RpDescription, SyncMode};

/// Lines of RP log kept in memory.
const LOG_LINES: usize = 20_000;

/// An RP started from rp.toml's command.
#[derive(Debug)]
struct Launched {
    child: Child,
    /// Its process group: dropping it kills the RP and whatever the RP started.
    group: Option<Group>,
    base_url: String,
    log: Arc<Mutex<Vec<String>>>,
    /// The tasks copying its stdout and stderr into `log` (done at the pipes' end).
    readers: Vec<tokio::task::JoinHandle<()>>,
}

/// What the RP is told, beyond rp.toml.
#[derive(Debug, Clone)]
pub struct Env<'a> {
    /// `PORT` and `BASE_URL`: chosen before the tenant is made (its redirect URI needs
    /// them) and before the RP starts (it may fetch discovery at start-up).
    pub address: &'a Address,
    /// `ISSUER`.
    pub issuer: &'a str,
    /// `CLIENT_SECRET`.
    pub client_secret: &'a str,
    /// `SYNC_MODE`.
    pub mode: SyncMode,
    /// `GROUPS_CLAIM` (rp.toml's, or a variant of `permissions.claim-location`).
    pub groups_claim: &'a GroupsClaim,
    /// `CLIENT_KEY_FILE` and `CLIENT_KEY_ID`, when the runner made the RP's key.
    pub client_keys: &'a crate::client_keys::ClientKeys,
    /// The CA of an IdP served over HTTPS (`--tls`): `IDP_CA_FILE`, and the variables the
    /// common runtimes read their extra trusted certificates from.
    pub ca_file: Option<&'a std::path::Path>,
    /// `REGISTRATION_TOKEN`: the RP registers itself (RFC 7591) with this initial access
    /// token; `CLIENT_ID` and `CLIENT_SECRET` are then empty.
    pub registration: Option<&'a str>,
}

/// The variables naming the IdP's CA file: the contract's own, OpenSSL's (Python's `ssl`,
/// Ruby, curl), Python `requests`', and Node.js's.
pub const CA_VARS: [&str; 4] = [
    "IDP_CA_FILE",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
];

/// An RP the runner started, however it was started.
pub trait RunningRp: Send + Sync {
    /// Where it listens (`BASE_URL`).
    fn base_url(&self) -> &str;
    /// Stops it; its log lines.
    fn stop(self: Box<Self>) -> BoxFuture<Vec<String>>;
    /// Whether it has exited on its own, and how (with the end of its log): `None` while
    /// it runs, or when the launcher cannot tell.
    fn exited(&mut self) -> Option<String> {
        None
    }
}

/// Why an RP did not come up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchError {
    /// It could not be started at all (its tenant not made, no such program, no free port,
    /// a bad variable): a problem of the set-up, not of the RP.
    Setup(String),
    /// It started and exited before it was ready (or its in-process launcher failed).
    Exited(String),
    /// It ran, but was not ready within rp.toml's `startup_timeout_s`.
    NotReady(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::Setup(m) | LaunchError::Exited(m) | LaunchError::NotReady(m) => {
                f.write_str(m)
            }
        }
    }
}

impl From<LaunchError> for String {
    fn from(e: LaunchError) -> String {
        e.to_string()
    }
}

/// A boxed future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Starts an RP from the contract's environment variables (`ISSUER`, `PORT`, `SYNC_MODE`…),
/// returning once it is ready. By default the runner runs rp.toml's `[launch]` command;
/// a Rust test can start its RP in-process instead (`Options::launcher`).
pub type Launcher = Arc<
    dyn Fn(BTreeMap<String, String>) -> BoxFuture<Result<Box<dyn RunningRp>, String>> + Send + Sync,
>;

/// How many of the ports handed out lately [`free_port`] never hands out again.
const RECENT_PORTS: usize = 256;

/// A free loopback port (the OS picks; the listener is closed before the RP binds it).
/// Between that close and the RP's own bind the port looks free to the OS, which may pick
/// it again for the next RP launched meanwhile: two RPs would then race for one port, and
/// the loser's runner would talk to the winner (seen: a login sent to another stage's
/// tenant). So a port handed out lately is never handed out again.
fn free_port() -> Result<u16, String> {
    static RECENT: std::sync::Mutex<std::collections::VecDeque<u16>> =
        std::sync::Mutex::new(std::collections::VecDeque::new());
    for _ in 0..64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        let mut recent = RECENT.lock().unwrap_or_else(|p| p.into_inner());
        if recent.contains(&port) {
            continue;
        }
        if recent.len() == RECENT_PORTS {
            recent.pop_front();
        }
        recent.push_back(port);
        return Ok(port);
    }
    Err("no free port that was not handed out lately".into())
}

/// Where a launched RP will listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `PORT`.
    pub port: u16,
    /// `BASE_URL`, without a trailing slash.
    pub base_url: String,
}

impl Address {
    /// rp.toml's `base_url`, or a free loopback port.
    pub fn choose(rp: &RpDescription) -> Result<Address, String> {
        Ok(match &rp.base_url {
            Some(b) => {
                let u = url::Url::parse(b).map_err(|e| e.to_string())?;
                Address {
                    port: u.port_or_known_default().unwrap_or(80),
                    base_url: b.trim_end_matches('/').to_owned(),
                }
            }
            None => {
                let p = free_port()?;
                Address {
                    port: p,
                    base_url: format!("http://127.0.0.1:{p}"),
                }
            }
        })
    }
}

/// The contract's environment variables for this launch (`[launch] env` included).
pub fn contract_vars(
    rp: &RpDescription,
    l: &Launch,
    env: &Env<'_>,
) -> Result<BTreeMap<String, String>, String> {
    let interval = l.sync_interval_s.unwrap_or(rp.sync_deadline_s / 4.0);
    let group_map = serde_json::to_string(&rp.group_map).map_err(|e| e.to_string())?;
    let mut vars: BTreeMap<String, String> = [
        ("ISSUER", env.issuer.to_owned()),
        ("CLIENT_ID", rp.client_id.clone()),
        ("CLIENT_SECRET", env.client_secret.to_owned()),
        ("PORT", env.address.port.to_string()),
        ("BASE_URL", env.address.base_url.clone()),
        ("SCOPES", rp.scopes.clone()),
        ("SYNC_MODE", env.mode.as_str().to_owned()),
        ("GROUPS_CLAIM", String::from(env.groups_claim.clone())),
        ("GROUP_MAP", group_map),
        ("SYNC_INTERVAL_S", format!("{interval}")),
        ("IDP_TIMEOUT_S", format!("{}", rp.idp_timeout_s)),
        ("CLIENT_AUTH", rp.client_auth.as_str().to_owned()),
    ]
    .into_iter()
    .chain(env.client_keys.env())
    .chain(
        env.ca_file
            .into_iter()
            .flat_map(|f| CA_VARS.map(|k| (k, f.display().to_string()))),
    )
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(token) = env.registration {
        vars.insert("CLIENT_ID".into(), String::new());
        vars.insert("CLIENT_SECRET".into(), String::new());
        vars.insert("REGISTRATION_TOKEN".into(), token.to_owned());
    }
    vars.extend(l.env.clone());
    Ok(vars)
}

/// Starts the RP (with `custom`, or rp.toml's command) and waits until it is ready.
pub async fn launch(
    rp: &RpDescription,
    l: &Launch,
    env: &Env<'_>,
    custom: Option<&Launcher>,
) -> Result<Box<dyn RunningRp>, LaunchError> {
    let vars = contract_vars(rp, l, env).map_err(LaunchError::Setup)?;
    match custom {
        Some(start) => start(vars).await.map_err(LaunchError::Exited),
        None => Ok(Box::new(spawn(rp, l, vars).await?)),
    }
}

/// Runs rp.toml's command with these variables and waits for its health URL.
async fn spawn(
    rp: &RpDescription,
    l: &Launch,
    vars: BTreeMap<String, String>,
) -> Result<Launched, LaunchError> {
    let program = {
        let p = std::path::Path::new(&l.command[0]);
        if p.is_relative() && p.components().count() > 1 {
            rp.dir.join(p)
        } else {
            p.to_path_buf()
        }
    };
    let mut cmd = Command::new(&program);
    let cwd = l
        .cwd
        .as_ref()
        .map_or_else(|| rp.dir.clone(), |c| rp.dir.join(c));
    if !cwd.as_os_str().is_empty() {
        cmd.current_dir(cwd);
    }
    let base_url = vars.get("BASE_URL").cloned().unwrap_or_default();
    cmd.args(&l.command[1..])
        .envs(&vars)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let (mut child, group) = Group::spawn(&mut cmd)
        .map_err(|e| LaunchError::Setup(format!("cannot start {}: {e}", program.display())))?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(keep(out, log.clone())));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(keep(err, log.clone())));
    }
    let mut launched = Launched {
        child,
        group,
        base_url,
        log,
        readers,
    };
    launched.wait_healthy(rp, l).await?;
    Ok(launched)
}

async fn keep(stream: impl AsyncRead + Unpin, log: Arc<Mutex<Vec<String>>>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() < LOG_LINES {
            log.push(line);
        }
    }
}

impl Launched {
    /// Waits for the health path to answer 2xx, or, with `health = ""` (no health
    /// endpoint), for the RP's port to accept connections.
    async fn wait_healthy(&mut self, rp: &RpDescription, l: &Launch) -> Result<(), LaunchError> {
        let health = rp.paths.health.as_deref().filter(|p| !p.is_empty());
        let url = format!("{}{}", self.base_url, health.unwrap_or(""));
        let addr = url::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
        let http = crate::wire::Http::new(
            &crate::wire::Trust::system(),
            Duration::from_secs(10),
            64 << 10,
            None,
        );
        let start = Instant::now();
        let limit = Duration::from_secs_f64(l.startup_timeout_s);
        let mut wait = Duration::from_millis(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last words: the pipes end with it (or with whatever it started,
                // which the bound covers).
                for r in self.readers.drain(..) {
                    let _ = tokio::time::timeout(Duration::from_secs(2), r).await;
                }
                return Err(LaunchError::Exited(format!(
                    "the RP exited ({status}) before it was ready; its log:\n{}",
                    self.tail(20).join("\n")
                )));
            }
            let ready = match (health, &addr) {
                (Some(_), _) => http
                    .send(
                        crate::wire::Method::GET,
                        &url,
                        None,
                        crate::wire::Body::Empty,
                    )
                    .await
                    .is_ok_and(|r| (200..300).contains(&r.status)),
                (None, Some(a)) => tokio::net::TcpStream::connect(a.as_str()).await.is_ok(),
                (None, None) => false,
            };
            if ready {
                return Ok(());
            }
            if start.elapsed() > limit {
                let what = match health {
                    Some(_) => format!("healthy at {url}"),
                    None => format!("listening at {}", self.base_url),
                };
                return Err(LaunchError::NotReady(format!(
                    "the RP was not {what} within {} s; its log:\n{}",
                    l.startup_timeout_s,
                    self.tail(20).join("\n")
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(250));
        }
    }

    /// The last `n` log lines.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log[log.len().saturating_sub(n)..].to_vec()
    }
}

impl RunningRp for Launched {
    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn exited(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok()??;
        Some(format!(
            "the RP exited ({status})\nits log ends:\n{}",
            self.tail(5).join("\n")
        ))
    }

    fn stop(mut self: Box<Self>) -> BoxFuture<Vec<String>> {
        Box::pin(async move {
            drop(self.group.take());
            let _ = self.child.kill().await;
            self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_handed_out_lately_is_not_handed_out_again() {
        let ports: Vec<u16> = (0..RECENT_PORTS)
            .map(|_| free_port().expect("a port"))
            .collect();
        let distinct: std::collections::BTreeSet<&u16> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
    }
}
