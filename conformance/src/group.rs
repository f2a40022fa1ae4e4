//! Launched RPs live in process groups of their own, and the whole group goes when the RP
//! stops: on a normal stop, when the run is dropped, on Ctrl-C or SIGTERM, and on a panic.
//! An RP started through `npm start` or a shell script leaves no orphan behind. (On
//! Windows, which has no process groups, the RP's process tree is killed: `taskkill /T`.)

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use tokio::process::{Child, Command};

/// The process groups of the RPs running now.
static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn live() -> MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A launched RP's process group (the RP leads it); killed, with everything the RP
/// started, when dropped.
#[derive(Debug)]
pub struct Group(i32);

impl Group {
    /// Spawns `cmd` as the leader of a new process group. The group is registered before
    /// anyone can ask to kill it: a Ctrl-C that arrives while the RP starts waits for this.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<(Child, Option<Group>)> {
        let mut live = live();
        #[cfg(unix)]
        cmd.process_group(0);
        let child = cmd.spawn()?;
        let group = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .map(|id| {
                live.insert(id);
                Group(id)
            });
        Ok((child, group))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        kill(self.0);
        live().remove(&self.0);
    }
}

#[cfg(unix)]
fn kill(group: i32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    // Already gone is fine: the RP may have exited on its own.
    let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
}

#[cfg(windows)]
fn kill(root: i32) {
    // The RP and every process it started; already gone is fine.
    let _ = std::process::Command::new("taskkill")
        .args(["/T", "/F", "/PID", &root.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Kills every launched RP's group (Ctrl-C, SIGTERM, a panic); how many.
pub fn kill_all() -> usize {
    let groups = live();
    for g in groups.iter() {
        kill(*g);
    }
    groups.len()
}

/// Kills every launched RP's group when the process panics, then panics as before.
pub fn kill_on_panic() {
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        kill_all();
        before(info);
    }));
}
