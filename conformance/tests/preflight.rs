//! `conformance preflight` against mock-idp playing the "real" provider: every provider
//! profile (as its customer would configure it) reports ready; each misconfiguration a
//! customer makes produces its finding and fix; the profile preflight writes reproduces
//! the tenant it was captured from; and the command's exit statuses.

use std::collections::BTreeMap;

use conformance::preflight::{self, PreflightOptions, Readiness, Status};
use conformance::{GroupsClaim, RpDescription, SyncMode};
use mock_idp::{Config, MockIdp, UserConfig};
use serde_json::Value;

/// An RP as rp.toml would describe it for preflight.
fn rp(groups: &str, map: &[(&str, &str)]) -> RpDescription {
    let mut rp = RpDescription::preflight_default();
    rp.groups_claim = GroupsClaim::try_from(groups.to_owned()).unwrap();
    rp.group_map = map
        .iter()
        .map(|(g, p)| ((*g).to_owned(), vec![(*p).to_owned()]))
        .collect();
    rp
}

fn opts(idp: &MockIdp, rp: RpDescription) -> PreflightOptions {
    PreflightOptions {
        rp,
        ..PreflightOptions::unattended(idp.issuer(), "demo-rp", "demo-secret", "alice")
    }
}

async fn run(o: &PreflightOptions) -> Readiness {
    preflight::preflight(o).await.expect("preflight starts")
}

fn status(r: &Readiness, id: &str) -> Status {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}:\n{}", preflight::terminal(r)))
        .status
}

/// The one check with this id, which must be a problem; its detail and fix.
fn problem(r: &Readiness, id: &str) -> (String, String) {
    let c = r
        .checks
        .iter()
        .find(|c| c.id == id && c.status == Status::Problem)
        .unwrap_or_else(|| panic!("no problem {id}:\n{}", preflight::terminal(r)));
    assert!(!r.ready);
    (c.detail.clone(), c.fix.clone().unwrap_or_default())
}

fn problems(r: &Readiness) -> Vec<&str> {
    r.checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .map(|c| c.id)
        .collect()
}

async fn shaped(profile: &str, edit: impl Fn(&mut Config) + Send + Sync + 'static) -> MockIdp {
    MockIdp::builder()
        .profile(profile)
        .edit_config(edit)
        .start()
        .await
        .unwrap()
}

/// A profile, where its customer's app reads groups, the customer's change to the
/// provider's defaults, and whether the app reads groups at all.
type Case = (&'static str, &'static str, fn(&mut Config), bool);

#[tokio::test]
async fn every_provider_as_its_customer_configures_it_is_ready() {
    // Where the provider puts groups, and what its customer changes for this app.
    let cases: [Case; 8] = [
        ("okta", "id_token:/groups", |_| {}, true),
        // Entra: the email optional claim added (Token configuration → email).
        (
            "entra",
            "id_token:/groups",
            |c| c.quirks.omit_email = false,
            true,
        ),
        ("keycloak", "access_token:/realm_access/roles", |_| {}, true),
        // Google sends no groups: the app runs with sync mode none.
        ("google", "id_token:/groups", |_| {}, false),
        (
            "auth0",
            "id_token:/https:~1~1example.com~1roles",
            |_| {},
            true,
        ),
        ("adfs", "access_token:/group", |_| {}, true),
        ("pingfederate", "id_token:/groups", |_| {}, true),
        ("opaque-tokens", "id_token:/groups", |_| {}, false),
    ];
    for (profile, groups, edit, reads_groups) in cases {
        let idp = shaped(profile, edit).await;
        let group = if profile == "entra" {
            mock_idp::group_names(&idp.tenant().config.quirks, &["analysts".into()]).remove(0)
        } else {
            "analysts".to_owned()
        };
        let mut rp = rp(groups, &[(&group, "read")]);
        if !reads_groups {
            rp.sync_modes = vec![SyncMode::None];
        }
        let r = run(&opts(&idp, rp)).await;
        assert!(r.ready, "{profile}:\n{}", preflight::terminal(&r));
        assert_eq!(status(&r, "refresh.works"), Status::Ok, "{profile}");
        if reads_groups {
            let m = r.mapping.as_ref().unwrap();
            assert_eq!(m.permissions, ["read"], "{profile}");
        }
    }
}

