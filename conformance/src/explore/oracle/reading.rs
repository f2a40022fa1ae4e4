//! One reading judged: whether the session must be alive, and what `/me` may show of the
//! user (who, the permissions in the sync mode, the profile) by then.

use super::*;

/// Whether a session must be alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alive {
    Must,
    MustNot,
    /// Either; `true` when because of a refusal (then what it shows is not asserted).
    Either(bool),
}

/// One reading to judge.
pub(super) struct Reading {
    pub(super) i: Ident,
    pub(super) device: usize,
    pub(super) t0: f64,
    pub(super) t1: f64,
    pub(super) login: bool,
}

impl Reading {
    /// Whether the session must be alive, and why.
    pub(super) fn alive(&self, m: &Model, c: &Contract) -> (Alive, String) {
        let need = c.timing.need;
        let Some(id) = m.identities.get(&self.i) else {
            return (Alive::Either(false), String::new());
        };
        let Some(s) = id.sessions.iter().find(|s| s.device == self.device) else {
            return (
                Alive::Either(false),
                "the browser's login opened no session".into(),
            );
        };
        if self.login && s.open > self.t1 {
            return (Alive::Either(false), String::new());
        }
        if let Some((l0, l1)) = s.logout {
            if l1 <= self.t0 {
                return (Alive::MustNot, "the browser logged out".into());
            }
            if l0 <= self.t1 {
                return (Alive::Either(false), String::new());
            }
        }
        let mut either = None;
        for r in id.refusals.iter().filter(|r| s.open < r.before) {
            let had = m.available(self.i, r.must_from, r.must_to.min(self.t0));
            if r.must_from <= self.t0 && had >= need {
                return (
                    Alive::MustNot,
                    format!(
                        "{} at {:.2} s, and the RP has had {had:.2} s to learn it from a refused refresh (the deadline and the allowance: {need:.2} s)",
                        r.what, r.must_from
                    ),
                );
            }
            if r.may_from <= self.t1 {
                either.get_or_insert(Alive::Either(true));
            }
        }
        if let Some(a) = either {
            return (a, String::new());
        }
        // A refused refresh of one of the user's older sessions tells the RP the user's
        // access ended at the IdP; it may end every session of the user then, this newer
        // one too, and take the account's permissions (what it must end is judged by the
        // refusals that concern the session).
        let collateral = id.refusals.iter().any(|r| {
            r.may_from <= self.t1
                && s.open >= r.before
                && id.sessions.iter().any(|o| o.open < r.before)
        });
        if collateral {
            return (Alive::Either(true), String::new());
        }
        if m.rotations.iter().any(|t| *t > s.open && *t <= self.t1) {
            return (Alive::Either(false), String::new());
        }
        (
            Alive::Must,
            format!(
                "logged in at {:.2} s; nothing at the IdP ended the session since",
                s.open
            ),
        )
    }

    /// The first thing about this reading the model does not allow.
    pub(super) fn check(
        &self,
        c: &Contract,
        m: &Model,
        r: Option<&MeReading>,
        error: Option<&str>,
    ) -> Option<(Kind, String)> {
        let id = m.identities.get(&self.i)?;
        let person = id.person.as_ref()?;
        let (alive, why) = if self.login {
            self.login_expectation(m)
        } else {
            self.alive(m, c)
        };
        let Some(r) = r else {
            let e = error.unwrap_or_default();
            return (!self.login || alive == Alive::Must).then(|| {
                let kind = if self.login {
                    Kind::Login
                } else {
                    Kind::MeAnswer
                };
                (kind, format!("an answer the contract allows ({e})"))
            });
        };
        match (alive, r.logged_in()) {
            (Alive::Must, false) => {
                let kind = if self.login {
                    Kind::Login
                } else {
                    Kind::SessionEnded
                };
                return Some((kind, format!("a session: {why}")));
            }
            (Alive::MustNot, true) => {
                return Some((Kind::SessionKept, format!("no session: {why}")));
            }
            (_, false) => return None,
            _ => {}
        }
        if !is(r, person) {
            return Some((
                Kind::Identity,
                format!(
                    "{}'s session to show {} (sub {:?})",
                    person.username, person.username, person.sub
                ),
            ));
        }
        if let Some(u) = &r.username
            && *u != person.username
        {
            return Some((
                Kind::Identity,
                format!(
                    "username {:?}: the IdP's preferred_username",
                    person.username
                ),
            ));
        }
        if alive == Alive::Either(true) {
            return None;
        }
        let f = self.floor(c, m);
        self.permissions(c, m, r, f)
            .or_else(|| self.profile(m, r, f))
    }

    /// A login of an existing, enabled user must open a session, unless the IdP's keys or
    /// clock were in flux.
    fn login_expectation(&self, m: &Model) -> (Alive, String) {
        let flux = m
            .world
            .iter()
            .find(|(a, b, _)| *a <= self.t1 && *b >= self.t0);
        match flux {
            Some((_, _, what)) => (Alive::Either(false), format!("during {what}")),
            None => (
                Alive::Must,
                "the user exists and is enabled at the IdP".into(),
            ),
        }
    }

