//! The double's TLS: a throw-away CA and a server certificate it signs for `127.0.0.1` and
//! `localhost`, so clients verify the double as they would verify the real vault, once they
//! trust the CA.

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// The CA and the server configuration it vouches for.
pub(super) struct TestTls {
    /// The CA certificate, PEM: what a client adds to its roots.
    pub(super) ca_pem: String,
    /// The server side, HTTP/1.1 only.
    pub(super) server: Arc<rustls::ServerConfig>,
}

/// Makes a fresh CA and a server certificate for the loopback names.
pub(super) fn test_tls() -> crate::Result<TestTls> {
    let ca_key = KeyPair::generate().context("generating the test CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Sigil Key Vault double test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().context("generating the server key")?;
    // rcgen turns names that parse as IP addresses into IP SANs.
    let mut server_params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let server_cert = server_params.signed_by(&server_key, &issuer)?;

    let chain = vec![
        CertificateDer::from(server_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TestTls {
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    })
}
