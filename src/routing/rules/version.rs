//! The canonical form of a rule set and its version.
//!
//! The canonical form is canonical JSON (`routing::canonical`: sorted keys, no whitespace)
//! holding only strings, integers, arrays and objects; amounts are `{"currency": "JPY",
//! "value": "500000"}` with the value an exact decimal string in the currency's scale; every
//! list is sorted and free of repeats; rules that mean nothing (an empty deny list, a
//! network with no rule) are left out. Two configs that mean the same rules therefore have
//! the same canonical form, whatever their key order, whitespace or list order; any change
//! of meaning changes it. The version is the lowercase hex SHA-256 of the canonical form's
//! UTF-8 bytes. Format `kakehashi.rules.v1`:
//!
//! ```json
//! {"blocked_merchants":[],"blocked_terminals":[],"format":"kakehashi.rules.v1",
//!  "merchants":{"shinjuku-ramen":{"networks":["linepay","paypay"]}},
//!  "networks":{"paypay":{"currencies":["JPY"],"mcc":{"deny":["7995"]},
//!   "single_payment_max":[{"currency":"JPY","value":"500000"}]}},
//!  "velocity":{"code":[{"count_max":3,"window_ms":600000}],
//!   "terminal":[{"amount_max":[{"currency":"JPY","value":"1000000"}],"window_ms":3600000}]}}
//! ```
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyPool;

use super::build::{self, MERCHANT_NETWORKS_MAX, Parts};
use super::{
    BLOCKED_MAX, MccRule, NetworkRules, RULE_SET_BYTES_MAX, RuleSet, RulesError, VelocityLimit,
};
use crate::routing::canonical;
use crate::store::StoreError;

pub const RULE_SET_FORMAT: &str = "kakehashi.rules.v1";

