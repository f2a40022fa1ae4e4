//! Provider profiles: a tenant shaped like a real provider (endpoint paths, issuer path,
//! token lifetimes, where groups go and in what form, refresh-token policy). A profile
//! is data, a fragment of the config file in `profiles/<name>.toml` citing its sources,
//! with three extra keys: `issuer_path` (appended to an issuer that has no path; endpoint
//! paths may say `{issuer_path}`), `[client_defaults]` (applied to every client) and
//! `key_algs` (over the demo tenant, the JWKS keeps only its keys of these algorithms).
//!
//! Over a config file, the file's own keys win: a profile fills in what the file leaves
//! out. Over the built-in demo tenant, the profile wins: the demo only supplies who
//! (clients, users, keys).
//!
//! A profile can also be a file of the same format (`--profile ./acme.toml`, or
//! `profile = "./acme.toml"`: any name with a `/` or ending in `.toml`), such as the one
//! `conformance preflight --write-profile` captures from a real tenant. Such a file may say
//! its own `name` and `description`.

use std::borrow::Cow;

use toml::{Table, Value};

/// A provider profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its name (`--profile NAME`, `profile = "NAME"`; a file's `name`, else its stem).
    pub name: Cow<'static, str>,
    /// One line: what it emulates.
    pub description: Cow<'static, str>,
    data: Cow<'static, str>,
}

const fn builtin(name: &'static str, description: &'static str, data: &'static str) -> Profile {
    Profile {
        name: Cow::Borrowed(name),
        description: Cow::Borrowed(description),
        data: Cow::Borrowed(data),
    }
}

/// Every profile.
pub const PROFILES: &[Profile] = &[
    builtin(
        "okta",
        "Okta custom authorization server: /oauth2/default/v1/*, groups in both tokens, rotation with a 30 s grace",
        include_str!("okta.toml"),
    ),
    builtin(
        "entra",
        "Microsoft Entra ID v2.0: pairwise sub with oid/tid, no email, group ids, overage past 200 groups, /{tenant}/oauth2/v2.0/*",
        include_str!("entra.toml"),
    ),
    builtin(
        "keycloak",
        "Keycloak realm: /realms/demo/protocol/openid-connect/*, roles only in the access token, 5-minute access tokens",
        include_str!("keycloak.toml"),
    ),
    builtin(
        "google",
        "Google: no group claims at all, refresh tokens never rotated, /o/oauth2/v2/auth",
        include_str!("google.toml"),
    ),
    builtin(
        "auth0",
        "Auth0: roles in a namespaced claim, rotation where a reused token revokes the family",
        include_str!("auth0.toml"),
    ),
    builtin(
        "adfs",
        "AD FS: /adfs/oauth2/*, groups in the access token, one group as a string",
        include_str!("adfs.toml"),
    ),
    builtin(
        "pingfederate",
        "PingFederate: /as/token.oauth2 and friends, outside the issuer's path",
        include_str!("pingfederate.toml"),
    ),
    builtin(
        "fapi2",
        "FAPI 2.0 Security Profile: PAR and PKCE S256 required, private_key_jwt, DPoP-bound tokens, 60 s codes, PS256/ES256",
        include_str!("fapi2.toml"),
    ),
    builtin(
        "opaque-tokens",
        "opaque access tokens of at most 400 characters, userinfo at /as/user, a check-token endpoint",
        include_str!("opaque-tokens.toml"),
    ),
];

/// Whether a profile reference names a file rather than a built-in profile.
pub fn is_file(reference: &str) -> bool {
    reference.contains('/') || reference.ends_with(".toml")
}

/// The profile of this name, or the profile file at this path (see [`is_file`]).
pub fn get(reference: &str) -> Result<Profile, String> {
    if is_file(reference) {
        return Profile::from_file(std::path::Path::new(reference));
    }
    PROFILES
        .iter()
        .find(|p| p.name == reference)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = PROFILES.iter().map(|p| p.name.as_ref()).collect();
            format!(
                "unknown profile {reference:?}; known: {} (or a profile file: a path with / or ending in .toml)",
                names.join(", ")
            )
        })
}

/// Who wins where the profile and the config both say something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precedence {
    /// The config file's keys (a user's file).
    Config,
    /// The profile's (over the built-in demo tenant).
    Profile,
}

