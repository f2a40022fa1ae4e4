//! The groups against the app's group map: names or object ids as the map is keyed, and the permissions the user would get.

use std::collections::BTreeSet;

use super::values::looks_like_id;
use super::{Findings, Mapping};
use crate::rp::RpDescription;

const STEP: &str = "groups";

/// Group names or object ids, against the names the group map uses.
pub(super) fn form_check(app: &RpDescription, groups: &[String], f: &mut Findings) {
    if app.group_map.is_empty() {
        // Nothing to compare: the mapping step says there is no map.
        return;
    }
    if groups.is_empty() {
        f.unknown(
            "groups.form",
            STEP,
            "the test user is in no group: whether groups arrive as names or object ids, as the group map is keyed, cannot be told (log in as a user in a group)",
        );
        return;
    }
    let ids = groups.iter().all(|g| looks_like_id(g));
    let map_ids = app.group_map.keys().all(|g| looks_like_id(g));
    if !ids && map_ids {
        f.problem(
            "groups.form",
            STEP,
            format!("the groups arrive as names ({}), and the app's group map is keyed by object ids ({})", groups.join(", "), app.group_map.keys().cloned().collect::<Vec<_>>().join(", ")),
            Some("Key the app's group map by the groups' names, or have the provider emit object ids".into()),
        );
    } else if ids && !map_ids {
        f.problem(
            "groups.form",
            STEP,
            format!("the groups arrive as object ids ({}), and the app's group map names groups by name ({})", groups.join(", "), app.group_map.keys().cloned().collect::<Vec<_>>().join(", ")),
            Some("Key the app's group map by the groups' object ids, or have the provider emit names (Entra: groups claim → Customize → emit sAMAccountName for synced groups; cloud-only groups have ids only)".into()),
        );
    } else {
        f.ok(
            "groups.form",
            STEP,
            if ids {
                "group object ids, as the group map uses"
            } else {
                "group names, as the group map uses"
            },
        );
    }
}

/// The groups through the group map.
pub fn mapping(app: &RpDescription, groups: &[String], f: &mut Findings) -> Mapping {
    let map = &app.group_map;
    let mut m = Mapping {
        groups: groups.to_vec(),
        ..Mapping::default()
    };
    let mut perms = BTreeSet::new();
    for g in groups {
        match map.get(g) {
            Some(p) => {
                perms.extend(p.iter().cloned());
                m.mapped.insert(g.clone(), p.clone());
            }
            None => m.unmapped.push(g.clone()),
        }
    }
    m.permissions = perms.into_iter().collect();
    if map.is_empty() {
        f.unknown(
            "mapping.permissions",
            "mapping",
            format!(
                "no group map (give the app's with --rp rp.toml): the user's groups are {}",
                if groups.is_empty() {
                    "none".to_owned()
                } else {
                    groups.join(", ")
                }
            ),
        );
    } else if m.permissions.is_empty() {
        // Known, and maybe meant (a test user in no mapped group): a caveat to look at.
        // When the groups are misread (groups.location's problem), that is the reason.
        let why = if f.status("groups.location") == Some(super::Status::Problem) {
            "groups.location says why the app reads them so"
        } else {
            "log in as a user in a mapped group to see the mapping work"
        };
        f.warn(
            "mapping.permissions",
            "mapping",
            format!(
                "this user would get no permission: none of their groups as the app reads them ({}) is in the group map ({}); {why}",
                if groups.is_empty() { "none".to_owned() } else { groups.join(", ") },
                map.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    } else {
        f.ok(
            "mapping.permissions",
            "mapping",
            format!(
                "this user would get {}{}",
                m.permissions.join(", "),
                if m.unmapped.is_empty() {
                    String::new()
                } else {
                    format!(" (groups not in the map: {})", m.unmapped.join(", "))
                }
            ),
        );
    }
    m
}