#[tokio::test]
async fn the_providers_defaults_are_found_wanting_where_they_are() {
    // Entra out of the box: no email claim, with Entra's own fix.
    let idp = shaped("entra", |_| {}).await;
    let r = run(&opts(&idp, rp("id_token:/groups", &[("x", "read")]))).await;
    let (detail, fix) = problem(&r, "claims.required");
    assert!(detail.contains("lacks email"), "{detail}");
    assert!(
        fix.contains("Token configuration → Add optional claim"),
        "{fix}"
    );
    // Its groups are object ids, and a group map keyed by names cannot match them.
    let (detail, _) = problem(&r, "groups.form");
    assert!(detail.contains("object ids"), "{detail}");
    assert_eq!(r.provider, Some("entra"));

    // Google in strict mode: no groups anywhere, with Google's word on it.
    let idp = shaped("google", |_| {}).await;
    let r = run(&opts(&idp, rp("id_token:/groups", &[("analysts", "read")]))).await;
    let (_, fix) = problem(&r, "groups.location");
    assert_eq!(problems(&r), ["groups.location"]);
    assert!(fix.contains("Google's tokens carry no groups"), "{fix}");
}

#[tokio::test]
async fn each_misconfiguration_gives_its_finding_and_fix() {
    let map = [("analysts", "read")];
    // No groups claim at all.
    let idp = shaped("okta", |c| c.groups.placements.clear()).await;
    // From one login it looks like a test user in no group (providers leave an empty claim
    // out): unknown, with how to tell and Okta's fix, never a problem blamed on the provider.
    let r = run(&opts(&idp, rp("id_token:/groups", &map))).await;
    assert_eq!(status(&r, "groups.location"), Status::Unknown);
    let c = r.checks.iter().find(|c| c.id == "groups.location").unwrap();
    assert!(c.detail.contains("nor anywhere else"), "{}", c.detail);
    assert!(
        c.detail.contains("Log in as a user in a group"),
        "{}",
        c.detail
    );
    assert!(c.detail.contains("Authorization Servers"), "{}", c.detail);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));

    // Groups in the access token, the app reading the ID token.
    let idp = shaped("okta", |c| {
        c.groups
            .placements
            .retain(|p| p.token == mock_idp::TokenKind::AccessToken)
    })
    .await;
    let r = run(&opts(&idp, rp("id_token:/groups", &map))).await;
    let (detail, fix) = problem(&r, "groups.location");
    assert!(
        detail.contains("they are at access_token:/groups"),
        "{detail}"
    );
    assert!(
        fix.starts_with("Configure the app's groups claim as access_token:/groups"),
        "{fix}"
    );

    // No refresh token for this client.
    let idp = shaped("okta", |c| {
        c.clients[0].refresh_tokens = mock_idp::RefreshPolicy::Never
    })
    .await;
    let r = run(&opts(&idp, rp("id_token:/groups", &map))).await;
    let (_, fix) = problem(&r, "token.refresh-issued");
    assert!(fix.contains("Refresh Token"), "{fix}");
    assert!(
        !r.checks.iter().any(|c| c.id == "refresh.works"),
        "nothing to refresh with"
    );

    // The redirect URI is not registered.
    let idp = shaped("keycloak", |c| {
        c.clients[0].redirect_uris = vec!["https://app.example.com/login/oauth2/callback".into()]
    })
    .await;
    let r = run(&opts(&idp, rp("access_token:/realm_access/roles", &map))).await;
    let (detail, fix) = problem(&r, "login.authorize");
    assert!(detail.contains("HTTP 400"), "{detail}");
    assert!(
        fix.starts_with(
            "In the client's Settings → Valid redirect URIs, add exactly http://127.0.0.1:"
        ),
        "{fix}"
    );

    // The app configured with a trailing slash the provider's issuer does not have.
    let idp = shaped("okta", |_| {}).await;
    let mut o = opts(&idp, rp("id_token:/groups", &map));
    o.issuer.push('/');
    let r = run(&o).await;
    let (detail, fix) = problem(&r, "discovery.issuer");
    assert!(detail.contains("trailing slash"), "{detail}");
    assert!(fix.contains(idp.issuer()), "{fix}");
    problem(&r, "idtoken.iss");

    // A wrong client secret.
    let mut o = opts(&idp, rp("id_token:/groups", &map));
    o.client_secret = "wrong".into();
    let r = run(&o).await;
    let (detail, fix) = problem(&r, "token.exchange");
    assert!(
        detail.contains("HTTP 401") && detail.contains("invalid_client"),
        "{detail}"
    );
    assert!(fix.contains("client id and secret"), "{fix}");

    // Entra's groups overage: a user in 250 groups.
    let idp = shaped("entra", |c| {
        c.quirks.omit_email = false;
        c.users.push(UserConfig {
            username: "many".into(),
            sub: "many-sub".into(),
            email: Some("many@example.com".into()),
            email_verified: Some(true),
            name: Some("Many Groups".into()),
            preferred_username: None,
            groups: (0..250).map(|i| format!("g{i}")).collect(),
            password: None,
            claims: BTreeMap::new(),
            disabled: false,
        });
    })
    .await;
    let mut o = opts(&idp, rp("id_token:/groups", &[("x", "read")]));
    o.login_hint = Some("many".into());
    let r = run(&o).await;
    let (detail, fix) = problem(&r, "groups.location");
    assert!(
        detail.contains("overage") && detail.contains("250 group(s)"),
        "{detail}"
    );
    assert!(fix.contains("Groups assigned to the application"), "{fix}");
    assert_eq!(r.mapping.as_ref().unwrap().groups.len(), 250);
}

