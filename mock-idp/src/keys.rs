//! Signing keys: loaded once from PEM, held parsed, published as a JWKS.
//!
//! jsonwebtoken's `encode` re-parses the private key on every call, which costs more
//! than the signature itself; we hold aws-lc-rs key pairs and let jsonwebtoken do
//! only what it is for here: the header type and the JWK of each key.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{DecodingKey, Header};
use serde::Serialize;

use std::sync::Arc;

use crate::clock::UnixTime;
use crate::config::{KeyConfig, KeyFiles};
use crate::key_material::{KeyMaterial, Pair};
use crate::types::SigningAlg;

/// One signing key.
pub struct SigningKey {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: SigningAlg,
    jwk: Jwk,
    pair: Pair,
    /// The public half, parsed once: the IdP verifies its own access tokens with it.
    decoding: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PEM private key for `alg`.
    pub fn from_pem(kid: &str, alg: SigningAlg, pem: &str) -> Result<SigningKey, String> {
        SigningKey::from_material(kid, alg, &KeyMaterial::parse(alg, pem)?)
    }

    /// A signing key under `kid` for `alg` made from a key parsed already (no parse: the
    /// pair is shared).
    pub fn from_material(
        kid: &str,
        alg: SigningAlg,
        material: &KeyMaterial,
    ) -> Result<SigningKey, String> {
        if !material.fits(alg) {
            return Err(format!(
                "{alg} cannot sign with this key (RS256 and PS256 take an RSA key, ES256 a P-256 key)"
            ));
        }
        let mut jwk = material.public_jwk().clone();
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(match alg {
            SigningAlg::RS256 => KeyAlgorithm::RS256,
            SigningAlg::PS256 => KeyAlgorithm::PS256,
            SigningAlg::ES256 => KeyAlgorithm::ES256,
        });
        let decoding = DecodingKey::from_jwk(&jwk)
            .map_err(|e| format!("cannot derive the public key: {e}"))?;
        Ok(SigningKey {
            kid: kid.to_owned(),
            alg,
            jwk,
            pair: material.pair(),
            decoding,
        })
    }

    /// The public key as a JWK (with `kid`, `use` and `alg`).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Raw signature over `message`.
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match (&self.pair, self.alg) {
            (Pair::Rsa(pair), alg) => {
                let padding = if alg == SigningAlg::PS256 {
                    &RSA_PSS_SHA256
                } else {
                    &RSA_PKCS1_SHA256
                };
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut sig)
                    .map_err(|e| format!("signing failed: {e}"))?;
                Ok(sig)
            }
            (Pair::Ec(pair), _) => pair
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| format!("signing failed: {e}")),
        }
    }

    /// A compact JWS of `claims` with this key's `alg` and `kid`, and the given `typ`.
    pub fn sign_jwt<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, String> {
        self.sign_with_header(&self.header(typ), claims)
    }

    /// The header this key signs with: its `alg` and `kid`, and `typ`.
    pub fn header(&self, typ: &str) -> Header {
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        header
    }

    /// A compact JWS of `claims` under `header`, signed with this key whatever the header
    /// says (fault injection relies on that).
    pub fn sign_with_header<T: Serialize>(
        &self,
        header: &impl Serialize,
        claims: &T,
    ) -> Result<String, String> {
        let mut message = b64_json(header)?;
        message.push('.');
        message.push_str(&b64_json(claims)?);
        let sig = self.sign_bytes(message.as_bytes())?;
        message.push('.');
        message.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(message)
    }

    /// The public key as PEM (X.509 SubjectPublicKeyInfo), as an RP would hold it.
    pub fn public_key_pem(&self) -> Result<String, String> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair as _;
        let der = match &self.pair {
            Pair::Rsa(p) => p.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Pair::Ec(p) => p.public_key().as_der().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
        Ok(pem::encode(&pem::Pem::new("PUBLIC KEY", der)))
    }

    /// Checks a compact JWS's signature with this key, under this key's algorithm only,
    /// and decodes its header and claims. Times, issuer and audience are the caller's to
    /// check: the IdP judges them by its own (injectable) clock.
    pub fn verify<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<jsonwebtoken::TokenData<T>, jsonwebtoken::errors::Error> {
        let mut v = jsonwebtoken::Validation::new(self.alg.jwt());
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, &self.decoding, &v)
    }
}

fn b64_json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_vec(value)
        .map(|v| URL_SAFE_NO_PAD.encode(v))
        .map_err(|e| format!("cannot serialise JWT part: {e}"))
}

/// The tenant's keys: active ones sign, retired ones are still published until their time.
#[derive(Debug, Clone)]
pub struct KeySet {
    active: Vec<Arc<SigningKey>>,
    retired: Vec<(Arc<SigningKey>, UnixTime)>,
    /// Keys no longer published, newest last, still held to verify the access tokens
    /// they signed (at most [`FORMER_KEYS`]).
    former: std::collections::VecDeque<Arc<SigningKey>>,
    /// Unique among every key set of the process, renewed by each change: what a cached
    /// JWKS was built from.
    generation: u64,
}

static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// How many unpublished keys a tenant keeps for verifying its own access tokens.
pub const FORMER_KEYS: usize = 16;

