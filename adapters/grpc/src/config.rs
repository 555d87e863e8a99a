//! A `[networks.<id>]` table that uses this adapter: where the partner is, how the switch
//! proves who it talks to (TLS with the partner's CA, mutual TLS with a client identity),
//! and the profile, when it is given here rather than fetched.
use std::path::PathBuf;

use kakehashi_adapter_core::{AdapterError, CodePattern, describe_toml_error};
use kakehashi_proto::v1 as pb;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::ADAPTER_KIND;
use crate::limits::{
    CONNECT_TIMEOUT_MS_DEFAULT, CONNECT_TIMEOUT_MS_MAX, MESSAGE_BYTES_DEFAULT, MESSAGE_BYTES_MAX,
    MESSAGE_BYTES_MIN,
};
use crate::tls::{ClientTls, Target};

/// `[networks.<id>]` with `adapter = "grpc"`.
///
/// ```toml
/// [networks.kpay]
/// adapter = "grpc"
/// endpoint = "https://wallet-gateway.kpay.example:443"  # http:// only for loopback
/// ca_path = "/etc/kakehashi/kpay-ca.pem"     # or ca_pem = "-----BEGIN CERTIFICATE-----..."
/// client_cert_path = "/etc/kakehashi/kpay-client.pem"   # mutual TLS: both or neither
/// client_key_path = "/etc/kakehashi/kpay-client.key"    # (or client_cert_pem/client_key_pem)
/// tls_server_name = "wallet-gateway.kpay.example"       # default: the endpoint's host
/// connect_timeout_ms = 3000
/// message_bytes_max = 65536
/// # Without [networks.kpay.profile] the profile is fetched with GetProfile at start.
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `"grpc"` when present: the switch strips it from the tables it reads, a table used
    /// directly may still carry it.
    #[serde(default)]
    pub adapter: Option<String>,
    pub endpoint: String,
    #[serde(default)]
    pub ca_pem: Option<String>,
    #[serde(default)]
    pub ca_path: Option<PathBuf>,
    #[serde(default)]
    pub client_cert_pem: Option<String>,
    #[serde(default)]
    pub client_cert_path: Option<PathBuf>,
    #[serde(default)]
    pub client_key_pem: Option<SecretString>,
    #[serde(default)]
    pub client_key_path: Option<PathBuf>,
    #[serde(default)]
    pub tls_server_name: Option<String>,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_message_bytes_max")]
    pub message_bytes_max: usize,
    #[serde(default)]
    pub profile: Option<ProfileConfig>,
}

fn default_connect_timeout_ms() -> u64 {
    CONNECT_TIMEOUT_MS_DEFAULT
}

fn default_message_bytes_max() -> usize {
    MESSAGE_BYTES_DEFAULT
}

/// `[networks.<id>.profile]`: the profile as the partner documents it, for a partner that
/// does not serve `GetProfile` (or one the operator pins). Checked like a fetched one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    pub display_name: String,
    /// Merchant-side ISO 4217 codes, e.g. `["JPY"]`.
    pub currencies: Vec<String>,
    pub code_patterns: Vec<CodePattern>,
    pub capabilities: CapabilitiesConfig,
    pub timing: TimingConfig,
    /// The name of the id this network gives each merchant and needs on every request;
    /// the switch then insists on `[merchants.network_ids] <network>`.
    #[serde(default)]
    pub merchant_id_required: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesConfig {
    #[serde(default)]
    pub customer_presented: bool,
    #[serde(default)]
    pub merchant_presented: bool,
    #[serde(default)]
    pub partial_refund: bool,
    #[serde(default)]
    pub multiple_refunds: bool,
    #[serde(default)]
    pub refund_query: bool,
    #[serde(default)]
    pub refund_idempotent: bool,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingConfig {
    pub payment_deadline_ms: u32,
    pub query_first_delay_ms: u32,
    pub query_interval_ms: u32,
    #[serde(default)]
    pub reverse_not_before_ms: u32,
    pub call_timeout_ms: u32,
}

/// The checked table: everything [`GrpcWallet::connect`](crate::GrpcWallet::connect) needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub target: Target,
    pub connect_timeout_ms: u64,
    pub message_bytes_max: usize,
    /// `None`: fetch it with `GetProfile`.
    pub profile: Option<pb::NetworkProfile>,
}

// === impl Config ===

