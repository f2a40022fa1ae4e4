//! The RP's group map as the permission scenarios use it: which groups to put users in,
//! and which permissions `/me` must then show.

use std::collections::BTreeSet;

use serde_json::json;

use crate::idp::TestUser;
use crate::rp::RpDescription;
use crate::scenario::Ctx;
use crate::verdict::{MeReading, Stop, Verdict};

/// A group the RP's map does not know.
pub const UNMAPPED: &str = "conformance-unmapped-group";

/// Two mapped groups: `b` grants `extra`, which `a` does not.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The smaller group.
    pub a: String,
    /// The group that adds `extra`.
    pub b: String,
    /// A permission `b` gives and `a` does not.
    pub extra: String,
}

/// Two groups to move users between; the scenario is skipped when the map has none.
pub fn pair(rp: &RpDescription) -> Result<Pair, Stop> {
    let mut best: Option<(usize, Pair)> = None;
    for (a, pa) in rp.group_map.iter().filter(|(_, p)| !p.is_empty()) {
        for (b, pb) in &rp.group_map {
            if let Some(extra) = pb.iter().find(|p| !pa.contains(p))
                && best.as_ref().is_none_or(|(n, _)| pa.len() < *n)
            {
                let pair = Pair {
                    a: a.clone(),
                    b: b.clone(),
                    extra: extra.clone(),
                };
                best = Some((pa.len(), pair));
            }
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| {
        Stop::with(Verdict::skip(
            "rp.toml's group_map needs two groups, one granting a permission the other does not",
        ))
    })
}

/// Two mapped groups, each granting a permission the other does not: a change from one to
/// the other shows what a sync adds and what it removes (or keeps) in one step.
#[derive(Debug, Clone)]
pub struct Apart {
    /// The group the user starts in.
    pub x: String,
    /// The group the user moves to.
    pub y: String,
    /// A permission `x` gives and `y` does not.
    pub only_x: String,
    /// A permission `y` gives and `x` does not.
    pub only_y: String,
    /// A permission neither gives (for a grant through the webapp), if the map has one.
    pub neither: Option<String>,
}

/// Two such groups; the scenario is skipped (saying what the map lacks) when there are none.
pub fn apart(rp: &RpDescription) -> Result<Apart, Stop> {
    let map = &rp.group_map;
    let mut found: Option<Apart> = None;
    for (x, px) in map {
        for (y, py) in map {
            let only_x = px.iter().find(|p| !py.contains(p));
            let only_y = py.iter().find(|p| !px.contains(p));
            if let (Some(ox), Some(oy)) = (only_x, only_y) {
                let neither = map
                    .values()
                    .flatten()
                    .find(|p| !px.contains(p) && !py.contains(p))
                    .cloned();
                let better = neither.is_some();
                let a = Apart {
                    x: x.clone(),
                    y: y.clone(),
                    only_x: ox.clone(),
                    only_y: oy.clone(),
                    neither,
                };
                // Prefer a pair that leaves a permission for a webapp grant.
                if better {
                    return Ok(a);
                }
                found.get_or_insert(a);
            }
        }
    }
    if let Some(a) = found {
        return Ok(a);
    }
    Err(Stop::with(Verdict::skip(
        "rp.toml's group_map needs two groups each granting a permission the other does not (e.g. analysts = [\"read\"], auditors = [\"audit\"]), so that one sync shows both what it adds and what it keeps",
    )))
}

/// The permissions these groups map to, sorted.
pub fn mapped(rp: &RpDescription, groups: &[&str]) -> Vec<String> {
    let set: BTreeSet<&String> = groups
        .iter()
        .filter_map(|g| rp.group_map.get(*g))
        .flatten()
        .collect();
    set.into_iter().cloned().collect()
}

/// The permissions `/me` shows (none when it shows no list).
pub fn shown(m: &MeReading) -> Vec<String> {
    m.permissions.clone().unwrap_or_default()
}

/// `/me shows [..]; expected [..] (unexpected [..], missing [..])`.
pub fn differs(got: &[String], want: &[String]) -> String {
    let extra: Vec<&String> = got.iter().filter(|p| !want.contains(p)).collect();
    let missing: Vec<&String> = want.iter().filter(|p| !got.contains(p)).collect();
    let mut s = format!("/me shows {got:?}; expected {want:?}");
    match (extra.is_empty(), missing.is_empty()) {
        (false, false) => s.push_str(&format!(" (unexpected {extra:?}, missing {missing:?})")),
        (false, true) => s.push_str(&format!(" (unexpected {extra:?})")),
        (true, false) => s.push_str(&format!(" (missing {missing:?})")),
        (true, true) => {}
    }
    s
}

impl Ctx {
    /// Changes the user's groups at the IdP (and, with `name`, their name: a marker that
    /// shows when the RP has synced); a journal mark taken just after, so that every refresh
    /// after it carries the change.
    pub async fn set_groups(
        &self,
        u: &TestUser,
        groups: &[&str],
        name: Option<&str>,
    ) -> Result<u64, Stop> {
        let mut patch = json!({ "groups": groups });
        if let Some(n) = name {
            patch["name"] = json!(n);
        }
        self.shared.admin.patch_user(&u.username, patch).await?;
        let mark = self.mark(u).await?;
        let renamed = name.map_or_else(String::new, |n| format!(" and their name to {n:?}"));
        self.step(format!(
            "changed {}'s groups at the IdP to {groups:?}{renamed}",
            u.username
        ));
        Ok(mark)
    }

    /// Grants a permission through the RP's webapp (capability `grant`); the HTTP status.
    pub async fn grant(&self, b: &crate::browser::Browser, permission: &str) -> Result<u16, Stop> {
        let status = b
            .post_json(
                &self.shared.rp.paths.grant,
                &json!({ "permission": permission }),
            )
            .await?;
        self.step(format!(
            "granted {permission:?} through the RP's webapp: HTTP {status}"
        ));
        Ok(status)
    }
}

/// The verdict when the awaited permissions did not show: the session ended, the RP never
/// refreshed, or it refreshed and made something else of the change (`why` says what that
/// means).
pub fn not_synced(cx: &Ctx, got: &crate::scenario::Awaited, want: &[String], why: &str) -> Verdict {
    if !got.me.logged_in() {
        return Verdict::fail(format!(
            "the session ended (/me answered {}) instead of showing {want:?}",
            got.me.status
        ));
    }
    match got.refreshes.last() {
        None => Verdict::fail(format!(
            "the RP did not refresh the user's tokens within {:.0} s (the patience: three sync deadlines, or an access token's lifetime and one): the change never reached it",
            cx.shared.patience().as_secs_f64()
        )),
        Some(last) => {
            cx.cite(last);
            Verdict::fail(format!(
                "after {} refreshes since the change, {}: {why}",
                got.refreshes.len(),
                differs(&shown(&got.me), want)
            ))
        }
    }
}
