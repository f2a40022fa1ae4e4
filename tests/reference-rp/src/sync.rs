//! Background sync: every `SYNC_INTERVAL_S`, each session's refresh token is used to
//! re-read the profile and groups. `invalid_grant` ends access; other failures (an IdP
//! outage) change nothing until the next cycle.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::App;
use crate::defects::Defect;
use crate::idtoken::Check;
use crate::profile;
use crate::store::Session;

/// The sync loop; runs until the RP stops.
pub async fn run(app: Arc<App>) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(app.settings.sync_interval_s));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let mut cycle = JoinSet::new();
        for (cookie, session) in app.store().refreshable() {
            cycle.spawn(refresh(app.clone(), cookie, session));
        }
        while cycle.join_next().await.is_some() {}
    }
}

async fn refresh(app: Arc<App>, cookie: String, session: Session) {
    let Some(token) = session.refresh_token.clone() else {
        return;
    };
    let form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", token),
    ];
    let tokens = match app.provider.token(form).await {
        Ok(t) => t,
        Err(e) if e.error.as_deref() == Some("invalid_grant") => {
            app.store().revoke(session.account);
            return;
        }
        Err(_) => return,
    };
    if let Some(rt) = &tokens.refresh_token {
        app.store().set_refresh_token(&cookie, rt.clone());
    }
    let d = &app.settings.defects;
    let Ok(p) = profile::load(&app, &tokens, Check::Refresh).await else {
        return;
    };
    let mut store = app.store();
    if p.sub != session.sub {
        if d.has(Defect::RefreshSubUnchecked) {
            store.set_sub(session.account, &p.sub);
        } else {
            // OIDC Core §12.2: another subject in a refresh is not this session's user.
            store.close(&cookie);
            return;
        }
    }
    store.apply(
        session.account,
        &p,
        &app.settings,
        !d.has(Defect::NoProfileSync),
    );
}
