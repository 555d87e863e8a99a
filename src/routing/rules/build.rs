//! The checks every rule set passes, whether it comes from the config file or from its
//! canonical text (the store, an export): both paths build through these functions, so a
//! rule set that loads from one loads from the other, with the same meaning.
use std::collections::{BTreeMap, BTreeSet};

use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::money::parse_currency;

use super::{
    BLOCKED_MAX, MCC_LIST_MAX, MccRule, MoneyOrd, NETWORK_RULES_MAX, NetworkRules, RuleSet,
    RulesError, VELOCITY_LIMITS_MAX, VELOCITY_WINDOW_MS_MAX, VelocityLimit, version,
};

/// Longest merchant, terminal or network id a rule set holds.
pub const ID_CHARS_MAX: usize = 128;
/// Most merchants one rule set describes (the config's own bound).
pub const MERCHANTS_MAX: usize = crate::config::MERCHANTS_MAX;
/// Most networks one merchant lists.
pub const MERCHANT_NETWORKS_MAX: usize = 64;

/// A rule set's content before it is checked as a whole and given its version.
#[derive(Debug, Default)]
pub(super) struct Parts {
    pub networks: BTreeMap<String, NetworkRules>,
    pub merchants: BTreeMap<String, BTreeSet<String>>,
    pub blocked_merchants: BTreeSet<String>,
    pub blocked_terminals: BTreeSet<String>,
    pub velocity_code: Vec<VelocityLimit>,
    pub velocity_terminal: Vec<VelocityLimit>,
}

fn invalid(message: String) -> RulesError {
    RulesError::Invalid(message)
}

/// An id as a rule set holds it: 1..=128 characters, no control characters.
pub(super) fn id(path: &str, value: &str) -> Result<String, RulesError> {
    let chars = value.chars().count();
    if chars == 0 || chars > ID_CHARS_MAX || value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{path}: ids are 1..={ID_CHARS_MAX} characters without control characters"
        )));
    }
    Ok(value.to_owned())
}

pub(super) fn ids<'a>(
    path: &str,
    values: impl IntoIterator<Item = &'a String>,
    max: usize,
) -> Result<BTreeSet<String>, RulesError> {
    let mut set = BTreeSet::new();
    for value in values {
        set.insert(id(path, value)?);
        if set.len() > max {
            return Err(invalid(format!("{path}: more than {max} entries")));
        }
    }
    Ok(set)
}

pub(super) fn currency(path: &str, code: &str) -> Result<&'static str, RulesError> {
    parse_currency(code)
        .map(|c| c.code())
        .map_err(|e| invalid(format!("{path}: {e}")))
}

/// An exact positive amount in the currency's scale or less (JPY `"500000"`; USD `"100"` or
/// `"100.00"`, both USD 100.00), never rounded.
pub(super) fn amount(path: &str, currency_code: &str, value: &str) -> Result<Money, RulesError> {
    Money::parse(value, currency_code).map_err(|e| invalid(format!("{path}: {e}")))
}

pub(super) fn amounts<'a>(
    path: &str,
    entries: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<BTreeMap<&'static str, Money>, RulesError> {
    let mut out = BTreeMap::new();
    for (currency_code, value) in entries {
        let code = currency(&format!("{path}.{currency_code:.8}"), currency_code)?;
        let money = amount(&format!("{path}.{code}"), code, value)?;
        if out.insert(code, money).is_some() {
            return Err(invalid(format!("{path}: {code} appears twice")));
        }
    }
    Ok(out)
}

/// A set of ISO 18245 merchant category codes: four digits each.
pub(super) fn mccs<'a>(
    path: &str,
    values: impl IntoIterator<Item = &'a String>,
) -> Result<BTreeSet<String>, RulesError> {
    let mut set = BTreeSet::new();
    for value in values {
        if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!(
                "{path}: `{value:.8}` is not a merchant category code (four digits, ISO 18245)"
            )));
        }
        set.insert(value.clone());
        if set.len() > MCC_LIST_MAX {
            return Err(invalid(format!("{path}: more than {MCC_LIST_MAX} codes")));
        }
    }
    Ok(set)
}