impl KeySet {
    /// Loads every configured key; keys that name one file share its parse.
    pub fn load(configs: &[KeyConfig], files: &KeyFiles) -> Result<KeySet, String> {
        let mut parsed: Vec<(&str, Arc<KeyMaterial>)> = Vec::new();
        let mut active = Vec::with_capacity(configs.len());
        for k in configs {
            let known = parsed
                .iter()
                .find(|(f, m)| *f == k.pem_file && m.fits(k.alg))
                .map(|(_, m)| m.clone());
            let material = match known {
                Some(m) => m,
                None => {
                    let m = files
                        .material(&k.pem_file, k.alg)
                        .map_err(|e| format!("key {:?} ({}): {e}", k.kid, k.pem_file))?;
                    parsed.push((&k.pem_file, m.clone()));
                    m
                }
            };
            let key = SigningKey::from_material(&k.kid, k.alg, &material)
                .map_err(|e| format!("key {:?} ({}): {e}", k.kid, k.pem_file))?;
            active.push(Arc::new(key));
        }
        Ok(KeySet {
            active,
            retired: Vec::new(),
            former: Default::default(),
            generation: next_generation(),
        })
    }

    /// The key that signs with `alg` (the newest active one).
    pub fn for_alg(&self, alg: SigningAlg) -> Option<Arc<SigningKey>> {
        self.active.iter().find(|k| k.alg == alg).cloned()
    }

    /// A published key with this `kid` (active, or retired and still within its grace).
    pub fn by_kid(&self, kid: &str, now: UnixTime) -> Option<Arc<SigningKey>> {
        self.published(now).find(|k| k.kid == kid).cloned()
    }

    /// A key this tenant signed with and still holds (published, or among the last
    /// [`FORMER_KEYS`] unpublished ones): what its own access tokens are verified with.
    pub fn verifier(&self, kid: &str, now: UnixTime) -> Option<Arc<SigningKey>> {
        self.by_kid(kid, now)
            .or_else(|| self.former.iter().rev().find(|k| k.kid == kid).cloned())
            .or_else(|| {
                let expired = self.retired.iter().filter(|(_, until)| now >= *until);
                expired.map(|(k, _)| k).find(|k| k.kid == kid).cloned()
            })
    }

    fn published(&self, now: UnixTime) -> impl Iterator<Item = &Arc<SigningKey>> {
        self.active.iter().chain(
            self.retired
                .iter()
                .filter(move |(_, until)| now < *until)
                .map(|(k, _)| k),
        )
    }

    /// Every algorithm an active key exists for, in configuration order, without repeats.
    pub fn algs(&self) -> Vec<SigningAlg> {
        let mut algs = Vec::new();
        for k in &self.active {
            if !algs.contains(&k.alg) {
                algs.push(k.alg);
            }
        }
        algs
    }

    /// Until when, from `now`, the published keys stay as they are: `(generation, from,
    /// until)` — the JWKS at any time in `[from, until)` is the one at `now`.
    pub fn stable_window(&self, now: UnixTime) -> (u64, UnixTime, UnixTime) {
        let untils = self.retired.iter().map(|(_, until)| *until);
        let from = untils
            .clone()
            .filter(|u| *u <= now)
            .max()
            .unwrap_or(UnixTime::MIN);
        let until = untils.filter(|u| *u > now).min().unwrap_or(UnixTime::MAX);
        (self.generation, from, until)
    }

    /// The public JWKS at `now`.
    pub fn jwks(&self, now: UnixTime) -> JwkSet {
        JwkSet {
            keys: self.published(now).map(|k| k.jwk.clone()).collect(),
        }
    }

    /// Unpublishes every retiring key at once (kept among the former keys): what a tenant
    /// rebuilt from this set publishes is its active keys alone.
    pub fn unpublish_retiring(&mut self) {
        if self.retired.is_empty() {
            return;
        }
        self.former.extend(self.retired.drain(..).map(|(k, _)| k));
        while self.former.len() > FORMER_KEYS {
            self.former.pop_front();
        }
        self.generation = next_generation();
    }

    /// Puts `key` in front for its algorithm; the previous keys of that algorithm stay
    /// published until `retire_at` (`retire_at <= now`: removed at once).
    pub fn rotate_in(&mut self, key: SigningKey, now: UnixTime, retire_at: UnixTime) {
        let alg = key.alg;
        let (old, keep): (Vec<_>, Vec<_>) = self.active.drain(..).partition(|k| k.alg == alg);
        self.active = std::iter::once(Arc::new(key)).chain(keep).collect();
        self.generation = next_generation();
        let (gone, still): (Vec<_>, Vec<_>) =
            self.retired.drain(..).partition(|(_, until)| now >= *until);
        self.retired = still;
        let mut unpublished: Vec<_> = gone.into_iter().map(|(k, _)| k).collect();
        if retire_at > now {
            self.retired.extend(old.into_iter().map(|k| (k, retire_at)));
        } else {
            unpublished.extend(old);
        }
        self.former.extend(unpublished);
        while self.former.len() > FORMER_KEYS {
            self.former.pop_front();
        }
    }
}

/// A new key pair for a party that signs assertions (a client, an assertion issuer):
/// the private key as PKCS#8 PEM, and the public JWK under `kid`.
pub fn generate_pair(kid: &str, alg: SigningAlg) -> Result<(String, Jwk), String> {
    let pem = generate_pem(alg)?;
    let public = SigningKey::from_pem(kid, alg, &pem)?.jwk().clone();
    Ok((pem, public))
}

/// Generates a new private key as PKCS#8 PEM (`mock-idp keys generate`).
pub fn generate_pem(alg: SigningAlg) -> Result<String, String> {
    use aws_lc_rs::encoding::AsDer;
    let der = match alg {
        SigningAlg::RS256 | SigningAlg::PS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|e| format!("RSA key generation failed: {e}"))?;
            pair.as_der()
                .map_err(|e| format!("cannot encode the RSA key: {e}"))?
                .as_ref()
                .to_vec()
        }
        SigningAlg::ES256 => {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| format!("EC key generation failed: {e}"))?
                .as_ref()
                .to_vec()
        }
    };
    Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", der)))
}
