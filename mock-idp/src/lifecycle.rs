//! The live directory: users change, are disabled or deleted while tokens are out, and
//! every check of a token consults the directory as it is now.

use crate::backchannel::Ended;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::directory::User;
use crate::grants::{Grant, Refused};
use crate::tenant::Tenant;

/// Why a disabled user is refused (providers word it their own way: `quirks`).
pub(crate) const DISABLED: &str = "the user is disabled";

/// A partial update of a user (`PATCH /admin/users/{username}`); absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New groups (replaces the list).
    pub groups: Option<Vec<String>>,
    /// New email.
    pub email: Option<String>,
    /// New `email_verified`.
    pub email_verified: Option<bool>,
    /// New display name.
    pub name: Option<String>,
    /// New `preferred_username`.
    pub preferred_username: Option<String>,
    /// Extra claims to set; a `null` value removes the claim.
    pub claims: Option<BTreeMap<String, serde_json::Value>>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

/// Why a directory change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// No such user.
    #[error("no user {0:?}")]
    NotFound(String),
    /// The change is invalid.
    #[error("{0}")]
    Invalid(String),
}

/// The grant's user as the directory has it now: present, same `sub`, not disabled.
pub(crate) fn active_user(t: &Tenant, grant: &Grant) -> Result<User, Refused> {
    let dir = t.directory();
    let user = grant
        .username
        .as_deref()
        .and_then(|u| dir.get(u))
        .filter(|u| u.sub == grant.sub)
        .ok_or_else(|| Refused("the user no longer exists".into()))?;
    if user.disabled {
        return Err(Refused(DISABLED.into()));
    }
    Ok(user.clone())
}

/// Creates or replaces a user; whether it was created.
pub(crate) fn put_user(t: &Tenant, user: User) -> Result<bool, DirectoryError> {
    if user.username.is_empty() {
        return Err(DirectoryError::Invalid("username must not be empty".into()));
    }
    if user.sub.is_empty() || user.sub.len() > 255 {
        return Err(DirectoryError::Invalid(
            "sub must be 1 to 255 characters".into(),
        ));
    }
    let mut dir = t.directory.write().unwrap_or_else(|p| p.into_inner());
    if let Some(other) = dir.by_sub(&user.sub)
        && other.username != user.username
    {
        return Err(DirectoryError::Invalid(format!(
            "sub {:?} belongs to user {:?}",
            user.sub, other.username
        )));
    }
    let created = dir.get(&user.username).is_none();
    dir.put(user);
    Ok(created)
}

/// Applies a partial update; the user as it now is.
pub(crate) fn patch_user(
    t: &Tenant,
    username: &str,
    patch: UserPatch,
) -> Result<User, DirectoryError> {
    let mut dir = t.directory.write().unwrap_or_else(|p| p.into_inner());
    let mut user = dir
        .get(username)
        .cloned()
        .ok_or_else(|| DirectoryError::NotFound(username.to_owned()))?;
    let was_disabled = user.disabled;
    let UserPatch {
        groups,
        email,
        email_verified,
        name,
        preferred_username,
        claims,
        disabled,
    } = patch;
    if let Some(g) = groups {
        user.groups = g;
    }
    if email.is_some() {
        user.email = email;
    }
    if email_verified.is_some() {
        user.email_verified = email_verified;
    }
    if name.is_some() {
        user.name = name;
    }
    if preferred_username.is_some() {
        user.preferred_username = preferred_username;
    }
    for (k, v) in claims.unwrap_or_default() {
        if v.is_null() {
            user.claims.remove(&k);
        } else {
            user.claims.insert(k, v);
        }
    }
    if let Some(d) = disabled {
        user.disabled = d;
    }
    dir.put(user.clone());
    drop(dir);
    if user.disabled && !was_disabled {
        crate::backchannel::notify(t, Ended::User(username));
    }
    if user.disabled {
        t.lock_grants().end_user_sessions(username);
    }
    Ok(user)
}

/// Deletes a user and ends their sessions; their tokens stop working (they are checked
/// against the directory).
pub(crate) fn delete_user(t: &Tenant, username: &str) -> Result<(), DirectoryError> {
    let removed = t
        .directory
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .remove(username);
    if !removed {
        return Err(DirectoryError::NotFound(username.to_owned()));
    }
    crate::backchannel::notify(t, Ended::User(username));
    t.lock_grants().end_user_sessions(username);
    Ok(())
}

/// Revokes every token and session of a user; how many live tokens were revoked.
pub(crate) fn revoke_user(t: &Tenant, username: &str) -> Result<usize, DirectoryError> {
    if t.directory().get(username).is_none() {
        return Err(DirectoryError::NotFound(username.to_owned()));
    }
    crate::backchannel::notify(t, Ended::User(username));
    Ok(t.lock_grants().revoke_user(username))
}

/// The directory's API on the tenant (the admin API and a Rust test use it).
impl Tenant {
    /// Creates or replaces a user; whether it was created.
    pub fn put_user(&self, user: User) -> Result<bool, DirectoryError> {
        put_user(self, user)
    }

    /// Applies a partial update; the user as it now is. A disabled user's sessions end
    /// and their tokens stop working.
    pub fn patch_user(&self, username: &str, patch: UserPatch) -> Result<User, DirectoryError> {
        patch_user(self, username, patch)
    }

    /// Deletes a user and ends their sessions; their tokens stop working (they are checked
    /// against the directory).
    pub fn delete_user(&self, username: &str) -> Result<(), DirectoryError> {
        delete_user(self, username)
    }

    /// Revokes every token and session of a user; how many live tokens were revoked.
    pub fn revoke_user(&self, username: &str) -> Result<usize, DirectoryError> {
        revoke_user(self, username)
    }
}
