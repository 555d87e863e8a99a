//! The routing decision record: everything a decision depended on ([`DecisionInput`]),
//! every rule checked with its inputs and verdict, and the route or the refusal. Its
//! canonical JSON is what the audit log stores and what replay re-runs.
//!
//! Format `kakehashi.decision.v1` (canonical JSON: sorted keys, no whitespace, integers and
//! strings only; amounts `{"currency","value"}` with an exact decimal string):
//!
//! ```json
//! {"business_date_jst":"2025-03-02","checks":[{"inputs":{"merchant_id":"m1"},
//!   "result":"pass","rule":"merchant_blocked","subject":"m1","why":"..."}, ...],
//!  "format":"kakehashi.decision.v1",
//!  "input":{"amount":{"currency":"JPY","value":"1200"},"at_ms":1740841800000,
//!   "code":{"candidates":[{"network":"paypay","prefix":"9000818188","result":"chosen",
//!    "why":"..."}],"length":24,"masked":"••••1234","network":"paypay",
//!    "prefix":"9000818188"},
//!   "merchant_category_code":"5812","merchant_id":"m1","network":"paypay",
//!   "terminal_id":"t1","velocity":{"code":[{"count":0,"sum":{"currency":"JPY",
//!    "value":"0"},"window_ms":600000}],"terminal":[]}},
//!  "outcome":{"routed":{"network":"paypay"}},
//!  "rule_set":"<64 hex>","utc":"2025-03-01T15:10:00.000Z"}
//! ```
//!
//! The texts (`why`, `detail`) are part of the format: the same input under the same rule
//! set gives the same bytes, so changing a text is a new format version.
use std::collections::BTreeMap;

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::money::parse_currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::version::AmountJson;
use super::{RuleId, VELOCITY_LIMITS_MAX, Version};
use crate::routing::canonical;

pub const DECISION_FORMAT: &str = "kakehashi.decision.v1";
/// Matched code-table rows kept in a record; more are counted in `candidates_omitted`.
pub const CANDIDATES_MAX: usize = 16;
/// Rule checks one decision may hold: one per rule, one per velocity limit.
pub const CHECKS_MAX: usize = 8 + 2 * VELOCITY_LIMITS_MAX;
/// Largest decision record read back (replay of an export).
pub const DECISION_BYTES_MAX: usize = 64 * 1024;

/// Everything one decision depends on, and nothing else: evaluating it again under the same
/// rule set gives the same decision. Holds the masked code only; velocity counts were taken
/// under the code's keyed hash, which is not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// When the decision was made, UTC milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub merchant_id: String,
    /// The merchant's ISO 18245 category code.
    pub merchant_category_code: String,
    pub terminal_id: String,
    #[serde(with = "money_json")]
    pub amount: Money,
    /// The network the payment would go to: identified from the code, or named by the
    /// terminal for a merchant-presented QR.
    pub network: String,
    /// How the network was identified from a customer-presented code; absent for a
    /// merchant-presented QR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeRoute>,
    pub velocity: VelocityObserved,
}

/// Code identification, as the decision saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRoute {
    /// The code masked to its last four digits.
    pub masked: String,
    pub length: u32,
    /// The network the code identified.
    pub network: String,
    /// The code-table prefix that identified the network.
    pub prefix: String,
    /// Wallet brand known from the code alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Every code-table row that matched, the chosen one first, with why the others lost.
    pub candidates: Vec<Candidate>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub candidates_omitted: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub network: String,
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    pub result: CandidateResult,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateResult {
    Chosen,
    Lost,
}

/// Payments already counted, at decision time, in each velocity window the rule set
/// names: under the code's keyed hash (`code`) and the terminal (`terminal`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityObserved {
    pub code: Vec<WindowCount>,
    pub terminal: Vec<WindowCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowCount {
    pub window_ms: u64,
    /// Payments in the window before this one.
    pub count: u64,
    /// Their sum in this payment's currency.
    #[serde(with = "sum_json")]
    pub sum: (Currency, i64),
}

/// The record of one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub format: String,
    /// Version of the rule set the decision was made under.
    pub rule_set: Version,
    /// `input.at_ms` as RFC 3339 UTC.
    pub utc: String,
    /// The JST calendar date of `input.at_ms` (JST = UTC+9; see `routing::time`).
    pub business_date_jst: String,
    pub input: DecisionInput,
    /// Every rule checked, in the engine's fixed order.
    pub checks: Vec<RuleCheck>,
    pub outcome: Outcome,
}

