//! Who is calling: the SHA-256 fingerprint of the client certificate the TLS handshake
//! verified, looked up in `[partners.<name>]`. The handshake already refused a connection
//! without a certificate from the partners' CA; a verified certificate bound to no partner
//! is UNAUTHENTICATED here, before any handler reads the request.
use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

use super::config::{PartnerConfig, normalize_fingerprint};
use super::reason::GatewayReason;

/// The partner a request speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its `[partners.<name>]` name, for logs.
    pub name: String,
    /// The one network it acts for.
    pub network: String,
}

/// Certificate fingerprint (lower-case hex) to partner.
#[derive(Debug, Clone, Default)]
pub struct PartnerDirectory {
    by_fingerprint: Arc<HashMap<String, Partner>>,
}

// === impl PartnerDirectory ===

impl PartnerDirectory {
    pub fn new<'a>(partners: impl IntoIterator<Item = (&'a String, &'a PartnerConfig)>) -> Self {
        let mut by_fingerprint = HashMap::new();
        for (name, config) in partners {
            for fingerprint in &config.cert_sha256 {
                if let Some(hex) = normalize_fingerprint(fingerprint) {
                    by_fingerprint.insert(
                        hex,
                        Partner {
                            name: name.clone(),
                            network: config.network.clone(),
                        },
                    );
                }
            }
        }
        Self {
            by_fingerprint: Arc::new(by_fingerprint),
        }
    }

    /// The partner of the request's leaf client certificate.
    #[allow(clippy::result_large_err)]
    pub fn identify<T>(&self, request: &Request<T>) -> Result<Partner, Status> {
        let unknown = || {
            GatewayReason::ClientCertUnknown.status(
                "the client certificate is bound to no partner network in this switch's config",
                &[],
            )
        };
        let certs = request.peer_certs().ok_or_else(unknown)?;
        let leaf = certs.first().ok_or_else(unknown)?;
        let fingerprint = hex::encode(Sha256::digest(leaf.as_ref()));
        match self.by_fingerprint.get(&fingerprint) {
            Some(partner) => Ok(partner.clone()),
            None => {
                tracing::info!(
                    fingerprint = %fingerprint,
                    "Partner refused: client certificate bound to no network"
                );
                Err(unknown())
            }
        }
    }
}
