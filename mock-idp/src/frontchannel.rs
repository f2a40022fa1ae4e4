//! OpenID Connect Front-Channel Logout 1.0: when a session ends at the IdP's end_session,
//! the signed-out page loads each client's `frontchannel_logout_uri` in an iframe, with
//! `iss` and `sid` (§2, §3), for every client holding a grant of that session. Unlike the
//! back-channel, it is the user's browser that calls the RP, so only a logout the user
//! makes at the IdP reaches it (an admin deleting the user does not).

use crate::backchannel::Ended;
use crate::tenant::Tenant;

/// The front-channel logout URLs for IdP session `sid`, one per client that
/// registered a `frontchannel_logout_uri` and holds a live grant of it (the clients
/// back-channel logout would tell), each with `iss` and `sid` added to its query (§2).
/// Call before the session's grants end.
pub(crate) fn logout_urls(t: &Tenant, sid: &str) -> Vec<String> {
    crate::backchannel::notices(t, Ended::Session(sid), |c| {
        c.frontchannel_logout_uri.as_ref()
    })
    .into_iter()
    .filter_map(|n| {
        let mut u = url::Url::parse(&n.uri).ok()?;
        u.query_pairs_mut()
            .append_pair("iss", t.iss())
            .append_pair("sid", sid);
        Some(u.into())
    })
    .collect()
}
