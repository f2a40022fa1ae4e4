//! Reading an rp.toml: parsed, checked (errors name the file, line and field), and what the run derives from it.

use super::*;

impl RpDescription {
    /// The lifetime (seconds) of the access tokens the run's tenant issues: twice the sync
    /// deadline, so that an RP that refreshes only once its access token has expired syncs
    /// too late, and at least [`ACCESS_FLOOR_S`]: a login on a loaded machine (a shared CI
    /// runner) may take seconds between the code exchange and the RP's userinfo call, and an
    /// access token gone by then fails a correct RP's login.
    pub fn access_lifetime_s(&self) -> u64 {
        ((self.sync_deadline_s * 2.0).ceil() as u64).max(ACCESS_FLOOR_S)
    }

    /// How long a scenario waits for the RP to act on a change before judging what it has:
    /// three sync deadlines, and at least one access-token lifetime and a deadline (an RP
    /// that refreshes lazily, at its token's expiry, gets that far). Only
    /// `sync.background-deadline` judges *when*; the others judge *what*, so that a slow RP
    /// fails the one scenario that names its problem.
    pub fn patience_s(&self) -> f64 {
        (self.sync_deadline_s * 3.0).max(self.access_lifetime_s() as f64 + self.sync_deadline_s)
    }

    /// Reads and checks an rp.toml.
    pub fn from_file(path: &Path) -> Result<RpDescription, RpError> {
        let text = std::fs::read_to_string(path).map_err(|e| RpError {
            file: path.display().to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        let mut rp = RpDescription::from_toml(&text, &path.display().to_string())?;
        let parent = path.parent().unwrap_or(Path::new("."));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        rp.dir = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
        Ok(rp)
    }

    /// Reads an rp.toml for `conformance preflight`: the RP's declarations only (scopes,
    /// client authentication, groups claim, group map, token limits); how to reach or start
    /// it is not needed, and an empty group map stays empty.
    pub fn for_preflight(path: &Path) -> Result<RpDescription, RpError> {
        let text = std::fs::read_to_string(path).map_err(|e| RpError {
            file: path.display().to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        RpDescription::parse(&text, &path.display().to_string())
    }

    /// What `conformance preflight` acts as without an rp.toml: the defaults (the
    /// mission's scopes, client_secret_post, groups at `id_token:/groups`), no group map.
    pub fn preflight_default() -> RpDescription {
        // An empty document is a valid description for preflight.
        RpDescription::parse("", "<defaults>").unwrap_or_else(|e| panic!("defaults: {e}"))
    }

    /// Parses and checks rp.toml text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<RpDescription, RpError> {
        let rp = RpDescription::parse(text, file)?;
        let err = |line: Option<usize>, message: String| RpError {
            file: file.to_owned(),
            line,
            message,
        };
        let line_of = |key: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map(|i| i + 1)
        };
        if let Some(b) = &rp.base_url {
            url::Url::parse(b)
                .map_err(|e| err(line_of("base_url"), format!("base_url {b:?}: {e}")))?;
        }
        let mut rp = rp;
        match &rp.launch {
            None if rp.base_url.is_none() => {
                return Err(err(
                    None,
                    "base_url: required unless [launch] starts the RP".into(),
                ));
            }
            None if rp.client_secret.is_none() => {
                return Err(err(
                    None,
                    "client_secret: required in attach mode (the RP was started with it)".into(),
                ));
            }
            None if rp.client_auth == ClientAuth::PrivateKeyJwt
                && rp.client_jwks.is_none()
                && rp.client_jwks_uri.is_none() =>
            {
                return Err(err(
                    line_of("client_auth"),
                    "client_jwks or client_jwks_uri: required with private_key_jwt in attach mode (the RP's public keys, for the IdP to check its assertions)".into(),
                ));
            }
            Some(l) if l.command.is_empty() => {
                return Err(err(
                    line_of("command"),
                    "launch.command: name a program".into(),
                ));
            }
            _ => {}
        }
        match &rp.launch {
            None if rp.group_map.is_empty() => {
                return Err(err(
                    None,
                    "group_map: required in attach mode (the IdP groups the RP was started with and their permissions); without it the permission scenarios cannot run".into(),
                ));
            }
            // A launched RP is given the map (`GROUP_MAP`): without one of its own, it gets
            // a map that every permission scenario can use.
            Some(_) if rp.group_map.is_empty() => rp.group_map = default_group_map(),
            _ => {}
        }
        if let Some(i) = &rp.idp.issuer {
            let u = url::Url::parse(i)
                .map_err(|e| err(line_of("issuer"), format!("idp.issuer {i:?}: {e}")))?;
            if tenant_of(&u).is_none() {
                return Err(err(
                    line_of("issuer"),
                    format!("idp.issuer {i:?}: expected <mock-idp origin>/t/<tenant name>"),
                ));
            }
        }
        Ok(rp)
    }

    /// The document parsed, and every value checked that does not depend on how the RP
    /// is reached.
    pub(super) fn parse(text: &str, file: &str) -> Result<RpDescription, RpError> {
        let err = |line: Option<usize>, message: String| RpError {
            file: file.to_owned(),
            line,
            message,
        };
        let rp: RpDescription = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            err(line, e.message().to_owned())
        })?;
        let line_of = |key: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map(|i| i + 1)
        };
        for (key, path) in [
            ("backchannel_logout", &rp.paths.backchannel_logout),
            ("frontchannel_logout", &rp.paths.frontchannel_logout),
            ("post_logout_redirect", &rp.paths.post_logout_redirect),
        ] {
            if let Some(p) = path
                && !p.starts_with('/')
            {
                return Err(err(
                    line_of(key),
                    format!("paths.{key} {p:?}: a path on the RP, starting with /"),
                ));
            }
        }
        match (&rp.client_jwks, &rp.client_jwks_uri) {
            (Some(_), Some(_)) => {
                return Err(err(
                    line_of("client_jwks_uri"),
                    "client_jwks_uri: give client_jwks or client_jwks_uri, not both".into(),
                ));
            }
            (Some(_), None) | (None, Some(_)) if rp.client_auth != ClientAuth::PrivateKeyJwt => {
                return Err(err(
                    line_of("client_jwks"),
                    "client_jwks / client_jwks_uri: the RP's public keys serve only client_auth = \"private_key_jwt\"".into(),
                ));
            }
            _ => {}
        }
        if let Some(u) = &rp.client_jwks_uri {
            url::Url::parse(u).map_err(|e| {
                err(
                    line_of("client_jwks_uri"),
                    format!("client_jwks_uri {u:?}: {e}"),
                )
            })?;
        }
        if rp.sync_modes.is_empty() {
            return Err(err(
                line_of("sync_modes"),
                "sync_modes: name at least one mode".into(),
            ));
        }
        if !(rp.sync_deadline_s.is_finite() && rp.sync_deadline_s > 0.0) {
            return Err(err(
                line_of("sync_deadline_s"),
                "sync_deadline_s: a positive number of seconds".into(),
            ));
        }
        if !(rp.idp_timeout_s.is_finite() && rp.idp_timeout_s > 0.0) {
            return Err(err(
                line_of("idp_timeout_s"),
                "idp_timeout_s: a positive number of seconds".into(),
            ));
        }
        if !(rp.jwks_cooldown_s.is_finite() && rp.jwks_cooldown_s >= 0.0) {
            return Err(err(
                line_of("jwks_cooldown_s"),
                "jwks_cooldown_s: zero or a positive number of seconds".into(),
            ));
        }
        Ok(rp)
    }

    /// Whether the RP offers this capability.
    pub fn can(&self, c: Capability) -> bool {
        self.capabilities.contains(&c)
    }
}
