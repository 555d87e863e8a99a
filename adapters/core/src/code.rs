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
    /// Spaces, tabs or a line break other than the one trailing CR/LF a scanner appends.
    #[error(
        "payment code contains whitespace; send the digits exactly as scanned (only one \
         trailing CR/LF, as a barcode scanner appends, is accepted)"
    )]
    Whitespace,
    #[error("payment code must be {CODE_LENGTH_MIN}..={CODE_LENGTH_MAX} digits, got {0}")]
    BadLength(usize),
}

// === impl PaymentCode ===

impl PaymentCode {
    /// Parses a scanned code: digits only, within the switch-wide length limits.
    ///
    /// The one tolerance is what a barcode scanner appends: a single trailing `\r\n`, `\n` or
    /// `\r`, which is removed. Any other whitespace (a space, a tab, a line break inside or a
    /// second one at the end) is refused rather than stripped: a code that was edited on
    /// the way is not the code the customer's phone showed.
    pub fn parse(raw: &str) -> Result<Self, PaymentCodeError> {
        if raw.len() > CODE_LENGTH_MAX + 2 {
            return Err(PaymentCodeError::BadLength(raw.len()));
        }
        let digits = strip_scanner_terminator(raw);
        if digits.is_empty() {
            return Err(PaymentCodeError::Empty);
        }
        if digits.chars().any(char::is_whitespace) {
            return Err(PaymentCodeError::Whitespace);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PaymentCodeError::NotDigits);
        }
        if !(CODE_LENGTH_MIN..=CODE_LENGTH_MAX).contains(&digits.len()) {
            return Err(PaymentCodeError::BadLength(digits.len()));
        }
        Ok(Self(digits.to_owned()))
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

/// Removes one trailing `\r\n`, `\n` or `\r`, the line terminator barcode scanners send.
fn strip_scanner_terminator(raw: &str) -> &str {
    raw.strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .or_else(|| raw.strip_suffix('\r'))
        .unwrap_or(raw)
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
    }

    #[test]
    fn one_trailing_line_break_from_a_scanner_is_removed() {
        for scanned in ["134567890123\r\n", "134567890123\n", "134567890123\r"] {
            assert_eq!(
                PaymentCode::parse(scanned).unwrap().expose(),
                "134567890123",
                "{scanned:?}"
            );
        }
    }

    #[test]
    fn any_other_whitespace_is_refused_not_stripped() {
        for edited in [
            "1345 6789 0123",
            " 134567890123",
            "134567890123 ",
            "134567890123\t",
            "\t134567890123",
            "1345\n67890123",
            "1345\r\n67890123",
            "\r\n134567890123",
            "134567890123\n\n",
            "134567890123\r\n\r\n",
            "134567890123\n\r",
            "134567890123 \r\n",
            "1345\u{3000}67890123",
        ] {
            assert_eq!(
                PaymentCode::parse(edited),
                Err(PaymentCodeError::Whitespace),
                "{edited:?}"
            );
        }
        assert_eq!(PaymentCode::parse("\r\n"), Err(PaymentCodeError::Empty));
        assert_eq!(
            PaymentCode::parse("１３４５６７８９０１２３"),
            Err(PaymentCodeError::NotDigits),
            "full-width digits are not ASCII digits"
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
