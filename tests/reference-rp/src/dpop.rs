//! DPoP proofs (RFC 9449 §4) for the RP's token requests and its uses of bound access
//! tokens: one P-256 key per process, a fresh proof (new `jti`) per request.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

/// The RP's DPoP key and what it signed.
pub struct Dpop {
    key: EncodingKey,
    jwk: jsonwebtoken::jwk::Jwk,
    /// Defect `dpop-reuses-proof`: the first proof made for each method and URL, sent again.
    reuse: Option<Mutex<HashMap<(String, String), String>>>,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dpop")
    }
}

impl Dpop {
    /// A new key; `reuse` makes one proof per method and URL and sends it every time.
    pub fn new(reuse: bool) -> Result<Dpop, String> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| format!("cannot make a DPoP key: {e}"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|e| format!("cannot read the DPoP key: {e}"))?;
        let point = pair.public_key().as_ref();
        let jwk = serde_json::from_value(json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }))
        .map_err(|e| format!("the DPoP key's JWK: {e}"))?;
        Ok(Dpop {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
            reuse: reuse.then(Default::default),
        })
    }

    /// A proof for a `htm` request to `htu` (query left out), presenting `access_token`
    /// (its hash as `ath`) and the provider's `nonce` when given.
    pub fn proof(
        &self,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, String> {
        let mut target = url::Url::parse(htu).map_err(|e| format!("{htu}: {e}"))?;
        target.set_query(None);
        target.set_fragment(None);
        let slot = (htm.to_owned(), target.to_string());
        if let Some(cache) = &self.reuse
            && let Some(p) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&slot)
        {
            return Ok(p.clone());
        }
        let mut h = Header::new(Algorithm::ES256);
        h.typ = Some("dpop+jwt".into());
        h.jwk = Some(self.jwk.clone());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let mut claims = json!({
            "jti": crate::random_token(),
            "htm": htm,
            "htu": slot.1,
            "iat": now,
        });
        if let Some(t) = access_token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(digest(&SHA256, t.as_bytes())));
        }
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let proof = jsonwebtoken::encode(&h, &claims, &self.key)
            .map_err(|e| format!("cannot sign a DPoP proof: {e}"))?;
        if let Some(cache) = &self.reuse {
            cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(slot, proof.clone());
        }
        Ok(proof)
    }
}
