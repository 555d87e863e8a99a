//! Exact money: a `Decimal` that never holds more fractional digits than its ISO 4217
//! currency allows. Built only through [`Money::parse`], [`Money::new`] or
//! [`Money::from_minor`], so every `Money` in the system is already valid.
use std::fmt;

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

/// Longest integer part [`Money::parse`] reads: one digit more than [`AMOUNT_MINOR_MAX`]
/// has, so anything longer is too large without being converted.
const INTEGER_DIGITS_MAX: usize = 17;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("currency {0} has no minor unit defined and cannot be used for payments")]
    NoMinorUnit(&'static str),
    /// The value breaks the exact decimal grammar. Holds the first characters of the value,
    /// escaped so whitespace and control characters show.
    #[error(
        "`{0}` is not an exact decimal amount: write digits with no sign, exponent, \
         whitespace or leading zeros, and a decimal point only before the minor units \
         (\"1200\", \"12.50\")"
    )]
    NotANumber(String),
    #[error("{currency} allows at most {allowed} decimal places{}", decimals_hint(*.allowed))]
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

fn decimals_hint(allowed: u32) -> &'static str {
    if allowed == 0 {
        " (whole units, no decimal point)"
    } else {
        ""
    }
}

// === impl Money ===

impl Money {
    /// Parses the API's exact decimal string in a currency given by its ISO 4217 code.
    ///
    /// The one grammar: `0|[1-9][0-9]*`, then, for a currency with minor units, optionally
    /// `.` and 1..=exponent digits. Nothing is normalised: a sign, an exponent, whitespace,
    /// leading zeros or a bare `.` is [`MoneyError::NotANumber`]; more fractional digits
    /// than the currency has, zeros included (JPY `"1200.0"`, CNY `"1.230"`), is
    /// [`MoneyError::TooManyDecimals`], never rounded; zero is [`MoneyError::NotPositive`].
    /// [`Money::value_string`] always produces this grammar, so stored amounts read back.
    /// A network's wire form that differs is converted at that adapter's edge, never here.
    pub fn parse(value: &str, currency_code: &str) -> Result<Self, MoneyError> {
        let currency = parse_currency(currency_code)?;
        let exponent = exponent(currency)?;
        let (integer, fraction) = split_exact_decimal(value)?;
        if fraction.len() > exponent as usize {
            return Err(MoneyError::TooManyDecimals {
                currency: currency.code(),
                allowed: exponent,
            });
        }
        if integer.len() > INTEGER_DIGITS_MAX {
            return Err(MoneyError::TooLarge);
        }
        // The grammar and the two bounds above leave a string `Decimal` always reads.
        let amount =
            Decimal::from_str_exact(value).map_err(|_| MoneyError::NotANumber(excerpt(value)))?;
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

/// Checks `value` against the exact decimal grammar alone, without a currency (so a request
/// with an unknown currency can still be told what is wrong with its value).
pub fn check_exact_decimal(value: &str) -> Result<(), MoneyError> {
    split_exact_decimal(value).map(drop)
}

/// Splits `0|[1-9][0-9]*` optionally followed by `.[0-9]+` into its integer and fractional
/// digits; anything else is [`MoneyError::NotANumber`].
fn split_exact_decimal(value: &str) -> Result<(&str, &str), MoneyError> {
    let not_a_number = || MoneyError::NotANumber(excerpt(value));
    let (integer, fraction) = match value.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (value, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(integer) || (integer.len() > 1 && integer.starts_with('0')) {
        return Err(not_a_number());
    }
    match fraction {
        None => Ok((integer, "")),
        Some(fraction) if digits(fraction) => Ok((integer, fraction)),
        Some(_) => Err(not_a_number()),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(24).collect()
}

/// The first characters of a refused value, escaped so that whitespace and control
/// characters are visible in the error message.
fn excerpt(s: &str) -> String {
    truncate(s).escape_debug().to_string()
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
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Money::parse("1200", "JPY").unwrap().minor(), 1200);
        assert_eq!(Money::parse("12.34", "CNY").unwrap().minor(), 1234);
        assert_eq!(Money::parse("12.3", "USD").unwrap().minor(), 1230);
        assert_eq!(Money::parse("0.05", "USD").unwrap().minor(), 5);
        assert_eq!(Money::parse("5000", "KRW").unwrap().minor(), 5000);
        assert_eq!(Money::parse("1.234", "BHD").unwrap().minor(), 1234);
        assert_eq!(Money::parse("12.3", "USD").unwrap().value_string(), "12.30");
    }

    #[test]
    fn too_many_decimals_is_an_error_not_rounding() {
        let jpy = Err(MoneyError::TooManyDecimals {
            currency: "JPY",
            allowed: 0,
        });
        assert_eq!(Money::parse("1200.5", "JPY"), jpy);
        assert_eq!(
            Money::parse("1200.0", "JPY"),
            jpy,
            "a zero decimal is still one"
        );
        assert_eq!(Money::parse("100.00", "JPY"), jpy);
        assert_eq!(
            Money::parse("1.234", "USD"),
            Err(MoneyError::TooManyDecimals {
                currency: "USD",
                allowed: 2
            })
        );
        assert_eq!(
            Money::parse("1.230", "CNY"),
            Err(MoneyError::TooManyDecimals {
                currency: "CNY",
                allowed: 2
            })
        );
    }

    #[test]
    fn the_integrators_near_misses_are_refused_not_normalised() {
        for value in [
            " 1200", "1200 ", "0100", "\t100\n", "-5", "+5", "1e3", "", ".",
        ] {
            assert!(
                matches!(Money::parse(value, "JPY"), Err(MoneyError::NotANumber(_))),
                "{value:?}"
            );
        }
        for value in ["12.", ".5", "1.2.3", "00.5", "1_000", "1,000", "１２"] {
            assert!(
                matches!(Money::parse(value, "USD"), Err(MoneyError::NotANumber(_))),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_message_shows_whitespace_it_refused() {
        let error = Money::parse("\t100\n", "JPY").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(r"`\t100\n` is not an exact decimal")
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(Money::parse("0", "JPY"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse("0.00", "USD"), Err(MoneyError::NotPositive));
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
        assert_eq!(
            Money::parse(&"9".repeat(80), "JPY"),
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

    /// Currencies with 0, 2 and 3 minor digits.
    fn currency() -> impl Strategy<Value = (&'static str, u32)> {
        prop_oneof![
            Just(("JPY", 0)),
            Just(("USD", 2)),
            Just(("CNY", 2)),
            Just(("BHD", 3))
        ]
    }

    /// A valid value and the minor units it stands for.
    fn valid() -> impl Strategy<Value = (&'static str, String, i64)> {
        (currency(), 1..=AMOUNT_MINOR_MAX)
            .prop_flat_map(|((code, exponent), minor)| {
                // Show exponent fractional digits, or fewer where the ones left off are zeros.
                let zeros = (0..exponent)
                    .take_while(|n| minor % 10_i64.pow(n + 1) == 0)
                    .count() as u32;
                let scale = 10_i64.pow(exponent);
                (
                    Just((code, exponent, scale, minor)),
                    exponent - zeros..=exponent,
                )
            })
            .prop_map(|((code, exponent, scale, minor), shown)| {
                let integer = (minor / scale).to_string();
                let fraction = format!("{:0width$}", minor % scale, width = exponent as usize);
                let value = match shown {
                    0 => integer,
                    n => format!("{integer}.{}", &fraction[..n as usize]),
                };
                (code, value, minor)
            })
    }

    /// Ways to spoil a valid value that the grammar must refuse as not a number.
    const SPOILS: [fn(&str) -> String; 10] = [
        |v| format!("0{v}"),
        |v| format!(" {v}"),
        |v| format!("{v} "),
        |v| format!("\t{v}\n"),
        |v| format!("{v}\r\n"),
        |v| format!("+{v}"),
        |v| format!("-{v}"),
        |v| format!("{v}e0"),
        |v| format!("{v}E2"),
        |v| format!("{v}_000"),
    ];

    proptest! {
        #[test]
        fn a_valid_value_parses_to_its_exact_amount((code, value, minor) in valid()) {
            let money = Money::parse(&value, code).unwrap();
            prop_assert_eq!(money.minor(), minor);
            prop_assert_eq!(Money::parse(&money.value_string(), code), Ok(money));
        }

        #[test]
        fn a_spoiled_value_is_not_a_number(
            (code, value, _) in valid(),
            spoil in 0..SPOILS.len(),
        ) {
            let spoiled = SPOILS[spoil](&value);
            prop_assert!(
                matches!(Money::parse(&spoiled, code), Err(MoneyError::NotANumber(_))),
                "{:?} parsed", spoiled
            );
        }

        #[test]
        fn one_decimal_too_many_is_refused_with_the_currency_scale(
            (code, value, _) in valid(),
            digit in 0..=9_u8,
        ) {
            let exponent = exponent(parse_currency(code).unwrap()).unwrap();
            let fraction = value.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
            let mut longer = value.clone();
            if fraction == 0 {
                longer.push('.');
            }
            for _ in fraction..=exponent {
                longer.push(char::from(b'0' + digit));
            }
            prop_assert_eq!(
                Money::parse(&longer, code),
                Err(MoneyError::TooManyDecimals { currency: code, allowed: exponent })
            );
        }

        #[test]
        fn zero_in_any_spelling_is_not_positive((code, exponent) in currency(), n in 0..=3_u32) {
            let value = match n.min(exponent) {
                0 => "0".to_owned(),
                n => format!("0.{}", "0".repeat(n as usize)),
            };
            prop_assert_eq!(Money::parse(&value, code), Err(MoneyError::NotPositive));
        }

        #[test]
        fn the_stored_form_always_reads_back((code, _) in currency(), minor in 1..=AMOUNT_MINOR_MAX) {
            let money = Money::from_minor(minor, parse_currency(code).unwrap()).unwrap();
            prop_assert_eq!(Money::parse(&money.value_string(), code), Ok(money));
        }
    }
}
