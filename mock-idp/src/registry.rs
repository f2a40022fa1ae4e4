//! The tenants a server serves: the default one at the issuer's path, and any created at
//! runtime under `/t/{name}`, each fully isolated.

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::{Config, KeyFiles};
use crate::key_pool;
use crate::tenant::{Paths, Tenant};

/// Whose RSA key a tenant created at runtime signs with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keys {
    /// Keys of its own, never another tenant's (from the key pool: instant while it has
    /// one ready, else made in the request, tens of milliseconds).
    #[default]
    Own,
    /// The process's one RSA key, under kids of the tenant's own (`<kid>-<tenant name>`);
    /// its EC key is still its own. Creation never waits for a key; but a token one such
    /// tenant signs verifies with another's key material (under another kid), so a test
    /// that forges with its tenant's key, or that needs another tenant's tokens refused by
    /// signature, asks for `Own`. A rotation always brings in a key of the tenant's own.
    Shared,
}

/// The tenants of one server; requests find theirs by path.
#[derive(Debug)]
pub struct Registry {
    tenants: RwLock<Vec<Arc<Tenant>>>,
    max_tenants: usize,
}

impl Registry {
    /// A registry serving one tenant.
    pub fn new(default: Arc<Tenant>) -> Registry {
        Registry {
            tenants: RwLock::new(vec![default]),
            max_tenants: MAX_TENANTS,
        }
    }

    /// At most `n` tenants besides the default one (default 1000).
    pub fn with_max_tenants(mut self, n: usize) -> Registry {
        self.max_tenants = n;
        self
    }

    /// The tenant for which `select(paths)` is exactly `path`.
    pub(crate) fn at(&self, path: &str, select: fn(&Paths) -> &String) -> Option<Arc<Tenant>> {
        self.read()
            .iter()
            .find(|t| select(&t.paths) == path)
            .cloned()
    }

    /// The tenant whose admin API `path` is under, and the rest of the path.
    pub(crate) fn admin(&self, path: &str) -> Option<(Arc<Tenant>, String)> {
        self.under(path, |p| &p.admin)
    }

