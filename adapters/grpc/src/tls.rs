//! Where the partner is and how the switch knows it is the partner: `https://` with the CA
//! the operator names for this partner (no public roots), optionally with a client identity
//! for mutual TLS; `http://` only to a loopback address, where there is no wire to tap.
use std::net::IpAddr;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, Uri};

/// TLS material for one partner, checked to parse.
#[derive(Debug, Clone)]
pub struct ClientTls {
    ca_pem: String,
    identity: Option<(String, SecretString)>,
    server_name: Option<String>,
}

/// The partner's endpoint with how to reach it.
#[derive(Debug, Clone)]
pub struct Target {
    url: String,
    tls: Option<ClientTls>,
}

// === impl ClientTls ===

impl ClientTls {
    /// The CA must hold at least one certificate; a client identity must be a certificate
    /// chain and a private key. Keys never appear in errors.
    pub fn new(
        ca_pem: String,
        identity: Option<(String, SecretString)>,
        server_name: Option<String>,
    ) -> Result<Self, String> {
        certificates("the partner's CA (ca_pem/ca_path)", &ca_pem)?;
        if let Some((cert, key)) = &identity {
            certificates("the client certificate", cert)?;
            PrivateKeyDer::from_pem_slice(key.expose_secret().as_bytes()).map_err(|_| {
                "the client key is not a PEM private key (PKCS#8, PKCS#1 or SEC1)".to_owned()
            })?;
        }
        if let Some(name) = &server_name
            && (name.is_empty() || name.len() > 253)
        {
            return Err("tls_server_name must be 1..=253 characters".into());
        }
        Ok(Self {
            ca_pem,
            identity,
            server_name,
        })
    }

    pub fn is_mutual(&self) -> bool {
        self.identity.is_some()
    }

    fn config(&self) -> ClientTlsConfig {
        let mut config =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(self.ca_pem.as_bytes()));
        if let Some((cert, key)) = &self.identity {
            config = config.identity(Identity::from_pem(cert, key.expose_secret()));
        }
        if let Some(name) = &self.server_name {
            config = config.domain_name(name.clone());
        }
        config
    }
}

fn certificates(what: &str, pem: &str) -> Result<(), String> {
    let mut count = 0usize;
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        cert.map_err(|_| format!("{what} is not PEM certificates"))?;
        count += 1;
    }
    if count == 0 {
        return Err(format!("{what} holds no PEM certificate"));
    }
    Ok(())
}

// === impl Target ===

impl Target {
    /// `https://host[:port]` with TLS material, or `http://` to a loopback host without it.
    pub fn parse(endpoint: &str, tls: Option<ClientTls>) -> Result<Self, String> {
        let uri: Uri = endpoint
            .parse()
            .map_err(|_| format!("endpoint `{}` is not a URL", excerpt(endpoint)))?;
        let host = uri.host().unwrap_or_default();
        if host.is_empty() || !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!(
                "endpoint `{}` must be scheme://host[:port] with no path",
                excerpt(endpoint)
            ));
        }
        match (uri.scheme_str(), &tls) {
            (Some("https"), Some(_)) => {}
            (Some("https"), None) => {
                return Err(
                    "an https:// endpoint needs the partner's CA (ca_pem or ca_path)".into(),
                );
            }
            (Some("http"), None) if is_loopback(host) => {}
            (Some("http"), None) => {
                return Err(format!(
                    "endpoint `{}` is plaintext to a host that is not loopback: use https:// \
                     with the partner's CA (payment codes must not cross a network in clear)",
                    excerpt(endpoint)
                ));
            }
            (Some("http"), Some(_)) => {
                return Err("TLS material is given but the endpoint is http://".into());
            }
            _ => return Err("endpoint must start with https:// (or http:// to loopback)".into()),
        }
        Ok(Self {
            url: endpoint.trim_end_matches('/').to_owned(),
            tls,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn tls(&self) -> Option<&ClientTls> {
        self.tls.as_ref()
    }

    /// A tonic endpoint with every option the adapter relies on spelled out.
    pub fn endpoint(&self, connect_timeout: Duration) -> Result<Endpoint, String> {
        let mut endpoint = Endpoint::from_shared(self.url.clone())
            .map_err(|e| format!("endpoint: {e}"))?
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10));
        if let Some(tls) = &self.tls {
            endpoint = endpoint
                .tls_config(tls.config())
                .map_err(|e| format!("TLS: {e}"))?;
        }
        Ok(endpoint)
    }
}

/// `localhost`, 127.0.0.0/8 or `[::1]`.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn excerpt(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:5000",
            "http://127.8.0.1:5000",
            "http://localhost:5000",
            "http://[::1]:5000",
        ] {
            Target::parse(ok, None).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for refused in [
            "http://10.0.0.8:5000",
            "http://wallet.example:80",
            "http://0.0.0.0:5000",
        ] {
            let err = Target::parse(refused, None).unwrap_err();
            assert!(err.contains("not loopback"), "{refused}: {err}");
        }
        let err = Target::parse("https://wallet.example", None).unwrap_err();
        assert!(err.contains("CA"), "{err}");
        for malformed in ["ftp://127.0.0.1", "http://127.0.0.1:5/pay", "wallet", ""] {
            assert!(Target::parse(malformed, None).is_err(), "{malformed}");
        }
    }

    #[test]
    fn tls_material_must_parse_and_keys_stay_out_of_errors() {
        let err = ClientTls::new("not a pem".into(), None, None).unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
        let secret =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
        let cert = rcgen::generate_simple_self_signed(vec!["partner.test".into()]).unwrap();
        let err = ClientTls::new(
            cert.cert.pem(),
            Some(("junk".into(), SecretString::from(secret))),
            None,
        )
        .unwrap_err();
        assert!(!err.contains("c2VjcmV0"), "{err}");
        ClientTls::new(
            cert.cert.pem(),
            Some((
                cert.cert.pem(),
                SecretString::from(cert.signing_key.serialize_pem()),
            )),
            Some("partner.test".into()),
        )
        .expect("a real identity parses");
    }
}
