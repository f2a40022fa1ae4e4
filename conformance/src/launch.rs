//! Launch mode: the runner starts the RP with the contract's environment variables, waits
//! for its health URL, keeps its log, and stops it afterwards.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::rp::{Launch, RpDescription, SyncMode};

/// Lines of RP log kept in memory.
const LOG_LINES: usize = 20_000;

/// A launched RP.
#[derive(Debug)]
pub struct Launched {
    child: Child,
    /// Where it listens.
    pub base_url: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// What the RP is told.
#[derive(Debug, Clone)]
pub struct Env<'a> {
    /// `ISSUER`.
    pub issuer: &'a str,
    /// `CLIENT_SECRET`.
    pub client_secret: &'a str,
    /// `SYNC_MODE`.
    pub mode: SyncMode,
}

/// A free loopback port (the OS picks; the listener is closed before the RP binds it).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Starts the RP and waits until it is healthy.
pub async fn launch(rp: &RpDescription, l: &Launch, env: &Env<'_>) -> Result<Launched, String> {
    let (port, base_url) = match &rp.base_url {
        Some(b) => {
            let u = url::Url::parse(b).map_err(|e| e.to_string())?;
            (
                u.port_or_known_default().unwrap_or(80),
                b.trim_end_matches('/').to_owned(),
            )
        }
        None => {
            let p = free_port()?;
            (p, format!("http://127.0.0.1:{p}"))
        }
    };
    let program = {
        let p = std::path::Path::new(&l.command[0]);
        if p.is_relative() && p.components().count() > 1 {
            rp.dir.join(p)
        } else {
            p.to_path_buf()
        }
    };
    let interval = l.sync_interval_s.unwrap_or(rp.sync_deadline_s / 4.0);
    let group_map = serde_json::to_string(&rp.group_map).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&program);
    let cwd = l
        .cwd
        .as_ref()
        .map_or_else(|| rp.dir.clone(), |c| rp.dir.join(c));
    if !cwd.as_os_str().is_empty() {
        cmd.current_dir(cwd);
    }
    cmd.args(&l.command[1..])
        .env("ISSUER", env.issuer)
        .env("CLIENT_ID", &rp.client_id)
        .env("CLIENT_SECRET", env.client_secret)
        .env("PORT", port.to_string())
        .env("BASE_URL", &base_url)
        .env("SCOPES", &rp.scopes)
        .env("SYNC_MODE", env.mode.as_str())
        .env("GROUPS_CLAIM", String::from(rp.groups_claim.clone()))
        .env("GROUP_MAP", group_map)
        .env("SYNC_INTERVAL_S", format!("{interval}"))
        .envs(&l.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let log = Arc::new(Mutex::new(Vec::new()));
    if let Some(out) = child.stdout.take() {
        tokio::spawn(keep(out, log.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(keep(err, log.clone()));
    }
    let mut launched = Launched {
        child,
        base_url,
        log,
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
    async fn wait_healthy(&mut self, rp: &RpDescription, l: &Launch) -> Result<(), String> {
        let path = rp
            .paths
            .health
            .clone()
            .unwrap_or_else(|| rp.paths.me.clone());
        let url = format!("{}{path}", self.base_url);
        let http = reqwest::Client::new();
        let start = Instant::now();
        let limit = Duration::from_secs_f64(l.startup_timeout_s);
        let mut wait = Duration::from_millis(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the RP exited ({status}) before it was ready; its log:\n{}",
                    self.tail(20).join("\n")
                ));
            }
            if let Ok(res) = http.get(&url).send().await {
                // Without a health path, any answer from /me means it listens.
                if res.status().is_success() || rp.paths.health.is_none() {
                    return Ok(());
                }
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "the RP was not healthy at {url} within {} s; its log:\n{}",
                    l.startup_timeout_s,
                    self.tail(20).join("\n")
                ));
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

    /// Stops the RP; its whole log.
    pub async fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill().await;
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
