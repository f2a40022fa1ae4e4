//! Accounts, sessions and logins in progress; how a login or a sync changes an account.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use serde::Serialize;

use crate::defects::{Defect, Defects};
use crate::settings::{Settings, SyncMode};

/// An account of the RP.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// The RP's own id.
    pub id: u64,
    /// The IdP's subject.
    pub sub: String,
    /// Email.
    pub email: String,
    /// Username (`preferred_username`).
    pub username: String,
    /// Display name.
    pub name: String,
    /// Current permissions.
    pub permissions: BTreeSet<String>,
}

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account.
    pub account: u64,
    /// The subject the session was established for.
    pub sub: String,
    /// The IdP session it came from (the ID token's `sid`), if the IdP named one.
    pub sid: Option<String>,
    /// The newest refresh token.
    pub refresh_token: Option<String>,
    /// When the newest access token expires, if the provider said.
    pub access_expires_at: Option<Instant>,
    /// The newest access token (`VALIDATES_WITH_USERINFO` checks it at userinfo).
    pub access_token: Option<String>,
    /// The login's ID token, the `id_token_hint` of an RP-initiated logout.
    pub id_token: Option<String>,
}

/// A login between `/login` and the callback.
#[derive(Debug, Clone)]
pub struct Pending {
    /// `state` sent.
    pub state: String,
    /// `nonce` sent.
    pub nonce: String,
    /// PKCE verifier, when PKCE is used.
    pub verifier: Option<String>,
}

/// Who the tokens say the user is.
#[derive(Debug, Clone)]
pub struct Profile {
    /// `sub`.
    pub sub: String,
    /// `email`.
    pub email: String,
    /// `preferred_username`.
    pub username: String,
    /// `name`.
    pub name: String,
    /// The groups at the configured place (none: the claim is absent, which is how
    /// Okta and Entra ID say "no groups").
    pub groups: Option<Vec<String>>,
    /// The IdP session (`sid`), if the ID token names one.
    pub sid: Option<String>,
}

/// Everything the RP remembers.
#[derive(Debug, Default)]
pub struct Store {
    accounts: BTreeMap<u64, Account>,
    sessions: HashMap<String, Session>,
    pending: HashMap<String, Pending>,
    /// Request objects published by reference (`JAR_BY_REFERENCE`), by id, until fetched.
    objects: HashMap<String, String>,
    next_id: u64,
}

impl Store {
    /// Parks a login.
    pub fn park(&mut self, id: String, p: Pending) {
        self.pending.insert(id, p);
    }

    /// Publishes a request object under `id` until the provider fetches it.
    pub fn publish_object(&mut self, id: String, jwt: String) {
        self.objects.insert(id, jwt);
    }

    /// The request object published under `id`, fetched once.
    pub fn take_object(&mut self, id: &str) -> Option<String> {
        self.objects.remove(id)
    }

    /// Takes a parked login.
    pub fn take_pending(&mut self, id: &str) -> Option<Pending> {
        self.pending.remove(id)
    }

    /// The account a login with this profile signs into, and whether it was created now.
    pub fn account_for(&mut self, p: &Profile, defects: &Defects) -> (u64, bool) {
        let by_email = |a: &&Account| a.email == p.email && !p.email.is_empty();
        let found = if defects.has(Defect::KeyedByEmail) {
            self.accounts.values().find(by_email)
        } else {
            let by_sub = self.accounts.values().find(|a| a.sub == p.sub);
            match by_sub {
                None if defects.has(Defect::LinksByEmail) => self.accounts.values().find(by_email),
                found => found,
            }
        };
        if let Some(a) = found {
            return (a.id, false);
        }
        (self.new_account(p), true)
    }