impl Profile {
    /// A profile file: the format of `profiles/<name>.toml`, with optional top-level
    /// `name` and `description`. Errors name the file and line.
    pub fn from_file(path: &std::path::Path) -> Result<Profile, String> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("profile file {file}: cannot read: {e}"))?;
        Profile::from_text(text, &file)
    }

    /// A profile document's text; `file` names it in errors, and its stem is the
    /// profile's name when it says none.
    pub fn from_text(text: String, file: &str) -> Result<Profile, String> {
        let table = text.parse::<Table>().map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(":{}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            format!("profile file {file}{line}: {}", e.message().trim())
        })?;
        let string = |key: &str| match table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "profile file {file}: {key} must be a string, not {}",
                other.type_str()
            )),
        };
        let stem = std::path::Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let name = string("name")?.or(stem).unwrap_or_else(|| file.to_owned());
        let description = string("description")?.unwrap_or_else(|| format!("profile file {file}"));
        if table.contains_key("profile") {
            return Err(format!(
                "profile file {file}: profile: a profile cannot name another profile"
            ));
        }
        Ok(Profile {
            name: Cow::Owned(name),
            description: Cow::Owned(description),
            data: Cow::Owned(text),
        })
    }

    fn table(&self) -> Result<Table, String> {
        let mut t = self
            .data
            .parse::<Table>()
            .map_err(|e| format!("profile {}: {e}", self.name))?;
        t.remove("name");
        t.remove("description");
        Ok(t)
    }

    /// The config document with this profile applied; `profile` records its name.
    pub fn apply(&self, config: &Table, precedence: Precedence) -> Result<Table, String> {
        let mut profile = self.table()?;
        let issuer_path = match profile.remove("issuer_path") {
            Some(Value::String(p)) => Some(p),
            None => None,
            Some(other) => return Err(format!("profile {}: issuer_path {other}", self.name)),
        };
        let key_algs = match profile.remove("key_algs") {
            None => None,
            Some(Value::Array(a)) if a.iter().all(Value::is_str) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            ),
            Some(other) => {
                return Err(format!(
                    "profile {}: key_algs must be a list of algorithms, not {other}",
                    self.name
                ));
            }
        };
        let client_defaults = match profile.remove("client_defaults") {
            Some(Value::Table(t)) => t,
            None => Table::new(),
            Some(other) => {
                return Err(format!("profile {}: client_defaults {other}", self.name));
            }
        };
        let layered = |config: &Table, profile: &Table| match precedence {
            Precedence::Config => layer(profile, config),
            Precedence::Profile => layer(config, profile),
        };
        let mut out = layered(config, &profile);
        if let Some(Value::Array(clients)) = out.get_mut("clients") {
            for c in clients.iter_mut() {
                if let Value::Table(client) = c {
                    *client = layered(client, &client_defaults);
                }
            }
        }
        // Over the demo tenant, the JWKS holds the provider's keys only (a user's own keys
        // stay theirs).
        if let (Some(algs), Precedence::Profile) = (&key_algs, precedence)
            && let Some(Value::Array(keys)) = out.get_mut("keys")
        {
            keys.retain(|k| {
                k.get("alg")
                    .and_then(Value::as_str)
                    .is_some_and(|a| algs.iter().any(|x| x == a))
            });
        }
        let path = issuer_with_path(&mut out, issuer_path.as_deref());
        if let Some(Value::Table(endpoints)) = out.get_mut("endpoints") {
            for (_, v) in endpoints.iter_mut() {
                if let Value::String(s) = v {
                    *s = s.replace("{issuer_path}", &path);
                }
            }
        }
        out.insert("profile".into(), Value::String(self.name.to_string()));
        Ok(out)
    }
}

/// Appends `issuer_path` to an issuer without a path; the issuer's path afterwards.
fn issuer_with_path(config: &mut Table, issuer_path: Option<&str>) -> String {
    let Some(Value::String(issuer)) = config.get_mut("issuer") else {
        return String::new();
    };
    let Ok(mut url) = url::Url::parse(issuer) else {
        return String::new();
    };
    if let Some(p) = issuer_path
        && matches!(url.path(), "" | "/")
    {
        url.set_path(p);
        *issuer = url.as_str().trim_end_matches('/').to_owned();
    }
    url.path().trim_end_matches('/').to_owned()
}

/// `top` over `under`, deeply.
fn layer(under: &Table, top: &Table) -> Table {
    let mut out = under.clone();
    merge(&mut out, top);
    out
}