    /// The tenant for which `path` is `select(paths)` or under it, and the rest of the path
    /// (empty, or starting with `/`).
    pub(crate) fn under(
        &self,
        path: &str,
        select: fn(&Paths) -> &String,
    ) -> Option<(Arc<Tenant>, String)> {
        self.read().iter().find_map(|t| {
            let rest = path.strip_prefix(select(&t.paths).as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then(|| (t.clone(), rest.to_owned()))
        })
    }

    /// Every tenant, the default first.
    pub fn list(&self) -> Vec<Arc<Tenant>> {
        self.read().clone()
    }

    /// Adds a tenant; refused when its issuer is taken.
    pub fn add(&self, tenant: Arc<Tenant>) -> Result<(), String> {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        if tenants.iter().any(|t| t.issuer == tenant.issuer) {
            return Err(format!("a tenant with issuer {} exists", tenant.issuer));
        }
        if tenants.len() > self.max_tenants {
            return Err(format!(
                "{TOO_MANY}: {} tenants exist besides the default one; delete one first",
                self.max_tenants
            ));
        }
        tenants.push(tenant);
        Ok(())
    }

    /// Replaces the tenant with the same issuer.
    pub fn replace(&self, tenant: Arc<Tenant>) -> bool {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        match tenants.iter_mut().find(|t| t.issuer == tenant.issuer) {
            Some(slot) => {
                *slot = tenant;
                true
            }
            None => false,
        }
    }

    /// Removes the tenant with this issuer (never the default); whether it existed.
    pub fn remove(&self, issuer: &str) -> bool {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        let before = tenants.len();
        let mut first = true;
        tenants.retain(|t| std::mem::take(&mut first) || t.issuer != issuer);
        tenants.len() < before
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Tenant>>> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The most tenants a server holds besides its default one: each keeps its keys, users,
/// grants and journal, so the count bounds the memory.
pub const MAX_TENANTS: usize = 1000;

/// How the refusal of a tenant past [`MAX_TENANTS`] starts.
pub const TOO_MANY: &str = "too many tenants";

/// Tenants created at runtime live at `<origin>/t/{name}`.
const TENANT_PREFIX: &str = "/t/";

impl Registry {
    fn origin(&self) -> String {
        crate::types::origin(&self.read()[0].issuer)
    }

    pub(crate) fn issuer_of(&self, name: &str) -> Result<String, String> {
        let ok = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(format!("tenant name {name:?}: use 1 to 40 of [a-z0-9-]"));
        }
        Ok(format!("{}{TENANT_PREFIX}{name}", self.origin()))
    }

    /// Creates an isolated tenant at `<origin>/t/{name}` with its own users, clients, clock
    /// and keys; `config` defaults to the built-in demo tenant.
    pub fn create(&self, name: &str, config: Option<Config>) -> Result<Arc<Tenant>, String> {
        self.create_with(name, config, Keys::Own)
    }

    /// [`Registry::create`], with the tenant's RSA key its own or the process's shared one.
    pub fn create_with(
        &self,
        name: &str,
        config: Option<Config>,
        keys: Keys,
    ) -> Result<Arc<Tenant>, String> {
        let issuer = self.issuer_of(name)?;
        let config = with_kids(config.unwrap_or_else(Config::builtin), name, keys);
        let files = fresh_keys(&config, keys)?;
        let mut tenant = Tenant::new(config, issuer, &files, Clock::system(), None)?;
        tenant.admin_token = self.read()[0].admin_token.clone();
        let tenant = Arc::new(tenant);
        self.add(tenant.clone())?;
        Ok(tenant)
    }

    /// Puts a created tenant back as it was created: its directory, grants, journal,
    /// faults, clock and keys.
    pub fn reset(&self, name: &str) -> Result<Arc<Tenant>, String> {
        let issuer = self.issuer_of(name)?;
        let old = self
            .read()
            .iter()
            .skip(1)
            .find(|t| t.issuer == issuer)
            .cloned()
            .ok_or_else(|| format!("no tenant {name:?}"))?;
        let (config, files) = old.origin.clone();
        let mut tenant = Tenant::new(config, issuer, &files, Clock::system(), None)?;
        tenant.admin_token = old.admin_token.clone();
        let tenant = Arc::new(tenant);
        self.replace(tenant.clone());
        Ok(tenant)
    }

    /// Creates tenant `name`, or rebuilds it from `config` when it exists: users, grants,
    /// sessions, journal, faults and clock start afresh, while the issuer and, when the
    /// configured keys are the same, the signing keys (rotated ones included) stay, so an
    /// RP started once keeps working across many runs. Whether it was created.
    pub fn put(&self, name: &str, config: Option<Config>) -> Result<(Arc<Tenant>, bool), String> {
        self.put_with(name, config, Keys::Own)
    }

    /// [`Registry::put`]; new keys (a new tenant, or other keys configured) are `keys`.
    pub fn put_with(
        &self,
        name: &str,
        config: Option<Config>,
        keys: Keys,
    ) -> Result<(Arc<Tenant>, bool), String> {
        let issuer = self.issuer_of(name)?;
        let config = with_kids(config.unwrap_or_else(Config::builtin), name, keys);
        let old = self
            .read()
            .iter()
            .skip(1)
            .find(|t| t.issuer == issuer)
            .cloned();
        let Some(old) = old else {
            return Ok((self.create_with(name, Some(config), keys)?, true));
        };
        let same_keys = |a: &Config, b: &Config| {
            a.keys.len() == b.keys.len()
                && a.keys
                    .iter()
                    .zip(&b.keys)
                    .all(|(x, y)| x.kid == y.kid && x.alg == y.alg)
        };
        let keep = same_keys(&old.origin.0, &config);
        let files = if keep {
            old.origin.1.clone()
        } else {
            fresh_keys(&config, keys)?
        };
        let mut tenant = Tenant::new(config, issuer, &files, Clock::system(), None)?;
        tenant.admin_token = old.admin_token.clone();
        if keep {
            tenant.adopt_keys(&old);
        }
        let tenant = Arc::new(tenant);
        self.replace(tenant.clone());
        Ok((tenant, false))
    }

    /// Deletes a created tenant.
    pub fn delete(&self, name: &str) -> Result<(), String> {
        let issuer = self.issuer_of(name)?;
        if self.remove(&issuer) {
            Ok(())
        } else {
            Err(format!("no tenant {name:?}"))
        }
    }
}

/// A shared-key tenant's kids are its own (`<kid>-<tenant name>`): its JWKS names no key
/// another tenant's names, so an RP that caches keys by kid never takes one tenant's key
/// for another's.
fn with_kids(mut config: Config, name: &str, keys: Keys) -> Config {
    if keys == Keys::Shared {
        for k in &mut config.keys {
            k.kid = format!("{}-{name}", k.kid);
        }
    }
    config
}

/// New keys for every configured key file (one key per file, as configured): RSA ones from
/// the pool, or the process's shared one; EC ones made now.
fn fresh_keys(config: &Config, keys: Keys) -> Result<KeyFiles, String> {
    let mut files: Vec<(String, std::sync::Arc<crate::key_material::KeyMaterial>)> = Vec::new();
    for k in &config.keys {
        if !files.iter().any(|(n, _)| *n == k.pem_file) {
            let key = match keys {
                Keys::Own => key_pool::take(k.alg)?,
                Keys::Shared => key_pool::shared(k.alg)?,
            };
            files.push((k.pem_file.clone(), key));
        }
    }
    Ok(KeyFiles::Parsed(files))
}
