//! What a scenario does and sees at the IdP: the user's journal, refreshes and logout deliveries awaited, faults armed and disarmed.

use super::*;
use crate::browser::Login;
use crate::verdict::Verdict;

impl Ctx {
    /// The journal's newest sequence number for this user (0: none): a mark to tell
    /// what the RP did after a change.
    pub async fn mark(&self, u: &TestUser) -> Result<u64, Stop> {
        Ok(self.journal(u).await?.last().map_or(0, |e| e.seq))
    }

    /// The refresh-token grants for this user after `mark`.
    pub async fn refreshes(&self, u: &TestUser, mark: u64) -> Result<Vec<JournalEntry>, Stop> {
        Ok(self
            .journal(u)
            .await?
            .into_iter()
            .filter(|e| e.seq > mark && e.is_refresh())
            .collect())
    }

    /// The user's IdP calls since `mark` that could have told the RP that the user's access
    /// ended ([`JournalEntry::tells_of_end`]): a refused refresh, userinfo answering 401, an
    /// introspection.
    pub async fn told_of_end(&self, u: &TestUser, mark: u64) -> Result<Vec<JournalEntry>, Stop> {
        Ok(self
            .journal(u)
            .await?
            .into_iter()
            .filter(|e| e.seq > mark && e.tells_of_end())
            .collect())
    }

    /// Polls the journal with backoff until the user's refresh-token grants since `mark`
    /// satisfy `enough`, or [`Shared::patience`] runs out; those grants.
    pub async fn await_refreshes(
        &self,
        u: &TestUser,
        mark: u64,
        enough: impl Fn(&[JournalEntry]) -> bool,
    ) -> Result<Vec<JournalEntry>, Stop> {
        self.await_refreshes_within(u, mark, enough, self.shared.patience())
            .await
    }

    /// [`Ctx::await_refreshes`] with another limit (after a hang: the RP's own timeout
    /// plus the patience).
    pub async fn await_refreshes_within(
        &self,
        u: &TestUser,
        mark: u64,
        enough: impl Fn(&[JournalEntry]) -> bool,
        patience: Duration,
    ) -> Result<Vec<JournalEntry>, Stop> {
        let start = Instant::now();
        let mut wait = Duration::from_millis(20);
        loop {
            let got = self.refreshes(u, mark).await?;
            let elapsed = start.elapsed();
            if enough(&got) || elapsed >= patience {
                return Ok(got);
            }
            tokio::time::sleep(wait.min(patience.saturating_sub(elapsed))).await;
            wait = (wait * 3 / 2).min(Duration::from_millis(250));
        }
    }

    /// Waits for the RP to act on a change made after `mark`: polls `/me` with backoff
    /// until `done` holds, the session ends, or [`Shared::patience`] runs out. It stops
    /// sooner only once the sync deadline has passed since the change *and* the RP has used
    /// the user's refresh token twice since it: the RP promises every change within the
    /// deadline, so what `/me` shows then is what it made of the change (a refresh count
    /// alone would judge an RP that refreshes in one job and applies claims in a slower one
    /// before it had its deadline). Never sleeps longer than the backoff.
    pub async fn await_sync(
        &self,
        b: &Browser,
        u: &TestUser,
        mark: u64,
        done: impl Fn(&MeReading) -> bool,
    ) -> Result<Awaited, Stop> {
        let start = Instant::now();
        let patience = self.shared.patience();
        let mut wait = Duration::from_millis(20);
        loop {
            let r = self.peek(b).await?;
            let elapsed = start.elapsed();
            if done(&r) {
                let refreshes = self.refreshes(u, mark).await?;
                return Ok(Awaited {
                    me: self.me(b).await?,
                    latency: Some(elapsed),
                    refreshes,
                });
            }
            let refreshes = self.refreshes(u, mark).await?;
            let synced = refreshes.len() >= 2 && elapsed >= self.shared.deadline();
            if !r.logged_in() || synced || elapsed >= patience {
                // Read once more: the RP may have applied the second refresh meanwhile.
                let me = self.me(b).await?;
                let latency = done(&me).then(|| start.elapsed());
                return Ok(Awaited {
                    me,
                    latency,
                    refreshes,
                });
            }
            tokio::time::sleep(wait.min(patience.saturating_sub(elapsed))).await;
            wait = (wait * 3 / 2).min(Duration::from_millis(250));
        }
    }
    /// Arms a fault once for this user's next login; its id. A fault in the tokens or at
    /// the token endpoint is scoped to the authorization_code grant, so that a background
    /// refresh of one of the user's sessions cannot take it.
    pub async fn arm(&self, fault: Fault, user: &TestUser) -> Result<u64, Stop> {
        let grant = matches!(
            fault.point(),
            FaultPoint::IdToken | FaultPoint::TokenEndpoint | FaultPoint::Groups
        )
        .then_some("authorization_code");
        let id = self
            .shared
            .admin
            .arm(&fault, &user.username, Some(1), grant)
            .await?;
        self.step(format!(
            "armed fault {} once for {}",
            kind(&fault),
            user.username
        ));
        Ok(id)
    }

