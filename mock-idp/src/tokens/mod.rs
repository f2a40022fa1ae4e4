//! Claims assembly and placement, token formats, signing.

mod access;
mod claims;
mod faulty;
mod mint;
pub mod placement;
pub mod sources;

pub(crate) use access::{access_owner, check_access, first_aud, own_id_token, revoke_token};
pub use claims::{
    GroupsFor, at_hash, group_names, identity_claims, place_groups_of, subject, user_claims,
};
pub(crate) use faulty::another_person;
pub use faulty::sign as sign_faulty;
pub(crate) use mint::mint;
pub use mint::{Mint, NewRefresh, TokenResponse};

/// What the tenant's tokens say of a user, per client.
impl crate::tenant::Tenant {
    /// Where this tenant writes groups for this client.
    pub(crate) fn groups_for<'a>(&'a self, client_id: &'a str) -> GroupsFor<'a> {
        GroupsFor {
            placements: &self.config.groups.placements,
            quirks: &self.config.quirks,
            groups_url: &self.groups_url,
            client_id,
        }
    }

    /// The `sub` this client sees for this grant (pairwise when the quirk says so).
    pub(crate) fn subject(&self, grant: &crate::grants::Grant) -> String {
        subject(&self.config.quirks, &grant.client_id, &grant.sub)
    }
}
