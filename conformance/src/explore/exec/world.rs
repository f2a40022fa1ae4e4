//! The world actions, each at its time: the IdP's keys, its clock (which always ends where
//! it began), and a spare user outside the lanes whose refreshes hang.

use std::sync::Arc;
use std::time::Duration;

use mock_idp::faults::Fault;

use super::Log;
use crate::browser::Browser;
use crate::explore::plan::{Plan, World};
use crate::explore::trace::What;
use crate::idp::TestUser;
use crate::scenario::Shared;

pub(super) async fn run(shared: &Arc<Shared>, plan: &Plan, log: &Log, tag: &str) {
    let admin = &shared.admin;
    let spare = if plan
        .world
        .iter()
        .any(|w| matches!(w.world, World::HangSpare { .. }))
    {
        match spare(shared, tag).await {
            Ok(s) => Some(s),
            Err(why) => {
                log.push(None, None, log.now(), What::Broken { why });
                None
            }
        }
    } else {
        None
    };
    for w in &plan.world {
        let wait = w.at_s - log.now();
        if wait > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
        let t0 = log.now();
        match &w.world {
            World::RotateKey {} => {
                // The old key stays published for the ID tokens' lifetime (the default).
                match admin.rotate_key(3600).await {
                    Ok(_) => log.push(None, None, t0, What::KeyRotated),
                    Err(e) => log.push(None, None, t0, What::Broken { why: e.0 }),
                }
            }
            World::ExpireRefreshTokens { hold_s } => {
                let jump = shared.idp.refresh_lifetime_s + mock_idp::KEEP_EXPIRED_FOR / 5;
                if let Err(e) = admin.advance_clock(jump).await {
                    log.push(None, None, t0, What::Broken { why: e.0 });
                    continue;
                }
                log.push(None, None, t0, What::ClockAhead { seconds: jump });
                tokio::time::sleep(Duration::from_secs_f64(*hold_s)).await;
                let t0 = log.now();
                match admin.advance_clock(-jump).await {
                    Ok(()) => log.push(None, None, t0, What::ClockBack),
                    Err(e) => log.push(None, None, t0, What::Broken { why: e.0 }),
                }
            }
            World::HangSpare { s } => {
                let Some(user) = &spare else { continue };
                let hang_s = shared.rp.idp_timeout_s + 0.5;
                let fault = Fault::Latency {
                    ms: (hang_s * 1000.0) as u64,
                };
                let id = match admin.arm(&fault, user, None, Some("refresh_token")).await {
                    Ok(id) => id,
                    Err(e) => {
                        log.push(None, None, t0, What::Broken { why: e.0 });
                        continue;
                    }
                };
                log.push(None, None, t0, What::SpareHung { hang_s });
                tokio::time::sleep(Duration::from_secs_f64(*s)).await;
                let t0 = log.now();
                match admin.clear(id).await {
                    Ok(_) => log.push(None, None, t0, What::SpareFreed),
                    Err(e) => log.push(None, None, t0, What::Broken { why: e.0 }),
                }
            }
        }
    }
}

/// The spare user, created and logged in (its session is what the RP refreshes); its
/// username.
async fn spare(shared: &Arc<Shared>, tag: &str) -> Result<String, String> {
    let username = format!("{}-{tag}-spare", shared.run_id);
    let u = TestUser {
        sub: format!("sub-{username}"),
        email: format!("{username}@example.test"),
        name: "Spare user".into(),
        groups: shared.rp.group_map.keys().take(1).cloned().collect(),
        username: username.clone(),
    };
    shared.admin.put_user(&u).await.map_err(|e| e.0)?;
    let b = Browser::new(999, shared.sites.clone(), Arc::default());
    b.login(&username, None)
        .await
        .map_err(|e| format!("the spare user's login: {e}"))?;
    Ok(username)
}
