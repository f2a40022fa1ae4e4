//! `login.discovery-issuer-mismatch`: the RP is started once more against a tenant whose
//! discovery document, fetched from the configured issuer URL, names another issuer, and
//! whose tokens and authorization responses name that other issuer too (as a multi-tenant
//! endpoint, a mistyped URL or an attacker's copy would). OIDC Discovery §4.3: the
//! document must not be used. Launch mode only: the runner starts the RP.

use crate::launch::LaunchError;
use crate::scenario::Ctx;
use crate::stage::{TenantShape, Up};
use crate::verdict::{Judged, Stop, Verdict};

pub async fn issuer_mismatch(cx: &Ctx) -> Judged {
    let configured = super::restarted::issuer(cx, "im");
    let advertised = format!("{configured}-elsewhere");
    let shape = TenantShape {
        advertised_issuer: Some(&advertised),
        ..Default::default()
    };
    let needs = "the RP already runs against the run's tenant; judging what it makes of a discovery document that names another issuer";
    let started = match super::restarted::start(cx, "im", shape, needs).await {
        Ok(started) => started,
        Err(skip) => return Ok(skip),
    };
    cx.step(format!(
        "started the RP with ISSUER={configured}, whose discovery document names issuer {advertised}, as do its tokens and authorization responses"
    ));
    let up = match started {
        Ok(up) => up,
        Err(LaunchError::Exited(log)) => {
            cx.step(format!("the RP did not start: {log}"));
            super::restarted::control(cx, "im").await?;
            return Ok(Verdict::pass(format!(
                "the RP refused to start against {configured}, whose discovery document names issuer {advertised} (OIDC Discovery §4.3); started the same way against a tenant whose document names its own issuer, it runs and logs users in"
            )));
        }
        Err(LaunchError::NotReady(m)) => {
            return Ok(Verdict::error(format!(
                "against that provider the RP was neither ready nor gone within its startup timeout, so whether it refuses the document cannot be told: {m}"
            )));
        }
        Err(LaunchError::Setup(m)) => return Err(Stop::Harness(m)),
    };
    let judged = judge(cx, &up, &configured, &advertised).await;
    if let Some(rp) = up.running {
        rp.stop().await;
    }
    let verdict = judged?;
    if verdict.outcome != crate::verdict::Outcome::Fail {
        // A refusal by the second instance: its own control, a third instance started the
        // same way against a matching document, must log a user in.
        super::restarted::control(cx, "im").await?;
    }
    Ok(verdict)
}

/// A login at the RP started against the mismatching tenant.
async fn judge(cx: &Ctx, up: &Up, configured: &str, advertised: &str) -> Judged {
    let u = cx.new_user("u", &[]);
    up.admin.put_user(&u).await?;
    let b = super::restarted::browser(cx, up);
    let login = b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    if me.logged_in() {
        return Ok(Verdict::fail(format!(
            "the RP logged the user in (/me shows {}) with tokens from issuer {advertised}: it used the discovery document fetched from {configured} although the document names another issuer, so it trusts whatever issuer such a document names (OIDC Discovery §4.3)",
            me.who()
        )));
    }
    if login.front_channel.is_empty() {
        return Ok(Verdict::pass(format!(
            "the RP never sent the user to the provider: it refused the discovery document fetched from {configured}, which names issuer {advertised} (OIDC Discovery §4.3; /me {})",
            me.status
        )));
    }
    Ok(Verdict::warn(format!(
        "the RP sent the user to the authorization endpoint named by a discovery document whose issuer ({advertised}) is not the configured one ({configured}), and refused only afterwards (callback {}, /me {}): OIDC Discovery §4.3 says such a document must not be used at all",
        super::support::status(login.callback_status),
        me.status
    )))
}
