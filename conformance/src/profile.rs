//! Running the suite against a provider profile of the mock IdP (`--idp-profile`): what the
//! profile means for the RP's configuration and for the scenarios.

use crate::idp::REFRESH_LIFETIME_S;
use crate::rp::{GroupsClaim, GroupsToken, Pointer, RpDescription};

/// What a run needs to know about the IdP's shape.
#[derive(Debug, Clone)]
pub struct IdpShape {
    /// The profile's name, if any (what reports show).
    pub profile: Option<String>,
    /// How the IdP finds it: a built-in profile's name or a profile file's absolute path.
    pub reference: Option<String>,
    /// Whether refresh tokens rotate (else `sync.rotation` has nothing to judge).
    pub rotates: bool,
    /// Seconds after which every refresh token is dead (`revocation.refresh-expired`).
    pub refresh_lifetime_s: i64,
    /// Why group scenarios cannot run, when they cannot.
    pub no_groups: Option<String>,
    /// Claims an RP requires that the provider leaves out of the ID token, each with the
    /// fix in the provider's own words: what explains an RP that logs no one in.
    pub missing_claims: Vec<(String, String)>,
}

impl IdpShape {
    /// The run's own tenant: rotation on, a week's lifetime, groups where the RP reads them.
    pub fn standard() -> IdpShape {
        IdpShape {
            profile: None,
            reference: None,
            rotates: true,
            refresh_lifetime_s: REFRESH_LIFETIME_S,
            no_groups: None,
            missing_claims: Vec::new(),
        }
    }

    /// Profile `name`, and the RP as a customer of that provider would configure it: the
    /// groups claim where the provider puts groups (for the scenarios and the launch), and
    /// for the launch the group map in the provider's group names (object ids for Entra
    /// ID; the scenarios keep the names, which are the users' groups at the IdP).
    pub fn of(
        reference: &str,
        rp: &RpDescription,
    ) -> Result<(IdpShape, RpDescription, RpDescription), String> {
        let name = mock_idp::profiles::get(reference)?.name.to_string();
        let name = name.as_str();
        let config =
            mock_idp::Config::builtin_with_profile(reference).map_err(|e| e.to_string())?;
        let mut rp = rp.clone();
        let policy = config.clients.first().map(|c| c.refresh_policy);
        let lifetime = policy
            .and_then(|p| p.absolute)
            .unwrap_or(config.lifetimes.refresh_token)
            .max(policy.and_then(|p| p.idle).unwrap_or(0));
        let readable = config.groups.placements.iter().find_map(|p| {
            let token = match p.token {
                mock_idp::TokenKind::IdToken => GroupsToken::IdToken,
                mock_idp::TokenKind::AccessToken => GroupsToken::AccessToken,
                mock_idp::TokenKind::Userinfo => return None,
            };
            Some(GroupsClaim {
                token,
                pointer: Pointer(p.pointer.clone()),
            })
        });
        let opaque = config
            .clients
            .first()
            .is_some_and(|c| c.access_token_format == mock_idp::AccessTokenFormat::Opaque);
        let no_groups = match &readable {
            None => Some(format!(
                "profile {name} puts groups in no token (an RP reads them from the ID or access token)"
            )),
            Some(g) if g.token == GroupsToken::AccessToken && opaque => Some(format!(
                "profile {name} puts groups in opaque access tokens"
            )),
            Some(_) => None,
        };
        if let Some(g) = readable {
            rp.groups_claim = g;
        }
        let mut launched = rp.clone();
        launched.group_map = rp
            .group_map
            .iter()
            .map(|(g, perms)| {
                let id = mock_idp::group_names(&config.quirks, std::slice::from_ref(g));
                (id.into_iter().next().unwrap_or_default(), perms.clone())
            })
            .collect();
        let shape = IdpShape {
            profile: Some(name.to_owned()),
            reference: Some(reference.to_owned()),
            rotates: policy.is_some_and(|p| p.rotate),
            refresh_lifetime_s: lifetime as i64,
            no_groups,
            missing_claims: missing_claims(name, &config.quirks),
        };
        Ok((shape, rp, launched))
    }
}

/// The required claims (`sub`, `email`, `preferred_username`) this provider's ID token
/// lacks by default, with the provider's fix.
fn missing_claims(profile: &str, quirks: &mock_idp::Quirks) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if quirks.omit_email {
        let fix = match profile {
            "entra" => "in the app registration, Token configuration → Add optional claim → ID → email (Microsoft's \"Provide optional claims to your app\")".to_owned(),
            p => format!("configure provider {p} to put the email claim in the ID token"),
        };
        out.push(("email".to_owned(), fix));
    }
    out
}
