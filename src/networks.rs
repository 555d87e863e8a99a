//! The networks this switch runs: adapters built from config through the factories the
//! build script discovered, each with its effective profile (config overrides applied),
//! and the code-identification table built from them.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::{Clock, NetworkFactory, NetworkProfile, Timing, WalletNetwork};

use crate::config::{ConfigError, NetworkSettings};
use crate::routing::CodeTable;

/// Extra time a network call may take past the payment's deadline before the driver stops
/// waiting for it; also the margin a network's deadline must leave beyond its longest call.
pub const CALL_GRACE: Duration = Duration::from_secs(2);

mod generated {
    include!(concat!(env!("OUT_DIR"), "/adapters.rs"));
}
mod simulator_config;

pub use simulator_config::simulator_config_toml;

/// Every adapter linked into this build.
pub fn factories() -> Vec<Arc<dyn NetworkFactory>> {
    generated::factories()
}

pub fn factory(kind: &str) -> Option<Arc<dyn NetworkFactory>> {
    factories().into_iter().find(|f| f.kind() == kind)
}

/// The factory whose simulator `kakehashi sim <name>` starts (e.g. `grpc-wallet`).
pub fn simulator_factory(name: &str) -> Option<Arc<dyn NetworkFactory>> {
    factories().into_iter().find(|f| f.simulator_name() == name)
}

/// A configured network: its adapter and the profile the switch uses for it.
#[derive(Debug, Clone)]
pub struct Network {
    pub adapter: Arc<dyn WalletNetwork>,
    pub profile: NetworkProfile,
}

#[derive(Debug, Clone)]
pub struct Networks {
    by_id: BTreeMap<String, Network>,
    codes: CodeTable,
}

// === impl Networks ===

impl Networks {
    pub fn build(
        settings: &BTreeMap<String, NetworkSettings>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let factories = factories();
        let mut by_id = BTreeMap::new();
        let mut codes = CodeTable::new();
        for (name, setting) in settings.iter().filter(|(_, s)| s.enabled) {
            let kind = setting.adapter_kind.as_str();
            let factory = factories.iter().find(|f| f.kind() == kind).ok_or_else(|| {
                let known: Vec<&str> = factories.iter().map(|f| f.kind()).collect();
                ConfigError::Invalid(format!(
                    "[networks.{name}]: no adapter `{kind}` in this build (known: {}; name one \
                     with `adapter = \"...\"`)",
                    known.join(", ")
                ))
            })?;
            let adapter = factory
                .build_network(name, &setting.adapter, Arc::clone(&clock))
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            let mut profile = effective_profile(adapter.profile(), setting);
            // The table's id is the network's id, whatever adapter speaks to it.
            profile.id.clone_from(name);
            check_timing(name, &profile.timing)?;
            codes
                .add(&profile.id, &profile.code_patterns)
                .map_err(ConfigError::Invalid)?;
            by_id.insert(name.clone(), Network { adapter, profile });
        }
        Ok(Self { by_id, codes })
    }

    /// Networks built from ready adapters, for tests that construct adapters themselves.
    pub fn from_adapters(adapters: Vec<Arc<dyn WalletNetwork>>) -> Result<Self, ConfigError> {
        let mut by_id = BTreeMap::new();
        let mut codes = CodeTable::new();
        for adapter in adapters {
            let profile = adapter.profile().clone();
            codes
                .add(&profile.id, &profile.code_patterns)
                .map_err(ConfigError::Invalid)?;
            by_id.insert(profile.id.clone(), Network { adapter, profile });
        }
        Ok(Self { by_id, codes })
    }

