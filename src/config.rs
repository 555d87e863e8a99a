//! The switch's configuration file (TOML). Every endpoint, credential and key is here, so
//! one build talks to our simulators, a partner's sandbox or production unchanged.
//! `Config::parse` checks everything it can before anything starts.
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use kakehashi_adapter_core::CodePattern;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use kakehashi_adapter_core::describe_toml_error;

use crate::routing::PATTERNS_MAX;

/// Upper bounds on what one config may declare.
pub const MERCHANTS_MAX: usize = 10_000;
pub const TERMINALS_MAX: usize = 100_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address, e.g. "0.0.0.0:50051"; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `sqlite://path/to/kakehashi.db` (embedded default) or `postgres://user@host/db`.
    pub store_url: String,
    /// This process's name on payment leases, `[A-Za-z0-9.-]`, at most 64 characters. Every
    /// replica sharing a store needs its own; a restarted process keeps its name, so it
    /// takes over at once what its previous run left in doubt. Default: the host name.
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub merchants: Vec<MerchantConfig>,
    #[serde(default)]
    pub terminals: Vec<TerminalConfig>,
    /// The operator's staff and tools: their keys open `SettlementService` (and nothing a
    /// terminal can call opens it).
    #[serde(default)]
    pub operators: Vec<OperatorConfig>,
    /// The switch's own template in merchant-presented EMVCo codes (GUID, template ID).
    #[serde(default)]
    pub qr: crate::qr::QrSettings,
    /// One table per wallet network, keyed by the network's id ("linepay", "kpay", ...). The
    /// switch reads `adapter` (default: the id), `enabled`, `code_patterns` and `timing`;
    /// the rest goes to the adapter.
    #[serde(default)]
    pub networks: BTreeMap<String, toml::Table>,
    /// The compliance rules every payment is checked against (`routing::rules`); checked
    /// when the rule set is built at start (`RuleSet::from_config`).
    #[serde(default)]
    pub compliance: crate::routing::ComplianceConfig,
    /// Rates file, markups and rounding per network (`[fx]`).
    #[serde(default)]
    pub fx: crate::fx::FxConfig,
    /// Cut-offs, fees, tax, invoices and payouts (`[settlement]`).
    #[serde(default)]
    pub settlement: Option<crate::settlement::SettlementConfig>,
    /// The compliance audit log (src/audit/config.rs); without it nothing is checkpointed
    /// or served to auditors.
    #[serde(default)]
    pub audit: Option<crate::audit::AuditConfig>,
    /// The partner gateway listener (mutual TLS only, src/gateway/config.rs); without it
    /// partners cannot call the switch.
    #[serde(default)]
    pub partner_gateway: Option<crate::gateway::PartnerGatewayConfig>,
    /// Partner client certificates, each bound to exactly one network.
    #[serde(default)]
    pub partners: BTreeMap<String, crate::gateway::PartnerConfig>,
}

/// Server TLS (rustls). Without it the switch serves plaintext gRPC, for loopback only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector, e.g. "http://127.0.0.1:4317". Traces are exported only when set.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    #[serde(default)]
    pub log_filter: Option<String>,
    /// "text" (default) or "json"; `kakehashi serve --log-format` overrides it.
    #[serde(default)]
    pub log_format: crate::telemetry::LogFormat,
}

