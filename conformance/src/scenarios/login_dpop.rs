//! `login.dpop*`: an RP that declares DPoP (RFC 9449) proves possession of one key at
//! every token request and every use of its bound access tokens, with a fresh proof each
//! time; and what it makes of a token response that is not DPoP-bound.

use mock_idp::faults::Fault;

use super::support::{control, login_ok, login_with_faults};
use crate::idp::JournalEntry;
use crate::scenario::Ctx;
use crate::verdict::{DOES_NOT_APPLY, Judged, Verdict};

fn not_declared() -> Verdict {
    Verdict::skip(format!(
        "{DOES_NOT_APPLY} the RP does not declare DPoP (rp.toml dpop = true)"
    ))
}

/// A proof the provider refused, and why (a reused `jti`, a wrong `htu`…). A request asked
/// for the provider's nonce (`use_dpop_nonce`) is not one: retrying with it is what a correct
/// RP does, and `login.dpop-nonce` judges that.
fn refused_proof(entries: &[JournalEntry]) -> Option<&JournalEntry> {
    entries.iter().find(|e| {
        e.error.as_deref() == Some("invalid_dpop_proof")
            || e.status == 401
                && e.error.as_deref() == Some("invalid_token")
                && e.error_description
                    .as_deref()
                    .is_some_and(|d| d.contains("DPoP"))
    })
}

/// The fail of a proof the provider refused, cited.
fn refused(cx: &Ctx, journal: &[JournalEntry]) -> Option<Verdict> {
    let e = refused_proof(journal)?;
    cx.cite(e);
    Some(Verdict::fail(format!(
        "the provider refused a DPoP proof of the RP at {} ({}): {}",
        e.endpoint,
        e.error.as_deref().unwrap_or(""),
        e.error_description.as_deref().unwrap_or("")
    )))
}

