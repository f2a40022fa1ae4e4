//! What the scenarios that start the RP once more share (launch mode): a tenant of its own,
//! shaped as the scenario needs, and the run's RP configuration on a port of its own.

use crate::launch::LaunchError;
use crate::runner::DOES_NOT_APPLY;
use crate::scenario::Ctx;
use crate::stage::{GroupsAt, TenantShape, Up};
use crate::verdict::Verdict;

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
    Ok(shared
        .stage
        .up(&rp, &tenant, shared.mode, &groups, shape)
        .await)
}

/// The issuer of the tenant [`start`] makes for `suffix`.
pub(super) fn issuer(cx: &Ctx, suffix: &str) -> String {
    cx.shared
        .stage
        .issuer(&format!("{}-{suffix}", cx.shared.tenant))
}
