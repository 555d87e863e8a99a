//! The acquirer's Alipay+ credentials, keys and routing table.
use kakehashi_adapter_core::{AdapterError, HttpSettings};
use secrecy::SecretString;
use serde::Deserialize;

use crate::NETWORK_ID;

/// `[networks.alipayplus]` in the switch config. Each merchant's `referenceMerchantId`
/// comes from `merchants.network_ids.alipayplus`.
///
/// ```toml
/// base_url = "https://open-sea.alipayplus.com"
/// client_id = "..."
/// private_key_pem = "-----BEGIN PRIVATE KEY-----..."       # ours (PKCS#8), signs requests
/// alipay_public_key_pem = "-----BEGIN PUBLIC KEY-----..."  # Alipay+'s, verifies replies
/// settlement_currency = "USD"
/// wallets = [{ routing_number = "010", brand = "KakaoPay" }]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub base_url: String,
    pub client_id: String,
    pub private_key_pem: SecretString,
    pub alipay_public_key_pem: String,
    /// The currency Alipay+ settles to us in (`settlementStrategy.settlementCurrency`).
    #[serde(default = "default_settlement_currency")]
    pub settlement_currency: String,
    /// CGCP routing numbers (positions 4-6 of a code) of member wallets, for identifying the
    /// wallet from the code before the payment. The real table comes with onboarding.
    #[serde(default)]
    pub wallets: Vec<RoutedWallet>,
    #[serde(default)]
    pub http: HttpSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutedWallet {
    pub routing_number: String,
    pub brand: String,
}

fn default_settlement_currency() -> String {
    "USD".into()
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
        if config.client_id.is_empty() {
            return Err(bad("client_id is required".into()));
        }
        for w in &config.wallets {
            if w.routing_number.len() != 3 || !w.routing_number.chars().all(|c| c.is_ascii_digit())
            {
                return Err(bad(format!(
                    "routing_number `{}` must be 3 digits",
                    w.routing_number
                )));
            }
        }
        Ok(config)
    }
}
