//! Background sync: every `SYNC_INTERVAL_S`, each session's refresh token is used to
//! re-read the profile and groups. `invalid_grant` ends access; other failures (an IdP
//! outage, a timeout) change nothing until the next cycle. A session whose refresh is
//! still in flight (a hanging IdP) is left out of the cycle, so it never delays the others.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::App;
use crate::defects::Defect;
use crate::idtoken::Check;
use crate::profile;
use crate::store::Session;

/// Sessions whose refresh is in flight.
type InFlight = Arc<Mutex<HashSet<String>>>;

/// The sync loop; runs until the RP stops.
pub async fn run(app: Arc<App>) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(app.settings.sync_interval_s));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let in_flight: InFlight = Arc::default();
    loop {
        tick.tick().await;
        app.maybe_go_down();
        if app.is_down() {
            return;
        }
        let d = &app.settings.defects;
        let slow = d.has(Defect::SlowSync);
        if d.has(Defect::ExpiresSessions) {
            app.store().close_expired(Instant::now());
            continue;
        }
        let sessions = app.store().refreshable();
        for (cookie, session) in sessions {
            if slow
                && session
                    .access_expires_at
                    .is_some_and(|t| t > Instant::now())
            {
                continue;
            }
            if d.has(Defect::SequentialSync) {
                refresh(&app, &cookie, session).await;
                continue;
            }
            if !lock(&in_flight).insert(cookie.clone()) {
                continue;
            }
            let (app, in_flight) = (app.clone(), in_flight.clone());
            tokio::spawn(async move {
                refresh(&app, &cookie, session).await;
                lock(&in_flight).remove(&cookie);
            });
        }
    }
}

fn lock(s: &InFlight) -> std::sync::MutexGuard<'_, HashSet<String>> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

async fn refresh(app: &Arc<App>, cookie: &str, session: Session) {
    let Some(token) = session.refresh_token.clone() else {
        return;
    };
    let d = &app.settings.defects;
    if app.settings.validates_with_userinfo
        && let Some(access) = &session.access_token
        && let Err(e) = app.provider.userinfo(access).await
        && e.contains("401")
    {
        // The provider no longer honours the user's access token: access ends.
        app.store().revoke(session.account, d);
        return;
    }
    let form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", token),
    ];
    let tokens = match app.provider.token(form).await {
        Ok(t) => t,
        Err(e) => {
            let revoked = e.error.as_deref() == Some("invalid_grant");
            let revoke = if revoked {
                !d.has(Defect::IgnoresInvalidGrant)
            } else {
                d.has(Defect::RevokesOnError)
            };
            if revoke {
                app.store().revoke(session.account, d);
            }
            return;
        }
    };
    let rotated = tokens
        .refresh_token
        .clone()
        .filter(|_| !d.has(Defect::ReusesRefreshToken));
    app.store().refreshed(
        cookie,
        rotated,
        &tokens.access_token,
        tokens.access_expires_at(),
    );
    let Ok(p) = profile::load(app, &tokens, Check::Refresh).await else {
        if d.has(Defect::RefreshRequiresNonce) {
            app.store().close(cookie);
        }
        return;
    };
    if app.settings.apply_delay_s > 0.0 {
        // The claims go to a slower job, and the next refresh does not wait for it.
        let (app, cookie, delay) = (
            app.clone(),
            cookie.to_owned(),
            Duration::from_secs_f64(app.settings.apply_delay_s),
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            apply(&app, &cookie, &session, &p);
        });
        return;
    }
    apply(app, cookie, &session, &p);
    if d.has(Defect::SyncUserinfoSubUnchecked)
        && let Ok(Some(info)) = app.provider.userinfo(&tokens.access_token).await
    {
        // Userinfo as the profile's source, its sub never compared with the session's.
        app.store().take_userinfo(session.account, &info);
    }
}

/// Applies a refresh's profile to the session's account.
fn apply(app: &App, cookie: &str, session: &Session, p: &crate::store::Profile) {
    let d = &app.settings.defects;
    let mut store = app.store();
    let mut account = session.account;
    if d.has(Defect::RenameSplitsAccount) {
        match store.account_by_email(cookie, p) {
            Some(a) => account = a,
            None => return,
        }
    }
    if p.sub != session.sub {
        if d.has(Defect::RefreshSubUnchecked) {
            store.set_sub(session.account, &p.sub);
        } else {
            // OIDC Core §12.2: another subject in a refresh is not this session's user.
            store.close(cookie);
            return;
        }
    }
    store.apply(
        account,
        p,
        &app.settings,
        !d.has(Defect::NoProfileSync),
        !d.has(Defect::SyncIgnoresGroups),
    );
}
