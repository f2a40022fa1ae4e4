//! HTTPS: a throw-away CA and a server certificate made at start (rcgen), or the user's own
//! certificate and key; rustls on aws-lc-rs terminates TLS in the accept loop. Many RP
//! libraries refuse a plain-HTTP issuer outside development mode: the RP trusts the CA's
//! PEM (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`...) and talks to the
//! mock as to a real provider.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// What serves HTTPS, and the CA to trust when it was made here.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    /// The generated CA's certificate (PEM); `None` for the user's own certificate.
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("generated_ca", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// A new CA (valid for this process only: its key is never written) and a certificate
    /// it signs for `hosts` (names or IP addresses).
    pub fn generate(hosts: &[String]) -> Result<Tls, String> {
        let bad = |e: rcgen::Error| format!("cannot make the TLS certificates: {e}");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(bad)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mock-idp throw-away CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(bad)?;
        let ca = ca_params.self_signed(&ca_key).map_err(bad)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let mut leaf_params = CertificateParams::new(hosts.to_vec()).map_err(bad)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "mock-idp");
        let leaf_key = KeyPair::generate().map_err(bad)?;
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(bad)?;
        let key = PrivateKeyDer::try_from(leaf_key.serialize_der())
            .map_err(|e| format!("cannot use the generated key: {e}"))?;
        let acceptor = acceptor(vec![leaf.der().clone(), ca.der().clone()], key)?;
        Ok(Tls {
            acceptor,
            ca_pem: Some(ca.pem()),
        })
    }

    /// The user's certificate chain and private key, PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Tls, String> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!(
                "--tls-cert {}: no CERTIFICATE in it",
                cert.display()
            ));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
        Ok(Tls {
            acceptor: acceptor(chain, key)?,
            ca_pem: None,
        })
    }
}

fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, String> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| format!("TLS certificate and key do not go together: {e}"))?;
    // The accept loop speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
