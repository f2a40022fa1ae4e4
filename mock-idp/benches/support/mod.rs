//! What the benches share: the release binary started on a free port, and a process's
//! memory as the kernel counts it.

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
