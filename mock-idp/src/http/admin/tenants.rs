//! `/admin/tenants` (default tenant only): create, list, reset and delete isolated tenants.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::{json_body, json_status, status};
use crate::config::Config;
use crate::http::errors::OAuthError;
use crate::profiles::{self, Profile};
use crate::registry::{Keys, Registry};

/// `{"name": "t1"}`, optionally with a whole `config` (the config file's shape, as JSON)
/// and a `profile` (a built-in profile's name) or `profile_toml` (a profile file's text),
/// over the config or over the built-in demo tenant. The admin API reads no file named by
/// its caller.
/// `keys`: `"own"` (the default: keys no other tenant has) or `"shared"` (the process's
/// RSA key under kids of its own: creation never waits for a key to be made).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    profile_toml: Option<String>,
    #[serde(default)]
    keys: Option<String>,
}

/// The `keys` a request asks for.
fn requested_keys(keys: Option<&str>) -> Result<Keys, OAuthError> {
    match keys {
        None | Some("own") => Ok(Keys::Own),
        Some("shared") => Ok(Keys::Shared),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "keys {other:?}: \"own\" (the default) or \"shared\""
        ))),
    }
}

/// The profile a tenant request names (`profile`) or sends (`profile_toml`).
fn requested_profile(
    profile: Option<String>,
    profile_toml: Option<String>,
) -> Result<Option<Profile>, OAuthError> {
    let bad = |m: String| OAuthError::invalid_request(m);
    match (profile, profile_toml) {
        (Some(_), Some(_)) => Err(bad("give profile or profile_toml, not both".into())),
        (Some(name), None) if profiles::is_file(&name) => Err(bad(format!(
            "profile {name:?}: the admin API takes a built-in profile's name; send a profile file's text as profile_toml"
        ))),
        (Some(name), None) => profiles::get(&name).map(Some).map_err(bad),
        (None, Some(text)) => Profile::from_text(text, "profile_toml")
            .map(Some)
            .map_err(bad),
        (None, None) => Ok(None),
    }
}

fn conflict(e: String) -> OAuthError {
    if e.starts_with(crate::registry::TOO_MANY) {
        status(StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable", e)
    } else if e.starts_with("no tenant") {
        status(StatusCode::NOT_FOUND, "not_found", e)
    } else if e.starts_with("tenant name") {
        OAuthError::invalid_request(e)
    } else {
        status(StatusCode::CONFLICT, "invalid_request", e)
    }
}

pub fn list(reg: &Arc<Registry>) -> Result<Response, OAuthError> {
    let tenants: Vec<_> = reg
        .list()
        .iter()
        .map(|t| json!({ "issuer": t.issuer }))
        .collect();
    Ok(json_status(&tenants, StatusCode::OK))
}

pub fn create(reg: &Arc<Registry>, body: &[u8]) -> Result<Response, OAuthError> {
    let Create {
        name,
        config,
        profile,
        profile_toml,
        keys,
    } = json_body(body)?;
    let keys = requested_keys(keys.as_deref())?;
    let config = config_for(
        reg,
        &name,
        config,
        requested_profile(profile, profile_toml)?,
    )?;
    let t = reg.create_with(&name, config, keys).map_err(conflict)?;
    Ok(json_status(
        &json!({ "name": name, "issuer": t.issuer }),
        StatusCode::CREATED,
    ))
}

/// `PUT /admin/tenants/{name}` `{"config"?, "profile"?}`: creates the tenant, or rebuilds
/// it from this config keeping its issuer and signing keys (201 created, 200 rebuilt).
pub fn put(reg: &Arc<Registry>, name: &str, body: &[u8]) -> Result<Response, OAuthError> {
    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Put {
        #[serde(default)]
        config: Option<serde_json::Value>,
        #[serde(default)]
        profile: Option<String>,
        #[serde(default)]
        profile_toml: Option<String>,
        #[serde(default)]
        keys: Option<String>,
    }
    let put: Put = if body.is_empty() {
        Put::default()
    } else {
        json_body(body)?
    };
    let keys = requested_keys(put.keys.as_deref())?;
    let profile = requested_profile(put.profile, put.profile_toml)?;
    let config = config_for(reg, name, put.config, profile)?;
    let (t, created) = reg.put_with(name, config, keys).map_err(conflict)?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_status(
        &json!({ "name": name, "issuer": t.issuer, "created": created }),
        code,
    ))
}

/// The tenant's configuration from a request: the given config (its issuer set to the
/// tenant's), a profile over it or over the built-in demo, or none (the demo).
fn config_for(
    reg: &Arc<Registry>,
    name: &str,
    config: Option<serde_json::Value>,
    profile: Option<Profile>,
) -> Result<Option<Config>, OAuthError> {
    let bad = |e: crate::config::ConfigError| OAuthError::invalid_request(e.to_string());
    // A profile's endpoint paths follow the issuer, which is the tenant's.
    let issuer = reg.issuer_of(name).map_err(conflict)?;
    let config = match (config, profile) {
        (Some(mut c), p) => {
            if let Some(obj) = c.as_object_mut() {
                obj.insert("issuer".into(), json!(issuer));
                // The config's own `profile` key: a built-in name only, as above.
                if let Some(own) = obj.get("profile").and_then(|v| v.as_str())
                    && profiles::is_file(own)
                {
                    return Err(OAuthError::invalid_request(format!(
                        "config.profile {own:?}: the admin API takes a built-in profile's name; send a profile file's text as profile_toml"
                    )));
                }
            }
            Some(match p {
                Some(p) => Config::json_shaped(c, &p).map_err(bad)?,
                None => Config::from_json(c, None).map_err(bad)?,
            })
        }
        (None, Some(p)) => Some(Config::builtin_shaped(&p, Some(&issuer)).map_err(bad)?),
        (None, None) => None,
    };
    Ok(config.map(|c| endpoints_under(c, &issuer)))
}

/// A tenant answers only under its own path: endpoints a profile puts elsewhere on the
/// host (PingFederate's `/as/token.oauth2`) move under it.
fn endpoints_under(mut c: Config, issuer: &str) -> Config {
    let base = url::Url::parse(issuer)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let e = &mut c.endpoints;
    for p in [
        &mut e.authorization,
        &mut e.token,
        &mut e.userinfo,
        &mut e.introspection,
        &mut e.revocation,
        &mut e.end_session,
        &mut e.device_authorization,
        &mut e.jwks,
        &mut e.groups,
        &mut e.par,
    ]
    .into_iter()
    .flatten()
    {
        if !p.starts_with(&format!("{base}/")) {
            *p = format!("{base}{p}");
        }
    }
    c
}

pub fn reset(reg: &Arc<Registry>, name: &str) -> Result<Response, OAuthError> {
    let t = reg.reset(name).map_err(conflict)?;
    Ok(json_status(
        &json!({ "name": name, "issuer": t.issuer }),
        StatusCode::OK,
    ))
}

pub fn delete(reg: &Arc<Registry>, name: &str) -> Result<Response, OAuthError> {
    reg.delete(name).map_err(conflict)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
