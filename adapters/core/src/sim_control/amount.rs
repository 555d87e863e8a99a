//! The control API's money: `{"value": "<exact decimal>", "currency": "JPY"}`, parsed by one
//! strict grammar. Unlike [`Money`](crate::Money) it may be zero: a wallet can be empty and
//! a payment can have nothing refunded.
use std::fmt;

use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{AMOUNT_MINOR_MAX, MoneyError, parse_currency};

/// The longest `value` string read; anything longer is malformed without being scanned.
const VALUE_CHARS_MAX: usize = 40;

/// A non-negative amount in minor units of an ISO 4217 currency that has them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error(
        "`{value}` is not an exact decimal: digits with no sign, spaces or leading zeros, \
         and for {currency} at most {allowed} decimal places (e.g. \"{example}\")"
    )]
    Malformed {
        value: String,
        currency: &'static str,
        allowed: u32,
        example: &'static str,
    },
    #[error("{currency} allows at most {allowed} decimal places")]
    TooManyDecimals {
        currency: &'static str,
        allowed: u32,
    },
    #[error("amount must not be negative")]
    Negative,
    #[error("amount is larger than the switch accepts")]
    TooLarge,
    #[error(transparent)]
    Currency(#[from] MoneyError),
}

// === impl Amount ===

impl Amount {
    /// Parses `0|[1-9][0-9]*`, then for a currency with minor units optionally `.` and
    /// 1..=exponent digits. Nothing is trimmed, rounded or normalised: `"1200.0"` in JPY,
    /// `"0100"`, `" 1200"` and `"-5"` are errors.
    pub fn parse(value: &str, currency_code: &str) -> Result<Self, AmountError> {
        let currency = parse_currency(currency_code)?;
        let exponent = exponent(currency)?;
        let malformed = || AmountError::Malformed {
            value: value.chars().take(24).collect(),
            currency: currency.code(),
            allowed: exponent,
            example: if exponent == 0 { "1200" } else { "12.34" },
        };
        if value.len() > VALUE_CHARS_MAX {
            return Err(malformed());
        }
        let (whole, fraction) = match value.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (value, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (whole.len() > 1 && whole.starts_with('0')) {
            return Err(malformed());
        }
        let fraction = fraction.unwrap_or("");
        if value.contains('.') && !digits(fraction) {
            return Err(malformed());
        }
        if fraction.len() > exponent as usize {
            return Err(AmountError::TooManyDecimals {
                currency: currency.code(),
                allowed: exponent,
            });
        }
        let padded = format!("{whole}{fraction:0<width$}", width = exponent as usize);
        // At most 40 ASCII digits: too large for i64 is simply too large.
        let minor = padded.parse::<i64>().map_err(|_| AmountError::TooLarge)?;
        Self::from_minor(minor, currency)
    }

    /// An amount from integer minor units (fen, cents, yen).
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, AmountError> {
        exponent(currency)?;
        if minor < 0 {
            return Err(AmountError::Negative);
        }
        if minor > AMOUNT_MINOR_MAX {
            return Err(AmountError::TooLarge);
        }
        Ok(Self { minor, currency })
    }

    /// An amount from a decimal that must already fit the currency's scale.
    pub fn from_decimal(amount: Decimal, currency: Currency) -> Result<Self, AmountError> {
        let exponent = exponent(currency)?;
        let normalized = amount.normalize();
        if normalized.scale() > exponent {
            return Err(AmountError::TooManyDecimals {
                currency: currency.code(),
                allowed: exponent,
            });
        }
        let mut scaled = normalized;
        scaled.rescale(exponent);
        let minor = i64::try_from(scaled.mantissa()).map_err(|_| AmountError::TooLarge)?;
        Self::from_minor(minor, currency)
    }

    pub fn zero(currency: Currency) -> Result<Self, AmountError> {
        Self::from_minor(0, currency)
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn currency_code(&self) -> &'static str {
        self.currency.code()
    }

    /// The amount as a decimal with exactly the currency's number of fractional digits.
    pub fn decimal(&self) -> Decimal {
        // Construction checked the exponent; a currency without one never gets here.
        let exponent = self.currency.exponent().map(u32::from).unwrap_or(0);
        Decimal::new(self.minor, exponent)
    }

    /// `"1200"` in JPY, `"12.30"` in CNY: the form [`Amount::parse`] reads back.
    pub fn value_string(&self) -> String {
        self.decimal().to_string()
    }
}

fn exponent(currency: Currency) -> Result<u32, AmountError> {
    currency
        .exponent()
        .map(u32::from)
        .ok_or(AmountError::Currency(MoneyError::NoMinorUnit(
            currency.code(),
        )))
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code(), self.value_string())
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut wire = serializer.serialize_struct("Amount", 2)?;
        wire.serialize_field("value", &self.value_string())?;
        wire.serialize_field("currency", self.currency.code())?;
        wire.end()
    }
}

