//! Presented access tokens: a JWT is checked by its signature and the records of its grant
//! (nothing is stored per JWT); an opaque token is looked up.

use serde::Deserialize;

use crate::grants::{AccessView, Refused, RevokeError, SignedAccess};
use crate::tenant::Tenant;

/// The claims of a JWT access token beyond [`SignedAccess`], checked here.
#[derive(Deserialize)]
struct Issued {
    iss: String,
    #[serde(flatten)]
    access: SignedAccess,
}

impl Tenant {
    /// A presented access token, if it is live: a JWT signed by this tenant (`typ`
    /// `at+jwt`, this issuer, not expired by the tenant's clock, not revoked), or a live
    /// opaque token.
    pub fn check_access(&self, token: &str) -> Result<AccessView, Refused> {
        let now = self.clock.now();
        match self.verify_access_jwt(token)? {
            Some(signed) => self.lock_grants().check_signed_access(&signed, now),
            None => self.lock_grants().check_opaque_access(token, now),
        }
    }

    /// Revokes a presented token of `client_id` (RFC 7009): a refresh token with its whole
    /// grant, an access token alone. Unknown tokens are no error (§2.2).
    pub fn revoke_token(&self, token: &str, client_id: &str) -> Result<(), RevokeError> {
        let now = self.clock.now();
        match self.verify_access_jwt(token) {
            Ok(Some(signed)) => self
                .lock_grants()
                .revoke_signed_access(&signed, client_id, now),
            Ok(None) => self.lock_grants().revoke(token, client_id),
            // Not a token of ours: nothing to revoke.
            Err(_) => Ok(()),
        }
    }

    /// `Ok(None)`: not a JWT (look it up as opaque). `Err`: a JWT this tenant did not
    /// issue as an access token.
    fn verify_access_jwt(&self, token: &str) -> Result<Option<SignedAccess>, Refused> {
        if token.split('.').count() != 3 {
            return Ok(None);
        }
        let unknown = |why: &str| Refused(format!("not an access token of this IdP: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|e| unknown(&e.to_string()))?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(unknown(
                "typ is not at+jwt (an ID token is not an access token)",
            ));
        }
        let kid = header.kid.as_deref().ok_or_else(|| unknown("no kid"))?;
        let key = self
            .keys()
            .verifier(kid, self.clock.now())
            .ok_or_else(|| unknown(&format!("kid {kid:?} is not a key this IdP holds")))?;
        let data = key
            .verify::<Issued>(token)
            .map_err(|e| unknown(&e.to_string()))?;
        if data.claims.iss != self.iss() {
            return Err(unknown("issued by another issuer"));
        }
        Ok(Some(data.claims.access))
    }
}

/// Refuses a JWT whose header says it is an access token (`typ: at+jwt`, RFC 9068 §4)
/// where an ID token is expected: both are signed by the same keys.
pub(crate) fn not_an_access_token(header: &jsonwebtoken::Header) -> Result<(), String> {
    match header.typ.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("at+jwt") => {
            Err("an access token (typ at+jwt), not an ID token".into())
        }
        _ => Ok(()),
    }
}
