//! Compliance rules: which payments the switch may route, as one immutable, versioned
//! [`RuleSet`] built from the `[compliance]` config and the merchants' enabled networks.
//!
//! - `config`: the `[compliance]` section and its checks, and the rule set built from it;
//! - `version`: the canonical form of a rule set, its version (SHA-256 of that form), and
//!   keeping rule sets by version in the store;
//! - `decision` and `engine`: the pure evaluation of one payment against a rule set and the
//!   record of why it was routed or refused.
use std::collections::{BTreeMap, BTreeSet};

use kakehashi_adapter_core::Money;

mod build;
mod config;
mod decision;
mod engine;
mod version;

pub use config::VELOCITY_KEY_BYTES_MIN;
pub use config::{ComplianceConfig, NetworkRulesConfig, VelocityConfig, VelocityLimitConfig};
pub use decision::{
    CANDIDATES_MAX, CHECKS_MAX, Candidate, CandidateResult, CodeRoute, DECISION_BYTES_MAX,
    DECISION_FORMAT, Decision, DecisionError, DecisionInput, Outcome, RuleCheck, VelocityObserved,
    Verdict, WindowCount,
};
pub use engine::evaluate;
pub use version::{RULE_SET_FORMAT, Version, activate};

/// Upper bounds on one rule set, so a config mistake cannot make every decision slow and a
/// rule set read back from an export cannot exhaust memory.
pub const NETWORK_RULES_MAX: usize = 64;
pub const BLOCKED_MAX: usize = 100_000;
pub const MCC_LIST_MAX: usize = 1_000;
/// Velocity limits per kind (code, terminal).
pub const VELOCITY_LIMITS_MAX: usize = 16;
/// Longest velocity window: 31 days, so "per month" fits and the velocity table stays
/// bounded by a month of payments.
pub const VELOCITY_WINDOW_MS_MAX: u64 = 31 * 24 * 3_600_000;
/// Largest canonical rule set accepted (the merchants' network lists dominate it).
pub const RULE_SET_BYTES_MAX: usize = 8 * 1024 * 1024;

/// A rule set ready to evaluate. Built only by [`RuleSet::from_config`] or
/// [`RuleSet::from_canonical`], both of which check everything, so every `RuleSet` is valid
/// and its [`Version`] is computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    networks: BTreeMap<String, NetworkRules>,
    /// Merchant id → the networks it accepts (`[[merchants]] networks`).
    merchants: BTreeMap<String, BTreeSet<String>>,
    blocked_merchants: BTreeSet<String>,
    blocked_terminals: BTreeSet<String>,
    velocity_code: Vec<VelocityLimit>,
    velocity_terminal: Vec<VelocityLimit>,
    version: Version,
}

/// Rules for payments routed to one network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkRules {
    /// Currencies allowed; `None`: any the network takes.
    currencies: Option<BTreeSet<&'static str>>,
    /// Largest single payment, by currency code; a currency absent here has no limit.
    single_payment_max: BTreeMap<&'static str, Money>,
    mcc: MccRule,
}

/// Merchant categories (ISO 18245 MCC) a network takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MccRule {
    #[default]
    Any,
    /// Only these categories.
    Allow(BTreeSet<String>),
    /// Every category but these.
    Deny(BTreeSet<String>),
}

/// At most `count_max` payments and/or `amount_max` (per currency) within `window_ms`,
/// counting the payment being decided.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VelocityLimit {
    window_ms: u64,
    count_max: Option<u64>,
    amount_max: BTreeMap<&'static str, MoneyOrd>,
}

/// `Money` ordered by minor units, so velocity limits sort into one canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyOrd(pub Money);

/// The kinds of rule; each refusal names one. The names are stable: they appear in the
/// audit log (`rule`) and, as `RULE_*` reasons, in the acceptance API's errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    MerchantBlocked,
    TerminalBlocked,
    MerchantNetwork,
    Currency,
    NetworkLimit,
    Mcc,
    VelocityCode,
    VelocityTerminal,
}

/// Why a compliance config or a stored rule set is not a valid rule set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("compliance: {0}")]
    Invalid(String),
    #[error("rule set is not in canonical form: {0}")]
    NotCanonical(String),
    #[error("rule set version {expected} does not match its content (hash {actual})")]
    VersionMismatch { expected: String, actual: String },
}

// === impl RuleSet ===

impl RuleSet {
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// The largest single payment `network` may take in `currency`, if the rules set one
    /// (what the partner gateway tells a wallet about a static code's limits).
    pub fn single_payment_max(&self, network: &str, currency: &str) -> Option<Money> {
        self.networks
            .get(network)
            .and_then(|rules| rules.single_payment_max.get(currency))
            .copied()
    }

    /// Whether any per-code velocity limit exists (then a velocity key is required).
    pub fn has_code_limits(&self) -> bool {
        !self.velocity_code.is_empty()
    }

    /// The velocity windows the engine needs observed, per kind, in the order it checks.
    pub fn code_windows_ms(&self) -> Vec<u64> {
        windows(&self.velocity_code)
    }

    pub fn terminal_windows_ms(&self) -> Vec<u64> {
        windows(&self.velocity_terminal)
    }

    /// The longest velocity window: velocity events older than this are never read again
    /// by this rule set and may be pruned.
    pub fn velocity_window_ms_max(&self) -> u64 {
        self.velocity_code
            .iter()
            .chain(&self.velocity_terminal)
            .map(|l| l.window_ms)
            .max()
            .unwrap_or(0)
    }
}

fn windows(limits: &[VelocityLimit]) -> Vec<u64> {
    let mut windows: Vec<u64> = limits.iter().map(|l| l.window_ms).collect();
    windows.dedup();
    windows
}

// === impl MoneyOrd ===

impl PartialOrd for MoneyOrd {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MoneyOrd {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.currency_code(), self.0.minor()).cmp(&(other.0.currency_code(), other.0.minor()))
    }
}

// === impl RuleId ===

impl RuleId {
    pub const ALL: [RuleId; 8] = [
        RuleId::MerchantBlocked,
        RuleId::TerminalBlocked,
        RuleId::MerchantNetwork,
        RuleId::Currency,
        RuleId::NetworkLimit,
        RuleId::Mcc,
        RuleId::VelocityCode,
        RuleId::VelocityTerminal,
    ];

    /// The rule's name in decision records.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::MerchantBlocked => "merchant_blocked",
            RuleId::TerminalBlocked => "terminal_blocked",
            RuleId::MerchantNetwork => "merchant_network",
            RuleId::Currency => "currency",
            RuleId::NetworkLimit => "network_limit",
            RuleId::Mcc => "mcc",
            RuleId::VelocityCode => "velocity_code",
            RuleId::VelocityTerminal => "velocity_terminal",
        }
    }

    pub fn parse(name: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        RuleId::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{name:.32}`")))
    }
}

#[cfg(test)]
mod tests;
