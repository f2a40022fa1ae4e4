//! Provider profiles: a tenant shaped like a real provider (endpoint paths, issuer path,
//! token lifetimes, where groups go and in what form, refresh-token policy). A profile
//! is data, a fragment of the config file in `profiles/<name>.toml` citing its sources,
//! with two extra keys: `issuer_path` (appended to an issuer that has no path; endpoint
//! paths may say `{issuer_path}`) and `[client_defaults]` (applied to every client).
//!
//! Over a config file, the file's own keys win: a profile fills in what the file leaves
//! out. Over the built-in demo tenant, the profile wins: the demo only supplies who
//! (clients, users, keys).

use toml::{Table, Value};

/// A provider profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Its name (`--profile NAME`, `profile = "NAME"`).
    pub name: &'static str,
    /// One line: what it emulates.
    pub description: &'static str,
    data: &'static str,
}

/// Every profile.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "okta",
        description: "Okta custom authorization server: /oauth2/default/v1/*, groups in both tokens, rotation with a 30 s grace",
        data: include_str!("okta.toml"),
    },
    Profile {
        name: "entra",
        description: "Microsoft Entra ID v2.0: pairwise sub with oid/tid, no email, group ids, overage past 200 groups, /{tenant}/oauth2/v2.0/*",
        data: include_str!("entra.toml"),
    },
    Profile {
        name: "keycloak",
        description: "Keycloak realm: /realms/demo/protocol/openid-connect/*, roles only in the access token, 5-minute access tokens",
        data: include_str!("keycloak.toml"),
    },
    Profile {
        name: "google",
        description: "Google: no group claims at all, refresh tokens never rotated, /o/oauth2/v2/auth",
        data: include_str!("google.toml"),
    },
    Profile {
        name: "auth0",
        description: "Auth0: roles in a namespaced claim, rotation where a reused token revokes the family",
        data: include_str!("auth0.toml"),
    },
    Profile {
        name: "adfs",
        description: "AD FS: /adfs/oauth2/*, groups in the access token, one group as a string",
        data: include_str!("adfs.toml"),
    },
    Profile {
        name: "pingfederate",
        description: "PingFederate: /as/token.oauth2 and friends, outside the issuer's path",
        data: include_str!("pingfederate.toml"),
    },
    Profile {
        name: "opaque-tokens",
        description: "opaque access tokens of at most 400 characters, userinfo at /as/user, a check-token endpoint",
        data: include_str!("opaque-tokens.toml"),
    },
];

/// The profile of this name.
pub fn get(name: &str) -> Result<&'static Profile, String> {
    PROFILES.iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
        format!("unknown profile {name:?}; known: {}", names.join(", "))
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
    fn table(&self) -> Result<Table, String> {
        self.data
            .parse::<Table>()
            .map_err(|e| format!("profile {}: {e}", self.name))
    }

    /// The config document with this profile applied; `profile` records its name.
    pub fn apply(&self, config: &Table, precedence: Precedence) -> Result<Table, String> {
        let mut profile = self.table()?;
        let issuer_path = match profile.remove("issuer_path") {
            Some(Value::String(p)) => Some(p),
            None => None,
            Some(other) => return Err(format!("profile {}: issuer_path {other}", self.name)),
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
        let path = issuer_with_path(&mut out, issuer_path.as_deref());
        if let Some(Value::Table(endpoints)) = out.get_mut("endpoints") {
            for (_, v) in endpoints.iter_mut() {
                if let Value::String(s) = v {
                    *s = s.replace("{issuer_path}", &path);
                }
            }
        }
        out.insert("profile".into(), Value::String(self.name.into()));
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
}