/// Limits and timings of the switch itself (the networks' own rules come from their
/// profiles, overridable per network under `timing`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// How long `Pay` waits for a final outcome before answering with the current state
    /// (AWAITING_CUSTOMER, AUTHORIZING); the switch keeps working on the payment.
    #[serde(default = "defaults::pay_wait_ms")]
    pub pay_wait_ms: u64,
    /// How long a driver's claim on a payment lasts without renewal; after a crash another
    /// instance (or the restarted one) takes over once it expires.
    #[serde(default = "defaults::lease_ms")]
    pub lease_ms: u64,
    /// How often the recovery task looks for payments and refunds in doubt.
    #[serde(default = "defaults::recovery_interval_ms")]
    pub recovery_interval_ms: u64,
    /// Reversal attempts before the switch stops and asks an operator to act.
    #[serde(default = "defaults::reverse_attempts_max")]
    pub reverse_attempts_max: u32,
    /// Payments driven at once by this instance; more wait in the store for recovery.
    #[serde(default = "defaults::payments_in_flight_max")]
    pub payments_in_flight_max: usize,
    /// Largest gRPC request accepted.
    #[serde(default = "defaults::request_bytes_max")]
    pub request_bytes_max: usize,
    /// Concurrent WatchPayment streams per instance.
    #[serde(default = "defaults::watchers_max")]
    pub watchers_max: usize,
    /// How long a refund may stay pending before the switch stops asking and an operator
    /// must look.
    #[serde(default = "defaults::refund_deadline_ms")]
    pub refund_deadline_ms: u64,
    /// The first wait before a refund the network has not taken is sent again under the same
    /// id; each later wait doubles, up to 64 times this.
    #[serde(default = "defaults::refund_resend_interval_ms")]
    pub refund_resend_interval_ms: u64,
}

mod defaults {
    pub fn pay_wait_ms() -> u64 {
        25_000
    }
    pub fn lease_ms() -> u64 {
        15_000
    }
    pub fn recovery_interval_ms() -> u64 {
        5_000
    }
    pub fn reverse_attempts_max() -> u32 {
        10
    }
    pub fn payments_in_flight_max() -> usize {
        1_024
    }
    pub fn request_bytes_max() -> usize {
        16 * 1024
    }
    pub fn watchers_max() -> usize {
        1_024
    }
    pub fn refund_deadline_ms() -> u64 {
        120_000
    }
    pub fn refund_resend_interval_ms() -> u64 {
        30_000
    }
}

