//! What makes one reference partner a Korean wallet and another a Thai one: its id, name,
//! code prefix, currencies, FX rates and timing, from `kakehashi sim grpc-wallet` flags or a
//! test's table. Checked like a real partner's profile before the partner starts.
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use iso_currency::Currency;
use kakehashi_adapter_core::money::parse_currency;
use kakehashi_adapter_core::{
    AdapterError, Capabilities, CodePattern, NetworkProfile, Timing, describe_toml_error,
};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::books::Rules;
use crate::config::TimingConfig;

/// The code length the partner issues: the prefix, then random digits.
const CODE_LENGTH: usize = 20;

/// Rates a partner offers without being told: wallet-currency units per one yen, round
/// figures for a sandbox, not market data.
const DEFAULT_RATES: [(Currency, Currency, &str); 7] = [
    (Currency::KRW, Currency::JPY, "9.2"),
    (Currency::THB, Currency::JPY, "0.23"),
    (Currency::TWD, Currency::JPY, "0.21"),
    (Currency::HKD, Currency::JPY, "0.052"),
    (Currency::CNY, Currency::JPY, "0.048"),
    (Currency::SGD, Currency::JPY, "0.0089"),
    (Currency::USD, Currency::JPY, "0.0067"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// The network id, as in `[networks.<id>]`.
    #[serde(default = "default_network")]
    pub network: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Codes the partner issues start with these digits.
    #[serde(default = "default_prefix")]
    pub code_prefix: String,
    /// Merchant-side currencies the partner prices in.
    #[serde(default = "default_currencies")]
    pub currencies: Vec<String>,
    /// The currency the partner's own wallets hold (default: the first merchant currency).
    #[serde(default)]
    pub wallet_currency: Option<String>,
    /// Wallet-currency units per one merchant-currency unit, by merchant currency, e.g.
    /// `{ JPY = "9.2" }`; exact decimal strings.
    #[serde(default)]
    pub rates: BTreeMap<String, String>,
    #[serde(default)]
    pub timing: Option<TimingConfig>,
    #[serde(default)]
    pub tls: Option<ServerTlsSettings>,
}

/// The partner's server identity (and, for mutual TLS, the CA its clients must chain to).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsSettings {
    pub cert_pem: String,
    pub key_pem: String,
    /// The CA that signed `cert_pem`, printed into the adapter table.
    pub ca_pem: String,
    /// The name in `cert_pem` the adapter checks.
    pub server_name: String,
    #[serde(default)]
    pub client_ca_pem: Option<String>,
}

fn default_network() -> String {
    crate::ADAPTER_KIND.into()
}

fn default_prefix() -> String {
    "93".into()
}

fn default_currencies() -> Vec<String> {
    vec!["JPY".into()]
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            network: default_network(),
            display_name: None,
            code_prefix: default_prefix(),
            currencies: default_currencies(),
            wallet_currency: None,
            rates: BTreeMap::new(),
            timing: None,
            tls: None,
        }
    }
}

// === impl SimSettings ===

impl SimSettings {
    pub fn from_table(table: &toml::Table) -> Result<Self, AdapterError> {
        table.clone().try_into().map_err(|e: toml::de::Error| {
            AdapterError::Simulator(format!(
                "grpc-wallet settings: {}",
                describe_toml_error(&e, None)
            ))
        })
    }

    /// The profile the partner serves and the rules its books keep, checked the way the
    /// adapter checks a real partner's.
    pub fn profile_and_rules(&self) -> Result<(NetworkProfile, Rules), AdapterError> {
        let bad = |detail: String| AdapterError::Simulator(format!("grpc-wallet: {detail}"));
        let prefix_ok = !self.code_prefix.is_empty()
            && self.code_prefix.len() <= 12
            && self.code_prefix.bytes().all(|b| b.is_ascii_digit());
        if !prefix_ok {
            return Err(bad("code prefix must be 1..=12 digits".into()));
        }
        let currencies = self
            .currencies
            .iter()
            .map(|c| parse_currency(c).map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let first = *currencies
            .first()
            .ok_or_else(|| bad("give at least one merchant currency".into()))?;
        let wallet_currency = match &self.wallet_currency {
            Some(code) => parse_currency(code).map_err(|e| bad(e.to_string()))?,
            None => first,
        };
        let rates = self.rates(wallet_currency, &currencies).map_err(bad)?;
        let name = self
            .display_name
            .clone()
            .unwrap_or_else(|| format!("{} wallet", self.network));
        let timing = self.timing.unwrap_or(TimingConfig {
            payment_deadline_ms: 30_000,
            query_first_delay_ms: 500,
            query_interval_ms: 500,
            reverse_not_before_ms: 0,
            call_timeout_ms: 5_000,
        });
        let ms = |v: u32| Duration::from_millis(u64::from(v));
        let profile = NetworkProfile {
            id: self.network.clone(),
            display_name: name.clone(),
            code_patterns: vec![
                CodePattern::new(&self.code_prefix, CODE_LENGTH, CODE_LENGTH).with_brand(&name),
            ],
            currencies: currencies.clone(),
            capabilities: Capabilities {
                customer_presented: true,
                merchant_presented: true,
                partial_refund: true,
                multiple_refunds: true,
                refund_query: true,
                refund_idempotent: true,
            },
            timing: Timing {
                payment_deadline: ms(timing.payment_deadline_ms),
                query_first_delay: ms(timing.query_first_delay_ms),
                query_interval: ms(timing.query_interval_ms),
                reverse_not_before: ms(timing.reverse_not_before_ms),
                call_timeout: ms(timing.call_timeout_ms),
            },
            merchant_id_required: None,
        };
        // The partner serves nothing the adapter would refuse.
        crate::profile::validate(&crate::profile::to_pb(&profile), &self.network)
            .map_err(|e| bad(e.to_string()))?;
        let rules = Rules {
            display_name: name,
            code_prefix: self.code_prefix.clone(),
            code_length: CODE_LENGTH,
            currencies,
            wallet_currency,
            rates,
        };
        Ok((profile, rules))
    }

    /// A rate for every merchant currency the wallet's is not: given, or a default.
    fn rates(
        &self,
        wallet: Currency,
        merchant: &[Currency],
    ) -> Result<BTreeMap<Currency, Decimal>, String> {
        let mut rates = BTreeMap::new();
        for (code, rate) in &self.rates {
            let currency = parse_currency(code).map_err(|e| e.to_string())?;
            kakehashi_adapter_core::money::check_exact_decimal(rate)
                .map_err(|e| format!("rate for {code}: {e}"))?;
            let rate = Decimal::from_str(rate).map_err(|e| format!("rate for {code}: {e}"))?;
            if rate <= Decimal::ZERO {
                return Err(format!("rate for {code} must be positive"));
            }
            rates.insert(currency, rate);
        }
        for &m in merchant.iter().filter(|&&m| m != wallet) {
            if rates.contains_key(&m) {
                continue;
            }
            let default = DEFAULT_RATES
                .iter()
                .find(|(w, c, _)| *w == wallet && *c == m)
                .and_then(|(_, _, r)| Decimal::from_str(r).ok())
                .ok_or_else(|| {
                    format!(
                        "no rate from {} to {}: give one (rates = {{ {} = \"...\" }})",
                        m.code(),
                        wallet.code(),
                        m.code()
                    )
                })?;
            rates.insert(m, default);
        }
        Ok(rates)
    }
}