    /// Every merchant accepting a network that needs the merchant's own id there (WeChat
    /// Pay `sub_mch_id`) has one in `[merchants.network_ids]`: found at start, not by
    /// declining each payment with MERCHANT_NOT_ENABLED.
    pub fn check_merchant_ids(
        &self,
        merchants: &[crate::config::MerchantConfig],
    ) -> Result<(), ConfigError> {
        for merchant in merchants {
            for network in merchant.networks.iter().filter_map(|n| self.by_id.get(n)) {
                let (id, profile) = (&network.profile.id, &network.profile);
                if let Some(key) = &profile.merchant_id_required
                    && !merchant.network_ids.contains_key(id)
                {
                    return Err(ConfigError::Invalid(format!(
                        "merchant `{}` accepts {id}, which needs the merchant's {key}: set \
                         `{id} = \"...\"` under [merchants.network_ids] for `{}`",
                        merchant.id, merchant.id
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Network> {
        self.by_id.get(id)
    }

    pub fn codes(&self) -> &CodeTable {
        &self.codes
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

/// A network's deadline must outlast its own longest call plus a margin: otherwise the
/// switch would reverse a payment while the pay request that started it may still be
/// answered, and a customer who paid could end REVERSED.
fn check_timing(name: &str, timing: &Timing) -> Result<(), ConfigError> {
    let needed = timing.call_timeout + CALL_GRACE;
    if timing.payment_deadline >= needed {
        return Ok(());
    }
    Err(ConfigError::Invalid(format!(
        "networks.{name}: timing.payment_deadline_ms ({deadline} ms) must be at least the \
         adapter's longest call ({call} ms, from its request timeouts: http.request_timeout_ms, \
         and pay_timeout_ms where the adapter has one) plus a {grace} ms margin, i.e. at least \
         {needed} ms: a shorter deadline reverses payments whose pay request may still be \
         answered. Raise timing.payment_deadline_ms or lower the adapter's timeouts",
        deadline = timing.payment_deadline.as_millis(),
        call = timing.call_timeout.as_millis(),
        grace = CALL_GRACE.as_millis(),
        needed = needed.as_millis(),
    )))
}

fn effective_profile(base: &NetworkProfile, setting: &NetworkSettings) -> NetworkProfile {
    let mut profile = base.clone();
    if let Some(patterns) = &setting.code_patterns {
        profile.code_patterns.clone_from(patterns);
    }
    let t = &setting.timing;
    let ms = Duration::from_millis;
    if let Some(v) = t.payment_deadline_ms {
        profile.timing.payment_deadline = ms(v);
    }
    if let Some(v) = t.query_first_delay_ms {
        profile.timing.query_first_delay = ms(v);
    }
    if let Some(v) = t.query_interval_ms {
        profile.timing.query_interval = ms(v);
    }
    if let Some(v) = t.reverse_not_before_ms {
        profile.timing.reverse_not_before = ms(v);
    }
    profile
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_adapter_core::SystemClock;

    fn linepay(extra: &str) -> Result<Networks, ConfigError> {
        let text = format!(
            "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://x.db\"\n[networks.linepay]\n\
             base_url = \"http://127.0.0.1:1\"\nchannel_id = \"1656000000\"\n\
             channel_secret = \"secret\"\n{extra}\n"
        );
        let config = crate::Config::parse(&text)?;
        Networks::build(&config.network_settings()?, Arc::new(SystemClock))
    }

    #[test]
    fn a_table_names_its_adapter_or_is_named_for_it() {
        let text = "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://x.db\"\n\
                    [networks.kpay]\nadapter = \"nope\"\nendpoint = \"http://127.0.0.1:1\"\n";
        let config = crate::Config::parse(text).unwrap();
        let err = Networks::build(&config.network_settings().unwrap(), Arc::new(SystemClock))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[networks.kpay]: no adapter `nope`"), "{err}");
        assert!(err.contains("grpc") && err.contains("linepay"), "{err}");
        let bad = text.replace("\"nope\"", "7");
        let err = crate::Config::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("networks.kpay.adapter"), "{err}");
        // Without the key the table's id is the adapter, as before.
        let settings = linepay_settings();
        assert_eq!(settings["linepay"].adapter_kind, "linepay");
    }

    fn linepay_settings() -> BTreeMap<String, NetworkSettings> {
        let text = "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://x.db\"\n[networks.linepay]\n\
                    base_url = \"http://127.0.0.1:1\"\n";
        crate::Config::parse(text)
            .unwrap()
            .network_settings()
            .unwrap()
    }

    #[test]
    fn a_deadline_shorter_than_the_pay_timeout_is_refused() {
        // LINE Pay's pay may take 40 s; a 20 s deadline would reverse payments whose pay
        // is still open (the two-replica incident).
        let err = linepay("timing = { payment_deadline_ms = 20000 }")
            .unwrap_err()
            .to_string();
        assert!(err.contains("networks.linepay"), "{err}");
        assert!(
            err.contains("timing.payment_deadline_ms (20000 ms)"),
            "{err}"
        );
        assert!(err.contains("pay_timeout_ms"), "{err}");
        assert!(err.contains("at least 42000 ms"), "{err}");
        // Lowering the adapter's timeouts makes the same deadline acceptable.
        linepay(
            "pay_timeout_ms = 15000\nhttp = { request_timeout_ms = 15000 }\n\
             timing = { payment_deadline_ms = 20000 }",
        )
        .expect("deadline covers the longest call");
        linepay("").expect("the defaults are consistent");
    }
}
