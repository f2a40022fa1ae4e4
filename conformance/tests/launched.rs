//! The runner and the RPs it launches: an RP goes with its whole process group (here a
//! shell that started a child of its own) when the runner is interrupted, and an RP that
//! dies mid-run is said to have, in bounded time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// An rp.toml whose RP is a shell that starts a grandchild (its pid in a file) and never
/// listens: the runner waits for it, and is interrupted meanwhile.
fn rp_dir(tag: &str) -> PathBuf {
    rp_dir_with(
        tag,
        r#"["sh", "-c", "sleep 300 & echo $! > grandchild.pid; sleep 300"]"#,
    )
}

/// A folder with an rp.toml launching `command` (a TOML array), no health endpoint.
fn rp_dir_with(tag: &str, command: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("conformance-orphans-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("rp.toml"),
        format!(
            "[paths]\nhealth = \"\"\n\n[launch]\ncommand = {command}\nstartup_timeout_s = 120\n"
        ),
    )
    .unwrap();
    dir
}

fn start(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["run", "--rp"])
        .arg(dir.join("rp.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (bounded) until `what` holds.
fn eventually(what: &str, limit: Duration, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Gone, or a zombie waiting for init to reap it.
fn dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn interrupt_and_check(tag: &str, signal: Signal, code: i32) {
    let dir = rp_dir(tag);
    let mut runner = start(&dir);
    let pidfile = dir.join("grandchild.pid");
    eventually("the RP started its child", Duration::from_secs(60), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|s| s.trim().parse::<i32>().is_ok())
    });
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!dead(grandchild), "the RP's child runs");
    kill(Pid::from_raw(runner.id() as i32), signal).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = runner.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the runner did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = runner.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(status.code(), Some(code), "{err}");
    assert!(err.contains("1 launched RP(s)"), "{err}");
    eventually("the RP's own child is gone", Duration::from_secs(5), || {
        dead(grandchild)
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_takes_the_launched_rp_and_its_children_along() {
    interrupt_and_check("term", Signal::SIGTERM, 143);
}

#[test]
fn ctrl_c_takes_the_launched_rp_and_its_children_along() {
    interrupt_and_check("int", Signal::SIGINT, 130);
}

#[test]
fn an_rp_that_dies_mid_run_is_said_to_have_died() {
    // It serves one connection (the runner's readiness probe), then exits with status 3.
    let dir = rp_dir_with(
        "dies",
        r#"["python3", "-c", "import http.server as h, os; s = h.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), h.BaseHTTPRequestHandler); s.handle_request(); raise SystemExit(3)"]"#,
    );
    let report = dir.join("report");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["run", "--rp"])
        .arg(dir.join("rp.toml"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(60), "bounded time");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("RP EXITED (strict): the RP exited (exit status: 3)"),
        "{err}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    let run = &json["runs"][0];
    assert!(
        run["rp_exited"]
            .as_str()
            .unwrap_or_default()
            .contains("exit status: 3")
    );
    let results = run["results"].as_array().unwrap();
    let errors: Vec<&str> = results
        .iter()
        .filter(|r| r["verdict"] == "error")
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|r| r.contains("the RP exited (exit status: 3)")),
        "{errors:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
