//! `[partner_gateway]` and `[partners.<name>]` in the switch's config: the partner
//! listener (always mutual TLS) and which client certificate speaks for which network.
//!
//! ```toml
//! [partner_gateway]
//! listen = "0.0.0.0:7450"                # partners only; never the terminals' port
//! cert_path = "partner-listener.pem"
//! key_path = "partner-listener.key"
//! client_ca_path = "partners-ca.pem"     # the CA(s) partner client certificates chain to
//! [partners.kpay-prod]
//! network = "kpay"                       # one [networks.<id>] table
//! cert_sha256 = ["<64 hex digits>"]      # SHA-256 of the client certificate (DER)
//! ```
//!
//! A partner is bound by the SHA-256 fingerprint of its certificate, not by a subject name:
//! a CA that signs certificates for several parties (or a misissued certificate with the same
//! CN or SAN) cannot impersonate a partner, and nothing depends on how a CA spells names. Two
//! fingerprints may be listed per partner, so a certificate is rotated without downtime.
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Partners one config may list.
pub const PARTNERS_MAX: usize = 1_000;
/// Certificates one partner may have bound at once (current and next).
pub const CERTS_PER_PARTNER_MAX: usize = 4;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerGatewayConfig {
    /// Where partners connect; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// The listener's certificate chain and key (PEM).
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// CA certificates (PEM) a partner's client certificate must chain to; a connection
    /// without such a certificate fails in the handshake.
    pub client_ca_path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    /// The network this partner speaks for, exactly one `[networks.<id>]`.
    pub network: String,
    /// SHA-256 (hex, any case) of each accepted client certificate's DER encoding:
    /// `openssl x509 -in partner.pem -outform DER | sha256sum`.
    pub cert_sha256: Vec<String>,
}

/// Checks the partner tables against each other and the configured networks: every
/// fingerprint is well formed and bound once, every network exists, and partners need the
/// listener.
pub fn validate(
    gateway: Option<&PartnerGatewayConfig>,
    partners: &BTreeMap<String, PartnerConfig>,
    networks: &BTreeMap<String, toml::Table>,
) -> Result<(), String> {
    if partners.len() > PARTNERS_MAX {
        return Err(format!("at most {PARTNERS_MAX} [partners.<name>] tables"));
    }
    if gateway.is_none() && !partners.is_empty() {
        return Err("[partners.<name>] needs a [partner_gateway] listener".into());
    }
    let mut seen = BTreeSet::new();
    for (name, partner) in partners {
        if !networks.contains_key(&partner.network) {
            return Err(format!(
                "partners.{name}.network `{}` has no [networks.{}]",
                partner.network, partner.network
            ));
        }
        if partner.cert_sha256.is_empty() || partner.cert_sha256.len() > CERTS_PER_PARTNER_MAX {
            return Err(format!(
                "partners.{name}.cert_sha256 must list 1 to {CERTS_PER_PARTNER_MAX} fingerprints"
            ));
        }
        for fingerprint in &partner.cert_sha256 {
            let normal = normalize_fingerprint(fingerprint).ok_or_else(|| {
                format!("partners.{name}.cert_sha256: each entry must be 64 hex digits")
            })?;
            if !seen.insert(normal) {
                return Err(format!(
                    "partners.{name}.cert_sha256: a certificate is bound to more than one partner"
                ));
            }
        }
    }
    Ok(())
}

/// Lower-case hex of a 32-byte digest; colons (as `openssl -fingerprint` prints) allowed.
pub fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn networks() -> BTreeMap<String, toml::Table> {
        BTreeMap::from([("kpay".to_owned(), toml::Table::new())])
    }

    fn partner(network: &str, certs: &[&str]) -> PartnerConfig {
        PartnerConfig {
            network: network.into(),
            cert_sha256: certs.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    fn gateway() -> PartnerGatewayConfig {
        PartnerGatewayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            cert_path: "c".into(),
            key_path: "k".into(),
            client_ca_path: "ca".into(),
        }
    }

    #[test]
    fn fingerprints_are_checked_and_bound_once() {
        let a = "ab".repeat(32);
        let ok = BTreeMap::from([("k".to_owned(), partner("kpay", &[&a]))]);
        assert_eq!(validate(Some(&gateway()), &ok, &networks()), Ok(()));
        assert!(validate(None, &ok, &networks()).is_err());
        let short = BTreeMap::from([("k".to_owned(), partner("kpay", &["abcd"]))]);
        assert!(validate(Some(&gateway()), &short, &networks()).is_err());
        let unknown = BTreeMap::from([("k".to_owned(), partner("tpay", &[&a]))]);
        assert!(validate(Some(&gateway()), &unknown, &networks()).is_err());
        let upper = a.to_ascii_uppercase();
        let twice = BTreeMap::from([
            ("k".to_owned(), partner("kpay", &[&a])),
            ("l".to_owned(), partner("kpay", &[&upper])),
        ]);
        assert!(validate(Some(&gateway()), &twice, &networks()).is_err());
    }

    #[test]
    fn colon_separated_fingerprints_normalise() {
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(normalize_fingerprint(&colons), Some("ab".repeat(32)));
    }
}
