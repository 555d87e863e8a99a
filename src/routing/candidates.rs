//! Code identification as a decision records it: the network the longest prefix gives (as
//! [`CodeTable::identify`]), and every other table row that matched with why it lost.
use kakehashi_adapter_core::{CodePattern, PaymentCode};

use super::rules::{CANDIDATES_MAX, Candidate, CandidateResult, CodeRoute};
use super::{CodeTable, IdentifyError};

// === impl CodeTable ===

impl CodeTable {
    /// Identifies the code's network and records the candidates: the chosen row first, then
    /// the rows that lost, longest prefix first (at most [`CANDIDATES_MAX`] in all, the rest
    /// counted). A lost row never takes over: a shorter prefix is a less certain
    /// identification, so a merchant that does not accept the winner is refused, not
    /// rerouted.
    pub fn route(&self, code: &PaymentCode) -> Result<CodeRoute, IdentifyError> {
        let identified = self.identify(code)?;
        let mut matched: Vec<(&str, &CodePattern)> = self
            .rows
            .iter()
            .filter(|(_, p)| p.matches(code))
            .map(|(n, p)| (&**n, p))
            .collect();
        let winner = matched
            .iter()
            .position(|(n, p)| *n == identified.network && p.prefix == identified.prefix)
            .map(|i| matched.remove(i));
        matched.sort_by(|a, b| {
            (b.1.prefix.len(), a.0, &a.1.prefix).cmp(&(a.1.prefix.len(), b.0, &b.1.prefix))
        });
        let mut candidates = Vec::new();
        if let Some((network, pattern)) = winner {
            let why = format!("longest matching prefix ({} digits)", pattern.prefix.len());
            candidates.push(candidate(network, pattern, CandidateResult::Chosen, why));
        }
        for (network, pattern) in &matched {
            let why = if pattern.prefix.len() < identified.prefix.len() {
                format!(
                    "prefix {} is shorter than {} ({} < {} digits)",
                    pattern.prefix,
                    identified.prefix,
                    pattern.prefix.len(),
                    identified.prefix.len()
                )
            } else {
                format!("an earlier row of {network} with the same prefix length matched first")
            };
            candidates.push(candidate(network, pattern, CandidateResult::Lost, why));
        }
        let omitted = candidates.len().saturating_sub(CANDIDATES_MAX);
        candidates.truncate(CANDIDATES_MAX);
        let length = u32::try_from(code.expose().len()).unwrap_or(u32::MAX);
        Ok(CodeRoute {
            masked: code.masked(),
            length,
            network: identified.network,
            prefix: identified.prefix,
            brand: identified.brand,
            candidates,
            candidates_omitted: u32::try_from(omitted).unwrap_or(u32::MAX),
        })
    }
}

fn candidate(
    network: &str,
    pattern: &CodePattern,
    result: CandidateResult,
    why: String,
) -> Candidate {
    Candidate {
        network: network.to_owned(),
        prefix: pattern.prefix.clone(),
        brand: pattern.brand.clone(),
        result,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_is_chosen_and_each_shorter_row_says_why_it_lost() {
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
            .add("other", &[CodePattern::new("2810", 16, 24)])
            .unwrap();
        let code = PaymentCode::parse("281010897274821897274821").unwrap();
        let route = table.route(&code).unwrap();
        assert_eq!(route.masked, "••••4821");
        assert_eq!(
            (route.prefix.as_str(), route.brand.as_deref()),
            ("281010", Some("KakaoPay"))
        );
        let summary: Vec<(&str, &str, CandidateResult)> = route
            .candidates
            .iter()
            .map(|c| (c.network.as_str(), c.prefix.as_str(), c.result))
            .collect();
        assert_eq!(
            summary,
            [
                ("alipayplus", "281010", CandidateResult::Chosen),
                ("other", "2810", CandidateResult::Lost),
                ("alipayplus", "28", CandidateResult::Lost),
            ]
        );
        assert_eq!(
            route.candidates[1].why,
            "prefix 2810 is shorter than 281010 (4 < 6 digits)"
        );
        assert!(!format!("{route:?}").contains("897274821897"));
    }

    #[test]
    fn unknown_and_ambiguous_codes_are_refused_as_identify_refuses_them() {
        let mut table = CodeTable::new();
        table.add("a", &[CodePattern::new("29", 16, 24)]).unwrap();
        table.add("b", &[CodePattern::new("29", 18, 18)]).unwrap();
        let ambiguous = PaymentCode::parse("291234567890123456").unwrap();
        assert!(matches!(
            table.route(&ambiguous),
            Err(IdentifyError::Ambiguous(_))
        ));
        let unknown = PaymentCode::parse("99123456789012345").unwrap();
        assert_eq!(table.route(&unknown), Err(IdentifyError::Unknown));
    }
}
