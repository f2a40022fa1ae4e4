//! The tenants a server serves: the default one at the issuer's path, and any created at
//! runtime under `/t/{name}`, each fully isolated.

use std::sync::{Arc, RwLock};

use crate::tenant::{Paths, Tenant};

/// The tenants of one server; requests find theirs by path.
#[derive(Debug)]
pub struct Registry {
    tenants: RwLock<Vec<Arc<Tenant>>>,
}

impl Registry {
    /// A registry serving one tenant.
    pub fn new(default: Arc<Tenant>) -> Registry {
        Registry {
            tenants: RwLock::new(vec![default]),
        }
    }

    /// The tenant for which `select(paths)` is exactly `path`.
    pub fn at(&self, path: &str, select: fn(&Paths) -> &String) -> Option<Arc<Tenant>> {
        self.read()
            .iter()
            .find(|t| select(&t.paths) == path)
            .cloned()
    }

    /// The tenant whose admin API `path` is under, and the rest of the path.
    pub fn admin(&self, path: &str) -> Option<(Arc<Tenant>, String)> {
        self.read().iter().find_map(|t| {
            let rest = path.strip_prefix(t.paths.admin.as_str())?;
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
