//! Scoped fault injection: break a token or a response on purpose, for the next N
//! responses, one client, one user, or until cleared.

use serde::{Deserialize, Serialize};

/// Something to break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The ID token's signature does not verify.
    IdTokenBadSignature,
    /// `alg: none` and no signature.
    IdTokenAlgNone,
    /// HS256, keyed with the RSA public key (the algorithm-confusion attack).
    IdTokenHs256PublicKey,
    /// HS256, keyed with the client's secret, without `kid` (OIDC Core §10.1: what a
    /// client registered for `id_token_signed_response_alg = HS256` is sent).
    IdTokenHs256ClientSecret,
    /// A `kid` the JWKS does not have.
    IdTokenUnknownKid,
    /// No `kid` in the header.
    IdTokenNoKid,
    /// `iss` of another issuer.
    IdTokenWrongIss,
    /// Issued to another client: `aud` and `azp` both name it (what a token stolen from
    /// another client of the same provider carries).
    IdTokenWrongAud,
    /// Issued to another client, with `aud` naming it and no `azp`.
    IdTokenWrongAudNoAzp,
    /// `aud` also names an untrusted audience (and `azp` stays the client).
    IdTokenExtraAud,
    /// Expired an hour ago.
    IdTokenExpired,
    /// No `iat`.
    IdTokenNoIat,
    /// `iat` an hour in the future.
    IdTokenFutureIat,
    /// A `nonce` other than the request's.
    IdTokenNonceMismatch,
    /// An `at_hash` that is not the access token's (the hash of another token).
    IdTokenWrongAtHash,
    /// Another person's ID token: a different `sub`, with the `preferred_username`,
    /// `email` and `name` that go with it (on a refresh, OIDC Core §12.2 forbids it).
    IdTokenSubChanged,
    /// A claim removed from the ID token (`email`, `sub`, `preferred_username`…).
    RemoveClaim {
        /// The claim.
        claim: String,
    },
    /// The token response has no `refresh_token` (one is still recorded, as if lost).
    NoRefreshToken,
    /// A refresh is answered `invalid_grant` (the token itself stays good).
    RefreshInvalidGrant,
    /// The token response is a bearer token (`token_type` Bearer, no `cnf`) although the
    /// request carried a good DPoP proof: what a provider that ignores DPoP answers, and
    /// what a client that asked for a bound token must refuse (RFC 9449 §5).
    DpopUnbound,
    /// The token endpoint wants a DPoP nonce of this request: a proof without the
    /// server's current nonce is refused `use_dpop_nonce` with a `DPoP-Nonce` header, and
    /// one carrying it taken (RFC 9449 §8): what a provider that asks for nonces does, and
    /// what a client must retry.
    DpopNonce,
    /// The token endpoint answers this HTTP status (500, 503…) without processing.
    HttpStatus {
        /// The status.
        status: u16,
    },
    /// The token endpoint answers this much later.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// The token endpoint's success body is cut short: malformed JSON.
    MalformedJson,
    /// The authorization response's `state` is not the request's.
    StateAltered,
    /// The authorization response is `error=access_denied` instead of a code.
    AccessDenied,
    /// The userinfo response is another person's: another `sub` than the tokens', with the
    /// `preferred_username`, `email` and `name` that go with it (OIDC Core §5.3.2).
    UserinfoSubChanged,
    /// A claim removed from the userinfo response.
    UserinfoRemoveClaim {
        /// The claim.
        claim: String,
    },
    /// The user's groups as aggregated claims (OIDC Core §5.6.2): each top-level groups
    /// claim of the tokens minted is named in `_claim_names` and travels in
    /// `_claim_sources.src1.JWT`, a JWT the tenant signs.
    GroupsAggregated,
    /// The user's groups as distributed claims (OIDC Core §5.6.2): each top-level groups
    /// claim is named in `_claim_names`; `_claim_sources.src1.endpoint` is the tenant's
    /// claims source (`<issuer path>/claims`), which answers them as a signed JWT to the
    /// access token. In an ID token the source carries that access token too.
    GroupsDistributed,
    /// Back-channel logout: `alg: none` and no signature.
    LogoutTokenAlgNone,
    /// Back-channel logout: HS256 keyed with the RSA public key (algorithm confusion).
    LogoutTokenHs256PublicKey,
    /// Back-channel logout: the signature does not verify.
    LogoutTokenBadSignature,
    /// Back-channel logout: `iss` of another issuer.
    LogoutTokenWrongIss,
    /// Back-channel logout: `aud` names another client.
    LogoutTokenWrongAud,
    /// Back-channel logout: no `events` claim.
    LogoutTokenNoEvents,
    /// Back-channel logout: `events` holds another event than the back-channel logout one.
    LogoutTokenWrongEvent,
    /// Back-channel logout: a `nonce`, which a logout token must not have (§2.4).
    LogoutTokenNonce,
    /// Back-channel logout: no logout token is sent at all, as from an IdP without
    /// back-channel logout; the RP must learn of the end from its refused refresh.
    LogoutTokenNotSent,
}

/// Where a fault takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// While minting an ID token.
    IdToken,
    /// At the token endpoint, around the grant.
    TokenEndpoint,
    /// In the authorization response.
    Authorize,
    /// In the userinfo response.
    Userinfo,
    /// In a back-channel logout token.
    BackchannelLogout,
    /// Where a token response's tokens carry the user's groups.
    Groups,
}

