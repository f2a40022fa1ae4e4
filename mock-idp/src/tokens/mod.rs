//! Claims assembly and placement, token formats, signing.

mod access;
mod claims;
mod faulty;
mod mint;
pub mod placement;
pub mod sources;

pub(crate) use access::first_aud;
pub use claims::{GroupsFor, group_names, identity_claims, place_groups_of, subject, user_claims};
pub use faulty::sign as sign_faulty;
pub use mint::{Mint, NewRefresh, TokenResponse, at_hash};
