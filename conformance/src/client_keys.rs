//! The RP's keys for `private_key_jwt`: declared in rp.toml (its public keys as a JWK
//! Set file, or the URL where it publishes them) or, in launch mode, a key pair the runner
//! makes for the run and hands the RP as a file (`CLIENT_KEY_FILE`, `CLIENT_KEY_ID`).

use std::path::PathBuf;

use jsonwebtoken::jwk::JwkSet;
use mock_idp::SigningAlg;
use mock_idp::keys::{SigningKey, generate_pem};
use serde_json::{Value, json};

use crate::rp::{ClientAuth, RpDescription};

/// Where the IdP finds the RP's public keys.
#[derive(Debug)]
pub enum ClientKeys {
    /// The RP does not use `private_key_jwt`.
    None,
    /// rp.toml's `client_jwks`, read.
    Declared(JwkSet),
    /// rp.toml's `client_jwks_uri`.
    Published(String),
    /// Made by the runner for this run (launch mode without declared keys).
    Made(MadeKey),
}

/// A key pair the runner made: the public half goes to the tenant, the private half to
/// the RP, in a file only the runner's user can read, removed with the run.
#[derive(Debug)]
pub struct MadeKey {
    /// The public key set.
    pub jwks: JwkSet,
    /// Its `kid`.
    pub kid: String,
    /// The private key, PKCS#8 PEM.
    pub file: PathBuf,
}

impl Drop for MadeKey {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

impl ClientKeys {
    /// The keys for a run of `rp`.
    pub fn for_run(rp: &RpDescription) -> Result<ClientKeys, String> {
        if rp.client_auth != ClientAuth::PrivateKeyJwt {
            return Ok(ClientKeys::None);
        }
        if let Some(uri) = &rp.client_jwks_uri {
            return Ok(ClientKeys::Published(uri.clone()));
        }
        if let Some(path) = &rp.client_jwks {
            let path = rp.dir.join(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("rp.toml: client_jwks {}: {e}", path.display()))?;
            let set: JwkSet = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "rp.toml: client_jwks {}: not a JWK Set: {e}",
                    path.display()
                )
            })?;
            return Ok(ClientKeys::Declared(set));
        }
        if rp.launch.is_none() {
            return Err("rp.toml: client_jwks or client_jwks_uri: required with private_key_jwt in attach mode".into());
        }
        let kid = format!("rp-{}", crate::random_hex(4));
        let pem = generate_pem(SigningAlg::RS256)?;
        let public = SigningKey::from_pem(&kid, SigningAlg::RS256, &pem)?
            .jwk()
            .clone();
        let file = std::env::temp_dir().join(format!("conformance-{kid}.pem"));
        write_private(&file, &pem)?;
        Ok(ClientKeys::Made(MadeKey {
            jwks: JwkSet { keys: vec![public] },
            kid,
            file,
        }))
    }

    /// The client registration's field for these keys: `jwks` or `jwks_uri`.
    pub fn registration(&self) -> Option<(&'static str, Value)> {
        match self {
            ClientKeys::None => None,
            ClientKeys::Declared(set) => Some(("jwks", json!(set))),
            ClientKeys::Made(k) => Some(("jwks", json!(k.jwks))),
            ClientKeys::Published(uri) => Some(("jwks_uri", json!(uri))),
        }
    }

    /// What a launched RP is told: the private key's file and kid, when the runner made it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            ClientKeys::Made(k) => vec![
                ("CLIENT_KEY_FILE", k.file.display().to_string()),
                ("CLIENT_KEY_ID", k.kid.clone()),
            ],
            _ => Vec::new(),
        }
    }
}

fn write_private(file: &std::path::Path, pem: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| format!("cannot write the RP's key to {}: {e}", file.display()))?;
    f.write_all(pem.as_bytes())
        .map_err(|e| format!("cannot write the RP's key to {}: {e}", file.display()))
}
