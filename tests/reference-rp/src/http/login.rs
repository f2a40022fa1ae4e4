//! `GET /login`: starts the authorization code flow.

use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{CALLBACK, LOGIN, error, random, redirect, set_cookie, with_app};
use crate::App;
use crate::defects::Defect;
use crate::store::Pending;

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("login")
        .and(warp::get())
        .and(with_app(app))
        .then(|app: Arc<App>| async move { login(&app).await })
        .boxed()
}

async fn login(app: &App) -> Response {
    let meta = match app.provider.metadata().await {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_GATEWAY, "provider_unavailable", &e),
    };
    let s = &app.settings;
    let d = &s.defects;
    let pending = Pending {
        state: random(),
        nonce: random(),
        verifier: (!d.has(Defect::NoPkce)).then(random),
    };
    let scope: Vec<&str> = s
        .scopes
        .split_whitespace()
        .filter(|x| !(d.has(Defect::NoOfflineAccess) && *x == "offline_access"))
        .collect();
    let mut url = match url::Url::parse(&meta.authorization_endpoint) {
        Ok(u) => u,
        Err(e) => {
            return error(
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                &e.to_string(),
            );
        }
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &s.client_id)
            .append_pair("redirect_uri", &format!("{}{CALLBACK}", app.base_url))
            .append_pair("scope", &scope.join(" "))
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce);
        if let Some(v) = &pending.verifier {
            let hash = digest::digest(&digest::SHA256, v.as_bytes());
            q.append_pair("code_challenge", &URL_SAFE_NO_PAD.encode(hash.as_ref()))
                .append_pair("code_challenge_method", "S256");
        }
        if d.has(Defect::SecretInAuthorize) {
            q.append_pair("client_secret", &s.client_secret);
        }
    }
    let id = random();
    app.store().park(id.clone(), pending);
    redirect(url.as_str(), &[set_cookie(LOGIN, &id, Some(600))])
}
