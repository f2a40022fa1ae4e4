//! `GET /admin/journal[?since=SEQ][&user=NAME]`: the journal, optionally only entries after
//! a sequence number and about one user.

use warp::http::StatusCode;
use warp::reply::Response;

use super::json_status;
use crate::http::errors::OAuthError;
use crate::http::params::Params;
use crate::tenant::Tenant;

pub fn get(t: &Tenant, query: &str) -> Result<Response, OAuthError> {
    let q = Params::parse(query.as_bytes())?;
    let since = match q.get("since")? {
        None => 0,
        Some(s) => s
            .parse()
            .map_err(|_| OAuthError::invalid_request(format!("since={s:?}: a sequence number")))?,
    };
    let user = q.get("user")?;
    let entries: Vec<_> = t
        .journal(since)
        .into_iter()
        .filter(|e| user.is_none_or(|u| e.user.as_deref() == Some(u)))
        .collect();
    Ok(json_status(&entries, StatusCode::OK))
}
