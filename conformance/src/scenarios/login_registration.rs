//! `login.registration`: an RP that declares dynamic client registration (RFC 7591) is
//! started once more with an initial access token (`REGISTRATION_TOKEN`) instead of a
//! client id and secret, against a tenant whose discovery names its
//! `registration_endpoint`. It must register itself — with the token, its callback as a
//! redirect URI and its declared client authentication — and log users in with the
//! credentials it got. Launch mode only: the runner starts the RP.

use crate::idp::{Admin, JournalEntry};
use crate::launch::LaunchError;
use crate::scenario::Ctx;
use crate::stage::{TenantShape, Up};
use crate::verdict::{DOES_NOT_APPLY, Judged, Stop, Verdict};

const SUFFIX: &str = "dcr";

pub(super) async fn registration(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    if !rp.registration {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP does not declare dynamic client registration (rp.toml registration = true)"
        )));
    }
    let token = format!("initial-{}", crate::random::hex(16));
    let shape = TenantShape {
        registration: Some(&token),
        ..Default::default()
    };
    let needs = "the RP already runs with its configured client; judging how it registers itself (RFC 7591)";
    let started = match super::restarted::start(cx, SUFFIX, shape, needs).await {
        Ok(started) => started,
        Err(skip) => return Ok(skip),
    };
    let issuer = super::restarted::issuer(cx, SUFFIX);
    cx.step(format!(
        "started the RP with ISSUER={issuer} (its discovery names a registration_endpoint), REGISTRATION_TOKEN set to the tenant's initial access token, and CLIENT_ID and CLIENT_SECRET empty"
    ));
    let up = match started {
        Ok(up) => up,
        Err(LaunchError::Setup(m)) => return Err(Stop::Harness(m)),
        Err(e) => {
            // No `Up` to hand the tenant's admin API over: reached by its issuer.
            let admin = cx.shared.stage.server.admin_of(&issuer);
            let registered = registrations(cx, &admin).await?;
            let verdict = Verdict::fail(format!(
                "the RP did not come up with REGISTRATION_TOKEN and no client id: {}; {e}",
                what_registration_did(&registered)
            ));
            super::restarted::control(cx, SUFFIX).await?;
            return Ok(verdict);
        }
    };
    let judged = judge(cx, &up).await;
    if let Some(rp) = up.running {
        rp.stop().await;
    }
    let verdict = judged?;
    if verdict.outcome == crate::verdict::Outcome::Fail {
        // The same RP with its configured client logs in: what failed is its registration.
        super::restarted::control(cx, SUFFIX).await?;
    }
    Ok(verdict)
}

/// A login at the RP started to register itself.
async fn judge(cx: &Ctx, up: &Up) -> Judged {
    let u = cx.new_user("u", &[]);
    up.admin.put_user(&u).await?;
    let b = super::restarted::browser(cx, up);
    let login = b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    // The tenant is this scenario's alone: its whole journal is this RP's doing.
    let journal = up.admin.journal_since(0).await?;
    let registered: Vec<JournalEntry> = journal
        .iter()
        .filter(|e| e.endpoint == "register")
        .cloned()
        .collect();
    for e in &registered {
        cx.cite(e);
    }
    let accepted: Vec<&JournalEntry> = registered.iter().filter(|e| e.status == 201).collect();
    if accepted.is_empty() {
        return Ok(Verdict::fail(format!(
            "{}; the login: callback {}, /me {}",
            what_registration_did(&registered),
            super::support::status(login.callback_status),
            me.status
        )));
    }
    let ids: Vec<&str> = accepted
        .iter()
        .filter_map(|e| e.client_id.as_deref())
        .collect();
    let used = login.front_channel.get("client_id").cloned();
    let exchanged = journal.iter().find(|e| {
        e.endpoint == "token"
            && e.grant_type.as_deref() == Some("authorization_code")
            && e.user.as_deref() == Some(u.username.as_str())
    });
    if let Some(e) = exchanged {
        cx.cite(e);
    }
    let declared = cx.shared.rp.client_auth.as_str();
    let registered_auth = accepted
        .last()
        .and_then(|e| e.auth_method.as_deref())
        .unwrap_or("client_secret_basic");
    match (&used, me.logged_in() && me.is_user(&u)) {
        (Some(id), true) if ids.contains(&id.as_str()) => {
            let Some(e) = exchanged.filter(|e| e.ok()) else {
                return Ok(Verdict::error(
                    "the user is logged in, yet the provider's journal shows no code exchange of theirs: what the RP did cannot be told",
                ));
            };
            let auth = e.auth_method.as_deref().unwrap_or("none");
            if registered_auth != declared {
                return Ok(Verdict::warn(format!(
                    "the RP registered as {id} and logged the user in with it, but registered token_endpoint_auth_method {registered_auth}, not its declared {declared} (RFC 7591 §2: a client that sends none gets client_secret_basic)"
                )));
            }
            let again = if accepted.len() > 1 {
                format!(
                    " ({} registrations for one instance: each leaves a client at the provider)",
                    accepted.len()
                )
            } else {
                String::new()
            };
            Ok(Verdict::pass(format!(
                "registered itself with the initial access token (201, client {id}, {registered_auth}, redirect URI {}), then logged the user in as that client, authenticating with the credentials it got ({auth}){again}",
                accepted
                    .last()
                    .and_then(|e| e.redirect_uri.as_deref())
                    .unwrap_or("none")
            )))
        }
        (Some(id), true) => Ok(Verdict::fail(format!(
            "the RP registered {} but logged the user in as client {id}, which it did not register",
            ids.join(", ")
        ))),
        _ => Ok(Verdict::fail(format!(
            "the RP registered as {} (201), yet no one logged in with that client: {} (callback {}, /me {})",
            ids.join(", "),
            why_not(&login, &journal, &registered),
            super::support::status(login.callback_status),
            me.status
        ))),
    }
}

