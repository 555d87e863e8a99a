//! The `[compliance]` config section, and the rule set built from it together with the
//! merchants' enabled networks (`[[merchants]] networks`: one source of truth, read here,
//! never repeated under `[compliance]`).
use std::collections::{BTreeMap, BTreeSet};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::build::{self, MERCHANT_NETWORKS_MAX, Parts};
use super::{BLOCKED_MAX, NetworkRules, RuleSet, RulesError};
use crate::config::Config;

/// Shortest velocity key accepted: 32 bytes, the HMAC-SHA256 block's half, so the code keys
/// cannot be found by trying every code under a guessable key.
pub const VELOCITY_KEY_BYTES_MIN: usize = 32;

/// `[compliance]`: the rules every payment is checked against before any network is called.
/// Absent, the only rule is each merchant's list of networks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceConfig {
    /// Secret key of the velocity counters: a payment code is counted under
    /// HMAC-SHA256(key, code), never under the code itself. Required when any per-code
    /// velocity limit exists; at least 32 bytes. Changing it restarts per-code counts.
    #[serde(default)]
    pub velocity_key: Option<SecretString>,
    /// Per-network rules, keyed by network id (`[compliance.networks.paypay]`).
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkRulesConfig>,
    /// Merchant ids refused outright (they must be configured merchants).
    #[serde(default)]
    pub blocked_merchants: Vec<String>,
    /// Terminal ids refused outright (they must be configured terminals).
    #[serde(default)]
    pub blocked_terminals: Vec<String>,
    #[serde(default)]
    pub velocity: VelocityConfig,
}

/// `[compliance.networks.<id>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRulesConfig {
    /// ISO 4217 codes the network may be charged in; absent: any it takes.
    #[serde(default)]
    pub currencies: Option<Vec<String>>,
    /// Largest single payment per currency, as exact decimal strings: `{ JPY = "500000" }`.
    #[serde(default)]
    pub single_payment_max: BTreeMap<String, String>,
    /// Only merchants in these categories (ISO 18245 MCC) may route to the network ...
    #[serde(default)]
    pub mcc_allow: Option<Vec<String>>,
    /// ... or every category except these. At most one of the two.
    #[serde(default)]
    pub mcc_deny: Option<Vec<String>>,
}

/// `[compliance.velocity]`: `[[compliance.velocity.code]]` limits count payments with one
/// payment code, `[[compliance.velocity.terminal]]` limits payments at one terminal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityConfig {
    #[serde(default)]
    pub code: Vec<VelocityLimitConfig>,
    #[serde(default)]
    pub terminal: Vec<VelocityLimitConfig>,
}

/// At most `count_max` payments, and at most `amount_max` in each listed currency, within
/// any `window_ms`, counting the payment being decided.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityLimitConfig {
    pub window_ms: u64,
    #[serde(default)]
    pub count_max: Option<u64>,
    #[serde(default)]
    pub amount_max: BTreeMap<String, String>,
}

// === impl ComplianceConfig ===

impl ComplianceConfig {
    /// The velocity key, checked: present when per-code limits exist, and long enough.
    pub fn velocity_key(&self) -> Result<Option<&SecretString>, RulesError> {
        match &self.velocity_key {
            Some(key) if key.expose_secret().len() < VELOCITY_KEY_BYTES_MIN => {
                Err(RulesError::Invalid(format!(
                    "compliance.velocity_key must be at least {VELOCITY_KEY_BYTES_MIN} bytes"
                )))
            }
            None if !self.velocity.code.is_empty() => Err(RulesError::Invalid(
                "compliance.velocity.code limits need compliance.velocity_key: payment codes \
                 are counted under a keyed hash, never in clear"
                    .into(),
            )),
            key => Ok(key.as_ref()),
        }
    }
}

// === impl RuleSet ===

impl RuleSet {
    /// Builds the rule set the config describes, checking every key it can: known networks
    /// and currencies, exact amounts, four-digit categories, configured merchants and
    /// terminals, bounded windows, and a velocity key wherever codes are counted.
    pub fn from_config(config: &Config) -> Result<RuleSet, RulesError> {
        let compliance = &config.compliance;
        compliance.velocity_key()?;
        let known_networks = known_networks(config);
        let mut parts = Parts::default();
        for (name, rules) in &compliance.networks {
            if !known_networks.contains(name.as_str()) {
                return Err(RulesError::Invalid(format!(
                    "compliance.networks.{name:.32}: no such network (known: {})",
                    known_networks
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let path = format!("compliance.networks.{name}");
            parts
                .networks
                .insert(build::id(&path, name)?, network_rules(&path, rules)?);
        }
        for merchant in &config.merchants {
            let path = format!("merchants.{:.32}.networks", merchant.id);
            let networks = build::ids(&path, &merchant.networks, MERCHANT_NETWORKS_MAX)?;
            parts
                .merchants
                .insert(build::id("merchants.id", &merchant.id)?, networks);
        }
        parts.blocked_merchants = blocked(
            "compliance.blocked_merchants",
            &compliance.blocked_merchants,
            config.merchants.iter().map(|m| m.id.as_str()).collect(),
        )?;
        parts.blocked_terminals = blocked(
            "compliance.blocked_terminals",
            &compliance.blocked_terminals,
            config.terminals.iter().map(|t| t.id.as_str()).collect(),
        )?;
        parts.velocity_code =
            velocity_limits("compliance.velocity.code", &compliance.velocity.code)?;
        parts.velocity_terminal = velocity_limits(
            "compliance.velocity.terminal",
            &compliance.velocity.terminal,
        )?;
        RuleSet::assemble(parts)
    }
}

/// Networks a rule may name: those configured, and every adapter in this build (so the
/// example's PayPay limit stays valid in a config that has not enabled PayPay yet).
fn known_networks(config: &Config) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = config.networks.keys().cloned().collect();
    known.extend(
        crate::networks::factories()
            .iter()
            .map(|f| f.kind().to_owned()),
    );
    known
}

fn network_rules(path: &str, rules: &NetworkRulesConfig) -> Result<NetworkRules, RulesError> {
    let currencies = rules
        .currencies
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|c| build::currency(&format!("{path}.currencies"), c))
                .collect::<Result<BTreeSet<_>, _>>()
        })
        .transpose()?;
    Ok(NetworkRules {
        currencies,
        single_payment_max: build::amounts(
            &format!("{path}.single_payment_max"),
            &rules.single_payment_max,
        )?,
        mcc: build::mcc_rule(path, rules.mcc_allow.as_ref(), rules.mcc_deny.as_ref())?,
    })
}

fn blocked(
    path: &str,
    ids: &[String],
    configured: BTreeSet<&str>,
) -> Result<BTreeSet<String>, RulesError> {
    if let Some(unknown) = ids.iter().find(|id| !configured.contains(id.as_str())) {
        return Err(RulesError::Invalid(format!(
            "{path}: `{unknown:.32}` is not configured; a typo here would block nobody"
        )));
    }
    build::ids(path, ids, BLOCKED_MAX)
}

fn velocity_limits(
    path: &str,
    limits: &[VelocityLimitConfig],
) -> Result<Vec<super::VelocityLimit>, RulesError> {
    limits
        .iter()
        .enumerate()
        .map(|(i, limit)| {
            let path = format!("{path}[{i}]");
            build::velocity_limit(
                &path,
                limit.window_ms,
                limit.count_max,
                build::amounts(&format!("{path}.amount_max"), &limit.amount_max)?,
            )
        })
        .collect()
}
