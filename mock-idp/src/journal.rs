//! The journal: a typed record of every protocol request, bounded (a ring), with lints of
//! what the relying party did that it should not have.

use std::collections::VecDeque;

use serde::Serialize;

use crate::clock::UnixTime;
use crate::faults::Fault;
use crate::types::AuthMethod;

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// Authorization endpoint.
    Authorize,
    /// The login form.
    Login,
    /// Token endpoint.
    Token,
    /// Userinfo.
    Userinfo,
    /// Introspection.
    Introspect,
    /// Revocation.
    Revoke,
    /// RP-initiated logout.
    EndSession,
    /// Device authorization (RFC 8628 §3.1).
    DeviceAuthorization,
    /// A pushed authorization request (RFC 9126).
    Par,
    /// The page where a device's user enters its code and decides (RFC 8628 §3.3).
    Device,
    /// The groups of an overage (`_claim_sources`).
    Groups,
    /// The distributed claims source (OIDC Core §5.6.2): the user's groups as a JWT.
    Claims,
    /// The admin API (only refused calls are journaled: a wrong or missing admin token).
    Admin,
    /// A logout token the IdP POSTed to a client's `backchannel_logout_uri` (its `status`
    /// is the RP's answer; `error` says why it could not be delivered).
    BackchannelLogout,
    /// A fetch of the JWKS (no client, no user: a JWKS is public). What shows an RP fetched
    /// the keys of a rotation, rather than accepting a token it never verified.
    Jwks,
    /// Dynamic client registration (RFC 7591) and a registration's management (RFC 7592:
    /// `GET`, `PUT`, `DELETE`); `client_id` is the client registered or managed.
    Register,
}

/// Something the relying party did that a careful one would not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lint {
    /// `client_secret` in a URL's query (it ends up in logs and browser history).
    ClientSecretInUrl,
    /// An authorization request without `state` (CSRF, RFC 9700 §4.7).
    NoState,
    /// An OpenID authorization request without `nonce`.
    NoNonce,
    /// An authorization request without PKCE (RFC 9700 §2.1.1).
    NoPkce,
    /// PKCE with the `plain` method instead of `S256`.
    PkcePlain,
    /// Client authentication with a method the client did not declare.
    UndeclaredAuthMethod,
    /// A rotated (spent) refresh token presented again, accepted only because of the
    /// client's reuse grace period: the client did not keep the newest token.
    RefreshTokenReused,
    /// An admin API call with a wrong or missing admin token (its value is never kept).
    WrongAdminToken,
    /// A client assertion whose `aud` is not the issuer identifier alone: accepted, but
    /// the token endpoint URL or several audiences are what the audience-injection attack
    /// on JWT client authentication exploits (RFC 7523bis, "Updates to OAuth 2.0 JWT Client
    /// Authentication", asks clients for the issuer).
    ClientAssertionAudience,
}

/// One protocol request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Sequence number, from 1, never reused.
    pub seq: u64,
    /// When, by the tenant's clock.
    pub time: UnixTime,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The HTTP method.
    pub method: String,
    /// The client, as identified by the request.
    pub client_id: Option<String>,
    /// How the client authenticated (token, introspection, revocation).
    pub auth_method: Option<AuthMethod>,
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `redirect_uri` (at end_session, `post_logout_redirect_uri`).
    pub redirect_uri: Option<String>,
    /// Whether `state` was sent.
    pub state: bool,
    /// Whether `nonce` was sent.
    pub nonce: bool,
    /// Whether `id_token_hint` was sent (end_session; written only when it was).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub id_token_hint: bool,
    /// PKCE: the challenge method (`S256`, `plain`) or the presence of `code_verifier`.
    pub pkce: Option<String>,
    /// The user the request concerned, when known.
    pub user: Option<String>,
    /// A pushed authorization request's `request_uri` (RFC 9126): the one handed out at
    /// `par`, the one presented at `authorize` (written only where there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uri: Option<String>,
    /// At `authorize`: the request was a pushed one, so its `scope`, `redirect_uri`,
    /// `state`, `nonce`, `pkce` and lints are the pushed request's (written only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pushed: bool,
    /// At `authorize` and `par`: the request came as a signed request object (RFC 9101),
    /// checked; its `scope`, `state`, `nonce`, `pkce` and lints are the object's (written
    /// only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request_object: bool,
    /// The thumbprint of the key of the request's accepted DPoP proof (RFC 9449): at the
    /// token endpoint, the key the tokens were bound to; at a resource, the proof's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop: Option<String>,
    /// At `par`: the authorization request the client pushed, its credentials left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<std::collections::BTreeMap<String, String>>,
    /// At `register`: the client metadata the request sent (a registration or an update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// HTTP status of the answer.
    pub status: u16,
    /// The OAuth error code, when it failed.
    pub error: Option<String>,
    /// The error's `error_description`: why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// What the RP should not have done.
    pub lints: Vec<Lint>,
    /// Faults injected into this request's answer.
    pub faults: Vec<Fault>,
    /// Records the tenant evicted while serving it, its `limits.live_records` reached
    /// (the oldest of that kind went; a token or login that then fails is explained here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evicted: Vec<crate::grants::Record>,
}

