//! Bringing up an RP with its own tenant: the tenant configured for the RP, the RP
//! launched (launch mode) or already running (attach mode). The runner does it once per
//! sync mode; `permissions.claim-location` once per groups-claim variant.

use crate::idp::{Admin, IdpServer, TenantSpec};
use crate::launch::{Address, Env, LaunchError, Launcher, RunningRp, launch};
use crate::rp::{GroupsClaim, RpDescription, SyncMode};

/// Everything needed to bring up an RP and its tenant.
pub struct Stage {
    /// The RP description.
    pub rp: RpDescription,
    /// The IdP.
    pub server: IdpServer,
    /// The client secret the RP is given (or was started with).
    pub secret: String,
    /// Starts the RP instead of rp.toml's command.
    pub launcher: Option<Launcher>,
    /// The RP's public keys for `private_key_jwt` (and, when the runner made them, the
    /// private key it hands the RP).
    pub client_keys: crate::client_keys::ClientKeys,
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stage")
            .field("server", &self.server)
            .field("launches", &self.launches())
            .finish()
    }
}

/// An RP and its tenant, up.
pub struct Up {
    /// The tenant's admin API.
    pub admin: Admin,
    /// The tenant's issuer.
    pub issuer: String,
    /// Where the RP listens.
    pub base_url: String,
    /// The RP, when this stage started it.
    pub running: Option<Box<dyn RunningRp>>,
}

/// How a tenant differs from the run's usual one.
#[derive(Debug, Clone, Copy, Default)]
pub struct TenantShape<'a> {
    /// A provider profile (`--idp-profile`).
    pub profile: Option<&'a str>,
    /// The issuer its discovery document and tokens name instead of its URL.
    pub advertised_issuer: Option<&'a str>,
    /// The one algorithm it signs with (its only key), instead of RS256.
    pub signing_alg: Option<mock_idp::SigningAlg>,
    /// Clients may register with this initial access token (RFC 7591), and a launched RP
    /// is told it (`REGISTRATION_TOKEN`) instead of a client id and secret.
    pub registration: Option<&'a str>,
}

/// Where the groups go, and how.
#[derive(Debug, Clone)]
pub struct GroupsAt {
    /// Token and pointer.
    pub claim: GroupsClaim,
    /// A single group as a string (AD FS).
    pub single_as_string: bool,
}

impl Stage {
    /// Whether the runner starts the RP (and so can start more, differently configured).
    pub fn launches(&self) -> bool {
        self.rp.launch.is_some()
    }

    /// The issuer of tenant `name`.
    pub fn issuer(&self, name: &str) -> String {
        let root = url::Url::parse(&self.server.root)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.server.root.clone());
        format!("{root}/t/{name}")
    }

    /// Creates tenant `name` (replacing one of that name), shaped as `shape` says, and, in
    /// launch mode, starts `rp` (rp.toml's, or adapted to the profile) in `mode` against
    /// it, reading groups at `groups`.
    ///
    /// The RP's free port is chosen before the RP binds it (its tenant's redirect URI
    /// names it), so another process may take it in between: an RP that exits saying its
    /// address is in use is started again on another port, [`PORT_TRIES`] times at most.
    pub async fn up(
        &self,
        rp: &RpDescription,
        name: &str,
        mode: SyncMode,
        groups: &GroupsAt,
        shape: TenantShape<'_>,
    ) -> Result<Up, LaunchError> {
        let mut tries = 1;
        loop {
            match self.up_once(rp, name, mode, groups, shape).await {
                Err(LaunchError::Exited(why))
                    if tries < PORT_TRIES && rp.base_url.is_none() && port_taken(&why) =>
                {
                    tries += 1;
                }
                up => return up,
            }
        }
    }

    async fn up_once(
        &self,
        rp: &RpDescription,
        name: &str,
        mode: SyncMode,
        groups: &GroupsAt,
        shape: TenantShape<'_>,
    ) -> Result<Up, LaunchError> {
        let issuer = self.issuer(name);
        // The RP's address first, then its tenant (the redirect URI needs the address),
        // then the RP: one that fetches discovery and the JWKS at start-up finds them.
        let address = match &rp.launch {
            Some(_) => Address::choose(rp).map_err(LaunchError::Setup)?,
            None => Address {
                port: 0,
                base_url: rp
                    .base_url
                    .clone()
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned(),
            },
        };
        let redirect = format!("{}{}", address.base_url, rp.paths.callback);
        let at_rp = |p: &Option<String>| p.as_ref().map(|p| format!("{}{p}", address.base_url));
        let backchannel = at_rp(&rp.paths.backchannel_logout);
        let frontchannel = at_rp(&rp.paths.frontchannel_logout);
        let post_logout = at_rp(&rp.paths.post_logout_redirect);
        let request_objects = at_rp(&rp.paths.request_objects);
        // A launched RP gets a JWKS at a path of its own, found only through discovery
        // (OIDF oidcc-client-test-discovery-jwks-uri-keys: an RP that builds the URL from
        // the issuer verifies nothing). Attach mode keeps its paths across runs, and a
        // profile has its provider's.
        let jwks_path = (rp.launch.is_some() && shape.profile.is_none()).then(|| {
            let path = url::Url::parse(&issuer)
                .map(|u| u.path().trim_end_matches('/').to_owned())
                .unwrap_or_default();
            format!("{path}/keys-{}", crate::random::hex(4))
        });
        let spec = TenantSpec {
            rp,
            redirect_uri: &redirect,
            backchannel_logout_uri: backchannel.as_deref(),
            frontchannel_logout_uri: frontchannel.as_deref(),
            post_logout_redirect_uri: post_logout.as_deref(),
            request_objects_uri: request_objects.as_deref(),
            secret: &self.secret,
            groups: &groups.claim,
            single_as_string: groups.single_as_string,
            profile: shape.profile,
            advertised_issuer: shape.advertised_issuer,
            signing_alg: shape.signing_alg,
            jwks_path: jwks_path.as_deref(),
            client_keys: &self.client_keys,
            registration: shape.registration,
        };
        let admin = self
            .server
            .tenant(name, &spec)
            .await
            .map_err(|e| LaunchError::Setup(e.0))?;
        let running = match &rp.launch {
            Some(l) => {
                let env = Env {
                    address: &address,
                    issuer: &issuer,
                    client_secret: &self.secret,
                    mode,
                    groups_claim: &groups.claim,
                    client_keys: &self.client_keys,
                    ca_file: self.server.ca_file(),
                    registration: shape.registration,
                };
                Some(launch(rp, l, &env, self.launcher.as_ref()).await?)
            }
            None => None,
        };
        let base_url = address.base_url;
        Ok(Up {
            admin,
            issuer,
            base_url,
            running,
        })
    }
}

/// How often a launched RP is started on a fresh port when its first was taken.
pub const PORT_TRIES: u32 = 3;

/// Whether an RP's exit says its port was taken (Rust, Node.js, Python, Go, Java wording).
fn port_taken(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    ["address already in use", "eaddrinuse", "address in use"]
        .iter()
        .any(|s| why.contains(s))
}

#[cfg(test)]
mod tests {
    use super::port_taken;

    #[test]
    fn a_taken_port_is_recognised_in_each_runtime_s_words() {
        for log in [
            "cannot listen on 127.0.0.1:36367: Address already in use (os error 98)",
            "Error: listen EADDRINUSE: address already in use 127.0.0.1:8080",
            "OSError: [Errno 98] Address already in use",
            "java.net.BindException: Address in use",
        ] {
            assert!(port_taken(log), "{log}");
        }
        assert!(!port_taken("Error: ISSUER is not set"));
    }
}
