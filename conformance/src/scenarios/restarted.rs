//! What the scenarios that start the RP once more share (launch mode): a tenant of its own,
//! shaped as the scenario needs, and the run's RP configuration on a port of its own.

use std::sync::Arc;

use crate::browser::{Browser, Sites};
use crate::launch::LaunchError;
use crate::scenario::Ctx;
use crate::stage::{GroupsAt, TenantShape, Up};
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{Stop, Verdict};

/// Starts the run's RP once more against tenant `<run tenant>-<suffix>` shaped by `shape`
/// (its issuer is [`issuer`]'s). `Err`: the scenario does not run here, with its skip: a
/// provider-profile run (about the provider's shape), or attach mode (the runner does not
/// start the RP; `needs` says what the scenario would judge).
pub(super) async fn start(
    cx: &Ctx,
    suffix: &str,
    shape: TenantShape<'_>,
    needs: &str,
) -> Result<Result<Up, LaunchError>, Verdict> {
    start_in(cx, suffix, cx.shared.mode, shape, needs).await
}

/// [`start`] in sync mode `mode`.
pub(super) async fn start_in(
    cx: &Ctx,
    suffix: &str,
    mode: crate::rp::SyncMode,
    shape: TenantShape<'_>,
    needs: &str,
) -> Result<Result<Up, LaunchError>, Verdict> {
    let shared = &cx.shared;
    if let Some(p) = &shared.idp.profile {
        return Err(Verdict::skip(format!(
            "{DOES_NOT_APPLY} a run with profile {p} is about the provider's shape; a run without --idp-profile judges the RP here"
        )));
    }
    if !shared.stage.launches() {
        return Err(Verdict::skip(format!(
            "attach mode: {needs}, which needs the runner to start the RP (launch mode)"
        )));
    }
    let mut rp = shared.stage.rp.clone();
    rp.base_url = None; // a port of its own: the run's RP is running
    let groups = GroupsAt {
        claim: shared.rp.groups_claim.clone(),
        single_as_string: false,
    };
    let tenant = format!("{}-{suffix}", shared.tenant);
    Ok(shared.stage.up(&rp, &tenant, mode, &groups, shape).await)
}

/// The issuer of the tenant [`start`] makes for `suffix`.
pub(super) fn issuer(cx: &Ctx, suffix: &str) -> String {
    cx.shared
        .stage
        .issuer(&format!("{}-{suffix}", cx.shared.tenant))
}

/// A browser for the RP and tenant of `up`.
pub(super) fn browser(cx: &Ctx, up: &Up) -> Browser {
    cx.browser_at(Arc::new(Sites {
        rp: up.base_url.clone(),
        idp: up.issuer.clone(),
        ..(*cx.shared.sites).clone()
    }))
}

/// The control of a scenario that started the RP once more and saw it refuse (to start, or
/// to log anyone in): the same RP, started the same way against a tenant of the run's usual
/// shape, logs a new user in. Otherwise the refusal may be an RP that cannot run a second
/// instance (a file lock, a fixed port, a PID file) or logs no one in, and the scenario is
/// an `error` saying so.
pub(super) async fn control(cx: &Ctx, suffix: &str) -> Result<(), Stop> {
    cx.step(
        "control: the RP started once more the same way, against a tenant of the run's usual shape",
    );
    let failed = |why: String| {
        Stop::with(Verdict::error(format!(
            "the control failed: started once more the same way against a tenant of the run's usual shape, {why}; so the refusal cannot be told from an RP that cannot run a second instance or logs no one in there"
        )))
    };
    let up = match start(cx, &format!("{suffix}-control"), TenantShape::default(), "").await {
        Err(v) => return Err(Stop::with(v)),
        Ok(Err(LaunchError::Setup(m))) => return Err(Stop::Harness(m)),
        Ok(Err(e)) => return Err(failed(format!("the RP did not come up either ({e})"))),
        Ok(Ok(up)) => up,
    };
    let judged = control_login(cx, &up).await;
    if let Some(rp) = up.running {
        rp.stop().await;
    }
    match judged? {
        None => Ok(()),
        Some(why) => Err(failed(why)),
    }
}

/// A new user's login at the control instance: `None` when it logged in, else what happened.
async fn control_login(cx: &Ctx, up: &Up) -> Result<Option<String>, Stop> {
    let u = cx.new_user("instance-control", &[]);
    up.admin.put_user(&u).await?;
    let b = browser(cx, up);
    let login = b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    if me.logged_in() && me.is_user(&u) {
        cx.step("the control instance logged its user in");
        return Ok(None);
    }
    Ok(Some(format!(
        "no one logged in there either (callback {}, /me {})",
        super::support::status(login.callback_status),
        me.status
    )))
}
