//! The tenant's users and their groups.

use std::collections::BTreeMap;

use crate::config::UserConfig;

/// A user of the directory (the config file's shape).
pub type User = UserConfig;

/// Users by username.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    users: BTreeMap<String, User>,
}

impl Directory {
    /// A directory holding these users.
    pub fn new(users: impl IntoIterator<Item = User>) -> Directory {
        Directory {
            users: users.into_iter().map(|u| (u.username.clone(), u)).collect(),
        }
    }

    /// The user with this login name.
    pub fn get(&self, username: &str) -> Option<&User> {
        self.users.get(username)
    }

    /// The user with this subject.
    pub fn by_sub(&self, sub: &str) -> Option<&User> {
        self.users.values().find(|u| u.sub == sub)
    }

    /// Every user, ordered by username.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Adds or replaces a user.
    pub fn put(&mut self, user: User) {
        self.users.insert(user.username.clone(), user);
    }

    /// Removes a user; whether it existed.
    pub fn remove(&mut self, username: &str) -> bool {
        self.users.remove(username).is_some()
    }
}
