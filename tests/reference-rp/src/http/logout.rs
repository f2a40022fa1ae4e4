//! `GET /logout`: ends the session.

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::{SESSION, cookie, cookies, json, set_cookie, with_app};
use crate::App;

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("logout")
        .and(warp::get())
        .and(with_app(app))
        .and(cookies())
        .map(|app: Arc<App>, c: Option<String>| {
            let ended = cookie(&c, SESSION).is_some_and(|s| app.store().close(&s));
            let mut res = json(StatusCode::OK, &json!({ "logged_out": ended }));
            if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION, "", Some(0))) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        })
        .boxed()
}
