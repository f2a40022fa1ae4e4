//! A lane's dealings with the IdP besides its actions: deletions, logout tokens on and
//! off, outages ended when due (also inside a wait), and the journal read at the end.

use super::*;

impl LaneRun {
    pub(super) async fn delete(
        &mut self,
        s: Option<usize>,
        t0: f64,
        logout_token: bool,
    ) -> Result<(), Broken> {
        let username = self.person().username.clone();
        self.logout_tokens(&username, logout_token).await?;
        self.shared
            .admin
            .delete_user(&username)
            .await
            .map_err(|e| e.0)?;
        self.deleted = true;
        let what = What::Deleted {
            identity: self.ident(),
            logout_token: self.sends_logout_tokens(logout_token),
        };
        self.record(s, t0, what);
        Ok(())
    }

    /// Whether the IdP sends logout tokens for this action.
    pub(super) fn sends_logout_tokens(&self, wanted: bool) -> bool {
        wanted && self.shared.rp.paths.backchannel_logout.is_some()
    }

    /// Has the IdP send logout tokens about `username` from now on, or not.
    pub(super) async fn logout_tokens(&mut self, username: &str, send: bool) -> Result<(), Broken> {
        if self.shared.rp.paths.backchannel_logout.is_none() {
            return Ok(());
        }
        match (send, self.no_logout_token.get(username).copied()) {
            (true, Some(id)) => {
                self.shared.admin.clear(id).await.map_err(|e| e.0)?;
                self.no_logout_token.remove(username);
            }
            (false, None) => {
                let id = self
                    .shared
                    .admin
                    .arm(&Fault::LogoutTokenNotSent, username, None, None)
                    .await
                    .map_err(|e| e.0)?;
                self.no_logout_token.insert(username.to_owned(), id);
            }
            _ => {}
        }
        Ok(())
    }

    /// Waits, ending the outage when it is due.
    pub(super) async fn idle(&mut self, secs: f64) -> Result<(), Broken> {
        let until = Instant::now() + Duration::from_secs_f64(secs.max(0.0));
        loop {
            let next = self.outage.map_or(until, |(_, end, _)| end.min(until));
            tokio::time::sleep_until(next.into()).await;
            self.end_outage_if_due().await?;
            if Instant::now() >= until {
                return Ok(());
            }
        }
    }

    pub(super) async fn end_outage_if_due(&mut self) -> Result<(), Broken> {
        if self.outage.is_some_and(|(_, end, _)| Instant::now() >= end) {
            self.end_outage().await?;
        }
        Ok(())
    }

    pub(super) async fn end_outage(&mut self) -> Result<(), Broken> {
        if let Some((id, _, hang_s)) = self.outage.take() {
            let t0 = self.log.now();
            self.shared.admin.clear(id).await.map_err(|e| e.0)?;
            let identity = self.ident();
            self.record(
                None,
                t0,
                What::OutageOff {
                    identity,
                    tail_s: hang_s,
                },
            );
        }
        Ok(())
    }

    /// Each identity's refreshes, as the IdP's journal has them.
    pub(super) async fn journals(&self, step: usize) {
        for (k, p) in self.people.iter().enumerate() {
            let t0 = self.log.now();
            let Ok(lines) = self.shared.admin.journal(&p.username).await else {
                continue;
            };
            let refreshes: Vec<String> = lines
                .iter()
                .filter(|e| e.is_refresh())
                .map(|e| e.line())
                .collect();
            let reused = lines
                .iter()
                .filter(|e| e.reused_spent_token())
                .map(|e| e.line())
                .collect();
            let what = What::Journal {
                identity: self.lane * PER_LANE + k,
                refreshes,
                reused,
            };
            self.record(Some(step), t0, what);
        }
    }
}
