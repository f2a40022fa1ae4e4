//! The device authorization grant (RFC 8628) with an independent client, the
//! `openidconnect` crate: the device endpoint found through discovery, a person allowing
//! the device at the verification page while the crate polls, the ID token verified; and
//! a denial surfacing as the crate's `access_denied`.

use mock_idp::MockIdp;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreDeviceAuthorizationResponse, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthType, ClientId, DeviceAuthorizationUrl,
    DeviceCodeErrorResponseType, IssuerUrl, Nonce, OAuth2TokenResponse, ProviderMetadata,
    RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::support::http;

/// Discovery's `device_authorization_endpoint` (RFC 8628 §4), which the crate's core
/// metadata does not read.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct DeviceEndpoint {
    device_authorization_endpoint: DeviceAuthorizationUrl,
}
impl AdditionalProviderMetadata for DeviceEndpoint {}

type Metadata = ProviderMetadata<
    DeviceEndpoint,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The mock IdP with devices told to poll every second (the crate sleeps that long).
async fn idp() -> MockIdp {
    MockIdp::builder()
        .edit_config(|c| c.lifetimes.device_poll_interval = 1)
        .start()
        .await
        .unwrap()
}

/// What a person does at the verification page: open the complete URI, then press the
/// button named `button` (a user to allow the device as, or "Deny").
async fn at_the_page(uri: &str, button: (&str, &str)) -> String {
    let browser = http();
    let page = browser.get(uri).send().await.unwrap();
    assert_eq!(page.status(), 200, "{uri}");
    let html = page.text().await.unwrap();
    let field = "name=\"user_code\" value=\"";
    let at = html.find(field).expect("the form's user_code") + field.len();
    let code = &html[at..at + html[at..].find('"').unwrap()];
    let res = browser
        .post(uri.split('?').next().unwrap())
        .form(&[("user_code", code), button])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// demo-cli, the built-in public device client, from discovery.
async fn client(idp: &MockIdp) -> CoreClientFor {
    let md = Metadata::discover_async(IssuerUrl::new(idp.issuer().into()).unwrap(), &http())
        .await
        .expect("discovery");
    let device = md
        .additional_metadata()
        .device_authorization_endpoint
        .clone();
    CoreClient::from_provider_metadata(md, ClientId::new("demo-cli".into()), None)
        .set_device_authorization_url(device)
        .set_auth_type(AuthType::RequestBody)
}

type CoreClientFor = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn start(client: &CoreClientFor) -> CoreDeviceAuthorizationResponse {
    client
        .exchange_device_code()
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .request_async(&http())
        .await
        .expect("device authorization")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crate_polls_while_a_person_allows_the_device_and_verifies_the_id_token() {
    let idp = idp().await;
    let client = client(&idp).await;
    let details = start(&client).await;
    let uri = details
        .verification_uri_complete()
        .expect("verification_uri_complete")
        .secret()
        .clone();

    let poll_client = client.clone();
    let poll_details = details.clone();
    let polling = tokio::spawn(async move {
        poll_client
            .exchange_device_access_token(&poll_details)
            .unwrap()
            .request_async(&http(), tokio::time::sleep, None)
            .await
    });
    // The person acts once the device has been told to wait (seen in the journal).
    let pending = |idp: &MockIdp| {
        idp.journal()
            .iter()
            .any(|e| e.error.as_deref() == Some("authorization_pending"))
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !pending(&idp) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the crate never polled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let allowed = at_the_page(&uri, ("username", "bob")).await;
    assert!(allowed.contains("Device allowed"), "{allowed}");

    let tokens = polling.await.unwrap().expect("tokens after the approval");
    let id_token = tokens.id_token().expect("an ID token (scope openid)");
    let claims = id_token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("a valid ID token");
    assert_eq!(claims.issuer().as_str(), idp.issuer());
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("bob"));
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access was granted"
    );
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http())
        .await
        .expect("the public client refreshes");
    assert!(refreshed.id_token().is_some());
}

#[tokio::test]
async fn a_denied_device_is_access_denied_for_the_crate() {
    let idp = idp().await;
    let client = client(&idp).await;
    let details = start(&client).await;
    let denied = at_the_page(
        details.verification_uri_complete().unwrap().secret(),
        ("deny", "1"),
    )
    .await;
    assert!(denied.contains("Device denied"), "{denied}");
    let err = client
        .exchange_device_access_token(&details)
        .unwrap()
        .request_async(&http(), tokio::time::sleep, None)
        .await
        .expect_err("denied");
    match err {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(
                *e.error(),
                DeviceCodeErrorResponseType::AccessDenied,
                "{e:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}
