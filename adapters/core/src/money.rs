//! Exact money: a `Decimal` that never holds more fractional digits than its ISO 4217
//! currency allows. Built only through [`Money::parse`], [`Money::new`] or
//! [`Money::from_minor`], so every `Money` in the system is already valid.
use std::fmt;
use std::str::FromStr;

use iso_currency::Currency;
use rust_decimal::Decimal;

/// The largest amount the switch accepts in minor units (10^15): far above any retail
/// payment, far below where `i64` minor units or a network's 38-digit field could overflow.
pub const AMOUNT_MINOR_MAX: i64 = 1_000_000_000_000_000;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("currency {0} has no minor unit defined and cannot be used for payments")]
    NoMinorUnit(&'static str),
    #[error("`{0}` is not a decimal number")]
    NotANumber(String),
    #[error("{currency} allows at most {allowed} decimal places")]
    TooManyDecimals {
        currency: &'static str,
        allowed: u32,
    },
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount is larger than the switch accepts")]
    TooLarge,
    #[error("currencies differ: {0} and {1}")]
    CurrencyMismatch(&'static str, &'static str),
}

// === impl Money ===

impl Money {
    /// Parses a decimal string in a currency given by its ISO 4217 code. Rejects more
    /// fractional digits than the currency has (no silent rounding), exponents and signs.
    pub fn parse(value: &str, currency_code: &str) -> Result<Self, MoneyError> {
        let currency = parse_currency(currency_code)?;
        let trimmed = value.trim();
        let well_formed = !trimmed.is_empty()
            && trimmed.len() <= 40
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && trimmed.chars().filter(|c| *c == '.').count() <= 1;
        if !well_formed {
            return Err(MoneyError::NotANumber(truncate(trimmed)));
        }
        let amount =
            Decimal::from_str(trimmed).map_err(|_| MoneyError::NotANumber(truncate(trimmed)))?;
        Self::new(amount, currency)
    }

    /// Builds a positive amount, checking the currency's scale and the switch-wide maximum.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let exponent = exponent(currency)?;
        let normalized = amount.normalize();
        if normalized.scale() > exponent {
            return Err(MoneyError::TooManyDecimals {
                currency: currency.code(),
                allowed: exponent,
            });
        }
        if normalized <= Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        let mut amount = normalized;
        amount.rescale(exponent);
        let money = Self { amount, currency };
        if money.checked_minor().is_none_or(|m| m > AMOUNT_MINOR_MAX) {
            return Err(MoneyError::TooLarge);
        }
        Ok(money)
    }

    /// Builds an amount from integer minor units (wire formats such as WeChat's `total_fee`).
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        let exponent = exponent(currency)?;
        Self::new(Decimal::new(minor, exponent), currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn currency_code(&self) -> &'static str {
        self.currency.code()
    }

    /// The amount in minor units (JPY 1200 → 1200, CNY 12.34 → 1234).
    pub fn minor(&self) -> i64 {
        // Construction guarantees scale == exponent and minor <= AMOUNT_MINOR_MAX.
        self.checked_minor().unwrap_or(i64::MAX)
    }

    fn checked_minor(&self) -> Option<i64> {
        let mantissa = self.amount.mantissa();
        i64::try_from(mantissa).ok()
    }

    /// Adds two amounts of one currency.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Money::new(self.amount + other.amount, self.currency)
    }

    /// `self - other`, or `None` when the result would not be positive.
    pub fn checked_sub(&self, other: &Money) -> Result<Option<Money>, MoneyError> {
        self.same_currency(other)?;
        let rest = self.amount - other.amount;
        if rest <= Decimal::ZERO {
            return Ok(None);
        }
        Money::new(rest, self.currency).map(Some)
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(
                self.currency.code(),
                other.currency.code(),
            ));
        }
        Ok(())
    }

    /// The decimal string with exactly the currency's number of fractional digits.
    pub fn value_string(&self) -> String {
        self.amount.to_string()
    }
}

/// Parses an ISO 4217 alphabetic code that has a defined minor unit.
pub fn parse_currency(code: &str) -> Result<Currency, MoneyError> {
    let currency =
        Currency::from_code(code).ok_or_else(|| MoneyError::UnknownCurrency(truncate(code)))?;
    exponent(currency)?;
    Ok(currency)
}

fn exponent(currency: Currency) -> Result<u32, MoneyError> {
    currency
        .exponent()
        .map(u32::from)
        .ok_or(MoneyError::NoMinorUnit(currency.code()))
}

fn truncate(s: &str) -> String {
    s.chars().take(24).collect()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code(), self.amount)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Money::parse("1200", "JPY").unwrap().minor(), 1200);
        assert_eq!(Money::parse("12.34", "CNY").unwrap().minor(), 1234);
        assert_eq!(Money::parse("12.3", "USD").unwrap().minor(), 1230);
        assert_eq!(Money::parse("5000", "KRW").unwrap().minor(), 5000);
        assert_eq!(Money::parse("1.234", "BHD").unwrap().minor(), 1234);
        assert_eq!(Money::parse("12.3", "USD").unwrap().value_string(), "12.30");
        assert_eq!(
            Money::parse("1200.00", "JPY").unwrap().value_string(),
            "1200"
        );
    }

    #[test]
    fn too_many_decimals_is_an_error_not_rounding() {
        assert_eq!(
            Money::parse("1200.5", "JPY"),
            Err(MoneyError::TooManyDecimals {
                currency: "JPY",
                allowed: 0
            })
        );
        assert!(matches!(
            Money::parse("1.234", "USD"),
            Err(MoneyError::TooManyDecimals { .. })
        ));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(Money::parse("0", "JPY"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse("-5", "JPY"), Err(MoneyError::NotPositive));
        assert!(matches!(
            Money::parse("1e3", "JPY"),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            Money::parse("", "JPY"),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            Money::parse("1", "XYZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Money::parse("1", "XAU"),
            Err(MoneyError::NoMinorUnit(_))
        ));
        assert_eq!(
            Money::parse("10000000000000000", "JPY"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn arithmetic_stays_in_one_currency() {
        let a = Money::parse("1000", "JPY").unwrap();
        let b = Money::parse("300", "JPY").unwrap();
        assert_eq!(a.checked_sub(&b).unwrap().unwrap().amount(), dec!(700));
        assert_eq!(b.checked_sub(&b).unwrap(), None);
        assert_eq!(a.checked_add(&b).unwrap().minor(), 1300);
        let c = Money::parse("1", "CNY").unwrap();
        assert!(matches!(
            a.checked_add(&c),
            Err(MoneyError::CurrencyMismatch(..))
        ));
    }

    #[test]
    fn from_minor_round_trips() {
        let cny = Currency::from_code("CNY").unwrap();
        let m = Money::from_minor(1234, cny).unwrap();
        assert_eq!(m.value_string(), "12.34");
        assert_eq!(m.minor(), 1234);
    }
}