    /// Where the RP's view of the user may start: the newest of the deadline's cutoff and
    /// the user's last login (a login reads the tokens afresh).
    fn floor(&self, c: &Contract, m: &Model) -> f64 {
        let id = &m.identities[&self.i];
        let login = id
            .sessions
            .iter()
            .map(|s| s.login_t0)
            .filter(|t| *t <= self.t0)
            .fold(f64::NEG_INFINITY, f64::max);
        m.cutoff(self.i, self.t0, c.timing.need)
            .unwrap_or(f64::NEG_INFINITY)
            .max(login)
    }

    /// The permissions shown, against what the mode makes of the states since `f` (the
    /// [floor](Reading::floor)).
    fn permissions(
        &self,
        c: &Contract,
        m: &Model,
        r: &MeReading,
        f: f64,
    ) -> Option<(Kind, String)> {
        let shown: BTreeSet<String> = r.permissions.clone()?.into_iter().collect();
        let id = &m.identities[&self.i];
        let map = |groups: &[String]| -> BTreeSet<String> {
            groups
                .iter()
                .filter_map(|g| c.group_map.get(g))
                .flatten()
                .cloned()
                .collect()
        };
        let grants = |from: f64, to: f64| -> BTreeSet<String> {
            id.grants
                .iter()
                .filter(|(t, _)| *t > from && *t <= to)
                .map(|(_, p)| p.clone())
                .collect()
        };
        let states = m.states_in(self.i, f, self.t1);
        if c.mode == SyncMode::Strict {
            let recent = grants(f, self.t1);
            let fits = states.iter().any(|s| {
                let want = map(&s.groups);
                want.is_subset(&shown) && shown.is_subset(&want.union(&recent).cloned().collect())
            });
            if fits {
                return None;
            }
            let options: Vec<Vec<String>> = states
                .iter()
                .map(|s| map(&s.groups).into_iter().collect())
                .collect();
            return Some((
                Kind::Permissions,
                format!(
                    "in strict mode exactly the groups' permissions: one of {options:?} (the groups current since {})",
                    since(f)
                ),
            ));
        }
        // Additive and none: bounds. A refusal may have reset what the RP keeps, at any
        // time until the refusal ended (and the RP handled the answer: a quarter second).
        let reset = id
            .refusals
            .iter()
            .filter(|x| x.may_from <= self.t0)
            .map(|x| (x.may_to + 0.25).min(self.t0))
            .fold(f64::NEG_INFINITY, f64::max);
        let first_login = id
            .sessions
            .iter()
            .map(|s| s.login_t0)
            .fold(f64::INFINITY, f64::min);
        let mut upper = grants(f64::NEG_INFINITY, self.t1);
        let mut lower = grants(reset, self.t0);
        if c.mode == SyncMode::Additive {
            for s in m.states_in(self.i, first_login, self.t1) {
                upper.extend(map(&s.groups));
            }
            let open = id
                .sessions
                .iter()
                .find(|s| s.device == self.device)
                .map_or(f64::INFINITY, |s| s.open);
            for login in id.sessions.iter().filter(|s| s.login_t0 > reset) {
                if let Some(s) = m.state_at(self.i, login.login_t0)
                    && login.login_t0 <= self.t0
                {
                    lower.extend(map(&s.groups));
                }
            }
            let states = &id.states;
            for (k, s) in states.iter().enumerate() {
                let from = s.t1.max(reset).max(open);
                let to = states.get(k + 1).map_or(self.t0, |n| n.t0.min(self.t0));
                if m.available(self.i, from, to) >= c.timing.need {
                    lower.extend(map(&s.groups));
                }
            }
        }
        let extra: Vec<&String> = shown.difference(&upper).collect();
        let missing: Vec<&String> = lower.difference(&shown).collect();
        if extra.is_empty() && missing.is_empty() {
            return None;
        }
        let what = if c.mode == SyncMode::None {
            "with sync off only webapp grants"
        } else {
            "in additive mode every permission the groups ever gave, and the webapp grants, never fewer than those the RP has had the deadline to see"
        };
        Some((
            Kind::Permissions,
            format!(
                "{what}: at least {lower:?}, at most {upper:?} (unexpected {extra:?}, missing {missing:?})"
            ),
        ))
    }

    /// The name and email shown, against the states since `f`.
    fn profile(&self, m: &Model, r: &MeReading, f: f64) -> Option<(Kind, String)> {
        let states = m.states_in(self.i, f, self.t1);
        let names: Vec<&String> = states.iter().map(|s| &s.name).collect();
        let emails: Vec<&String> = states.iter().map(|s| &s.email).collect();
        for (field, shown, options) in [("name", &r.name, names), ("email", &r.email, emails)] {
            let Some(shown) = shown else { continue };
            if !options.is_empty() && !options.contains(&shown) {
                return Some((
                    Kind::Profile,
                    format!(
                        "the {field} the IdP has had since {}: one of {options:?}",
                        since(f)
                    ),
                ));
            }
        }
        None
    }
}
