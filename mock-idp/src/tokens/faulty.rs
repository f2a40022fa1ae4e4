//! Breaks an ID token the way an armed fault says, for RPs to prove they notice.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::keys::SigningKey;

/// The client a forged "wrong audience" token was issued to.
const OTHER_CLIENT: &str = "another-client";

/// Changes the claims as the faults say (before signing).
pub fn break_claims(c: &mut Map<String, Value>, faults: &[Fault], now: i64) {
    for f in faults {
        match f {
            Fault::IdTokenWrongIss => {
                let iss = c["iss"].as_str().unwrap_or_default();
                c.insert("iss".into(), json!(format!("{iss}/not-this-issuer")));
            }
            Fault::IdTokenWrongAud => {
                c.insert("aud".into(), json!(OTHER_CLIENT));
                c.insert("azp".into(), json!(OTHER_CLIENT));
            }
            Fault::IdTokenWrongAudNoAzp => {
                c.insert("aud".into(), json!(OTHER_CLIENT));
                c.remove("azp");
            }
            Fault::IdTokenExtraAud => {
                let aud = c["aud"].clone();
                c.insert("aud".into(), json!([aud, "untrusted-audience"]));
            }
            Fault::IdTokenExpired => {
                // Issued two hours ago, to a user who logged in then: every time claim agrees.
                c.insert("iat".into(), json!(now - 7200));
                c.insert("exp".into(), json!(now - 3600));
                if c.contains_key("auth_time") {
                    c.insert("auth_time".into(), json!(now - 7200));
                }
            }
            Fault::IdTokenAlgNone => {
                // An unsigned token has no hash algorithm for at_hash (OIDC Core §3.1.3.6).
                c.remove("at_hash");
            }
            Fault::IdTokenNoIat => {
                c.remove("iat");
            }
            Fault::IdTokenFutureIat => {
                c.insert("iat".into(), json!(now + 3600));
            }
            Fault::IdTokenNonceMismatch => {
                c.insert("nonce".into(), json!("not-the-nonce-of-the-request"));
            }
            Fault::IdTokenWrongAtHash if c.contains_key("at_hash") => {
                // As long as a real one: the hash of an access token not issued with it.
                let other = super::claims::at_hash("an-access-token-not-issued-with-this-id-token");
                c.insert("at_hash".into(), json!(other));
            }
            Fault::IdTokenSubChanged => another_person(c),
            Fault::RemoveClaim { claim } => {
                c.remove(claim);
            }
            _ => {}
        }
    }
}

/// Signs the claims, breaking the header or signature as the faults say; `client_secret`
/// keys the HS256 of [`Fault::IdTokenHs256ClientSecret`].
pub fn sign(
    key: &SigningKey,
    typ: &str,
    claims: &Value,
    faults: &[Fault],
    client_secret: Option<&str>,
) -> Result<String, String> {
    let mut header = serde_json::to_value(key.header(typ)).map_err(|e| e.to_string())?;
    if typ.is_empty() {
        // A header without `typ` (as some providers sign ID tokens).
        header.as_object_mut().map(|h| h.remove("typ"));
    }
    for f in faults {
        match f {
            Fault::IdTokenUnknownKid => header["kid"] = json!("unknown-kid-not-in-the-jwks"),
            Fault::IdTokenNoKid => {
                header.as_object_mut().map(|h| h.remove("kid"));
            }
            _ => {}
        }
    }
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    if faults.contains(&Fault::IdTokenAlgNone) {
        header["alg"] = json!("none");
        return Ok(format!("{}.{}.", b64(&header), b64(claims)));
    }
    // An HMAC instead of the key's signature: keyed with the public key (the attack keeps
    // the kid, so that the RP finds that key) or with the client's secret (no kid: a
    // secret is not in the JWKS).
    let hmac_secret = if faults.contains(&Fault::IdTokenHs256PublicKey) {
        Some(key.public_key_pem()?)
    } else if faults.contains(&Fault::IdTokenHs256ClientSecret) {
        header.as_object_mut().map(|h| h.remove("kid"));
        Some(
            client_secret
                .ok_or("the client has no secret to key an HS256 ID token with")?
                .to_owned(),
        )
    } else {
        None
    };
    let jwt = match hmac_secret {
        Some(secret) => {
            header["alg"] = json!("HS256");
            let message = format!("{}.{}", b64(&header), b64(claims));
            let tag = hmac::sign(
                &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
                message.as_bytes(),
            );
            format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        }
        None => key.sign_with_header(&header, claims)?,
    };
    if faults.contains(&Fault::IdTokenBadSignature) {
        let (message, sig) = jwt.rsplit_once('.').unwrap_or((&jwt, ""));
        let mut sig = URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?;
        if let Some(b) = sig.first_mut() {
            *b ^= 0x01;
        }
        return Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig)));
    }
    Ok(jwt)
}

