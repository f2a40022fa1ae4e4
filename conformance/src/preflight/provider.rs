//! Which provider an issuer belongs to, and each problem's fix in that provider's own
//! words (its admin console's names), so a finding says what to click, not only what is
//! wrong.

/// A provider preflight knows the console of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Okta (custom authorization server).
    Okta,
    /// Microsoft Entra ID.
    Entra,
    /// Keycloak.
    Keycloak,
    /// Google.
    Google,
    /// Auth0.
    Auth0,
    /// AD FS.
    Adfs,
    /// PingFederate.
    PingFederate,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 7] = [
        Provider::Okta,
        Provider::Entra,
        Provider::Keycloak,
        Provider::Google,
        Provider::Auth0,
        Provider::Adfs,
        Provider::PingFederate,
    ];

    /// Its name (as mock-idp's profiles spell it).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Okta => "okta",
            Provider::Entra => "entra",
            Provider::Keycloak => "keycloak",
            Provider::Google => "google",
            Provider::Auth0 => "auth0",
            Provider::Adfs => "adfs",
            Provider::PingFederate => "pingfederate",
        }
    }

    /// The provider of this name.
    pub fn from_name(name: &str) -> Result<Provider, String> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
                format!("unknown provider {name:?}; known: {}", names.join(", "))
            })
    }

    /// The provider an issuer URL says, by host or by the paths each provider uses.
    pub fn detect(issuer: &str) -> Option<Provider> {
        let url = url::Url::parse(issuer).ok()?;
        let host = url.host_str().unwrap_or_default();
        let path = url.path();
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if host == "login.microsoftonline.com"
            || (segs.len() == 2 && super::values::looks_like_id(segs[0]) && segs[1] == "v2.0")
        {
            Some(Provider::Entra)
        } else if host.ends_with(".okta.com")
            || host.ends_with(".oktapreview.com")
            || segs.first() == Some(&"oauth2")
        {
            Some(Provider::Okta)
        } else if segs.first() == Some(&"realms") || segs.get(1) == Some(&"realms") {
            Some(Provider::Keycloak)
        } else if host == "accounts.google.com" {
            Some(Provider::Google)
        } else if host.ends_with(".auth0.com") {
            Some(Provider::Auth0)
        } else if segs.first() == Some(&"adfs") {
            Some(Provider::Adfs)
        } else {
            None
        }
    }
}

impl Provider {
    /// The provider its endpoints' paths say, for an issuer that did not (a custom domain,
    /// or a local stand-in).
    pub fn detect_by_endpoints(authorization: &str) -> Option<Provider> {
        let url = url::Url::parse(authorization).ok()?;
        let host = url.host_str().unwrap_or_default();
        let path = url.path();
        [
            ("/o/oauth2/v2/auth", Provider::Google),
            ("/as/authorization.oauth2", Provider::PingFederate),
            ("/oauth2/v2.0/authorize", Provider::Entra),
            ("/protocol/openid-connect/auth", Provider::Keycloak),
            ("/adfs/oauth2/authorize", Provider::Adfs),
            ("/v1/authorize", Provider::Okta),
        ]
        .into_iter()
        .find(|(p, _)| path.ends_with(p) || path.trim_end_matches('/').ends_with(p))
        .map(|(_, provider)| provider)
        .or_else(|| host.ends_with(".auth0.com").then_some(Provider::Auth0))
    }
}

/// The fixes for one provider (generic wording when it is not known).
#[derive(Debug, Clone, Copy)]
pub struct Fixes {
    provider: Option<Provider>,
}

impl Fixes {
    /// The fixes for this provider name.
    pub fn new(provider: Option<&str>) -> Fixes {
        Fixes {
            provider: provider.and_then(|p| Provider::from_name(p).ok()),
        }
    }

    /// No groups claim where the RP reads it (`claim` is its name, `token` which token).
    /// Whether the provider is known never to send groups (Google): then no groups is the
    /// provider's doing, not the test user's.
    pub fn never_sends_groups(&self) -> bool {
        self.provider == Some(Provider::Google)
    }