pub(super) fn mcc_rule(
    path: &str,
    allow: Option<&Vec<String>>,
    deny: Option<&Vec<String>>,
) -> Result<MccRule, RulesError> {
    match (allow, deny) {
        (Some(_), Some(_)) => Err(invalid(format!(
            "{path}: give mcc_allow or mcc_deny, not both"
        ))),
        (Some(allow), None) => Ok(MccRule::Allow(mccs(&format!("{path}.mcc_allow"), allow)?)),
        // An empty deny list denies nothing: the same rule as none.
        (None, Some(deny)) if deny.is_empty() => Ok(MccRule::Any),
        (None, Some(deny)) => Ok(MccRule::Deny(mccs(&format!("{path}.mcc_deny"), deny)?)),
        (None, None) => Ok(MccRule::Any),
    }
}

pub(super) fn velocity_limit(
    path: &str,
    window_ms: u64,
    count_max: Option<u64>,
    amount_max: BTreeMap<&'static str, Money>,
) -> Result<VelocityLimit, RulesError> {
    if window_ms == 0 || window_ms > VELOCITY_WINDOW_MS_MAX {
        return Err(invalid(format!(
            "{path}.window_ms must be between 1 and {VELOCITY_WINDOW_MS_MAX} (31 days)"
        )));
    }
    if count_max == Some(0) || count_max.is_some_and(|c| c > 1_000_000) {
        return Err(invalid(format!(
            "{path}.count_max must be between 1 and 1000000"
        )));
    }
    if count_max.is_none() && amount_max.is_empty() {
        return Err(invalid(format!(
            "{path}: a velocity limit needs count_max, amount_max or both"
        )));
    }
    Ok(VelocityLimit {
        window_ms,
        count_max,
        amount_max: amount_max
            .into_iter()
            .map(|(c, m)| (c, MoneyOrd(m)))
            .collect(),
    })
}

// === impl RuleSet ===

impl RuleSet {
    /// Checks the rule set as a whole, puts its lists in canonical order (velocity limits
    /// sorted, exact repeats dropped, networks without any rule dropped: they mean the same
    /// as no entry) and computes its version.
    pub(super) fn assemble(mut parts: Parts) -> Result<RuleSet, RulesError> {
        parts
            .networks
            .retain(|_, rules| *rules != NetworkRules::default());
        if parts.networks.len() > NETWORK_RULES_MAX {
            return Err(invalid(format!(
                "more than {NETWORK_RULES_MAX} networks have rules"
            )));
        }
        if parts.merchants.len() > MERCHANTS_MAX {
            return Err(invalid(format!("more than {MERCHANTS_MAX} merchants")));
        }
        if parts.blocked_merchants.len() > BLOCKED_MAX
            || parts.blocked_terminals.len() > BLOCKED_MAX
        {
            return Err(invalid(format!("more than {BLOCKED_MAX} blocked ids")));
        }
        for (kind, limits) in [
            ("code", &mut parts.velocity_code),
            ("terminal", &mut parts.velocity_terminal),
        ] {
            limits.sort();
            limits.dedup();
            if limits.len() > VELOCITY_LIMITS_MAX {
                return Err(invalid(format!(
                    "velocity.{kind}: more than {VELOCITY_LIMITS_MAX} limits"
                )));
            }
        }
        let mut rules = RuleSet {
            networks: parts.networks,
            merchants: parts.merchants,
            blocked_merchants: parts.blocked_merchants,
            blocked_terminals: parts.blocked_terminals,
            velocity_code: parts.velocity_code,
            velocity_terminal: parts.velocity_terminal,
            version: version::Version::placeholder(),
        };
        let canonical = rules.to_canonical_string();
        if canonical.len() > super::RULE_SET_BYTES_MAX {
            return Err(invalid(format!(
                "the rule set's canonical form is over {} bytes",
                super::RULE_SET_BYTES_MAX
            )));
        }
        rules.version = version::Version::of(&canonical);
        Ok(rules)
    }
}