/// A rule set's version: 64 lowercase hex digits of SHA-256 over its canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Version(String);

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSetJson {
    format: String,
    networks: BTreeMap<String, NetworkJson>,
    merchants: BTreeMap<String, MerchantJson>,
    blocked_merchants: Vec<String>,
    blocked_terminals: Vec<String>,
    velocity: VelocityJson,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currencies: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mcc: Option<MccJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    single_payment_max: Vec<AmountJson>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum MccJson {
    Allow(Vec<String>),
    Deny(Vec<String>),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantJson {
    networks: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VelocityJson {
    code: Vec<LimitJson>,
    terminal: Vec<LimitJson>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitJson {
    window_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count_max: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    amount_max: Vec<AmountJson>,
}

/// An exact amount in canonical JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmountJson {
    pub currency: String,
    pub value: String,
}

// === impl Version ===

impl Version {
    pub(super) fn of(canonical: &str) -> Version {
        Version(hex::encode(Sha256::digest(canonical.as_bytes())))
    }

    /// Held only while a rule set is being assembled, before its version is known.
    pub(super) fn placeholder() -> Version {
        Version(String::new())
    }

    /// A version as logged or named in a file: exactly 64 lowercase hex digits (so it is
    /// safe as a file name).
    pub fn parse(text: &str) -> Option<Version> {
        let hex = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        hex.then(|| Version(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Version::parse(&text).ok_or_else(|| {
            serde::de::Error::custom("a rule-set version is 64 lowercase hex digits")
        })
    }
}

// === impl AmountJson ===

impl AmountJson {
    pub(crate) fn of(money: &kakehashi_adapter_core::Money) -> AmountJson {
        AmountJson {
            currency: money.currency_code().to_owned(),
            value: money.value_string(),
        }
    }
}

// === impl RuleSet ===

impl RuleSet {
    /// The canonical JSON text (see the module documentation).
    pub fn to_canonical_string(&self) -> String {
        let value = serde_json::to_value(self.to_json())
            .expect("a rule set holds only strings, integers and string-keyed maps");
        let bytes = canonical::to_bytes(&value).expect("a rule set holds no floats and is shallow");
        String::from_utf8(bytes).expect("canonical JSON is written from Rust strings")
    }

    /// Reads a rule set from its canonical text, refusing any text that is not exactly the
    /// canonical form of a valid rule set (so its hash is its version).
    pub fn from_canonical(text: &str) -> Result<RuleSet, RulesError> {
        if text.len() > RULE_SET_BYTES_MAX {
            return Err(RulesError::NotCanonical(format!(
                "over {RULE_SET_BYTES_MAX} bytes"
            )));
        }
        let json: RuleSetJson = serde_json::from_str(text)
            .map_err(|e| RulesError::NotCanonical(format!("not a rule set: {e}")))?;
        if json.format != RULE_SET_FORMAT {
            return Err(RulesError::NotCanonical(format!(
                "format `{:.32}` is not {RULE_SET_FORMAT}",
                json.format
            )));
        }
        let rules = RuleSet::assemble(parts_from_json(&json)?)?;
        if rules.to_canonical_string() != text {
            return Err(RulesError::NotCanonical(
                "keys, lists or amounts are not in canonical order and form".into(),
            ));
        }
        Ok(rules)
    }

    /// Reads a rule set stored or exported under `version`, checking the text hashes to it.
    pub fn from_canonical_versioned(version: &str, text: &str) -> Result<RuleSet, RulesError> {
        let rules = RuleSet::from_canonical(text)?;
        if rules.version().as_str() != version {
            return Err(RulesError::VersionMismatch {
                expected: version.chars().take(64).collect(),
                actual: rules.version().to_string(),
            });
        }
        Ok(rules)
    }

    fn to_json(&self) -> RuleSetJson {
        RuleSetJson {
            format: RULE_SET_FORMAT.to_owned(),
            networks: self
                .networks
                .iter()
                .map(|(name, rules)| (name.clone(), network_json(rules)))
                .collect(),
            merchants: self
                .merchants
                .iter()
                .map(|(id, networks)| {
                    let networks = networks.iter().cloned().collect();
                    (id.clone(), MerchantJson { networks })
                })
                .collect(),
            blocked_merchants: self.blocked_merchants.iter().cloned().collect(),
            blocked_terminals: self.blocked_terminals.iter().cloned().collect(),
            velocity: VelocityJson {
                code: self.velocity_code.iter().map(limit_json).collect(),
                terminal: self.velocity_terminal.iter().map(limit_json).collect(),
            },
        }
    }
}

fn network_json(rules: &NetworkRules) -> NetworkJson {
    NetworkJson {
        currencies: rules
            .currencies
            .as_ref()
            .map(|set| set.iter().map(|c| (*c).to_owned()).collect()),
        mcc: match &rules.mcc {
            MccRule::Any => None,
            MccRule::Allow(set) => Some(MccJson::Allow(set.iter().cloned().collect())),
            MccRule::Deny(set) => Some(MccJson::Deny(set.iter().cloned().collect())),
        },
        single_payment_max: rules
            .single_payment_max
            .values()
            .map(AmountJson::of)
            .collect(),
    }
}

fn limit_json(limit: &VelocityLimit) -> LimitJson {
    LimitJson {
        window_ms: limit.window_ms,
        count_max: limit.count_max,
        amount_max: limit
            .amount_max
            .values()
            .map(|m| AmountJson::of(&m.0))
            .collect(),
    }
}

fn parts_from_json(json: &RuleSetJson) -> Result<Parts, RulesError> {
    let mut parts = Parts::default();
    for (name, network) in &json.networks {
        let path = format!("networks.{name:.32}");
        let currencies = network
            .currencies
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|c| build::currency(&format!("{path}.currencies"), c))
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        let mcc = match &network.mcc {
            None => MccRule::Any,
            Some(MccJson::Allow(list)) => build::mcc_rule(&path, Some(list), None)?,
            Some(MccJson::Deny(list)) => build::mcc_rule(&path, None, Some(list))?,
        };
        let single_payment_max = amounts(
            &format!("{path}.single_payment_max"),
            &network.single_payment_max,
        )?;
        let rules = NetworkRules {
            currencies,
            single_payment_max,
            mcc,
        };
        parts.networks.insert(build::id(&path, name)?, rules);
    }
    for (id, merchant) in &json.merchants {
        let path = format!("merchants.{id:.32}.networks");
        let networks = build::ids(&path, &merchant.networks, MERCHANT_NETWORKS_MAX)?;
        parts
            .merchants
            .insert(build::id("merchants", id)?, networks);
    }
    parts.blocked_merchants =
        build::ids("blocked_merchants", &json.blocked_merchants, BLOCKED_MAX)?;
    parts.blocked_terminals =
        build::ids("blocked_terminals", &json.blocked_terminals, BLOCKED_MAX)?;
    for (kind, limits, out) in [
        ("code", &json.velocity.code, &mut parts.velocity_code),
        (
            "terminal",
            &json.velocity.terminal,
            &mut parts.velocity_terminal,
        ),
    ] {
        if limits.len() > super::VELOCITY_LIMITS_MAX {
            return Err(RulesError::Invalid(format!(
                "velocity.{kind}: too many limits"
            )));
        }
        for (i, limit) in limits.iter().enumerate() {
            let path = format!("velocity.{kind}[{i}]");
            let amount_max = amounts(&format!("{path}.amount_max"), &limit.amount_max)?;
            out.push(build::velocity_limit(
                &path,
                limit.window_ms,
                limit.count_max,
                amount_max,
            )?);
        }
    }
    Ok(parts)
}

fn amounts(
    path: &str,
    list: &[AmountJson],
) -> Result<BTreeMap<&'static str, kakehashi_adapter_core::Money>, RulesError> {
    build::amounts(path, list.iter().map(|a| (&a.currency, &a.value)))
}

/// Saves the active rule set under its version (once; a version already stored must hold
/// the same text) and returns the version, which every decision made under it records.
/// `now_ms` is when this version was first seen active. Call at start-up, before the first
/// decision.
pub async fn activate(pool: &AnyPool, rules: &RuleSet, now_ms: i64) -> Result<Version, StoreError> {
    let canonical = rules.to_canonical_string();
    crate::store::save_rule_set(pool, rules.version().as_str(), &canonical, now_ms).await?;
    Ok(rules.version().clone())
}
