//! `response_mode=form_post` (OAuth 2.0 Form Post Response Mode): the authorization
//! response, success or error, as a self-submitting HTML form to the redirect URI.

use crate::support::*;

/// The action and hidden fields of the page's form.
fn form(html: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        let i = tag.find(&key).unwrap() + key.len();
        tag[i..i + tag[i..].find('"').unwrap()].to_owned()
    };
    let start = html.find("<form").expect("a form");
    let head = &html[start..start + html[start..].find('>').unwrap()];
    assert!(head.contains("method=\"post\""), "{head}");
    let fields = html[start..]
        .split("<input")
        .skip(1)
        .map(|tag| (attr(tag, "name"), attr(tag, "value")))
        .collect();
    (attr(head, "action"), fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_code_is_posted_to_the_redirect_uri() {
    let idp = idp();
    let res = idp
        .authorize(
            &[("login_hint", "alice"), ("response_mode", "form_post")],
            None,
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (action, fields) = form(&body(&res));
    assert_eq!(action, REDIRECT);
    assert_eq!(field(&fields, "iss"), Some(ISSUER));
    let code = field(&fields, "code").expect("a code").to_owned();
    assert!(body(&res).contains("submit()"), "submits itself on load");
    let res = idp.exchange(&code, &[]).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[tokio::test]
async fn errors_are_posted_too_and_journaled() {
    let idp = idp();
    let res = idp
        .authorize(&[("prompt", "none"), ("response_mode", "form_post")], None)
        .await;
    assert_eq!(res.status(), 200);
    let (action, fields) = form(&body(&res));
    assert_eq!(action, REDIRECT);
    assert_eq!(field(&fields, "error"), Some("login_required"));
    assert!(field(&fields, "state").is_some());
    let last = idp.tenant.journal(0).pop().unwrap();
    assert_eq!(last.error.as_deref(), Some("login_required"));
}

#[tokio::test]
async fn other_response_modes_are_refused_in_the_query() {
    let idp = idp();
    let res = idp.authorize(&[("response_mode", "fragment")], None).await;
    assert_eq!(res.status(), 302);
    let loc = location(&res);
    assert_eq!(param(&loc, "error").as_deref(), Some("invalid_request"));
    assert!(
        param(&loc, "error_description")
            .unwrap()
            .contains("form_post")
    );
}
