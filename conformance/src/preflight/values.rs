//! What every step of preflight reads alike: the claims the app requires, and what an
//! object id looks like.

/// The claims every ID token must carry for the app: who issued it, for whom, until when,
/// and who the user is (a stable `sub`, a username, an email).
pub const REQUIRED: [&str; 6] = ["iss", "aud", "sub", "exp", "preferred_username", "email"];

/// A GUID-shaped value: an object id (Entra groups and tenants) rather than a name.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}
