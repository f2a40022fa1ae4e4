//! Redirect URI matching (exact, or any port for loopback, RFC 8252 §7.3) and building.

use url::Url;

fn is_loopback(u: &Url) -> bool {
    matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// Whether `requested` is one of the `registered` URIs. A registered loopback URI without a
/// port matches the same URI with any port.
pub fn allowed(registered: &[String], requested: &str) -> bool {
    let Ok(req) = Url::parse(requested) else {
        return false;
    };
    registered.iter().any(|r| {
        if r == requested {
            return true;
        }
        let Ok(reg) = Url::parse(r) else { return false };
        reg.scheme() == "http"
            && is_loopback(&reg)
            && reg.port().is_none()
            && req.scheme() == "http"
            && req.host_str() == reg.host_str()
            && req.path() == reg.path()
            && req.query() == reg.query()
            && req.fragment().is_none()
            && req.username().is_empty()
            && req.password().is_none()
    })
}

/// `base` with `params` appended to its query.
pub fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        // Only registered (validated) URIs reach here.
        Err(_) => base.to_owned(),
    }
}

/// A `302 Found` to `location`.
pub fn found(location: &str) -> warp::reply::Response {
    use warp::Reply;
    warp::reply::with_header(
        warp::reply::with_status(warp::reply(), warp::http::StatusCode::FOUND),
        warp::http::header::LOCATION,
        location,
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_any_port_but_same_path() {
        let reg = vec!["http://127.0.0.1/login/oauth2/callback".to_owned()];
        assert!(allowed(&reg, "http://127.0.0.1:8081/login/oauth2/callback"));
        assert!(allowed(&reg, "http://127.0.0.1/login/oauth2/callback"));
        assert!(!allowed(
            &reg,
            "http://127.0.0.1:8081/login/oauth2/callbackX"
        ));
        assert!(!allowed(
            &reg,
            "http://localhost:8081/login/oauth2/callback"
        ));
        assert!(!allowed(
            &reg,
            "https://127.0.0.1:8081/login/oauth2/callback"
        ));
        assert!(!allowed(
            &reg,
            "http://127.0.0.1:8081/login/oauth2/callback#x"
        ));
        assert!(!allowed(&reg, "http://evil.example/login/oauth2/callback"));
    }

    #[test]
    fn other_hosts_match_exactly() {
        let reg = vec!["https://app.example/cb".to_owned()];
        assert!(allowed(&reg, "https://app.example/cb"));
        assert!(!allowed(&reg, "https://app.example:444/cb"));
        assert!(!allowed(&reg, "https://app.example/cb?x=1"));
    }

    #[test]
    fn params_are_appended() {
        assert_eq!(
            with_params("http://a/cb?x=1", &[("code", "a b"), ("state", "s")]),
            "http://a/cb?x=1&code=a+b&state=s"
        );
    }
}
