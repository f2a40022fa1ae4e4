//! The catalogue: one file per category; what they share is in `support`.

mod claim_sources;
mod claims;
mod discovery;
mod frontchannel;
mod groups;
mod identity;
mod idtoken;
mod idtoken_keys;
mod idtoken_refresh;
mod login;
mod login_binding;
mod login_dpop;
mod login_jar;
mod login_par;
mod login_registration;
mod login_userinfo;
mod logout;
mod logout_delivery;
mod outage;
mod permissions;
mod permissions_grant;
mod restarted;
mod revocation;
mod rp_logout;
mod rp_session;
mod signing_alg;
mod support;
mod sync;

use crate::scenario::Scenario;

/// Every scenario, in catalogue order.
pub fn catalogue() -> Vec<Scenario> {
    let mut all = login::all();
    all.extend(idtoken::all());
    all.extend(identity::all());
    all.extend(permissions::all());
    all.extend(sync::all());
    all.extend(revocation::all());
    all.extend(logout::all());
    all.extend(frontchannel::all());
    all.extend(rp_logout::all());
    all.extend(rp_session::all());
    all
}

/// A group no group map knows (`permissions.initial` and the explorer give it to users).
pub fn unmapped_group() -> &'static str {
    groups::UNMAPPED
}
