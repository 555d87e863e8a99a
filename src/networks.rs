//! The networks this switch runs: adapters built from config through the factories the
//! build script discovered, each with its effective profile (config overrides applied),
//! and the code-identification table built from them.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::{Clock, NetworkFactory, NetworkProfile, WalletNetwork};

use crate::config::{ConfigError, NetworkSettings};
use crate::routing::CodeTable;

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
            let factory = factories.iter().find(|f| f.kind() == name).ok_or_else(|| {
                let known: Vec<&str> = factories.iter().map(|f| f.kind()).collect();
                ConfigError::Invalid(format!(
                    "[networks.{name}]: no such adapter in this build (known: {})",
                    known.join(", ")
                ))
            })?;
            let adapter = factory
                .build(&setting.adapter, Arc::clone(&clock))
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            let profile = effective_profile(adapter.profile(), setting);
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