/// The tenant's requests at its registration endpoint, cited.
async fn registrations(cx: &Ctx, admin: &Admin) -> Result<Vec<JournalEntry>, Stop> {
    let all = admin.journal_since(0).await?;
    let registered: Vec<JournalEntry> = all
        .into_iter()
        .filter(|e| e.endpoint == "register")
        .collect();
    for e in &registered {
        cx.cite(e);
    }
    Ok(registered)
}

/// What the RP's requests at the registration endpoint came to.
fn what_registration_did(registered: &[JournalEntry]) -> String {
    if let Some(e) = registered.iter().rev().find(|e| e.status == 201) {
        return format!(
            "it registered as {} (201){}",
            e.client_id.as_deref().unwrap_or("?"),
            if registered.len() > 1 {
                format!(", {} registration requests", registered.len())
            } else {
                String::new()
            }
        );
    }
    match registered.last() {
        None => "it never called the provider's registration_endpoint, so it did not register (RFC 7591 §3)".to_owned(),
        Some(e) => format!(
            "its registration was refused ({} {}: {}){}",
            e.status,
            e.error.as_deref().unwrap_or(""),
            e.error_description.as_deref().unwrap_or("no reason given"),
            if registered.len() > 1 {
                format!(", {} tries", registered.len())
            } else {
                String::new()
            }
        ),
    }
}

/// Why a login with a registered client failed, from what the provider saw.
fn why_not(
    login: &crate::browser::Login,
    journal: &[JournalEntry],
    registered: &[JournalEntry],
) -> String {
    if let Some(e) = journal
        .iter()
        .rev()
        .find(|e| matches!(e.endpoint.as_str(), "authorize" | "token") && !e.ok())
    {
        let redirect = registered
            .iter()
            .rev()
            .find_map(|r| r.redirect_uri.as_deref())
            .unwrap_or("none");
        return format!(
            "the provider refused its {} ({} {}: {}; the registered redirect URI: {redirect})",
            if e.endpoint == "authorize" {
                "authorization request"
            } else {
                "token request"
            },
            e.status,
            e.error.as_deref().unwrap_or(""),
            e.error_description.as_deref().unwrap_or("no reason given"),
        );
    }
    if login.front_channel.is_empty() {
        return "the RP never sent the browser to the provider".to_owned();
    }
    "the provider refused nothing, yet the RP opened no session".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u16, client: Option<&str>, error: Option<&str>) -> JournalEntry {
        serde_json::from_value(serde_json::json!({
            "seq": 1, "endpoint": "register", "method": "POST", "status": status,
            "client_id": client, "error": error,
            "error_description": error.map(|_| "the initial access token is not this provider's"),
        }))
        .unwrap()
    }

    #[test]
    fn what_the_registration_came_to_is_told_from_the_journal() {
        assert!(what_registration_did(&[]).starts_with("it never called"));
        let refused = entry(401, None, Some("invalid_token"));
        assert_eq!(
            what_registration_did(std::slice::from_ref(&refused)),
            "its registration was refused (401 invalid_token: the initial access token is not this provider's)"
        );
        // Accepted, even after a refusal: a later failure is not the registration's.
        let accepted = entry(201, Some("dcr-a"), None);
        assert_eq!(
            what_registration_did(&[refused, accepted]),
            "it registered as dcr-a (201), 2 registration requests"
        );
    }
}