/// How an amount is written, for every refusal of one that is not.
const AMOUNT_FORM: &str = r#"an amount is {"value": "1200", "currency": "JPY"}: the value a decimal string, never a JSON number (no floats near money)"#;

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        use serde_json::Value;
        let Value::Object(fields) = Value::deserialize(deserializer)? else {
            return Err(D::Error::custom(AMOUNT_FORM));
        };
        if let Some(other) = fields.keys().find(|k| *k != "value" && *k != "currency") {
            let other: String = other.chars().take(24).collect();
            return Err(D::Error::custom(format!(
                "unknown field `{other}`: {AMOUNT_FORM}"
            )));
        }
        let (Some(Value::String(value)), Some(Value::String(currency))) =
            (fields.get("value"), fields.get("currency"))
        else {
            return Err(D::Error::custom(AMOUNT_FORM));
        };
        Amount::parse(value, currency).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimals_parse_to_minor_units() {
        assert_eq!(Amount::parse("1200", "JPY").unwrap().minor(), 1200);
        assert_eq!(Amount::parse("0", "JPY").unwrap().minor(), 0);
        assert_eq!(Amount::parse("12.34", "CNY").unwrap().minor(), 1234);
        assert_eq!(Amount::parse("12.3", "USD").unwrap().minor(), 1230);
        assert_eq!(Amount::parse("0.05", "HKD").unwrap().minor(), 5);
        assert_eq!(Amount::parse("5000", "KRW").unwrap().value_string(), "5000");
        assert_eq!(
            Amount::parse("12.3", "USD").unwrap().value_string(),
            "12.30"
        );
    }

    #[test]
    fn anything_but_the_exact_grammar_is_refused() {
        for bad in [
            "1200.0",
            "1200.",
            ".5",
            "0100",
            " 1200",
            "1200 ",
            "\t100\n",
            "+5",
            "-5",
            "1e3",
            "",
            "1,200",
            "１２００",
        ] {
            assert!(Amount::parse(bad, "JPY").is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            Amount::parse("1200.0", "JPY"),
            Err(AmountError::TooManyDecimals {
                currency: "JPY",
                allowed: 0
            })
        );
        assert!(matches!(
            Amount::parse("1.234", "CNY"),
            Err(AmountError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            Amount::parse("1", "XAU"),
            Err(AmountError::Currency(MoneyError::NoMinorUnit(_)))
        ));
        assert_eq!(
            Amount::parse("10000000000000000", "JPY"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            Amount::parse(&"9".repeat(39), "JPY"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn the_wire_form_is_strict_both_ways() {
        let a: Amount = serde_json::from_str(r#"{"value": "12.30", "currency": "CNY"}"#).unwrap();
        assert_eq!(a.minor(), 1230);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"value":"12.30","currency":"CNY"}"#
        );
        for bad in [
            r#"{"value": 1200, "currency": "JPY"}"#,
            r#"{"value": 1200.0, "currency": "JPY"}"#,
            r#"{"value": "1200.0", "currency": "JPY"}"#,
            r#"{"value": "1200"}"#,
            r#"{"value": "1200", "currency": "JPY", "scale": 0}"#,
            r#""1200""#,
        ] {
            assert!(
                serde_json::from_str::<Amount>(bad).is_err(),
                "{bad} was accepted"
            );
        }
        let float = serde_json::from_str::<Amount>(r#"{"value": 12.5, "currency": "CNY"}"#)
            .unwrap_err()
            .to_string();
        assert!(float.contains("never a JSON number"), "{float}");
        let bare = serde_json::from_str::<Amount>(r#""1200""#)
            .unwrap_err()
            .to_string();
        assert!(
            bare.contains(r#"{"value": "1200", "currency": "JPY"}"#),
            "{bare}"
        );
    }

    #[test]
    fn decimals_convert_only_at_the_currency_scale() {
        use std::str::FromStr;
        let yen = Amount::from_decimal(Decimal::from_str("1200.00").unwrap(), Currency::JPY);
        assert_eq!(yen.unwrap().minor(), 1200);
        assert!(Amount::from_decimal(Decimal::from_str("0.5").unwrap(), Currency::JPY).is_err());
        assert_eq!(
            Amount::from_minor(-1, Currency::JPY),
            Err(AmountError::Negative)
        );
    }
}
