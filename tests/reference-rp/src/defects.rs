//! Switchable defects: each one a realistic mistake that a conformance scenario catches.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

macro_rules! defects {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// A mistake the reference RP can be told to make (`DEFECTS=a,b`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Defect {
            $(#[doc = $doc] $variant,)*
        }

        impl Defect {
            /// Every defect.
            pub const ALL: &[Defect] = &[$(Defect::$variant,)*];

            /// Its name, as in `DEFECTS`.
            pub fn name(self) -> &'static str {
                match self { $(Defect::$variant => $name,)* }
            }

            /// What the RP does wrong.
            pub fn description(self) -> &'static str {
                match self { $(Defect::$variant => $doc,)* }
            }
        }
    };
}

defects! {
    UsernameFromEmail = "username-from-email": "shows the email as the username instead of preferred_username",
    NoOfflineAccess = "no-offline-access": "does not request the offline_access scope",
    ClientSecretBasic = "client-secret-basic": "authenticates with client_secret_basic instead of the declared client_secret_post",
    ReusesClientAssertion = "reuses-client-assertion": "signs one client assertion (private_key_jwt, client_secret_jwt) and sends it with every token request",
    AssertionAudTokenEndpoint = "assertion-aud-token-endpoint": "names the token endpoint, not the issuer, as its client assertions' audience",
    SecretInAuthorize = "secret-in-authorize": "puts the client_secret into the authorization request URL",
    NoPkce = "no-pkce": "sends no PKCE code_challenge",
    NoStateCheck = "no-state-check": "never compares the callback's state with the one it sent",
    StateOptional = "state-optional": "compares state only when the callback carries one",
    LoginCsrf = "login-csrf": "checks no state, sends no PKCE and never compares the nonce: nothing ties a login to the browser that started it",
    CrashesOnIdpError = "crashes-on-idp-error": "answers 500 when the IdP redirects back with an error",
    AcceptsMissingEmail = "accepts-missing-email": "logs the user in without an email claim",
    AcceptsMissingUsername = "accepts-missing-username": "logs the user in without a preferred_username claim",
    AcceptsMissingSub = "accepts-missing-sub": "takes the sub from userinfo when the ID token has none",
    AcceptsNoRefreshToken = "accepts-no-refresh-token": "proceeds when the token response has no refresh_token",
    UserinfoSubUnchecked = "userinfo-sub-unchecked": "does not compare the userinfo sub with the ID token's",
    SyncUserinfoSubUnchecked = "sync-userinfo-sub-unchecked": "reads userinfo during background sync only, never at login, and takes its profile without comparing its sub with the session's",
    UserinfoTokenInQuery = "userinfo-token-in-query": "sends the access token to userinfo in the query string, and logs the user in without userinfo when that is refused",
    NoSignatureCheck = "no-signature-check": "decodes the ID token without verifying its signature",
    AcceptsAlgNone = "accepts-alg-none": "skips verification when the header says alg none",
    Hs256PublicKey = "hs256-public-key": "verifies HS256 tokens with the RSA public key PEM as the HMAC secret",
    IgnoresIss = "ignores-iss": "does not check iss",
    TrustsDiscoveryIssuer = "trusts-discovery-issuer": "takes the issuer the discovery document names without comparing it to the configured one",
    IgnoresAud = "ignores-aud": "does not check aud",
    AudOptional = "aud-optional": "checks aud only when the ID token carries one",
    AcceptsExtraAud = "accepts-extra-aud": "accepts an aud that also names untrusted audiences",
    IgnoresExp = "ignores-exp": "does not check exp",
    AcceptsMissingIat = "accepts-missing-iat": "does not require iat",
    SkipsNonceCheck = "skips-nonce-check": "sends a nonce but never compares it",
    AtHashUnchecked = "at-hash-unchecked": "never compares the ID token's at_hash with the access token",
    RequiresAtHash = "requires-at-hash": "rejects an ID token without at_hash, which the code flow makes optional",
    UnverifiedWithoutKid = "unverified-without-kid": "decodes an ID token without kid unverified when the JWKS has several keys to choose from",
    RequiresKid = "requires-kid": "rejects an ID token without kid even when the JWKS has one key",
    NeverRefetchesJwks = "never-refetches-jwks": "fetches the JWKS once and never again, even on an unknown kid",
    JwksRefetchCooldown = "jwks-refetch-cooldown": "refetches the JWKS for an unknown kid only once the kid has been unknown for 2 s (a cooldown)",
    RefreshIssUnchecked = "refresh-iss-unchecked": "does not check a refreshed ID token's iss",
    RefreshSubUnchecked = "refresh-sub-unchecked": "takes a refreshed ID token's sub without comparing it to the session's",
    RefreshUnverified = "refresh-unverified": "takes a refreshed ID token's claims comparing only its iss and sub: no signature, aud or exp check",
    RefreshRequiresNonce = "refresh-requires-nonce": "requires a nonce in a refreshed ID token (OIDC Core §12.2 leaves it out) and ends the session at every refresh without one",
    KeyedByEmail = "keyed-by-email": "identifies accounts by email instead of sub",
    LinksByEmail = "links-by-email": "links an unknown sub to an existing account with the same email",
    NoProfileSync = "no-profile-sync": "refreshes but never updates name or email from the new tokens",
    ClaimSourcesIgnored = "claim-sources-ignored": "reads groups inline only, ignoring groups sent by reference (_claim_names, _claim_sources: aggregated and distributed claims)",
    MapsUnknownGroups = "maps-unknown-groups": "turns a group the map does not know into a permission of the same name",
    SyncIgnoresGroups = "sync-ignores-groups": "applies groups at login only: background sync updates the profile, not the permissions",
    StrictAsAdditive = "strict-as-additive": "runs strict mode like additive: a sync never removes a permission",
    NeverRemoves = "never-removes": "takes an absent groups claim for no change, so a user who leaves their last group keeps its permissions",
    AdditiveAsStrict = "additive-as-strict": "runs additive mode like strict: a sync removes permissions",
    NoneAppliesGroups = "none-applies-groups": "applies groups even with sync off",
    GrantAlwaysRefused = "grant-always-refused": "answers 403 to every POST /grant, in every sync mode (a CSRF check its own pages pass and no other client can)",
    ReloginKeepsStale = "relogin-keeps-stale": "applies groups at login only to new accounts, so logging in again does not sync",
    GroupsFromWrongToken = "groups-from-wrong-token": "reads the groups from the ID token even when configured to read the access token",
    SlowSync = "slow-sync": "refreshes a session only once its access token has expired, later than the sync deadline",
    ReusesRefreshToken = "reuses-refresh-token": "keeps using the first refresh token instead of storing the rotated one",
    RevokesOnError = "revokes-on-error": "takes any failed refresh (a 503, a timeout) for a revocation",
    SequentialSync = "sequential-sync": "refreshes sessions one after another, so one hung refresh stalls every user's sync",
    ExpiresSessions = "expires-sessions": "never refreshes: a session simply ends when its access token expires",
    MeFailsLoggedOut = "me-fails-logged-out": "answers /me with 500 instead of 401 when there is no session",
    IgnoresInvalidGrant = "ignores-invalid-grant": "treats invalid_grant like an outage: the user keeps access",
    KeepsSessions = "keeps-sessions": "on revocation removes the permissions but leaves the sessions open",
    RevokesByEmail = "revokes-by-email": "on revocation also revokes every account with the same email",
    NoBackchannelLogout = "no-backchannel-logout": "answers 200 to every logout token and ends no session",
    IgnoresLogoutEvents = "ignores-logout-events": "does not check a logout token's events claim",
    LogoutAcceptsNonce = "logout-accepts-nonce": "accepts a logout token that carries a nonce",
    LogoutIgnoresSid = "logout-ignores-sid": "ends every session of the logout token's sub, ignoring its sid",
    FrontchannelIgnoresIss = "frontchannel-ignores-iss": "ends the session a front-channel logout request's sid names, whatever issuer its iss names",
    FrontchannelEndsAll = "frontchannel-ends-all": "ends every session on any front-channel logout request",
    FrontchannelNeedsCookie = "frontchannel-needs-cookie": "ends the session of the cookie that comes with a front-channel logout request, not the one its iss and sid name",
    LogoutClearsCookieOnly = "logout-clears-cookie-only": "clears the session cookie at /logout but keeps the session it names, so a copy of the cookie still opens it",
    LogoutLocalOnly = "logout-local-only": "ends only its own session at /logout, never sending the browser to the IdP's end_session_endpoint",
    LogoutStateUnchecked = "logout-state-unchecked": "never compares the state the provider passes back to /logged-out with the one its logout sent",
    LogoutNoIdTokenHint = "logout-no-id-token-hint": "sends the browser to end_session with client_id but no id_token_hint",
    LogoutDropsAccountSync = "logout-drops-account-sync": "at /logout forgets the refresh tokens of every session of the account, not only the one logging out: the account's other browsers stay logged in but never sync again",
    AdditiveLoginReplaces = "additive-login-replaces": "in additive mode a login sets the permissions to the groups' (the login path shared with strict mode): webapp grants and the permissions of groups the user has left are lost at every login",
    RefreshNeverRefetchesJwks = "refresh-never-refetches-jwks": "refetches the JWKS for an unknown kid at login only: after a key rotation every background sync fails until the user logs in again",
    ParFrontChannel = "par-front-channel": "is set to push its authorization requests (PAR) but sends the whole request through the browser, pushing nothing",
    ParRepeatsFrontChannel = "par-repeats-front-channel": "pushes its authorization request (PAR) and repeats every parameter in the browser's URL besides client_id and request_uri",
    DpopReusesProof = "dpop-reuses-proof": "makes one DPoP proof per endpoint and sends it with every request there",
    DpopAcceptsBearer = "dpop-accepts-bearer": "takes a bearer token response (token_type Bearer) to its DPoP-proved token request",
    DpopIgnoresNonce = "dpop-ignores-nonce": "gives up when the provider answers use_dpop_nonce instead of retrying with its DPoP-Nonce",
    JarPlainRequest = "jar-plain-request": "is set to sign its authorization requests (JAR) but sends them plain",
    JarUnsigned = "jar-unsigned": "sends its request objects unsigned (alg none)",
    DcrNoInitialToken = "dcr-no-initial-token": "registers itself (RFC 7591) without the initial access token it was given",
    DcrUnregisteredRedirect = "dcr-unregistered-redirect": "registers itself (RFC 7591) with a redirect URI other than the callback its logins use",
    RenameSplitsAccount = "rename-splits-account": "finds the account of a background sync by email: a sync that brings a new email moves the session to a new, empty account",
}

impl Defect {
    /// The defects this one is made of (a combination of mistakes).
    fn parts(self) -> &'static [Defect] {
        match self {
            Defect::LoginCsrf => &[
                Defect::NoStateCheck,
                Defect::NoPkce,
                Defect::SkipsNonceCheck,
            ],
            _ => &[],
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Defect {
    type Err = String;

    fn from_str(s: &str) -> Result<Defect, String> {
        Defect::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Defect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown defect {s:?}; known: {}", names.join(", "))
            })
    }
}

/// The defects switched on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defects(pub BTreeSet<Defect>);

impl Defects {
    /// Whether this defect is on (itself, or as a part of one that is).
    pub fn has(&self, d: Defect) -> bool {
        self.0.contains(&d) || self.0.iter().any(|x| x.parts().contains(&d))
    }

    /// Parses `a,b,c` (empty: none).
    pub fn parse(list: &str) -> Result<Defects, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Defects)
    }
}
