//! The simulator's TLS: a throwaway CA, a server certificate for 127.0.0.1/localhost and
//! a client certificate (WeChat's `apiclient_cert`), generated at start-up. Client
//! certificates are optional at the handshake and required per path (`/secapi/`), as
//! WeChat Pay does.
use std::sync::Arc;

use kakehashi_adapter_core::AdapterError;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// PEM material an adapter needs to talk to this simulator.
pub struct Material {
    pub server: Arc<rustls::ServerConfig>,
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

fn err(e: impl std::fmt::Display) -> AdapterError {
    AdapterError::Simulator(format!("TLS set-up: {e}"))
}

pub fn generate() -> Result<Material, AdapterError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Kakehashi WeChat Pay simulator CA");
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;

    let server_key = KeyPair::generate().map_err(err)?;
    let server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(err)?;
    let server_cert = server_params.signed_by(&server_key, &ca).map_err(err)?;

    let client_key = KeyPair::generate().map_err(err)?;
    let mut client_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    client_params.distinguished_name.push(
        DnType::CommonName,
        "apiclient (simulated merchant institution)",
    );
    let client_cert = client_params.signed_by(&client_key, &ca).map_err(err)?;

    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).map_err(err)?;
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .allow_unauthenticated()
        .build()
        .map_err(err)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![server_cert.der().clone(), ca.der().clone()];
    let mut server = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(err)?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Material {
        server: Arc::new(server),
        ca_pem: ca.pem(),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    })
}
