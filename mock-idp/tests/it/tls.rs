//! HTTPS: `MockIdp::builder().tls()` and `mock-idp serve --tls` make a throw-away CA and
//! serve with a certificate it signs; a client that trusts the CA talks to an https
//! issuer, one that does not is refused at the handshake; a silent client is closed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use mock_idp::MockIdp;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

fn connector(ca_pem: Option<&str>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// GET `url` over TLS, trusting `ca_pem` only: status and body, or the handshake's error.
async fn get(url: &str, ca_pem: Option<&str>) -> Result<(u16, Value), String> {
    let u = url::Url::parse(url).unwrap();
    let host = u.host_str().unwrap().to_owned();
    let tcp = tokio::net::TcpStream::connect((host.as_str(), u.port().unwrap()))
        .await
        .unwrap();
    let name = ServerName::try_from(host.clone()).unwrap();
    let tls = connector(ca_pem)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get(u.path())
        .header("host", host)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

#[tokio::test]
async fn an_https_issuer_for_clients_that_trust_its_ca() {
    let idp = MockIdp::builder().tls().start().await.unwrap();
    assert!(
        idp.issuer().starts_with("https://127.0.0.1:"),
        "{}",
        idp.issuer()
    );
    let ca = idp.ca_pem().expect("a generated CA");
    assert!(ca.contains("BEGIN CERTIFICATE"));
    let (status, doc) = get(&idp.discovery_url(), Some(ca)).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(doc["issuer"], idp.issuer());
    assert!(doc["jwks_uri"].as_str().unwrap().starts_with("https://"));
    let (status, jwks) = get(doc["jwks_uri"].as_str().unwrap(), Some(ca))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(!jwks["keys"].as_array().unwrap().is_empty());
    // Also valid for localhost.
    let localhost = idp.discovery_url().replace("127.0.0.1", "localhost");
    assert_eq!(get(&localhost, Some(ca)).await.unwrap().0, 200);
    // A client without the CA refuses the certificate.
    let e = get(&idp.discovery_url(), None).await.unwrap_err();
    assert!(
        e.contains("UnknownIssuer") || e.contains("unknown issuer"),
        "{e}"
    );
    // Each server its own CA.
    let other = MockIdp::builder().tls().start().await.unwrap();
    assert!(get(&other.discovery_url(), Some(ca)).await.is_err());
}

#[tokio::test]
async fn plain_alongside_serves_the_same_tenants_naming_the_https_issuer() {
    let idp = MockIdp::builder()
        .tls()
        .plain_alongside()
        .start()
        .await
        .unwrap();
    let plain = idp.plain_url().expect("a plain origin");
    assert!(plain.starts_with("http://127.0.0.1:"), "{plain}");
    let doc: Value = reqwest::get(format!("{plain}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], idp.issuer(), "the https issuer, still");
    // A tenant made through either listener is served by both.
    idp.create_tenant("acme", None).unwrap();
    let acme = format!("{plain}/t/acme/.well-known/openid-configuration");
    assert_eq!(reqwest::get(&acme).await.unwrap().status(), 200);
    let (status, _) = get(
        &format!("{}/t/acme/.well-known/openid-configuration", idp.issuer()),
        idp.ca_pem(),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    // Without TLS there is nothing to be alongside.
    let http_only = MockIdp::builder().plain_alongside().start().await.unwrap();
    assert_eq!(http_only.plain_url(), None);
}

#[tokio::test]
async fn a_client_that_never_says_hello_is_closed() {
    let idp = MockIdp::builder()
        .tls()
        .header_read_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(idp.addr()).await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("closed before the test's own limit")
        .unwrap_or(0);
    assert_eq!(n, 0, "closed, not answered");
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn unusable_certificate_files_are_named() {
    let dir = std::env::temp_dir().join(format!("mock-idp-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let e = MockIdp::builder()
        .tls_files(&cert, dir.join("missing-key.pem"))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("--tls-cert") && e.contains("cert.pem"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serve_tls_writes_the_ca_and_says_where() {
    let dir = std::env::temp_dir().join(format!("mock-idp-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_out = dir.join("ca.pem");
    let (mut child, ready) =
        crate::support::spawn_serve(&["--tls", "--tls-ca-out", ca_out.to_str().unwrap()]);
    let issuer = ready.issuer();
    assert!(issuer.starts_with("https://127.0.0.1:"), "{}", ready.0);
    assert_eq!(ready.get("ca").as_deref(), ca_out.to_str(), "{}", ready.0);
    let ca = std::fs::read_to_string(&ca_out).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = format!("{issuer}/.well-known/openid-configuration");
    let (status, doc) = rt.block_on(get(&url, Some(&ca))).unwrap();
    assert_eq!(
        (status, doc["issuer"].as_str()),
        (200, Some(issuer.as_str()))
    );
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `serve --tls --plain-alongside` says where the plain listener is, and it serves the same
/// tenant, naming the https issuer; without --tls the flag is refused.
#[test]
fn serve_plain_alongside_says_where_and_names_the_https_issuer() {
    let (mut child, ready) = crate::support::spawn_serve(&["--tls", "--plain-alongside"]);
    let issuer = ready.issuer();
    assert!(issuer.starts_with("https://"), "{}", ready.0);
    let plain = ready.get("plain").expect("plain= in the ready line");
    assert!(plain.starts_with("http://127.0.0.1:"), "{}", ready.0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let doc: Value = rt.block_on(async {
        reqwest::get(format!("{plain}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(doc["issuer"].as_str(), Some(issuer.as_str()));
    child.kill().unwrap();
    child.wait().unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["serve", "--addr", "127.0.0.1:0", "--plain-alongside"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--plain-alongside needs --tls"), "{err}");
}
