//! Runs a third party's pinned install script (npm ci, pip into a venv): the test needs the
//! library, so a missing tool or package fails it, saying which. Once per folder and test
//! process: the tests of one folder's variants run at once, and `npm ci` removes the
//! `node_modules` a process launched by another of them is loading. Shared by the real
//! RPs (`tests/rps`) and the real providers (`tests/ops`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `dir/install.sh` unless this process already has.
pub fn install(dir: &Path) {
    static DONE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|d| d == dir) {
        return;
    }
    let script = dir.join("install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    done.push(dir.to_path_buf());
}
