//! A tenant's published documents as bytes, built once and served as they are (see
//! `published`, which builds them): they change only with the keys (a rotation, a retired
//! key's grace running out), not per request.

use std::sync::{OnceLock, RwLock};

use bytes::Bytes;

use crate::clock::UnixTime;

/// A tenant's published documents.
#[derive(Debug, Default)]
pub struct Published {
    pub(crate) discovery: OnceLock<Bytes>,
    pub(crate) jwks: RwLock<Option<Jwks>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Jwks {
    pub(crate) generation: u64,
    pub(crate) from: UnixTime,
    pub(crate) until: UnixTime,
    pub(crate) bytes: Bytes,
}