impl Entry {
    /// An entry from the request's parameters (query and form together, as decoded pairs).
    pub(crate) fn new<Q, F>(endpoint: Endpoint, method: &str, query: &Q, params: &F) -> Entry
    where
        Q: AsRef<[(String, String)]> + ?Sized,
        F: AsRef<[(String, String)]> + ?Sized,
    {
        let (query, params) = (query.as_ref(), params.as_ref());
        let get = |name: &str| {
            params
                .iter()
                .chain(query)
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let mut lints = Vec::new();
        if query
            .iter()
            .any(|(k, v)| k == "client_secret" && !v.is_empty())
        {
            lints.push(Lint::ClientSecretInUrl);
        }
        let challenge = get("code_challenge")
            .map(|_| get("code_challenge_method").unwrap_or_else(|| "plain".to_owned()));
        if endpoint == Endpoint::Authorize {
            if get("state").is_none() {
                lints.push(Lint::NoState);
            }
            let openid = get("scope").is_some_and(|s| s.split(' ').any(|x| x == "openid"));
            if openid && get("nonce").is_none() {
                lints.push(Lint::NoNonce);
            }
            match challenge.as_deref() {
                None => lints.push(Lint::NoPkce),
                Some("plain") => lints.push(Lint::PkcePlain),
                Some(_) => {}
            }
        }
        let pkce = challenge.or_else(|| get("code_verifier").map(|_| "code_verifier".to_owned()));
        Entry {
            seq: 0,
            time: 0,
            endpoint,
            method: method.to_owned(),
            client_id: get("client_id"),
            auth_method: None,
            grant_type: get("grant_type"),
            scope: get("scope"),
            redirect_uri: match endpoint {
                Endpoint::EndSession => get("post_logout_redirect_uri"),
                _ => get("redirect_uri"),
            },
            state: get("state").is_some(),
            nonce: get("nonce").is_some(),
            id_token_hint: get("id_token_hint").is_some(),
            pkce,
            user: None,
            request_uri: None,
            pushed: false,
            request_object: false,
            dpop: None,
            parameters: None,
            metadata: None,
            status: 0,
            error: None,
            error_description: None,
            lints,
            faults: Vec::new(),
            evicted: Vec::new(),
        }
    }
}

/// The ring of entries.
#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    next: u64,
    entries: VecDeque<Entry>,
}

impl Journal {
    /// An empty journal keeping at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity: capacity.max(1),
            next: 1,
            entries: VecDeque::new(),
        }
    }

    /// Appends an entry, numbering it; the oldest is dropped when full.
    pub fn push(&mut self, mut entry: Entry) {
        entry.seq = self.next;
        self.next += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Entries with a sequence number above `since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<Entry> {
        self.entries
            .iter()
            .filter(|e| e.seq > since)
            .cloned()
            .collect()
    }

    /// Forgets every entry (numbering goes on).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Params;

    #[test]
    fn the_ring_is_bounded_and_numbered() {
        let mut j = Journal::new(3);
        for _ in 0..5 {
            j.push(Entry::new(
                Endpoint::Token,
                "POST",
                &Params::default(),
                &Params::default(),
            ));
        }
        let seqs: Vec<_> = j.since(0).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        assert_eq!(j.since(4).len(), 1);
        j.clear();
        assert!(j.since(0).is_empty());
    }

    #[test]
    fn authorize_lints() {
        let q = Params::parse(b"scope=openid&client_secret=x&code_challenge=abc").unwrap();
        let e = Entry::new(Endpoint::Authorize, "GET", &q, &Params::default());
        assert_eq!(
            e.lints,
            vec![
                Lint::ClientSecretInUrl,
                Lint::NoState,
                Lint::NoNonce,
                Lint::PkcePlain
            ]
        );
        let q = Params::parse(
            b"scope=openid&state=s&nonce=n&code_challenge=c&code_challenge_method=S256",
        )
        .unwrap();
        assert!(
            Entry::new(Endpoint::Authorize, "GET", &q, &Params::default())
                .lints
                .is_empty()
        );
    }
}
