//! The RP's refresh stream, as the IdP journals it: every refresh (anyone's) seen within
//! 50 ms, so the oracle can tell when the RP went quiet for everyone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Log;
use crate::explore::trace::What;
use crate::idp::last_seq;
use crate::scenario::Shared;

/// How often the journal is read.
const EVERY: Duration = Duration::from_millis(50);

/// Records each refresh the IdP journals until `watching` turns false. `mark` is the last
/// journal entry an earlier round saw (what came since is the time between rounds: skipped),
/// and is left at the last this round saw.
pub(super) async fn watch(shared: &Arc<Shared>, log: &Log, watching: &AtomicBool, mark: &mut u64) {
    let admin = &shared.admin;
    match admin.journal_since(*mark).await {
        Ok(between) => *mark = last_seq(&between, *mark),
        Err(e) => {
            let why = format!("the refresh stream: {}", e.0);
            log.push(None, None, log.now(), What::Broken { why });
            return;
        }
    }
    while watching.load(Ordering::Relaxed) {
        tokio::time::sleep(EVERY).await;
        let Ok(new) = admin.journal_since(*mark).await else {
            continue;
        };
        let t = log.now();
        for e in new.iter().filter(|e| e.seq > *mark && e.is_refresh()) {
            let who = e.user.as_ref().and_then(|u| {
                let who = log.who.lock().unwrap_or_else(|p| p.into_inner());
                who.get(u).copied()
            });
            let what = What::Refresh {
                identity: who.map(|(_, i)| i),
                hung: e.held_past(shared.rp.idp_timeout_s),
                reused: e.reused_spent_token(),
            };
            log.push(who.map(|(l, _)| l), None, t, what);
        }
        *mark = last_seq(&new, *mark);
    }
}
