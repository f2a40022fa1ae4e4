//! `GET /admin/journal[?since=SEQ][&user=NAME][&request_uri=URI]`: the journal, optionally
//! only entries after a sequence number, about one user, or of one pushed authorization
//! request (its push and the authorization request that used it).

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
    let request_uri = q.get("request_uri")?;
    let entries: Vec<_> = t
        .journal(since)
        .into_iter()
        .filter(|e| user.is_none_or(|u| e.user.as_deref() == Some(u)))
        .filter(|e| request_uri.is_none_or(|r| e.request_uri.as_deref() == Some(r)))
        .collect();
    Ok(json_status(&entries, StatusCode::OK))
}