/// Makes `claims` another person's: a subject of its own, and the username, email and name
/// that go with it (faults `id_token_sub_changed`, `userinfo_sub_changed`).
pub(crate) fn another_person(claims: &mut serde_json::Map<String, Value>) {
    for (claim, other) in [
        ("sub", "{}-changed"),
        ("preferred_username", "{}-changed"),
        ("email", "changed-{}"),
        ("name", "Other than {}"),
    ] {
        if let Some(v) = claims.get(claim).and_then(Value::as_str) {
            let changed = other.replace("{}", v);
            claims.insert(claim.into(), json!(changed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ID token's claims as the tenant mints them for client `rp`.
    fn control(now: i64) -> Map<String, Value> {
        let v = json!({
            "iss": "http://idp.test", "sub": "s1", "aud": "rp", "azp": "rp",
            "iat": now, "exp": now + 3600, "auth_time": now - 10, "nonce": "n1",
            "at_hash": "h1", "email": "a@example.test", "preferred_username": "a", "name": "A",
        });
        v.as_object().cloned().unwrap_or_default()
    }

    /// The claims that differ between the control and the forged token.
    fn diff(fault: Fault) -> Vec<String> {
        let now = 1_800_000_000;
        let base = control(now);
        let mut forged = base.clone();
        break_claims(&mut forged, std::slice::from_ref(&fault), now);
        let mut keys: Vec<String> = base.keys().chain(forged.keys()).cloned().collect();
        keys.sort();
        keys.dedup();
        keys.retain(|k| base.get(k) != forged.get(k));
        keys
    }

    #[test]
    fn each_forged_token_differs_from_its_control_only_in_the_property_under_test() {
        let cases: &[(Fault, &[&str])] = &[
            (Fault::IdTokenWrongIss, &["iss"]),
            // Issued to another client: it names that client wherever a token names its
            // client, so an RP that checks only azp (or only aud) is still caught.
            (Fault::IdTokenWrongAud, &["aud", "azp"]),
            (Fault::IdTokenWrongAudNoAzp, &["aud", "azp"]),
            (Fault::IdTokenExtraAud, &["aud"]),
            // Expired, with iat and auth_time consistent with it.
            (Fault::IdTokenExpired, &["auth_time", "exp", "iat"]),
            (Fault::IdTokenNoIat, &["iat"]),
            (Fault::IdTokenFutureIat, &["iat"]),
            (Fault::IdTokenNonceMismatch, &["nonce"]),
            (Fault::IdTokenWrongAtHash, &["at_hash"]),
            (Fault::IdTokenHs256ClientSecret, &[]),
            // Another person: their sub, and the profile claims that go with it.
            (
                Fault::IdTokenSubChanged,
                &["email", "name", "preferred_username", "sub"],
            ),
            // alg none has no hash algorithm for at_hash; the header and signature change in
            // `sign`.
            (Fault::IdTokenAlgNone, &["at_hash"]),
            (Fault::IdTokenBadSignature, &[]),
            (Fault::IdTokenHs256PublicKey, &[]),
            (Fault::IdTokenNoKid, &[]),
        ];
        for (fault, want) in cases {
            assert_eq!(diff(fault.clone()), *want, "{fault:?}");
        }
        let now = 1_800_000_000;
        let mut expired = control(now);
        break_claims(&mut expired, &[Fault::IdTokenExpired], now);
        assert!(expired["iat"].as_i64() < expired["exp"].as_i64());
        assert!(expired["auth_time"].as_i64() <= expired["iat"].as_i64());
        assert!(expired["exp"].as_i64() < Some(now));
        let mut other = control(now);
        break_claims(&mut other, &[Fault::IdTokenWrongAud], now);
        assert_eq!(
            other["aud"], other["azp"],
            "aud and azp name the same client"
        );
        let mut no_azp = control(now);
        break_claims(&mut no_azp, &[Fault::IdTokenWrongAudNoAzp], now);
        assert!(!no_azp.contains_key("azp"));
    }
}
