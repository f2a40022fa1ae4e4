//! Claims assembly and placement, token formats, signing.

mod access;
mod claims;
mod faulty;
mod mint;
pub mod placement;
pub mod sources;

pub(crate) use access::{access_owner, check_access, first_aud, own_id_token, revoke_token};
pub use claims::{GroupsFor, group_names, identity_claims, place_groups_of, subject, user_claims};
pub(crate) use faulty::another_person;
pub use faulty::sign as sign_faulty;
pub(crate) use mint::mint;
pub use mint::{Mint, NewRefresh, TokenResponse, at_hash};
