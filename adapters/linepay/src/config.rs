//! The adapter's configuration: where LINE Pay is and which channel to sign as.
use iso_currency::Currency;
use kakehashi_adapter_core::{AdapterError, HttpSettings};
use secrecy::SecretString;
use serde::Deserialize;

use crate::NETWORK_ID;

/// `[networks.linepay]` in the switch config.
///
/// ```toml
/// base_url = "https://api-pay.line.me"   # sandbox: https://sandbox-api-pay.line.me
/// channel_id = "1234567890"
/// channel_secret = "..."
/// currencies = ["TWD"]                    # the channel's one currency (JPY: simulator only)
/// pay_timeout_ms = 40000                  # LINE Pay asks for at least 40 s on Pay
/// http = { connect_timeout_ms = 3000, request_timeout_ms = 20000 }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Scheme and host, no path: production `https://api-pay.line.me`.
    pub base_url: String,
    /// `X-LINE-ChannelId`: the merchant channel, a numeric string.
    pub channel_id: String,
    /// HMAC key for `X-LINE-Authorization`. Never logged.
    pub channel_secret: SecretString,
    /// Currencies the channel accepts. A LINE Pay merchant has exactly one; listing more
    /// is for a switch fronting several channels' simulators.
    #[serde(default = "default_currencies")]
    pub currencies: Vec<String>,
    /// Read timeout for Pay. LINE Pay documents at least 40 s; the switch's deadline still
    /// bounds the whole payment.
    #[serde(default = "default_pay_timeout_ms")]
    pub pay_timeout_ms: u64,
    /// `X-LINE-MerchantDeviceProfileId`, where the merchant center requires it.
    #[serde(default)]
    pub device_profile_id: Option<String>,
    #[serde(default)]
    pub http: HttpSettings,
}

fn default_currencies() -> Vec<String> {
    vec!["JPY".into(), "TWD".into(), "THB".into()]
}

fn default_pay_timeout_ms() -> u64 {
    40_000
}

// === impl Config ===

impl Config {
    pub fn from_table(table: &toml::Table) -> Result<Self, AdapterError> {
        let config: Config = table.clone().try_into().map_err(|e: toml::de::Error| {
            bad(kakehashi_adapter_core::describe_toml_error(&e, None))
        })?;
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(bad("base_url must start with http:// or https://".into()));
        }
        if config.channel_id.is_empty() || !config.channel_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("channel_id must be the numeric channel id".into()));
        }
        config.currencies()?;
        Ok(config)
    }

    pub fn currencies(&self) -> Result<Vec<Currency>, AdapterError> {
        self.currencies
            .iter()
            .map(|c| Currency::from_code(c).ok_or_else(|| bad(format!("unknown currency {c}"))))
            .collect()
    }
}

fn bad(detail: String) -> AdapterError {
    AdapterError::Config {
        network: NETWORK_ID.into(),
        detail,
    }
}