impl Limits {
    /// Every limit is a positive number below a ceiling that keeps the switch's own
    /// structures (semaphores, buffers, timers) within what they can hold.
    fn validate(&self) -> Result<(), String> {
        const COUNT_CEILING: usize = 1_000_000;
        const MS_CEILING: u64 = 7 * 24 * 3_600_000;
        let counts = [
            ("payments_in_flight_max", self.payments_in_flight_max),
            ("watchers_max", self.watchers_max),
            ("request_bytes_max", self.request_bytes_max),
        ];
        for (name, value) in counts {
            if value == 0 || value > COUNT_CEILING {
                return Err(format!(
                    "limits.{name} must be between 1 and {COUNT_CEILING}"
                ));
            }
        }
        let durations = [
            ("pay_wait_ms", self.pay_wait_ms),
            ("lease_ms", self.lease_ms),
            ("recovery_interval_ms", self.recovery_interval_ms),
            ("refund_deadline_ms", self.refund_deadline_ms),
            ("refund_resend_interval_ms", self.refund_resend_interval_ms),
        ];
        for (name, value) in durations {
            if value == 0 || value > MS_CEILING {
                return Err(format!(
                    "limits.{name} must be between 1 and {MS_CEILING} ms"
                ));
            }
        }
        if self.reverse_attempts_max == 0 || self.reverse_attempts_max > 1_000 {
            return Err("limits.reverse_attempts_max must be between 1 and 1000".into());
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pay_wait_ms: defaults::pay_wait_ms(),
            lease_ms: defaults::lease_ms(),
            recovery_interval_ms: defaults::recovery_interval_ms(),
            reverse_attempts_max: defaults::reverse_attempts_max(),
            payments_in_flight_max: defaults::payments_in_flight_max(),
            request_bytes_max: defaults::request_bytes_max(),
            watchers_max: defaults::watchers_max(),
            refund_deadline_ms: defaults::refund_deadline_ms(),
            refund_resend_interval_ms: defaults::refund_resend_interval_ms(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    pub id: String,
    pub name: String,
    /// ISO 18245 merchant category code.
    #[serde(default = "default_category")]
    pub category_code: String,
    /// Networks this merchant accepts; routing refuses the others.
    pub networks: Vec<String>,
    /// The merchant's id at each network that assigns one (WeChat Pay `sub_mch_id`, ...).
    #[serde(default)]
    pub network_ids: BTreeMap<String, String>,
    /// What the merchant's EMVCo/JPQR codes show; without it the merchant has none.
    #[serde(default)]
    pub qr: Option<crate::qr::MerchantQrConfig>,
}

fn default_category() -> String {
    "5999".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalConfig {
    pub id: String,
    pub merchant_id: String,
    #[serde(default)]
    pub store_id: String,
    /// The terminal's API key in clear (development only) ...
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// ... or its SHA-256 in hex (production: the key itself never sits in the config).
    #[serde(default)]
    pub api_key_sha256: Option<String>,
}

/// An operator credential (`[[operators]]`), for `SettlementService`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    pub id: String,
    /// The key in clear (development only) ...
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// ... or its SHA-256 in hex.
    #[serde(default)]
    pub api_key_sha256: Option<String>,
}

/// Upper bound on `[[operators]]`.
pub const OPERATORS_MAX: usize = 100;

/// Per-network settings the switch itself reads before handing the table to the adapter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingOverride {
    pub payment_deadline_ms: Option<u64>,
    pub query_first_delay_ms: Option<u64>,
    pub query_interval_ms: Option<u64>,
    pub reverse_not_before_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The adapter that speaks to this network (a factory's kind): the `adapter` key, or the
    /// table's id. Several tables may name one adapter (`adapter = "grpc"`).
    pub adapter_kind: String,
    pub enabled: bool,
    pub code_patterns: Option<Vec<CodePattern>>,
    pub timing: TimingOverride,
    /// What remains: the adapter's own config.
    pub adapter: toml::Table,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config is not valid TOML for Kakehashi: {0}")]
    Parse(String),
    #[error("config: {0}")]
    Invalid(String),
}

// === impl Config ===

impl Config {
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Parse(describe_toml_error(&e, Some(text))))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        self.limits.validate().map_err(ConfigError::Invalid)?;
        if let Some(name) = &self.instance
            && (name.is_empty()
                || name.len() > INSTANCE_NAME_MAX
                || !name.chars().all(valid_instance_char))
        {
            return invalid(format!(
                "instance must be 1..={INSTANCE_NAME_MAX} characters of [A-Za-z0-9.-]"
            ));
        }
        if self.merchants.len() > MERCHANTS_MAX || self.terminals.len() > TERMINALS_MAX {
            return invalid("too many merchants or terminals".into());
        }
        self.qr.validate().map_err(ConfigError::Invalid)?;
        crate::gateway::config::validate(
            self.partner_gateway.as_ref(),
            &self.partners,
            &self.networks,
        )
        .map_err(ConfigError::Invalid)?;
        self.fx
            .policy()
            .map_err(|e| ConfigError::Invalid(format!("fx: {e}")))?;
        if let Some(settlement) = &self.settlement {
            settlement
                .build()
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            if let Some(id) = settlement
                .merchants
                .keys()
                .find(|id| !self.merchants.iter().any(|m| &m.id == *id))
            {
                return invalid(format!(
                    "settlement.merchants.{id} is not a merchant in [[merchants]]"
                ));
            }
        }
        let mut merchant_ids = BTreeSet::new();
        for m in &self.merchants {
            if let Some(qr) = &m.qr {
                qr.validate(&self.qr, m).map_err(ConfigError::Invalid)?;
            }
            if m.id.is_empty() || !merchant_ids.insert(m.id.as_str()) {
                return invalid(format!("merchant id `{}` is empty or repeated", m.id));
            }
            for n in &m.networks {
                if !self.networks.contains_key(n) {
                    return invalid(format!(
                        "merchant `{}` accepts `{n}`, which has no [networks.{n}]",
                        m.id
                    ));
                }
            }
        }
        let mut terminal_ids = BTreeSet::new();
        for t in &self.terminals {
            if t.id.is_empty() || !terminal_ids.insert(t.id.as_str()) {
                return invalid(format!("terminal id `{}` is empty or repeated", t.id));
            }
            if !merchant_ids.contains(t.merchant_id.as_str()) {
                return invalid(format!(
                    "terminal `{}` names unknown merchant `{}`",
                    t.id, t.merchant_id
                ));
            }
            t.api_key_hash().map_err(ConfigError::Invalid)?;
        }
        self.validate_operators()?;
        for (name, table) in &self.networks {
            let settings = NetworkSettings::from_table(name, table)?;
            if settings
                .code_patterns
                .as_ref()
                .is_some_and(|p| p.len() > PATTERNS_MAX)
            {
                return invalid(format!("networks.{name}.code_patterns has too many rows"));
            }
        }
        Ok(())
    }

    /// The configured instance name, or the host's name, or `kakehashi`.
    pub fn instance_name(&self) -> String {
        if let Some(name) = &self.instance {
            return name.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host: String = host
            .trim()
            .chars()
            .map(|c| if valid_instance_char(c) { c } else { '-' })
            .take(INSTANCE_NAME_MAX)
            .collect();
        if host.is_empty() {
            "kakehashi".to_owned()
        } else {
            host
        }
    }

    pub fn network_settings(&self) -> Result<BTreeMap<String, NetworkSettings>, ConfigError> {
        self.networks
            .iter()
            .map(|(name, table)| Ok((name.clone(), NetworkSettings::from_table(name, table)?)))
            .collect()
    }
}

// === impl Config (operators) ===

impl Config {
    /// Operator ids are unique and no operator key is also a terminal's: a key has one role.
    fn validate_operators(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.operators.len() > OPERATORS_MAX {
            return invalid(format!("at most {OPERATORS_MAX} [[operators]]"));
        }
        let terminal_hashes: BTreeSet<String> = self
            .terminals
            .iter()
            .filter_map(|t| t.api_key_hash().ok())
            .collect();
        let mut ids = BTreeSet::new();
        for o in &self.operators {
            if o.id.is_empty() || !ids.insert(o.id.as_str()) {
                return invalid(format!("operator id `{}` is empty or repeated", o.id));
            }
            let hash = o.api_key_hash().map_err(ConfigError::Invalid)?;
            if terminal_hashes.contains(&hash) {
                return invalid(format!("operator `{}` uses a terminal's API key", o.id));
            }
        }
        Ok(())
    }
}

// === impl TerminalConfig ===

impl TerminalConfig {
    /// SHA-256 (hex) of the terminal's API key, from whichever form the config gives.
    pub fn api_key_hash(&self) -> Result<String, String> {
        key_hash("terminal", &self.id, &self.api_key, &self.api_key_sha256)
    }
}

impl OperatorConfig {
    pub fn api_key_hash(&self) -> Result<String, String> {
        key_hash("operator", &self.id, &self.api_key, &self.api_key_sha256)
    }
}

/// SHA-256 (hex) of a credential's API key, from whichever form the config gives.
fn key_hash(
    kind: &str,
    id: &str,
    api_key: &Option<SecretString>,
    api_key_sha256: &Option<String>,
) -> Result<String, String> {
    match (api_key, api_key_sha256) {
        (Some(key), None) => {
            if key.expose_secret().len() < 16 {
                return Err(format!(
                    "{kind} `{id}`: api_key must be at least 16 characters"
                ));
            }
            Ok(hash_api_key(key.expose_secret()))
        }
        (None, Some(hash)) if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(hash.to_ascii_lowercase())
        }
        _ => Err(format!(
            "{kind} `{id}` needs exactly one of api_key or api_key_sha256 (64 hex digits)"
        )),
    }
}

const INSTANCE_NAME_MAX: usize = 64;

fn valid_instance_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// Lays `overlay` over `base`, table into table, so a harness that shortens a simulator's
/// `http.request_timeout_ms` keeps the `http.version` the simulator asked for.
pub fn overlay_table(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => {
                overlay_table(inner, over)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

// === impl NetworkSettings ===

impl NetworkSettings {
    fn from_table(name: &str, table: &toml::Table) -> Result<Self, ConfigError> {
        let mut adapter = table.clone();
        let bad =
            |field: &str, e: String| ConfigError::Invalid(format!("networks.{name}.{field}: {e}"));
        let adapter_kind = match adapter.remove("adapter") {
            None => name.to_owned(),
            Some(toml::Value::String(kind)) if !kind.is_empty() => kind,
            Some(_) => return Err(bad("adapter", "must name an adapter, e.g. \"grpc\"".into())),
        };
        let enabled = match adapter.remove("enabled") {
            None => true,
            Some(toml::Value::Boolean(b)) => b,
            Some(_) => return Err(bad("enabled", "must be true or false".into())),
        };
        let code_patterns = adapter
            .remove("code_patterns")
            .map(|v| {
                v.try_into::<Vec<CodePattern>>()
                    .map_err(|e| bad("code_patterns", describe_toml_error(&e, None)))
            })
            .transpose()?;
        if let Some(patterns) = &code_patterns {
            for p in patterns {
                let digits = !p.prefix.is_empty() && p.prefix.chars().all(|c| c.is_ascii_digit());
                if !digits || p.length_min > p.length_max || p.prefix.len() > p.length_max {
                    return Err(bad(
                        "code_patterns",
                        format!("bad row with prefix `{}`", p.prefix),
                    ));
                }
            }
        }
        let timing = adapter
            .remove("timing")
            .map(|v| {
                v.try_into::<TimingOverride>()
                    .map_err(|e| bad("timing", describe_toml_error(&e, None)))
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            adapter_kind,
            enabled,
            code_patterns,
            timing,
            adapter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_merges_nested_tables_and_replaces_values() {
        let mut base: toml::Table = "a = 1\nhttp = { version = \"http2\", request_timeout_ms = 5 }"
            .parse()
            .expect("base");
        let over: toml::Table = "a = 2\nb = 3\nhttp = { request_timeout_ms = 600 }"
            .parse()
            .expect("overlay");
        overlay_table(&mut base, over);
        let expected: toml::Table =
            "a = 2\nb = 3\nhttp = { version = \"http2\", request_timeout_ms = 600 }"
                .parse()
                .expect("expected");
        assert_eq!(base, expected);
    }

    const EXAMPLE: &str = include_str!("../deploy/kakehashi.example.toml");

    #[test]
    fn the_example_config_parses() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert!(!config.merchants.is_empty());
        assert!(config.network_settings().unwrap().contains_key("linepay"));
    }

    #[test]
    fn unknown_merchant_on_a_terminal_is_refused() {
        let text = r#"
            listen = "127.0.0.1:0"
            store_url = "sqlite://x.db"
            [[terminals]]
            id = "t1"
            merchant_id = "nobody"
            api_key = "0123456789abcdef"
        "#;
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(err.contains("unknown merchant"), "{err}");
    }

    #[test]
    fn a_mistyped_secret_is_reported_by_place_never_by_value() {
        let text = "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://x.db\"\n\n[[merchants]]\nid = \"m\"\nname = \"M\"\nnetworks = []\n\n[[terminals]]\nid = \"t1\"\nmerchant_id = \"m\"\napi_key = 73917391739173917391\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(!err.contains("7391"), "{err}");
        assert!(err.contains("line 12"), "{err}");
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        let base = "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://x.db\"\n[limits]\n";
        for bad in [
            "payments_in_flight_max = 0",
            "watchers_max = 18446744073709551615",
            "pay_wait_ms = 0",
        ] {
            let err = Config::parse(&format!("{base}{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("limits."), "{bad}: {err}");
        }
    }

    #[test]
    fn short_api_keys_are_refused() {
        let text = r#"
            listen = "127.0.0.1:0"
            store_url = "sqlite://x.db"
            [[merchants]]
            id = "m"
            name = "M"
            networks = []
            [[terminals]]
            id = "t1"
            merchant_id = "m"
            api_key = "short"
        "#;
        assert!(Config::parse(text).is_err());
    }
}