    /// Arms a fault on this user's refresh-token grants (`times`, or until cleared): the
    /// IdP fails background sync while logins work; its id.
    pub async fn arm_refresh(
        &self,
        fault: Fault,
        user: &TestUser,
        times: Option<u32>,
    ) -> Result<u64, Stop> {
        let id = self
            .shared
            .admin
            .arm(&fault, &user.username, times, Some("refresh_token"))
            .await?;
        let how_often = times.map_or_else(|| "until cleared".to_owned(), |n| format!("{n}×"));
        self.step(format!(
            "armed fault {} on {}'s refresh-token grants ({how_often})",
            kind(&fault),
            user.username
        ));
        Ok(id)
    }

    /// When the RP declares back-channel logout, the IdP sends it no logout token about
    /// `user` (as an IdP without back-channel logout does): what ends the user's access in
    /// this scenario is the refused refresh alone (`logout.*` judges the logout token).
    pub async fn refresh_path_only(&self, user: &TestUser) -> Result<(), Stop> {
        self.no_logout_token(
            user,
            "(as an IdP without back-channel logout): the refused refresh alone must end access",
        )
        .await
    }

    /// When the RP declares back-channel logout, the IdP sends it no logout token about
    /// `user`, and the step says why (`because`).
    pub async fn no_logout_token(&self, user: &TestUser, because: &str) -> Result<(), Stop> {
        if self.shared.rp.paths.backchannel_logout.is_none() {
            return Ok(());
        }
        self.shared
            .admin
            .arm(&Fault::LogoutTokenNotSent, &user.username, None, None)
            .await?;
        self.step(format!(
            "the IdP sends no logout token about {} {because}",
            user.username
        ));
        Ok(())
    }

    /// Disarms a fault; whether it was still armed (a fault armed once that is gone has
    /// fired).
    pub async fn disarm(&self, id: u64) -> Result<bool, Stop> {
        Ok(self.shared.admin.clear(id).await?)
    }

    /// The journal's entries about this user.
    pub async fn journal(&self, user: &TestUser) -> Result<Vec<JournalEntry>, Stop> {
        Ok(self.shared.admin.journal(&user.username).await?)
    }

    /// The authorization request a login made, as the provider took it: the front channel's
    /// parameters, or, when the browser carried a `request_uri`, the request the RP pushed
    /// (RFC 9126) as the journal recorded it, with the push.
    pub async fn authorization_request(&self, login: &Login) -> Result<AuthorizationRequest, Stop> {
        let Some(uri) = login.front_channel.get("request_uri") else {
            // A signed request object (RFC 9101): its parameters are the request (the
            // provider checked its signature; the suite reads it).
            let params = match login.front_channel.get("request") {
                Some(jwt) => request_object_params(jwt, &login.front_channel)?,
                None => login.front_channel.clone(),
            };
            return Ok(AuthorizationRequest {
                params,
                push: None,
                by_reference: None,
            });
        };
        let entries = self.shared.admin.journal_of_request(uri).await?;
        let push = entries
            .iter()
            .find(|e| e.endpoint == "par" && e.status == 201);
        // A request object the provider fetched from the request_uri (RFC 9101 §5.2).
        let fetched = entries
            .iter()
            .find(|e| e.endpoint == "authorize" && e.request_object && !e.pushed);
        // Pushed as a signed object too, the push's parameters are the object's.
        match (push, fetched) {
            (Some(p), _) => Ok(AuthorizationRequest {
                params: p.parameters.clone().unwrap_or_default(),
                push: Some(p.clone()),
                by_reference: None,
            }),
            (None, Some(f)) => Ok(AuthorizationRequest {
                params: f.parameters.clone().unwrap_or_default(),
                push: None,
                by_reference: Some(f.clone()),
            }),
            (None, None) => Err(Stop::with(Verdict::error(format!(
                "the browser carried request_uri {uri:?} to the authorization endpoint, and the provider's journal has neither a push that handed it out nor a request object fetched from it: the request it stands for cannot be read"
            )))),
        }
    }
}

/// The parameters a request object carries (its JWT claims left out), with the front
/// channel's `client_id`.
fn request_object_params(
    jwt: &str,
    front: &std::collections::BTreeMap<String, String>,
) -> Result<std::collections::BTreeMap<String, String>, Stop> {
    let claims: serde_json::Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(jwt).map_err(|e| {
            Stop::with(Verdict::error(format!(
                "the browser carried a request object whose claims cannot be read: {e}"
            )))
        })?;
    let mut params: std::collections::BTreeMap<String, String> = claims
        .into_iter()
        .filter(|(k, _)| !["iss", "aud", "exp", "iat", "nbf", "jti"].contains(&k.as_str()))
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect();
    if let Some(id) = front.get("client_id") {
        params
            .entry("client_id".into())
            .or_insert_with(|| id.clone());
    }
    Ok(params)
}
