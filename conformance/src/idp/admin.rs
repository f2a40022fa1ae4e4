//! The admin API as the runner calls it: tenants, users, groups, faults, the clock, keys, the journal.

use super::*;

impl Admin {
    /// The admin API under this issuer.
    pub fn new(issuer: &str, token: Option<String>) -> Admin {
        Admin {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            base: format!("{}/admin", issuer.trim_end_matches('/')),
            token,
        }
    }

    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, IdpError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req
            .send()
            .await
            .map_err(|e| IdpError(format!("{method} {url}: {e}")))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(IdpError(format!("{method} {url}: {status} {text}")));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates or replaces a user.
    pub async fn put_user(&self, u: &TestUser) -> Result<(), IdpError> {
        let body = serde_json::to_value(u).map_err(|e| IdpError(e.to_string()))?;
        self.call(
            reqwest::Method::PUT,
            &format!("/users/{}", u.username),
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Changes a user (`{"email": …, "groups": […], "disabled": true, …}`).
    pub async fn patch_user(&self, username: &str, patch: Value) -> Result<(), IdpError> {
        self.call(
            reqwest::Method::PATCH,
            &format!("/users/{username}"),
            Some(patch),
        )
        .await
        .map(drop)
    }

    /// Deletes a user.
    pub async fn delete_user(&self, username: &str) -> Result<(), IdpError> {
        self.call(reqwest::Method::DELETE, &format!("/users/{username}"), None)
            .await
            .map(drop)
    }

    /// Ends every session of a user and revokes every grant (and the tokens with them).
    pub async fn revoke(&self, username: &str) -> Result<(), IdpError> {
        self.call(
            reqwest::Method::POST,
            &format!("/users/{username}/revoke"),
            None,
        )
        .await
        .map(drop)
    }

    /// Arms a fault for one user (`times` responses, or until cleared; only for token
    /// requests of `grant_type` when given); its id.
    pub async fn arm(
        &self,
        fault: &Fault,
        user: &str,
        times: Option<u32>,
        grant_type: Option<&str>,
    ) -> Result<u64, IdpError> {
        let body =
            json!({ "fault": fault, "user": user, "times": times, "grant_type": grant_type });
        let v = self
            .call(reqwest::Method::POST, "/faults", Some(body))
            .await?;
        v["id"]
            .as_u64()
            .ok_or_else(|| IdpError(format!("arming a fault answered {v}")))
    }

    /// Disarms a fault; whether it was still armed (a fault armed for a number of times
    /// is disarmed by the IdP once it has fired that often, so `false` means it fired).
    pub async fn clear(&self, id: u64) -> Result<bool, IdpError> {
        let url = format!("{}/faults/{id}", self.base);
        let mut req = self.http.delete(&url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req
            .send()
            .await
            .map_err(|e| IdpError(format!("DELETE {url}: {e}")))?;
        match res.status().as_u16() {
            204 => Ok(true),
            404 => Ok(false),
            s => Err(IdpError(format!("DELETE {url}: {s}"))),
        }
    }

    /// Rotates the signing key; the old one stays published for `grace` seconds of the
    /// tenant's clock (the JWKS has both meanwhile, as during a real provider's rotation),
    /// or, with 0, is unpublished at once.
    pub async fn rotate_key(&self, grace: u64) -> Result<Value, IdpError> {
        self.call(
            reqwest::Method::POST,
            "/keys/rotate",
            Some(json!({ "grace": grace })),
        )
        .await
    }

    /// Moves the tenant's clock (negative: back).
    pub async fn advance_clock(&self, seconds: i64) -> Result<(), IdpError> {
        self.call(
            reqwest::Method::POST,
            "/clock",
            Some(json!({ "advance": seconds })),
        )
        .await
        .map(drop)
    }

    /// The journal's entries about this user.
    pub async fn journal(&self, user: &str) -> Result<Vec<JournalEntry>, IdpError> {
        let v = self
            .call(reqwest::Method::GET, &format!("/journal?user={user}"), None)
            .await?;
        serde_json::from_value(v).map_err(|e| IdpError(format!("the journal: {e}")))
    }

    /// The JWKS the tenant publishes now, read through the admin API (not an RP's fetch of
    /// it, which the journal records).
    pub async fn jwks(&self) -> Result<Value, IdpError> {
        self.call(reqwest::Method::GET, "/keys", None).await
    }

    /// The journal's entries of one pushed authorization request: its push, and the
    /// authorization requests that presented its `request_uri`.
    pub async fn journal_of_request(
        &self,
        request_uri: &str,
    ) -> Result<Vec<JournalEntry>, IdpError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("request_uri", request_uri)
            .finish();
        let v = self
            .call(reqwest::Method::GET, &format!("/journal?{query}"), None)
            .await?;
        serde_json::from_value(v).map_err(|e| IdpError(format!("the journal: {e}")))
    }

    /// The journal's entries after sequence number `since`, whoever they concern.
    pub async fn journal_since(&self, since: u64) -> Result<Vec<JournalEntry>, IdpError> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/journal?since={since}"),
                None,
            )
            .await?;
        serde_json::from_value(v).map_err(|e| IdpError(format!("the journal: {e}")))
    }
}
