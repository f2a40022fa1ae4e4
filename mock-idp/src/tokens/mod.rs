//! Claims assembly and placement, token formats, signing.

mod claims;
mod faulty;
mod mint;
pub mod placement;

pub use claims::{place_groups, user_claims};
pub use mint::{Mint, NewRefresh, TokenResponse, at_hash};
