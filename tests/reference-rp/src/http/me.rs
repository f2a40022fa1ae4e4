//! `GET /me`: the logged-in user as JSON, or 401.

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{SESSION, cookie, cookies, error, json, with_app};
use crate::App;
use crate::defects::Defect;

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("me")
        .and(warp::get())
        .and(with_app(app))
        .and(cookies())
        .map(|app: Arc<App>, c: Option<String>| {
            let store = app.store();
            match cookie(&c, SESSION).and_then(|s| store.me(&s).cloned()) {
                Some(a) => {
                    let mut me = json!({
                        "id": a.id,
                        "sub": a.sub,
                        "email": a.email,
                        "username": a.username,
                        "name": a.name,
                        "permissions": a.permissions,
                    });
                    if !app.settings.me_shows_sub
                        && let Some(m) = me.as_object_mut()
                    {
                        m.remove("sub");
                    }
                    json(StatusCode::OK, &me)
                }
                None if app.settings.defects.has(Defect::MeFailsLoggedOut) => error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "no user in the session",
                ),
                None => error(
                    StatusCode::UNAUTHORIZED,
                    "not_logged_in",
                    "no valid session",
                ),
            }
        })
        .boxed()
}
