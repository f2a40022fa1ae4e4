//! What `conformance preflight` is asked to do: the provider, the client, the app's
//! rp.toml, how the login is made, what is written.

use std::path::PathBuf;
use std::time::Duration;

use super::provider::Provider;
use crate::rp::RpDescription;

/// What `conformance preflight` was asked to do.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// The issuer URL exactly as the app is configured with it.
    pub issuer: String,
    /// The app's client id at the provider.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// The RP it acts as (scopes, client authentication, claims, groups, group map,
    /// token limits); rp.toml's defaults when none is given.
    pub rp: RpDescription,
    /// The redirect URI registered for the app (loopback: preflight listens there);
    /// default `http://127.0.0.1:<free port><rp callback path>`.
    pub redirect_uri: Option<String>,
    /// Sent as `login_hint`; also makes preflight follow the authorization URL itself,
    /// which against mock-idp completes the login without a person.
    pub login_hint: Option<String>,
    /// Who does the person's part of the login: a person, or a headless Chromium with a
    /// test user's credentials (`--login-with chromium`).
    pub login_with: LoginWith,
    /// How long a person (or the browser) has to log in.
    pub login_timeout: Duration,
    /// Open the authorization URL in the desktop's browser (when one exists).
    pub open_browser: bool,
    /// The provider, when its issuer does not say (`okta`, `entra`…).
    pub provider: Option<Provider>,
    /// Write the tenant's shape here, as a mock-idp profile file.
    pub write_profile: Option<PathBuf>,
    /// CA certificates (PEM) to trust besides the system's, for a provider behind a
    /// private CA.
    pub ca_file: Option<PathBuf>,
    /// The app's private key, for `private_key_jwt`.
    pub client_key: Option<ClientKey>,
}

/// An app's private key for `private_key_jwt`: PEM (RSA signs RS256, EC P-256 ES256) and
/// the `kid` its public half is registered under at the provider, if it has one.
#[derive(Debug, Clone)]
pub struct ClientKey {
    /// PKCS#8 (or PKCS#1 RSA) PEM.
    pub pem: String,
    /// The `kid` for the assertion's header.
    pub kid: Option<String>,
}

impl PreflightOptions {
    /// A person logs in (the URL opened where a desktop exists, five minutes to do it) as
    /// the app rp.toml's defaults describe; set `rp` and the rest as needed.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> PreflightOptions {
        PreflightOptions {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            rp: RpDescription::preflight_default(),
            redirect_uri: None,
            login_hint: None,
            login_with: LoginWith::Person,
            login_timeout: Duration::from_secs(300),
            open_browser: true,
            provider: None,
            write_profile: None,
            ca_file: None,
            client_key: None,
        }
    }

    /// No person: `login_hint` names the user and preflight follows the authorization URL
    /// itself (a provider that completes hinted logins, as mock-idp does), waiting 20 s.
    pub fn unattended(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        user: &str,
    ) -> PreflightOptions {
        PreflightOptions {
            login_hint: Some(user.to_owned()),
            login_timeout: Duration::from_secs(20),
            open_browser: false,
            ..PreflightOptions::new(issuer, client_id, client_secret)
        }
    }
}

/// How the person's part of the login is done.
#[derive(Debug, Clone, Default)]
pub enum LoginWith {
    /// A person, in their own browser (the URL printed, and opened where a desktop exists);
    /// with `login_hint`, preflight first follows the URL itself (with a cookie jar, as a
    /// browser would) and falls back to the person when the provider shows a page.
    #[default]
    Person,
    /// A headless Chromium fills in the provider's pages with these credentials.
    Chromium(super::chromium::Credentials),
}

/// The app as the stages see it: what it declares (its rp.toml) and its client at the
/// provider, parsed once from the options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct App<'a> {
    /// What the app declares.
    pub rp: &'a RpDescription,
    /// Its client id (the ID token's audience).
    pub client_id: &'a str,
    /// Its secret (client_secret_*; an HS256 ID token's key).
    pub secret: &'a str,
    /// Its private key (private_key_jwt).
    pub key: Option<&'a ClientKey>,
}

/// How the login is made: the app, the person's part, where the browser comes back, how
/// long to wait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoginPlan<'a> {
    /// The app logging in.
    pub app: App<'a>,
    /// The redirect URI the listener bound (as asked).
    pub redirect_uri: Option<&'a str>,
    /// The user named to the provider.
    pub hint: Option<&'a str>,
    /// A person, or a headless browser with credentials.
    pub with: &'a LoginWith,
    /// How long the login may take.
    pub timeout: Duration,
    /// Whether to open the person's browser.
    pub open_browser: bool,
}

impl PreflightOptions {
    /// The app, for the stages.
    pub(crate) fn app(&self) -> App<'_> {
        App {
            rp: &self.rp,
            client_id: &self.client_id,
            secret: &self.client_secret,
            key: self.client_key.as_ref(),
        }
    }

    /// The login, for the stages that make one.
    pub(crate) fn login_plan(&self) -> LoginPlan<'_> {
        LoginPlan {
            app: self.app(),
            redirect_uri: self.redirect_uri.as_deref(),
            hint: self.login_hint.as_deref(),
            with: &self.login_with,
            timeout: self.login_timeout,
            open_browser: self.open_browser,
        }
    }
}
