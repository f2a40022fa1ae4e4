//! OpenID Connect Session Management 1.0 (§3, §4.1), as plain functions: the browser
//! state an IdP session shows to the check-session iframe (the OP browser state, `opbs`),
//! and the `session_state` an authorization response carries, which the iframe recomputes
//! from that state to tell an RP whether the session is still the one it logged in with.

use aws_lc_rs::digest::{SHA256, digest};

use crate::tenant::Tenant;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The OP browser state of IdP session `sid`: a hash of it (the session id itself stays
/// in its HttpOnly cookie), which the iframe reads from a cookie of its own.
pub fn browser_state(t: &Tenant, sid: &str) -> String {
    hex(digest(&SHA256, format!("{} {sid}", t.issuer).as_bytes()).as_ref())
}

/// `session_state` (§3): `hex(SHA-256(client_id + " " + origin + " " + opbs + " " +
/// salt)) + "." + salt`, for the RP at `origin`.
pub fn session_state(client_id: &str, origin: &str, opbs: &str, salt: &str) -> String {
    let h = digest(
        &SHA256,
        format!("{client_id} {origin} {opbs} {salt}").as_bytes(),
    );
    format!("{}.{salt}", hex(h.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_state_is_the_hash_of_its_inputs_and_its_salt() {
        let s = session_state("rp", "http://127.0.0.1:8081", "opbs", "salt");
        let (h, salt) = s.split_once('.').unwrap();
        assert_eq!(salt, "salt");
        assert_eq!(h.len(), 64);
        assert_ne!(
            s,
            session_state("rp", "http://127.0.0.1:8081", "other", "salt")
        );
        assert_ne!(
            s,
            session_state("rp", "http://127.0.0.1:9999", "opbs", "salt")
        );
    }
}
