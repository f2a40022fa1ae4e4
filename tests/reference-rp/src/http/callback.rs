//! `GET /login/oauth2/callback`: checks the authorization response, redeems the code,
//! validates the tokens and opens a session.

use std::collections::HashMap;
use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{
    CALLBACK, LOGIN, SESSION, cookie, cookies, error, random, redirect, set_cookie, with_app,
};
use crate::App;
use crate::defects::Defect;
use crate::idtoken::Check;
use crate::profile;
use crate::settings::SyncMode;
use crate::store::Session;

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("login" / "oauth2" / "callback")
        .and(warp::get())
        .and(with_app(app))
        .and(warp::query::<HashMap<String, String>>())
        .and(cookies())
        .then(
            |app: Arc<App>, q: HashMap<String, String>, c: Option<String>| async move {
                callback(&app, &q, &c).await.unwrap_or_else(|e| e)
            },
        )
        .boxed()
}

fn refused(why: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, "login_failed", why.as_ref())
}

async fn callback(
    app: &App,
    q: &HashMap<String, String>,
    cookies: &Option<String>,
) -> Result<Response, Response> {
    let d = &app.settings.defects;
    let pending = cookie(cookies, LOGIN)
        .and_then(|id| app.store().take_pending(&id))
        .ok_or_else(|| refused("no login in progress in this browser: start at /login"))?;
    if let Some(e) = q.get("error") {
        if d.has(Defect::CrashesOnIdpError) {
            return Err(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            ));
        }
        let why = q.get("error_description").map(String::as_str).unwrap_or("");
        return Err(error(
            StatusCode::FORBIDDEN,
            "login_failed",
            &format!("the identity provider refused the login: {e} {why}"),
        ));
    }
    let state_ok = match q.get("state") {
        _ if d.has(Defect::NoStateCheck) => true,
        None if d.has(Defect::StateOptional) => true,
        got => got == Some(&pending.state),
    };
    if !state_ok {
        return Err(refused(
            "the state does not match the login this browser started",
        ));
    }
    let code = q.get("code").ok_or_else(|| refused("no code"))?;
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.clone()),
        ("redirect_uri", format!("{}{CALLBACK}", app.base_url)),
    ];
    if let Some(v) = &pending.verifier {
        form.push(("code_verifier", v.clone()));
    }
    let tokens = app
        .provider
        .token(form)
        .await
        .map_err(|e| refused(format!("the code was not redeemed: {}", e.detail)))?;
    if tokens.refresh_token.is_none() && !d.has(Defect::AcceptsNoRefreshToken) {
        return Err(refused(
            "the provider issued no refresh token: grant offline access to this application",
        ));
    }
    let nonce = pending.nonce.as_str();
    let p = profile::load(app, &tokens, Check::Login { nonce })
        .await
        .map_err(|e| refused(format!("the ID token was refused: {e}")))?;
    if app.locked_out {
        // Like an app whose session database another instance holds.
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the session store is locked by another instance (LOCK_FILE)",
        ));
    }
    let session = random();
    {
        let mut store = app.store();
        let (account, created) = store.account_for(&p, d);
        // A login syncs: logging out and in again forces a sync.
        let permissions = created || !d.has(Defect::ReloginKeepsStale);
        if d.has(Defect::AdditiveLoginReplaces) && app.settings.sync_mode == SyncMode::Additive {
            store.clear_permissions(account);
        }
        store.apply(account, &p, &app.settings, true, permissions);
        store.open(
            session.clone(),
            Session {
                account,
                sub: p.sub.clone(),
                sid: p.sid.clone(),
                access_expires_at: tokens.access_expires_at(),
                access_token: Some(tokens.access_token.clone()),
                id_token: tokens.id_token.clone(),
                refresh_token: tokens.refresh_token,
            },
        );
    }
    app.logged_in();
    Ok(redirect(
        "/me",
        &[
            set_cookie(SESSION, &session, None),
            set_cookie(LOGIN, "", Some(0)),
        ],
    ))
}