pub(super) async fn dpop(cx: &Ctx) -> Judged {
    if !cx.shared.rp.dpop {
        return Ok(not_declared());
    }
    let u = cx.user("u", &[]).await?;
    let login = login_ok(cx, &u).await;
    let journal = cx.journal(&u).await?;
    // A login that failed for a refused proof fails for it (a reused jti, a wrong htu…).
    if let Some(v) = refused(cx, &journal) {
        return Ok(v);
    }
    login?;
    let Some(exchange) = journal.iter().find(|e| {
        e.endpoint == "token"
            && e.grant_type.as_deref() == Some("authorization_code")
            && e.status == 200
    }) else {
        return Ok(Verdict::error(
            "the journal shows no code exchange of the login",
        ));
    };
    cx.cite(exchange);
    let Some(key) = exchange.dpop.clone() else {
        return Ok(Verdict::fail(
            "the RP declares DPoP, yet its code exchange carried no DPoP proof: its tokens are bearer tokens, usable by anyone who gets hold of them (RFC 9449 §5)",
        ));
    };
    // The background sync: a refresh must prove the same key, or its new access token is
    // a bearer token (a confidential client's refresh token is not bound, RFC 9449 §5).
    let refreshes = cx
        .await_refreshes(&u, exchange.seq, |r| !r.is_empty())
        .await?;
    let journal = cx.journal(&u).await?;
    if let Some(v) = refused(cx, &journal) {
        return Ok(v);
    }
    let Some(refresh) = refreshes.first() else {
        return Ok(Verdict::error(format!(
            "the RP did not refresh within the patience ({:.0} s): what it proves at a refresh cannot be judged (sync.* judges its refreshes)",
            cx.shared.patience().as_secs_f64()
        )));
    };
    cx.cite(refresh);
    match &refresh.dpop {
        None => {
            return Ok(Verdict::fail(
                "the RP refreshed without a DPoP proof: its new access token is a bearer token (RFC 9449 §5)",
            ));
        }
        Some(k) if *k != key => {
            return Ok(Verdict::warn(
                "the RP refreshed with a proof by another key than its code exchange's: the new tokens are bound to another key (one key per session keeps a stolen refresh token useless, RFC 9449 §5)",
            ));
        }
        Some(_) => {}
    }
    let used: Vec<&JournalEntry> = journal
        .iter()
        .filter(|e| matches!(e.endpoint.as_str(), "userinfo" | "groups" | "claims"))
        .collect();
    let at = if used.is_empty() {
        String::new()
    } else {
        format!(
            "; its bound access tokens were used at {} with proofs",
            used.iter()
                .map(|e| e.endpoint.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Ok(Verdict::pass(format!(
        "the code exchange and the refreshes carried fresh DPoP proofs by one key, each taken once{at}"
    )))
}

pub(super) async fn unbound(cx: &Ctx) -> Judged {
    if !cx.shared.rp.dpop {
        return Ok(not_declared());
    }
    let what =
        "a bearer token response (token_type Bearer, no cnf) to its DPoP-proved code exchange";
    let (u, _, login, me) = login_with_faults(cx, &[Fault::DpopUnbound], None).await?;
    if me.logged_in() {
        return Ok(Verdict::warn(format!(
            "the RP accepted {what} and logged {} in: a provider (or a path) that drops DPoP downgrades every token to a bearer token unnoticed; RFC 9449 §5 lets a client that asked for a bound token discard such a response",
            me.who()
        )));
    }
    // Refused, or only failed later? An RP that used the unbound token took it.
    let journal = cx.journal(&u).await?;
    if let Some(e) = journal
        .iter()
        .find(|e| matches!(e.endpoint.as_str(), "userinfo" | "groups" | "claims"))
    {
        cx.cite(e);
        return Ok(Verdict::warn(format!(
            "the RP took {what}: it called {} with the bearer token ({} {}); no session came of it only because that call failed",
            e.endpoint,
            e.status,
            e.error.as_deref().unwrap_or("")
        )));
    }
    control(cx, &u).await?;
    Ok(Verdict::pass(format!(
        "refused {what}: no session (callback {}), no use of the token; unbroken, the user logs in",
        super::support::status(login.callback_status)
    )))
}

pub(super) async fn nonce(cx: &Ctx) -> Judged {
    if !cx.shared.rp.dpop {
        return Ok(not_declared());
    }
    let u = cx.user("u", &[]).await?;
    // Every code exchange of this user's login wants the provider's nonce (not only the
    // first): a retry without it is refused again.
    let id = cx
        .shared
        .admin
        .arm(
            &Fault::DpopNonce,
            &u.username,
            None,
            Some("authorization_code"),
        )
        .await?;
    cx.step(format!(
        "armed fault dpop_nonce on {}'s code exchanges (until cleared)",
        u.username
    ));
    let b = cx.browser();
    let login = b.login(&u.username, None).await;
    cx.disarm(id).await?;
    let login = login?;
    let me = cx.me(&b).await?;
    let journal = cx.journal(&u).await?;
    let exchanges: Vec<&JournalEntry> = journal
        .iter()
        .filter(|e| e.endpoint == "token" && e.grant_type.as_deref() == Some("authorization_code"))
        .collect();
    for e in &exchanges {
        cx.cite(e);
    }
    let asked = exchanges
        .iter()
        .any(|e| e.error.as_deref() == Some("use_dpop_nonce"));
    if !asked {
        return Ok(Verdict::error(format!(
            "the provider never asked for a nonce: no code exchange of the login was refused use_dpop_nonce (callback {}, /me {})",
            super::support::status(login.callback_status),
            me.status
        )));
    }
    if me.logged_in() {
        return Ok(Verdict::pass(
            "refused use_dpop_nonce, the RP traded its code again with a proof carrying the provider's DPoP-Nonce, and logged the user in",
        ));
    }
    let retried = exchanges.len() > 1;
    Ok(Verdict::fail(if retried {
        "the provider asked for a nonce (use_dpop_nonce, with DPoP-Nonce) and the RP's retry carried none it took, so no one logs in at a provider that asks for nonces (RFC 9449 §8)".to_owned()
    } else {
        format!(
            "the provider asked for a nonce (use_dpop_nonce, with DPoP-Nonce) and the RP did not retry its code exchange with it: the login failed (callback {}), as every login would at a provider that asks for nonces (RFC 9449 §8)",
            super::support::status(login.callback_status)
        )
    }))
}