impl Fault {
    /// Where this fault takes effect.
    pub fn point(&self) -> FaultPoint {
        match self {
            Fault::NoRefreshToken
            | Fault::RefreshInvalidGrant
            | Fault::DpopUnbound
            | Fault::DpopNonce
            | Fault::HttpStatus { .. }
            | Fault::Latency { .. }
            | Fault::MalformedJson => FaultPoint::TokenEndpoint,
            Fault::StateAltered | Fault::AccessDenied => FaultPoint::Authorize,
            Fault::UserinfoSubChanged | Fault::UserinfoRemoveClaim { .. } => FaultPoint::Userinfo,
            Fault::GroupsAggregated | Fault::GroupsDistributed => FaultPoint::Groups,
            Fault::LogoutTokenAlgNone
            | Fault::LogoutTokenHs256PublicKey
            | Fault::LogoutTokenBadSignature
            | Fault::LogoutTokenWrongIss
            | Fault::LogoutTokenWrongAud
            | Fault::LogoutTokenNoEvents
            | Fault::LogoutTokenWrongEvent
            | Fault::LogoutTokenNonce
            | Fault::LogoutTokenNotSent => FaultPoint::BackchannelLogout,
            _ => FaultPoint::IdToken,
        }
    }
}

/// Where a fault applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultScope {
    /// Only this many times (none: until cleared).
    #[serde(default)]
    pub times: Option<u32>,
    /// Only for this client.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Only for this user.
    #[serde(default)]
    pub user: Option<String>,
    /// Only for token requests (and the tokens they mint) of this grant type, e.g.
    /// `refresh_token`: an outage of background sync that leaves logins working.
    #[serde(default)]
    pub grant_type: Option<String>,
}

/// The request a fault may fire on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The client.
    pub client_id: &'a str,
    /// The user, when known.
    pub user: Option<&'a str>,
    /// The grant type (token requests only).
    pub grant_type: Option<&'a str>,
}

/// An armed fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Armed {
    /// Its id, to clear it alone.
    pub id: u64,
    /// What breaks.
    pub fault: Fault,
    /// Where.
    pub scope: FaultScope,
    /// How often it has fired.
    pub fired: u32,
}

/// The tenant's armed faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    armed: Vec<Armed>,
    next: u64,
}

impl Faults {
    /// Arms a fault; its id.
    pub fn arm(&mut self, fault: Fault, scope: FaultScope) -> u64 {
        self.next += 1;
        self.armed.push(Armed {
            id: self.next,
            fault,
            scope,
            fired: 0,
        });
        self.next
    }

    /// Clears one fault (`Some(id)`) or all; how many were cleared.
    pub fn clear(&mut self, id: Option<u64>) -> usize {
        let before = self.armed.len();
        self.armed.retain(|a| id.is_some_and(|id| a.id != id));
        before - self.armed.len()
    }

    /// The armed faults.
    pub fn list(&self) -> Vec<Armed> {
        self.armed.clone()
    }

    /// Fires the faults of this point whose scope matches the request, counting them
    /// down; exhausted ones are disarmed.
    pub fn fire(&mut self, t: Target<'_>, point: FaultPoint) -> Vec<Fault> {
        let mut fired = Vec::new();
        for a in &mut self.armed {
            let s = &a.scope;
            let applies = a.fault.point() == point
                && s.client_id.as_deref().is_none_or(|c| c == t.client_id)
                && s.user.as_deref().is_none_or(|u| Some(u) == t.user)
                && s.grant_type
                    .as_deref()
                    .is_none_or(|g| Some(g) == t.grant_type)
                && s.times.is_none_or(|n| a.fired < n);
            if applies {
                a.fired += 1;
                fired.push(a.fault.clone());
            }
        }
        self.armed
            .retain(|a| a.scope.times.is_none_or(|n| a.fired < n));
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_counts() {
        let mut f = Faults::default();
        f.arm(
            Fault::IdTokenNoIat,
            FaultScope {
                times: Some(2),
                ..Default::default()
            },
        );
        f.arm(
            Fault::IdTokenExpired,
            FaultScope {
                user: Some("bob".into()),
                ..Default::default()
            },
        );
        f.arm(
            Fault::HttpStatus { status: 503 },
            FaultScope {
                grant_type: Some("refresh_token".into()),
                ..Default::default()
            },
        );
        let all = FaultPoint::IdToken;
        let at = |user, grant_type| Target {
            client_id: "c",
            user: Some(user),
            grant_type,
        };
        assert_eq!(f.fire(at("alice", None), all), vec![Fault::IdTokenNoIat]);
        assert_eq!(
            f.fire(at("bob", None), all),
            vec![Fault::IdTokenNoIat, Fault::IdTokenExpired]
        );
        assert!(f.fire(at("bob", None), FaultPoint::Authorize).is_empty());
        assert_eq!(f.fire(at("bob", None), all), vec![Fault::IdTokenExpired]);
        let token = FaultPoint::TokenEndpoint;
        assert!(
            f.fire(at("bob", Some("authorization_code")), token)
                .is_empty()
        );
        assert_eq!(
            f.fire(at("bob", Some("refresh_token")), token),
            vec![Fault::HttpStatus { status: 503 }]
        );
        assert_eq!(f.list().len(), 2, "the counted fault is disarmed");
        assert_eq!(f.clear(None), 2);
        assert!(f.fire(at("bob", None), all).is_empty());
    }
}
