//! A tenant: one issuer with its keys, clients, directory, grants and clock.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::clients::{ClientRef, RegisteredClients};
use crate::clock::Clock;
use crate::config::{ClientConfig, Config, KeyFiles};
use crate::directory::Directory;
use crate::faults::{Armed, Fault, FaultPoint, FaultScope, Faults, Target};
use crate::grants::Grants;
use crate::journal::{Entry, Journal};
use crate::keys::{KeySet, SigningKey};
use crate::types::SigningAlg;

/// The resolved endpoint paths of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `/.well-known/openid-configuration` under the issuer path.
    pub discovery: String,
    /// Authorization endpoint.
    pub authorization: String,
    /// The login form's target.
    pub login: String,
    /// Token endpoint.
    pub token: String,
    /// Userinfo endpoint.
    pub userinfo: String,
    /// Introspection endpoint.
    pub introspection: String,
    /// Revocation endpoint.
    pub revocation: String,
    /// RP-initiated logout.
    pub end_session: String,
    /// Device authorization (RFC 8628 §3.1).
    pub device_authorization: String,
    /// The page where a device's user enters its code (RFC 8628 §3.3).
    pub device: String,
    /// JWKS.
    pub jwks: String,
    /// The groups of an overage.
    pub groups: String,
    /// Pushed authorization requests (RFC 9126), when the tenant serves them.
    pub par: String,
    /// The distributed claims source (`<issuer path>/claims`).
    pub claims: String,
    /// The admin API's root (`<issuer path>/admin`).
    pub admin: String,
    /// The token inspector, users and journal page (`<issuer path>/debug`).
    pub debug: String,
    /// The live journal page.
    pub debug_journal: String,
    /// The check-session iframe (OIDC Session Management 1.0 §3.3).
    pub check_session: String,
    /// Dynamic client registration (RFC 7591); a registration is managed at this path
    /// followed by `/<client_id>` (RFC 7592).
    pub registration: String,
}

impl Tenant {
    /// The issuer its discovery document and tokens name: its own URL, unless
    /// `quirks.advertised_issuer` names another.
    pub(crate) fn iss(&self) -> &str {
        self.config
            .quirks
            .advertised_issuer
            .as_deref()
            .unwrap_or(&self.issuer)
    }
}

impl Paths {
    fn resolve(config: &Config, issuer_path: &str) -> Paths {
        let base = issuer_path.trim_end_matches('/');
        let or = |p: &Option<String>, default: &str| {
            p.clone().unwrap_or_else(|| format!("{base}/{default}"))
        };
        let e = &config.endpoints;
        Paths {
            discovery: format!("{base}/.well-known/openid-configuration"),
            login: format!("{base}/login"),
            authorization: or(&e.authorization, "authorize"),
            token: or(&e.token, "token"),
            userinfo: or(&e.userinfo, "userinfo"),
            introspection: or(&e.introspection, "introspect"),
            revocation: or(&e.revocation, "revoke"),
            end_session: or(&e.end_session, "end_session"),
            device_authorization: or(&e.device_authorization, "device_authorization"),
            device: format!("{base}/device"),
            jwks: or(&e.jwks, "jwks"),
            groups: or(&e.groups, "groups"),
            par: or(&e.par, "par"),
            claims: format!("{base}/claims"),
            admin: format!("{base}/admin"),
            debug: format!("{base}/debug"),
            debug_journal: format!("{base}/debug/journal"),
            check_session: format!("{base}/check_session"),
            registration: or(&e.registration, "register"),
        }
    }
}

/// A tenant's state. Shared by the HTTP handlers through an `Arc`.
#[derive(Debug)]
pub struct Tenant {
    /// The issuer URL (no trailing slash unless configured so).
    pub issuer: String,
    /// The configuration it was built from.
    pub config: Config,
    /// Where a groups overage points (`_claim_sources`).
    pub groups_url: String,
    keys: RwLock<KeySet>,
    /// The clock every lifetime follows.
    pub clock: Clock,
    /// Endpoint paths.
    pub paths: Paths,
    /// What it was built from, for a reset.
    pub(crate) origin: (Config, KeyFiles),
    /// Bearer token the admin API requires (none: the admin API trusts its loopback callers).
    pub admin_token: Option<String>,
    pub(crate) directory: RwLock<Directory>,
    grants: Mutex<Grants>,
    evictions: Arc<std::sync::atomic::AtomicBool>,
    journal: Arc<Mutex<Journal>>,
    faults: Mutex<Faults>,
    rng: Mutex<StdRng>,
    recent: Mutex<std::collections::VecDeque<RecentToken>>,
    pub(crate) published: crate::documents::Published,
    /// Clients' public keys fetched from their `jwks_uri`s.
    pub(crate) remote_keys: crate::client_keys::RemoteKeys,
    /// `jti`s of the assertions accepted and not yet expired (single use): clients' and
    /// assertion issuers'.
    pub(crate) spent_jtis: Mutex<crate::assertion::SpentJtis>,
    /// What the tenant's DPoP nonces are made from (RFC 9449 §8).
    pub(crate) dpop_seed: [u8; 16],
    /// Clients registered at runtime (RFC 7591).
    registered: RwLock<RegisteredClients>,
}

