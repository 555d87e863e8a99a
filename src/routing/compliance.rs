//! What a running switch needs to decide: its rule set and the key it counts codes under,
//! built once at start from the config.
use std::sync::Arc;

use kakehashi_adapter_core::PaymentCode;

use super::rules::{RuleSet, RulesError};
use super::velocity::{CodeKey, VelocityKeyer};
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct Compliance {
    rules: Arc<RuleSet>,
    keyer: Option<VelocityKeyer>,
}

// === impl Compliance ===

impl Compliance {
    /// Refuses a config whose rules do not check out, including per-code limits without a
    /// velocity key.
    pub fn from_config(config: &Config) -> Result<Compliance, RulesError> {
        let rules = RuleSet::from_config(config)?;
        let keyer = config.compliance.velocity_key()?.map(VelocityKeyer::new);
        Ok(Compliance {
            rules: Arc::new(rules),
            keyer,
        })
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The code's velocity key; `None` without a configured key (then no per-code limit
    /// exists either).
    pub fn code_key(&self, code: &PaymentCode) -> Option<CodeKey> {
        self.keyer.as_ref().map(|k| k.code_key(code))
    }
}
