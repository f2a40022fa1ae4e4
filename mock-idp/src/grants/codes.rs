//! Authorization codes: single-use, short-lived, bound to client, redirect_uri and PKCE.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use std::sync::Arc;

use super::{Grant, Grants, Record, Refused};
use crate::clock::UnixTime;

/// PKCE transformation (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    /// `code_challenge = BASE64URL(SHA256(code_verifier))`.
    S256,
    /// `code_challenge = code_verifier`.
    Plain,
}

impl PkceMethod {
    /// Parses `code_challenge_method` (absent means plain, RFC 7636 §4.3).
    pub fn parse(s: Option<&str>) -> Option<PkceMethod> {
        match s {
            None | Some("plain") => Some(PkceMethod::Plain),
            Some("S256") => Some(PkceMethod::S256),
            Some(_) => None,
        }
    }
}

/// A PKCE challenge bound to a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    /// The method.
    pub method: PkceMethod,
    /// The challenge.
    pub challenge: String,
}

impl Pkce {
    /// Whether `verifier` answers the challenge.
    pub fn verify(&self, verifier: &str) -> bool {
        let computed = match self.method {
            PkceMethod::S256 => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
            PkceMethod::Plain => verifier.to_owned(),
        };
        verify_slices_are_equal(computed.as_bytes(), self.challenge.as_bytes()).is_ok()
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn valid_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    /// What the login granted (shared with the grant's lineage and refresh tokens).
    pub grant: Arc<Grant>,
    /// The redirect_uri of the authorization request, to be repeated exactly.
    pub redirect_uri: String,
    /// PKCE challenge, when the request had one.
    pub pkce: Option<Pkce>,
    /// Expiry.
    pub expires_at: UnixTime,
    /// Redeemed already, starting this lineage.
    pub lineage: Option<String>,
}

/// What the token endpoint presents with a code.
#[derive(Debug)]
pub struct Redemption<'a> {
    /// The authenticated client.
    pub client_id: &'a str,
    /// `redirect_uri` parameter.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` parameter.
    pub code_verifier: Option<&'a str>,
    /// The id of the lineage the tokens issued for this code will start.
    pub lineage: &'a str,
}

impl Grants {
    /// Stores a new code.
    pub fn insert_code(&mut self, code: &str, record: CodeRecord, now: UnixTime) {
        let evicted = self.codes.insert(code, record);
        self.note_insert(Record::Code, evicted, now);
    }

    /// Redeems a code once. A second redemption is refused and revokes what the first
    /// one issued (RFC 6749 §4.1.2).
    pub fn redeem_code(
        &mut self,
        code: &str,
        r: &Redemption<'_>,
        now: UnixTime,
    ) -> Result<CodeRecord, Refused> {
        let Some(record) = self.codes.get_mut(code) else {
            return Err(Refused("unknown authorization code".into()));
        };
        if record.grant.client_id != r.client_id {
            return Err(Refused(
                "the authorization code was issued to another client".into(),
            ));
        }
        if let Some(lineage) = record.lineage.clone() {
            self.revoke_lineage(&lineage);
            return Err(Refused(
                "the authorization code was already used; tokens issued with it are revoked".into(),
            ));
        }
        if now >= record.expires_at {
            return Err(Refused("the authorization code has expired".into()));
        }
        match r.redirect_uri {
            None => {
                return Err(Refused(
                    "redirect_uri is required: the authorization request had one (RFC 6749 §4.1.3)"
                        .into(),
                ));
            }
            Some(uri) if uri != record.redirect_uri => {
                return Err(Refused(
                    "redirect_uri does not match the authorization request".into(),
                ));
            }
            Some(_) => {}
        }
        match (&record.pkce, r.code_verifier) {
            (Some(_), None) => {
                return Err(Refused(
                    "code_verifier is required: the authorization request had a code_challenge"
                        .into(),
                ));
            }
            (Some(pkce), Some(v)) if !valid_pkce_string(v) || !pkce.verify(v) => {
                return Err(Refused(
                    "code_verifier does not match the code_challenge".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(Refused(
                    "code_verifier sent, but the authorization request had no code_challenge"
                        .into(),
                ));
            }
            _ => {}
        }
        record.lineage = Some(r.lineage.to_owned());
        Ok(record.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        let pkce = Pkce {
            method: PkceMethod::S256,
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        };
        assert!(pkce.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!pkce.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"));
    }

    #[test]
    fn pkce_strings_are_checked() {
        assert!(valid_pkce_string(&"a".repeat(43)));
        assert!(!valid_pkce_string(&"a".repeat(42)));
        assert!(!valid_pkce_string(&"a".repeat(129)));
        assert!(!valid_pkce_string(&format!("{}+", "a".repeat(43))));
    }
}