/// How many of the newest JWTs a tenant keeps for the token inspector to pick from.
pub const RECENT_TOKENS: usize = 10;

/// A JWT the tenant issued lately (the debug page offers it to the inspector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentToken {
    /// When, by the tenant's clock.
    pub issued_at: i64,
    /// `id_token` or `access_token`.
    pub kind: &'static str,
    /// The client it went to.
    pub client_id: String,
    /// The user's username, when a user.
    pub user: Option<String>,
    /// The token.
    pub token: String,
}

impl Tenant {
    /// Keeps a JWT it issued for the token inspector (the newest [`RECENT_TOKENS`]).
    pub(crate) fn remember(&self, token: RecentToken) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT_TOKENS {
            recent.pop_front();
        }
        recent.push_back(token);
    }

    /// The JWTs issued lately, newest first.
    pub fn recent_tokens(&self) -> Vec<RecentToken> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().rev().cloned().collect()
    }

    /// Builds a tenant; `issuer` is the final issuer URL.
    pub fn new(
        config: Config,
        issuer: String,
        key_files: &KeyFiles,
        clock: Clock,
        seed: Option<u64>,
    ) -> Result<Tenant, String> {
        config.check().map_err(|e| e.to_string())?;
        let keys = KeySet::load(&config.keys, key_files)?;
        let path = url::Url::parse(&issuer)
            .map_err(|e| format!("issuer {issuer:?} is not a URL: {e}"))?
            .path()
            .to_owned();
        let mut rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        let mut dpop_seed = [0u8; 16];
        rng.fill_bytes(&mut dpop_seed);
        let paths = Paths::resolve(&config, &path);
        let grants = Grants::new(&config.limits);
        Ok(Tenant {
            groups_url: format!("{}{}", crate::types::origin(&issuer), paths.groups),
            paths,
            admin_token: None,
            origin: (config.clone(), key_files.clone()),
            directory: RwLock::new(Directory::new(config.users.iter().cloned())),
            evictions: grants.eviction_flag(),
            grants: Mutex::new(grants),
            journal: Arc::new(Mutex::new(Journal::new(config.journal_capacity))),
            faults: Mutex::new(Faults::default()),
            rng: Mutex::new(rng),
            recent: Mutex::new(std::collections::VecDeque::new()),
            published: Default::default(),
            remote_keys: Default::default(),
            spent_jtis: Mutex::new(crate::assertion::SpentJtis::new(config.limits.live_records)),
            dpop_seed,
            registered: RwLock::default(),
            issuer,
            config,
            keys: RwLock::new(keys),
            clock,
        })
    }

    /// A client: configured, or registered at runtime.
    pub(crate) fn client(&self, id: &str) -> Option<ClientRef<'_>> {
        if let Some(c) = self.config.clients.iter().find(|c| c.id == id) {
            return Some(ClientRef::Configured(c));
        }
        let registered = self.registered();
        registered
            .get(id)
            .map(|r| ClientRef::Registered(r.client.clone()))
    }

    /// When the secret of client `id` expired, if it was registered with one that did.
    pub(crate) fn secret_expired(&self, id: &str) -> Option<i64> {
        let registered = self.registered();
        let at = registered.get(id)?.secret_expires_at;
        (at != 0 && self.clock.now() >= at).then_some(at)
    }

    /// The clients registered at runtime, for reading.
    pub(crate) fn registered(&self) -> RwLockReadGuard<'_, RegisteredClients> {
        self.registered.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The clients registered at runtime, for a change.
    pub(crate) fn registered_mut(&self) -> std::sync::RwLockWriteGuard<'_, RegisteredClients> {
        self.registered.write().unwrap_or_else(|p| p.into_inner())
    }

    /// How many clients were registered at runtime and are held.
    pub fn registered_clients(&self) -> usize {
        self.registered().len()
    }

    /// The key that signs this client's tokens.
    pub(crate) fn signing_key(&self, client: &ClientConfig) -> Arc<SigningKey> {
        let alg = client.signing_alg.unwrap_or(self.config.signing_alg);
        let keys = self.keys();
        // `new` validated that a key exists for every configured algorithm, and rotation
        // replaces a key, never removes the last one.
        keys.for_alg(alg)
            .unwrap_or_else(|| unreachable!("config validation requires a key for {alg}"))
    }

    /// The signing keys.
    pub(crate) fn keys(&self) -> RwLockReadGuard<'_, KeySet> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The key that signs with `alg` now (a test forging a token with the IdP's own key).
    pub fn key_for(&self, alg: SigningAlg) -> Option<Arc<SigningKey>> {
        self.keys().for_alg(alg)
    }

    /// The key published, now or until its retirement, under `kid` (a test verifying a
    /// token the tenant signed).
    pub fn key_by_kid(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.keys().by_kid(kid, self.clock.now())
    }

    /// Rotates the key of `alg`: the new one signs from now on; the old one stays in the
    /// JWKS for `grace` seconds (0: removed at once). The new `kid`.
    pub fn rotate_key(&self, alg: SigningAlg, grace: u64) -> Result<String, String> {
        if self.keys().for_alg(alg).is_none() {
            return Err(format!("the tenant has no {alg} key to rotate"));
        }
        let kid = format!(
            "mock-{}-{}",
            alg.as_str().to_lowercase(),
            self.random_token(6)
        );
        // Taken outside the lock: an RSA key the pool did not have takes a while to make.
        let material = crate::key_pool::take(alg)?;
        let key = SigningKey::from_material(&kid, alg, &material)?;
        let now = self.clock.now();
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .rotate_in(key, now, now + grace as i64);
        Ok(kid)
    }

    /// Takes over `other`'s signing keys, so that an RP that cached the JWKS keeps
    /// verifying across a reconfiguration. Keys a rotation had left retiring are no longer
    /// published (the tokens they signed died with `other`'s grants): the rebuilt tenant's
    /// JWKS is its active keys alone, as a fresh tenant's is.
    pub(crate) fn adopt_keys(&self, other: &Tenant) {
        let mut keys = other.keys().clone();
        keys.unpublish_retiring();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
    }

    /// `bytes` random bytes, base64url (32 bytes → 43 characters).
    pub(crate) fn random_token(&self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(&mut buf);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// The URL of an endpoint of this tenant (a path of its [`Paths`]) at its issuer's
    /// origin, as discovery names it.
    pub(crate) fn url_of(&self, path: &str) -> String {
        format!("{}{path}", crate::types::origin(&self.issuer))
    }

    /// Runs `f` with the audiences that name this IdP in an assertion sent to the endpoint
    /// at `receiving` (a path): the issuer, and during the transition RFC 7523bis allows,
    /// the issuer as configured, the token endpoint and that endpoint.
    pub(crate) fn with_assertion_audiences<R>(
        &self,
        receiving: &str,
        f: impl FnOnce(crate::assertion::Audiences<'_>) -> R,
    ) -> R {
        let token_endpoint = self.url_of(&self.paths.token);
        let receiving = self.url_of(receiving);
        let also = [self.issuer.as_str(), &token_endpoint, &receiving];
        f(crate::assertion::Audiences {
            issuer: self.iss(),
            also: &also,
        })
    }

    /// `N` random bytes (user codes).
    pub(crate) fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut buf = [0u8; N];
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(&mut buf);
        buf
    }

    /// The directory, for reading.
    pub fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        self.directory.read().unwrap_or_else(|p| p.into_inner())
    }

    /// How many records of each kind the tenant holds (JWT access tokens are none).
    pub fn live_records(&self) -> Vec<(crate::grants::Record, usize)> {
        self.lock_grants().counts()
    }

    /// Where a background task journals what it did (a back-channel logout's delivery),
    /// stamped with the tenant's clock.
    pub(crate) fn journal_handle(&self) -> JournalHandle {
        JournalHandle {
            journal: self.journal.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Records a protocol request (stamped with the tenant's clock).
    pub(crate) fn record(&self, mut entry: Entry) {
        entry.time = self.clock.now();
        if self.evictions.load(std::sync::atomic::Ordering::Relaxed) {
            entry.evicted = self.lock_grants().take_evictions();
        }
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }

    /// The journal's entries after sequence number `since` (0: all kept), oldest first.
    pub fn journal(&self, since: u64) -> Vec<Entry> {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .since(since)
    }

    /// Forgets the journal's entries.
    pub fn clear_journal(&self) {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Arms a fault; its id.
    pub fn arm_fault(&self, fault: Fault, scope: FaultScope) -> u64 {
        self.lock_faults().arm(fault, scope)
    }

    /// Clears one fault or all; how many.
    pub fn clear_faults(&self, id: Option<u64>) -> usize {
        self.lock_faults().clear(id)
    }

    /// The armed faults.
    pub fn faults(&self) -> Vec<Armed> {
        self.lock_faults().list()
    }

    /// Fires the faults armed for this point and request.
    pub(crate) fn fire_faults(&self, target: Target<'_>, point: FaultPoint) -> Vec<Fault> {
        self.lock_faults().fire(target, point)
    }

    fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The grants. Never held across an `.await`. The directory may be read while holding
    /// them (refresh checks the user atomically); never take them while holding the directory.
    pub(crate) fn lock_grants(&self) -> MutexGuard<'_, Grants> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The journal of a tenant, for a task that outlives the request that started it.
#[derive(Debug, Clone)]
pub(crate) struct JournalHandle {
    journal: Arc<Mutex<Journal>>,
    clock: Clock,
}

impl JournalHandle {
    /// Records an entry (stamped with the tenant's clock).
    pub(crate) fn record(&self, mut entry: Entry) {
        entry.time = self.clock.now();
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }
}
