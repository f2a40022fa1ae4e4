//! Signing out as a browser does: the RP's own logout through the IdP's end_session and back, or at the IdP directly.

use super::*;

impl Browser {
    /// The RP's own logout (`path`), redirects followed as a browser does: to the IdP's
    /// `end_session` (the endpoint at `end_session` on the IdP's origin), through its
    /// signed-out page's link back when it shows one, and back to the RP (that last URL
    /// after `tamper`, as an attacker's link would bring the browser back).
    pub async fn rp_logout(
        &self,
        path: &str,
        end_session: &Url,
        tamper: Option<Tamper>,
    ) -> Result<RpLogout, String> {
        let mut out = RpLogout::default();
        let mut next = Url::parse(&self.url(path)).map_err(|e| e.to_string())?;
        let rp = origin_of(&self.sites.rp);
        let at_rp = |u: &Url| u.origin().ascii_serialization() == rp;
        for hop in 0..10 {
            let is_end_session =
                next.origin() == end_session.origin() && next.path() == end_session.path();
            if is_end_session && out.end_session.is_none() {
                out.end_session = Some(next.query_pairs().into_owned().collect());
            }
            let back = hop > 0 && out.end_session.is_some() && at_rp(&next);
            if back && let Some(t) = tamper {
                t(&mut next);
            }
            let page = self.get_url(next.clone()).await?;
            if hop == 0 {
                out.first_status = page.status;
            }
            if is_end_session {
                out.idp_status = Some(page.status);
                if page.status >= 400 {
                    out.idp_error = error_description(&page.body);
                }
            }
            if back {
                out.returned = Some((next, page.status));
                return Ok(out);
            }
            let link = page.location.clone().or_else(|| {
                // The signed-out page (front-channel iframes) links back to the RP; a
                // browser with scripts follows it once the frames have loaded.
                (is_end_session && page.status == 200)
                    .then(|| continue_link(&page.body))
                    .flatten()
                    .and_then(|l| next.join(&l).ok())
            });
            match link {
                Some(l) => next = l,
                None => return Ok(out),
            }
        }
        Err("more than 10 hops after the RP's logout".into())
    }

    /// Signs out at the IdP, as a user does on the IdP's own page or through another
    /// application's RP-initiated logout: GET the `end_session_endpoint` its discovery
    /// names, with this browser's IdP cookie; the IdP's page.
    pub async fn end_idp_session(&self) -> Result<Page, String> {
        let url = self.end_session_url().await?;
        self.get_url(url).await
    }

    /// The IdP's `end_session_endpoint`, from its discovery document.
    pub async fn end_session_url(&self) -> Result<Url, String> {
        let discovery = format!("{}/.well-known/openid-configuration", self.sites.idp);
        let res = self
            .http
            .send(
                Method::GET,
                &rewire(&discovery, self.sites.wire.as_ref()),
                None,
                Body::Empty,
            )
            .await
            .map_err(|e| format!("GET {}: {}", self.show(&discovery), failure(&e)))?;
        let body = read_capped(&res, &self.show(&discovery))?;
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| format!("GET {}: not JSON: {e}", self.show(&discovery)))?;
        let end = v["end_session_endpoint"]
            .as_str()
            .ok_or("the IdP's discovery names no end_session_endpoint")?;
        Url::parse(end).map_err(|e| format!("end_session_endpoint {end:?}: {e}"))
    }
}
