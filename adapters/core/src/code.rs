//! Customer-presented payment codes and the patterns networks use to recognise them.
//!
//! A payment code is a bearer credential for a few minutes: it never appears in logs, errors
//! or `Debug` output except as its last four characters.
use std::fmt;

use serde::{Deserialize, Serialize};

/// Shortest and longest code the switch accepts. Alipay+ terminals must accept up to 32
/// digits; 64 leaves room for networks we have not met without letting a terminal send a
/// page of text.
pub const CODE_LENGTH_MIN: usize = 8;
pub const CODE_LENGTH_MAX: usize = 64;

#[derive(Clone, PartialEq, Eq)]
pub struct PaymentCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentCodeError {
    #[error("payment code is empty")]
    Empty,
    #[error("payment code must contain digits only")]
    NotDigits,
    #[error("payment code must be {CODE_LENGTH_MIN}..={CODE_LENGTH_MAX} digits, got {0}")]
    BadLength(usize),
}

// === impl PaymentCode ===

impl PaymentCode {
    /// Parses a scanned code: digits only (barcode scanners may add spaces, which are
    /// removed), within the switch-wide length limits.
    pub fn parse(raw: &str) -> Result<Self, PaymentCodeError> {
        if raw.len() > CODE_LENGTH_MAX * 2 {
            return Err(PaymentCodeError::BadLength(raw.len()));
        }
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(PaymentCodeError::Empty);
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PaymentCodeError::NotDigits);
        }
        if !(CODE_LENGTH_MIN..=CODE_LENGTH_MAX).contains(&digits.len()) {
            return Err(PaymentCodeError::BadLength(digits.len()));
        }
        Ok(Self(digits))
    }

    /// The full code, for the adapter to put on the wire. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentCode({})", self.masked())
    }
}

impl fmt::Display for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks a secret-ish identifier to its last four characters: `••••6789`.
pub fn mask(value: &str) -> String {
    let count = value.chars().count();
    let tail: String = value.chars().skip(count.saturating_sub(4)).collect();
    format!("••••{tail}")
}

/// One row of a network's code-identification table: codes that start with `prefix` and
/// whose length is within `length_min..=length_max` belong to the network (and, where known,
/// to a wallet brand). The longest matching prefix wins across all networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePattern {
    pub prefix: String,
    pub length_min: usize,
    pub length_max: usize,
    /// Wallet brand these codes belong to, e.g. "AlipayHK"; `None` when only the network is
    /// known from the code.
    #[serde(default)]
    pub brand: Option<String>,
}

// === impl CodePattern ===

impl CodePattern {
    pub fn new(prefix: &str, length_min: usize, length_max: usize) -> Self {
        assert!(length_min <= length_max, "pattern length range is inverted");
        Self {
            prefix: prefix.to_owned(),
            length_min,
            length_max,
            brand: None,
        }
    }

    pub fn with_brand(mut self, brand: &str) -> Self {
        self.brand = Some(brand.to_owned());
        self
    }

    pub fn matches(&self, code: &PaymentCode) -> bool {
        let digits = code.expose();
        digits.starts_with(&self.prefix)
            && (self.length_min..=self.length_max).contains(&digits.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_show_only_the_last_four() {
        let code = PaymentCode::parse("134567890123456789").unwrap();
        assert_eq!(format!("{code:?}"), "PaymentCode(••••6789)");
        assert_eq!(format!("{code}"), "••••6789");
        assert!(!format!("{code:?}").contains("1345"));
    }

    #[test]
    fn parse_rejects_non_digits_and_bad_lengths() {
        assert_eq!(PaymentCode::parse(""), Err(PaymentCodeError::Empty));
        assert_eq!(
            PaymentCode::parse("12345abc90"),
            Err(PaymentCodeError::NotDigits)
        );
        assert_eq!(
            PaymentCode::parse("1234567"),
            Err(PaymentCodeError::BadLength(7))
        );
        assert_eq!(
            PaymentCode::parse(&"1".repeat(65)),
            Err(PaymentCodeError::BadLength(65))
        );
        assert_eq!(
            PaymentCode::parse("1345 6789 0123").unwrap().expose(),
            "134567890123"
        );
    }

    #[test]
    fn pattern_matches_prefix_and_length() {
        let p = CodePattern::new("13", 18, 18);
        assert!(p.matches(&PaymentCode::parse("134567890123456789").unwrap()));
        assert!(!p.matches(&PaymentCode::parse("13456789012345678").unwrap()));
        assert!(!p.matches(&PaymentCode::parse("144567890123456789").unwrap()));
    }
}