    /// A new account for this profile, with no permissions; its id.
    fn new_account(&mut self, p: &Profile) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let a = Account {
            id,
            sub: p.sub.clone(),
            email: p.email.clone(),
            username: p.username.clone(),
            name: p.name.clone(),
            permissions: BTreeSet::new(),
        };
        self.accounts.insert(id, a);
        id
    }

    /// Applies a profile from fresh tokens: name, email and username when `profile`, and
    /// when `permissions` the permissions the groups map to in this sync mode.
    pub fn apply(
        &mut self,
        account: u64,
        p: &Profile,
        settings: &Settings,
        profile: bool,
        permissions: bool,
    ) {
        let Some(a) = self.accounts.get_mut(&account) else {
            return;
        };
        if profile {
            a.email = p.email.clone();
            a.username = p.username.clone();
            a.name = p.name.clone();
        }
        let d = &settings.defects;
        let groups = match &p.groups {
            None if d.has(Defect::NeverRemoves) => return,
            None => &Vec::new(),
            Some(g) => g,
        };
        let mapped = groups.iter().flat_map(|g| match settings.group_map.get(g) {
            Some(ps) => ps.clone(),
            None if d.has(Defect::MapsUnknownGroups) => vec![g.clone()],
            None => Vec::new(),
        });
        let mode = match settings.sync_mode {
            SyncMode::Strict if d.has(Defect::StrictAsAdditive) => SyncMode::Additive,
            SyncMode::Additive if d.has(Defect::AdditiveAsStrict) => SyncMode::Strict,
            SyncMode::None if d.has(Defect::NoneAppliesGroups) => SyncMode::Strict,
            m => m,
        };
        match mode {
            _ if !permissions => {}
            SyncMode::Strict => a.permissions = mapped.collect(),
            SyncMode::Additive => a.permissions.extend(mapped),
            SyncMode::None => {}
        }
    }

    /// Takes name, email and username from a userinfo response (what a defective sync
    /// does, whoever the response is about).
    pub fn take_userinfo(&mut self, account: u64, info: &serde_json::Value) {
        let Some(a) = self.accounts.get_mut(&account) else {
            return;
        };
        let text = |k: &str| {
            info.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        for (field, claim) in [
            (&mut a.email, "email"),
            (&mut a.username, "preferred_username"),
            (&mut a.name, "name"),
        ] {
            if let Some(v) = text(claim) {
                *field = v;
            }
        }
    }

    /// Switches an account to another subject (what a defective refresh does).
    pub fn set_sub(&mut self, account: u64, sub: &str) {
        if let Some(a) = self.accounts.get_mut(&account) {
            a.sub = sub.to_owned();
        }
    }

    /// Grants a permission through the webapp.
    pub fn grant(&mut self, account: u64, permission: &str) {
        if let Some(a) = self.accounts.get_mut(&account) {
            a.permissions.insert(permission.to_owned());
        }
    }

    /// Access ended at the IdP: the account loses its permissions and every session.
    pub fn revoke(&mut self, account: u64, defects: &Defects) {
        let Some(email) = self.accounts.get(&account).map(|a| a.email.clone()) else {
            return;
        };
        let by_email = defects.has(Defect::RevokesByEmail);
        let hit: BTreeSet<u64> = self
            .accounts
            .values()
            .filter(|a| a.id == account || (by_email && a.email == email))
            .map(|a| a.id)
            .collect();
        for id in &hit {
            if let Some(a) = self.accounts.get_mut(id) {
                a.permissions.clear();
            }
        }
        if !defects.has(Defect::KeepsSessions) {
            self.sessions.retain(|_, s| !hit.contains(&s.account));
        }
    }

    /// Starts a session.
    pub fn open(&mut self, cookie: String, s: Session) {
        self.sessions.insert(cookie, s);
    }

    /// Back-channel logout (§2.7): ends the sessions of `sid` (of `sub` too, when the
    /// token names both), or every session of `sub` when it names no `sid`; how many.
    pub fn log_out(&mut self, sub: Option<&str>, sid: Option<&str>) -> usize {
        let before = self.sessions.len();
        self.sessions.retain(|_, s| {
            let hit = match (sub, sid) {
                (_, Some(sid)) if s.sid.as_deref() != Some(sid) => false,
                (Some(sub), _) => s.sub == sub,
                (None, Some(_)) => true,
                (None, None) => false,
            };
            !hit
        });
        before - self.sessions.len()
    }

    /// Ends every session (what a defective front-channel logout does); how many.
    pub fn log_out_everyone(&mut self) -> usize {
        let n = self.sessions.len();
        self.sessions.clear();
        n
    }

    /// Ends a session.
    pub fn close(&mut self, cookie: &str) -> Option<Session> {
        self.sessions.remove(cookie)
    }

    /// Ends a session at the user's logout (defect `logout-drops-account-sync`: and
    /// forgets the refresh tokens of the account's other sessions).
    pub fn log_out_session(&mut self, cookie: &str, defects: &Defects) -> Option<Session> {
        let s = self.sessions.remove(cookie)?;
        if defects.has(Defect::LogoutDropsAccountSync) {
            for other in self
                .sessions
                .values_mut()
                .filter(|o| o.account == s.account)
            {
                other.refresh_token = None;
            }
        }
        Some(s)
    }

    /// Takes every permission from an account (defect `additive-login-replaces`, before a
    /// login applies the groups).
    pub fn clear_permissions(&mut self, account: u64) {
        if let Some(a) = self.accounts.get_mut(&account) {
            a.permissions.clear();
        }
    }

    /// Defect `rename-splits-account`: when a sync brings an email the session's account
    /// does not have, the account with that email (a new, empty one if none) takes the
    /// session; the session's account now.
    pub fn account_by_email(&mut self, cookie: &str, p: &Profile) -> Option<u64> {
        let s = self.sessions.get(cookie)?;
        let current = self.accounts.get(&s.account)?;
        if current.email == p.email {
            return Some(s.account);
        }
        let found = self
            .accounts
            .values()
            .find(|a| a.email == p.email)
            .map(|a| a.id);
        let id = found.unwrap_or_else(|| self.new_account(p));
        if let Some(s) = self.sessions.get_mut(cookie) {
            s.account = id;
        }
        Some(id)
    }

    /// The session's account.
    pub fn me(&self, cookie: &str) -> Option<&Account> {
        self.accounts.get(&self.sessions.get(cookie)?.account)
    }

    /// The session behind a cookie.
    pub fn session(&self, cookie: &str) -> Option<&Session> {
        self.sessions.get(cookie)
    }

    /// Every session with a refresh token.
    pub fn refreshable(&self) -> Vec<(String, Session)> {
        self.sessions
            .iter()
            .filter(|(_, s)| s.refresh_token.is_some())
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect()
    }

    /// Ends every session whose access token has expired (what an RP that never refreshes
    /// does).
    pub fn close_expired(&mut self, now: Instant) {
        self.sessions
            .retain(|_, s| s.access_expires_at.is_none_or(|t| t > now));
    }

    /// Stores what a refresh returned (a rotated refresh token, the access token's expiry),
    /// unless the session ended meanwhile.
    pub fn refreshed(
        &mut self,
        cookie: &str,
        token: Option<String>,
        access: &str,
        expires: Option<Instant>,
    ) {
        if let Some(s) = self.sessions.get_mut(cookie) {
            if let Some(t) = token {
                s.refresh_token = Some(t);
            }
            s.access_token = Some(access.to_owned());
            s.access_expires_at = expires;
        }
    }
}
