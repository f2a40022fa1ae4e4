//! The admin API as the runner calls it: tenants, users, groups, faults, the clock, keys, the journal.

use super::*;
use crate::wire::Method;

/// How long the runner waits for an admin call.
const ADMIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// The most of an admin answer read (a tenant's journal is the largest).
const ADMIN_CAP: usize = 256 << 20;

impl Admin {
    /// The admin API under this issuer (over TLS, trusting the system's roots).
    pub fn new(issuer: &str, token: Option<String>) -> Admin {
        Admin::trusting(issuer, token, &crate::wire::Trust::system())
    }

    /// The admin API under this issuer, trusting `trust` over TLS (an HTTPS IdP's CA).
    pub fn trusting(issuer: &str, token: Option<String>, trust: &crate::wire::Trust) -> Admin {
        Admin {
            http: crate::wire::Http::new(trust, ADMIN_PATIENCE, ADMIN_CAP, None),
            base: format!("{}/admin", issuer.trim_end_matches('/')),
            token,
        }
    }

    /// One call: its answer's status and body, or why there was none.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<crate::wire::Answer, IdpError> {
        let body = body.map_or(crate::wire::Body::Empty, crate::wire::Body::Json);
        self.http
            .send(method.clone(), url, self.token.as_deref(), body)
            .await
            .map_err(|e| {
                IdpError(match e {
                    crate::wire::Failure::Timeout(d) => {
                        format!("{method} {url}: no answer within {} s", d.as_secs())
                    }
                    crate::wire::Failure::Other(why) if why.contains("certificate") => format!(
                        "{method} {url}: {why} (the runner trusts the system's roots and the IdP's CA file: give it with --idp-ca)"
                    ),
                    crate::wire::Failure::Other(why) => format!("{method} {url}: {why}"),
                })
            })
    }

    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, IdpError> {
        let url = format!("{}{path}", self.base);
        let res = self.send(method.clone(), &url, body.as_ref()).await?;
        let text = res
            .text()
            .map_err(|e| IdpError(format!("{method} {url}: {e}")))?;
        if !(200..300).contains(&res.status) {
            return Err(IdpError(format!("{method} {url}: {} {text}", res.status)));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates or replaces a user.
    pub async fn put_user(&self, u: &TestUser) -> Result<(), IdpError> {
        let body = serde_json::to_value(u).map_err(|e| IdpError(e.to_string()))?;
        self.call(Method::PUT, &format!("/users/{}", u.username), Some(body))
            .await
            .map(drop)
    }

    /// Changes a user (`{"email": …, "groups": […], "disabled": true, …}`).
    pub async fn patch_user(&self, username: &str, patch: Value) -> Result<(), IdpError> {
        self.call(Method::PATCH, &format!("/users/{username}"), Some(patch))
            .await
            .map(drop)
    }

    /// Deletes a user.
    pub async fn delete_user(&self, username: &str) -> Result<(), IdpError> {
        self.call(Method::DELETE, &format!("/users/{username}"), None)
            .await
            .map(drop)
    }

    /// Ends every session of a user and revokes every grant (and the tokens with them).
    pub async fn revoke(&self, username: &str) -> Result<(), IdpError> {
        self.call(Method::POST, &format!("/users/{username}/revoke"), None)
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
        let v = self.call(Method::POST, "/faults", Some(body)).await?;
        v["id"]
            .as_u64()
            .ok_or_else(|| IdpError(format!("arming a fault answered {v}")))
    }

    /// Disarms a fault; whether it was still armed (a fault armed for a number of times
    /// is disarmed by the IdP once it has fired that often, so `false` means it fired).
    pub async fn clear(&self, id: u64) -> Result<bool, IdpError> {
        let url = format!("{}/faults/{id}", self.base);
        let res = self.send(Method::DELETE, &url, None).await?;
        match res.status {
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
            Method::POST,
            "/keys/rotate",
            Some(json!({ "grace": grace })),
        )
        .await
    }

    /// Moves the tenant's clock (negative: back).
    pub async fn advance_clock(&self, seconds: i64) -> Result<(), IdpError> {
        self.call(Method::POST, "/clock", Some(json!({ "advance": seconds })))
            .await
            .map(drop)
    }

    /// The journal's entries about this user.
    pub async fn journal(&self, user: &str) -> Result<Vec<JournalEntry>, IdpError> {
        let v = self
            .call(Method::GET, &format!("/journal?user={user}"), None)
            .await?;
        serde_json::from_value(v).map_err(|e| IdpError(format!("the journal: {e}")))
    }

    /// The JWKS the tenant publishes now, read through the admin API (not an RP's fetch of
    /// it, which the journal records).
    pub async fn jwks(&self) -> Result<Value, IdpError> {
        self.call(Method::GET, "/keys", None).await
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
            .call(Method::GET, &format!("/journal?{query}"), None)
            .await?;
        serde_json::from_value(v).map_err(|e| IdpError(format!("the journal: {e}")))
    }

    /// The journal's entries after sequence number `since`, whoever they concern.
    pub async fn journal_since(&self, since: u64) -> Result<Vec<JournalEntry>, IdpError> {
        let v = self
            .call(Method::GET, &format!("/journal?since={since}"), None)
            .await?;
        serde_json::from_value(v).map_err(|e| IdpError(format!("the journal: {e}")))
    }
}
