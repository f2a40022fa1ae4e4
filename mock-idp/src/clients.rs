//! A tenant's clients: the configured ones, and those registered at runtime (RFC 7591),
//! looked up by id alike.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::ClientConfig;

/// The most clients a tenant holds registered at runtime: each keeps its metadata, so the
/// count bounds the memory (a registration past it is refused).
pub const MAX_REGISTERED: usize = 1000;

/// A client of a tenant, configured or registered.
#[derive(Debug, Clone)]
pub enum ClientRef<'t> {
    /// From the tenant's configuration.
    Configured(&'t ClientConfig),
    /// Registered at runtime; it stays whole while held though its registration is
    /// deleted meanwhile.
    Registered(Arc<ClientConfig>),
}

impl Deref for ClientRef<'_> {
    type Target = ClientConfig;

    fn deref(&self) -> &ClientConfig {
        match self {
            ClientRef::Configured(c) => c,
            ClientRef::Registered(c) => c,
        }
    }
}

/// A client registered at runtime, with what its registration is managed by (RFC 7592).
#[derive(Debug, Clone)]
pub struct Registered {
    /// The client as the tenant takes it.
    pub client: Arc<ClientConfig>,
    /// The bearer token that reads, updates and deletes the registration.
    pub access_token: String,
    /// `client_id_issued_at`.
    pub issued_at: i64,
    /// `client_secret_expires_at` (0: never).
    pub secret_expires_at: i64,
    /// The client metadata as registered (defaults filled in): what a read answers.
    pub metadata: Map<String, Value>,
}

/// The clients registered at runtime, by id.
#[derive(Debug, Default)]
pub(crate) struct RegisteredClients {
    by_id: HashMap<String, Registered>,
}

impl RegisteredClients {
    /// The registration of `id`.
    pub fn get(&self, id: &str) -> Option<&Registered> {
        self.by_id.get(id)
    }

    /// Keeps a registration, new or updated; refused when [`MAX_REGISTERED`] are held and
    /// it is a new one.
    pub fn put(&mut self, registered: Registered) -> Result<(), String> {
        let id = registered.client.id.clone();
        if !self.by_id.contains_key(&id) && self.by_id.len() >= MAX_REGISTERED {
            return Err(format!(
                "the tenant holds {MAX_REGISTERED} registered clients, the most it keeps; delete one first (RFC 7592 §2.3)"
            ));
        }
        self.by_id.insert(id, registered);
        Ok(())
    }

    /// Forgets a registration; whether it existed.
    pub fn remove(&mut self, id: &str) -> bool {
        self.by_id.remove(id).is_some()
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }
}
