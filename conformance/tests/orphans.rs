//! The runner leaves no process behind: an RP it launched goes with its whole process
//! group (here a shell that started a child of its own) when the runner is interrupted.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// An rp.toml whose RP is a shell that starts a grandchild (its pid in a file) and never
/// listens: the runner waits for it, and is interrupted meanwhile.
fn rp_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("conformance-orphans-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("rp.toml"),
        r#"[paths]
health = ""

[launch]
command = ["sh", "-c", "sleep 300 & echo $! > grandchild.pid; sleep 300"]
startup_timeout_s = 120
"#,
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
