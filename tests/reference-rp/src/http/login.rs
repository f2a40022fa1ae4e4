//! `GET /login`: starts the authorization code flow.

use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{CALLBACK, LOGIN, OBJECTS, error, random, redirect, set_cookie, with_app};
use crate::App;
use crate::defects::Defect;
use crate::store::Pending;

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let objects = warp::path!("request-objects" / String)
        .and(warp::get())
        .and(with_app(app.clone()))
        .map(
            |id: String, app: Arc<App>| match app.store().take_object(&id) {
                Some(jwt) => warp::http::Response::builder()
                    .header("content-type", "application/oauth-authz-req+jwt")
                    .body(jwt.into())
                    .unwrap_or_default(),
                None => error(StatusCode::NOT_FOUND, "not_found", "no such request object"),
            },
        );
    warp::path!("login")
        .and(warp::get())
        .and(with_app(app))
        .then(|app: Arc<App>| async move { login(&app).await })
        .or(objects)
        .unify()
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
    let mut params: Vec<(&str, String)> = vec![
        ("response_type", "code".into()),
        ("client_id", s.client_id.clone()),
        ("redirect_uri", format!("{}{CALLBACK}", app.base_url)),
        ("scope", scope.join(" ")),
        ("state", pending.state.clone()),
        ("nonce", pending.nonce.clone()),
    ];
    if let Some(v) = &pending.verifier {
        let hash = digest::digest(&digest::SHA256, v.as_bytes());
        params.push(("code_challenge", URL_SAFE_NO_PAD.encode(hash.as_ref())));
        params.push(("code_challenge_method", "S256".into()));
    }
    // Signed (RFC 9101): the parameters travel as one request object beside client_id.
    if s.jar && !d.has(Defect::JarPlainRequest) {
        match app.provider.request_object(&params) {
            // By reference (RFC 9101 §5.2): published here until the provider fetches it.
            Ok(jwt) if s.jar_by_reference && !s.par => {
                let id = random();
                let uri = format!("{}{OBJECTS}/{id}", app.base_url);
                app.store().publish_object(id, jwt);
                params = vec![("client_id", s.client_id.clone()), ("request_uri", uri)];
            }
            Ok(jwt) => params = vec![("client_id", s.client_id.clone()), ("request", jwt)],
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
        }
    }
    // Pushed (RFC 9126): the browser carries client_id and the request_uri alone.
    let pushed = if s.par && !d.has(Defect::ParFrontChannel) {
        // The client authentication adds client_id where it needs it.
        let pushed: Vec<_> = params
            .iter()
            .filter(|(k, _)| *k != "client_id")
            .cloned()
            .collect();
        match app.provider.push(pushed).await {
            Ok(uri) => Some(uri),
            Err(e) => return error(StatusCode::BAD_GATEWAY, "provider_unavailable", &e),
        }
    } else {
        None
    };
    {
        let mut q = url.query_pairs_mut();
        if let Some(uri) = &pushed {
            q.append_pair("client_id", &s.client_id)
                .append_pair("request_uri", uri);
        }
        if pushed.is_none() || d.has(Defect::ParRepeatsFrontChannel) {
            q.extend_pairs(
                params
                    .iter()
                    .filter(|(k, _)| pushed.is_none() || *k != "client_id")
                    .map(|(k, v)| (*k, v.as_str())),
            );
        }
        if d.has(Defect::SecretInAuthorize) {
            q.append_pair("client_secret", &s.client_secret);
        }
    }
    let id = random();
    app.store().park(id.clone(), pending);
    redirect(url.as_str(), &[set_cookie(LOGIN, &id, Some(600))])
}
