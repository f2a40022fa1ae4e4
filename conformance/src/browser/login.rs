//! A login as a browser makes it: the RP's login path, the IdP's form filled in, the callback (tampered with on request), the RP's answer.

use super::*;

impl Browser {
    /// Logs `username` in: the RP's login path, the IdP (its login form filled in), back to
    /// the RP's callback (after `tamper`), whose answer ends the login.
    pub async fn login(&self, username: &str, tamper: Option<Tamper>) -> Result<Login, String> {
        match tamper {
            Some(t) => self.login_as(username, Some(&t), true).await,
            None => self.login_as(username, None, true).await,
        }
    }

    /// An attacker's half of a login: `username` logs in at the IdP, and the authorization
    /// response meant for the RP's callback is kept, not delivered (`Login::response`).
    pub async fn intercept(&self, username: &str) -> Result<Login, String> {
        self.login_as(username, None, false).await
    }

    /// [`Browser::login`] with a closure changing the authorization response (one that
    /// carries what another login produced: an attacker's code).
    pub async fn login_changed(
        &self,
        username: &str,
        change: &(dyn Fn(&mut Url) + Send + Sync),
    ) -> Result<Login, String> {
        self.login_as(username, Some(change), true).await
    }

    pub(super) async fn login_as(
        &self,
        username: &str,
        tamper: Option<&(dyn Fn(&mut Url) + Send + Sync)>,
        deliver: bool,
    ) -> Result<Login, String> {
        let mut out = Login::default();
        let mut next = Url::parse(&self.url(&self.sites.login)).map_err(|e| e.to_string())?;
        let mut form: Option<Vec<(String, String)>> = None;
        // Providers put their endpoints anywhere on their host (PingFederate's
        // /as/authorization.oauth2): the IdP is its origin, the authorization request the
        // first request there that names a client.
        let idp_origin = Url::parse(&self.sites.idp)
            .map(|u| u.origin().ascii_serialization())
            .map_err(|e| e.to_string())?;
        let at_idp = |u: &Url| u.origin().ascii_serialization() == idp_origin;
        for _ in 0..12 {
            let is_callback = next.as_str().starts_with(&self.url(&self.sites.callback));
            if is_callback {
                match &mut form {
                    // response_mode=form_post: the response is the posted fields; the
                    // tamper works on them as it would on a query.
                    Some(fields) => {
                        let mut as_query = next.clone();
                        as_query
                            .query_pairs_mut()
                            .clear()
                            .extend_pairs(fields.iter());
                        if let Some(t) = tamper {
                            t(&mut as_query);
                        }
                        *fields = as_query.query_pairs().into_owned().collect();
                        out.response = fields.iter().cloned().collect();
                    }
                    None => {
                        if let Some(t) = tamper {
                            t(&mut next);
                        }
                        out.response = next.query_pairs().into_owned().collect();
                    }
                }
                if !deliver {
                    return Ok(out);
                }
            }
            if out.front_channel.is_empty()
                && at_idp(&next)
                && next.query_pairs().any(|(k, _)| k == "client_id")
            {
                out.front_channel = next.query_pairs().into_owned().collect();
            }
            let wired = self.wired(&next);
            let (method, sent) = match &form {
                Some(f) => (Method::POST, Body::Form(f)),
                None => (Method::GET, Body::Empty),
            };
            let res = self
                .http
                .send(method.clone(), &wired, None, sent)
                .await
                .map_err(|e| format!("{method} {}: {}", self.show(next.as_str()), failure(&e)))?;
            let status = res.status;
            let location = res.location().and_then(|l| next.join(l).ok());
            let sent = form.take().unwrap_or_default();
            self.record(method.as_str(), &next, &sent, status, location.as_ref());
            let body = read_capped(&res, &self.show(next.as_str()))?;
            if is_callback {
                out.callback_status = Some(status);
                out.callback_body = body.chars().take(500).collect();
                return Ok(out);
            }
            if (300..400).contains(&status) {
                next = location.ok_or_else(|| format!("a {status} without Location"))?;
                continue;
            }
            if status == 200
                && at_idp(&next)
                && let Some((action, fields)) = login_form(&body)
            {
                next = next.join(&action).map_err(|e| e.to_string())?;
                if next.as_str().starts_with(&self.url(&self.sites.callback)) {
                    // A form_post response (OAuth 2.0 Form Post Response Mode): the page
                    // submits itself to the RP; the browser posts its fields, as a browser
                    // running the page's script would.
                    form = Some(fields);
                    continue;
                }
                let mut f = fields;
                f.push(("username".into(), username.into()));
                f.push(("action".into(), "login".into()));
                form = Some(f);
                continue;
            }
            return Ok(out);
        }
        Err("more than 12 hops without reaching the RP's callback".into())
    }
}
