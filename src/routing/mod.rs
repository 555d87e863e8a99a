//! Routing: which network a payment goes to, and whether the compliance rules let it.
//!
//! Code identification (here): one table built from every network's profile (or its config
//! override); the longest matching prefix wins; a code two networks claim with the same
//! prefix length, or none claims, is refused before any network is called. `candidates`
//! records every row that matched for the decision.
//!
//! The compliance rules (`rules`), velocity counting (`velocity`), the rules a running
//! switch holds (`compliance`) and replay of logged decisions (`replay`) build on it.
use std::sync::Arc;

use kakehashi_adapter_core::{CodePattern, PaymentCode};

mod candidates;
pub mod canonical;
mod compliance;
pub mod replay;
pub mod rules;
pub mod time;
pub mod velocity;

pub use compliance::Compliance;
pub use replay::{ReplayReport, replay, replay_entries, replay_under};
pub use rules::{
    ComplianceConfig, Decision, DecisionInput, Outcome, RuleId, RuleSet, RulesError, Version,
    activate, evaluate,
};

/// Upper bound on table rows: config mistakes should not make identification slow.
pub const PATTERNS_MAX: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub network: String,
    /// Wallet brand known from the code alone, if any.
    pub brand: Option<String>,
    /// The row that matched, for the routing record.
    pub prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    #[error("the code does not belong to any wallet network this switch accepts")]
    Unknown,
    #[error("the code matches more than one network ({0}); refusing to guess")]
    Ambiguous(String),
}

#[derive(Debug, Clone, Default)]
pub struct CodeTable {
    rows: Vec<(Arc<str>, CodePattern)>,
}

// === impl CodeTable ===

impl CodeTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a network's rows; refuses (adding none) past [`PATTERNS_MAX`] rows in all, so
    /// identification stays a bounded scan.
    pub fn add(&mut self, network: &str, patterns: &[CodePattern]) -> Result<(), String> {
        if self.rows.len().saturating_add(patterns.len()) > PATTERNS_MAX {
            return Err(format!(
                "the code table would exceed {PATTERNS_MAX} rows with {network}'s patterns"
            ));
        }
        let network: Arc<str> = Arc::from(network);
        for pattern in patterns {
            self.rows.push((Arc::clone(&network), pattern.clone()));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn identify(&self, code: &PaymentCode) -> Result<Identified, IdentifyError> {
        let mut best: Option<&(Arc<str>, CodePattern)> = None;
        let mut rivals: Vec<&str> = Vec::new();
        for row in self.rows.iter().filter(|(_, p)| p.matches(code)) {
            let longer = best.is_none_or(|(_, b)| row.1.prefix.len() > b.prefix.len());
            let tie = best.is_some_and(|(_, b)| row.1.prefix.len() == b.prefix.len());
            if longer {
                best = Some(row);
                rivals.clear();
            } else if tie && best.is_some_and(|(n, _)| *n != row.0) {
                rivals.push(&row.0);
            }
        }
        let (network, pattern) = best.ok_or(IdentifyError::Unknown)?;
        if !rivals.is_empty() {
            let mut names = vec![network.to_string()];
            names.extend(rivals.iter().map(|r| (*r).to_owned()));
            names.sort();
            names.dedup();
            return Err(IdentifyError::Ambiguous(names.join(", ")));
        }
        Ok(Identified {
            network: network.to_string(),
            brand: pattern.brand.clone(),
            prefix: pattern.prefix.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> PaymentCode {
        PaymentCode::parse(s).unwrap()
    }

    #[test]
    fn longest_prefix_wins_and_ties_are_refused() {
        let mut table = CodeTable::new();
        table
            .add("alipayplus", &[CodePattern::new("28", 16, 32)])
            .unwrap();
        table
            .add(
                "alipayplus",
                &[CodePattern::new("281010", 24, 24).with_brand("KakaoPay")],
            )
            .unwrap();
        table
            .add("other", &[CodePattern::new("29", 16, 24)])
            .unwrap();
        table
            .add("rival", &[CodePattern::new("29", 18, 18)])
            .unwrap();
        let hit = table.identify(&code("281010897274821897274821")).unwrap();
        assert_eq!(
            (hit.network.as_str(), hit.brand.as_deref()),
            ("alipayplus", Some("KakaoPay"))
        );
        assert_eq!(
            table.identify(&code("2810108972748218")).unwrap().brand,
            None
        );
        assert_eq!(
            table.identify(&code("291234567890123456")),
            Err(IdentifyError::Ambiguous("other, rival".into()))
        );
        assert_eq!(
            table.identify(&code("29123456789012345")).unwrap().network,
            "other"
        );
        assert_eq!(
            table.identify(&code("99123456789012345")),
            Err(IdentifyError::Unknown)
        );
    }
}
