//! Protocol errors: RFC 6749 §5.2 JSON, RFC 6750 bearer challenges, and the HTML error page
//! shown when the browser cannot be sent back to the client.

use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use super::html::{escape, page};

/// An OAuth 2.0 error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `error` code.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
    /// A `WWW-Authenticate` challenge, when the status is 401.
    pub challenge: Option<String>,
    /// A `DPoP-Nonce` for the client's next proof (RFC 9449 §8, §9).
    pub dpop_nonce: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    /// A 400 error with this code.
    pub fn bad_request(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            challenge: None,
            dpop_nonce: None,
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::bad_request("invalid_request", description)
    }

    /// 401 `invalid_client`; `basic` adds the Basic challenge RFC 6749 §5.2 requires when the
    /// client tried the Authorization header.
    pub fn invalid_client(description: impl Into<String>, basic: bool) -> OAuthError {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            challenge: basic.then(|| "Basic realm=\"mock-idp\"".to_owned()),
            dpop_nonce: None,
        }
    }

    /// RFC 6750 §3.1 `invalid_token` (401) with its bearer challenge.
    pub fn invalid_token(description: impl Into<String>) -> OAuthError {
        let description = description.into();
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_token",
            challenge: Some(format!(
                "Bearer realm=\"mock-idp\", error=\"invalid_token\", error_description=\"{}\"",
                quotable(&description)
            )),
            description,
            dpop_nonce: None,
        }
    }

    /// RFC 6750 §3.1 `insufficient_scope` (403).
    pub fn insufficient_scope(description: impl Into<String>) -> OAuthError {
        let description = description.into();
        OAuthError {
            status: StatusCode::FORBIDDEN,
            error: "insufficient_scope",
            challenge: Some(format!(
                "Bearer realm=\"mock-idp\", error=\"insufficient_scope\", error_description=\"{}\"",
                quotable(&description)
            )),
            description,
            dpop_nonce: None,
        }
    }

    /// A 500 for an internal failure (signing), with its cause.
    pub fn server_error(description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: description.into(),
            challenge: None,
            dpop_nonce: None,
        }
    }
}

/// A description as a challenge's quoted `error_description` may carry (RFC 6750 §3:
/// printable ASCII but `"` and `\\`): `§` spelt out, anything else outside it replaced.
fn quotable(description: &str) -> String {
    description
        .replace('§', "section ")
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

impl Reply for OAuthError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.error,
            error_description: &self.description,
        };
        let mut res =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge
            && let Ok(v) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, v);
        }
        if let Some(nonce) = self.dpop_nonce
            && let Ok(v) = HeaderValue::from_str(&nonce)
        {
            headers.insert("dpop-nonce", v);
        }
        res
    }
}

/// The OAuth error code of an HTML page, and why, carried to the journal (never sent).
#[derive(Debug, Clone)]
pub struct PageError(pub String, pub Option<String>);

/// An HTML error page, for errors that must not redirect (unknown client, unregistered
/// redirect_uri: RFC 6749 §4.1.2.1).
pub fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    let body = format!(
        "<h1>Error: {}</h1>\n<p id=\"error_description\">{}</p>\n\
         <p>The mock IdP did not redirect back to the client, because it cannot trust the request's redirect_uri.</p>",
        escape(error),
        escape(description)
    );
    let mut res = warp::reply::with_status(page("Error", &body), status).into_response();
    res.extensions_mut()
        .insert(PageError(error.to_owned(), Some(description.to_owned())));
    res
}