    pub fn groups_missing(&self, claim: &str, token: &str) -> String {
        match self.provider {
            Some(Provider::Okta) => format!(
                "In the Admin Console, Security → API → Authorization Servers → (this server) → Claims → Add Claim: name {claim}, include in token type {token}, value type Groups, filter Matches regex .* (Okta's \"Customize tokens returned from Okta with a groups claim\")"
            ),
            Some(Provider::Entra) => "In the app registration, Token configuration → Add groups claim → Security groups, and tick ID (and Access) under \"Customize token properties by type\" (Microsoft's \"Configure group claims for applications\")".into(),
            Some(Provider::Keycloak) => format!(
                "In the client, Client scopes → (client)-dedicated → Add mapper → By configuration → Group Membership (or User Realm Role): Token Claim Name {claim}, Add to ID token / Add to access token ON as the app reads it"
            ),
            Some(Provider::Google) => "Google's tokens carry no groups claim at all: set the app's permission sync to none, or use a provider that sends groups".into(),
            Some(Provider::Auth0) => format!(
                "Add a Login Action that sets the claim: api.idToken.setCustomClaim('{claim}', event.authorization.roles) (and api.accessToken for the access token); Auth0 only passes namespaced custom claims"
            ),
            Some(Provider::Adfs) => format!(
                "In the application group's Web API → Issuance Transform Rules, add \"Send Group Membership as a Claim\" with outgoing claim type {claim}; AD FS puts it in the access token, and in the ID token only with scope allatclaims"
            ),
            Some(Provider::PingFederate) | None => format!(
                "Configure the provider to send the user's groups as claim {claim} in the {token}"
            ),
        }
    }

    /// No refresh token in the token response.
    pub fn no_refresh_token(&self, asks_offline: bool) -> String {
        // What the app already does is not offered as a fix.
        let ask = |words: &str| {
            if asks_offline {
                String::new()
            } else {
                words.to_owned()
            }
        };
        match self.provider {
            Some(Provider::Okta) => format!("In the app's General settings, Grant type: tick Refresh Token; in the authorization server's access policy rule, allow the Refresh Token grant{}", ask("; the app must request scope offline_access")),
            Some(Provider::Entra) if asks_offline => "Entra issues a refresh token to a web app that requests offline_access: check the app registration is a Web platform with a client secret, and that the token request is the authorization code grant".into(),
            Some(Provider::Entra) => "Entra issues a refresh token only when scope offline_access is requested: add offline_access to the app's scopes".into(),
            Some(Provider::Keycloak) => "In the client's Advanced tab → OpenID Connect Compatibility Modes: Use refresh tokens ON; offline_access needs the offline_access role or the client scope".into(),
            Some(Provider::Google) => "Google issues a refresh token only with access_type=offline (and again only with prompt=consent once a user has consented); scope offline_access is not how Google is asked".into(),
            Some(Provider::Auth0) => format!("In the application's Advanced Settings → Grant Types tick Refresh Token, and in the API's settings turn on Allow Offline Access{}", ask("; request scope offline_access")),
            Some(Provider::Adfs) => "AD FS issues refresh tokens to confidential clients; check the relying party trust's IssueOAuthRefreshTokensTo (Set-AdfsRelyingPartyTrust)".into(),
            Some(Provider::PingFederate) | None => format!("Allow the refresh_token grant for this client{}", if asks_offline { " (the app already asks for offline_access)" } else { " and request scope offline_access" }),
        }
    }

    /// The provider refuses an authorization request that carries PKCE.
    /// A refresh returns no ID token, and the app's sync reads the groups from one.
    pub fn refresh_without_id_token(&self, groups_pointer: &str) -> String {
        format!(
            "Read the groups from the access token, which every refresh renews (rp.toml: groups_claim = \"access_token:{groups_pointer}\" once the provider puts them there; Glewlwyd: an additional access-token value, which joins several groups into one string with commas the app must split), or have the provider return an ID token from a refresh (OIDC Core §12.2 allows it)"
        )
    }

    pub fn pkce_refused(&self) -> String {
        "Allow PKCE (RFC 7636, method S256) for this client at the provider (Glewlwyd: the OpenID Connect plugin's \"PKCE allowed\"), or, if the app cannot send it otherwise, set pkce = false in its rp.toml".into()
    }

    /// The provider grants `offline_access` only after a consent prompt.
    pub fn offline_without_consent(&self) -> String {
        match self.provider {
            Some(Provider::Keycloak) => "in the client's settings, turn Consent Required off (offline_access then needs only the offline_access role)".into(),
            Some(Provider::Okta) => "in the app's settings, set User consent to not required".into(),
            _ => "at the provider, let this client have offline_access without a consent prompt (a first-party or pre-consented client)".into(),
        }
    }

    /// The redirect URI is not registered.
    pub fn redirect_uri(&self, uri: &str) -> String {
        match self.provider {
            Some(Provider::Okta) => format!(
                "In the app's General settings → LOGIN → Sign-in redirect URIs, add exactly {uri}"
            ),
            Some(Provider::Entra) => format!(
                "In the app registration, Authentication → Web → Redirect URIs, add exactly {uri}"
            ),
            Some(Provider::Keycloak) => {
                format!("In the client's Settings → Valid redirect URIs, add exactly {uri}")
            }
            Some(Provider::Google) => format!(
                "In Google Cloud console, APIs & Services → Credentials → (the OAuth client) → Authorized redirect URIs, add exactly {uri}"
            ),
            Some(Provider::Auth0) => {
                format!("In the application's Settings → Allowed Callback URLs, add exactly {uri}")
            }
            Some(Provider::Adfs) => format!(
                "In the application group's server application, add the redirect URI exactly: {uri}"
            ),
            Some(Provider::PingFederate) | None => {
                format!("Register exactly {uri} as a redirect URI of this client")
            }
        }
    }