/// Deep merge: tables merge key by key, anything else in `top` replaces `base`'s.
fn merge(base: &mut Table, top: &Table) {
    for (k, v) in top {
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(t)) => merge(b, t),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses_and_names_its_sources() {
        for p in PROFILES {
            let t = p.table().unwrap();
            assert!(!t.contains_key("profile"), "{}", p.name);
            assert!(
                p.data.contains("Source") || p.data.contains("guides"),
                "{} cites its sources",
                p.name
            );
        }
        assert!(get("nope").unwrap_err().contains("known: okta, entra"));
    }

    #[test]
    fn the_config_wins_over_the_profile_and_the_profile_over_the_demo() {
        let config: Table = r#"
            issuer = "http://127.0.0.1:9400"
            [lifetimes]
            access_token = 42
            [[clients]]
            id = "a"
            refresh_tokens = "never"
        "#
        .parse()
        .unwrap();
        let okta = get("okta").unwrap();
        let t = okta.apply(&config, Precedence::Config).unwrap();
        assert_eq!(t["lifetimes"]["access_token"].as_integer(), Some(42));
        assert_eq!(t["lifetimes"]["id_token"].as_integer(), Some(3600));
        assert_eq!(t["clients"][0]["refresh_tokens"].as_str(), Some("never"));
        assert_eq!(
            t["clients"][0]["refresh_policy"]["rotate"].as_bool(),
            Some(true)
        );
        assert_eq!(
            t["issuer"].as_str(),
            Some("http://127.0.0.1:9400/oauth2/default")
        );
        assert_eq!(
            t["endpoints"]["token"].as_str(),
            Some("/oauth2/default/v1/token")
        );
        let t = okta.apply(&config, Precedence::Profile).unwrap();
        assert_eq!(t["lifetimes"]["access_token"].as_integer(), Some(3600));
        assert_eq!(
            t["clients"][0]["refresh_tokens"].as_str(),
            Some("with_offline_access")
        );
        assert_eq!(t["profile"].as_str(), Some("okta"));
    }

    #[test]
    fn an_issuer_with_a_path_keeps_it() {
        let config: Table = "issuer = \"http://idp.test/realms/acme\"".parse().unwrap();
        let t = get("keycloak")
            .unwrap()
            .apply(&config, Precedence::Config)
            .unwrap();
        assert_eq!(t["issuer"].as_str(), Some("http://idp.test/realms/acme"));
        assert_eq!(
            t["endpoints"]["token"].as_str(),
            Some("/realms/acme/protocol/openid-connect/token")
        );
    }

    #[test]
    fn a_profile_file_shapes_a_tenant_like_a_built_in_one() {
        let dir = std::env::temp_dir().join(format!("profile-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("acme.toml");
        std::fs::write(
            &path,
            "name = \"acme-okta\"\nissuer_path = \"/oauth2/acme\"\n[endpoints]\ntoken = \"{issuer_path}/v1/token\"\n",
        )
        .unwrap();
        let reference = path.display().to_string();
        assert!(is_file(&reference) && !is_file("okta"));
        let p = get(&reference).unwrap();
        assert_eq!(p.name, "acme-okta");
        let config: Table = "issuer = \"http://127.0.0.1:9400\"".parse().unwrap();
        let t = p.apply(&config, Precedence::Config).unwrap();
        assert_eq!(
            t["endpoints"]["token"].as_str(),
            Some("/oauth2/acme/v1/token")
        );
        assert_eq!(t["profile"].as_str(), Some("acme-okta"));

        // A config file names a profile file beside it.
        let conf = dir.join("idp.toml");
        let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys/rsa-1.pem");
        std::fs::write(
            &conf,
            format!(
                "issuer = \"http://127.0.0.1:9400\"\nprofile = \"./acme.toml\"\n\
                 [[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"{pem}\"\n"
            ),
        )
        .unwrap();
        let c = crate::Config::from_file(&conf).unwrap();
        assert_eq!(c.endpoints.token.as_deref(), Some("/oauth2/acme/v1/token"));

        std::fs::write(&path, "[lifetimes]\naccess_token = \n").unwrap();
        let e = get(&reference).unwrap_err();
        assert!(e.contains(&format!("{reference}:2")), "{e}");
        std::fs::write(&path, "profile = \"okta\"\n").unwrap();
        assert!(
            get(&reference)
                .unwrap_err()
                .contains("cannot name another profile")
        );
        assert!(get("./nowhere.toml").unwrap_err().contains("cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
