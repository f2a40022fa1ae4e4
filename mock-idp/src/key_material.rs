//! A private key parsed once: its PEM, the aws-lc-rs key pair that signs, and its public
//! JWK. Parsing an RSA key (aws-lc checks it) and deriving its JWK cost about half a
//! millisecond, twice per tenant (its RS256 and PS256 keys share one file): held here, the
//! signing keys made from one file share one parse, the built-in keys are parsed once per
//! process, and the key pool hands out keys parsed on its own thread.

use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RsaKeyPair};
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;

use crate::types::SigningAlg;

/// The parsed pair, shared by every signing key made from it.
#[derive(Clone)]
pub enum Pair {
    /// RS256 and PS256 sign with it.
    Rsa(Arc<RsaKeyPair>),
    /// ES256 signs with it.
    Ec(Arc<EcdsaKeyPair>),
}

/// One private key, parsed.
pub struct KeyMaterial {
    pem: String,
    pair: Pair,
    /// The public half as a JWK, without `kid`, `use` or `alg` (each signing key adds its own).
    public: Jwk,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("rsa", &matches!(self.pair, Pair::Rsa(_)))
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// Parses a PEM private key for `alg`: RSA (2048 bits or more) for RS256 and PS256, a
    /// P-256 PKCS#8 key for ES256.
    pub fn parse(alg: SigningAlg, pem: &str) -> Result<KeyMaterial, String> {
        let (encoding, pair) = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let key = EncodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|e| format!("not an RSA private key PEM: {e}"))?;
                let pair = RsaKeyPair::from_der(key.as_bytes())
                    .map_err(|e| format!("RSA key rejected: {e}"))?;
                if pair.public_modulus_len() < 256 {
                    return Err("RSA keys must be at least 2048 bits".into());
                }
                (key, Pair::Rsa(Arc::new(pair)))
            }
            SigningAlg::ES256 => {
                let key = EncodingKey::from_ec_pem(pem.as_bytes())
                    .map_err(|e| format!("not an EC private key PEM (PKCS#8): {e}"))?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.as_bytes())
                        .map_err(|e| format!("not a P-256 key: {e}"))?;
                (key, Pair::Ec(Arc::new(pair)))
            }
        };
        let public = Jwk::from_encoding_key(&encoding, alg.jwt())
            .map_err(|e| format!("cannot derive the public JWK: {e}"))?;
        Ok(KeyMaterial {
            pem: pem.to_owned(),
            pair,
            public,
        })
    }

    /// Whether `alg` signs with this key (RSA for RS256 and PS256, EC for ES256).
    pub fn fits(&self, alg: SigningAlg) -> bool {
        matches!(
            (&self.pair, alg),
            (Pair::Rsa(_), SigningAlg::RS256 | SigningAlg::PS256)
                | (Pair::Ec(_), SigningAlg::ES256)
        )
    }

    /// The PEM it was parsed from.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The pair that signs.
    pub fn pair(&self) -> Pair {
        self.pair.clone()
    }

    /// The public JWK, without `kid`, `use` or `alg`.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }
}

/// [`KeyMaterial::parse`], shared.
pub fn parse(alg: SigningAlg, pem: &str) -> Result<Arc<KeyMaterial>, String> {
    KeyMaterial::parse(alg, pem).map(Arc::new)
}
