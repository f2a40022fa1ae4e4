//! The runner's own clients speak TLS (rustls): a mock IdP served over HTTPS is attached
//! with its CA file alone — or through a plain listener of the same server — and one whose
//! certificate the runner cannot trust is refused, naming the certificate.

use conformance::{IdpChoice, RpDescription};

/// An attach-mode rp.toml for tenant `tenant` of `root`.
fn rp(root: &str, tenant: &str) -> RpDescription {
    let toml = format!(
        "base_url = \"http://127.0.0.1:9\"\nclient_secret = \"attach-secret\"\n\
         group_map = {{ analysts = [\"read\"] }}\n[idp]\nissuer = \"{root}/t/{tenant}\"\n"
    );
    RpDescription::from_toml(&toml, "rp.toml").expect("valid rp.toml")
}

#[tokio::test]
async fn an_https_idp_is_attached_with_its_ca_or_through_its_plain_listener() {
    let idp = mock_idp::MockIdp::builder()
        .tls()
        .plain_alongside()
        .start()
        .await
        .expect("an https mock IdP");
    let root = idp.issuer().to_owned();
    assert!(root.starts_with("https://"), "{root}");
    let ca = std::env::temp_dir().join(format!("attached-tls-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, idp.ca_pem().expect("its CA")).expect("the CA file");

    // Over TLS, trusting its CA: the tenant is created through the admin API over https.
    let over_tls = IdpChoice::Attached {
        url: root.clone(),
        token: None,
        plain: None,
        ca_file: Some(ca.clone()),
    };
    let issuer = conformance::setup(&rp(&root, "over-tls"), &over_tls)
        .await
        .expect("set up over TLS");
    assert_eq!(issuer, format!("{root}/t/over-tls"));

    // Through the plain listener of the same server, as before.
    let through_plain = IdpChoice::Attached {
        url: root.clone(),
        token: None,
        plain: idp.plain_url(),
        ca_file: None,
    };
    let issuer = conformance::setup(&rp(&root, "via-plain"), &through_plain)
        .await
        .expect("set up through the plain listener");
    assert_eq!(issuer, format!("{root}/t/via-plain"));

    // Without its CA the certificate is not trusted, and the error says so.
    let untrusted = IdpChoice::Attached {
        url: root.clone(),
        token: None,
        plain: None,
        ca_file: None,
    };
    let e = conformance::setup(&rp(&root, "untrusted"), &untrusted)
        .await
        .expect_err("an untrusted certificate")
        .to_string();
    assert!(e.contains("certificate") && e.contains("--idp-ca"), "{e}");
    let _ = std::fs::remove_file(ca);
}
