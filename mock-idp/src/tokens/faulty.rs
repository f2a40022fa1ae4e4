//! Breaks an ID token the way an armed fault says, for RPs to prove they notice.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::keys::SigningKey;

/// Changes the claims as the faults say (before signing).
pub fn break_claims(c: &mut Map<String, Value>, faults: &[Fault], now: i64) {
    for f in faults {
        match f {
            Fault::IdTokenWrongIss => {
                let iss = c["iss"].as_str().unwrap_or_default();
                c.insert("iss".into(), json!(format!("{iss}/not-this-issuer")));
            }
            Fault::IdTokenWrongAud => {
                c.insert("aud".into(), json!("another-client"));
            }
            Fault::IdTokenExtraAud => {
                let aud = c["aud"].clone();
                c.insert("aud".into(), json!([aud, "untrusted-audience"]));
            }
            Fault::IdTokenExpired => {
                c.insert("iat".into(), json!(now - 7200));
                c.insert("exp".into(), json!(now - 3600));
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
            Fault::IdTokenSubChanged => {
                let sub = c["sub"].as_str().unwrap_or_default();
                c.insert("sub".into(), json!(format!("{sub}-changed")));
            }
            Fault::RemoveClaim { claim } => {
                c.remove(claim);
            }
            _ => {}
        }
    }
}

/// Signs the claims, breaking the header or signature as the faults say.
pub fn sign(
    key: &SigningKey,
    typ: &str,
    claims: &Value,
    faults: &[Fault],
) -> Result<String, String> {
    let mut header = serde_json::to_value(key.header(typ)).map_err(|e| e.to_string())?;
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
    if faults.contains(&Fault::IdTokenHs256PublicKey) {
        header["alg"] = json!("HS256");
        let message = format!("{}.{}", b64(&header), b64(claims));
        let secret = key.public_key_pem()?;
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
            message.as_bytes(),
        );
        return Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        ));
    }
    let jwt = key.sign_with_header(&header, claims)?;
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