/// One rule checked: what it looked at and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCheck {
    pub rule: RuleId,
    /// What the rule applied to: the merchant, terminal, network or velocity window.
    pub subject: String,
    /// The values compared, as text.
    pub inputs: BTreeMap<String, String>,
    pub result: Verdict,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Outcome {
    Routed {
        network: String,
    },
    /// Refused by the first rule that failed, in check order.
    Refused {
        rule: RuleId,
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("not a {DECISION_FORMAT} record: {0}")]
    Malformed(String),
    #[error("record is over {DECISION_BYTES_MAX} bytes")]
    TooLarge,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

// === impl Decision ===

impl Decision {
    /// The canonical JSON value; [`Decision::to_canonical_bytes`] is its one byte form.
    pub fn to_canonical_json(&self) -> Value {
        serde_json::to_value(self)
            .expect("a decision holds only strings, integers and string-keyed maps")
    }

    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        canonical::to_bytes(&self.to_canonical_json())
            .expect("a decision holds no floats and is a few levels deep")
    }

    /// Reads a record back, strictly: unknown fields, other formats and lists over their
    /// bounds are refused.
    pub fn from_canonical_json(value: &Value) -> Result<Decision, DecisionError> {
        let decision: Decision = serde_json::from_value(value.clone())
            .map_err(|e| DecisionError::Malformed(e.to_string()))?;
        decision.check_bounds()?;
        Ok(decision)
    }

    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Decision, DecisionError> {
        if bytes.len() > DECISION_BYTES_MAX {
            return Err(DecisionError::TooLarge);
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| DecisionError::Malformed(e.to_string()))?;
        Decision::from_canonical_json(&value)
    }

    /// The rule that refused the payment and why, if it was refused.
    pub fn refusal(&self) -> Option<(RuleId, &str)> {
        match &self.outcome {
            Outcome::Refused { rule, detail } => Some((*rule, detail.as_str())),
            Outcome::Routed { .. } => None,
        }
    }

    fn check_bounds(&self) -> Result<(), DecisionError> {
        let malformed = |m: &str| Err(DecisionError::Malformed(m.to_owned()));
        if self.format != DECISION_FORMAT {
            return malformed("unknown format");
        }
        if self.checks.len() > CHECKS_MAX {
            return malformed("too many checks");
        }
        if self
            .input
            .code
            .as_ref()
            .is_some_and(|c| c.candidates.len() > CANDIDATES_MAX)
        {
            return malformed("too many candidates");
        }
        let velocity = &self.input.velocity;
        if velocity.code.len() > VELOCITY_LIMITS_MAX
            || velocity.terminal.len() > VELOCITY_LIMITS_MAX
        {
            return malformed("too many velocity windows");
        }
        Ok(())
    }
}

/// `Money` as `{"currency", "value"}`.
mod money_json {
    use super::*;

    pub fn serialize<S: serde::Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
        AmountJson::of(money).serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let json = AmountJson::deserialize(d)?;
        Money::parse(&json.value, &json.currency).map_err(serde::de::Error::custom)
    }
}

/// A sum of minor units (zero allowed) as `{"currency", "value"}`, the value in exactly the
/// currency's scale ("0", "0.00").
mod sum_json {
    use super::*;

    pub fn serialize<S: serde::Serializer>(sum: &(Currency, i64), s: S) -> Result<S::Ok, S::Error> {
        let exponent = sum.0.exponent().map(u32::from).unwrap_or(0);
        AmountJson {
            currency: sum.0.code().to_owned(),
            value: Decimal::new(sum.1, exponent).to_string(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<(Currency, i64), D::Error> {
        use serde::de::Error;
        let json = AmountJson::deserialize(d)?;
        let currency = parse_currency(&json.currency).map_err(D::Error::custom)?;
        let exponent = currency.exponent().map(u32::from).unwrap_or(0);
        let value = Decimal::from_str_exact(&json.value)
            .map_err(|_| D::Error::custom("a sum is an exact decimal string"))?;
        let minor = i64::try_from(value.mantissa()).ok().filter(|m| *m >= 0);
        match minor {
            Some(minor) if value.scale() == exponent => Ok((currency, minor)),
            _ => Err(D::Error::custom(
                "a sum is a non-negative decimal in exactly its currency's scale",
            )),
        }
    }
}
