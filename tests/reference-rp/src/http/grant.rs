//! `POST /grant {"permission": "x"}`: grants a permission through the webapp.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{SESSION, cookie, cookies, error, json, with_app};
use crate::App;
use crate::defects::Defect;
use crate::settings::SyncMode;

#[derive(Deserialize)]
struct Grant {
    permission: String,
}

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("grant")
        .and(warp::post())
        .and(with_app(app))
        .and(cookies())
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::bytes())
        .map(|app: Arc<App>, c: Option<String>, body: bytes::Bytes| {
            let Ok(g) = serde_json::from_slice::<Grant>(&body) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "expected {\"permission\": \"...\"}",
                );
            };
            let mut store = app.store();
            let Some(account) =
                cookie(&c, SESSION).and_then(|s| store.session(&s).map(|s| s.account))
            else {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "not_logged_in",
                    "no valid session",
                );
            };
            if app.settings.defects.has(Defect::GrantAlwaysRefused) {
                return error(StatusCode::FORBIDDEN, "csrf", "missing CSRF token");
            }
            if app.settings.strict_refuses_grants && app.settings.sync_mode == SyncMode::Strict {
                return error(
                    StatusCode::FORBIDDEN,
                    "strict_sync",
                    "in strict mode permissions come from the identity provider's groups only",
                );
            }
            store.grant(account, &g.permission);
            json(StatusCode::OK, &json!({ "granted": g.permission }))
        })
        .boxed()
}
