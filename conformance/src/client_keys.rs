//! The RP's keys for `private_key_jwt`: declared in rp.toml (its public keys as a JWK
//! Set file, or the URL where it publishes them) or, in launch mode, a key pair the runner
//! makes for the run and hands the RP as a file (`CLIENT_KEY_FILE`, `CLIENT_KEY_ID`).

use std::path::PathBuf;

use jsonwebtoken::jwk::JwkSet;
use mock_idp::SigningAlg;
use mock_idp::generate_pair;
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
        let kid = format!("rp-{}", crate::random::hex(4));
        let (pem, public) = generate_pair(&kid, SigningAlg::RS256)?;
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
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Readable by the runner's user only (on Windows the temporary folder is the user's).
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(file)
        .map_err(|e| format!("cannot write the RP's key to {}: {e}", file.display()))?;
    f.write_all(pem.as_bytes())
        .map_err(|e| format!("cannot write the RP's key to {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn rp(extra: &str, launch: bool) -> RpDescription {
        let mut text = format!("client_auth = \"private_key_jwt\"\n{extra}");
        if launch {
            text.push_str("\n[launch]\ncommand = [\"my-rp\"]\n");
        } else {
            text = format!(
                "base_url = \"http://127.0.0.1:8081\"\nclient_secret = \"s\"\ngroup_map = {{ a = [\"r\"] }}\n{text}"
            );
        }
        RpDescription::from_toml(&text, "rp.toml").expect("rp.toml")
    }

    #[test]
    fn a_launched_rp_gets_a_key_only_it_can_read_removed_with_the_run() {
        let keys = ClientKeys::for_run(&rp("", true)).expect("keys");
        let ClientKeys::Made(made) = &keys else {
            panic!("{keys:?}")
        };
        let file = made.file.clone();
        let mode = std::fs::metadata(&file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let pem = std::fs::read_to_string(&file).expect("pem");
        let public =
            mock_idp::SigningKey::from_pem(&made.kid, SigningAlg::RS256, &pem).expect("key");
        assert_eq!(made.jwks.keys, vec![public.jwk().clone()]);
        let env = keys.env();
        assert_eq!(env[1], ("CLIENT_KEY_ID", made.kid.clone()));
        drop(keys);
        assert!(!file.exists());
    }

    #[test]
    fn declared_keys_are_read_relative_to_the_rp_toml_and_named_when_bad() {
        let dir = std::env::temp_dir().join(format!("conformance-keys-{}", crate::random::hex(4)));
        std::fs::create_dir_all(&dir).unwrap();
        let made = ClientKeys::for_run(&rp("", true)).unwrap();
        let ClientKeys::Made(m) = &made else { panic!() };
        std::fs::write(
            dir.join("good.json"),
            serde_json::to_string(&m.jwks).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join("bad.json"), "{\"keys\": 3}").unwrap();
        let mut good = rp("client_jwks = \"good.json\"", false);
        good.dir = dir.clone();
        let ClientKeys::Declared(set) = ClientKeys::for_run(&good).unwrap() else {
            panic!()
        };
        assert_eq!(set, m.jwks);
        assert_eq!(ClientKeys::Declared(set).registration().unwrap().0, "jwks");
        let mut bad = rp("client_jwks = \"bad.json\"", false);
        bad.dir = dir.clone();
        let e = ClientKeys::for_run(&bad).unwrap_err();
        assert!(
            e.starts_with("rp.toml: client_jwks ") && e.contains("not a JWK Set"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
