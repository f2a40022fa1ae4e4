//! `permissions.groups-aggregated` and `permissions.groups-distributed`: the user's groups
//! sent by reference (OIDC Core §5.6.2), as Entra ID does past 200 groups and a provider
//! relaying another claims provider does. The RP must still log the user in; it earns a
//! pass by turning the groups it resolved into the same permissions as inline ones.

use mock_idp::faults::Fault;

use super::groups::{differs, mapped, pair, shown};
use super::support::{control, login_ok, status};
use crate::idp::{TestUser, kind};
use crate::scenario::Ctx;
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{Judged, Outcome, Stop, Verdict};

pub async fn aggregated(cx: &Ctx) -> Judged {
    by_reference(cx, Fault::GroupsAggregated).await
}

pub async fn distributed(cx: &Ctx) -> Judged {
    by_reference(cx, Fault::GroupsDistributed).await
}

/// A fresh user's first login with the groups by reference (a known user could keep the
/// permissions of an earlier login and pass without reading anything), then the control.
async fn by_reference(cx: &Ctx, fault: Fault) -> Judged {
    let rp = &cx.shared.rp;
    let claim = String::from(rp.groups_claim.clone());
    if rp.groups_claim.pointer.0.matches('/').count() != 1 {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP reads its groups at {claim}, a nested member: `_claim_names` names top-level claims only (OIDC Core §5.6.2), so no provider can send these groups by reference"
        )));
    }
    let distributed = fault == Fault::GroupsDistributed;
    let p = pair(rp)?;
    let u = cx.user("u", &[&p.a]).await?;
    let want = mapped(rp, &[&p.a]);
    let mark = cx.mark(&u).await?;
    // On every token the user gets until /me is read: a background refresh (which a
    // sync deadline of seconds makes likely) must not bring the groups inline.
    let id = cx.shared.admin.arm(&fault, &u.username, None, None).await?;
    cx.step(format!(
        "armed fault {} for every token {} gets until /me is read",
        kind(&fault),
        u.username
    ));
    let b = cx.browser();
    let login = b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    cx.disarm(id).await?;
    let journal = cx.journal(&u).await?;
    let since: Vec<_> = journal.iter().filter(|e| e.seq > mark).collect();
    if !since.iter().any(|e| e.faults.contains(&fault)) {
        return Ok(Verdict::error(format!(
            "fault {} never fired (the callback answered {}): the login did not reach the token endpoint",
            kind(&fault),
            status(login.callback_status)
        )));
    }
    // The evidence is the login's: its code exchange and the first fetch of the claims
    // source (background refreshes may add more, as many as the timing allows).
    if let Some(e) = since
        .iter()
        .find(|e| e.grant_type.as_deref() == Some("authorization_code") && !e.faults.is_empty())
    {
        cx.cite(e);
    }
    let fetched = since.iter().find(|e| e.endpoint == "claims").copied();
    if let Some(e) = fetched {
        cx.cite(e);
    }
    let how = if distributed {
        "at the IdP's claims source (`_claim_sources.src1.endpoint`)"
    } else {
        "in a signed JWT (`_claim_sources.src1.JWT`)"
    };
    if !me.logged_in() {
        control(cx, &u).await?;
        let refused = format!(
            "refused a login whose groups came by reference ({} named in `_claim_names`, the groups {how}): the callback answered {}, /me {}; unbroken, the user logs in",
            rp.groups_claim.pointer.0,
            status(login.callback_status),
            me.status
        );
        return Ok(match fetched {
            Some(e) if e.status != 200 => Verdict::error(format!(
                "{refused}. The IdP refused its fetch of the claims source ({}{}): cannot tell what the RP would do with the groups",
                e.status,
                e.error
                    .as_deref()
                    .map_or_else(String::new, |c| format!(" {c}"))
            )),
            Some(_) => Verdict::fail(format!(
                "{refused}, although it fetched the groups from the claims source (200): it could not use the JWT the source answered"
            )),
            None => Verdict::fail(format!(
                "{refused}. Claims an RP does not understand must be ignored (RFC 7519 §4), and a provider sends groups this way past a token's size (Entra ID past 200 groups)"
            )),
        });
    }
    let got = shown(&me);
    let verdict = if got == want {
        if distributed && fetched.is_none_or(|e| e.status != 200) {
            let why = match fetched {
                None => "the RP never fetched the claims source".to_owned(),
                Some(e) => format!(
                    "the IdP refused the RP's fetch of the claims source ({})",
                    e.status
                ),
            };
            Verdict::error(format!(
                "/me shows {want:?} although {why}: the groups came from elsewhere, so the reference was not tested"
            ))
        } else {
            let fetch = if distributed {
                " (it fetched them from the claims source with the access token)"
            } else {
                ""
            };
            Verdict::pass(format!(
                "the groups sent {how} became exactly {want:?}{fetch}"
            ))
        }
    } else {
        let source = match (distributed, fetched) {
            (false, _) => String::new(),
            (true, None) => "; it never called the claims source".to_owned(),
            (true, Some(e)) => format!(
                "; it called the claims source ({}{})",
                e.status,
                e.error
                    .as_deref()
                    .map_or_else(String::new, |c| format!(" {c}"))
            ),
        };
        Verdict::warn(format!(
            "logged the user in but did not resolve the groups sent {how}: {}{source}. OIDC Core §5.6.2 lets a provider send any claim this way; Entra ID sends a user's groups so past 200, and such a user gets no permissions here",
            differs(&got, &want)
        ))
    };
    if verdict.outcome == Outcome::Warn {
        inline_control(cx, &u, &want).await?;
    } else {
        control(cx, &u).await?;
    }
    Ok(verdict)
}

/// The control of a warn: the same user's next login, with the groups inline, must show
/// the permissions; else the RP's group mapping, not the reference, is what failed.
async fn inline_control(cx: &Ctx, u: &TestUser, want: &[String]) -> Result<(), Stop> {
    cx.step("control: the same user logs in again, the groups inline");
    let (_, _, me) = login_ok(cx, u).await?;
    let got = shown(&me);
    if got == want {
        return Ok(());
    }
    Err(Stop::with(Verdict::error(format!(
        "with the groups inline too, {} (permissions.initial judges this): cannot tell what the reference changed",
        differs(&got, want)
    ))))
}