    /// A required claim is missing from the ID token.
    pub fn claim_missing(&self, claim: &str) -> String {
        match (self.provider, claim) {
            (Some(Provider::Entra), "email") => "In the app registration, Token configuration → Add optional claim → ID → email (Microsoft's \"Provide optional claims to your app\"); users need a mail attribute".into(),
            (Some(Provider::Entra), "preferred_username") => "Entra sends preferred_username with scope profile in v2.0 tokens: check the app requests scope profile and uses the v2.0 endpoints".into(),
            (Some(Provider::Okta), _) => format!("Okta sends {claim} with the scope that covers it (email → email, preferred_username → profile): check the app requests it and the authorization server's scopes allow it"),
            (Some(Provider::Keycloak), _) => format!("In the client's Client scopes, make sure the scope that maps {claim} (email, profile) is a Default scope with \"Add to ID token\" ON"),
            (Some(Provider::Adfs), _) => format!("Add an Issuance Transform Rule emitting {claim}, and request scope allatclaims so it reaches the ID token"),
            _ => format!("Configure the provider to put {claim} in the ID token (the standard scopes profile and email cover it)"),
        }
    }

    /// The RP's client authentication is refused.
    pub fn client_auth(&self, method: &str) -> String {
        match (self.provider, method) {
            (Some(Provider::Okta), "private_key_jwt") => {
                return "In the app's General settings → Client Credentials, set Client authentication to \"Public key / Private key\" and add the app's public key (or its JWKS URL)".into();
            }
            (Some(Provider::Keycloak), "private_key_jwt") => {
                return "In the client's Credentials tab, Client Authenticator: \"Signed JWT\", with the app's public key or JWKS URL in the Keys tab".into();
            }
            (Some(Provider::Keycloak), "client_secret_jwt") => {
                return "In the client's Credentials tab, Client Authenticator: \"Signed JWT with Client Secret\"".into();
            }
            _ => {}
        }
        match self.provider {
            Some(Provider::Okta) => format!(
                "In the app's General settings → Client Credentials, set Client authentication to \"Client secret\" and the token endpoint method the app uses ({method})"
            ),
            Some(Provider::Keycloak) => format!(
                "In the client's Credentials tab, Client Authenticator: \"Client Id and Secret\" (accepts {method})"
            ),
            _ => format!(
                "Allow {method} for this client, or configure the app with a method the provider lists in token_endpoint_auth_methods_supported"
            ),
        }
    }

    /// The issuer differs from what the app is configured with.
    pub fn issuer(&self, real: &str) -> String {
        format!(
            "Configure the app with the issuer exactly as the provider publishes it: {real} (ID tokens carry it, and the comparison is exact, character for character)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_told_by_their_issuers() {
        let cases = [
            (
                "https://login.microsoftonline.com/0000/v2.0",
                Some(Provider::Entra),
            ),
            (
                "http://127.0.0.1:1/00000000-0000-0000-0000-0000000000e1/v2.0",
                Some(Provider::Entra),
            ),
            ("https://acme.okta.com/oauth2/default", Some(Provider::Okta)),
            ("http://127.0.0.1:1/oauth2/default", Some(Provider::Okta)),
            (
                "https://sso.acme.test/realms/acme",
                Some(Provider::Keycloak),
            ),
            (
                "https://sso.acme.test/auth/realms/acme",
                Some(Provider::Keycloak),
            ),
            ("https://accounts.google.com", Some(Provider::Google)),
            ("https://acme.eu.auth0.com/", Some(Provider::Auth0)),
            ("https://fs.acme.test/adfs", Some(Provider::Adfs)),
            ("https://idp.acme.test", None),
        ];
        for (issuer, want) in cases {
            assert_eq!(Provider::detect(issuer), want, "{issuer}");
        }
        assert!(
            Provider::from_name("nope")
                .unwrap_err()
                .contains("known: okta")
        );
        let by_endpoint = [
            (
                "https://accounts.google.com/o/oauth2/v2/auth",
                Some(Provider::Google),
            ),
            (
                "https://sso.acme.test/as/authorization.oauth2",
                Some(Provider::PingFederate),
            ),
            (
                "https://fs.acme.test/adfs/oauth2/authorize/",
                Some(Provider::Adfs),
            ),
            ("https://login.acme.test/authorize", None),
        ];
        for (url, want) in by_endpoint {
            assert_eq!(Provider::detect_by_endpoints(url), want, "{url}");
        }
    }
}