#[tokio::test]
async fn the_report_masks_what_must_not_leak() {
    let idp = shaped("okta", |_| {}).await;
    let dir = std::env::temp_dir().join(format!("preflight-mask-{}", std::process::id()));
    let mut o = opts(&idp, rp("id_token:/groups", &[("analysts", "read")]));
    o.write_profile = Some(dir.join("captured.toml"));
    std::fs::create_dir_all(&dir).unwrap();
    let r = run(&o).await;
    let texts = [
        preflight::json(&r),
        preflight::markdown(&r),
        preflight::html(&r),
        preflight::terminal(&r),
        std::fs::read_to_string(dir.join("captured.toml")).unwrap(),
    ];
    for t in &texts {
        assert!(!t.contains("demo-secret"), "the client secret leaked");
        // Every nonce shown is masked: as many masked ones as nonces, in either spacing.
        // (and in HTML, its quotes escaped).
        for (shown, close) in [
            ("\"nonce\": \"", "\""),
            ("\"nonce\":\"", "\""),
            ("&quot;nonce&quot;: &quot;", "&quot;"),
            ("&quot;nonce&quot;:&quot;", "&quot;"),
        ] {
            let all = t.matches(shown).count();
            let masked = t.matches(&format!("{shown}•••{close}")).count();
            assert_eq!(all, masked, "an unmasked nonce in:\n{t}");
        }
        // The tokens are shown decoded, never whole: no compact JWT (three base64url parts)
        // appears, so no signature part does.
        assert!(jwt_in(t).is_none(), "a whole token: {:?}", jwt_in(t));
    }
    let id_claims = r.tokens.iter().find(|t| t.name == "id_token").unwrap();
    assert!(id_claims.claims.as_ref().unwrap()["sub"].is_string());
    // The captured profile has no user: no sub, email or group name.
    let profile = &texts[4];
    for personal in ["alice", "a1b2c3d4", "analysts"] {
        assert!(
            !profile.contains(personal),
            "{personal} in the profile:\n{profile}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What a profile shapes, as far as preflight can observe it from outside.
fn observable(config: &Config) -> Value {
    let c = &config.clients[0];
    let q = &config.quirks;
    serde_json::json!({
        "issuer": config.issuer,
        "signing_alg": config.signing_alg,
        "access_token": config.lifetimes.access_token,
        "id_token": config.lifetimes.id_token,
        "placements": config.groups.placements.iter()
            .map(|p| (p.token, p.pointer.clone(), p.single_as_string))
            .collect::<Vec<_>>(),
        "refresh_issued": c.refresh_tokens != mock_idp::RefreshPolicy::Never,
        "rotate": c.refresh_policy.rotate,
        "access_token_format": c.access_token_format,
        "quirks": [q.pairwise_sub, q.omit_email, q.group_ids, q.hosted_domain, q.userinfo_sub_only],
        "tenant_id": q.tenant_id,
        "id_token_typ": q.id_token_typ,
    })
}

/// The discovery document with the origin taken out (its members, in any order).
async fn discovery(idp: &MockIdp) -> Value {
    let origin = format!("http://{}", idp.addr());
    let text = reqwest::get(idp.discovery_url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace(&origin, "{origin}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_captured_profile_reproduces_the_tenant_it_was_captured_from() {
    let dir = std::env::temp_dir().join(format!("preflight-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // fapi2's tenant takes only DPoP-proved requests of private_key_jwt clients, and
    // preflight sends no DPoP proofs yet (its login.dpop check says so): not captured.
    for p in mock_idp::profiles::PROFILES
        .iter()
        .filter(|p| p.name != "fapi2")
    {
        let idp = shaped(&p.name, |_| {}).await;
        let file = dir.join(format!("{}.toml", p.name));
        let mut o = opts(&idp, RpDescription::preflight_default());
        o.write_profile = Some(file.clone());
        let r = run(&o).await;
        assert_eq!(r.profile_written.as_deref(), file.to_str(), "{}", p.name);
        let reference = file.display().to_string();
        let original = Config::builtin_with_profile(&p.name).unwrap();
        let captured = Config::builtin_with_profile(&reference).unwrap();
        assert_eq!(
            observable(&captured),
            observable(&original),
            "{}:\n{}",
            p.name,
            std::fs::read_to_string(&file).unwrap()
        );
        let again = MockIdp::builder().profile(reference).start().await.unwrap();
        assert_eq!(discovery(&again).await, discovery(&idp).await, "{}", p.name);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A provider that registers clients, takes DPoP proofs and does session management is
/// captured doing so: the captured profile's discovery document is the provider's.
#[tokio::test]
async fn a_captured_profile_keeps_registration_dpop_and_session_management() {
    let idp = shaped("keycloak", |c| {
        c.registration.enabled = true;
        c.dpop.enabled = true;
        c.session_management.enabled = true;
    })
    .await;
    let d = discovery(&idp).await;
    for m in [
        "registration_endpoint",
        "dpop_signing_alg_values_supported",
        "check_session_iframe",
    ] {
        assert!(d.get(m).is_some(), "{m} in {d}");
    }
    let file = std::env::temp_dir().join(format!("preflight-features-{}.toml", std::process::id()));
    let mut o = opts(&idp, RpDescription::preflight_default());
    o.write_profile = Some(file.clone());
    let r = run(&o).await;
    assert_eq!(r.profile_written.as_deref(), file.to_str());
    let text = std::fs::read_to_string(&file).unwrap();
    for section in ["[registration]", "[dpop]", "[session_management]"] {
        assert!(text.contains(section), "{section}:\n{text}");
    }
    let again = MockIdp::builder()
        .profile(file.display().to_string())
        .start()
        .await
        .unwrap();
    assert_eq!(discovery(&again).await, d, "{text}");
    std::fs::remove_file(file).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_exits_0_ready_1_not_ready_2_bad_usage() {
    let idp = shaped("okta", |_| {}).await;
    let dir = std::env::temp_dir().join(format!("preflight-cli-{}", std::process::id()));
    let cli = |extra: &[&str]| {
        let mut args = vec![
            "preflight",
            "--issuer",
            idp.issuer(),
            "--login-hint",
            "alice",
            "--no-open",
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
            .args(&args)
            .env("PREFLIGHT_CLIENT_SECRET", "demo-secret")
            .output()
            .unwrap()
    };
    let report = dir.display().to_string();
    let out = tokio::task::block_in_place(|| cli(&["--client-id", "demo-rp", "--report", &report]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("READY: no problem"), "{stdout}");
    for f in ["preflight.json", "preflight.md", "preflight.html"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    // A client the provider does not know: it refuses the authorization request.
    let out = tokio::task::block_in_place(|| cli(&["--client-id", "unknown-app"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("NOT READY: 1 problem(s)"), "{stdout}");
    let out = tokio::task::block_in_place(|| {
        cli(&[
            "--client-id",
            "demo-rp",
            "--redirect-uri",
            "https://app.example.com/cb",
        ])
    });
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let out =
        tokio::task::block_in_place(|| cli(&["--client-id", "demo-rp", "--provider", "nope"]));
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An Okta-shaped mock IdP serving HTTPS with a throw-away CA of its own (`.tls()`): a
/// provider behind a private CA. Returns the IdP and the CA's PEM.
async fn behind_private_ca() -> (MockIdp, String) {
    let idp = MockIdp::builder()
        .profile("okta")
        .tls()
        .start()
        .await
        .unwrap();
    let ca = idp.ca_pem().expect("a generated CA").to_owned();
    (idp, ca)
}

#[tokio::test]
async fn an_https_provider_behind_a_private_ca_with_and_without_its_ca() {
    let (idp, ca) = behind_private_ca().await;
    let dir = std::env::temp_dir().join(format!("preflight-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let mut o = opts(&idp, rp("id_token:/groups", &[("analysts", "read")]));
    assert!(o.issuer.starts_with("https://127.0.0.1:"));

    // Without the CA: the certificate is refused, and the finding says why.
    let r = run(&o).await;
    let (detail, fix) = problem(&r, "discovery.fetch");
    assert!(detail.contains("invalid peer certificate"), "{detail}");
    assert!(fix.contains("--ca-file"), "{fix}");
    assert_eq!(r.checks.len(), 1, "nothing else to check without discovery");

    // With it: the whole preflight over TLS.
    o.ca_file = Some(ca_file.clone());
    let r = run(&o).await;
    assert!(r.ready, "{}", preflight::terminal(&r));
    let https = r.checks.iter().find(|c| c.id == "discovery.https").unwrap();
    assert_eq!(https.detail, "the issuer and every endpoint use https");
    assert_eq!(status(&r, "refresh.works"), Status::Ok);

    // A CA file without a certificate is a usage error.
    std::fs::write(&ca_file, "not a certificate").unwrap();
    let e = preflight::preflight(&o).await.unwrap_err();
    assert!(e.to_string().contains("no certificate in it"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_app_on_client_secret_jwt_or_private_key_jwt_is_rehearsed_with_assertions() {
    let idp = MockIdp::builder()
        .edit_config(|c| {
            let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
            demo.auth_methods = vec![mock_idp::AuthMethod::ClientSecretJwt];
        })
        .start()
        .await
        .unwrap();
    let mut app = rp("id_token:/groups", &[("analysts", "read")]);
    app.client_auth = conformance::ClientAuth::ClientSecretJwt;
    let r = run(&opts(&idp, app.clone())).await;
    assert!(r.ready, "{}", preflight::terminal(&r));
    assert_eq!(status(&r, "refresh.works"), Status::Ok);
    let methods: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == mock_idp::journal::Endpoint::Token)
        .map(|e| (e.auth_method, e.status))
        .collect();
    assert!(
        !methods.is_empty()
            && methods
                .iter()
                .all(|m| *m == (Some(mock_idp::AuthMethod::ClientSecretJwt), 200)),
        "{methods:?}"
    );
    // private_key_jwt without the app's key: preflight says so instead of passing.
    app.client_auth = conformance::ClientAuth::PrivateKeyJwt;
    let r = run(&opts(&idp, app.clone())).await;
    assert!(!r.ready);
    assert!(
        preflight::terminal(&r).contains("preflight holds no private key"),
        "{}",
        preflight::terminal(&r)
    );
    // With it (--client-key), against a client registered with its public key: ready.
    let (pem, public) = mock_idp::generate_pair("app-1", mock_idp::SigningAlg::ES256).unwrap();
    let idp = MockIdp::builder()
        .edit_config(move |c| {
            let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
            demo.auth_methods = vec![mock_idp::AuthMethod::PrivateKeyJwt];
            demo.jwks = Some(jsonwebtoken::jwk::JwkSet {
                keys: vec![public.clone()],
            });
        })
        .start()
        .await
        .unwrap();
    let mut o = opts(&idp, app);
    o.client_key = Some(preflight::ClientKey {
        pem,
        kid: Some("app-1".into()),
    });
    let r = run(&o).await;
    assert!(r.ready, "{}", preflight::terminal(&r));
    let token: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == mock_idp::journal::Endpoint::Token)
        .map(|e| (e.auth_method, e.status))
        .collect();
    assert!(
        token.len() >= 2
            && token
                .iter()
                .all(|t| *t == (Some(mock_idp::AuthMethod::PrivateKeyJwt), 200)),
        "{token:?}"
    );
}

/// The first compact JWT in `text`: `eyJ…` followed by two more dot-separated base64url
/// parts, each non-empty.
fn jwt_in(text: &str) -> Option<&str> {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find("eyJ") {
        let start = from + i;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| !b64(c) && c != '.')
            .unwrap_or(rest.len());
        let candidate = &rest[..end];
        let parts: Vec<&str> = candidate.split('.').collect();
        if parts.len() >= 3 && parts[..3].iter().all(|p| !p.is_empty()) {
            return Some(candidate);
        }
        from = start + 3;
    }
    None
}

#[test]
fn jwt_in_finds_a_compact_token_and_nothing_else() {
    assert_eq!(
        jwt_in("x eyJhbGc.eyJzdWI.c2ln y"),
        Some("eyJhbGc.eyJzdWI.c2ln")
    );
    assert_eq!(jwt_in("\"alg\": \"RS256\", eyJhbGc alone"), None);
    assert_eq!(jwt_in("eyJhbGc.eyJzdWI. no signature"), None);
}

/// A tenant that grants offline_access only with a consent prompt (OIDC Core §11, panva's
/// oidc-provider by default): the granted scope is read, the login made again with
/// prompt=consent, the finding names that and a fix the rp.toml accepts, and the refresh
/// checks go on with the consented tokens; an app that sends prompt=consent is ready; the
/// capture says `with_consent`, which shapes a mock tenant that behaves the same.
#[tokio::test]
async fn offline_access_only_with_consent_is_found_and_captured() {
    let idp = shaped("okta", |c| {
        for cl in &mut c.clients {
            cl.refresh_tokens = mock_idp::RefreshPolicy::WithConsent;
        }
    })
    .await;
    let dir = std::env::temp_dir().join(format!("preflight-consent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut o = opts(&idp, rp("id_token:/groups", &[("analysts", "read")]));
    o.write_profile = Some(dir.join("captured.toml"));
    let r = run(&o).await;
    let (detail, fix) = problem(&r, "token.refresh-issued");
    assert!(detail.contains("dropped offline_access"), "{detail}");
    assert!(detail.contains("with prompt=consent"), "{detail}");
    assert!(fix.contains("prompt = \"consent\""), "{fix}");
    assert_eq!(problems(&r), ["token.refresh-issued"]);
    assert_eq!(status(&r, "refresh.works"), Status::Ok);
    // The same user's second login gave the same sub.
    let sub = r
        .checks
        .iter()
        .find(|c| c.id == "claims.sub-stability")
        .unwrap();
    assert!(
        sub.detail.contains("two logins gave the same sub"),
        "{}",
        sub.detail
    );
    let captured = std::fs::read_to_string(dir.join("captured.toml")).unwrap();
    assert!(
        captured.contains("refresh_tokens = \"with_consent\""),
        "{captured}"
    );
    // The fix, taken: the rp.toml sends prompt=consent.
    let mut with_consent = rp("id_token:/groups", &[("analysts", "read")]);
    with_consent.prompt = Some("consent".into());
    let r = run(&opts(&idp, with_consent)).await;
    assert!(r.ready, "{}", preflight::terminal(&r));
    // The captured tenant behaves the same.
    let mock = MockIdp::builder()
        .profile(dir.join("captured.toml").display().to_string())
        .start()
        .await
        .unwrap();
    let r = run(&opts(
        &mock,
        rp("id_token:/groups", &[("analysts", "read")]),
    ))
    .await;
    let (detail, _) = problem(&r, "token.refresh-issued");
    assert!(detail.contains("dropped offline_access"), "{detail}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A profile from a run whose login did not finish is refused: nothing written, a problem.
#[tokio::test]
async fn a_failed_run_writes_no_profile() {
    let idp = shaped("okta", |_| {}).await;
    let dir = std::env::temp_dir().join(format!("preflight-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut o = PreflightOptions::unattended(idp.issuer(), "demo-rp", "wrong-secret", "alice");
    o.write_profile = Some(dir.join("captured.toml"));
    let r = run(&o).await;
    let (detail, _) = problem(&r, "capture.profile");
    assert!(detail.contains("the login did not finish"), "{detail}");
    assert!(!dir.join("captured.toml").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Groups only at userinfo: the fix never offers `userinfo:` as the app's groups claim,
/// which rp.toml refuses.
#[tokio::test]
async fn groups_only_at_userinfo_get_a_fix_rp_toml_accepts() {
    let idp = shaped("okta", |c| {
        for p in &mut c.groups.placements {
            p.token = mock_idp::TokenKind::Userinfo;
        }
    })
    .await;
    let r = run(&opts(&idp, rp("id_token:/groups", &[("analysts", "read")]))).await;
    let (detail, fix) = problem(&r, "groups.location");
    assert!(detail.contains("userinfo:"), "{detail}");
    assert!(!fix.contains("groups claim as userinfo"), "{fix}");
    assert!(fix.contains("not from userinfo"), "{fix}");
}

/// Groups sent by reference (OpenID Connect Core §5.6.2) in either form the mock can send:
/// an aggregated JWT or a distributed endpoint. Preflight follows each, says the app reading
/// only the token sees none, and counts what the source lists.
#[tokio::test]
async fn groups_by_reference_are_followed_in_both_forms() {
    use mock_idp::faults::{Fault, FaultScope};
    for (fault, whence) in [
        (Fault::GroupsAggregated, "an aggregated JWT"),
        (Fault::GroupsDistributed, "http://"),
    ] {
        let idp = shaped("okta", |_| {}).await;
        idp.tenant().arm_fault(fault.clone(), FaultScope::default());
        let mut o = opts(&idp, rp("id_token:/groups", &[("admins", "read")]));
        o.login_hint = Some("bob".into());
        let r = run(&o).await;
        let (detail, fix) = problem(&r, "groups.location");
        assert!(
            detail.contains("by reference") && detail.contains(whence),
            "{fault:?}: {detail}"
        );
        assert!(detail.contains("2 group(s)"), "{fault:?}: {detail}");
        assert!(fix.contains("_claim_sources"), "{fix}");
        let m = r.mapping.as_ref().expect("the groups were read");
        assert_eq!(m.permissions, ["read"], "{fault:?}");
    }
}

/// An app that pushes its authorization requests (rp.toml `par = true`) is rehearsed
/// pushing: against a provider that requires pushing, it logs in and the push is the
/// journal's (the browser carried client_id and request_uri alone); the same app told it
/// sends its requests through the browser is refused there (the control); and a provider
/// without the endpoint is a problem naming it.
#[tokio::test]
async fn an_app_that_pushes_its_requests_is_rehearsed_pushing() {
    let idp = MockIdp::builder()
        .edit_config(|c: &mut Config| {
            c.par.enabled = true;
            c.par.required = true;
        })
        .start()
        .await
        .unwrap();
    let mut app = rp("id_token:/groups", &[("analysts", "read")]);
    app.par = true;
    let r = run(&opts(&idp, app.clone())).await;
    assert!(r.ready, "{}", preflight::terminal(&r));
    assert_eq!(status(&r, "login.par"), Status::Ok);
    let journal = idp.tenant().journal(0);
    let push = journal
        .iter()
        .find(|e| e.request_uri.is_some() && e.status == 201)
        .expect("the push is journaled");
    assert_eq!(
        push.auth_method.map(|m| m.as_str()),
        Some("client_secret_post")
    );
    assert!(
        journal.iter().any(|e| e.pushed && e.user.is_some()),
        "the login used the pushed request"
    );

    app.par = false;
    let plain = run(&opts(&idp, app.clone())).await;
    assert!(!plain.ready, "{}", preflight::terminal(&plain));
    assert!(
        preflight::terminal(&plain).contains("must push its authorization requests"),
        "{}",
        preflight::terminal(&plain)
    );

    let without = MockIdp::start().await;
    app.par = true;
    let (detail, fix) = problem(&run(&opts(&without, app)).await, "login.par");
    assert!(
        detail.contains("names no pushed_authorization_request_endpoint"),
        "{detail}"
    );
    assert!(fix.contains("par = false"), "{fix}");
}

/// An app that sends DPoP proofs is told that preflight does not rehearse them (unknown,
/// never ok), with what the provider's discovery says; without `dpop` no such check.
#[tokio::test]
async fn an_app_that_proves_possession_is_told_preflight_does_not_rehearse_it() {
    let idp = MockIdp::builder()
        .edit_config(|c: &mut Config| c.dpop.enabled = true)
        .start()
        .await
        .unwrap();
    let mut app = rp("id_token:/groups", &[("analysts", "read")]);
    let plain = run(&opts(&idp, app.clone())).await;
    assert!(plain.checks.iter().all(|c| c.id != "login.dpop"));
    app.dpop = true;
    let r = run(&opts(&idp, app)).await;
    assert_eq!(status(&r, "login.dpop"), Status::Unknown);
    let c = r.checks.iter().find(|c| c.id == "login.dpop").unwrap();
    assert!(c.detail.contains("ES256"), "{}", c.detail);
}
