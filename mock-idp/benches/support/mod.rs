//! What the benches share: the release binary started on a free port, a process's memory
//! as the kernel counts it, and the demo client's code exchange.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Starts `mock-idp serve` on a free loopback port (with `config`, and `extra` arguments);
/// the child, its address and when it was spawned.
pub fn spawn(config: Option<&str>, extra: &[&str]) -> (Child, String, Instant) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mock-idp"));
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    cmd.args(extra);
    if let Some(c) = config {
        cmd.args(["--config", c]);
    }
    cmd.env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn mock-idp");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .unwrap_or_else(|| panic!("no addr= in {line:?}"))
        .to_owned();
    (child, addr, started)
}

/// A field of `/proc/{pid}/status` in kB (`VmRSS:`, `VmHWM:`), 0 when unreadable.
pub fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The `code` of an authorization response's redirect `location`.
pub fn code_in(location: &str) -> String {
    url::Url::parse(location)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code")
}

/// The demo client's code exchange (`client_secret_post`), answered 2xx.
pub async fn exchange(
    http: &reqwest::Client,
    issuer: &str,
    code: &str,
    redirect_uri: &str,
) -> reqwest::Response {
    let res = http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .expect("token");
    assert!(res.status().is_success(), "token: {}", res.status());
    res
}
