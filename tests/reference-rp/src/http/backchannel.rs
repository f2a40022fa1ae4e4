//! `POST /backchannel-logout` (OpenID Connect Back-Channel Logout 1.0): validates the
//! logout token (§2.6), ends the sessions it names (§2.7), answers 200 or 400 (§2.8).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use super::{error, with_app};
use crate::App;
use crate::defects::Defect;
use crate::idtoken::{Check, validate};

/// The event a logout token carries (§2.4).
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("backchannel-logout")
        .and(warp::post())
        .and(with_app(app))
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::body::form())
        .then(|app: Arc<App>, form: HashMap<String, String>| async move {
            let mut res = match logout(&app, &form).await {
                Ok(()) => StatusCode::OK.into_response(),
                Err(why) => error(StatusCode::BAD_REQUEST, "invalid_request", &why),
            };
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        })
        .boxed()
}

async fn logout(app: &Arc<App>, form: &HashMap<String, String>) -> Result<(), String> {
    let d = &app.settings.defects;
    if d.has(Defect::NoBackchannelLogout) {
        return Ok(());
    }
    let token = form.get("logout_token").ok_or("no logout_token")?;
    // Signature, iss, aud, exp, iat: as for an ID token (§2.6 steps 2–4).
    let claims = validate(&app.provider, &app.settings, token, Check::LogoutToken).await?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let event = claims
        .get("events")
        .and_then(|e| e.get(EVENT))
        .is_some_and(Value::is_object);
    if !event && !d.has(Defect::IgnoresLogoutEvents) {
        return Err("the events claim does not hold the back-channel logout event".into());
    }
    if claims.contains_key("nonce") && !d.has(Defect::LogoutAcceptsNonce) {
        return Err("a logout token must not carry a nonce".into());
    }
    let (sub, sid) = (text("sub"), text("sid"));
    if sub.is_none() && sid.is_none() {
        return Err("the logout token names neither sub nor sid".into());
    }
    let sid = if d.has(Defect::LogoutIgnoresSid) && sub.is_some() {
        None
    } else {
        sid
    };
    // Already logged out is a success too: a logout is idempotent.
    if app.settings.logout_lag_s > 0.0 {
        // Answered now, processed by a queue worker later.
        let (app, sub, sid) = (app.clone(), sub.map(str::to_owned), sid.map(str::to_owned));
        let lag = std::time::Duration::from_secs_f64(app.settings.logout_lag_s);
        tokio::spawn(async move {
            tokio::time::sleep(lag).await;
            app.store().log_out(sub.as_deref(), sid.as_deref());
        });
        return Ok(());
    }
    app.store().log_out(sub, sid);
    Ok(())
}