impl Config {
    /// Parses and checks the table of network `id`, reading the PEM files it names.
    pub fn from_table(id: &str, table: &toml::Table) -> Result<Settings, AdapterError> {
        let bad = |detail: String| AdapterError::Config {
            network: id.to_owned(),
            detail,
        };
        let config: Config = table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| bad(describe_toml_error(&e, None)))?;
        if let Some(adapter) = config.adapter.as_deref()
            && adapter != ADAPTER_KIND
        {
            return Err(bad(format!("adapter must be \"{ADAPTER_KIND}\" here")));
        }
        if !(1..=CONNECT_TIMEOUT_MS_MAX).contains(&config.connect_timeout_ms) {
            return Err(bad(format!(
                "connect_timeout_ms must be 1..={CONNECT_TIMEOUT_MS_MAX}"
            )));
        }
        if !(MESSAGE_BYTES_MIN..=MESSAGE_BYTES_MAX).contains(&config.message_bytes_max) {
            return Err(bad(format!(
                "message_bytes_max must be {MESSAGE_BYTES_MIN}..={MESSAGE_BYTES_MAX}"
            )));
        }
        let tls = config.client_tls().map_err(&bad)?;
        let target = Target::parse(&config.endpoint, tls).map_err(&bad)?;
        Ok(Settings {
            target,
            connect_timeout_ms: config.connect_timeout_ms,
            message_bytes_max: config.message_bytes_max,
            profile: config.profile.as_ref().map(|p| p.to_pb(id)),
        })
    }

    /// The TLS material the table names, read and parsed; `None` when it names none.
    fn client_tls(&self) -> Result<Option<ClientTls>, String> {
        let ca = pem_from("ca_pem", self.ca_pem.clone(), "ca_path", &self.ca_path)?;
        let cert = pem_from(
            "client_cert_pem",
            self.client_cert_pem.clone(),
            "client_cert_path",
            &self.client_cert_path,
        )?;
        let key = pem_from(
            "client_key_pem",
            self.client_key_pem
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            "client_key_path",
            &self.client_key_path,
        )?;
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, SecretString::from(key))),
            (None, None) => None,
            _ => {
                return Err(
                    "mutual TLS needs both a client certificate and its key (client_cert_* and \
                     client_key_*), or neither"
                        .into(),
                );
            }
        };
        match (ca, identity) {
            (None, None) if self.tls_server_name.is_none() => Ok(None),
            (None, _) => Err(
                "TLS needs the partner's CA (ca_pem or ca_path): the switch trusts no other root \
                 for a partner"
                    .into(),
            ),
            (Some(ca), identity) => {
                ClientTls::new(ca, identity, self.tls_server_name.clone()).map(Some)
            }
        }
    }
}

/// One PEM given inline or by path (not both).
fn pem_from(
    inline_key: &str,
    inline: Option<String>,
    path_key: &str,
    path: &Option<PathBuf>,
) -> Result<Option<String>, String> {
    match (inline, path) {
        (Some(_), Some(_)) => Err(format!("give {inline_key} or {path_key}, not both")),
        (Some(pem), None) => Ok(Some(pem)),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(Some)
            .map_err(|e| format!("{path_key} {}: {e}", path.display())),
        (None, None) => Ok(None),
    }
}

// === impl ProfileConfig ===

impl ProfileConfig {
    /// The profile as `GetProfile` would carry it, so one check serves both.
    pub fn to_pb(&self, id: &str) -> pb::NetworkProfile {
        let c = self.capabilities;
        let t = self.timing;
        pb::NetworkProfile {
            merchant_id_required: self.merchant_id_required.clone().unwrap_or_default(),
            network_id: id.to_owned(),
            display_name: self.display_name.clone(),
            code_patterns: self
                .code_patterns
                .iter()
                .map(|p| pb::CodePattern {
                    prefix: p.prefix.clone(),
                    length_min: u32::try_from(p.length_min).unwrap_or(u32::MAX),
                    length_max: u32::try_from(p.length_max).unwrap_or(u32::MAX),
                    brand: p.brand.clone().unwrap_or_default(),
                })
                .collect(),
            currencies: self.currencies.clone(),
            capabilities: Some(pb::Capabilities {
                customer_presented: c.customer_presented,
                merchant_presented: c.merchant_presented,
                partial_refund: c.partial_refund,
                multiple_refunds: c.multiple_refunds,
                refund_query: c.refund_query,
                refund_idempotent: c.refund_idempotent,
            }),
            timing: Some(pb::Timing {
                payment_deadline_ms: t.payment_deadline_ms,
                query_first_delay_ms: t.query_first_delay_ms,
                query_interval_ms: t.query_interval_ms,
                reverse_not_before_ms: t.reverse_not_before_ms,
                call_timeout_ms: t.call_timeout_ms,
            }),
        }
    }
}
