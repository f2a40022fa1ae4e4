//! OpenID Connect Back-Channel Logout 1.0: when a session ends at the IdP (RP-initiated
//! logout) or a user is disabled, deleted or revoked through the admin API, each client
//! that registered a `backchannel_logout_uri` and holds a grant of that session or user
//! gets a `logout_token` POSTed to it (§2.5), and the journal records the delivery and the
//! RP's answer.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::faults::Fault;
use crate::journal::{Endpoint, Entry};
use crate::tenant::Tenant;

/// The `events` member of a logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long the IdP waits for an RP's answer to a logout token.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A logout to tell a client of: which client, at which of its URIs, about whom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Notice {
    pub(crate) client_id: String,
    /// The client's logout URI of the channel asked for.
    pub(crate) uri: String,
    pub(crate) username: String,
    pub(crate) sub: String,
    pub(crate) sid: Option<String>,
}

/// What ended, and so who is told.
#[derive(Debug, Clone, Copy)]
pub enum Ended<'a> {
    /// One IdP session (RP-initiated logout).
    Session(&'a str),
    /// Every session of a user (disabled, deleted, revoked).
    User(&'a str),
}

/// The clients to tell that `ended` through the channel whose URI `channel` reads
/// from a client's registration (clients without one are not told), with a subject
/// and session each: one notice per client and session of the live grants.
pub(crate) fn notices(
    t: &Tenant,
    ended: Ended<'_>,
    channel: impl Fn(&crate::config::ClientConfig) -> Option<&String>,
) -> Vec<Notice> {
    let grants = t.lock_grants();
    let mut out = BTreeSet::new();
    for l in grants.lineages.values() {
        let g = &l.grant;
        let hit = !l.revoked
            && match ended {
                Ended::Session(sid) => g.sid.as_deref() == Some(sid),
                Ended::User(u) => g.username.as_deref() == Some(u),
            };
        if !hit {
            continue;
        }
        let uri = t.client(&g.client_id).and_then(|c| channel(&c).cloned());
        if let (Some(uri), Some(username)) = (uri, &g.username) {
            out.insert(Notice {
                client_id: g.client_id.clone(),
                uri,
                username: username.clone(),
                sub: t.subject(g),
                sid: g.sid.clone(),
            });
        }
    }
    out.into_iter().collect()
}

/// Sends a logout token to every client concerned by `ended`, in the background (the
/// request that ended the session does not wait for RPs); each delivery is journaled
/// when the RP answers or the delivery fails. Must be called inside a Tokio runtime;
/// outside one nothing is sent (and that is journaled).
pub(crate) fn notify(t: &Tenant, ended: Ended<'_>) {
    for n in notices(t, ended, |c| c.backchannel_logout_uri.as_ref()) {
        let mut entry = Entry::new(Endpoint::BackchannelLogout, "POST", &[][..], &[][..]);
        entry.client_id = Some(n.client_id.clone());
        entry.user = Some(n.username.clone());
        entry.faults = t.fire_faults(
            crate::faults::Target {
                client_id: &n.client_id,
                user: Some(&n.username),
                grant_type: None,
            },
            crate::faults::FaultPoint::BackchannelLogout,
        );
        if entry.faults.contains(&Fault::LogoutTokenNotSent) {
            entry.error = Some("not sent: fault logout_token_not_sent".into());
            t.record(entry);
            continue;
        }
        let token = match logout_token(t, &n, &entry.faults) {
            Ok(t) => t,
            Err(e) => {
                entry.error = Some(format!("cannot sign the logout token: {e}"));
                t.record(entry);
                continue;
            }
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            entry.error = Some("not delivered: no async runtime to send it from".into());
            t.record(entry);
            continue;
        };
        let (journal, uri) = (t.journal_handle(), n.uri);
        rt.spawn(async move {
            match deliver(&uri, &token).await {
                Ok(status) => entry.status = status,
                Err(e) => entry.error = Some(format!("delivery failed: {e}")),
            }
            journal.record(entry);
        });
    }
}

/// A logout token (§2.4): `typ: logout+jwt`, `iss`, `aud`, `iat`, `exp`, `jti`, the
/// back-channel logout event, `sub` and `sid`; never a `nonce` — unless a fault armed
/// for the delivery breaks exactly one of these.
fn logout_token(t: &Tenant, n: &Notice, faults: &[Fault]) -> Result<String, String> {
    let client = t
        .client(&n.client_id)
        .ok_or_else(|| format!("no client {}", n.client_id))?;
    let now = t.clock.now();
    let mut claims = json!({
        "iss": t.iss(),
        "aud": n.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": t.random_token(16),
        "events": { EVENT: {} },
        "sub": n.sub,
    });
    if let Some(sid) = &n.sid {
        claims["sid"] = Value::String(sid.clone());
    }
    break_claims(&mut claims, faults);
    // The signature faults are the ID token's, applied to this token.
    let signing: Vec<Fault> = faults
        .iter()
        .filter_map(|f| match f {
            Fault::LogoutTokenAlgNone => Some(Fault::IdTokenAlgNone),
            Fault::LogoutTokenHs256PublicKey => Some(Fault::IdTokenHs256PublicKey),
            Fault::LogoutTokenBadSignature => Some(Fault::IdTokenBadSignature),
            _ => None,
        })
        .collect();
    crate::tokens::sign_faulty(
        &t.signing_key(&client),
        "logout+jwt",
        &claims,
        &signing,
        None,
    )
}

/// Changes a logout token's claims as the faults say (each changes one property only).
fn break_claims(claims: &mut Value, faults: &[Fault]) {
    for f in faults {
        match f {
            Fault::LogoutTokenWrongIss => {
                let iss = claims["iss"].as_str().unwrap_or_default();
                claims["iss"] = json!(format!("{iss}/not-this-issuer"));
            }
            Fault::LogoutTokenWrongAud => claims["aud"] = json!("another-client"),
            Fault::LogoutTokenNoEvents => {
                claims.as_object_mut().map(|c| c.remove("events"));
            }
            Fault::LogoutTokenWrongEvent => {
                claims["events"] = json!({ "http://schemas.openid.net/event/not-a-logout": {} });
            }
            Fault::LogoutTokenNonce => claims["nonce"] = json!("a-nonce"),
            _ => {}
        }
    }
}

/// POSTs `logout_token` to `uri` (§2.5); the RP's status, or why it could not be sent.
async fn deliver(uri: &str, token: &str) -> Result<u16, String> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", token)
        .finish();
    let req = warp::http::Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("{uri:?}: {e}"))?;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let res = tokio::time::timeout(DELIVERY_TIMEOUT, client.request(req))
        .await
        .map_err(|_| format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs()))?
        .map_err(|e| crate::client_keys::chain(&e))?;
    Ok(res.status().as_u16())
}
