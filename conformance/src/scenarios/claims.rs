//! `permissions.claim-location`: the groups claim where real providers put it. The run's
//! tenant checks the configured location; in launch mode the runner also starts the RP
//! once per other location (its own tenant, `GROUPS_CLAIM` set accordingly).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::groups::{differs, mapped, pair, shown};
use crate::browser::Sites;
use crate::idp::Admin;
use crate::rp::{GroupsClaim, GroupsToken};
use crate::scenario::Ctx;
use crate::stage::GroupsAt;
use crate::verdict::{Judged, Stop, Verdict};

/// Where real providers put groups: `id_token:/groups` (Okta, Entra ID),
/// a Keycloak client role with a dot in the client id, and AD FS's single string.
const VARIANTS: &[(&str, bool)] = &[
    ("id_token:/groups", false),
    ("access_token:/resource_access/reinfer.io/roles", false),
    ("id_token:/groups", true),
];

/// One location checked.
struct Location<'a> {
    admin: &'a Admin,
    sites: Arc<Sites>,
    at: GroupsAt,
}

pub async fn claim_location(cx: &Ctx) -> Judged {
    let shared = &cx.shared;
    if let Some(p) = &shared.idp.profile {
        return Ok(Verdict::skip(format!(
            "profile {p} decides where the groups go; its location is what every other scenario reads"
        )));
    }
    let configured = GroupsAt {
        claim: shared.rp.groups_claim.clone(),
        single_as_string: false,
    };
    let here = Location {
        admin: &shared.admin,
        sites: shared.sites.clone(),
        at: configured.clone(),
    };
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    match check(cx, &here, "u").await? {
        Ok(s) => passed.push(s),
        Err(s) => failed.push(s),
    }
    if !shared.stage.launches() {
        cx.step("attach mode: only the configured location; launch mode also tries the others");
    } else {
        for (i, (claim, single)) in VARIANTS.iter().enumerate() {
            let claim = GroupsClaim::try_from((*claim).to_owned()).map_err(Stop::Harness)?;
            if claim == configured.claim && !single {
                continue;
            }
            let at = GroupsAt {
                claim,
                single_as_string: *single,
            };
            let tenant = format!("{}-gc{}", shared.tenant, i + 1);
            cx.step(format!(
                "started the RP with GROUPS_CLAIM={}{} against tenant {tenant}",
                String::from(at.claim.clone()),
                if at.single_as_string {
                    " (the IdP sends one group as a string)"
                } else {
                    ""
                }
            ));
            // On a port of its own, even when rp.toml fixes the main RP's (it is running).
            let mut variant = shared.stage.rp.clone();
            variant.base_url = None;
            let up = shared
                .stage
                .up(&variant, &tenant, shared.mode, &at, Default::default())
                .await
                .map_err(|e| Stop::Harness(format!("starting the RP for {tenant}: {e}")))?;
            let there = Location {
                admin: &up.admin,
                sites: Arc::new(Sites {
                    rp: up.base_url.clone(),
                    idp: up.issuer.clone(),
                    ..(*shared.sites).clone()
                }),
                at,
            };
            let outcome = check(cx, &there, &format!("v{}", i + 1)).await;
            if let Some(rp) = up.running {
                rp.stop().await;
            }
            match outcome? {
                Ok(s) => passed.push(s),
                Err(s) => failed.push(s),
            }
        }
    }
    Ok(if failed.is_empty() {
        Verdict::pass(format!("groups read correctly at {}", passed.join("; ")))
    } else {
        Verdict::fail(failed.join("; "))
    })
}

/// Logs a user in where `loc` puts the groups; `Ok(description)` when `/me` shows exactly
/// the mapped permissions, `Err(what went wrong)` otherwise.
async fn check(cx: &Ctx, loc: &Location<'_>, tag: &str) -> Result<Result<String, String>, Stop> {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let label = format!(
        "{}{}",
        String::from(loc.at.claim.clone()),
        if loc.at.single_as_string {
            " as a single string"
        } else {
            ""
        }
    );
    let u = cx.new_user(tag, &[&p.a]);
    loc.admin.put_user(&u).await?;
    let mut what = label.clone();
    if loc.at.claim.token == GroupsToken::AccessToken {
        // The ID token carries other groups at the same place: reading the wrong token shows.
        let decoy = nested(&loc.at.claim.pointer.0, json!([p.b]));
        loc.admin
            .patch_user(&u.username, json!({ "claims": decoy }))
            .await?;
        what.push_str(" (ignoring an ID-token decoy)");
        cx.step(format!(
            "created {} in group {:?}, and in the ID token at the same pointer a decoy [{:?}]",
            u.username, p.a, p.b
        ));
    } else {
        cx.step(format!(
            "created {} in group {:?} at {label}",
            u.username, p.a
        ));
    }
    let b = cx.browser_at(loc.sites.clone());
    b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    if !me.logged_in() {
        return Ok(Err(format!(
            "{label}: the login failed (/me answered {})",
            me.status
        )));
    }
    let want = mapped(rp, &[&p.a]);
    let got = shown(&me);
    Ok(if got == want {
        Ok(what)
    } else {
        Err(format!("{label}: {}", differs(&got, &want)))
    })
}

/// `{"a": {"b.c": {"d": value}}}` for the pointer `/a/b.c/d`.
fn nested(pointer: &str, value: Value) -> Value {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    segments.iter().rev().fold(value, |inner, seg| {
        let mut m = Map::new();
        m.insert(seg.clone(), inner);
        Value::Object(m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_follows_the_pointer_and_keeps_dots() {
        assert_eq!(
            nested("/resource_access/reinfer.io/roles", json!(["g"])),
            json!({ "resource_access": { "reinfer.io": { "roles": ["g"] } } })
        );
        assert_eq!(
            nested("/https:~1~1x~1roles", json!(1)),
            json!({ "https://x/roles": 1 })
        );
    }
}
