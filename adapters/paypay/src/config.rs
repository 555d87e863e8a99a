//! Where PayPay is and which API key signs for the merchant.
use kakehashi_adapter_core::{AdapterError, HttpSettings};
use secrecy::SecretString;
use serde::Deserialize;

use crate::NETWORK_ID;

/// `[networks.paypay]` in the switch config.
///
/// ```toml
/// base_url = "https://apigw.paypay.ne.jp"   # sandbox: https://apigw.sandbox.paypay.ne.jp
/// api_key = "a_..."
/// api_secret = "..."
/// content_type = "application/json"          # signed verbatim, so it must match what is sent
/// http = { request_timeout_ms = 30000 }       # PayPay asks for at least 30 s on create
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub base_url: String,
    pub api_key: String,
    pub api_secret: SecretString,
    #[serde(default = "default_content_type")]
    pub content_type: String,
    #[serde(default)]
    pub http: HttpSettings,
}

fn default_content_type() -> String {
    "application/json".into()
}

impl Config {
    pub fn from_table(table: &toml::Table) -> Result<Self, AdapterError> {
        let bad = |detail: String| AdapterError::Config {
            network: NETWORK_ID.into(),
            detail,
        };
        let config: Config = table.clone().try_into().map_err(|e: toml::de::Error| {
            bad(kakehashi_adapter_core::describe_toml_error(&e, None))
        })?;
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(bad("base_url must start with http:// or https://".into()));
        }
        if config.api_key.is_empty() {
            return Err(bad("api_key is required".into()));
        }
        Ok(config)
    }
}
