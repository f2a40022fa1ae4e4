//! `idtoken.bad-signature-es256` and `-ps256`: the RP is started once more against a
//! tenant that signs with that algorithm alone (its only key, as discovery says), and an
//! ID token whose signature does not verify must open no session (OIDF
//! oidcc-client-test-invalid-sig-es256). A valid one is sent too: an RP that takes the
//! algorithm verifies it; one that takes none (a client registered for RS256, the default
//! `id_token_signed_response_alg`) refuses every such token, which is no weakness. The
//! run's own tenant keeps its single RS256 key (`idtoken.kid-absent-single-key` needs it).
//! Launch mode only: the runner starts the RP.

use mock_idp::SigningAlg;
use mock_idp::faults::Fault;

use crate::launch::LaunchError;
use crate::scenario::Ctx;
use crate::stage::{TenantShape, Up};
use crate::verdict::{Judged, MeReading, Stop, Verdict};

pub async fn bad_signature_es256(cx: &Ctx) -> Judged {
    bad_signature(cx, SigningAlg::ES256).await
}

pub async fn bad_signature_ps256(cx: &Ctx) -> Judged {
    bad_signature(cx, SigningAlg::PS256).await
}

async fn bad_signature(cx: &Ctx, alg: SigningAlg) -> Judged {
    let shape = TenantShape {
        signing_alg: Some(alg),
        ..Default::default()
    };
    let needs = format!(
        "the RP runs against the run's tenant, which signs with RS256; judging a signature made with {alg} needs it started against a tenant that signs with {alg}"
    );
    let suffix = alg.as_str().to_lowercase();
    let up = match super::restarted::start(cx, &suffix, shape, &needs).await {
        Err(skip) => return Ok(skip),
        Ok(Ok(up)) => up,
        Ok(Err(LaunchError::Exited(log))) => {
            return Ok(Verdict::error(format!(
                "the RP did not start against a provider that signs with {alg}, so its checks cannot be judged: {log}"
            )));
        }
        Ok(Err(LaunchError::NotReady(m))) => {
            return Ok(Verdict::error(format!(
                "against a provider that signs with {alg} the RP was not ready within its startup timeout: {m}"
            )));
        }
        Ok(Err(LaunchError::Setup(m))) => return Err(Stop::Harness(m)),
    };
    cx.step(format!(
        "started the RP against {}, which signs with {alg} alone",
        up.issuer
    ));
    let judged = judge(cx, &up, alg).await;
    if let Some(rp) = up.running {
        rp.stop().await;
    }
    judged
}

/// A login of a new user at the RP started against the tenant of one algorithm, with `faults` armed
/// once (each must fire); what `/me` then shows.
async fn login(cx: &Ctx, up: &Up, tag: &str, faults: &[Fault]) -> Result<MeReading, Stop> {
    let u = cx.new_user(tag, &[]);
    up.admin.put_user(&u).await?;
    let mut armed = Vec::new();
    for f in faults {
        armed.push(up.admin.arm(f, &u.username, Some(1), None).await?);
    }
    let b = super::restarted::browser(cx, up);
    b.login(&u.username, None).await?;
    for id in armed {
        if up.admin.clear(id).await? {
            return Err(Stop::with(Verdict::error(
                "the fault never fired: the login did not reach the ID token",
            )));
        }
    }
    for e in up.admin.journal(&u.username).await? {
        if !e.faults.is_empty() {
            cx.cite(&e);
        }
    }
    let me = cx.me(&b).await?;
    if me.logged_in() && !me.is_user(&u) {
        return Err(Stop::with(Verdict::fail(format!(
            "a login as {} reached {}",
            u.username,
            me.who()
        ))));
    }
    Ok(me)
}

async fn judge(cx: &Ctx, up: &Up, alg: SigningAlg) -> Judged {
    cx.step(format!(
        "an ID token signed with {alg} whose signature does not verify"
    ));
    let forged = login(cx, up, "forged", &[Fault::IdTokenBadSignature]).await?;
    if forged.logged_in() {
        return Ok(super::support::unverified_signature(
            &up.issuer,
            &format!("an ID token signed with {alg} whose signature does not verify"),
            &forged,
        ));
    }
    cx.step(format!("control: a valid ID token signed with {alg}"));
    let valid = login(cx, up, "valid", &[]).await?;
    if !valid.logged_in() {
        // It took no ES256 token at all: its own control, the same RP started the same way
        // against an RS256 tenant, must log a user in.
        super::restarted::control(cx, &alg.as_str().to_lowercase()).await?;
    }
    Ok(if valid.logged_in() {
        Verdict::pass(format!(
            "refused an ID token signed with {alg} whose signature does not verify (/me {}); a valid one logs the user in",
            forged.status
        ))
    } else {
        Verdict::pass(format!(
            "refused an ID token signed with {alg} whose signature does not verify (/me {}); it refuses valid {alg} ID tokens too (/me {}), while started the same way against an RS256 provider it logs users in: it takes no {alg}, as a client registered for RS256 (the default id_token_signed_response_alg) should",
            forged.status, valid.status
        ))
    })
}
