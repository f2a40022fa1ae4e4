//! `login.jar`: an RP that declares signed request objects (RFC 9101) sends each
//! authorization request as a JWT signed with its key or secret, which the provider takes.

use super::support::login_ok;
use crate::scenario::Ctx;
use crate::verdict::{DOES_NOT_APPLY, Judged, Verdict};

pub(super) async fn jar(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    if !rp.jar {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP does not declare signed request objects (rp.toml jar = true)"
        )));
    }
    let u = cx.user("u", &[]).await?;
    let login = login_ok(cx, &u).await;
    if login.is_err() {
        // A login the provider refused for its request object fails for it.
        let refused = cx
            .shared
            .admin
            .journal_since(0)
            .await?
            .into_iter()
            .rev()
            .find(|e| {
                e.error.as_deref() == Some("invalid_request_object")
                    && e.client_id.as_deref() == Some(rp.client_id.as_str())
            });
        if let Some(e) = refused {
            cx.cite(&e);
            return Ok(Verdict::fail(format!(
                "the provider refused the RP's request object: {}",
                e.error_description.as_deref().unwrap_or("")
            )));
        }
    }
    let (_, login, _) = login?;
    let asked = cx.authorization_request(&login).await?;
    if let Some(fetched) = &asked.by_reference {
        cx.cite(fetched);
        return Ok(Verdict::pass(format!(
            "sent its authorization request by reference: the browser carried client_id and request_uri {}, from which the provider fetched a signed request object, checked it and took it (RFC 9101 §5.2)",
            login
                .front_channel
                .get("request_uri")
                .map(String::as_str)
                .unwrap_or("?")
        )));
    }
    let pushed_signed = asked.push.as_ref().is_some_and(|p| p.request_object);
    let Some(jwt) = login
        .front_channel
        .get("request")
        .filter(|_| !pushed_signed)
    else {
        if pushed_signed {
            return Ok(Verdict::pass(
                "pushed its authorization request as a signed request object, which the provider checked and took",
            ));
        }
        return Ok(Verdict::fail(format!(
            "the RP declares signed request objects, yet sent a plain authorization request ({}): nothing protects its parameters' integrity (RFC 9101 §1)",
            login
                .front_channel
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let alg = jsonwebtoken::decode_header(jwt)
        .map(|h| format!("{:?}", h.alg))
        .unwrap_or_else(|_| "?".into());
    Ok(Verdict::pass(format!(
        "sent its authorization request as a request object signed {alg}, which the provider checked (signature, iss, aud, exp) and took"
    )))
}
